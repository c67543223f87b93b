// One batch of the fleet's deploy or preview, and the run's report (docs/ci.md, lib/rollout.ts).
//
//   npm run --silent rollout -- run <up|preview> --batch <id> --stacks "<a b c>" --results <file>
//        [--budget-minutes <n>] [--message <text>]
//     Runs `pulumi <command>` with the policy pack on each stack, one after another, whatever the
//     others' outcome, and writes each stack's result to <file> (JSON), to the job summary
//     ($GITHUB_STEP_SUMMARY) and as an ::error:: line per stack that did not succeed. `up` starts a
//     stack only while the budget (the job's time less its setup) still covers that stack's longest
//     update (backup + restore waits + Helm timeout, from its config): GitHub would kill a job past
//     its timeout in the middle of an update, leaving the stack locked with pending operations.
//     The longest wait counts the pre-upgrade backup only when the version moves (the running one is
//     the stack's output updateDesiredVersion; unknown counts as moving) and the restore only when
//     one is requested.
//     The stacks are qualified with $PULUMI_ORG when set. The Pulumi CLI is `pulumi` on the PATH.
//     Exit 0: every stack succeeded; 1: some did not (named); 2: usage.
//
//   npm run --silent rollout -- report --dir <dir>
//     Reads <dir>/plan.json (npm run stacks --rollout-plan) and every <dir>/results-*.json and prints
//     the run's summary (markdown): every stack's result, "not run" for a stack no batch reported.
//     Exit 0: all succeeded; 1: some did not (named on stderr too); 2: unreadable input, usage.
import { answerCommandLine, CommandIo, CommandLine, CommandLineError, processIo, refuseCommandLine, runAsProcess } from "../lib/commandLine";
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    BATCH_BUDGET_MINUTES,
    BatchResults,
    resultsTable,
    RolloutPlan,
    runOutcome,
    stackConfigOf,
    StackResult,
    updateWaitMinutes,
    writeAtomically,
} from "../lib/rollout";
import { VERSION_OUTPUT } from "../lib/versionChange";
import { REPO_ROOT } from "../lib/stackFiles";
import { preflight, PreflightResult } from "./preflight";

const USAGE =
    'usage: npm run --silent rollout -- run <up|preview> --batch <id> --stacks "<a b c>" --results <file> [--budget-minutes <n>] [--message <text>]\n' +
    "       npm run --silent rollout -- report --dir <dir>";

export interface RunOptions {
    command: "up" | "preview";
    batch: string;
    stacks: string[];
    results: string;
    budgetMinutes: number;
    message?: string;
    /** Where the stack files are (default: the repository). */
    dir?: string;
    /** Minutes since the batch started (tests replace the clock). */
    elapsed?: () => number;
    /** Pulumi organization the stacks are qualified with. */
    organization?: string;
    /**
     * Checks, before a stack's pulumi runs, that what its update pulls exists (bin/preflight.ts): a
     * stack whose chart or updater image is missing is not started; the batch goes on.
     */
    preflight?: (stack: string, dir: string) => Promise<PreflightResult>;
    /**
     * Where the batch's progress and pulumi's output go, and the environment pulumi runs in (its
     * PATH the one it is found on); default: this process's.
     */
    io?: RolloutIo;
}

/** The streams a command writes to, and the environment it reads. */
export type RolloutIo = CommandIo;

/** The Pulumi CLI's arguments for one stack. */
export function pulumiArgs(command: "up" | "preview", stack: string, organization?: string, message?: string): string[] {
    const qualified = organization ? `${organization}/${stack}` : stack;
    const args = [command, "--stack", qualified, "--non-interactive", "--policy-pack", "policy", "--diff"];
    if (command === "up") args.push("--yes", "--skip-preview");
    if (command === "up" && message) args.push("--message", message);
    return args;
}

/** The child's stdio for `stream`: this process's own descriptor is inherited, any other stream is fed through a pipe. */
const childStdio = (stream: NodeJS.WritableStream) => (stream === process.stdout || stream === process.stderr ? "inherit" : "pipe");

function runPulumi(args: string[], cwd: string, io: RolloutIo): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn("pulumi", args, { cwd, env: io.env, stdio: ["ignore", childStdio(io.stdout), childStdio(io.stderr)] });
        child.stdout?.pipe(io.stdout, { end: false });
        child.stderr?.pipe(io.stderr, { end: false });
        child.once("error", (err) => {
            io.stderr.write(`rollout: cannot run pulumi: ${err.message}\n`);
            resolve(127);
        });
        child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}

/** The version the stack runs (its last update's output), or undefined when it cannot be read (a new stack, no state). */
function runningVersion(stack: string, organization: string | undefined, cwd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
    const qualified = organization ? `${organization}/${stack}` : stack;
    return new Promise((resolve) => {
        execFile("pulumi", ["stack", "output", VERSION_OUTPUT, "--stack", qualified, "--non-interactive"], { cwd, env, encoding: "utf8" }, (err, stdout) =>
            resolve(err ? undefined : stdout.trim() || undefined),
        );
    });
}

/** Runs the batch: every stack in turn, a failure does not stop the rest. */
export async function runBatch(opts: RunOptions): Promise<StackResult[]> {
    const dir = opts.dir ?? REPO_ROOT;
    const io = opts.io ?? processIo();
    const started = Date.now();
    const elapsed = opts.elapsed ?? (() => (Date.now() - started) / 60000);
    const results: StackResult[] = [];
    const save = () => writeAtomically(opts.results, JSON.stringify({ batch: opts.batch, command: opts.command, results } satisfies BatchResults) + "\n");
    for (const stack of opts.stacks) {
        if (opts.command === "up") {
            const cfg = stackConfigOf(stack, dir);
            if (cfg instanceof Error) {
                results.push({ stack, status: "not started", reason: `its config is invalid: ${cfg.message.split("\n").slice(0, 3).join(" ")}` });
                save();
                continue;
            }
            const longest = updateWaitMinutes(cfg, await runningVersion(stack, opts.organization, dir, io.env));
            const left = opts.budgetMinutes - elapsed();
            if (longest > left) {
                results.push({
                    stack,
                    status: "not started",
                    reason: `${Math.max(0, Math.floor(left))} min left in this job, its longest update waits ${longest} min: re-run the failed jobs`,
                });
                save();
                continue;
            }
        }
        if (opts.preflight) {
            const checked = await opts.preflight(stack, dir);
            io.stdout.write(checked.lines.map((l) => `preflight: ${l}\n`).join(""));
            if (checked.code === 1) {
                const missing = checked.lines.filter((l) => l.includes("MISSING")).join("; ");
                results.push({ stack, status: "not started", reason: `preflight: ${missing}` });
                save();
                continue;
            }
        }
        const from = elapsed();
        io.stdout.write(`::group::pulumi ${opts.command} ${stack}\n`);
        const code = await runPulumi(pulumiArgs(opts.command, stack, opts.organization, opts.message), dir, io);
        io.stdout.write("::endgroup::\n");
        const minutes = elapsed() - from;
        results.push(
            code === 0 ? { stack, status: "succeeded", minutes } : { stack, status: "failed", reason: `pulumi ${opts.command} exited ${code}`, minutes },
        );
        save();
    }
    save();
    return results;
}

function report(results: StackResult[], title: string, io: RolloutIo): number {
    const bad = results.filter((r) => r.status !== "succeeded");
    const summary = `### ${title}\n\n${bad.length === 0 ? "Every stack succeeded.\n\n" : `${bad.length} of ${results.length} stacks did not succeed: ${bad.map((r) => `\`${r.stack}\``).join(", ")}\n\n`}${resultsTable(results)}`;
    if (io.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(io.env.GITHUB_STEP_SUMMARY, summary + "\n");
    io.stdout.write(summary);
    for (const r of bad) io.stdout.write(`::error title=${r.stack} ${r.status}::${r.reason ?? r.status}\n`);
    return bad.length === 0 ? 0 : 1;
}

/** The run's report from the plan and the batches' results files in `dir`. */
export function readRun(dir: string): StackResult[] {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as RolloutPlan;
    const batches = fs
        .readdirSync(dir)
        .filter((f) => /^results-.+\.json$/.test(f))
        .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as BatchResults);
    return runOutcome(plan, batches);
}

const COMMAND_LINE = {
    name: "rollout",
    usage: USAGE,
    options: {
        dir: { type: "string", value: "a directory" },
        batch: { type: "string", value: "a batch id" },
        stacks: { type: "string", value: "a space-separated list of stacks" },
        results: { type: "string", value: "a file" },
        "budget-minutes": { type: "string", value: "a number of minutes" },
        message: { type: "string", value: "a text" },
    },
    positionals: true,
} as const;

/**
 * The command: reads `argv` (the arguments after the script), writes to `io`'s streams, runs pulumi
 * with `io.env`, and resolves to the exit code (0 also for --help; 2 and one line for a command line
 * it cannot take).
 */
export async function main(argv: string[], io: RolloutIo = processIo()): Promise<number> {
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    return typeof read === "number" ? read : run(read, io);
}

async function run(read: CommandLine<typeof COMMAND_LINE.options>, io: RolloutIo): Promise<number> {
    try {
        return await runCommand(read, io);
    } catch (err) {
        return refuseCommandLine(COMMAND_LINE.name, err, io);
    }
}

async function runCommand({ values, positionals }: CommandLine<typeof COMMAND_LINE.options>, io: RolloutIo): Promise<number> {
    const fail = (message: string): never => {
        throw new CommandLineError(message);
    };
    const [verb, ...rest] = positionals;
    if (verb === "report") {
        if (rest.length > 0) fail(`unexpected argument ${rest[0]}: report takes --dir only`);
        const dir = values.dir ?? fail("report needs --dir");
        let results: StackResult[];
        try {
            results = readRun(dir);
        } catch (err) {
            // The run's files, not the command line: no usage hint.
            io.stderr.write(`rollout: cannot read the run in ${dir}: ${(err as Error).message}\n`);
            return 2;
        }
        return report(results, "Deploy: every stack of this run", io);
    }
    if (verb !== "run") fail(`unknown verb ${verb ?? "(none)"}`);
    const command = rest[0];
    if (command !== "up" && command !== "preview") fail("run needs up or preview");
    if (rest.length > 1) fail(`unexpected argument ${rest[1]}`);
    const budget = Number(values["budget-minutes"] ?? BATCH_BUDGET_MINUTES);
    if (!(budget > 0)) fail("--budget-minutes needs a positive number");
    const opts: RunOptions = {
        command: command as "up" | "preview",
        batch: values.batch ?? fail("run needs --batch"),
        stacks: (values.stacks ?? fail("run needs --stacks")).split(/\s+/).filter((s) => s !== ""),
        results: values.results ?? fail("run needs --results"),
        budgetMinutes: budget,
        message: values.message,
        organization: io.env.PULUMI_ORG || undefined,
        preflight: (stack, dir) => preflight([stack], { dir, env: io.env }),
        io,
    };
    const results = await runBatch(opts);
    return report(results, `pulumi ${opts.command}: batch ${opts.batch}`, io);
}

if (require.main === module) runAsProcess(main);

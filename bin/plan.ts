// Offline plan: `npm run plan -- --stack c2a7dv-hml [--json]`; every stack of the
// repository in one process: `npm run plan -- --all [--json]` (or `--stacks a,b`).
// Runs the real program under Pulumi's mock runtime with the stack file's
// config and prints what it declares. Exit 0: rendered; 2: bad config or usage.
//
// Plan diff: `npm run plan -- --stack c2a7dv-prod --diff <git-ref> [--json]`.
// Renders the stack at <git-ref> (with that commit's own program, plan and
// stack file, in a child process; in this process when only stack files
// differ) and in the working tree, and prints what changes resource by resource and field by field (lib/planDiff.ts).
// Exit 0: no changes; 1: changes; 2: error (bad ref, config error on either
// side, usage). A stack file that does not exist at <git-ref> is a new stack:
// every resource shows as added. A ref without bin/plan.ts is an error (even
// when the stack file is missing there too), and so is a ref whose plan
// refuses the command line the diff gives it (it predates that interface).
//
// Plan diff of many stacks: `npm run plan -- --all --diff <git-ref> [--json | --markdown]`
// (or `--stacks a,b`): one child process for the ref's side of all stacks, a
// summary table, then each stack's diff (`--markdown`: folded per stack, for a
// PR comment, lib/planComment.ts). Exit as above. Both run lib/planDiffRun.ts.
//
// The working tree is rendered as the next `pulumi up` after <git-ref> was
// deployed: the program's reference to its own stack reads what the stack file
// at <git-ref> left behind (lib/previousOutputs.ts): the version that runs, so a
// version change shows its pre-upgrade or pre-rollback backup Job; whether
// maintenance was applied, which a prod restore waits for; and the versions the
// stack ran, which the promotion gate reads. One stack without --diff:
// `--previous-version <v> --previous-maintenance on|off` render as if the stack
// ran <v> with maintenance on or off; default: as its config names (no change).
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import * as semver from "semver";
import { answerCommandLine, CommandIo, CommandLine, CommandLineError, processIo, refuseCommandLine, runAsProcess, wholeNumber } from "../lib/commandLine";
import { listStackNames } from "../lib/fleet";
import { GitError } from "../lib/git";
import { diffToJson, formatDiffText } from "../lib/planDiff";
import { markdownDetails, markdownHead, plainDetails, plainHead, StackDiffResult, SummaryRow, summaryRow } from "../lib/planComment";
import { diffAgainstRef, DiffBase, tempRoot } from "../lib/planDiffRun";
import { PlanDiffError, write, writeJsonArray } from "../lib/planStream";
import { outputsBefore, PreviousState } from "../lib/previousOutputs";
import { isPlainObject } from "../lib/plainObject";
import { PlannedResource, RenderResult, renderProgram, resourceKey } from "../lib/render";
import { runsThisProgram } from "../lib/programTree";
import { renderEachInThreads, renderFailureMessage } from "../lib/renderAll";
import { readStackFile, REPO_ROOT } from "../lib/stackFiles";
import { tsNodeCommand } from "../lib/tsNode";

interface PlanOptions {
    /** One stack (--stack), or undefined with `stacks`. */
    stack?: string;
    /** Several stacks (--all, --stacks a,b). */
    stacks?: string[];
    json: boolean;
    markdown: boolean;
    /** Worker threads to render many stacks with (default 1, see lib/renderAll.ts). */
    threads?: number;
    /** The version the stack runs before this update (its own StackReference's updateDesiredVersion). */
    previousVersion?: string;
    /** Whether the last update ran with maintenance enabled (its own StackReference's maintenanceEnabled). */
    previousMaintenance?: boolean;
    /** Per stack, with --stacks (what the plan diff passes to a ref's plan). */
    previousStates?: Record<string, PreviousState>;
    /** Git ref to diff the working tree against. */
    diff?: string;
}

const USAGE =
    "usage: npm run plan -- (--stack <environment>-<stage> | --all | --stacks <a,b,...>) [--json | --markdown] [--diff <git-ref>] [--threads <n>] [--previous-version <version>] [--previous-maintenance on|off]";

const COMMAND_LINE = {
    name: "plan",
    usage: USAGE,
    options: {
        stack: { type: "string", short: "s", value: "a stack name" },
        all: { type: "boolean" },
        stacks: { type: "string", value: "a comma-separated list of stacks" },
        json: { type: "boolean" },
        markdown: { type: "boolean" },
        diff: { type: "string", value: "a git ref" },
        threads: { type: "string", value: "a number of threads" },
        "previous-version": { type: "string", value: "a version" },
        "previous-maintenance": { type: "string", value: "on or off" },
        "previous-states": { type: "string", value: "a JSON object" },
    },
} as const;

/** The options of a command line the parser took, for the repository at `dir`; a CommandLineError for any it cannot run. */
function readOptions({ values: v }: CommandLine<typeof COMMAND_LINE.options>, dir: string): PlanOptions {
    const fail = (message: string): never => {
        throw new CommandLineError(message);
    };
    if (v.all && v.stacks !== undefined) fail("--all and --stacks exclude each other");
    const stacks = v.all ? listStackNames(dir) : v.stacks?.split(",").filter((x) => x !== "");
    if (!v.stack === !stacks) fail(v.stack ? "--stack excludes --all and --stacks" : "give --stack, or --all / --stacks");
    const opts: PlanOptions = { stack: v.stack, stacks, json: v.json ?? false, markdown: v.markdown ?? false, diff: v.diff };
    if (opts.json && opts.markdown) fail("--json and --markdown exclude each other");
    if (opts.markdown && opts.diff === undefined) fail("--markdown is for --diff");
    if (opts.diff !== undefined && opts.diff.trim() === "") fail("--diff needs a git ref");
    if (v.threads !== undefined) opts.threads = wholeNumber(v.threads, 1) ?? fail("--threads needs a whole number of at least 1");
    const previousVersion = v["previous-version"];
    if (previousVersion !== undefined && semver.valid(previousVersion) === null)
        fail(`--previous-version needs an exact version such as 12.1.2410, not "${previousVersion}"`);
    const maintenance = v["previous-maintenance"];
    if (maintenance !== undefined && maintenance !== "on" && maintenance !== "off") fail(`--previous-maintenance needs on or off, not "${maintenance}"`);
    if ((previousVersion !== undefined || maintenance !== undefined) && (opts.diff !== undefined || opts.stacks))
        fail("--previous-version and --previous-maintenance are for one --stack without --diff (--diff takes the state at the ref)");
    opts.previousVersion = previousVersion;
    opts.previousMaintenance = maintenance === undefined ? undefined : maintenance === "on";
    if (v["previous-states"] !== undefined)
        opts.previousStates =
            parseStates(v["previous-states"]) ??
            fail(`--previous-states needs a JSON object of stack → {version, maintenance, ranVersions}, not ${v["previous-states"]}`);
    return opts;
}

export function formatText(stack: string, result: RenderResult): string {
    const lines: string[] = [`Stack ${stack}: ${result.resources.length} resources (offline plan, Pulumi mock runtime)`, ""];
    const children = new Map<string | null, PlannedResource[]>();
    for (const r of result.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const walk = (parent: string | null, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            lines.push(`${"  ".repeat(depth)}${r.type}  ${r.name}`);
            walk(resourceKey(r.type, r.name), depth + 1);
        }
    };
    walk(null, 0);
    for (const r of result.resources) {
        if (r.type.startsWith("protheus:")) continue;
        lines.push("", `--- # ${r.type} ${r.name}${r.parent ? ` (parent ${r.parent})` : ""}`);
        if (r.options) lines.push(`# options: ${JSON.stringify(r.options)}`);
        lines.push(stringify(r.inputs, { sortMapEntries: true }).trimEnd());
    }
    lines.push("", "--- # stack outputs", stringify(result.outputs, { sortMapEntries: true }).trimEnd());
    return lines.join("\n") + "\n";
}

/** An error the plan diff reports as it is (a side that cannot render, git); anything else with its stack. */
const diffErrorMessage = (err: unknown) => (err instanceof PlanDiffError || err instanceof GitError ? err.message : `${(err as Error).stack ?? err}`);

/** `--stack <s> --diff <ref>`: that stack's diff as text or one JSON object; exit 0 no changes, 1 changes, 2 error. */
async function printDiff(stack: string, ref: string, json: boolean, io: PlanIo, dir: string): Promise<number> {
    let result: StackDiffResult | undefined;
    let base: DiffBase;
    try {
        base = await diffAgainstRef([stack], ref, async (r) => void (result = r), { repo: dir, env: io.env });
    } catch (err) {
        io.stderr.write(`Stack ${stack}: plan diff: ${diffErrorMessage(err)}\n`);
        return 2;
    }
    const r = result!;
    if (r.code === 2) io.stderr.write(`Stack ${stack}: plan diff: ${r.error}\n`);
    else if (json) await write(io.stdout, JSON.stringify(diffToJson(stack, r.diff!, { ref, commit: base.commit }, r.notes), null, 2) + "\n");
    else await write(io.stdout, formatDiffText(stack, r.diff!, { base: base.label, target: "working tree" }, r.notes));
    return r.code;
}

/** `--all` / `--stacks` without --diff: each stack printed as rendered, one at a time, so memory does not grow with the fleet. */
async function printPlans(opts: PlanOptions, stacks: string[], io: PlanIo, dir: string): Promise<number> {
    const out = io.stdout;
    const failed: string[] = [];
    const plans = (async function* () {
        for await (const p of renderEachInThreads(stacks, dir, opts.threads, opts.previousStates)) {
            if ("error" in p) failed.push(`Stack ${p.stack}: ${p.error}\n`);
            yield p;
        }
    })();
    if (opts.json) await writeJsonArray(out, plans);
    else for await (const p of plans) if (!("error" in p)) await write(out, formatText(p.stack, { resources: p.resources, options: {}, outputs: p.outputs }));
    for (const f of failed) io.stderr.write(f);
    return failed.length > 0 ? 2 : 0;
}

/**
 * `--all` / `--stacks` with --diff: JSON is printed stack by stack; text and Markdown put the summary
 * table on top, so each stack's diff waits in a temporary file, not in memory, until the table is complete.
 */
async function printDiffs(opts: PlanOptions, stacks: string[], ref: string, io: PlanIo, dir: string): Promise<number> {
    const out = io.stdout;
    const failed: string[] = [];
    const rows: SummaryRow[] = [];
    const tmp = fs.mkdtempSync(path.join(tempRoot(io.env), "protheus-plan-diffs-"));
    const detailsFile = path.join(tmp, "details");
    let code = 0;
    // Written synchronously: complete on disk when read back below.
    const details = fs.openSync(detailsFile, "w");
    try {
        let first = true;
        if (opts.json) await write(out, "[");
        const { label } = await diffAgainstRef(
            stacks,
            ref,
            async (r, base) => {
                code = Math.max(code, r.code);
                if (r.code === 2) failed.push(`Stack ${r.stack}: plan diff: ${r.error}\n`);
                if (opts.json) {
                    const json = r.code === 2 ? { stack: r.stack, error: r.error } : diffToJson(r.stack, r.diff!, { ref, commit: base.commit }, r.notes);
                    await write(out, `${first ? "\n" : ",\n"}${JSON.stringify(json)}`);
                    first = false;
                } else {
                    rows.push(summaryRow(r));
                    fs.writeSync(details, opts.markdown ? markdownDetails(r, base.label) : plainDetails(r, base.label));
                }
            },
            { repo: dir, env: io.env },
        );
        if (opts.json) {
            await write(out, first ? "]\n" : "\n]\n");
        } else {
            await write(out, opts.markdown ? markdownHead(rows, label) : plainHead(rows, label));
            for await (const chunk of fs.createReadStream(detailsFile, { encoding: "utf8" })) await write(out, chunk as string);
        }
    } catch (err) {
        io.stderr.write(`plan diff: ${diffErrorMessage(err)}\n`);
        return 2;
    } finally {
        fs.closeSync(details);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    for (const f of failed) io.stderr.write(f);
    return code;
}

/** The --previous-states JSON (stack → {version, maintenance, ranVersions}), or undefined when it is not one. */
function parseStates(text: string): Record<string, PreviousState> | undefined {
    try {
        const v = JSON.parse(text) as unknown;
        const isState = (x: unknown) =>
            x !== null &&
            typeof x === "object" &&
            Object.entries(x).every(
                ([k, f]) =>
                    (k === "version" && typeof f === "string" && semver.valid(f) !== null) ||
                    (k === "maintenance" && typeof f === "boolean") ||
                    (k === "ranVersions" && Array.isArray(f) && f.every((r) => typeof r === "string" && semver.valid(r) !== null)),
            );
        if (isPlainObject(v) && Object.values(v).every(isState)) return v as Record<string, PreviousState>;
    } catch {
        // reported below
    }
    return undefined;
}

/** `npm run plan ... | head`: a reader that stops early is not an error of the plan; end quietly. */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
    stream.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== "EPIPE") throw err;
        process.exit();
    });
}

/** Where the plan writes, the environment its temporary files and child processes take, and the repository it plans. */
export interface PlanIo extends CommandIo {
    /** The repository planned (its stack files, its git history); default: this one. */
    dir?: string;
}

/**
 * The command: reads `argv` (the arguments after the script), writes to `io`'s streams and resolves
 * to the exit code (0 also for --help; 2 and one line for a command line it cannot take). A
 * repository that does not hold this process's program (lib/programTree.ts) is planned by its own
 * bin/plan.ts in a child process, as its command line would.
 */
export async function main(argv: string[], io: PlanIo = processIo()): Promise<number> {
    const dir = io.dir ?? REPO_ROOT;
    if (!runsThisProgram(dir)) return planOfTree(dir, argv, io);
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    return typeof read === "number" ? read : run(read, io, dir);
}

/** The plan of a command line the parser took; exit 2 and one line for options that cannot go together. */
async function run(read: CommandLine<typeof COMMAND_LINE.options>, io: PlanIo, dir: string): Promise<number> {
    let opts: PlanOptions;
    try {
        opts = readOptions(read, dir);
    } catch (err) {
        return refuseCommandLine(COMMAND_LINE.name, err, io);
    }
    return plan(opts, io, dir);
}

/** The plan of the tree at `dir` by its own bin/plan.ts, in a child process given `argv`; its output goes to `io`'s streams. */
function planOfTree(dir: string, argv: string[], io: PlanIo): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn(...tsNodeCommand("bin/plan.ts", argv, dir), { cwd: dir, env: io.env, stdio: ["ignore", "pipe", "pipe"] });
        child.stdout.pipe(io.stdout, { end: false });
        child.stderr.pipe(io.stderr, { end: false });
        child.once("error", (err) => {
            io.stderr.write(`plan: cannot run the plan of ${dir}: ${err.message}\n`);
            resolve(2);
        });
        child.once("close", (code, signal) => {
            if (code === null) io.stderr.write(`plan: the plan of ${dir} ended by ${signal}\n`);
            resolve(code ?? 2);
        });
    });
}

async function plan(opts: PlanOptions, io: PlanIo, dir: string): Promise<number> {
    if (opts.stacks) return opts.diff === undefined ? printPlans(opts, opts.stacks, io, dir) : printDiffs(opts, opts.stacks, opts.diff, io, dir);
    const stack = opts.stack!;
    if (opts.diff !== undefined) return printDiff(stack, opts.diff, opts.json, io, dir);
    let result: RenderResult;
    try {
        const input = readStackFile(stack, dir);
        const given = { version: opts.previousVersion, maintenance: opts.previousMaintenance };
        result = await renderProgram(
            given.version === undefined && given.maintenance === undefined ? input : { ...input, previousOutputs: outputsBefore(input, given, dir) },
        );
    } catch (err) {
        io.stderr.write(`Stack ${stack}: ${renderFailureMessage(err)}\n`);
        return 2;
    }
    await write(io.stdout, opts.json ? JSON.stringify(result.resources, null, 2) + "\n" : formatText(stack, result));
    return 0;
}

if (require.main === module) {
    endQuietlyOnClosedPipe();
    // The exit code, not exit(): a long output drains to a pipe first.
    runAsProcess(main);
}

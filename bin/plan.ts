// Offline plan: `npm run plan -- --stack c2a7dv-hml [--json]`; every stack of the
// repository in one process: `npm run plan -- --all [--json]` (or `--stacks a,b`).
// Runs the real program under Pulumi's mock runtime with the stack file's
// config and prints what it declares. Exit 0: rendered; 2: bad config or usage.
//
// Plan diff: `npm run plan -- --stack c2a7dv-prod --diff <git-ref> [--json]`.
// Renders the stack at <git-ref> (with that commit's own program, plan and
// stack file) and in the working tree, each in its own child process, and
// prints what changes resource by resource and field by field (lib/planDiff.ts).
// Exit 0: no changes; 1: changes; 2: error (bad ref, config error on either
// side, usage). A stack file that does not exist at <git-ref> is a new stack:
// every resource shows as added. A ref without bin/plan.ts is an error (even
// when the stack file is missing there too).
//
// Plan diff of many stacks: `npm run plan -- --all --diff <git-ref> [--json | --markdown]`
// (or `--stacks a,b`): one child process per side for all stacks (per stack only
// for a ref whose plan cannot render several), a summary table, then each
// stack's diff (`--markdown`: folded per stack, for a PR comment). Exit as above.
//
// The working tree is rendered as the next `pulumi up` after <git-ref> was
// deployed: the program's reference to its own stack reads what the stack file
// at <git-ref> left behind (lib/previousOutputs.ts): the version that runs, so a
// version change shows its pre-upgrade or pre-rollback backup Job; whether
// maintenance was applied, which a prod restore waits for; and the versions the
// stack ran, which the promotion gate reads. One stack without --diff:
// `--previous-version <v> --previous-maintenance on|off` render as if the stack
// ran <v> with maintenance on or off; default: as its config names (no change).
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import * as semver from "semver";
import { listStackNames } from "../lib/fleet";
import { renderEachInThreads, renderFailureMessage } from "../lib/renderAll";
import { pairSides, PlanDiffError, plansHere, plansInChild, SidePlan, SidePlans, write, writeJsonArray } from "../lib/planStream";
import { PlannedResource, RenderResult, renderProgram, resourceKey } from "../lib/render";
import { readStackFile, REPO_ROOT } from "../lib/stackFiles";
import { outputsBefore, PreviousState, stateAfter } from "../lib/previousOutputs";
import { diffResources, diffToJson, formatDiffText, formatSummary, hasChanges, PlanDiff, secretConfigNotes } from "../lib/planDiff";
import { tsNodeCommand } from "../lib/tsNode";
import { answerHelp } from "../lib/cliHelp";

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
    /** Per stack, with --stacks (what --diff passes to the working tree's render). */
    previousStates?: Record<string, PreviousState>;
    /** Git ref to diff the working tree against. */
    diff?: string;
}

const USAGE =
    "usage: npm run plan -- (--stack <environment>-<stage> | --all | --stacks <a,b,...>) [--json | --markdown] [--diff <git-ref>] [--threads <n>] [--previous-version <version>] [--previous-maintenance on|off]";

function usage(message: string): never {
    process.stderr.write(`plan: ${message}\n${USAGE}\n`);
    process.exit(2);
}

function parseArgs(argv: string[]): PlanOptions {
    answerHelp(argv, USAGE);
    const opts: Partial<PlanOptions> = { json: false, markdown: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") opts.json = true;
        else if (a === "--markdown") opts.markdown = true;
        else if (a === "--previous-version") opts.previousVersion = argv[++i] ?? usage("--previous-version needs a version");
        else if (a.startsWith("--previous-version=")) opts.previousVersion = a.slice("--previous-version=".length);
        else if (a === "--previous-maintenance") opts.previousMaintenance = onOff(argv[++i]);
        else if (a.startsWith("--previous-maintenance=")) opts.previousMaintenance = onOff(a.slice("--previous-maintenance=".length));
        else if (a === "--previous-states") opts.previousStates = parseStates(argv[++i] ?? usage("--previous-states needs a JSON object"));
        else if (a === "--all") opts.stacks = listStackNames(REPO_ROOT);
        else if (a === "--threads") opts.threads = Number(argv[++i] ?? usage("--threads needs a number"));
        else if (a === "--stacks") opts.stacks = (argv[++i] ?? usage("--stacks needs a comma-separated list")).split(",").filter((x) => x !== "");
        else if (a === "--stack" || a === "-s") opts.stack = argv[++i] ?? usage("--stack needs a value");
        else if (a.startsWith("--stack=")) opts.stack = a.slice("--stack=".length);
        else if (a === "--diff") opts.diff = argv[++i] ?? usage("--diff needs a git ref");
        else if (a.startsWith("--diff=")) opts.diff = a.slice("--diff=".length);
        else usage(`unknown argument ${a}`);
    }
    if (!opts.stack === !opts.stacks) usage("give --stack, or --all / --stacks");
    if (opts.json && opts.markdown) usage("--json and --markdown exclude each other");
    if (opts.markdown && opts.diff === undefined) usage("--markdown is for --diff");
    if (opts.previousVersion !== undefined && semver.valid(opts.previousVersion) === null)
        usage(`--previous-version needs an exact version such as 12.1.2410, not "${opts.previousVersion}"`);
    if ((opts.previousVersion !== undefined || opts.previousMaintenance !== undefined) && (opts.diff !== undefined || opts.stacks))
        usage("--previous-version and --previous-maintenance are for one --stack without --diff (--diff takes the state at the ref)");
    if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) usage("--threads needs a whole number of at least 1");
    if (opts.diff !== undefined && opts.diff.trim() === "") usage("--diff needs a git ref");
    return opts as PlanOptions;
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

// ---------------------------------------------------------------- plan diff

export { PlanDiffError };

function git(args: string[], cwd: string): string {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
    } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new PlanDiffError(`git ${args.join(" ")}: ${(e.stderr || e.message).trim()}`);
    }
}

/** Resolves a ref to a commit, or throws a PlanDiffError naming the ref. */
export function resolveRef(ref: string, repo = REPO_ROOT): string {
    try {
        return execFileSync("git", ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], {
            cwd: repo,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        }).trim();
    } catch {
        throw new PlanDiffError(`bad git ref "${ref}": not a commit in ${repo}`);
    }
}

/**
 * Writes the tree of `commit` into a new temp dir (git archive | tar -x) with
 * the working tree's node_modules symlinked in. The caller removes it.
 */
function materialise(commit: string, repo: string, tmp: string): string {
    const tarball = path.join(tmp, "tree.tar");
    const dir = path.join(tmp, "tree");
    fs.mkdirSync(dir);
    git(["archive", "--format=tar", "-o", tarball, commit], repo);
    try {
        execFileSync("tar", ["-xf", tarball, "-C", dir], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
        throw new PlanDiffError(`cannot unpack ${commit}: ${((err as { stderr?: Buffer }).stderr ?? "").toString().trim() || (err as Error).message}`);
    }
    fs.rmSync(tarball, { force: true });
    const modules = path.join(repo, "node_modules");
    if (!fs.existsSync(modules)) throw new PlanDiffError(`no node_modules in ${repo}: run npm ci first`);
    if (!fs.existsSync(path.join(dir, "node_modules"))) fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir");
    return dir;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
            resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : "") });
        });
    });
}

/**
 * Renders `stack` with the plan of the tree in `dir` (its own bin/plan.ts,
 * program and stack file) in a child process: the Pulumi runtime is
 * process-global and modules are cached, so two trees never share a process.
 */
export async function renderTree(dir: string, stack: string, side: string, extraArgs: string[] = []): Promise<PlannedResource[]> {
    if (!fs.existsSync(path.join(dir, "bin", "plan.ts")))
        throw new PlanDiffError(`${side}: has no bin/plan.ts (older than the offline plan); cannot render it`);
    const res = await run(...tsNodeCommand("bin/plan.ts", ["--stack", stack, "--json", ...extraArgs]), dir);
    if (res.code !== 0) {
        const detail = res.stderr.trim() || res.stdout.trim() || `exit ${res.code}`;
        throw new PlanDiffError(`${side}: the plan failed (exit ${res.code}):\n${detail}`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(res.stdout);
    } catch {
        throw new PlanDiffError(`${side}: the plan did not print JSON:\n${res.stdout.slice(0, 2000)}`);
    }
    // --json prints the resource list; a {resources} object is accepted too, as a ref's plan may print one.
    const list = Array.isArray(parsed) ? parsed : (parsed as { resources?: unknown })?.resources;
    if (!Array.isArray(list)) throw new PlanDiffError(`${side}: the plan's JSON is not a list of resources`);
    return list as PlannedResource[];
}

export interface DiffRun {
    /** Process exit code: 0 no changes, 1 changes, 2 error. */
    code: number;
    stdout: string;
    stderr: string;
}

/** `--diff <ref>`: the whole run, temp dir removed whatever happens. */
export async function runDiff(stack: string, ref: string, json: boolean, repo = REPO_ROOT): Promise<DiffRun> {
    let tmp: string | undefined;
    const cleanup = () => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        tmp = undefined;
    };
    const onSignal = (signal: NodeJS.Signals) => {
        cleanup();
        process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        const commit = resolveRef(ref, repo);
        const short = commit.slice(0, 7);
        const baseLabel = commit.startsWith(ref.toLowerCase()) ? short : `${ref} (${short})`;
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-plan-diff-"));
        const dir = materialise(commit, repo, tmp);
        if (!fs.existsSync(path.join(dir, "bin", "plan.ts")))
            throw new PlanDiffError(`${baseLabel} has no bin/plan.ts (older than the offline plan): cannot render it`);
        const stackFile = `Pulumi.${stack}.yaml`;
        const targetFile = path.join(repo, stackFile);
        if (!fs.existsSync(targetFile)) throw new PlanDiffError(`working tree: no stack file ${stackFile} for stack "${stack}"`);
        const baseFile = path.join(dir, stackFile);
        const baseExists = fs.existsSync(baseFile);
        const notes: string[] = [];
        if (!baseExists) notes.push(`${stackFile} does not exist at ${baseLabel}: a new stack, every resource is added`);
        // The working tree is the update that follows the ref: it reads the state the ref left behind.
        // The ref itself is rendered as deployed and up to date: the same state.
        const previous = baseExists ? { [stack]: stateAfter(stack, readStackFile(stack, dir).config, repo) } : {};
        const here = sameProgram(commit, repo);
        const [before, after] = await bothSides(
            here,
            () =>
                baseExists ? collectPlans(refPlans([stack], dir, `at ${baseLabel}`, here, previous)).then(sideOf(stack)) : Promise.resolve({ resources: [] }),
            () => collectPlans(workingTreePlans([stack], repo, previous)).then(sideOf(stack)),
        );
        notes.push(...secretConfigNotes(baseExists ? fs.readFileSync(baseFile, "utf8") : null, fs.readFileSync(targetFile, "utf8")));
        notes.push(...gateNotes(after.outputs));
        const diff = diffResources(before.resources, after.resources);
        const stdout = json
            ? JSON.stringify(diffToJson(stack, diff, { ref, commit }, notes), null, 2) + "\n"
            : formatDiffText(stack, diff, { base: baseLabel, target: "working tree" }, notes);
        return { code: hasChanges(diff) ? 1 : 0, stdout, stderr: "" };
    } catch (err) {
        const message = err instanceof PlanDiffError ? err.message : `${(err as Error).stack ?? err}`;
        return { code: 2, stdout: "", stderr: `Stack ${stack}: plan diff: ${message}\n` };
    } finally {
        cleanup();
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
    }
}

// ---------------------------------------------------------------- many stacks

/** The plans of `stacks` in the tree `dir`, rendered by that tree's own bin/plan.ts: one child process, or one per stack for a plan that renders one stack only. */
async function* plansOfTree(dir: string, stacks: string[], side: string, previousStates: Record<string, PreviousState> = {}): SidePlans {
    if (stacks.length === 0) return;
    const planFile = path.join(dir, "bin", "plan.ts");
    if (!fs.existsSync(planFile)) throw new PlanDiffError(`${side}: has no bin/plan.ts (older than the offline plan); cannot render it`);
    if (fs.readFileSync(planFile, "utf8").includes('"--stacks"')) {
        yield* plansInChild(dir, stacks, side, previousStates);
        return;
    }
    for (const stack of stacks) {
        const v = previousStates[stack]?.version;
        yield [
            stack,
            await renderTree(dir, stack, side, v ? ["--previous-version", v] : []).then(
                (resources): SidePlan => ({ resources }),
                (e: Error) => e,
            ),
        ];
    }
}

/** The working tree's plans of `stacks`, one at a time: in this process when it runs the working tree's program. */
function workingTreePlans(stacks: string[], repo: string, previousStates: Record<string, PreviousState>): SidePlans {
    if (path.resolve(repo) !== REPO_ROOT) return plansOfTree(repo, stacks, "working tree", previousStates);
    return plansHere(stacks, repo, "working tree", previousStates);
}

/**
 * True when the program at `commit` is the working tree's: nothing but stack files differs, tracked
 * or not. Then the ref's stack files are rendered in this process too (most reviews only move a
 * version), and no child process or second load of the SDK is needed.
 */
function sameProgram(commit: string, repo: string): boolean {
    if (path.resolve(repo) !== REPO_ROOT) return false;
    const notStackFiles = ["--", ".", ":(exclude)Pulumi.*.yaml"];
    return (
        git(["diff", "--name-only", commit, ...notStackFiles], repo).trim() === "" &&
        git(["ls-files", "--others", "--exclude-standard", ...notStackFiles], repo).trim() === ""
    );
}

/** The ref's plans of `stacks` (its tree materialised in `dir`), one at a time: here, or by the ref's own plan in a child process. */
function refPlans(stacks: string[], dir: string, side: string, here: boolean, states: Record<string, PreviousState>): SidePlans {
    if (here) return plansHere(stacks, dir, side, states);
    // A ref whose plan predates --previous-states renders its stacks as its own config names them.
    const plan = path.join(dir, "bin", "plan.ts");
    const knowsStates = fs.existsSync(plan) && fs.readFileSync(plan, "utf8").includes('"--previous-states"');
    return plansOfTree(dir, stacks, side, knowsStates ? states : {});
}

async function collectPlans(plans: SidePlans): Promise<Map<string, SidePlan | Error>> {
    const out = new Map<string, SidePlan | Error>();
    for await (const [stack, plan] of plans) out.set(stack, plan);
    return out;
}

/** Both sides of a diff: at once while the ref renders in a child process; one after the other when both render here (one Pulumi runtime per process). */
async function bothSides<A, B>(here: boolean, ref: () => Promise<A>, working: () => Promise<B>): Promise<[A, B]> {
    if (here) return [await ref(), await working()];
    return Promise.all([ref(), working()]);
}

/** The side of `stack` out of a side's plans, or that side's error thrown. */
function sideOf(stack: string): (plans: Map<string, SidePlan | Error>) => SidePlan {
    return (plans) => {
        const plan = plans.get(stack)!;
        if (plan instanceof Error) throw plan;
        return plan;
    };
}

/** What the working tree's render says about its gates: which history entry let a prod version through. */
function gateNotes(outputs: Record<string, unknown> | undefined): string[] {
    const granted = outputs?.promotion;
    return typeof granted === "string" ? [`promotion gate: ${granted}`] : [];
}

export interface StackDiffResult {
    stack: string;
    /** 0 no changes, 1 changes, 2 error. */
    code: number;
    diff?: PlanDiff;
    notes: string[];
    error?: string;
}

/**
 * The diff of every stack in `stacks` against `ref`, handed to `each` stack by stack as both sides
 * render (the ref in this process or in one child process for all stacks), so no side's plans pile
 * up in memory. Temp dir removed whatever happens.
 */
export async function diffMany(
    stacks: string[],
    ref: string,
    each: (result: StackDiffResult, run: { commit: string; label: string }) => Promise<void>,
    repo = REPO_ROOT,
): Promise<{ commit: string; label: string }> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-plan-diff-"));
    const onSignal = (signal: NodeJS.Signals) => {
        fs.rmSync(tmp, { recursive: true, force: true });
        process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        const commit = resolveRef(ref, repo);
        const label = commit.startsWith(ref.toLowerCase()) ? commit.slice(0, 7) : `${ref} (${commit.slice(0, 7)})`;
        const dir = materialise(commit, repo, tmp);
        const missing = stacks.filter((s) => !fs.existsSync(path.join(repo, `Pulumi.${s}.yaml`)));
        if (missing.length > 0) throw new PlanDiffError(`working tree: no stack file for ${missing.join(", ")}`);
        const atBase = stacks.filter((s) => fs.existsSync(path.join(dir, `Pulumi.${s}.yaml`)));
        // As for one stack: the working tree is the update after the ref (each stack reads the state the ref left).
        const previous = Object.fromEntries(atBase.map((s) => [s, stateAfter(s, readStackFile(s, dir).config, repo)]));
        const here = sameProgram(commit, repo);
        const before = refPlans(atBase, dir, `at ${label}`, here, previous);
        const after = workingTreePlans(stacks, repo, previous);
        try {
            for await (const [stack, b, a] of pairSides(stacks, new Set(atBase), before, after)) {
                const file = `Pulumi.${stack}.yaml`;
                const notes = b === undefined ? [`${file} does not exist at ${label}: a new stack, every resource is added`] : [];
                if (b instanceof Error || a instanceof Error) {
                    await each({ stack, code: 2, notes, error: (b instanceof Error ? b : (a as Error)).message }, { commit, label });
                    continue;
                }
                notes.push(
                    ...secretConfigNotes(
                        b === undefined ? null : fs.readFileSync(path.join(dir, file), "utf8"),
                        fs.readFileSync(path.join(repo, file), "utf8"),
                    ),
                    ...gateNotes(a.outputs),
                );
                const diff = diffResources(b?.resources ?? [], a.resources);
                await each({ stack, code: hasChanges(diff) ? 1 : 0, diff, notes }, { commit, label });
            }
        } finally {
            await Promise.all([before.return(undefined), after.return(undefined)]);
        }
        return { commit, label };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
    }
}

export const COMMENT_MARKER = "<!-- protheus-offline-plan -->";
/** Per stack in a PR comment; the job log has all of it. */
const COMMENT_STACK_LIMIT = 30000;

function statusOf(r: StackDiffResult): string {
    if (r.code === 2) return "error";
    return r.code === 0 ? "no changes" : formatSummary(r.stack, r.diff!).slice(r.stack.length + 2);
}

/** A stack's row of the summary table: its name and plan status. */
interface SummaryRow {
    stack: string;
    status: string;
}

const summaryRow = (r: StackDiffResult): SummaryRow => ({ stack: r.stack, status: statusOf(r) });

function tableOf(rows: SummaryRow[]): string {
    return ["| stack | plan |", "| --- | --- |", ...rows.map((r) => `| \`${r.stack}\` | ${r.status} |`)].join("\n") + "\n";
}

/** A PR comment's top: the marker, the title and the summary table. */
function markdownHead(rows: SummaryRow[], label: string): string {
    return [COMMENT_MARKER, `### Offline plan against \`${label}\``, "", rows.length === 0 ? "No stack is affected by this change.\n" : tableOf(rows)].join(
        "\n",
    );
}

/** A stack's diff folded in a PR comment (open when it changes or fails), cut at COMMENT_STACK_LIMIT. */
function markdownDetails(r: StackDiffResult, label: string): string {
    const body = r.code === 2 ? r.error! : formatDiffText(r.stack, r.diff!, { base: label, target: "working tree" }, r.notes);
    const cut =
        body.length > COMMENT_STACK_LIMIT
            ? `${body.slice(0, COMMENT_STACK_LIMIT)}\n... truncated (${body.length} characters); the full output is in the job log\n`
            : body;
    return (
        "\n" +
        [
            `<details${r.code === 0 ? "" : " open"}><summary><b>${r.stack}</b>: ${statusOf(r)}</summary>`,
            "",
            "```diff",
            cut.trimEnd(),
            "```",
            "</details>",
            "",
        ].join("\n")
    );
}

/** A stack's diff in the plain-text output. */
function plainDetails(r: StackDiffResult, label: string): string {
    return r.code === 2
        ? `Stack ${r.stack}: plan diff: ${r.error}\n\n`
        : formatDiffText(r.stack, r.diff!, { base: label, target: "working tree" }, r.notes) + "\n";
}

async function runMany(opts: PlanOptions): Promise<number> {
    const stacks = opts.stacks!;
    const out = process.stdout;
    const failed: string[] = [];
    if (opts.diff === undefined) {
        // Printed as rendered, one stack at a time: memory does not grow with the fleet.
        const plans = (async function* () {
            for await (const p of renderEachInThreads(stacks, REPO_ROOT, opts.threads, opts.previousStates)) {
                if ("error" in p) failed.push(`Stack ${p.stack}: ${p.error}\n`);
                yield p;
            }
        })();
        if (opts.json) await writeJsonArray(out, plans);
        else
            for await (const p of plans)
                if (!("error" in p)) await write(out, formatText(p.stack, { resources: p.resources, options: {}, outputs: p.outputs }));
        for (const f of failed) process.stderr.write(f);
        return failed.length > 0 ? 2 : 0;
    }
    // JSON is printed stack by stack; text and Markdown put the summary table on top, so each
    // stack's diff waits in a temporary file, not in memory, until the table is complete.
    const rows: SummaryRow[] = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-plan-diffs-"));
    const detailsFile = path.join(tmp, "details");
    let code = 0;
    // Written synchronously: complete on disk when read back below.
    const details = fs.openSync(detailsFile, "w");
    try {
        let first = true;
        if (opts.json) await write(out, "[");
        const { label } = await diffMany(stacks, opts.diff, async (r, run) => {
            code = Math.max(code, r.code);
            if (r.code === 2) failed.push(`Stack ${r.stack}: plan diff: ${r.error}\n`);
            if (opts.json) {
                const json = r.code === 2 ? { stack: r.stack, error: r.error } : diffToJson(r.stack, r.diff!, { ref: opts.diff!, commit: run.commit }, r.notes);
                await write(out, `${first ? "\n" : ",\n"}${JSON.stringify(json)}`);
                first = false;
            } else {
                rows.push(summaryRow(r));
                fs.writeSync(details, opts.markdown ? markdownDetails(r, run.label) : plainDetails(r, run.label));
            }
        });
        if (opts.json) {
            await write(out, first ? "]\n" : "\n]\n");
        } else {
            await write(
                out,
                opts.markdown
                    ? markdownHead(rows, label)
                    : `Plan diff of ${rows.length} stack(s): ${label} → working tree (offline, Pulumi mock runtime)\n\n${tableOf(rows)}\n`,
            );
            for await (const chunk of fs.createReadStream(detailsFile, { encoding: "utf8" })) await write(out, chunk as string);
        }
    } catch (err) {
        process.stderr.write(`plan diff: ${err instanceof PlanDiffError ? err.message : ((err as Error).stack ?? err)}\n`);
        return 2;
    } finally {
        fs.closeSync(details);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    for (const f of failed) process.stderr.write(f);
    return code;
}

function onOff(value: string | undefined): boolean {
    if (value === "on" || value === "off") return value === "on";
    return usage(`--previous-maintenance needs on or off, not ${value === undefined ? "nothing" : `"${value}"`}`);
}

function parseStates(text: string): Record<string, PreviousState> {
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
        if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.values(v).every(isState)) return v as Record<string, PreviousState>;
    } catch {
        // reported below
    }
    return usage(`--previous-states needs a JSON object of stack → {version, maintenance, ranVersions}, not ${text}`);
}

/** `npm run plan ... | head`: a reader that stops early is not an error of the plan; end quietly. */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
    stream.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== "EPIPE") throw err;
        process.exit();
    });
}

async function main(): Promise<void> {
    endQuietlyOnClosedPipe();
    const opts = parseArgs(process.argv.slice(2));
    if (opts.stacks) {
        // exitCode, not exit(): let a long output drain to a pipe first.
        process.exitCode = await runMany(opts);
        return;
    }
    const stack = opts.stack!;
    if (opts.diff !== undefined) {
        const res = await runDiff(stack, opts.diff, opts.json);
        process.stdout.write(res.stdout);
        process.stderr.write(res.stderr);
        process.exitCode = res.code;
        return;
    }
    let result: RenderResult;
    try {
        const input = readStackFile(stack);
        const given = { version: opts.previousVersion, maintenance: opts.previousMaintenance };
        result = await renderProgram(
            given.version === undefined && given.maintenance === undefined ? input : { ...input, previousOutputs: outputsBefore(input, given, REPO_ROOT) },
        );
    } catch (err) {
        process.stderr.write(`Stack ${stack}: ${renderFailureMessage(err)}\n`);
        process.exit(2);
    }
    if (opts.json) process.stdout.write(JSON.stringify(result.resources, null, 2) + "\n");
    else process.stdout.write(formatText(stack, result));
}

if (require.main === module) void main();

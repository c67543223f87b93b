// Offline plan: `npm run plan -- --stack hml [--json]`.
// Runs the real program under Pulumi's mock runtime with the stack file's
// config and prints what it declares. Exit 0: rendered; 2: bad config or usage.
//
// Plan diff: `npm run plan -- --stack prod --diff <git-ref> [--json]`.
// Renders the stack at <git-ref> (with that commit's own program, plan and
// stack file) and in the working tree, each in its own child process, and
// prints what changes resource by resource and field by field (lib/planDiff.ts).
// Exit 0: no changes; 1: changes; 2: error (bad ref, config error on either
// side, usage). The working tree is rendered as the next `pulumi up` after
// <git-ref> was deployed: the program's reference to its own stack sees the
// version at <git-ref> as the running one (--previous-version), so a version
// change shows its pre-upgrade or pre-rollback backup Job.
//
// `--previous-version <v>`: render as if the stack ran <v> (default: the
// version its config names, i.e. no version change). A stack file that does not exist at <git-ref> is a new stack:
// every resource shows as added. A ref without bin/plan.ts is an error (even
// when the stack file is missing there too).
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as semver from "semver";
import { stringify } from "yaml";
import { ConfigError } from "../config/load";
import { PromotionError } from "../lib/promotion";
import { PlannedResource, readStackFile, RenderError, RenderResult, renderProgram, resourceKey, REPO_ROOT, stackConfigFromYaml } from "../lib/render";
import { VERSION_OUTPUT } from "../lib/versionChange";
import { diffResources, diffToJson, formatDiffText, hasChanges, secretConfigNotes } from "../lib/planDiff";

interface PlanOptions {
    stack: string;
    json: boolean;
    /** Git ref to diff the working tree against. */
    diff?: string;
    /** The version the stack runs before this update (its own StackReference's updateDesiredVersion). */
    previousVersion?: string;
}

const USAGE = "usage: npm run plan -- --stack <prod|hml> [--json] [--diff <git-ref>] [--previous-version <version>]";

function usage(message: string): never {
    process.stderr.write(`plan: ${message}\n${USAGE}\n`);
    process.exit(2);
}

function parseArgs(argv: string[]): PlanOptions {
    const opts: Partial<PlanOptions> = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") opts.json = true;
        else if (a === "--stack" || a === "-s") opts.stack = argv[++i] ?? usage("--stack needs a value");
        else if (a.startsWith("--stack=")) opts.stack = a.slice("--stack=".length);
        else if (a === "--diff") opts.diff = argv[++i] ?? usage("--diff needs a git ref");
        else if (a.startsWith("--diff=")) opts.diff = a.slice("--diff=".length);
        else if (a === "--previous-version") opts.previousVersion = argv[++i] ?? usage("--previous-version needs a version");
        else if (a.startsWith("--previous-version=")) opts.previousVersion = a.slice("--previous-version=".length);
        else usage(`unknown argument ${a}`);
    }
    if (!opts.stack) usage("--stack is required");
    if (opts.diff !== undefined && opts.diff.trim() === "") usage("--diff needs a git ref");
    if (opts.previousVersion !== undefined && semver.valid(opts.previousVersion) === null) usage(`--previous-version needs an exact version such as 12.1.2410, not "${opts.previousVersion}"`);
    if (opts.previousVersion !== undefined && opts.diff !== undefined) usage("--previous-version and --diff exclude each other (--diff takes the version at the ref)");
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
        lines.push("", `--- # ${r.type} ${r.name}${r.parent ? ` (parent ${r.parent})` : ""}`, stringify(r.inputs, { sortMapEntries: true }).trimEnd());
        if (r.options) lines.push(`# options: ${JSON.stringify(r.options)}`);
    }
    lines.push("", "--- # stack outputs", stringify(result.outputs, { sortMapEntries: true }).trimEnd());
    return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------- plan diff

/** An error of the diff itself: exit 2 with this message. */
export class PlanDiffError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PlanDiffError";
    }
}

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
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1) : 0;
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
    if (!fs.existsSync(path.join(dir, "bin", "plan.ts"))) throw new PlanDiffError(`${side}: has no bin/plan.ts (older than the offline plan); cannot render it`);
    const tsNode = require.resolve("ts-node/dist/bin.js", { paths: [REPO_ROOT] });
    const res = await run(process.execPath, [tsNode, "--transpile-only", "bin/plan.ts", "--stack", stack, "--json", ...extraArgs], dir);
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
    // Today --json prints the resource list; accept a {resources} object too.
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
        if (!fs.existsSync(path.join(dir, "bin", "plan.ts"))) throw new PlanDiffError(`${baseLabel} has no bin/plan.ts (older than the offline plan): cannot render it`);
        const stackFile = `Pulumi.${stack}.yaml`;
        const targetFile = path.join(repo, stackFile);
        if (!fs.existsSync(targetFile)) throw new PlanDiffError(`working tree: no stack file ${stackFile} for stack "${stack}"`);
        const baseFile = path.join(dir, stackFile);
        const baseExists = fs.existsSync(baseFile);
        const notes: string[] = [];
        if (!baseExists) notes.push(`${stackFile} does not exist at ${baseLabel}: a new stack, every resource is added`);
        // The working tree is the update that follows the ref: it sees the ref's version as the running one.
        const baseVersion = baseExists ? stackConfigFromYaml(stack, fs.readFileSync(baseFile, "utf8")).config[`protheus:${VERSION_OUTPUT}`] : undefined;
        const [before, after] = await Promise.all([
            baseExists ? renderTree(dir, stack, `at ${baseLabel}`) : Promise.resolve([] as PlannedResource[]),
            // A version the ref's own render refuses is reported by that side, not as the working tree's usage error.
            renderTree(repo, stack, "working tree", baseVersion && semver.valid(baseVersion) !== null ? ["--previous-version", baseVersion] : []),
        ]);
        notes.push(...secretConfigNotes(baseExists ? fs.readFileSync(baseFile, "utf8") : null, fs.readFileSync(targetFile, "utf8")));
        const diff = diffResources(before, after);
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
    if (opts.diff !== undefined) {
        const res = await runDiff(opts.stack, opts.diff, opts.json);
        process.stdout.write(res.stdout);
        process.stderr.write(res.stderr);
        // exitCode, not exit(): let a long diff drain to a pipe first.
        process.exitCode = res.code;
        return;
    }
    let result: RenderResult;
    try {
        const input = readStackFile(opts.stack);
        result = await renderProgram(opts.previousVersion === undefined ? input : { ...input, previousOutputs: { [VERSION_OUTPUT]: opts.previousVersion } });
    } catch (err) {
        const cause = err instanceof RenderError ? err.cause : err;
        const message = cause instanceof ConfigError || cause instanceof PromotionError ? cause.message : `plan: ${(cause as Error).message}`;
        process.stderr.write(`Stack ${opts.stack}: ${message}\n`);
        process.exit(2);
    }
    if (opts.json) process.stdout.write(JSON.stringify(result.resources, null, 2) + "\n");
    else process.stdout.write(formatText(opts.stack, result));
}

if (require.main === module) void main();

// The plan diff against a git ref (`plan --diff <ref>`, one stack or many): the ref's tree written
// out, each side rendered, and each stack's diff handed on as both sides come in.
//
// The working tree holds this process's program and renders here. The ref is rendered with its own
// program and plan (bin/plan.ts in one child process for all stacks), or here too when its tree holds
// this process's program (only stack files differ, as in most reviews; lib/programTree.ts). The
// working tree is rendered as the next `pulumi up`
// after the ref was deployed: each stack reads back the state the ref's stack file left
// (lib/previousOutputs.ts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commitLabel, resolveCommit, writeTree } from "./git";
import { stackFileName } from "./fleet";
import { diffResources, hasChanges, secretConfigNotes } from "./planDiff";
import { StackDiffResult } from "./planComment";
import { pairSides, PlanDiffError, plansHere, plansInChild } from "./planStream";
import { runsThisProgram } from "./programTree";
import { stateAfter } from "./previousOutputs";
import { readStackFile, REPO_ROOT } from "./stackFiles";

/** The commit a diff ran against, and how its output names it. */
export interface DiffBase {
    commit: string;
    label: string;
}

const hasPlan = (dir: string) => fs.existsSync(path.join(dir, "bin", "plan.ts"));

/** Where a command given `env` makes its temporary files: its TMPDIR, as os.tmpdir() reads this process's. */
export const tempRoot = (env: NodeJS.ProcessEnv): string => env.TMPDIR || os.tmpdir();

/** Where the diff runs: the repository (default: this one), and the environment its temp files and child processes take (default: this process's). */
export interface DiffPlace {
    repo?: string;
    env?: NodeJS.ProcessEnv;
}

/** What the working tree's render says about its gates: which history entry let a prod version through. */
function gateNotes(outputs: Record<string, unknown> | undefined): string[] {
    const granted = outputs?.promotion;
    return typeof granted === "string" ? [`promotion gate: ${granted}`] : [];
}

/**
 * The diff of every stack in `stacks` against `ref`, handed to `each` stack by stack as both sides
 * render, so no side's plans pile up in memory. A stack the ref has no file for is new: every
 * resource is added. A side that cannot render a stack gives that stack code 2; a bad ref, a stack
 * with no file in the working tree or a ref without a plan throws. The temp dir is removed whatever happens.
 * `repo` holds this process's program (plan's main hands any other tree to that tree's own plan), so
 * the working tree renders in this process.
 */
export async function diffAgainstRef(
    stacks: string[],
    ref: string,
    each: (result: StackDiffResult, base: DiffBase) => Promise<void>,
    { repo = REPO_ROOT, env = process.env }: DiffPlace = {},
): Promise<DiffBase> {
    const tmp = fs.mkdtempSync(path.join(tempRoot(env), "protheus-plan-diff-"));
    const onSignal = (signal: NodeJS.Signals) => {
        fs.rmSync(tmp, { recursive: true, force: true });
        process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        const commit = resolveCommit(ref, repo);
        const base = { commit, label: commitLabel(ref, commit) };
        const dir = writeTree(commit, repo, tmp);
        if (!hasPlan(dir)) throw new PlanDiffError(`${base.label} has no bin/plan.ts (older than the offline plan): cannot render it`);
        const missing = stacks.filter((s) => !fs.existsSync(path.join(repo, stackFileName(s))));
        if (missing.length > 0) throw new PlanDiffError(`working tree: no stack file ${missing.map(stackFileName).join(", ")}`);
        const atBase = stacks.filter((s) => fs.existsSync(path.join(dir, stackFileName(s))));
        const previous = Object.fromEntries(atBase.map((s) => [s, stateAfter(s, readStackFile(s, dir).config, repo)]));
        // The ref's tree renders here too when it holds this process's program: no child process, no second SDK load.
        const refHere = runsThisProgram(dir);
        const side = `at ${base.label}`;
        const before = refHere ? plansHere(atBase, dir, side, previous) : plansInChild(dir, atBase, side, previous, env);
        const after = plansHere(stacks, repo, "working tree", previous);
        try {
            // Two sides here share this process's one Pulumi runtime: one after the other.
            for await (const [stack, b, a] of pairSides(stacks, new Set(atBase), before, after, !refHere)) {
                const file = stackFileName(stack);
                const notes = b === undefined ? [`${file} does not exist at ${base.label}: a new stack, every resource is added`] : [];
                if (b instanceof Error || a instanceof Error) {
                    await each({ stack, code: 2, notes, error: (b instanceof Error ? b : (a as Error)).message }, base);
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
                await each({ stack, code: hasChanges(diff) ? 1 : 0, diff, notes }, base);
            }
        } finally {
            await Promise.all([before.return(undefined), after.return(undefined)]);
        }
        return base;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
    }
}

// Stack discovery for the workflows: `npm run --silent stacks -- [--changed-since <git-ref>] [--json] [--github-output <file>] [--batch-size <n>] [--rollout-plan <file>]`.
// The stacks are the repository's Pulumi.<environment>-<stage>.yaml files; no
// workflow names one. With --changed-since, only the stacks a change touches:
// its own stack file, or every stack when the program or the shared config
// changed (what `git diff <ref>...HEAD` names). Deploy order: hml before prod.
//   (default)        one stack per line
//   --json           {"all", "stacks", "hml", "prod"}, hml/prod as lists of {stack, environment, stage}
//   --github-output  appends to the file (GITHUB_OUTPUT): stacks=<a,b>, count=<n>, batch_size=<n>,
//                    preview=<batches of every selected stack> and, per stage and wave,
//                    hml_1..hml_3, prod_1..prod_3=<batches> (lib/rollout.ts; a batch is {batch, stacks})
//   --batch-size     stacks per batch (default 10; raised when the batches would pass GitHub's 256 matrix jobs)
//   --rollout-plan   writes the deploy batches as JSON (what the deploy's report job checks results against)
// Exit 0: listed (possibly none); 2: a stack file misnamed, an invalid wave, a bad ref, usage.
import { answerCommandLine, CommandIo, processIo, refuseCommandLine, runAsProcess, wholeNumber } from "../lib/commandLine";
import { changedSince } from "../lib/git";
import * as fs from "fs";
import { deployOrder, FleetStack, listFleet, parseStackName } from "../lib/fleet";
import { DEFAULT_BATCH_SIZE, planRollout, previewBatches, RolloutPlan, withWaves, writeAtomically } from "../lib/rollout";
import { REPO_ROOT } from "../lib/stackFiles";

/** Paths whose change can change what every stack declares: the program, its assets, its dependencies, the shared config, the policy pack. */
export const PROGRAM_PATHS = [
    "index.ts",
    "Pulumi.yaml",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "components/",
    "config/",
    "lib/",
    "scripts/",
    "policy/",
];

export interface StackSelection {
    /** True when the program or shared config changed: every stack is selected. */
    all: boolean;
    stacks: FleetStack[];
}

/** The stacks a change to `files` touches, among the stacks that exist now. */
export function selectChanged(files: string[], stacks: FleetStack[]): StackSelection {
    const all = files.some((f) => PROGRAM_PATHS.some((p) => (p.endsWith("/") ? f.startsWith(p) : f === p)));
    if (all) return { all, stacks: deployOrder(stacks) };
    const touched = new Set(
        files.map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined && parseStackName(s) !== undefined),
    );
    return { all, stacks: deployOrder(stacks.filter((s) => touched.has(s.name))) };
}

const matrix = (stacks: FleetStack[]) => stacks.map((s) => ({ stack: s.name, environment: s.environment, stage: s.stage }));

export function selectionJson(sel: StackSelection): { all: boolean; stacks: string[]; hml: object[]; prod: object[] } {
    return {
        all: sel.all,
        stacks: sel.stacks.map((s) => s.name),
        hml: matrix(sel.stacks.filter((s) => s.stage === "hml")),
        prod: matrix(sel.stacks.filter((s) => s.stage === "prod")),
    };
}

/** The deploy batches of the selection, by stage and wave (each stack's wave from its config in `dir`). */
export function rolloutPlan(sel: StackSelection, dir: string, batchSize = DEFAULT_BATCH_SIZE): RolloutPlan {
    return planRollout(withWaves(sel.stacks, dir), batchSize);
}

/** The GITHUB_OUTPUT lines of a selection: its names, the preview batches and the deploy batches of each stage and wave. */
export function githubOutput(sel: StackSelection, dir = REPO_ROOT, batchSize = DEFAULT_BATCH_SIZE): string {
    const names = sel.stacks.map((s) => s.name);
    const plan = rolloutPlan(sel, dir, batchSize);
    const preview = previewBatches(sel.stacks, batchSize);
    return (
        [
            `stacks=${names.join(",")}`,
            `count=${names.length}`,
            `batch_size=${plan.batchSize}`,
            `preview=${JSON.stringify(preview.batches)}`,
            ...Object.entries(plan.waves).map(([key, batches]) => `${key}=${JSON.stringify(batches)}`),
        ].join("\n") + "\n"
    );
}

const STACKS_USAGE =
    "usage: npm run --silent stacks -- [--changed-since <git-ref>] [--json] [--github-output <file>] [--batch-size <n>] [--rollout-plan <file>] [--repo <dir>]";

const COMMAND_LINE = {
    name: "stacks",
    usage: STACKS_USAGE,
    options: {
        "changed-since": { type: "string", value: "a git ref" },
        json: { type: "boolean" },
        "github-output": { type: "string", value: "a file" },
        // Another checkout (the tests' temporary repositories).
        repo: { type: "string", value: "a directory" },
        "batch-size": { type: "string", value: "a whole number" },
        "rollout-plan": { type: "string", value: "a file" },
    },
} as const;

/** The command: reads `argv` (the arguments after the script), writes to `io`'s streams, and resolves to the exit code. */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    if (typeof read === "number") return read;
    const { values } = read;
    const since = values["changed-since"];
    const json = values.json ?? false;
    const output = values["github-output"];
    const repo = values.repo ?? REPO_ROOT;
    const planFile = values["rollout-plan"];
    const batchSize = values["batch-size"] === undefined ? DEFAULT_BATCH_SIZE : wholeNumber(values["batch-size"], 1);
    if (batchSize === undefined) {
        return refuseCommandLine(COMMAND_LINE.name, "--batch-size needs a whole number of at least 1", io);
    }
    try {
        const stacks = listFleet(repo);
        const sel = since === undefined ? { all: true, stacks: deployOrder(stacks) } : selectChanged(changedSince(since, repo), stacks);
        if (planFile) writeAtomically(planFile, JSON.stringify(rolloutPlan(sel, repo, batchSize)) + "\n");
        if (output) fs.appendFileSync(output, githubOutput(sel, repo, batchSize));
        if (json) io.stdout.write(JSON.stringify(selectionJson(sel)) + "\n");
        else io.stdout.write(sel.stacks.map((s) => `${s.name}\n`).join(""));
        return 0;
    } catch (err) {
        io.stderr.write(`stacks: ${(err as Error).message.split("\n")[0]}\n`);
        return 2;
    }
}

if (require.main === module) runAsProcess(main);

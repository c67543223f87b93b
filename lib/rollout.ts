// How the workflows deploy (and preview) a fleet of any size (docs/ci.md): the stacks a change
// touches are split by stage and wave (protheus:rollout.wave) and grouped into batches; each batch
// is one matrix job that runs its stacks one after another with the Pulumi CLI (bin/rollout.ts).
// GitHub cannot build a job graph at run time, so the deploy workflow has a fixed job per stage
// and wave (MAX_ROLLOUT_WAVE of each), each a matrix over that wave's batches.
import * as fs from "fs";
import { decodedValues, layerStackValues, parseStackConfig } from "../config/load";
import { MAX_ROLLOUT_WAVE, rolloutSchema, StackConfig } from "../config/schema";
import { deployOrder, FleetStack, FleetStage, STAGES } from "./fleet";
import { readProjectConfig, readStackFile, stackConfigFromYaml, stackFilePath } from "./stackFiles";

/**
 * GitHub Actions: "A job matrix can generate a maximum of 256 jobs per workflow run." Read as the
 * total over all matrices of a run (the stricter reading), so every matrix is within it too.
 */
export const MAX_MATRIX_JOBS = 256;
/** A job's outputs together (GitHub approximates their size in UTF-16: two bytes a character). */
export const MAX_JOB_OUTPUT_BYTES = 1024 * 1024;
/** All outputs of a workflow run together. */
export const MAX_RUN_OUTPUT_BYTES = 50 * 1024 * 1024;
/** Stacks per batch unless DEPLOY_BATCH_SIZE says otherwise. */
export const DEFAULT_BATCH_SIZE = 10;
/** GitHub-hosted runners end a job after 6 hours; the deploy jobs stop a little before. */
export const DEPLOY_JOB_TIMEOUT_MINUTES = 355;
/** Checkout, npm ci (twice), cloud auth and the Pulumi CLI before a batch's first stack starts. */
export const SETUP_MINUTES = 10;
/** What a batch job may spend on its stacks: the job's timeout less its setup. */
export const BATCH_BUDGET_MINUTES = DEPLOY_JOB_TIMEOUT_MINUTES - SETUP_MINUTES;

export const WAVES = Array.from({ length: MAX_ROLLOUT_WAVE }, (_, i) => i + 1);

export interface RolloutStack extends FleetStack {
    wave: number;
}

/** One matrix entry: a batch id and its stacks, space-separated, in deploy order. */
export interface Batch {
    batch: string;
    stacks: string;
}

export interface RolloutPlan {
    /** Stacks per batch actually used (DEPLOY_BATCH_SIZE, raised when the fleet needs more than MAX_MATRIX_JOBS batches). */
    batchSize: number;
    /** The batches of each stage and wave, by output name (`hml_1`, ..., `prod_3`). */
    waves: Record<string, Batch[]>;
}

/** The job output (and deploy job) of a stage's wave. */
export function waveKey(stage: FleetStage, wave: number): string {
    return `${stage}_${wave}`;
}

function chunks<T>(items: T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}

/** `stacks` split into batches of `size`, named `<prefix>-<n>`. */
export function batchesOf(stacks: string[], size: number, prefix: string): Batch[] {
    const width = String(Math.ceil(stacks.length / size)).length;
    return chunks(stacks, size).map((c, i) => ({ batch: `${prefix}-${String(i + 1).padStart(width, "0")}`, stacks: c.join(" ") }));
}

/** The smallest batch size from `requested` up that keeps groups of these sizes within MAX_MATRIX_JOBS batches in all. */
export function fittingBatchSize(groupSizes: number[], requested: number): number {
    if (!(Number.isInteger(requested) && requested >= 1)) throw new Error(`batch size ${requested}: expected a whole number of at least 1`);
    let size = requested;
    while (groupSizes.reduce((n, g) => n + Math.ceil(g / size), 0) > MAX_MATRIX_JOBS) size++;
    return size;
}

/** The stacks by stage and wave, in deploy order, batched. */
export function planRollout(stacks: RolloutStack[], requestedBatchSize = DEFAULT_BATCH_SIZE): RolloutPlan {
    const groups = new Map<string, string[]>();
    for (const stage of STAGES) for (const wave of WAVES) groups.set(waveKey(stage, wave), []);
    for (const s of deployOrder(stacks) as RolloutStack[]) {
        const group = groups.get(waveKey(s.stage, s.wave));
        if (!group) throw new Error(`stack ${s.name}: wave ${s.wave} is not one of 1 to ${MAX_ROLLOUT_WAVE}`);
        group.push(s.name);
    }
    const batchSize = fittingBatchSize(
        [...groups.values()].map((g) => g.length),
        requestedBatchSize,
    );
    return {
        batchSize,
        waves: Object.fromEntries([...groups].map(([key, names]) => [key, batchesOf(names, batchSize, key.replace("_", "-w"))])),
    };
}

/** Batches of previews: no stage order and no waves (a preview changes nothing). */
export function previewBatches(stacks: FleetStack[], requestedBatchSize = DEFAULT_BATCH_SIZE): { batchSize: number; batches: Batch[] } {
    const batchSize = fittingBatchSize([stacks.length], requestedBatchSize);
    return {
        batchSize,
        batches: batchesOf(
            deployOrder(stacks).map((s) => s.name),
            batchSize,
            "preview",
        ),
    };
}

/** The deploy wave of each stack, from its layered config (protheus:rollout.wave); throws naming every stack whose wave is invalid. */
export function withWaves(stacks: FleetStack[], dir: string): RolloutStack[] {
    const problems: string[] = [];
    // Pulumi.yaml read once for the whole fleet.
    const project = readProjectConfig(dir);
    const out = stacks.map((s) => {
        const { config } = stackConfigFromYaml(s.name, fs.readFileSync(stackFilePath(s.name, dir), "utf8"), project);
        const { input } = layerStackValues(decodedValues(config));
        const rollout = rolloutSchema.safeParse(input.rollout ?? {});
        if (!rollout.success) {
            problems.push(`${s.name}: protheus:rollout = ${JSON.stringify(input.rollout)}: ${rollout.error.issues.map((i) => i.message).join("; ")}`);
            return { ...s, wave: 1 };
        }
        return { ...s, wave: rollout.data.wave };
    });
    if (problems.length > 0) throw new Error(`invalid deploy waves: ${problems.join(" | ")}`);
    return out;
}

/** GitHub's size of an output (name=value line): UTF-16, two bytes a character. */
export function outputBytes(lines: string): number {
    return 2 * lines.length;
}

/** The longest one `pulumi up` of this stack can wait, in minutes, whatever it does: pre-upgrade backup + restore + Helm upgrade, each waited for in turn. */
export function longestUpMinutes(cfg: StackConfig): number {
    const waits = cfg.backup ? cfg.backup.preUpgradeTimeoutMinutes + cfg.backup.restoreTimeoutMinutes : 0;
    return waits + Math.ceil(cfg.chart.timeoutSeconds / 60);
}

/**
 * The longest this update can wait: the pre-upgrade backup only when the version changes (either
 * way), the restore only when one is requested, the Helm upgrade always.
 */
export function updateWaitMinutes(cfg: StackConfig, runningVersion: string | undefined): number {
    const backup = cfg.backup;
    const versionChanges = runningVersion !== cfg.updateDesiredVersion;
    const waits = (backup && versionChanges ? backup.preUpgradeTimeoutMinutes : 0) + (backup && cfg.restore ? backup.restoreTimeoutMinutes : 0);
    return waits + Math.ceil(cfg.chart.timeoutSeconds / 60);
}

/** The config of stack `stack` in `dir`, or the problem that makes its update fail anyway. */
export function stackConfigOf(stack: string, dir: string): StackConfig | Error {
    try {
        const input = readStackFile(stack, dir);
        return parseStackConfig(input.config, (k) => input.secretKeys.includes(k));
    } catch (err) {
        return err as Error;
    }
}

export type StackStatus = "succeeded" | "failed" | "not started" | "not run";

/** One stack's outcome in a batch (bin/rollout.ts run). */
export interface StackResult {
    stack: string;
    status: StackStatus;
    /** Why it failed or was not started. */
    reason?: string;
    minutes?: number;
}

/** A batch's results file: what the report job reads back. */
export interface BatchResults {
    batch: string;
    command: string;
    results: StackResult[];
}

/** Writes `file` whole or not at all: a reader never takes a cut file for a batch's complete results. */
export function writeAtomically(file: string, text: string): void {
    const partial = `${file}.partial`;
    fs.writeFileSync(partial, text);
    fs.renameSync(partial, file);
}

/** The run's outcome for every planned stack: its batch's result, or "not run" when no batch reported it (an earlier wave failed, a job was cancelled or timed out). */
export function runOutcome(plan: RolloutPlan, batches: BatchResults[]): StackResult[] {
    const reported = new Map(batches.flatMap((b) => b.results.map((r) => [r.stack, r] as const)));
    return Object.values(plan.waves)
        .flat()
        .flatMap((b) => b.stacks.split(" ").filter((s) => s !== ""))
        .map(
            (stack) =>
                reported.get(stack) ?? {
                    stack,
                    status: "not run",
                    reason: "its batch did not report: an earlier wave failed, or the job was cancelled or ran out of time",
                },
        );
}

/** A markdown table of results, the stacks that did not succeed first. */
export function resultsTable(results: StackResult[]): string {
    const order: StackStatus[] = ["failed", "not started", "not run", "succeeded"];
    const sorted = [...results].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
    const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
    return (
        [
            "| stack | result | minutes | why |",
            "| --- | --- | --- | --- |",
            ...sorted.map((r) => `| \`${r.stack}\` | ${r.status} | ${r.minutes === undefined ? "" : r.minutes.toFixed(1)} | ${cell(r.reason ?? "")} |`),
        ].join("\n") + "\n"
    );
}

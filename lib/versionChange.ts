// Which version change a `pulumi up` makes, derived from what the stack itself
// exported last time (a StackReference to the stack, see index.ts). The backup
// Job taken before the change is named and filled from this, so it must come
// out the same on every `pulumi up` with the same target: otherwise Pulumi would
// replace the finished Job and run the backup again.
import * as semver from "semver";

/** The stack outputs this module reads and writes (index.ts exports them). */
export const VERSION_OUTPUT = "updateDesiredVersion";
export const TRANSITION_OUTPUT = "versionTransition";
/** Whether the release ran with protheus:maintenance values (exclusive mode) after the last update. */
export const MAINTENANCE_OUTPUT = "maintenanceEnabled";

export interface VersionTransition {
    /** The version that ran before this stack last changed it; null: never changed by this program (first deploy). */
    from: string | null;
    /** The version the stack moved to (its updateDesiredVersion). */
    to: string;
}

/** Why a backup runs before a version change: it names the Job and labels the backup. */
export type BackupReason = "pre-upgrade" | "pre-rollback";

function isVersion(v: unknown): v is string {
    return typeof v === "string" && semver.valid(v) !== null;
}

function asTransition(v: unknown): VersionTransition | undefined {
    if (v === null || typeof v !== "object") return undefined;
    const t = v as Record<string, unknown>;
    if (!isVersion(t.to) || !(t.from === null || t.from === undefined || isVersion(t.from))) return undefined;
    return { from: (t.from as string | undefined) ?? null, to: t.to };
}

/**
 * previous: the stack's own outputs from its last update (empty on the first one).
 * - first deploy (no previous version): no transition (from null);
 * - same target as last time: the transition exported last time, unchanged;
 * - another target: from the version that ran to the target.
 */
export function deriveTransition(target: string, previous: Record<string, unknown>): VersionTransition {
    const running = previous[VERSION_OUTPUT];
    if (!isVersion(running)) return { from: null, to: target };
    if (running === target) {
        const last = asTransition(previous[TRANSITION_OUTPUT]);
        return last && last.to === target ? last : { from: null, to: target };
    }
    return { from: running, to: target };
}

/** The backup a version change takes first: why, and from which version to which. */
export interface VersionChangeBackup {
    reason: BackupReason;
    from: string;
    to: string;
}

/**
 * The backup before `t`, or undefined when `t` changes no version (first deploy, same version).
 * Going down is a rollback: the backup first keeps the broken state, and `latest` never picks it.
 */
export function versionChangeBackup(t: VersionTransition): VersionChangeBackup | undefined {
    if (t.from === null || t.from === t.to) return undefined;
    return { reason: semver.lt(t.to, t.from) ? "pre-rollback" : "pre-upgrade", from: t.from, to: t.to };
}

/**
 * A prod restore must find the environment already in exclusive mode: maintenance
 * enabled in the same change would reach the release only after the restore ran.
 * Returns why the restore must wait, or undefined.
 */
export function restoreOrderProblem(stage: string, restoreRequested: boolean, previous: Record<string, unknown>): string | undefined {
    if (stage !== "prod" || !restoreRequested) return undefined;
    if (previous[MAINTENANCE_OUTPUT] === true) return undefined;
    return "protheus:restore is refused until protheus:maintenance.enabled has been applied: the last `pulumi up` ran without maintenance, so the appservers would still be up while the restore runs; run `pulumi up` with maintenance enabled first, then add the restore request";
}

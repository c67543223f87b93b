// Which version change a `pulumi up` makes, derived from what the stack itself
// exported last time (a StackReference to the stack, see index.ts). The backup
// Job taken before the change is named and filled from this, so it must come
// out the same on every `pulumi up` with the same target: otherwise Pulumi would
// replace the finished Job and run the backup again.
import * as semver from "semver";

/** The stack outputs this module reads and writes (index.ts exports them). */
export const VERSION_OUTPUT = "updateDesiredVersion";
export const TRANSITION_OUTPUT = "versionTransition";

export interface VersionTransition {
    /** The version that ran before this stack last changed it; null: never changed by this program (first deploy). */
    from: string | null;
    /** The version the stack moved to (its updateDesiredVersion). */
    to: string;
}

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

/** Going down is a rollback: the backup first keeps the broken state, and `latest` never picks it. */
export function backupReason(t: VersionTransition): BackupReason | undefined {
    if (t.from === null || t.from === t.to) return undefined;
    return semver.lt(t.to, t.from) ? "pre-rollback" : "pre-upgrade";
}

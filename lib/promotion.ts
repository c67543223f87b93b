// hml before prod, exact: prod of environment E may run version V only when E's
// own hml has run V successfully (its release reached `deployed` at V), or when
// prod itself ran V before (a rollback to a version it ran is safe by definition).
// Every stack keeps the versions it ran in its outputs (ranVersions); hml also
// exports its environment code.
import * as semver from "semver";
import { parseStackName } from "./fleet";

export interface PromotionOverride {
    version: string;
    reason: string;
}

/** The stack output that holds the versions a stack ran (its release reached `deployed` at them). */
export const RAN_VERSIONS_OUTPUT = "ranVersions";
/** The stack output that holds the Helm release's status after the last update ("deployed" when it succeeded). */
export const RELEASE_STATUS_OUTPUT = "releaseStatus";

export class PromotionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PromotionError";
    }
}

/** What prod reads from its hml stack's outputs. */
export interface HmlOutputs {
    environment: unknown;
    ranVersions: unknown;
}

export interface PromotionCheck {
    /** The version prod is configured to run. */
    prodVersion: string;
    /** Prod's environment code (from its stack name). */
    environment: string;
    /** The hml stack prod reads, as named in the StackReference. */
    hmlStack: string;
    override?: PromotionOverride;
}

/**
 * The configured hml stack names another environment's hml (by its
 * `<environment>-hml` name): refused before anything is read from it.
 */
export function hmlStackNameProblem(hmlStack: string, environment: string): string | undefined {
    const parsed = parseStackName(hmlStack);
    if (parsed && parsed.stage !== "hml") return `protheus:promotion.hmlStack = "${hmlStack}" is a ${parsed.stage} stack, not an hml stack`;
    if (parsed && parsed.environment !== environment) {
        return `protheus:promotion.hmlStack = "${hmlStack}" is the hml stack of environment ${parsed.environment}, not of this stack's environment ${environment}`;
    }
    return undefined;
}

function versionList(value: unknown): string[] | undefined {
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && semver.valid(v) !== null)) return undefined;
    return value as string[];
}

/** The gate's answer: the history entry (or override) that let the version through, or why it is refused. */
export type PromotionVerdict = { grantedBy: string; problem?: undefined } | { problem: string; grantedBy?: undefined };

/**
 * Whether prod may run `check.prodVersion`: a version in its own history (`ownRan`,
 * the versions this stack ran) or in hml's passes, saying which entry let it through.
 * An override names the exact version it allows, so it cannot outlive the
 * emergency it was written for; it never lets another environment's hml through.
 */
export function promotionVerdict(check: PromotionCheck, hml: HmlOutputs, ownRan?: unknown): PromotionVerdict {
    const { prodVersion, environment, hmlStack, override } = check;
    const refused = (problem: string): PromotionVerdict => ({ problem });
    const named = hmlStackNameProblem(hmlStack, environment);
    if (named) return refused(named);
    if (hml.environment !== environment) {
        return refused(
            typeof hml.environment === "string"
                ? `stack ${hmlStack} is the hml stack of environment ${hml.environment}, not of this stack's environment ${environment}`
                : `stack ${hmlStack} exports no environment code (got ${JSON.stringify(hml.environment)}); run \`pulumi up\` on it first`,
        );
    }
    if (versionList(ownRan)?.includes(prodVersion)) return { grantedBy: `${prodVersion} is in this stack's own history (it ran ${prodVersion} before)` };
    const ran = versionList(hml.ranVersions);
    if (ran?.includes(prodVersion)) return { grantedBy: `${prodVersion} is in the history of ${hmlStack} (hml ran ${prodVersion})` };
    if (override && override.version === prodVersion) return { grantedBy: `protheus:promotion.override for ${prodVersion}: ${override.reason}` };
    const way = override
        ? ` (protheus:promotion.override is for ${override.version}, not ${prodVersion})`
        : "; roll it out on hml first, or set protheus:promotion.override with this version and a written reason";
    if (!ran)
        return refused(
            `cannot tell which versions hml ran: stack ${hmlStack} exports no valid ranVersions list (got ${JSON.stringify(hml.ranVersions)}); run \`pulumi up\` on hml first${way}`,
        );
    return refused(
        `protheus:updateDesiredVersion = "${prodVersion}" has not run successfully on hml: stack ${hmlStack} ran ${ran.length ? ran.join(", ") : "no version yet"}${way}`,
    );
}

/** Why prod must not run `check.prodVersion`, or undefined when it may (see promotionVerdict). */
export function promotionProblem(check: PromotionCheck, hml: HmlOutputs, ownRan?: unknown): string | undefined {
    return promotionVerdict(check, hml, ownRan).problem;
}

/**
 * The versions a stack ran before this update: its exported history, and, for a
 * stack that exported none yet, the version its last update left deployed.
 */
export function ranVersionsBefore(previous: { ranVersions?: unknown; version?: unknown; releaseStatus?: unknown }): string[] {
    const listed = versionList(previous.ranVersions);
    if (listed) return listed;
    return previous.releaseStatus === "deployed" && typeof previous.version === "string" && semver.valid(previous.version) !== null ? [previous.version] : [];
}

/**
 * A stack's history after this run: the versions ran before, plus `version`
 * once the release reached `deployed` at it. Sorted by semver, no repeats.
 */
export function ranVersionsAfter(previous: unknown, version: string, release: { status?: string; version?: string } | undefined): string[] {
    const ran = new Set(versionList(previous) ?? []);
    if (release?.status === "deployed" && (release.version === undefined || release.version === version)) ran.add(version);
    return [...ran].sort(semver.compare);
}

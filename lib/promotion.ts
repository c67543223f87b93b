// hml before prod, exact: prod of environment E may run version V only when E's
// own hml has run V successfully (its release reached `deployed` at V). The hml
// stack keeps that list in its outputs (ranVersions) and exports its environment code.
import * as semver from "semver";
import { parseStackName } from "./fleet";

export interface PromotionOverride {
    version: string;
    reason: string;
}

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

/**
 * Returns why prod must not run `check.prodVersion`, or undefined when it may.
 * A rollback to a version hml ran before passes like any other version hml ran.
 * An override names the exact version it allows, so it cannot outlive the
 * emergency it was written for; it never lets another environment's hml through.
 */
export function promotionProblem(check: PromotionCheck, hml: HmlOutputs): string | undefined {
    const { prodVersion, environment, hmlStack, override } = check;
    const named = hmlStackNameProblem(hmlStack, environment);
    if (named) return named;
    if (hml.environment !== environment) {
        return typeof hml.environment === "string"
            ? `stack ${hmlStack} is the hml stack of environment ${hml.environment}, not of this stack's environment ${environment}`
            : `stack ${hmlStack} exports no environment code (got ${JSON.stringify(hml.environment)}); run \`pulumi up\` on it first`;
    }
    if (override && override.version === prodVersion) return undefined;
    const ran = versionList(hml.ranVersions);
    const way = override
        ? ` (protheus:promotion.override is for ${override.version}, not ${prodVersion})`
        : "; roll it out on hml first, or set protheus:promotion.override with this version and a written reason";
    if (!ran)
        return `cannot tell which versions hml ran: stack ${hmlStack} exports no valid ranVersions list (got ${JSON.stringify(hml.ranVersions)}); run \`pulumi up\` on hml first${way}`;
    if (ran.includes(prodVersion)) return undefined;
    return `protheus:updateDesiredVersion = "${prodVersion}" has not run successfully on hml: stack ${hmlStack} ran ${ran.length ? ran.join(", ") : "no version yet"}${way}`;
}

/**
 * The hml history after this run: the versions ran before, plus `version`
 * once the release reached `deployed` at it. Sorted by semver, no repeats.
 */
export function ranVersionsAfter(previous: unknown, version: string, release: { status?: string; version?: string } | undefined): string[] {
    const ran = new Set(versionList(previous) ?? []);
    if (release?.status === "deployed" && (release.version === undefined || release.version === version)) ran.add(version);
    return [...ran].sort(semver.compare);
}

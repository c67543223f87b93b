// hml before prod: prod may run a version only once hml runs it (or a later one).
import * as semver from "semver";

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

/**
 * Returns why prod must not run `prodVersion`, or undefined when it may.
 * Prod may trail hml (hml tries the next release while prod keeps running),
 * never lead it. An override names the exact version it allows, so it cannot
 * outlive the emergency it was written for.
 */
export function promotionProblem(prodVersion: string, hmlVersion: unknown, hmlStack: string, override?: PromotionOverride): string | undefined {
    if (override && override.version === prodVersion) return undefined;
    if (typeof hmlVersion !== "string" || semver.valid(hmlVersion) === null) {
        return `cannot tell which version hml runs: stack ${hmlStack} exports no valid updateDesiredVersion (got ${JSON.stringify(hmlVersion)}); run \`pulumi up\` on hml first`;
    }
    if (semver.lte(prodVersion, hmlVersion)) return undefined;
    const hint = override
        ? ` (protheus:promotion.override is for ${override.version}, not ${prodVersion})`
        : "; roll it out on hml first, or set protheus:promotion.override with this version and a written reason";
    return `protheus:updateDesiredVersion = "${prodVersion}" has not run on hml: stack ${hmlStack} runs ${hmlVersion}${hint}`;
}

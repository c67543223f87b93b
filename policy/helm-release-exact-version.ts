// Policy helm-release-exact-version: the Helm release pins an exact chart version.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import * as semver from "semver";
import { dig, ENFORCEMENT, onTypes, safeString, T } from "./common";

export function exactVersionProblem(version: unknown): string | undefined {
    if (version === undefined || version === null || version === "") {
        return "is not set (Helm would install the newest chart)";
    }
    if (typeof version !== "string") {
        return `is not a string (${JSON.stringify(version)})`;
    }
    if (semver.valid(version.trim()) === null || version !== version.trim()) {
        return `"${version}" is not an exact semantic version (ranges, wildcards and partial versions are not allowed)`;
    }
    return undefined;
}

export const helmReleaseExactVersion: ResourceValidationPolicy = {
    name: "helm-release-exact-version",
    description: "Every Helm release pins its chart to an exact semantic version (e.g. 12.1.2410, not ^12.1.0 or empty).",
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes([T.helmRelease], (args, report, what) => {
        const problem = exactVersionProblem(dig(args.props, ["version"]));
        if (problem) {
            const chart = safeString(() => dig(args.props, ["chart"]));
            report(`${what}${chart ? ` (chart ${chart})` : ""}: version ${problem}.`);
        }
    }),
};

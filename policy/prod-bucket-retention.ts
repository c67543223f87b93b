// Policy prod-bucket-retention: production buckets have a retention policy.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { dig, ENFORCEMENT, isObject, isProdStackName, onTypes, stackOfUrn, T } from "./common";

/** The bucket label holding the stage (a copy of components/names.ts BUCKET_LABELS.stage: the pack ships on its own). */
export const BUCKET_STAGE_LABEL = "stage";

export function retentionSeconds(v: unknown): number | undefined {
    if (typeof v === "number" && Number.isFinite(v)) {
        return v;
    }
    if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) {
        return Number(v);
    }
    return undefined;
}

export const prodBucketRetention: ResourceValidationPolicy = {
    name: "prod-bucket-retention",
    description:
        "Every production bucket (label stage=prod, or any bucket of the stack named prod) has a retentionPolicy " +
        "with a positive retentionPeriod, so backups cannot be deleted or overwritten early.",
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes([T.bucket], (args, report, what) => {
        const stageLabel = dig(args.props, ["labels", BUCKET_STAGE_LABEL]);
        const stack = stackOfUrn(args.urn);
        if (stageLabel !== "prod" && !isProdStackName(stack)) {
            return;
        }
        const why = stageLabel === "prod" ? `labels.${BUCKET_STAGE_LABEL} is prod` : `stack is ${stack}`;
        const policy = dig(args.props, ["retentionPolicy"]);
        if (!isObject(policy)) {
            report(`${what}: production bucket (${why}) has no retentionPolicy; set retentionPolicy.retentionPeriod (seconds).`);
            return;
        }
        const raw = policy["retentionPeriod"];
        const seconds = retentionSeconds(raw);
        if (seconds === undefined || seconds <= 0) {
            report(
                `${what}: production bucket (${why}) has retentionPolicy.retentionPeriod ` +
                    `${raw === undefined ? "unset" : JSON.stringify(raw)}; it must be a positive number of seconds.`,
            );
        }
    }),
};

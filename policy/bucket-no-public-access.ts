// Policy bucket-no-public-access: buckets are never public and use uniform bucket-level access.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { dig, ENFORCEMENT, onTypes, T } from "./common";

export const bucketNoPublicAccess: ResourceValidationPolicy = {
    name: "bucket-no-public-access",
    description: 'Every Cloud Storage bucket sets publicAccessPrevention "enforced" and uniformBucketLevelAccess true.',
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes([T.bucket], (args, report, what) => {
        const pap = dig(args.props, ["publicAccessPrevention"]);
        if (pap !== "enforced") {
            report(`${what}: publicAccessPrevention is ${pap === undefined ? "not set" : JSON.stringify(pap)}; it must be "enforced".`);
        }
        const ubla = dig(args.props, ["uniformBucketLevelAccess"]);
        if (ubla !== true) {
            report(`${what}: uniformBucketLevelAccess is ${ubla === undefined ? "not set" : JSON.stringify(ubla)}; it must be true.`);
        }
    }),
};

// Policy rbac-no-wildcards: no Role or ClusterRole rule uses a wildcard.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, dig, ENFORCEMENT, onTypes, T } from "./common";

export const RBAC_FIELDS = ["apiGroups", "resources", "verbs", "resourceNames"] as const;

export const rbacNoWildcards: ResourceValidationPolicy = {
    name: "rbac-no-wildcards",
    description: 'No Role or ClusterRole rule uses "*" in apiGroups, resources, verbs or resourceNames.',
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes([T.role, T.clusterRole], (args, report, what) => {
        asArray(dig(args.props, ["rules"])).forEach((rule, i) => {
            for (const field of RBAC_FIELDS) {
                const wild = asArray(dig(rule, [field])).filter((v) => typeof v === "string" && v.includes("*"));
                if (wild.length > 0) {
                    report(`${what}: rules[${i}].${field} contains wildcard ${wild.map((w) => JSON.stringify(w)).join(", ")}; list the exact ${field}.`);
                }
            }
        });
    }),
};

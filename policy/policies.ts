// The policies of the "protheus" pack, one per file. Importing this module does not start the
// policy-pack gRPC server (index.ts does, by constructing the PolicyPack), so tests can load it.
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { bucketNoPublicAccess } from "./bucket-no-public-access";
import { containerImagePinned } from "./container-image-pinned";
import { cronJobTimeZone } from "./cronjob-time-zone";
import { helmReleaseExactVersion } from "./helm-release-exact-version";
import { podSecurityRestricted } from "./pod-security-restricted";
import { prodBucketRetention } from "./prod-bucket-retention";
import { prodOffsiteBackup } from "./prod-offsite-backup";
import { rbacNoWildcards } from "./rbac-no-wildcards";

export { ENFORCEMENT } from "./common";

export const resourcePolicies: ResourceValidationPolicy[] = [
    cronJobTimeZone,
    helmReleaseExactVersion,
    containerImagePinned,
    bucketNoPublicAccess,
    prodBucketRetention,
    rbacNoWildcards,
    podSecurityRestricted,
];

export const stackPolicies: StackValidationPolicy[] = [prodOffsiteBackup];

export const policies: Policies = [...resourcePolicies, ...stackPolicies];

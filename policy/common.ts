// Helpers shared by the policies of the "protheus" pack: type tokens, reading props safely and
// naming a resource in a message. Data and pure functions only (see index.ts for why).
//
// Resource types are matched by their Pulumi type token (e.g. "kubernetes:batch/v1:CronJob")
// rather than with `validateResourceOfType`, so the pack does not need the heavy
// @pulumi/kubernetes and @pulumi/gcp SDKs as dependencies.
//
// The props a resource policy sees are the resource's *inputs*; a stack policy sees the
// resources' *outputs* (for Kubernetes objects and buckets these carry the same fields).
// During `pulumi preview`, the engine wraps props in a proxy that throws `UnknownValueError`
// when an unknown (not yet computed) value is read; the engine turns that into an advisory
// "can't run policy during preview" message, so policies do not handle unknowns themselves.
// Missing fields are `undefined` and each policy handles them explicitly.

import type { EnforcementLevel, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

export const ENFORCEMENT: EnforcementLevel = "mandatory";

export const T = {
    cronJob: "kubernetes:batch/v1:CronJob",
    job: "kubernetes:batch/v1:Job",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    pod: "kubernetes:core/v1:Pod",
    namespace: "kubernetes:core/v1:Namespace",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    bucket: "gcp:storage/bucket:Bucket",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
} as const;

/** Where the pod spec lives in each workload kind (path from the resource's props). */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    [T.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
    [T.job]: ["spec", "template", "spec"],
    [T.deployment]: ["spec", "template", "spec"],
    [T.statefulSet]: ["spec", "template", "spec"],
    [T.daemonSet]: ["spec", "template", "spec"],
    [T.replicaSet]: ["spec", "template", "spec"],
    [T.pod]: ["spec"],
};

export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads a nested property; undefined as soon as a step is missing or not an object. */
export function dig(obj: unknown, path: readonly string[]): unknown {
    let cur: unknown = obj;
    for (const key of path) {
        if (!isObject(cur)) {
            return undefined;
        }
        cur = cur[key];
    }
    return cur;
}

export function asArray(v: unknown): unknown[] {
    return Array.isArray(v) ? Array.from(v) : [];
}

/**
 * The stack name encoded in a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`).
 * `@pulumi/policy` does not pass the stack name to policies, but every URN carries it.
 */
export function stackOfUrn(urn: string | undefined): string | undefined {
    if (typeof urn !== "string" || !urn.startsWith("urn:pulumi:")) {
        return undefined;
    }
    const rest = urn.slice("urn:pulumi:".length);
    const end = rest.indexOf("::");
    return end < 0 ? undefined : rest.slice(0, end);
}

export function isProdStackName(stack: string | undefined): boolean {
    return stack === "prod" || (stack !== undefined && stack.endsWith("/prod"));
}

/** A non-empty string read from props, or undefined (also when unknown during preview: names in messages are optional). */
export function safeString(read: () => unknown): string | undefined {
    try {
        const v = read();
        return typeof v === "string" && v !== "" ? v : undefined;
    } catch {
        return undefined;
    }
}

/** Human-readable name of a resource for messages: `CronJob "backup-copy" (ns/protheus-backup-copy)`. */
export function describeResource(type: string, name: string, props: unknown): string {
    const kind = type.slice(type.lastIndexOf(":") + 1);
    const metaName = safeString(() => dig(props, ["metadata", "name"]));
    const metaNs = safeString(() => dig(props, ["metadata", "namespace"]));
    const k8sName = metaName ? (metaNs ? `${metaNs}/${metaName}` : metaName) : undefined;
    return k8sName && k8sName !== name ? `${kind} "${name}" (${k8sName})` : `${kind} "${name}"`;
}

/** A resource validation that only looks at resources of `types`, with the resource described for messages. */
export function onTypes(types: readonly string[], check: (args: ResourceValidationArgs, report: ReportViolation, what: string) => void): ResourceValidation {
    return (args, report) => {
        if (!types.includes(args.type)) {
            return;
        }
        check(args, report, describeResource(args.type, args.name, args.props));
    };
}

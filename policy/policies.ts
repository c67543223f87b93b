// Policies of the "protheus" policy pack.
//
// This module only defines data and pure functions: importing it does not start the
// policy-pack gRPC server (that happens in index.ts, which constructs the PolicyPack).
// Tests and the offline plan import it directly.
//
// Resource types are matched by their Pulumi type token (e.g. "kubernetes:batch/v1:CronJob")
// rather than with `validateResourceOfType`, so the pack does not need the heavy
// @pulumi/kubernetes and @pulumi/gcp SDKs as dependencies.
//
// The props a resource policy sees are the resource's *inputs*; a stack policy sees the
// resources' *outputs* (for Kubernetes objects and buckets these carry the same fields).
// During `pulumi preview`, the engine wraps props in a proxy that throws `UnknownValueError`
// when an unknown (not yet computed) value is read; the engine turns that into an advisory
// "can't run policy during preview" message. Missing fields are `undefined` and are handled
// explicitly below.

import type {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as semver from "semver";

export const ENFORCEMENT: EnforcementLevel = "mandatory";

// ---------------------------------------------------------------------------------------------
// Type tokens

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

export const STAGE_LABEL = "protheus.totvs.com/stage";
export const BACKUP_COPY_CRONJOB = "protheus-backup-copy";
export const OFFSITE_TARGETS: readonly string[] = ["gcs", "rubrik"];

// ---------------------------------------------------------------------------------------------
// Small helpers

function isObject(v: unknown): v is Record<string, any> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads a nested property; undefined as soon as a step is missing or not an object. */
function dig(obj: unknown, path: readonly string[]): unknown {
    let cur: unknown = obj;
    for (const key of path) {
        if (!isObject(cur)) {
            return undefined;
        }
        cur = cur[key];
    }
    return cur;
}

function asArray(v: unknown): unknown[] {
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

function safeString(read: () => unknown): string | undefined {
    try {
        const v = read();
        return typeof v === "string" && v !== "" ? v : undefined;
    } catch {
        return undefined; // unknown during preview
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

function onTypes(types: readonly string[], check: (args: ResourceValidationArgs, report: ReportViolation, what: string) => void): ResourceValidation {
    return (args, report) => {
        if (!types.includes(args.type)) {
            return;
        }
        check(args, report, describeResource(args.type, args.name, args.props));
    };
}

// ---------------------------------------------------------------------------------------------
// 1. CronJobs set spec.timeZone

export function timeZoneProblem(tz: unknown): string | undefined {
    if (tz === undefined || tz === null || tz === "") {
        return "is not set";
    }
    if (typeof tz !== "string") {
        return `is not a string (${JSON.stringify(tz)})`;
    }
    if (tz.trim() === "") {
        return "is blank";
    }
    if (tz !== tz.trim()) {
        return `"${tz}" has surrounding whitespace`;
    }
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
    } catch {
        return `"${tz}" is not a known IANA time zone`;
    }
    return undefined;
}

export const cronJobTimeZone: ResourceValidationPolicy = {
    name: "cronjob-time-zone",
    description:
        "Every Kubernetes CronJob sets spec.timeZone to an IANA time zone (e.g. America/Sao_Paulo), " +
        "so schedules such as the 21:00 database backup do not silently follow the node's clock (UTC).",
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes([T.cronJob], (args, report, what) => {
        const spec = dig(args.props, ["spec"]);
        const problem = timeZoneProblem(dig(spec, ["timeZone"]));
        if (problem) {
            report(`${what}: spec.timeZone ${problem}; set it, e.g. spec.timeZone: "America/Sao_Paulo".`);
        }
        const schedule = dig(spec, ["schedule"]);
        if (typeof schedule === "string" && /\b(CRON_)?TZ=/.test(schedule)) {
            report(`${what}: spec.schedule "${schedule}" embeds TZ=/CRON_TZ=; Kubernetes rejects it, use spec.timeZone.`);
        }
    }),
};

// ---------------------------------------------------------------------------------------------
// 2. The Helm release pins an exact chart version

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

// ---------------------------------------------------------------------------------------------
// 3. Container images carry a tag that is not "latest" (or a digest)

/**
 * Why an image reference is not pinned, or undefined when it is.
 * `registry:5000/nginx` has no tag: the colon belongs to the registry host, only a colon in
 * the last path component introduces a tag. A digest (`@sha256:<64 hex>`) is always fine.
 */
export function imageReferenceProblem(image: unknown): string | undefined {
    if (image === undefined || image === null || image === "") {
        return "has no image";
    }
    if (typeof image !== "string") {
        return `has a non-string image (${JSON.stringify(image)})`;
    }
    if (image.trim() !== image || /\s/.test(image)) {
        return `image "${image}" contains whitespace`;
    }
    const at = image.indexOf("@");
    if (at >= 0) {
        const digest = image.slice(at + 1);
        return /^sha256:[0-9a-f]{64}$/.test(digest) ? undefined : `image "${image}" has a malformed digest "${digest}"`;
    }
    const lastComponent = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastComponent.indexOf(":");
    if (colon < 0) {
        return `image "${image}" has no tag (it would pull :latest)`;
    }
    const tag = lastComponent.slice(colon + 1);
    if (tag === "") {
        return `image "${image}" has an empty tag`;
    }
    if (tag.toLowerCase() === "latest") {
        return `image "${image}" uses the mutable tag "latest"`;
    }
    return undefined;
}

export const containerImagePinned: ResourceValidationPolicy = {
    name: "container-image-pinned",
    description:
        "Every container and init container of a CronJob, Job, Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod " +
        "uses an image with an explicit tag other than \"latest\", or a sha256 digest.",
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes(Object.keys(POD_SPEC_PATHS), (args, report, what) => {
        const specPath = POD_SPEC_PATHS[args.type]!;
        const podSpec = dig(args.props, specPath);
        for (const field of ["initContainers", "containers"] as const) {
            asArray(dig(podSpec, [field])).forEach((container, i) => {
                const cname = isObject(container) && typeof container["name"] === "string" ? ` "${container["name"]}"` : "";
                const problem = imageReferenceProblem(isObject(container) ? container["image"] : undefined);
                if (problem) {
                    report(`${what}: ${specPath.join(".")}.${field}[${i}]${cname} ${problem}; pin a version tag or a digest.`);
                }
            });
        }
    }),
};

// ---------------------------------------------------------------------------------------------
// 4. Buckets are never public and use uniform bucket-level access

export const bucketNoPublicAccess: ResourceValidationPolicy = {
    name: "bucket-no-public-access",
    description: "Every Cloud Storage bucket sets publicAccessPrevention \"enforced\" and uniformBucketLevelAccess true.",
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

// ---------------------------------------------------------------------------------------------
// 5. Prod buckets have a retention policy

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
        const stageLabel = dig(args.props, ["labels", "stage"]);
        const stack = stackOfUrn(args.urn);
        if (stageLabel !== "prod" && !isProdStackName(stack)) {
            return;
        }
        const why = stageLabel === "prod" ? "labels.stage is prod" : `stack is ${stack}`;
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

// ---------------------------------------------------------------------------------------------
// 6. Prod copies its backups offsite (stack policy)

export function parseBackupTargets(value: string): string[] {
    return value
        .split(",")
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== "");
}

function podSpecOf(r: { type: string; props: unknown }): unknown {
    const path = POD_SPEC_PATHS[r.type];
    return path ? dig(r.props, path) : undefined;
}

function envEntries(podSpec: unknown, envName: string): unknown[] {
    const found: unknown[] = [];
    for (const field of ["initContainers", "containers"]) {
        for (const c of asArray(dig(podSpec, [field]))) {
            for (const e of asArray(dig(c, ["env"]))) {
                if (isObject(e) && e["name"] === envName) {
                    found.push(e);
                }
            }
        }
    }
    return found;
}

export const prodOffsiteBackup: StackValidationPolicy = {
    name: "prod-offsite-backup",
    description:
        `A production stack (stack named prod, or a Namespace labelled ${STAGE_LABEL}=prod) has the CronJob ` +
        `"${BACKUP_COPY_CRONJOB}" in every production namespace, and its BACKUP_TARGETS env lists at least one ` +
        `offsite target (${OFFSITE_TARGETS.join(" or ")}).`,
    enforcementLevel: ENFORCEMENT,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const resources = args.resources;
        const prodNamespaces = resources.filter(
            (r) => r.type === T.namespace && dig(r.props, ["metadata", "labels", STAGE_LABEL]) === "prod",
        );
        const prodStack = resources.map((r) => stackOfUrn(r.urn)).find((s) => isProdStackName(s));
        if (prodNamespaces.length === 0 && prodStack === undefined) {
            return; // not production
        }
        const why = prodStack !== undefined ? `stack ${prodStack}` : `Namespace labelled ${STAGE_LABEL}=prod`;
        const copies = resources.filter((r) => r.type === T.cronJob && dig(r.props, ["metadata", "name"]) === BACKUP_COPY_CRONJOB);
        if (copies.length === 0) {
            report(
                `production stack (${why}) has no CronJob with metadata.name "${BACKUP_COPY_CRONJOB}": ` +
                    `backups would never leave the cluster volume.`,
            );
        }
        for (const copy of copies) {
            const what = describeResource(copy.type, copy.name, copy.props);
            const entries = envEntries(podSpecOf(copy), "BACKUP_TARGETS");
            if (entries.length === 0) {
                report(`${what}: no container sets env BACKUP_TARGETS; it must list ${OFFSITE_TARGETS.join(" and/or ")}.`, copy.urn);
                continue;
            }
            for (const e of entries) {
                const value = isObject(e) ? e["value"] : undefined;
                if (typeof value !== "string") {
                    report(
                        `${what}: env BACKUP_TARGETS has no literal value (valueFrom cannot be checked); ` +
                            `set value to a comma-separated list with ${OFFSITE_TARGETS.join(" and/or ")}.`,
                        copy.urn,
                    );
                    continue;
                }
                const targets = parseBackupTargets(value);
                if (!targets.some((t) => OFFSITE_TARGETS.includes(t))) {
                    report(
                        `${what}: env BACKUP_TARGETS="${value}" lists no offsite target; it must include ` +
                            `${OFFSITE_TARGETS.join(" or ")}.`,
                        copy.urn,
                    );
                }
            }
        }
        for (const ns of prodNamespaces) {
            const nsName = dig(ns.props, ["metadata", "name"]);
            if (typeof nsName !== "string" || nsName === "") {
                continue; // auto-named; the stack-wide check above still applies
            }
            if (!copies.some((c) => dig(c.props, ["metadata", "namespace"]) === nsName)) {
                report(
                    `Namespace "${nsName}" is labelled ${STAGE_LABEL}=prod but has no CronJob "${BACKUP_COPY_CRONJOB}" ` +
                        `(metadata.namespace "${nsName}").`,
                    ns.urn,
                );
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------
// 7. No RBAC wildcards

export const RBAC_FIELDS = ["apiGroups", "resources", "verbs", "resourceNames"] as const;

export const rbacNoWildcards: ResourceValidationPolicy = {
    name: "rbac-no-wildcards",
    description: "No Role or ClusterRole rule uses \"*\" in apiGroups, resources, verbs or resourceNames.",
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

// ---------------------------------------------------------------------------------------------
// The pack

export const resourcePolicies: ResourceValidationPolicy[] = [
    cronJobTimeZone,
    helmReleaseExactVersion,
    containerImagePinned,
    bucketNoPublicAccess,
    prodBucketRetention,
    rbacNoWildcards,
];

export const stackPolicies: StackValidationPolicy[] = [prodOffsiteBackup];

export const policies: Policies = [...resourcePolicies, ...stackPolicies];

// ---------------------------------------------------------------------------------------------
// Offline runner: checks a rendered plan without the Pulumi engine.

export interface PlannedResource {
    type: string;
    name: string;
    inputs: any;
}

export interface CheckFinding {
    policy: string;
    /** Logical (Pulumi) name of the resource; absent for stack-wide findings. */
    resource?: string;
    message: string;
    /**
     * "mandatory" for a violation. "advisory" when the policy could not run because a value is
     * unknown (a Pulumi unknown sentinel), as `pulumi preview` reports it.
     */
    level: "mandatory" | "advisory";
}

export interface ProxyModule {
    unknownCheckingProxy<V>(v: V): V;
    UnknownValueError: new (...a: any[]) => Error;
    unknownStringValue: string;
}

export function proxyModule(): ProxyModule {
    // proxy.d.ts hides these (@internal), but they are exported at runtime; the engine uses
    // them to wrap props. proxy.js has no dependencies, so loading it has no side effects.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@pulumi/policy/proxy") as ProxyModule;
}

const noOpts: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

/** Thrown by `args.notApplicable()` outside the engine. */
export class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason ?? "not applicable");
}

function typeMatcher(type: string) {
    return (cls: unknown) => (cls as { __pulumiType?: string } | undefined)?.__pulumiType === type;
}

export function makeUrn(stack: string, project: string, type: string, name: string): string {
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

/** A resource as a policy sees it: props already wrapped in the engine's unknown-checking proxy. */
export interface PreparedResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, any>;
}

/** The arguments the engine passes to validateResource (every required member filled in). */
export function resourceValidationArgs(r: PreparedResource): ResourceValidationArgs {
    return {
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: noOpts,
        stackTags: new Map<string, string>(),
        isType: (cls) => typeMatcher(r.type)(cls),
        asType: ((cls: unknown) => (typeMatcher(r.type)(cls) ? r.props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <C extends object>() => ({}) as C,
        notApplicable,
    };
}

/** The arguments the engine passes to validateStack. */
export function stackValidationArgs(resources: PreparedResource[]): StackValidationArgs {
    const policyResources: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: noOpts,
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => typeMatcher(r.type)(cls),
        asType: ((cls: unknown) => (typeMatcher(r.type)(cls) ? r.props : undefined)) as PolicyResource["asType"],
    }));
    return { resources: policyResources, stackTags: new Map<string, string>(), getConfig: <C extends object>() => ({}) as C, notApplicable };
}

/** A resource policy's validation functions, as a list. */
export function validationsOf(p: ResourceValidationPolicy) {
    return p.validateResource === undefined ? [] : Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
}

function assertSync(result: unknown, policy: string): void {
    if (result && typeof (result as PromiseLike<unknown>).then === "function") {
        throw new Error(`policy ${policy} returned a promise; checkResources only runs synchronous policies`);
    }
}

/**
 * Runs every resource policy and stack policy over a list of planned resources (type, logical
 * name, inputs), as if `pulumi preview --policy-pack policy` ran on stack `stackName`.
 * Returns one finding per violation (empty = compliant). Synchronous.
 */
export function checkResources(resources: PlannedResource[], stackName: string, project = "protheus-infra"): CheckFinding[] {
    const { unknownCheckingProxy, UnknownValueError } = proxyModule();
    const findings: CheckFinding[] = [];
    const prepared: PreparedResource[] = resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: makeUrn(stackName, project, r.type, r.name),
        props: unknownCheckingProxy((r.inputs ?? {}) as Record<string, any>),
    }));
    const nameOfUrn = new Map(prepared.map((r) => [r.urn, r.name] as const));

    const guard = (policy: string, resource: string | undefined, run: () => void) => {
        try {
            run();
        } catch (e) {
            if (e instanceof NotApplicable) {
                return;
            }
            if (e instanceof UnknownValueError) {
                findings.push({ policy, resource, level: "advisory", message: `can't run policy: ${e.message}` });
                return;
            }
            throw new Error(`policy ${policy} failed on ${resource ?? "the stack"}: ${(e as Error).message}`, { cause: e });
        }
    };

    for (const p of resourcePolicies) {
        for (const r of prepared) {
            const args = resourceValidationArgs(r);
            const report: ReportViolation = (message) => findings.push({ policy: p.name, resource: r.name, level: "mandatory", message });
            for (const v of validationsOf(p)) {
                guard(p.name, r.name, () => assertSync(v(args, report), p.name));
            }
        }
    }

    const stackArgs = stackValidationArgs(prepared);
    for (const p of stackPolicies) {
        const report: ReportViolation = (message, urn) =>
            findings.push({ policy: p.name, resource: urn === undefined ? undefined : (nameOfUrn.get(urn) ?? urn), level: "mandatory", message });
        guard(p.name, undefined, () => assertSync(p.validateStack(stackArgs, report), p.name));
    }
    return findings;
}

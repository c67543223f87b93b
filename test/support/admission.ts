// A ValidatingAdmissionPolicy evaluated as the API server does, with a real CEL
// evaluator (@bufbuild/cel): matchConditions first (all true, or the policy
// does not apply), then per param object (or once without params) the
// variables in order and every validation; the request is refused when any
// validation of any evaluation is false. And the objects the API server
// evaluates, built as it builds them (defaults applied; a Job made by
// `kubectl create job --from=cronjob/<name>` as kubectl makes it).
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** JSON as the API server hands it to CEL: objects as maps, integers as int. */
function toCel(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(toCel);
    if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
    if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
    return v;
}

export interface PolicySpec {
    matchConditions?: { name: string; expression: string }[];
    variables?: { name: string; expression: string }[];
    validations: { expression: string; messageExpression?: string; message?: string }[];
}

export interface AdmissionRequest {
    username: string;
    /** Plural resource: pods, jobs, cronjobs, ... */
    resource: string;
    operation: "CREATE" | "UPDATE";
    object: unknown;
    oldObject?: unknown;
}

const ENV = celEnv();
const programs = new Map<string, ReturnType<typeof plan>>();
/** Evaluates a CEL expression (parsed and planned once per expression). */
function evaluate(expression: string, bindings: Record<string, unknown>): unknown {
    let program = programs.get(expression);
    if (!program) programs.set(expression, (program = plan(ENV, parse(expression))));
    const v = program(bindings as never);
    // An evaluation error refuses on the API server (failurePolicy: Fail); here it fails the test loudly.
    if (isCelError(v)) throw new Error(`CEL error in ${expression}: ${v.message}`);
    return v;
}

/** The refusal messages for a request, each once (empty: admitted). `params`: the binding's param objects, when the policy has a paramKind. */
export function refusals(policy: PolicySpec, req: AdmissionRequest, params?: unknown[]): string[] {
    const request = toCel({ userInfo: { username: req.username, groups: [] }, resource: { resource: req.resource }, operation: req.operation });
    const base: Record<string, unknown> = { request, object: toCel(req.object), oldObject: req.oldObject === undefined ? null : toCel(req.oldObject) };
    for (const m of policy.matchConditions ?? []) if (evaluate(m.expression, base) !== true) return [];
    const out: string[] = [];
    for (const param of params ?? [null]) {
        const bindings: Record<string, unknown> = { ...base, params: param === null ? null : toCel(param) };
        const variables = new Map<string, unknown>();
        bindings.variables = variables;
        for (const v of policy.variables ?? []) variables.set(v.name, evaluate(v.expression, bindings));
        for (const v of policy.validations) {
            if (evaluate(v.expression, bindings) !== true) out.push(String(v.messageExpression ? evaluate(v.messageExpression, bindings) : v.message));
        }
    }
    return [...new Set(out)];
}

/** What the API server's defaulting adds to a pod spec (and is then stored and read back). */
export function defaultedPodSpec(spec: Record<string, any>): Record<string, any> {
    const container = (c: Record<string, any>) => ({
        imagePullPolicy: /:latest$|^[^:@]*$/.test(c.image) ? "Always" : "IfNotPresent",
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
        resources: {},
        ...c,
        env: c.env,
    });
    const volume = (v: Record<string, any>) =>
        v.configMap ? { ...v, configMap: { defaultMode: 0o644, ...v.configMap } } : v.secret ? { ...v, secret: { defaultMode: 0o644, ...v.secret } } : v;
    return JSON.parse(
        JSON.stringify({
            dnsPolicy: "ClusterFirst",
            schedulerName: "default-scheduler",
            securityContext: {},
            terminationGracePeriodSeconds: 30,
            restartPolicy: "Always",
            ...spec,
            containers: spec.containers.map(container),
            ...(spec.initContainers ? { initContainers: spec.initContainers.map(container) } : {}),
            ...(spec.volumes ? { volumes: spec.volumes.map(volume) } : {}),
        }),
    );
}

/** A CronJob as stored (its rendered inputs, defaults applied, a uid). */
export function storedCronJob(inputs: Record<string, any>, uid: string): Record<string, any> {
    const cj = structuredClone(inputs);
    cj.metadata.uid = uid;
    cj.spec.jobTemplate.spec.template.spec = defaultedPodSpec(cj.spec.jobTemplate.spec.template.spec);
    return cj;
}

/**
 * The Job `kubectl create job <name> --from=cronjob/<cronjob>` sends (kubectl's
 * createJobFromCronJob: the template's labels, its annotations plus
 * cronjob.kubernetes.io/instantiate=manual, the CronJob as controller owner,
 * the template's spec), as the API server then admits it: Job defaults, the
 * generated selector and the labels it adds to the pod template.
 */
export function jobFromCronJob(cronJob: Record<string, any>, name: string, uid = "job-uid-1"): Record<string, any> {
    const tpl = structuredClone(cronJob.spec.jobTemplate);
    const spec = tpl.spec;
    const added = { "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name, "controller-uid": uid, "job-name": name };
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: {
            name,
            namespace: cronJob.metadata.namespace,
            uid,
            labels: tpl.metadata?.labels,
            annotations: { "cronjob.kubernetes.io/instantiate": "manual", ...(tpl.metadata?.annotations ?? {}) },
            ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: cronJob.metadata.name, uid: cronJob.metadata.uid, controller: true }],
        },
        spec: {
            parallelism: 1,
            completions: 1,
            backoffLimit: 6,
            completionMode: "NonIndexed",
            suspend: false,
            podReplacementPolicy: "TerminatingOrFailed",
            ...spec,
            selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
            template: { ...spec.template, metadata: { ...spec.template.metadata, labels: { ...(spec.template.metadata?.labels ?? {}), ...added } } },
        },
    } satisfies Record<string, Json | unknown>;
}

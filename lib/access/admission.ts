// What RBAC cannot say, said to the API server as ValidatingAdmissionPolicies
// (admissionregistration.k8s.io/v1): RBAC cannot limit `create` by name nor
// say what a created or patched object may contain, so a team that may start a
// Job, patch a CronJob or restart a workload could otherwise run any pod spec
// in the namespace: mount every Secret, act as the backup's Google account,
// run privileged. These policies hold a person's requests to the program's
// own templates; the program's deploy identity and the cluster's controllers
// are not held (the controllers create the pods of the Jobs and StatefulSets).
//
// The expressions are CEL as the API server evaluates it; test/admission.test.ts
// runs them with a CEL evaluator on objects built as the API server sees them.
import { RESTORE_REQUEST_CONFIGMAP } from "../../components/names";

/** A CEL string literal. */
export function celString(s: string): string {
    return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
const celList = (xs: readonly string[]) => `[${xs.map(celString).join(", ")}]`;

/**
 * True when the request comes from a person (or anything else this program
 * does not trust): not one of the deployers, not a Kubernetes system user
 * (`system:kube-controller-manager`, the controllers' service accounts in
 * kube-system such as `system:serviceaccount:kube-system:job-controller`).
 * Service accounts of other namespaces are `system:serviceaccount:...` too and
 * stay held: a pod's token is not a controller; so does `system:anonymous`.
 */
export function madeByAPersonExpression(deployers: readonly string[]): string {
    const u = "request.userInfo.username";
    return [
        `!(${u} in ${celList(deployers)})`,
        `!(${u}.startsWith('system:serviceaccount:kube-system:'))`,
        `!(${u}.startsWith('system:') && !${u}.startsWith('system:serviceaccount:') && ${u} != 'system:anonymous')`,
    ].join(" && ");
}

/** Labels the API server adds to a Job's pod template (the Job's selector). */
export const JOB_ADDED_LABELS = ["controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"] as const;

/**
 * Job settings a person may not change from the template, with the value the
 * API server defaults each to when the template leaves it out (none: absent).
 * Parallelism would run UPDDISTR or a restore twice at once; a longer deadline
 * keeps a pod; a selector of one's own lets the Job controller adopt and delete
 * the release's pods.
 */
export const JOB_SETTINGS: readonly { field: string; default?: string }[] = [
    { field: "parallelism", default: "1" },
    { field: "completions", default: "1" },
    { field: "backoffLimit", default: "6" },
    { field: "completionMode", default: "'NonIndexed'" },
    { field: "manualSelector", default: "false" },
    { field: "activeDeadlineSeconds" },
    { field: "ttlSecondsAfterFinished" },
    { field: "podFailurePolicy" },
    { field: "successPolicy" },
    { field: "backoffLimitPerIndex" },
    { field: "maxFailedIndexes" },
];

/** `a.f` and `b.f` are both absent or equal. */
function sameField(a: string, b: string, field: string): string {
    return `(has(${a}.${field}) == has(${b}.${field}) && (!has(${a}.${field}) || ${a}.${field} == ${b}.${field}))`;
}
/** `job.f` is what `template.f` says, or its default when the template leaves it out. */
function sameOrDefault(job: string, template: string, s: { field: string; default?: string }): string {
    if (s.default === undefined) return sameField(job, template, s.field);
    const f = s.field;
    return `(has(${template}.${f}) ? (has(${job}.${f}) && ${job}.${f} == ${template}.${f}) : (!has(${job}.${f}) || ${job}.${f} == ${s.default}))`;
}
/** A map field of a pod template's metadata, `{}` when absent. */
const metaMap = (template: string, field: "labels" | "annotations") =>
    `(has(${template}.metadata) && has(${template}.metadata.${field}) ? ${template}.metadata.${field} : {})`;

export interface CelVariable {
    name: string;
    expression: string;
}
export interface CelValidation {
    expression: string;
    /** A CEL expression building the refusal message. */
    messageExpression: string;
}
export interface PolicyLogic {
    variables: CelVariable[];
    validations: CelValidation[];
}

/**
 * Jobs a person creates, evaluated once per CronJob of the program (the
 * binding's params): the Job must name, as its controller, a CronJob the
 * program declares (`kubectl create job --from=cronjob/<name>` sets that
 * owner reference, with the CronJob's uid), and for that CronJob carry its
 * pod spec, its pod labels and annotations, and its Job settings. Both sides
 * are as stored, defaults applied, so the pod specs compare whole.
 */
export function jobsFromTemplatesLogic(templates: readonly string[]): PolicyLogic {
    const job = "object.spec";
    const tpl = "params.spec.jobTemplate.spec";
    const mine = "variables.ownerName == params.metadata.name";
    const jobLabels = metaMap(`${job}.template`, "labels");
    const tplLabels = metaMap(`${tpl}.template`, "labels");
    return {
        variables: [
            {
                name: "owners",
                expression:
                    "has(object.metadata.ownerReferences) ? object.metadata.ownerReferences.filter(r, r.apiVersion == 'batch/v1' && r.kind == 'CronJob' && has(r.controller) && r.controller) : []",
            },
            { name: "ownerName", expression: "size(variables.owners) == 1 ? variables.owners[0].name : ''" },
            { name: "ownerUid", expression: "size(variables.owners) == 1 ? variables.owners[0].uid : ''" },
        ],
        validations: [
            {
                expression: `size(variables.owners) == 1 && variables.ownerName in ${celList(templates)}`,
                messageExpression: `'a Job started by hand must be made from one of the program\\'s CronJobs (kubectl create job --from=cronjob/<name>): ${templates.join(", ")}'`,
            },
            {
                expression: `!(${mine}) || (variables.ownerUid == params.metadata.uid && ${job}.template.spec == ${tpl}.template.spec)`,
                messageExpression: `'the Job\\'s pod spec differs from the template of CronJob ' + params.metadata.name + ' (image, command, service account, volumes, privileges): start it with kubectl create job --from=cronjob/' + params.metadata.name`,
            },
            {
                expression: `!(${mine}) || (${metaMap(`${job}.template`, "annotations")} == ${metaMap(`${tpl}.template`, "annotations")} && ${jobLabels}.all(k, k in ${celList(JOB_ADDED_LABELS)} || (k in ${tplLabels} && ${tplLabels}[k] == ${jobLabels}[k])) && ${tplLabels}.all(k, k in ${jobLabels} && ${jobLabels}[k] == ${tplLabels}[k]))`,
                messageExpression: `'the Job\\'s pod labels or annotations differ from the template of CronJob ' + params.metadata.name`,
            },
            {
                expression: `!(${mine}) || (${JOB_SETTINGS.map((s) => sameOrDefault(job, tpl, s)).join(" && ")})`,
                messageExpression: `'the Job\\'s settings (parallelism, completions, retries, deadlines, selector) differ from the template of CronJob ' + params.metadata.name`,
            },
        ],
    };
}

/** Spec fields other than the pod template that a person's update must leave as they are, per kind. */
export const KEPT_SPEC_FIELDS = {
    // suspend is the one field a person changes: `kubectl patch cronjob ... {"spec":{"suspend":true}}`.
    cronjobs: ["schedule", "timeZone", "concurrencyPolicy", "startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "jobTemplate"],
    // replicas is changed through /scale, which these policies do not hold (scale is RBAC's).
    deployments: ["selector", "strategy", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds", "paused"],
    statefulsets: [
        "selector",
        "serviceName",
        "podManagementPolicy",
        "updateStrategy",
        "minReadySeconds",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "ordinals",
        "volumeClaimTemplates",
    ],
} as const;

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";

/**
 * What else a person may do, and no more: create no pod directly (the
 * controllers do, for Jobs and StatefulSets); create only the restore request
 * among ConfigMaps (a ConfigMap of another name could be one a pod or script
 * reads); on a CronJob, change only `suspend`; on a Deployment or StatefulSet,
 * only restart it (the restartedAt annotation) and scale it.
 */
export function templatesKeptLogic(): PolicyLogic {
    const resource = "request.resource.resource";
    const kept = (kind: keyof typeof KEPT_SPEC_FIELDS) => KEPT_SPEC_FIELDS[kind].map((f) => sameField("object.spec", "oldObject.spec", f)).join(" && ");
    const annotations = (o: string) => metaMap(`${o}.spec.template`, "annotations");
    const restartOnly = [
        "object.spec.template.spec == oldObject.spec.template.spec",
        `${metaMap("object.spec.template", "labels")} == ${metaMap("oldObject.spec.template", "labels")}`,
        `${annotations("object")}.all(k, k == '${RESTARTED_AT_ANNOTATION}' || (k in ${annotations("oldObject")} && ${annotations("oldObject")}[k] == ${annotations("object")}[k]))`,
        `${annotations("oldObject")}.all(k, k == '${RESTARTED_AT_ANNOTATION}' || k in ${annotations("object")})`,
    ].join(" && ");
    return {
        variables: [],
        validations: [
            {
                expression: `${resource} != 'pods'`,
                messageExpression: `'pods in this namespace are started by its controllers only: start a Job from one of the program\\'s CronJobs (kubectl create job --from=cronjob/<name>) or scale the toolbox'`,
            },
            {
                expression: `${resource} != 'configmaps' || object.metadata.name == ${celString(RESTORE_REQUEST_CONFIGMAP)}`,
                messageExpression: `'the only ConfigMap a person creates here is the restore request, ${RESTORE_REQUEST_CONFIGMAP}; not ' + object.metadata.name`,
            },
            {
                expression: `${resource} != 'cronjobs' || (${kept("cronjobs")})`,
                messageExpression: `'CronJob ' + object.metadata.name + ': only spec.suspend may be changed by hand; its template and schedule come from the program (pulumi config, pull request, deploy)'`,
            },
            {
                expression: `${resource} != 'deployments' || (${restartOnly} && ${kept("deployments")})`,
                messageExpression: `'Deployment ' + object.metadata.name + ': by hand it may only be restarted (kubectl rollout restart) or scaled; its pod template comes from the release'`,
            },
            {
                expression: `${resource} != 'statefulsets' || (${restartOnly} && ${kept("statefulsets")})`,
                messageExpression: `'StatefulSet ' + object.metadata.name + ': by hand it may only be restarted (kubectl rollout restart) or scaled; its pod template comes from the program or the release'`,
            },
        ],
    };
}

/** The two policies' names for a namespace (policies and bindings are cluster-wide objects). */
export function admissionPolicyNames(namespace: string): { jobsFromTemplates: string; templatesKept: string } {
    return { jobsFromTemplates: `protheus-${namespace}-jobs-from-templates`, templatesKept: `protheus-${namespace}-templates-kept` };
}

/** The requests each policy holds (resourceRules of matchConstraints). */
export const JOBS_FROM_TEMPLATES_RULES = [{ apiGroups: ["batch"], apiVersions: ["*"], resources: ["jobs"], operations: ["CREATE"] }];
export const TEMPLATES_KEPT_RULES = [
    { apiGroups: [""], apiVersions: ["*"], resources: ["pods", "configmaps"], operations: ["CREATE"] },
    { apiGroups: ["batch"], apiVersions: ["*"], resources: ["cronjobs"], operations: ["UPDATE"] },
    { apiGroups: ["apps"], apiVersions: ["*"], resources: ["deployments", "statefulsets"], operations: ["UPDATE"] },
];

// What a team can reach, not what its verbs are called: each team's effective
// powers derived from its rendered Role and the rendered plan (which pods it
// may exec into and what those pods hold, which ConfigMaps it may write and
// which pods read them, whether the admission policies hold what it creates).
// The rules of thumb, made mechanical:
// - a team that can run a pod spec of its own (create pods or Jobs, patch a
//   CronJob or a workload, without the admission policies) can mount every
//   Secret and act as every service account of the namespace;
// - a team that can exec into a pod holds what the pod holds: its Secrets,
//   its service account (and the Google account bound to it), its volumes;
//   exec into any pod reaches the release's pods too, which hold the
//   database credentials;
// - a team that can write a ConfigMap a pod reads changes what that pod runs.
import { RESTORE_REQUEST_CONFIGMAP } from "../../components/names";
import { PolicyRule } from "./permissions";

/** A rendered Kubernetes object of the plan (type token and inputs). */
export interface PlanObject {
    type: string;
    inputs: {
        metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
        [field: string]: unknown;
    };
}

// The parts of a pod spec the powers depend on.
interface Ref {
    name: string;
}
interface ContainerView {
    env?: { valueFrom?: { secretKeyRef?: Ref; configMapKeyRef?: Ref } }[];
    envFrom?: { secretRef?: Ref; configMapRef?: Ref }[];
    volumeMounts?: { name: string; readOnly?: boolean }[];
}
interface VolumeView {
    name: string;
    secret?: { secretName: string };
    projected?: { sources?: { secret?: Ref }[] };
    configMap?: Ref;
    persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}
export interface PodSpecView {
    containers?: ContainerView[];
    initContainers?: ContainerView[];
    volumes?: VolumeView[];
    serviceAccountName?: string;
    automountServiceAccountToken?: boolean;
}

/** The value at a path of nested objects, if every step is an object. */
function at(value: unknown, path: readonly string[]): unknown {
    return path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);
}
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    Deployment: ["spec", "template", "spec"],
};

export interface PlanFacts {
    /** The plan's Kubernetes objects (StatefulSets, CronJobs, ServiceAccounts, ...). */
    objects: readonly PlanObject[];
    /** Whether the namespace's admission policies hold people's Jobs, pods, CronJob and workload patches to the program's templates. */
    guarded: boolean;
}

export interface Power {
    power: string;
    /** Why, from the rules and the plan. */
    because: string;
}

const kindOf = (o: PlanObject) => o.type.split(":").pop()!;
const nameOf = (o: PlanObject) => o.inputs.metadata?.name ?? "";
const can = (rules: readonly PolicyRule[], apiGroup: string, resource: string, verbs: readonly string[], name?: string) =>
    rules.some(
        (r) =>
            r.apiGroups.includes(apiGroup) &&
            r.resources.includes(resource) &&
            verbs.some((v) => r.verbs.includes(v)) &&
            (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))),
    );
/** The names a rule limits a verb on a resource to; undefined: any name. */
function namesFor(rules: readonly PolicyRule[], apiGroup: string, resource: string, verbs: readonly string[]): string[] | undefined {
    const matching = rules.filter((r) => r.apiGroups.includes(apiGroup) && r.resources.includes(resource) && verbs.some((v) => r.verbs.includes(v)));
    if (matching.some((r) => !r.resourceNames)) return undefined;
    return [...new Set(matching.flatMap((r) => r.resourceNames ?? []))];
}

/** The pod template's spec of a workload of the plan, if it has one. */
function podSpecOf(o: PlanObject): PodSpecView | undefined {
    const path = POD_SPEC_PATHS[kindOf(o)];
    return path ? (at(o.inputs, path) as PodSpecView | undefined) : undefined;
}

/** Every pod template of the plan, with the object it belongs to. */
function podTemplates(objects: readonly PlanObject[]): { owner: PlanObject; spec: PodSpecView }[] {
    return objects.flatMap((o) => {
        const spec = podSpecOf(o);
        return spec ? [{ owner: o, spec }] : [];
    });
}

/** What a pod of this spec holds: its Secrets, service account, Google account, volume claims. */
export function podHoldings(spec: PodSpecView, objects: readonly PlanObject[]) {
    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    const secrets = new Set<string>();
    for (const v of spec.volumes ?? []) {
        if (v.secret) secrets.add(v.secret.secretName);
        for (const s of v.projected?.sources ?? []) if (s.secret) secrets.add(s.secret.name);
    }
    for (const c of containers) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
        for (const e of c.envFrom ?? []) if (e.secretRef) secrets.add(e.secretRef.name);
    }
    const account = spec.serviceAccountName;
    const ksa = account === undefined ? undefined : objects.find((o) => kindOf(o) === "ServiceAccount" && nameOf(o) === account);
    const google = ksa?.inputs.metadata?.annotations?.["iam.gke.io/gcp-service-account"];
    const claims = (spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [{ volume: v.name, ...v.persistentVolumeClaim }] : []));
    const writable = claims.filter((c) => !c.readOnly && containers.some((k) => (k.volumeMounts ?? []).some((m) => m.name === c.volume && !m.readOnly)));
    return {
        secrets: [...secrets].sort(),
        token: spec.automountServiceAccountToken !== false,
        google,
        claims: claims.map((c) => c.claimName),
        writableClaims: writable.map((c) => c.claimName),
    };
}

/** The ConfigMaps a pod template reads (volumes, envFrom, env). */
function configMapsRead(spec: PodSpecView): string[] {
    const names = new Set<string>();
    for (const v of spec.volumes ?? []) if (v.configMap) names.add(v.configMap.name);
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        for (const e of c.envFrom ?? []) if (e.configMapRef) names.add(e.configMapRef.name);
        for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef) names.add(e.valueFrom.configMapKeyRef.name);
    }
    return [...names];
}

/** A team's effective powers in the namespace, in a fixed order. */
export function effectivePowers(rules: readonly PolicyRule[], facts: PlanFacts): Power[] {
    const out: Power[] = [];
    const add = (power: string, because: string) => out.push({ power, because });
    const { objects, guarded } = facts;

    // Running a pod spec of one's own.
    const writes: string[] = [];
    if (can(rules, "", "pods", ["create"])) writes.push("create pods");
    if (can(rules, "batch", "jobs", ["create"])) writes.push("create Jobs");
    if (rules.some((r) => r.resources.includes("cronjobs") && r.verbs.some((v) => v === "patch" || v === "update"))) writes.push("patch CronJobs");
    if (
        rules.some((r) => (r.resources.includes("deployments") || r.resources.includes("statefulsets")) && r.verbs.some((v) => v === "patch" || v === "update"))
    )
        writes.push("patch workloads");
    const ownPodSpec = writes.length > 0 && !guarded;
    if (ownPodSpec) {
        const why = `may ${writes.join(", ")}, and nothing holds what the pod contains`;
        add("read Secrets", why + ": a pod of its own mounts any Secret of the namespace");
        add("act as any service account of the namespace, and the Google accounts bound to them", why);
        add("run a pod spec of its own (any image, privileges, volumes)", why);
    }

    // Exec: what the pods it may enter hold.
    const execNames = namesFor(rules, "", "pods/exec", ["create", "get"]);
    const canExec = rules.some((r) => r.resources.includes("pods/exec") && r.verbs.some((v) => v === "create" || v === "get"));
    if (canExec && execNames === undefined && !ownPodSpec) {
        add("read Secrets", "may exec into any pod, the release's too (dbaccess and appserver hold the database credentials)");
        add("act as any service account of the namespace, and the Google accounts bound to them", "may exec into any pod");
    } else if (canExec && execNames) {
        for (const pod of execNames) {
            const set = objects.find((o) => kindOf(o) === "StatefulSet" && pod.startsWith(`${nameOf(o)}-`) && /^\d+$/.test(pod.slice(nameOf(o).length + 1)));
            if (!set) {
                add(`exec into ${pod}`, "a pod the plan does not declare: what it holds is unknown");
                continue;
            }
            const h = podHoldings(podSpecOf(set) ?? {}, objects);
            if (h.secrets.length > 0) add("read Secrets", `may exec into ${pod}, which mounts ${h.secrets.join(", ")}`);
            if (h.google) add(`act as the Google account ${h.google}`, `may exec into ${pod}, whose service account is bound to it`);
            else if (h.token) add("use a service account token", `may exec into ${pod}, which mounts its service account's token`);
            const onVolume = "(UPDDISTR.LOG, the control flags, the nightly backups: the database's content)";
            if (h.writableClaims.length > 0) add(`read and write the volume ${h.writableClaims.join(", ")} ${onVolume}`, `may exec into ${pod}`);
            else if (h.claims.length > 0) add(`read the volume ${h.claims.join(", ")} ${onVolume}`, `may exec into ${pod}`);
        }
    }

    // Templates it may start as they are.
    if (!ownPodSpec && can(rules, "batch", "jobs", ["create"])) {
        const readable = objects.filter((o) => kindOf(o) === "CronJob" && can(rules, "batch", "cronjobs", ["get"], nameOf(o))).map(nameOf);
        add(
            "start Jobs from the program's CronJobs, unchanged",
            `may create Jobs and read ${readable.join(", ")}; the admission policy refuses any other Job (kubectl create job --from=cronjob/<name>)`,
        );
    }

    // ConfigMaps it may write that a pod reads: by name, or by creating one a pod reads when absent (optional).
    const writesConfigMap = (cm: string) =>
        can(rules, "", "configmaps", ["patch", "update"], cm) || (can(rules, "", "configmaps", ["create"]) && (!guarded || cm === RESTORE_REQUEST_CONFIGMAP));
    const readers = podTemplates(objects).flatMap((t) => configMapsRead(t.spec).map((cm) => ({ cm, by: nameOf(t.owner) })));
    const changed = new Map<string, string[]>();
    for (const { cm, by } of readers) if (writesConfigMap(cm)) changed.set(cm, [...(changed.get(cm) ?? []), by]);
    for (const [cm, by] of changed) add(`change what ${by.join(", ")} runs`, `may write the ConfigMap ${cm}, which it reads`);
    const unread = (namesFor(rules, "", "configmaps", ["patch", "update"]) ?? []).filter((cm) => !readers.some((r) => r.cm === cm));
    if (unread.length > 0)
        add(`edit the ConfigMaps ${unread.join(", ")}`, "read by the release's pods (appserver.ini, dbaccess.ini), not by the program's robots");

    // Everyday operations.
    if (can(rules, "", "pods", ["delete"]) || can(rules, "batch", "jobs", ["delete"]))
        add("stop pods and Jobs", "may delete pods and Jobs (names are generated)");
    const cronJobsPatched = namesFor(rules, "batch", "cronjobs", ["patch", "update"]);
    if (cronJobsPatched && cronJobsPatched.length > 0 && guarded)
        add(`suspend or resume ${cronJobsPatched.join(", ")}`, "may patch these CronJobs; the admission policy lets a person change spec.suspend alone");
    const scaled = objects.filter((o) => kindOf(o) === "StatefulSet" && can(rules, "apps", "statefulsets/scale", ["patch", "update"], nameOf(o))).map(nameOf);
    if (scaled.length > 0) add(`start and stop the pods of ${scaled.join(", ")}`, "may scale these StatefulSets");
    if (rules.some((r) => r.resources.includes("deployments/scale")))
        add(
            "restart and scale the release's workloads",
            guarded ? "may patch and scale them; the admission policy keeps their pod templates" : "may patch and scale them",
        );
    if (can(rules, "", "pods/log", ["get"])) add("read the pods' logs", "may get pods/log");
    if (out.length === 0 && rules.length > 0) add("see the environment", "read-only rules");
    // One line per power, with every reason for it.
    const merged = new Map<string, string[]>();
    for (const p of out) merged.set(p.power, [...(merged.get(p.power) ?? []), p.because]);
    return [...merged].map(([power, because]) => ({ power, because: because.join("; ") }));
}

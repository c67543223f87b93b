// Duties to permissions: the least Kubernetes permissions each duty of the
// responsibility table needs inside the environment namespace, one rule per
// grant with the reason beside it. Teams get the union of their duties'
// grants (components/TeamAccess.ts); the access matrix is printed from here.
//
// Ground rules, checked by test/access.test.ts:
// - namespaced rules only (Role, never ClusterRole); no `*`; no RBAC objects,
//   no service accounts, no impersonation, escalate or bind;
// - nobody reads Secrets: the release is upgraded by this program with the
//   deployer's own credentials (Helm's release Secrets are not needed), and
//   the jobs get their database password mounted by Kubernetes;
// - exec only into the pods the program names: the toolbox (protheus-toolbox-0,
//   the abort procedure's flags) and the sleeper (protheus-updater-sleeper-0,
//   an RPO copied in and init-upddistr run by hand);
// - writes restricted by resourceNames wherever Kubernetes allows it.
//   It does not for `create` (the name is not known before the object
//   exists) nor for objects with generated names (Jobs, their pods): what a
//   created Job, a patched CronJob or a restarted workload may contain is held
//   by the admission policies (lib/access/admission.ts).
import {
    BACKUP_CRONJOB,
    COMPONENT_LABEL,
    COMPONENTS,
    COPY_CRONJOB,
    MANUAL_BACKUP_CRONJOB,
    RESTORE_CRONJOB,
    RESTORE_REQUEST_CONFIGMAP,
    ROBOT_CRONJOBS,
    TOOLBOX_NAME,
    TOOLBOX_POD,
    UPDATER_NAME,
    UPDATER_SLEEPER_NAME,
    UPDATER_SLEEPER_POD,
} from "../../components/names";
import { DUTIES, DUTY_IDS, DutyId, TeamId, dutiesOf } from "./responsibilities";

/** A Role rule (rbac.authorization.k8s.io/v1 PolicyRule, resource rules only). */
export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/** Names the rules depend on that come from the stack config. */
export interface AccessNames {
    /** ConfigMaps holding appserver.ini / dbaccess.ini (protheus:access.iniConfigMaps). */
    iniConfigMaps: readonly string[];
}

export const GRANT_IDS = [
    "pods-read",
    "events-read",
    "workloads-read",
    "services-read",
    "cronjobs-read",
    "jobs-read",
    "pods-log-read",
    "restore-cronjob-read",
    "manual-backup-cronjob-read",
    "pods-delete",
    "workloads-restart",
    "workloads-scale",
    "jobs-create",
    "jobs-delete",
    "robot-cronjobs-edit",
    "program-statefulsets-read",
    "toolbox-open",
    "toolbox-exec",
    "sleeper-exec",
    "ini-configmaps-edit",
    "restore-request-create",
    "restore-request-edit",
] as const;
export type GrantId = (typeof GRANT_IDS)[number];

export interface Grant {
    id: GrantId;
    rule: PolicyRule;
    /** Why a duty needs it, in one line. */
    reason: string;
}

/** Every grant, in a fixed order (the order of the rules in each Role). */
export function grants(names: AccessNames): Record<GrantId, Grant> {
    const g = (id: GrantId, rule: PolicyRule, reason: string): [GrantId, Grant] => [id, { id, rule, reason }];
    return Object.fromEntries([
        g(
            "pods-read",
            { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
            "see the environment's pods: status, image versions, restarts (also needed by logs, exec and kubectl cp)",
        ),
        g(
            "events-read",
            { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
            "see why a pod or Job does not run (image pull, scheduling, probes): `kubectl describe`",
        ),
        g(
            "workloads-read",
            { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "replicasets"], verbs: ["get", "list", "watch"] },
            "see the release's workloads and the image versions they run",
        ),
        g(
            "services-read",
            { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
            "check the release's Services (appserver, dbaccess 7890, license server 5555) after an upgrade",
        ),
        g(
            "cronjobs-read",
            { apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["get", "list", "watch"] },
            `see the robots (${ROBOT_CRONJOBS.join(", ")}) and their schedules; \`kubectl create job --from=cronjob/...\` reads the CronJob`,
        ),
        g(
            "jobs-read",
            { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch"] },
            "follow the Jobs the CronJobs start (update, backup, copy, restore)",
        ),
        g(
            "pods-log-read",
            { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
            "collect the pods' logs (`kubectl logs`): the updater's output ends with the tail of UPDDISTR.LOG and result.json; the restore Job's output",
        ),
        g(
            "restore-cronjob-read",
            { apiGroups: ["batch"], resources: ["cronjobs"], resourceNames: [RESTORE_CRONJOB], verbs: ["get"] },
            `\`kubectl create job --from=cronjob/${RESTORE_CRONJOB}\` reads the restore template (this CronJob only)`,
        ),
        g(
            "manual-backup-cronjob-read",
            { apiGroups: ["batch"], resources: ["cronjobs"], resourceNames: [MANUAL_BACKUP_CRONJOB], verbs: ["get"] },
            `\`kubectl create job --from=cronjob/${MANUAL_BACKUP_CRONJOB}\` reads the manual backup template (this CronJob only)`,
        ),
        g(
            "pods-delete",
            { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
            "restart a pod by deleting it: the updater (HLCLOUD login error), dbaccess (restore), appserver (new ini); pod names are generated",
        ),
        g(
            "workloads-restart",
            { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["patch"] },
            "`kubectl rollout restart` after an upgrade or an infrastructure fix (chart-created names are not known here)",
        ),
        g(
            "workloads-scale",
            { apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["get", "patch", "update"] },
            "scale the appservers down and up: UPDDISTR needs the environment in exclusive mode",
        ),
        g(
            "jobs-create",
            { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"] },
            "start a Job from a CronJob by hand (`kubectl create job --from=cronjob/<name>`); `create` cannot be limited by name, so the admission policy refuses any Job that is not an instance of one of the program's CronJobs",
        ),
        g(
            "jobs-delete",
            { apiGroups: ["batch"], resources: ["jobs"], verbs: ["delete"] },
            `stop an update Job (\`kubectl delete job -l ${COMPONENT_LABEL}=${COMPONENTS.updater}\`; its flags are then written from the toolbox), a stuck robot, restore or toolbox Job; Job names are generated`,
        ),
        g(
            "robot-cronjobs-edit",
            { apiGroups: ["batch"], resources: ["cronjobs"], resourceNames: [...ROBOT_CRONJOBS], verbs: ["get", "patch", "update"] },
            `suspend ${UPDATER_NAME} to abort an update (\`kubectl patch cronjob ${UPDATER_NAME}\`), suspend ${BACKUP_CRONJOB} / ${COPY_CRONJOB}; these CronJobs only, and the admission policy lets a person change spec.suspend alone`,
        ),
        g(
            "program-statefulsets-read",
            { apiGroups: ["apps"], resources: ["statefulsets"], resourceNames: [TOOLBOX_NAME, UPDATER_SLEEPER_NAME], verbs: ["get"] },
            `see whether the toolbox or the sleeper is up (\`kubectl scale\` reads the StatefulSet first); ${TOOLBOX_NAME} and ${UPDATER_SLEEPER_NAME} only`,
        ),
        g(
            "toolbox-open",
            { apiGroups: ["apps"], resources: ["statefulsets/scale"], resourceNames: [TOOLBOX_NAME], verbs: ["get", "patch", "update"] },
            `open and close the toolbox (\`kubectl scale statefulset ${TOOLBOX_NAME} --replicas=1\`, \`--replicas=0\`); ${TOOLBOX_NAME} only`,
        ),
        g(
            "toolbox-exec",
            { apiGroups: [""], resources: ["pods/exec"], resourceNames: [TOOLBOX_POD], verbs: ["create", "get"] },
            `write the completion flags in /volume/flags and read /volume/logs from the toolbox (\`kubectl exec ${TOOLBOX_POD}\`); this pod only (get: WebSocket exec is authorized as get)`,
        ),
        g(
            "sleeper-exec",
            { apiGroups: [""], resources: ["pods/exec"], resourceNames: [UPDATER_SLEEPER_POD], verbs: ["create", "get"] },
            `\`kubectl cp\` a fixed RPO into the sleeper and run init-upddistr there (\`kubectl exec ${UPDATER_SLEEPER_POD}\`); this pod only`,
        ),
        g(
            "ini-configmaps-edit",
            { apiGroups: [""], resources: ["configmaps"], resourceNames: [...names.iniConfigMaps], verbs: ["get", "patch", "update"] },
            "edit appserver.ini / dbaccess.ini (`kubectl edit cm`); these ConfigMaps only (protheus:access.iniConfigMaps)",
        ),
        g(
            "restore-request-create",
            { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
            `put the restore request (${RESTORE_REQUEST_CONFIGMAP}: which backup, from where) in place before a restore; \`create\` cannot be limited by name`,
        ),
        g(
            "restore-request-edit",
            { apiGroups: [""], resources: ["configmaps"], resourceNames: [RESTORE_REQUEST_CONFIGMAP], verbs: ["delete", "get", "patch", "update"] },
            `change or remove the restore request after the restore; ${RESTORE_REQUEST_CONFIGMAP} only`,
        ),
    ]) as Record<GrantId, Grant>;
}

const INSPECT: readonly GrantId[] = ["pods-read", "events-read", "workloads-read", "cronjobs-read", "jobs-read"];

export interface DutyAccess {
    /** The Role rules the duty needs in the namespace. */
    grants: readonly GrantId[];
    /** Read access to the backup bucket (roles/storage.objectViewer). */
    readsBackupBucket: boolean;
    /** Why the duty gets this much and no more. */
    why: string;
}

export const DUTY_ACCESS: Readonly<Record<DutyId, DutyAccess>> = {
    "artifacts-rpo": {
        grants: INSPECT,
        readsBackupBucket: false,
        why: "artifacts reach the environment as images built by others: no write. Read-only view of the workloads to see which RPO version runs when an operator escalates (runbook: inform GCAD); no logs (Cliente and SmartSRE collect and send them), no ConfigMaps (dbaccess.ini may hold credentials), no Secrets.",
    },
    "artifacts-binaries": {
        grants: INSPECT,
        readsBackupBucket: false,
        why: "as for the RPO: no write; see which appserver/dbaccess/lockserver version runs and whether its pods start.",
    },
    "artifacts-license-server": {
        grants: INSPECT,
        readsBackupBucket: false,
        why: "as for the RPO: no write; see which LicenseServer runs and whether it starts (runbook: call FRAMEWORK about HLCLOUD).",
    },
    "maintain-robots": {
        grants: [
            "pods-read",
            "events-read",
            "cronjobs-read",
            "jobs-read",
            "pods-log-read",
            "robot-cronjobs-edit",
            "jobs-create",
            "jobs-delete",
            "pods-delete",
            "program-statefulsets-read",
            "toolbox-open",
            "toolbox-exec",
            "sleeper-exec",
        ],
        readsBackupBucket: false,
        why: "the runbook's update troubleshooting: read the updater's log (UPDDISTR.LOG tail), suspend the updater (abort), start, stop and restart robot Jobs from their templates, copy an RPO into the sleeper pod and run init-upddistr, open the toolbox and write the control flags in /volume/flags from it.",
    },
    "build-images": {
        grants: INSPECT,
        readsBackupBucket: false,
        why: "images are built and pushed outside the cluster: no write; see that the pods pull and run the image.",
    },
    "build-chart": {
        grants: INSPECT,
        readsBackupBucket: false,
        why: "the chart is built and published outside the cluster, and installed by this program: no write; see what it deployed.",
    },
    "update-environment": {
        grants: [
            "pods-read",
            "events-read",
            "workloads-read",
            "services-read",
            "cronjobs-read",
            "jobs-read",
            "pods-log-read",
            "pods-delete",
            "workloads-restart",
            "workloads-scale",
            "jobs-create",
            "jobs-delete",
            "robot-cronjobs-edit",
            "program-statefulsets-read",
            "toolbox-open",
            "toolbox-exec",
        ],
        readsBackupBucket: false,
        why: "the upgrade itself is `pulumi up` with protheus:updateDesiredVersion (the deployer's credentials run Helm: no Helm release Secrets, no namespace edits); by hand: read the updater's log, start or stop the update Job, abort an update (suspend the updater, delete its Job, open the toolbox and write the flags from it: exec into that pod only), restart, scale and diagnose the release's workloads.",
    },
    "maintain-database": {
        grants: [
            "pods-read",
            "events-read",
            "jobs-read",
            "pods-log-read",
            "restore-cronjob-read",
            "manual-backup-cronjob-read",
            "restore-request-create",
            "restore-request-edit",
            "jobs-create",
            "jobs-delete",
            "pods-delete",
        ],
        readsBackupBucket: true,
        why: "restore: write the restore request, run the restore template (or the manual backup) and follow it, restart dbaccess; read the backups in the bucket. No exec: the restore template drops and restores the database, so nobody enters the dbaccess pod (which holds the database credentials).",
    },
    configurador: {
        grants: [],
        readsBackupBucket: false,
        why: "done in the ERP's own admin UI (SmartClient/WebApp) with ERP users: nothing in Kubernetes.",
    },
    "collect-logs": {
        grants: ["pods-read", "events-read", "jobs-read", "pods-log-read"],
        readsBackupBucket: false,
        why: "`kubectl logs` and events of the environment's pods and Jobs; no exec (files on /volume are not reachable this way).",
    },
    "maintain-ini": {
        grants: ["ini-configmaps-edit", "pods-read", "pods-delete"],
        readsBackupBucket: false,
        why: "edit the ini ConfigMaps by name and restart the pods that read them, so the change takes effect.",
    },
};

/** The grants a team holds: the union of its duties', in grant order. */
export function teamGrantIds(team: TeamId): GrantId[] {
    const held = new Set(dutiesOf(team).flatMap((d) => DUTY_ACCESS[d].grants));
    return GRANT_IDS.filter((id) => held.has(id));
}

/** The Role rules of a team. */
export function teamRules(team: TeamId, names: AccessNames): PolicyRule[] {
    const all = grants(names);
    return teamGrantIds(team).map((id) => structuredClone(all[id].rule));
}

/** Whether a team may read the backup bucket. */
export function teamReadsBackupBucket(team: TeamId): boolean {
    return dutiesOf(team).some((d) => DUTY_ACCESS[d].readsBackupBucket);
}

/** The duties that hold a grant (for the matrix). */
export function dutiesHolding(grant: GrantId): DutyId[] {
    return DUTY_IDS.filter((d) => DUTY_ACCESS[d].grants.includes(grant));
}

/** The teams a duty's table row names (re-exported for the matrix). */
export function teamsOf(duty: DutyId): readonly TeamId[] {
    return DUTIES[duty].teams;
}

/** True when a rule allows `verb` on `resource` in `apiGroup`. */
export function allows(rule: PolicyRule, apiGroup: string, resource: string, verb: string): boolean {
    return rule.apiGroups.includes(apiGroup) && rule.resources.includes(resource) && rule.verbs.includes(verb);
}

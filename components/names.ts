// Every name of an object this program creates, and every label and annotation key it sets,
// defined once: the components create the objects under these names, the access rules
// (lib/access/) restrict by them, operators type them (`kubectl create job --from=cronjob/...`),
// and the policy pack's own copies are proved equal to them (policy/test/names.test.ts).

// Labels and annotations.
export const PART_OF = "protheus";
export const MANAGED_BY = "pulumi";
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
/** Tells apart the pods of a StatefulSet that shares its component label with a CronJob's (the sleeper). */
export const NAME_LABEL = "app.kubernetes.io/name";
export const STAGE_LABEL = "protheus.totvs.com/stage";
/** The namespace's annotation with the version it runs. */
export const DESIRED_VERSION_ANNOTATION = "UpdateDesiredVersion";
/** Which team a Role/RoleBinding is for, and the duties of the responsibility table it holds. */
export const TEAM_LABEL = "protheus.totvs.com/team";
export const DUTIES_ANNOTATION = "protheus.totvs.com/duties";
/** A backup Job before a version change: why (pre-upgrade/pre-rollback) and to which version. */
export const BACKUP_REASON_LABEL = "protheus.totvs.com/backup-reason";
export const UPGRADE_TO_LABEL = "protheus.totvs.com/upgrade-to";
/** A restore Job of protheus:restore: its id, and the reason given in the request. */
export const RESTORE_ID_LABEL = "protheus.totvs.com/restore-id";
export const RESTORE_REASON_ANNOTATION = "protheus.totvs.com/restore-reason";
/**
 * The bucket's labels (GCS label keys allow no `/` or `.`, so not the Kubernetes keys above).
 * The policy pack reads `stage` to tell a production bucket.
 */
export const BUCKET_LABELS = { namespace: "namespace", stage: "stage", partOf: "part-of" } as const;

// The `app.kubernetes.io/component` value of each part, so `kubectl get jobs -l` finds its Jobs.
export const COMPONENTS = {
    updater: "updater",
    // One value per robot, so `get jobs -l app.kubernetes.io/component=<robot>` lists that robot's Jobs only.
    backup: "backup",
    copy: "backup-copy",
    restore: "restore",
    restoreDrill: "restore-drill",
    toolbox: "toolbox",
    volume: "volume",
    access: "access",
} as const;
export type ComponentName = (typeof COMPONENTS)[keyof typeof COMPONENTS];

// The updater.
/** The CronJob the runbook edits (`kubectl -n <ns> edit cj protheus-updater`). */
export const UPDATER_NAME = "protheus-updater";
/** upddistr.sh, mounted at /scripts in the updater. */
export const UPDATER_SCRIPTS_CONFIGMAP = "protheus-updater-scripts";
/** A shell on the volume (abort procedure): a StatefulSet of no replicas until an operator scales it to one. */
export const TOOLBOX_NAME = "protheus-toolbox";
/** The toolbox's one pod: a stable name, so exec into it is granted by name. */
export const TOOLBOX_POD = `${TOOLBOX_NAME}-0`;
/** The sleeper (protheus:updater.sleeper): the updater's pod, idle, as a StatefulSet of one replica. */
export const UPDATER_SLEEPER_NAME = "protheus-updater-sleeper";
/** The sleeper's one pod: `kubectl cp` an RPO into it and run init-upddistr by hand; exec granted by name. */
export const UPDATER_SLEEPER_POD = `${UPDATER_SLEEPER_NAME}-0`;

// Backups.
/** The nightly dump into the volume. */
export const BACKUP_CRONJOB = "protheus-backup";
/** The manual backup template: suspended, run as `kubectl create job --from=cronjob/protheus-backup-manual`; records reason `manual`. */
export const MANUAL_BACKUP_CRONJOB = "protheus-backup-manual";
/** The copy of complete backups to GCS and/or Rubrik. */
export const COPY_CRONJOB = "protheus-backup-copy";
/** The emergency restore template: `kubectl create job --from=cronjob/protheus-restore`. */
export const RESTORE_CRONJOB = "protheus-restore";
/** The weekly restore drill. */
export const DRILL_CRONJOB = "protheus-restore-drill";
/** The drill's extra checks (<name>.sql, <name>.expected). */
export const DRILL_CHECKS_CONFIGMAP = "protheus-restore-drill-checks";
/** backup.sh, copy.sh, restore.sh, drill.sh, lib.sh. */
export const SCRIPTS_CONFIGMAP = "protheus-backup-scripts";
/**
 * Database connection, dump jobs and retention, read by every backup and restore Job with envFrom:
 * changing them changes this ConfigMap, never the spec of a Job (which would make Pulumi re-run it).
 */
export const SETTINGS_CONFIGMAP = "protheus-backup-settings";
/** The backup Job before an upgrade (rollback) to a version is this prefix + the version with '-' for '.'. */
export const PRE_UPGRADE_JOB_PREFIX = "protheus-backup-pre-";
export const PRE_ROLLBACK_JOB_PREFIX = "protheus-backup-pre-rollback-";
/** The restore Job `pulumi up` runs for protheus:restore is this prefix + the request's id. */
export const RESTORE_JOB_PREFIX = "protheus-restore-";
/** Operators put RESTORE_BACKUP / RESTORE_SOURCE / RESTORE_REPLACE here before a restore. */
export const RESTORE_REQUEST_CONFIGMAP = "protheus-restore-request";
/** The copy's Kubernetes service account, bound to the Google one (create and read on the bucket) by Workload Identity. */
export const BACKUP_SERVICE_ACCOUNT = "protheus-backup";
/** The restore's and the drill's GCS fetch: a Kubernetes service account bound to a Google one that only reads the bucket. */
export const BACKUP_READER_SERVICE_ACCOUNT = "protheus-backup-reader";
/** The backup user's password when it comes from the Pulumi secret protheus:databasePassword. */
export const DATABASE_SECRET = "protheus-backup-database";
/** drill.sh restores the live database's backup with restore.sh into `<database>_drill`. */
export const DRILL_DATABASE_SUFFIX = "_drill";
/** The `date -u` format of the UTC time in restore.sh's `<target>_prev_<UTC time>` (16 characters, e.g. 20261127T101500Z). */
export const RESTORE_PREVIOUS_TIME_FORMAT = "%Y%m%dT%H%M%SZ";
/**
 * What restore.sh appends to its target's name: it restores into `<target>_restore_tmp`, and during the swap the live
 * database is `<target>_prev_<UTC time>` (shown with an example time, for its length).
 */
export const RESTORE_DATABASE_SUFFIXES = ["_restore_tmp", "_prev_20261127T101500Z"] as const;
/** PostgreSQL cuts names to 63 bytes without a word: every name restore.sh derives from its target must fit whole. */
export const RESTORE_TARGET_MAX = 63 - Math.max(...RESTORE_DATABASE_SUFFIXES.map((s) => s.length));
/** The longest database name the stack accepts: the drill's `<database>_drill` must be a target restore.sh accepts. */
export const DATABASE_NAME_MAX = RESTORE_TARGET_MAX - DRILL_DATABASE_SUFFIX.length;
/** The claim the copy mounts the Rubrik Managed Volume (NFS) through, bound by name to its PersistentVolume. */
export const RUBRIK_CLAIM = "protheus-rubrik";
/** The Rubrik PersistentVolume: cluster-scoped, so named after the namespace it serves. */
export function rubrikVolumeName(namespace: string): string {
    return `protheus-rubrik-${namespace}`;
}
/** Where backups land inside the environment volume. */
export const BACKUP_SUBDIR = "backups";

/**
 * The containers of the robots that print an outcome line (`{"event":"protheus.…"}`): the log-based
 * metrics count lines from these containers only, so another pod printing such a line cannot pass for a backup.
 */
export const OUTCOME_CONTAINERS = ["backup", "copy", "fetch", "restore", "drill", "upddistr"] as const;

/** The robots (runbook: "robôs"): the CronJobs that update and back up the environment on their own. */
export const ROBOT_CRONJOBS = [UPDATER_NAME, BACKUP_CRONJOB, COPY_CRONJOB] as const;

/** The ConfigMaps the program declares: its robots read them, so no team may edit them as ini files. */
export const PROGRAM_CONFIGMAPS = [
    UPDATER_SCRIPTS_CONFIGMAP,
    SCRIPTS_CONFIGMAP,
    SETTINGS_CONFIGMAP,
    DRILL_CHECKS_CONFIGMAP,
    RESTORE_REQUEST_CONFIGMAP,
] as const;
/** Names (and their `<name>-*`) reserved for the program's own objects. */
export const RESERVED_NAME_PREFIXES = [UPDATER_NAME, BACKUP_CRONJOB, RESTORE_CRONJOB, TOOLBOX_NAME] as const;
/** The Kubernetes provider's annotation: replace, on the next update, a resource that did not become ready. */
export const REPLACE_UNREADY = "pulumi.com/replaceUnready";

// Pulumi logical names (the `name` of `new X(name, ...)`): a resource's URN ends in it, so renaming
// one without an alias of the old URN makes `pulumi up` delete the resource and create a new one.
/**
 * index.ts names each component after the part of the environment it declares, in kebab case
 * (`backup`, `backup-copy`, `restore-drill`). Inside a component named N, the resource the
 * component stands for is named N, every other child `N-<role>`: the role in kebab case says what
 * the child is to the component, never its kind (the URN carries the type) and never a word of N
 * again (`backup-scripts`, not `backup-backup` or `restore-drill-cronjob`). Resources of different
 * kinds that make one thing (a Google service account and its Kubernetes one) share one name.
 */
export function childName(component: string, role?: string): string {
    const name = role === undefined ? component : `${component}-${role}`;
    const problem = logicalNameProblem(component, name);
    if (problem) throw new Error(problem);
    return name;
}

const KEBAB_CASE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** Words that name a resource's kind, which its URN already carries. */
const KIND_WORDS = new Set([
    ...["account", "binding", "bucket", "channel", "claim", "configmap", "cronjob", "job", "member", "metric"],
    ...["namespace", "policy", "pv", "pvc", "release", "role", "rolebinding", "sa", "secret", "serviceaccount", "statefulset", "volume"],
]);

/** Why `name` does not follow childName's rule for a child of the component named `component`; undefined when it does. */
export function logicalNameProblem(component: string, name: string): string | undefined {
    if (!KEBAB_CASE.test(name)) return `logical name ${name}: expected kebab case (lower-case words joined by "-")`;
    if (name === component) return undefined;
    if (!name.startsWith(`${component}-`)) return `logical name ${name}: expected ${component} or ${component}-<role> (a child of ${component})`;
    const roleWords = name.slice(component.length + 1).split("-");
    const componentWords = new Set(component.split("-"));
    const repeated = roleWords.find((w) => componentWords.has(w));
    if (repeated) return `logical name ${name}: the role repeats "${repeated}" of ${component}`;
    const kind = roleWords.find((w) => KIND_WORDS.has(w));
    if (kind) return `logical name ${name}: the role names a kind ("${kind}"), which the URN already carries`;
    return undefined;
}

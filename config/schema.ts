// The one schema for a stack's `protheus:*` config. index.ts parses the whole
// config with it once; components receive the typed result and never read config.
import { isDeepStrictEqual } from "util";
import { z } from "zod";
import { DATABASE_NAME_MAX, DRILL_DATABASE_SUFFIX, RESTORE_JOB_PREFIX, RESTORE_TARGET_MAX } from "../components/names";
import { isPlainObject } from "../lib/plainObject";
import { accessSchema } from "./access";
import { AlertsConfig, alertsHaveProject, alertsSchema, drillSchema, prodHasAlerts, SCHEDULE_AND_ALERT_RULES } from "./drill";
import { podSecuritySchema } from "./podSecurity";
import {
    backupSelector,
    bucketNameProblem,
    containerString,
    copyServiceAccountId,
    cronSchedule,
    defaultBucketName,
    dnsLabel,
    fileName,
    gcsBucketName,
    ianaTimeZone,
    imageRepository,
    imageTag,
    pinnedImage,
    protheusVersion,
    quantity,
    secretKey,
    serviceAccountIdProblem,
    VERSION_MAX,
    wholeNumber,
} from "./validators";

/**
 * Default waits of `pulumi up`, in minutes: each Job's activeDeadlineSeconds plus 5 minutes to
 * schedule the pod and pull the image. Their sum with the Helm timeout must fit the deploy
 * workflow's timeout-minutes (test/deployWorkflow.test.ts checks it).
 */
export const DEFAULT_WAIT_MINUTES = { preUpgrade: 125, restore: 155 } as const;
/** "protheus-restore-" + id must be a DNS label (63 characters). */
export const RESTORE_ID_MAX = 63 - RESTORE_JOB_PREFIX.length;

const httpsOrOci = z
    .string({ error: "expected a chart repository URL" })
    .regex(/^(https|oci):\/\/[^\s/]+(\/[^\s]*)?$/, { error: "expected an https:// or oci:// chart repository URL" });

export const chartSchema = z.strictObject({
    repo: httpsOrOci.describe("the chart repository: `https://…` or `oci://…`"),
    name: z
        .string({ error: "expected a chart name such as protheus" })
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "expected a chart name such as protheus" })
        .describe("the chart's name, e.g. `protheus`"),
    values: z
        .record(z.string(), z.unknown(), { error: "expected an object of chart values" })
        .default({})
        .describe("values passed to the release; may hold secrets (`pulumi config set --secret --path 'protheus:chart.values.<key>' …`)"),
    // A Protheus upgrade (images pulled, pods restarted, UPDDISTR waited on) routinely takes tens of minutes.
    timeoutSeconds: wholeNumber(300, 4 * 3600, "a whole number of seconds")
        .default(3600)
        .describe("Helm upgrade timeout, in seconds"),
    maxHistory: wholeNumber(2, 50).default(10).describe("release revisions Helm keeps"),
    // Where in the chart's values the environment volume's claim name goes (dot path).
    volumeClaimValue: z
        .string({ error: "expected a string" })
        .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { error: "expected a dot path such as volume.existingClaim" })
        .default("volume.existingClaim")
        .describe("where in the chart's values the environment volume's claim name is written (a dot path)"),
});

export const updaterSchema = z.strictObject({
    image: imageRepository.describe("the updater image repository, without tag: the tag is `updateDesiredVersion`"),
    tag: imageTag.optional().describe("pins the updater tag instead of `updateDesiredVersion` (never `latest`)"),
    schedule: cronSchedule.describe("when `protheus-updater` runs: a 5-field cron expression (checked with cron-parser) or a `@macro`"),
    sleeper: z
        .boolean({ error: "expected true or false" })
        .default(false)
        .describe("suspend the updater and run its pod asleep as `protheus-updater-sleeper-0`, to work inside it (a RUP failed)"),
    suspend: z.boolean({ error: "expected true or false" }).default(false).describe("stop new updater runs"),
    // Failed pods are kept so UPDDISTR's output can be collected after the fact.
    failedJobsHistoryLimit: wholeNumber(1, 10).default(3).describe("failed updater Jobs (and their pods) kept, for log collection"),
    successfulJobsHistoryLimit: wholeNumber(0, 10).default(1).describe("successful updater Jobs kept"),
    // A forgotten sleeping Job must not block later runs (concurrencyPolicy Forbid) for long.
    sleeperHours: wholeNumber(1, 24, "a whole number of hours")
        .default(8)
        .describe("how long the sleeper's `sleep` lasts before it starts again (the pod stays until the sleeper is off)"),
    // The flag files a finished UPDDISTR leaves in /volume/flags: chart-specific, so no default names.
    completionFlags: z
        .array(fileName, { error: "expected a list of file names" })
        .refine((names) => new Set(names).size === names.length, { error: "expected each file name at most once" })
        .default([])
        .describe(
            "the flag files a finished UPDDISTR leaves in `/volume/flags` (plain file names, chart-specific); the toolbox gets them as `$COMPLETION_FLAGS`",
        ),
    // How much of UPDDISTR.LOG the wrapper prints to the pod's log when UPDDISTR ends.
    logLines: wholeNumber(1, 100000, "a whole number of lines")
        .default(500)
        .describe("lines of `UPDDISTR.LOG` the wrapper prints when UPDDISTR ends (`UPDDISTR_LOG_LINES`)"),
});

// The GKE cluster a stack's Kubernetes objects go to: the program's only way to a cluster (no ambient kubeconfig).
export const clusterSchema = z.strictObject({
    project: z
        .string({ error: "expected a GCP project ID" })
        .regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "expected a GCP project ID" })
        .describe("the GCP project of the cluster"),
    location: z
        .string({ error: "expected a GCP region or zone" })
        .regex(/^[a-z]+-[a-z]+[0-9]+(-[a-z])?$/, { error: "expected a GCP region or zone such as southamerica-east1" })
        .describe("its region or zone, e.g. `southamerica-east1`"),
    name: z
        .string({ error: "expected a GKE cluster name" })
        .regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, { error: "expected a GKE cluster name" })
        .describe("the GKE cluster's name (set per stack)"),
});

/** Defaults of the toolbox: a pinned busybox, the backup jobs' uid, two hours. */
export const DEFAULT_TOOLBOX = { image: "busybox:1.36.1", runAsUser: 999, hours: 2 } as const;

export const toolboxSchema = z.strictObject({
    // Small and pinned: sh, ls, cat, tail, touch are all the abort procedure needs.
    image: pinnedImage.default(DEFAULT_TOOLBOX.image).describe("the `protheus-toolbox` image, with a fixed tag or digest (needs `sh`, `touch`, `tail`)"),
    // Must be able to write /volume/flags (the updater image's uid, or a group that can).
    runAsUser: z
        .int({ error: "expected a numeric uid" })
        .min(1, { error: "expected a non-root uid (1 or more)" })
        .max(2147483647)
        .default(DEFAULT_TOOLBOX.runAsUser)
        .describe("the toolbox's uid (also its group and fsGroup), not root: one that may write `/volume/flags`"),
    hours: wholeNumber(1, 12, "a whole number of hours")
        .default(DEFAULT_TOOLBOX.hours)
        .describe("how long the toolbox's `sleep` lasts before it starts again (the pod stays until scaled back to zero)"),
});

export const volumeSchema = z.strictObject({
    claimName: dnsLabel.default("protheus-volume").describe("the environment volume's claim (a DNS-1123 label)"),
    // true: this program creates the claim (protected, retained on delete);
    // false: the claim already exists (made by the chart or by hand) and is only mounted.
    manage: z.boolean({ error: "expected true or false" }).default(true).describe("create the claim (`true`) or only mount an existing one (`false`)"),
    storageClassName: z.string({ error: "expected a string" }).min(1).default("standard-rwx").describe("a ReadWriteMany storage class (Filestore)"),
    size: quantity.default("100Gi").describe("the claim's size, a Kubernetes quantity"),
});

/** A key of an existing Kubernetes Secret. */
const secretKeyRef = z.strictObject({
    name: dnsLabel.describe("the Secret's name"),
    key: secretKey.default("password").describe("the key in the Secret that holds the password"),
});

const databaseSchema = z.strictObject({
    host: containerString("the DBAccess/PostgreSQL host name").describe("the PostgreSQL host the backup reads (no `$(`: Kubernetes would expand it)"),
    port: wholeNumber(1, 65535, "a TCP port number").default(5432).describe("its TCP port"),
    name: z
        .string({ error: "expected the database name" })
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected a PostgreSQL database name (letters, digits and '_', not starting with a digit)" })
        .max(DATABASE_NAME_MAX, {
            error: `expected a database name of at most ${DATABASE_NAME_MAX} characters (the drill restores <name>${DRILL_DATABASE_SUFFIX}, and restore.sh takes targets of at most ${RESTORE_TARGET_MAX}, so that <target>_prev_<UTC time> fits PostgreSQL's 63)`,
        })
        .describe(
            `the database's name (the drill restores \`<name>${DRILL_DATABASE_SUFFIX}\`, and \`restore.sh\` takes targets of at most ${RESTORE_TARGET_MAX}, so that \`<target>_prev_<UTC time>\` fits PostgreSQL's 63)`,
        ),
    user: containerString("the database user").describe("the role backups connect as (`protheus_backup` in `docs/backups.md`: reads only)"),
    // An existing Kubernetes Secret holding the password; otherwise the Pulumi
    // secret protheus:databasePassword is turned into one.
    passwordSecret: secretKeyRef
        .optional()
        .describe(
            "an existing Kubernetes Secret with `user`'s password; otherwise the secret `protheus:databasePassword` is put in one. One of the two is required",
        ),
    // The identity every job that restores connects as (the restore template, protheus:restore, the drill):
    // CREATEDB and member of the owner's role, while `user` only reads (docs/backups.md). Its password
    // comes only from an existing Secret. Required in prod; without it hml restores as `user`.
    restoreUser: containerString("the database user restores connect as")
        .optional()
        .describe(
            "the role every restore connects as (`protheus_restore`: `CREATEDB`, member of the owner's role), other than `user`. Required in prod; without it (hml) restores connect as `user`",
        ),
    restorePasswordSecret: secretKeyRef
        .optional()
        .describe("an existing Kubernetes Secret with `restoreUser`'s password (there is no Pulumi-secret route); required with `restoreUser`"),
});

const offsiteTarget = z.enum(["gcs", "rubrik"], { error: 'expected "gcs" or "rubrik"' });

export const backupSchema = z.strictObject({
    schedule: cronSchedule.default("0 21 * * *").describe("when the dump into the volume runs (cron)"),
    copySchedule: cronSchedule
        .default("0 6 * * *")
        .describe("when the copy offsite runs (cron); refused when a run would start within 8 h (the backup Job's deadline) of a `backup.schedule` run"),
    database: databaseSchema.describe("the PostgreSQL database the backup reads and restores write"),
    // A backup Job named after the new version runs before the release is upgraded.
    preUpgrade: z
        .boolean({ error: "expected true or false" })
        .default(true)
        .describe("back up before each version change (pre-upgrade, or pre-rollback going down)"),
    dumpJobs: wholeNumber(1, 16).default(2).describe("`pg_dump --jobs` (with the connection and retention, in the ConfigMap `protheus-backup-settings`)"),
    retention: z
        .strictObject({
            days: wholeNumber(1, 365, "a whole number of days").default(7).describe("backups on the volume older than this many days are pruned"),
            keepMin: wholeNumber(1, 100, "a whole number of backups").default(3).describe("the newest `keepMin` complete backups are always kept"),
        })
        .prefault({})
        .describe("retention of the backups on the volume"),
    targets: z
        .array(offsiteTarget, { error: "expected a list of offsite targets" })
        .refine((t) => new Set(t).size === t.length, { error: "expected each target at most once" })
        .describe("the offsite targets, `gcs` and/or `rubrik`; prod needs at least one"),
    gcs: z
        .strictObject({
            project: z
                .string({ error: "expected a string" })
                .regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "expected a GCP project ID" })
                .describe("the GCP project where the bucket and the copy's Google service account live"),
            location: z.string({ error: "expected a string" }).min(2).default("SOUTHAMERICA-EAST1").describe("the bucket's location"),
            bucketName: gcsBucketName
                .optional()
                .describe("the bucket's name; by default `protheus-backups-<namespace>` (which needs a namespace of at most 46 characters)"),
            retentionDays: wholeNumber(1, 3650, "a whole number of days").default(30).describe("the bucket's retention and deletion age, in days"),
            lockRetention: z
                .boolean({ error: "expected true or false" })
                .default(false)
                .describe("lock the retention policy (irreversible); must be `true` in prod"),
        })
        .optional()
        .describe("the GCS target; required when targets include `gcs`"),
    rubrik: z
        .strictObject({
            nfsServer: z.string({ error: "expected the Rubrik Managed Volume NFS server" }).min(1).describe("the NFS server of the Rubrik Managed Volume"),
            exportPath: z
                .string({ error: "expected a string" })
                .regex(/^\//, { error: "expected an absolute NFS export path" })
                .describe("its export path (absolute)"),
        })
        .optional()
        .describe("the Rubrik target; required when targets include `rubrik`"),
    images: z
        .strictObject({
            postgres: pinnedImage
                .default("postgres:15.8")
                .describe("the PostgreSQL image `backup.sh`, `restore.sh` and `drill.sh` run in (fixed tag or digest)"),
            cloudSdk: pinnedImage
                .default("gcr.io/google.com/cloudsdktool/google-cloud-cli:499.0.0-slim")
                .describe("the Google Cloud SDK image `copy.sh` and the downloads run in (fixed tag or digest)"),
        })
        .prefault({})
        .describe("the stock images the scripts run in"),
    // How long `pulumi up` waits for the pre-upgrade (or pre-rollback) backup Job; at least its
    // activeDeadlineSeconds (components/PreUpgradeBackup.ts) so Pulumi never gives up on a Job still allowed to run.
    preUpgradeTimeoutMinutes: wholeNumber(10, 24 * 60, "a whole number of minutes")
        .default(DEFAULT_WAIT_MINUTES.preUpgrade)
        .describe("how long `pulumi up` waits for the pre-upgrade (or pre-rollback) backup Job, in minutes (the Job's deadline: 120 minutes)"),
    // How long `pulumi up` waits for a restore Job (protheus:restore); at least its activeDeadlineSeconds.
    restoreTimeoutMinutes: wholeNumber(10, 24 * 60, "a whole number of minutes")
        .default(DEFAULT_WAIT_MINUTES.restore)
        .describe("how long `pulumi up` waits for a restore Job, in minutes (the Job's deadline: 150 minutes)"),
});

/** A restore that `pulumi up` runs once, as a Job named after `id` (a DNS label short enough for the Job name). */
export const restoreSchema = z.strictObject({
    id: dnsLabel
        .refine((id) => id.length <= RESTORE_ID_MAX, {
            error: `expected an id of at most ${RESTORE_ID_MAX} characters (the Job is named protheus-restore-<id>)`,
        })
        .describe(`names the Job \`protheus-restore-<id>\` (a DNS label of at most ${RESTORE_ID_MAX} characters); the same id never runs twice`),
    backup: backupSelector.describe("which backup (`RESTORE_BACKUP`): `latest`, a backup name such as `20261127T000012Z`, or `before:<version>`"),
    source: z
        .enum(["volume", "gcs"], { error: 'expected "volume" or "gcs"' })
        .default("volume")
        .describe("where the backup is read from (`gcs` needs a GCS target)"),
    // Replacing an existing database must be asked for; without it restore.sh refuses (exit 3) and touches nothing.
    replace: z.boolean({ error: "expected true or false" }).default(false).describe("`RESTORE_REPLACE=yes`: replace an existing database"),
    reason: z
        .string({ error: "expected a written reason" })
        .trim()
        .min(20, { error: "expected a written reason of at least 20 characters" })
        .describe("why, at least 20 characters (an annotation on the Job)"),
});

export const maintenanceSchema = z.strictObject({
    enabled: z
        .boolean({ error: "expected true or false" })
        .default(false)
        .describe("merge `maintenance.values` into the release (exclusive mode); required in prod for a restore"),
    // Chart values deep-merged into chart.values while enabled; the fleet's (appservers scaled to 0) are a project default.
    values: z
        .record(z.string(), z.unknown(), { error: "expected an object of chart values" })
        .default({})
        .describe(
            "chart values deep-merged over `chart.values` while enabled; project default `{appserver: {replicas: 0}}`; must change something in the release",
        ),
});

/** Whether laying `over` on `base` (objects key by key, anything else replaced) changes any value of `base`. */
function changesValues(base: unknown, over: unknown): boolean {
    if (isPlainObject(base) && isPlainObject(over)) return Object.entries(over).some(([k, v]) => changesValues(base[k], v));
    return !isDeepStrictEqual(base, over);
}
/** Deploy waves (docs/ci.md): a program change reaches wave 1 (the canaries) first; the deploy workflow has a job per stage and wave up to this one. */
export const MAX_ROLLOUT_WAVE = 3;
export const rolloutSchema = z.strictObject({
    wave: wholeNumber(1, MAX_ROLLOUT_WAVE, "a wave number")
        .default(1)
        .describe("1 to 3; the default is in `Pulumi.yaml` (`protheus:defaults.rollout.wave`: 2)"),
});

/** Every key of a stack's config, each checked on its own; STACK_RULES check them against each other. */
export const stackConfigKeys = z.strictObject({
    stage: z
        .enum(["prod", "hml"], { error: 'expected "prod" or "hml"' })
        .describe("the stage this stack is; the stack name `<environment>-<stage>` must agree"),
    namespace: dnsLabel.describe("the environment namespace, a DNS-1123 label of at most 63 characters, e.g. `c2a7dv`"),
    updateDesiredVersion: protheusVersion.describe(
        `the version the environment runs, an exact semver of at most ${VERSION_MAX} characters such as \`12.1.2410\` or \`12.1.2510-3\`: the namespace annotation, the chart version, the updater tag and the pre-upgrade backup Job's name`,
    ),
    // Brazil has had no daylight saving since 2019; the zone still names the intent.
    timeZone: ianaTimeZone.default("America/Sao_Paulo").describe("the IANA time zone of every CronJob"),
    cluster: clusterSchema.describe("the GKE cluster the stack's Kubernetes objects go to; project and location usually shared in `protheus:defaults`"),
    chart: chartSchema.describe("the Protheus Helm chart and its release"),
    updater: updaterSchema.describe("the `protheus-updater` CronJob, which runs UPDDISTR"),
    volume: volumeSchema.prefault({}).describe("the environment volume, mounted at `/volume`"),
    backup: backupSchema.optional().describe("backups, their offsite copies and the database they read; required in prod"),
    restore: restoreSchema.optional().describe("a restore `pulumi up` runs once, as a reviewed change (`docs/backups.md`); needs `backup`"),
    maintenance: maintenanceSchema.prefault({}).describe("exclusive mode: chart values that take the users off the environment"),
    toolbox: toolboxSchema.prefault({}).describe("the `protheus-toolbox` StatefulSet (no replica until scaled): a shell on the volume"),
    access: accessSchema.describe("team access from the responsibility table (`docs/access.md`)"),
    databasePassword: z
        .string({ error: "expected a string" })
        .min(1)
        .optional()
        .describe(
            "the password of `backup.database.user`, set with `pulumi config set --secret`, put in the Secret `protheus-backup-database`; the alternative to `backup.database.passwordSecret`",
        ),
    // The weekly restore drill and the Cloud Monitoring alerts (config/drill.ts).
    drill: drillSchema.optional().describe("the weekly restore drill `protheus-restore-drill` (needs `backup`)"),
    alerts: alertsSchema.optional().describe("Cloud Monitoring metrics and alert policies for this environment; required in prod, optional in hml"),
    // Pod Security Admission level of the namespace, the pods' uids and resources (config/podSecurity.ts).
    podSecurity: podSecuritySchema
        .prefault({})
        .describe("Pod Security Admission level of the namespace, and the uids and resources of the pods the program runs"),
    // When a program change reaches this stack, relative to the rest of its stage; the default wave is in Pulumi.yaml.
    rollout: rolloutSchema
        .prefault({})
        .describe(
            "the deploy wave: a program change reaches wave 1 (canaries) first; a later wave of a stage starts only when the earlier ones succeeded (`docs/ci.md`)",
        ),
    // prod only: the hml stack a version must have run on first; by default
    // <org>/<project>/<environment>-hml, derived from the stack name.
    promotion: z
        .strictObject({
            hmlStack: z
                .string({ error: "expected a stack name such as totvs/protheus/c2a7dv-hml" })
                .regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/, { error: "expected a stack name such as totvs/protheus/c2a7dv-hml" })
                .optional()
                .describe("the hml stack prod's version must have run on, the same environment's; by default `<org>/protheus/<environment>-hml`"),
            override: z
                .strictObject({
                    version: protheusVersion.describe("the exact version let through"),
                    reason: z
                        .string({ error: "expected a written reason" })
                        .min(20, { error: "expected a written reason of at least 20 characters" })
                        .describe("why, at least 20 characters"),
                })
                .optional()
                .describe("lets exactly one version through the gate, with a reason"),
        })
        .optional()
        .describe("prod only: the hml-before-prod gate (`docs/ci.md`)"),
});

/** A stack's config as its keys parse, before the rules across keys. */
type ParsedStackConfig = z.output<typeof stackConfigKeys>;
type ParsedBackup = NonNullable<ParsedStackConfig["backup"]>;

/**
 * A rule across keys: reports each way `cfg` breaks it, at the key to change, with what is expected.
 * Every rule runs, so all problems are reported at once.
 */
type StackRule = (cfg: ParsedStackConfig, ctx: z.RefinementCtx) => void;

function promotionOnlyInProd(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.stage === "hml" && cfg.promotion) {
        ctx.addIssue({ code: "custom", path: ["promotion"], message: "expected no promotion section in hml: only prod is gated" });
    }
}

function restoreNeedsBackup(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.restore && !cfg.backup) {
        ctx.addIssue({
            code: "custom",
            path: ["restore"],
            message: "expected a backup section (protheus:backup): a restore runs with the backup's database settings and scripts",
        });
    }
}

function gcsRestoreNeedsGcsTarget(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const b = cfg.backup;
    if (cfg.restore?.source === "gcs" && b && !(b.targets.includes("gcs") && b.gcs)) {
        ctx.addIssue({
            code: "custom",
            path: ["restore", "source"],
            message: 'expected "volume": source "gcs" needs protheus:backup.targets to include "gcs" with a protheus:backup.gcs section',
        });
    }
}

/** Restore needs no users connected: in prod the chart must already be in exclusive mode. */
function prodRestoreNeedsMaintenance(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.restore && cfg.stage === "prod" && !cfg.maintenance.enabled) {
        ctx.addIssue({
            code: "custom",
            path: ["restore"],
            message: "refused in prod while protheus:maintenance.enabled is not true: enable maintenance (pulumi up) first, then request the restore",
        });
    }
}

/**
 * Exclusive mode must take the users out: maintenance that leaves the release as it is would
 * still open the prod restore gate while the appservers serve.
 */
function maintenanceChangesRelease(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.maintenance.enabled && !changesValues(cfg.chart.values, cfg.maintenance.values)) {
        ctx.addIssue({
            code: "custom",
            path: ["maintenance", "values"],
            message:
                "expected chart values that take the users out (e.g. appserver.replicas: 0, as in protheus:defaults of Pulumi.yaml): with these, enabling maintenance changes nothing in the release",
        });
    }
}

function prodIsBackedUp(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.stage === "prod" && !cfg.backup) ctx.addIssue({ code: "custom", path: ["backup"], message: "expected a backup section: prod must be backed up" });
}

function prodCopiesOffsite(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.stage === "prod" && cfg.backup?.targets.length === 0) {
        ctx.addIssue({ code: "custom", path: ["backup", "targets"], message: 'expected at least one offsite target ("gcs" and/or "rubrik") for prod' });
    }
}

function gcsTargetHasSection(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const b = cfg.backup;
    if (b && b.targets.includes("gcs") && !b.gcs) {
        ctx.addIssue({ code: "custom", path: ["backup", "gcs"], message: 'expected a gcs section because targets include "gcs"' });
    }
}

/** A prod backup must outlive a mistake or an attacker with the project's keys: README promises a locked retention. */
function prodBucketRetentionLocked(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const gcs = cfg.backup?.gcs;
    if (cfg.stage === "prod" && gcs && !gcs.lockRetention) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "gcs", "lockRetention"],
            message: "expected true in prod: the bucket's retention policy is locked, so nobody can delete a backup before retentionDays",
        });
    }
}

function rubrikTargetHasSection(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const b = cfg.backup;
    if (b && b.targets.includes("rubrik") && !b.rubrik) {
        ctx.addIssue({ code: "custom", path: ["backup", "rubrik"], message: 'expected a rubrik section because targets include "rubrik"' });
    }
}

/** Names built from the namespace are checked here, not first by GCP at `pulumi up`; only where a GCS target uses them. */
function gcsNamesFromNamespaceValid(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const b = cfg.backup;
    if (!b || !b.targets.includes("gcs") || !b.gcs || !dnsLabel.safeParse(cfg.namespace).success) return;
    const bucket = defaultBucketName(cfg.namespace);
    const bucketProblem = b.gcs.bucketName === undefined ? bucketNameProblem(bucket) : undefined;
    if (bucketProblem) {
        ctx.addIssue({
            code: "custom",
            path: ["namespace"],
            message: `the default bucket name "${bucket}" (protheus-backups-<namespace>) is not a valid GCS bucket name: ${bucketProblem}; shorten the namespace or set protheus:backup.gcs.bucketName`,
        });
    }
    const account = copyServiceAccountId(cfg.namespace);
    const accountProblem = serviceAccountIdProblem(account);
    if (accountProblem) {
        ctx.addIssue({
            code: "custom",
            path: ["namespace"],
            message: `the backup copy's Google service account id "${account}" (bkp-<namespace>) is not valid: ${accountProblem}`,
        });
    }
}

function backupPasswordGiven(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.backup && !cfg.backup.database.passwordSecret && cfg.databasePassword === undefined) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "database", "passwordSecret"],
            message: "expected either backup.database.passwordSecret (an existing Kubernetes Secret) or the secret protheus:databasePassword",
        });
    }
}

function restoreUserHasPasswordSecret(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const db = cfg.backup?.database;
    if (db && db.restoreUser !== undefined && !db.restorePasswordSecret) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "database", "restorePasswordSecret"],
            message: "expected {name, key} of an existing Kubernetes Secret holding the password of backup.database.restoreUser",
        });
    }
}

function restorePasswordSecretHasUser(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const db = cfg.backup?.database;
    if (db && db.restoreUser === undefined && db.restorePasswordSecret) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "database", "restoreUser"],
            message: "expected the user whose password backup.database.restorePasswordSecret holds",
        });
    }
}

function prodRestoresAsRestoreRole(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    if (cfg.stage === "prod" && cfg.backup && cfg.backup.database.restoreUser === undefined) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "database", "restoreUser"],
            message:
                "expected the restore role (e.g. protheus_restore: CREATEDB, member of the owner's role) in prod: the restore template and the drill must not run as the backup's read-only user",
        });
    }
}

function restoreRoleIsNotBackupRole(cfg: ParsedStackConfig, ctx: z.RefinementCtx): void {
    const db = cfg.backup?.database;
    if (db && db.restoreUser !== undefined && db.restoreUser === db.user) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "database", "restoreUser"],
            message: `expected a role other than backup.database.user ("${db.user}"): the backup role only reads, the restore role creates and replaces databases`,
        });
    }
}

/** The rules across keys, in the order their problems are listed; the schedules', drill's and alerts' are in config/drill.ts. */
export const STACK_RULES: readonly StackRule[] = [
    promotionOnlyInProd,
    restoreNeedsBackup,
    gcsRestoreNeedsGcsTarget,
    prodRestoreNeedsMaintenance,
    maintenanceChangesRelease,
    prodIsBackedUp,
    prodCopiesOffsite,
    gcsTargetHasSection,
    prodBucketRetentionLocked,
    rubrikTargetHasSection,
    gcsNamesFromNamespaceValid,
    backupPasswordGiven,
    restoreUserHasPasswordSecret,
    restorePasswordSecretHasUser,
    prodRestoresAsRestoreRole,
    restoreRoleIsNotBackupRole,
    ...SCHEDULE_AND_ALERT_RULES,
];

type SecretKeyRef = z.output<typeof secretKeyRef>;
/** Where the backup's database password comes from: an existing Secret, or the Pulumi secret protheus:databasePassword. */
export type BackupPassword = { secretRef: SecretKeyRef } | { value: string };
/** protheus:backup with its password's source resolved (backupPasswordGiven). */
export type BackupConfig = ParsedBackup & { password: BackupPassword };
/** prod restores as its own role (prodRestoresAsRestoreRole, restoreUserHasPasswordSecret). */
export type ProdBackupConfig = BackupConfig & { database: ParsedBackup["database"] & { restoreUser: string; restorePasswordSecret: SecretKeyRef } };
/** protheus:alerts with its project resolved: its own, or backup.gcs.project (alertsHaveProject). */
export type StackAlertsConfig = AlertsConfig & { project: string };
type SharedStackConfig = Omit<ParsedStackConfig, "stage" | "backup" | "alerts" | "promotion" | "databasePassword">;
export type ProdStackConfig = SharedStackConfig & {
    stage: "prod";
    backup: ProdBackupConfig;
    alerts: StackAlertsConfig;
    promotion?: ParsedStackConfig["promotion"];
};
export type HmlStackConfig = SharedStackConfig & { stage: "hml"; backup?: BackupConfig; alerts?: StackAlertsConfig; promotion?: undefined };
/** A valid stack config, typed with what the rules guarantee per stage. */
export type StackConfig = ProdStackConfig | HmlStackConfig;

/** A config that passed every rule still breaks `rule`: a rule and the narrowing below disagree. */
function ruleDisagrees(rule: StackRule): never {
    throw new Error(`config/schema.ts: a config passed ${rule.name} but does not have what that rule guarantees`);
}

/** The valid config in the shape StackConfig states; runs only when every key and every rule passed. */
function asStackConfig(cfg: ParsedStackConfig): StackConfig {
    const { stage, backup, alerts, promotion, databasePassword, ...shared } = cfg;
    let resolvedBackup: BackupConfig | undefined;
    if (backup) {
        const { passwordSecret } = backup.database;
        if (passwordSecret) resolvedBackup = { ...backup, password: { secretRef: passwordSecret } };
        else if (databasePassword !== undefined) resolvedBackup = { ...backup, password: { value: databasePassword } };
        else return ruleDisagrees(backupPasswordGiven);
    }
    const resolvedAlerts = alerts && { ...alerts, project: alerts.project ?? backup?.gcs?.project ?? ruleDisagrees(alertsHaveProject) };
    if (stage === "hml") return promotion ? ruleDisagrees(promotionOnlyInProd) : { ...shared, stage, backup: resolvedBackup, alerts: resolvedAlerts };
    if (!resolvedBackup) return ruleDisagrees(prodIsBackedUp);
    if (!resolvedAlerts) return ruleDisagrees(prodHasAlerts);
    const { restoreUser, restorePasswordSecret } = resolvedBackup.database;
    if (restoreUser === undefined) return ruleDisagrees(prodRestoresAsRestoreRole);
    if (!restorePasswordSecret) return ruleDisagrees(restoreUserHasPasswordSecret);
    return {
        ...shared,
        stage,
        promotion,
        backup: { ...resolvedBackup, database: { ...resolvedBackup.database, restoreUser, restorePasswordSecret } },
        alerts: resolvedAlerts,
    };
}

/** The one schema of a stack's `protheus:*` config: every key, then every rule across keys, then the typed result. */
export const stackConfigSchema = stackConfigKeys
    .superRefine((cfg, ctx) => {
        for (const rule of STACK_RULES) rule(cfg, ctx);
    })
    .transform(asStackConfig);

export type ChartConfig = StackConfig["chart"];
export type ClusterConfig = StackConfig["cluster"];
export type UpdaterConfig = StackConfig["updater"];
export type VolumeConfig = StackConfig["volume"];
export type RestoreConfig = z.infer<typeof restoreSchema>;
export type MaintenanceConfig = z.infer<typeof maintenanceSchema>;
export type ToolboxConfig = z.infer<typeof toolboxSchema>;

/** Keys whose values must come from `pulumi config set --secret`. */
export const SECRET_KEYS = ["databasePassword"] as const;
/**
 * Keys that may hold a secret (`pulumi config set --secret --path 'protheus:chart.values.x'`): the chart's
 * settings reach only the Helm release, whose inputs then stay a Pulumi secret. Every other key's values
 * go into object names, labels, ConfigMaps and the plan in clear, so a secret there is refused.
 */
export const SECRET_CAPABLE_KEYS = ["chart", "maintenance"] as const;

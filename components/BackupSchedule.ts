import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    BACKUP_CRONJOB,
    BACKUP_SERVICE_ACCOUNT,
    COPY_CRONJOB,
    MANUAL_BACKUP_CRONJOB,
    DATABASE_SECRET,
    RESTORE_CRONJOB,
    RESTORE_REQUEST_CONFIGMAP,
    SCRIPTS_CONFIGMAP,
    SETTINGS_CONFIGMAP,
} from "./backup/names";
import { databaseSettings, DatabaseConnection, DatabaseIdentity, identityEnv, passwordEnv, SCRIPTS_MOUNT, scriptContainer, scriptPod } from "./backup/pod";
import { commonLabels, Stage } from "./labels";

export type OffsiteTarget = "gcs" | "rubrik";

/** Where the Rubrik Managed Volume (NFS) is mounted in the copy job. */
export const RUBRIK_MOUNT = "/rubrik";
/** The nightly dump must be done long before the 06:00 copy. */
export const NIGHTLY_DEADLINE_SECONDS = 8 * 3600;

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** What a restore Job restores: the RESTORE_* variables of restore.sh. */
export interface RestoreSelection {
    backup: string;
    source: "volume" | "gcs";
    replace: boolean;
}

export interface BackupScheduleArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    timeZone: string;
    volumeClaimName: pulumi.Input<string>;
    /** Dump into the volume (the runbook: every day from 21:00). */
    schedule: string;
    /** Ship to GCS/Rubrik (the runbook: at 06:00). */
    copySchedule: string;
    database: Omit<DatabaseConnection, "passwordSecret">;
    /** An existing Secret holding the password, or the password (a Pulumi secret) to put in one. */
    password: { secretRef: { name: string; key: string } } | { value: pulumi.Output<string> };
    /** Who the restore template and the restore Jobs connect as (components/backup/pod.ts restoreIdentity). */
    restoreIdentity: DatabaseIdentity;
    dumpJobs: number;
    retentionDays: number;
    keepMin: number;
    targets: OffsiteTarget[];
    /** Required when targets include gcs. */
    gcs?: { bucket: pulumi.Input<string>; serviceAccountEmail: pulumi.Input<string> };
    /** Required when targets include rubrik. */
    rubrik?: { nfsServer: string; exportPath: string };
    images: { postgres: string; cloudSdk: string };
    /** backup.sh, copy.sh, restore.sh: shipped in a ConfigMap and run by stock images. */
    scripts: Record<string, string>;
}

/**
 * The environment's backup cycle: `protheus-backup` dumps the database into
 * the volume at 21:00, `protheus-backup-copy` ships complete backups offsite
 * at 06:00, the suspended `protheus-backup-manual` and `protheus-restore` are
 * the on-demand backup and restore templates (`kubectl create job --from=cronjob/...`).
 */
export class BackupSchedule extends pulumi.ComponentResource {
    public readonly serviceAccountName?: pulumi.Output<string>;
    /** What a backup or restore Job needs before its pod can start: the scripts and the settings ConfigMaps. */
    public readonly jobInputs: pulumi.Resource[];
    private readonly podArgs: { volumeClaimName: pulumi.Input<string>; images: { postgres: string; cloudSdk: string }; password: EnvVar; restoreCredentials: EnvVar[]; restoreEnv: EnvVar[]; gcs: boolean };

    constructor(name: string, args: BackupScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:BackupSchedule", name, {}, opts);
        const labels = commonLabels(args.stage, "backup");
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });
        if (args.targets.includes("gcs") && !args.gcs) throw new Error("BackupSchedule: targets include gcs but no gcs settings were given");
        if (args.targets.includes("rubrik") && !args.rubrik) throw new Error("BackupSchedule: targets include rubrik but no rubrik settings were given");

        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, { metadata: meta(SCRIPTS_CONFIGMAP), data: args.scripts }, { parent: this });
        const settings = new k8s.core.v1.ConfigMap(
            `${name}-settings`,
            {
                metadata: meta(SETTINGS_CONFIGMAP),
                data: {
                    ...databaseSettings(args.database),
                    BACKUP_JOBS: String(args.dumpJobs),
                    BACKUP_RETENTION_DAYS: String(args.retentionDays),
                    BACKUP_KEEP_MIN: String(args.keepMin),
                },
            },
            { parent: this },
        );
        this.jobInputs = [scripts, settings];
        const settingsFrom = { configMapRef: { name: SETTINGS_CONFIGMAP } };

        let passwordSecret: { name: pulumi.Input<string>; key: string };
        if ("secretRef" in args.password) {
            passwordSecret = args.password.secretRef;
        } else {
            const secret = new k8s.core.v1.Secret(
                `${name}-database`,
                { metadata: meta(DATABASE_SECRET), type: "Opaque", stringData: { password: pulumi.secret(args.password.value) } },
                { parent: this },
            );
            passwordSecret = { name: secret.metadata.name, key: "password" };
        }
        const db: DatabaseConnection = { ...args.database, passwordSecret };

        let serviceAccountName: pulumi.Output<string> | undefined;
        if (args.gcs) {
            // GKE Workload Identity: pods of this KSA act as the backup Google service account.
            const ksa = new k8s.core.v1.ServiceAccount(
                `${name}-sa`,
                {
                    metadata: { ...meta(BACKUP_SERVICE_ACCOUNT), annotations: { "iam.gke.io/gcp-service-account": args.gcs.serviceAccountEmail } },
                    automountServiceAccountToken: false,
                },
                { parent: this },
            );
            serviceAccountName = ksa.metadata.name;
        }
        const cronJob = (resourceName: string, objectName: string, spec: Omit<k8s.types.input.batch.v1.CronJobSpec, "concurrencyPolicy" | "timeZone">) =>
            new k8s.batch.v1.CronJob(
                resourceName,
                {
                    metadata: meta(objectName),
                    spec: {
                        timeZone: args.timeZone,
                        // Two dumps or two uploads of one database at once only slow each other down.
                        concurrencyPolicy: "Forbid",
                        // Failed runs stay so their pods' logs can be collected.
                        failedJobsHistoryLimit: 3,
                        successfulJobsHistoryLimit: 3,
                        ...spec,
                    },
                },
                { parent: this, dependsOn: [scripts, settings] },
            );

        const restoreEnv: EnvVar[] = [
            { name: "BACKUP_NAMESPACE", value: args.namespace },
            ...(args.gcs ? [{ name: "GCS_BUCKET", value: args.gcs.bucket }] : []),
        ];
        this.podArgs = { volumeClaimName: args.volumeClaimName, images: args.images, password: passwordEnv(db), restoreCredentials: identityEnv(args.restoreIdentity), restoreEnv, gcs: args.gcs !== undefined };
        this.serviceAccountName = serviceAccountName;

        cronJob(`${name}-backup`, BACKUP_CRONJOB, {
            schedule: args.schedule,
            // A controller outage of up to an hour still gets the night's backup.
            startingDeadlineSeconds: 3600,
            jobTemplate: { metadata: { labels }, spec: this.backupJobSpec([{ name: "BACKUP_REASON", value: "nightly" }], NIGHTLY_DEADLINE_SECONDS, labels) },
        });

        // The manual backup template: a Job copied from the nightly CronJob would be recorded as `nightly`
        // (`kubectl create job --from` cannot change a variable). Suspended, February 31st: never fires.
        cronJob(`${name}-manual`, MANUAL_BACKUP_CRONJOB, {
            schedule: "0 0 31 2 *",
            suspend: true,
            jobTemplate: { metadata: { labels }, spec: this.backupJobSpec([{ name: "BACKUP_REASON", value: "manual" }], NIGHTLY_DEADLINE_SECONDS, labels) },
        });

        if (args.targets.length > 0) {
            const offsiteEnv: pulumi.Input<k8s.types.input.core.v1.EnvVar>[] = [
                { name: "PGDATABASE", value: args.database.name },
                { name: "BACKUP_TARGETS", value: args.targets.join(",") },
                { name: "BACKUP_NAMESPACE", value: args.namespace },
            ];
            if (args.gcs) offsiteEnv.push({ name: "GCS_BUCKET", value: args.gcs.bucket });
            if (args.rubrik) offsiteEnv.push({ name: "RUBRIK_DIR", value: RUBRIK_MOUNT });
            cronJob(`${name}-copy`, COPY_CRONJOB, {
                schedule: args.copySchedule,
                startingDeadlineSeconds: 3600,
                jobTemplate: {
                    metadata: { labels },
                    spec: {
                        // Idempotent: a retry ships only what is still missing.
                        backoffLimit: 2,
                        activeDeadlineSeconds: 6 * 3600,
                        template: {
                            metadata: { labels },
                            spec: scriptPod({
                                volumeClaimName: args.volumeClaimName,
                                serviceAccountName,
                                extraVolumes: args.rubrik ? [{ name: "rubrik", nfs: { server: args.rubrik.nfsServer, path: args.rubrik.exportPath } }] : [],
                                containers: [
                                    scriptContainer({
                                        name: "copy",
                                        image: args.images.cloudSdk,
                                        script: "copy.sh",
                                        // The copy only reads the volume; it can never damage a local backup.
                                        volumeReadOnly: true,
                                        env: offsiteEnv,
                                        extraMounts: args.rubrik ? [{ name: "rubrik", mountPath: RUBRIK_MOUNT }] : [],
                                    }),
                                ],
                            }),
                        },
                    },
                },
            });
        }

        // The restore template: suspended, run only as `kubectl create job --from=cronjob/protheus-restore`.
        // What to restore comes from the optional ConfigMap protheus-restore-request (the emergency route;
        // the reviewed route is protheus:restore).
        const requestFrom = [settingsFrom, { configMapRef: { name: RESTORE_REQUEST_CONFIGMAP, optional: true } }];
        cronJob(`${name}-restore`, RESTORE_CRONJOB, {
            // February 31st: even if someone unsuspends the template, it never fires on its own.
            schedule: "0 0 31 2 *",
            suspend: true,
            jobTemplate: {
                metadata: { labels },
                spec: this.restoreJobSpec({ envFrom: requestFrom, activeDeadlineSeconds: 12 * 3600, labels }),
            },
        });

        this.registerOutputs({ serviceAccountName });
    }

    /** A backup run's Job spec: backup.sh in the postgres image, settings from the settings ConfigMap, `env` on top. */
    public backupJobSpec(env: EnvVar[], activeDeadlineSeconds: number, labels: Record<string, string>): k8s.types.input.batch.v1.JobSpec {
        return {
            // A retry is safe: a failed run removes its own .partial directory.
            backoffLimit: 1,
            activeDeadlineSeconds,
            template: {
                metadata: { labels },
                spec: scriptPod({
                    volumeClaimName: this.podArgs.volumeClaimName,
                    containers: [
                        scriptContainer({
                            name: "backup",
                            image: this.podArgs.images.postgres,
                            script: "backup.sh",
                            volumeReadOnly: false,
                            env: [this.podArgs.password, ...env],
                            envFrom: [{ configMapRef: { name: SETTINGS_CONFIGMAP } }],
                        }),
                    ],
                }),
            },
        };
    }

    /**
     * A restore run's Job spec: restore.sh in the postgres image, after `restore.sh --fetch-only`
     * in the Cloud SDK image when the backup may come from GCS (postgres has no gcloud).
     * `selection` fixes what to restore in the spec; otherwise it comes from `envFrom`.
     */
    public restoreJobSpec(o: { selection?: RestoreSelection; envFrom?: k8s.types.input.core.v1.EnvFromSource[]; activeDeadlineSeconds: number; labels: Record<string, string> }): k8s.types.input.batch.v1.JobSpec {
        const { images, gcs } = this.podArgs;
        const selected: EnvVar[] = o.selection
            ? [
                  { name: "RESTORE_BACKUP", value: o.selection.backup },
                  { name: "RESTORE_SOURCE", value: o.selection.source },
                  { name: "RESTORE_REPLACE", value: o.selection.replace ? "yes" : "no" },
              ]
            : [];
        const envFrom = o.envFrom ?? [{ configMapRef: { name: SETTINGS_CONFIGMAP } }];
        const env = [...this.podArgs.restoreEnv, ...selected];
        const fetch = o.selection
            ? o.selection.source === "gcs"
            : gcs;
        const fetchFromGcs = fetch
            ? [
                  scriptContainer({
                      name: "fetch",
                      image: images.cloudSdk,
                      script: "restore.sh",
                      // The template fetches only when its request says RESTORE_SOURCE=gcs; a request Job fixed to gcs always does.
                      command: o.selection
                          ? ["bash", `${SCRIPTS_MOUNT}/restore.sh`, "--fetch-only"]
                          : ["bash", "-c", `if [ "\${RESTORE_SOURCE:-volume}" = gcs ]; then exec bash ${SCRIPTS_MOUNT}/restore.sh --fetch-only; fi`],
                      volumeReadOnly: false,
                      env,
                      envFrom,
                  }),
              ]
            : undefined;
        return {
            // Never retry a restore on its own: an operator reads why it failed.
            backoffLimit: 0,
            activeDeadlineSeconds: o.activeDeadlineSeconds,
            template: {
                metadata: { labels: o.labels },
                spec: scriptPod({
                    volumeClaimName: this.podArgs.volumeClaimName,
                    serviceAccountName: fetch ? this.serviceAccountName : undefined,
                    initContainers: fetchFromGcs,
                    containers: [
                        scriptContainer({
                            name: "restore",
                            image: images.postgres,
                            script: "restore.sh",
                            volumeReadOnly: false,
                            env: [...this.podArgs.restoreCredentials, ...env],
                            envFrom,
                        }),
                    ],
                }),
            },
        };
    }
}

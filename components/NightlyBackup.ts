import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { databaseSettings, DatabaseConnection, passwordEnv, RobotPods, scriptContainer, scriptCronJobSpec, scriptPod, NEVER } from "./backup/pod";
import { commonLabels, Stage } from "./labels";
import { BACKUP_CRONJOB, childName, COMPONENTS, DATABASE_SECRET, MANUAL_BACKUP_CRONJOB, SCRIPTS_CONFIGMAP, SETTINGS_CONFIGMAP } from "./names";

type EnvVar = k8s.types.input.core.v1.EnvVar;

export interface NightlyBackupArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    timeZone: string;
    volumeClaimName: pulumi.Input<string>;
    /** Dump into the volume (the runbook: every day from 21:00). */
    schedule: string;
    /** How long a run may take: the backup window the schema keeps the copy and the drill out of. */
    deadlineSeconds: number;
    database: Omit<DatabaseConnection, "passwordSecret">;
    /** An existing Secret holding the password, or the password (a Pulumi secret) to put in one. */
    password: { secretRef: { name: string; key: string } } | { value: pulumi.Output<string> };
    dumpJobs: number;
    retentionDays: number;
    keepMin: number;
    images: { postgres: string };
    /** Who the backup container runs as and its resources (protheus:podSecurity). */
    pods: RobotPods;
    /** backup.sh, copy.sh, restore.sh, drill.sh, lib.sh: shipped in a ConfigMap and run by stock images. */
    scripts: Record<string, string>;
}

/**
 * The backup into the environment volume: the scripts and settings ConfigMaps every
 * backup, copy and restore Job reads, `protheus-backup` (21:00, reason `nightly`) and
 * the suspended template `protheus-backup-manual` (reason `manual`), and the Job spec
 * the backup before a version change borrows.
 */
export class NightlyBackup extends pulumi.ComponentResource {
    /** What a backup or restore Job needs before its pod can start: the scripts and the settings ConfigMaps. */
    public readonly jobInputs: pulumi.Resource[];
    private readonly podArgs: { volumeClaimName: pulumi.Input<string>; image: string; password: EnvVar; pods: RobotPods };

    constructor(name: string, args: NightlyBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        // Was BackupSchedule, which also held the copy and the restore template.
        super("protheus:index:NightlyBackup", name, {}, { ...opts, aliases: [{ type: "protheus:index:BackupSchedule" }] });
        const labels = commonLabels(args.stage, COMPONENTS.backup);
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });

        const scripts = new k8s.core.v1.ConfigMap(childName(name, "scripts"), { metadata: meta(SCRIPTS_CONFIGMAP), data: args.scripts }, { parent: this });
        const settings = new k8s.core.v1.ConfigMap(
            childName(name, "settings"),
            {
                metadata: meta(SETTINGS_CONFIGMAP),
                data: {
                    ...databaseSettings(args.database),
                    BACKUP_JOBS: String(args.dumpJobs),
                    BACKUP_RETENTION_DAYS: String(args.retentionDays),
                    BACKUP_KEEP_MIN: String(args.keepMin),
                    // The environment every outcome line names.
                    BACKUP_NAMESPACE: args.namespace,
                },
            },
            { parent: this },
        );
        this.jobInputs = [scripts, settings];

        let passwordSecret: { name: pulumi.Input<string>; key: string };
        if ("secretRef" in args.password) {
            passwordSecret = args.password.secretRef;
        } else {
            const secret = new k8s.core.v1.Secret(
                childName(name, "database"),
                { metadata: meta(DATABASE_SECRET), type: "Opaque", stringData: { password: pulumi.secret(args.password.value) } },
                { parent: this },
            );
            passwordSecret = { name: secret.metadata.name, key: "password" };
        }
        this.podArgs = { volumeClaimName: args.volumeClaimName, image: args.images.postgres, password: passwordEnv({ passwordSecret }), pods: args.pods };

        new k8s.batch.v1.CronJob(
            childName(name),
            {
                metadata: meta(BACKUP_CRONJOB),
                spec: scriptCronJobSpec(args.timeZone, {
                    schedule: args.schedule,
                    // A controller outage of up to an hour still gets the night's backup.
                    startingDeadlineSeconds: 3600,
                    jobTemplate: {
                        metadata: { labels },
                        spec: this.backupJobSpec([{ name: "BACKUP_REASON", value: "nightly" }], args.deadlineSeconds, labels),
                    },
                }),
            },
            // Was `<name>-backup`: the alias keeps the deployed CronJob (a new name alone is a delete and a create).
            { parent: this, dependsOn: this.jobInputs, aliases: [{ name: `${name}-backup` }] },
        );

        // A Job copied from the nightly CronJob would be recorded as `nightly` (`kubectl create job --from`
        // cannot change a variable): backups by hand are copied from this suspended template instead.
        new k8s.batch.v1.CronJob(
            childName(name, "manual"),
            {
                metadata: meta(MANUAL_BACKUP_CRONJOB),
                spec: scriptCronJobSpec(args.timeZone, {
                    schedule: NEVER,
                    suspend: true,
                    jobTemplate: { metadata: { labels }, spec: this.backupJobSpec([{ name: "BACKUP_REASON", value: "manual" }], args.deadlineSeconds, labels) },
                }),
            },
            { parent: this, dependsOn: this.jobInputs },
        );

        this.registerOutputs({});
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
                    pods: this.podArgs.pods,
                    containers: [
                        scriptContainer({
                            name: "backup",
                            image: this.podArgs.image,
                            script: "backup.sh",
                            volumeReadOnly: false,
                            env: [this.podArgs.password, ...env],
                            envFrom: [{ configMapRef: { name: SETTINGS_CONFIGMAP } }],
                            pods: this.podArgs.pods,
                        }),
                    ],
                }),
            },
        };
    }
}

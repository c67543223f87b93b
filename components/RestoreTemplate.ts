import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseIdentity, formerlyUnder, identityEnv, NEVER, RobotPods, SCRIPTS_MOUNT, scriptContainer, scriptCronJobSpec, scriptPod } from "./backup/pod";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS, RESTORE_CRONJOB, RESTORE_REQUEST_CONFIGMAP, SETTINGS_CONFIGMAP } from "./names";

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** How long a restore from the template may run. */
export const RESTORE_TEMPLATE_DEADLINE_SECONDS = 12 * 3600;

/** What a restore Job restores: the RESTORE_* variables of restore.sh. */
export interface RestoreSelection {
    backup: string;
    source: "volume" | "gcs";
    replace: boolean;
}

export interface RestoreTemplateArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    timeZone: string;
    volumeClaimName: pulumi.Input<string>;
    /** Who restores connect as (components/backup/pod.ts restoreIdentity). */
    identity: DatabaseIdentity;
    /** When backups ship to GCS: the bucket, and the service account its fetch runs as (OffsiteCopy). */
    gcs?: { bucket: pulumi.Input<string>; serviceAccountName: pulumi.Input<string> };
    images: { postgres: string; cloudSdk: string };
    /** Who the restore and fetch containers run as and their resources (protheus:podSecurity). */
    pods: RobotPods;
    /** The scripts and settings ConfigMaps (NightlyBackup.jobInputs). */
    jobInputs: pulumi.Resource[];
}

/**
 * The emergency restore: the suspended template `protheus-restore`, run only as
 * `kubectl create job --from=cronjob/protheus-restore`, reading what to restore
 * from the optional ConfigMap protheus-restore-request; and the restore Job
 * spec the reviewed route (RestoreRequest, protheus:restore) borrows.
 */
export class RestoreTemplate extends pulumi.ComponentResource {
    private readonly podArgs: {
        volumeClaimName: pulumi.Input<string>;
        images: { postgres: string; cloudSdk: string };
        credentials: EnvVar[];
        env: EnvVar[];
        serviceAccountName?: pulumi.Input<string>;
        pods: RobotPods;
    };

    constructor(name: string, args: RestoreTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:RestoreTemplate", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.restore);
        this.podArgs = {
            volumeClaimName: args.volumeClaimName,
            images: args.images,
            credentials: identityEnv(args.identity),
            env: [{ name: "BACKUP_NAMESPACE", value: args.namespace }, ...(args.gcs ? [{ name: "GCS_BUCKET", value: args.gcs.bucket }] : [])],
            serviceAccountName: args.gcs?.serviceAccountName,
            pods: args.pods,
        };

        // The request's keys arrive as REQUEST_<key>: restore.sh reads only its documented ones, so a
        // request can never set the connection (PGHOST) or anything else of the pod.
        const requestFrom = [
            { configMapRef: { name: SETTINGS_CONFIGMAP } },
            { configMapRef: { name: RESTORE_REQUEST_CONFIGMAP, optional: true }, prefix: "REQUEST_" },
        ];
        new k8s.batch.v1.CronJob(
            childName(name),
            {
                metadata: { name: RESTORE_CRONJOB, namespace: args.namespace, labels },
                spec: scriptCronJobSpec(args.timeZone, {
                    schedule: NEVER,
                    suspend: true,
                    jobTemplate: {
                        metadata: { labels },
                        spec: this.restoreJobSpec({ envFrom: requestFrom, activeDeadlineSeconds: RESTORE_TEMPLATE_DEADLINE_SECONDS, labels }),
                    },
                }),
            },
            // Stacks deployed with the one BackupSchedule component hold it as its child "backup-restore".
            { parent: this, dependsOn: args.jobInputs, aliases: [formerlyUnder("protheus:index:BackupSchedule", "backup", "backup-restore", opts)] },
        );
        this.registerOutputs({});
    }

    /**
     * A restore run's Job spec: restore.sh in the postgres image, after `restore.sh --fetch-only`
     * in the Cloud SDK image when the backup may come from GCS (postgres has no gcloud).
     * `selection` fixes what to restore in the spec; otherwise it comes from `envFrom`.
     */
    public restoreJobSpec(o: {
        selection?: RestoreSelection;
        envFrom?: k8s.types.input.core.v1.EnvFromSource[];
        activeDeadlineSeconds: number;
        labels: Record<string, string>;
    }): k8s.types.input.batch.v1.JobSpec {
        const { images, serviceAccountName, pods } = this.podArgs;
        const selected: EnvVar[] = o.selection
            ? [
                  { name: "RESTORE_BACKUP", value: o.selection.backup },
                  { name: "RESTORE_SOURCE", value: o.selection.source },
                  { name: "RESTORE_REPLACE", value: o.selection.replace ? "yes" : "no" },
              ]
            : [];
        const envFrom = o.envFrom ?? [{ configMapRef: { name: SETTINGS_CONFIGMAP } }];
        const env = [...this.podArgs.env, ...selected];
        const fetch = o.selection ? o.selection.source === "gcs" : serviceAccountName !== undefined;
        const fetchFromGcs = fetch
            ? [
                  scriptContainer({
                      name: "fetch",
                      image: images.cloudSdk,
                      script: "restore.sh",
                      // The template fetches only when its request says RESTORE_SOURCE=gcs; a request Job fixed to gcs always does.
                      command: o.selection
                          ? ["bash", `${SCRIPTS_MOUNT}/restore.sh`, "--fetch-only"]
                          : ["bash", "-c", `if [ "\${REQUEST_RESTORE_SOURCE:-volume}" = gcs ]; then exec bash ${SCRIPTS_MOUNT}/restore.sh --fetch-only; fi`],
                      volumeReadOnly: false,
                      env,
                      envFrom,
                      pods,
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
                    serviceAccountName: fetch ? serviceAccountName : undefined,
                    initContainers: fetchFromGcs,
                    pods,
                    containers: [
                        scriptContainer({
                            name: "restore",
                            image: images.postgres,
                            script: "restore.sh",
                            volumeReadOnly: false,
                            // The restore role, over the settings ConfigMap's PGUSER (the backup's read-only role).
                            env: [...this.podArgs.credentials, ...env],
                            envFrom,
                            pods,
                        }),
                    ],
                }),
            },
        };
    }
}

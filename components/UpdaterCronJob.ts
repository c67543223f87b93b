import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VOLUME_MOUNT_PATH } from "./EnvironmentVolume";
import { commonLabels, Stage } from "./labels";

/** The CronJob name the runbook edits (`kubectl -n <ns> edit cj protheus-updater`). */
export const UPDATER_NAME = "protheus-updater";
/** UPDDISTR's entry point inside the updater image. */
export const UPDATER_COMMAND = ["init-upddistr"];
/**
 * The sleeper: the pod stays up doing nothing, so an operator can `kubectl cp`
 * a fixed RPO into it and run `init-upddistr` by hand. A number, not
 * `infinity`, because busybox-based images only take seconds.
 */
export const SLEEPER_COMMAND = ["sleep", "2147483647"];

export interface UpdaterCronJobArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    /** Image repository; the tag is `tag` or else `updateDesiredVersion`. */
    image: string;
    tag?: string;
    updateDesiredVersion: string;
    schedule: string;
    timeZone: string;
    sleeper: boolean;
    suspend: boolean;
    volumeClaimName: pulumi.Input<string>;
    failedJobsHistoryLimit: number;
    successfulJobsHistoryLimit: number;
}

export function updaterImage(args: Pick<UpdaterCronJobArgs, "image" | "tag" | "updateDesiredVersion">): string {
    return `${args.image}:${args.tag ?? args.updateDesiredVersion}`;
}

/**
 * The `protheus-updater` CronJob that runs UPDDISTR (`init-upddistr`).
 * UPDDISTR needs the environment in exclusive mode, so runs never overlap,
 * and failed pods are kept so /volume/logs/UPDDISTR.LOG can be read from them.
 */
export class UpdaterCronJob extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: UpdaterCronJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:UpdaterCronJob", name, {}, opts);
        const labels = commonLabels(args.stage, "updater");
        this.cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: { name: UPDATER_NAME, namespace: args.namespace, labels },
                spec: {
                    schedule: args.schedule,
                    timeZone: args.timeZone,
                    suspend: args.suspend,
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 600,
                    failedJobsHistoryLimit: args.failedJobsHistoryLimit,
                    successfulJobsHistoryLimit: args.successfulJobsHistoryLimit,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            // A retry would re-run a half-applied dictionary update: an operator decides instead.
                            backoffLimit: 0,
                            template: {
                                metadata: { labels },
                                spec: {
                                    restartPolicy: "Never",
                                    containers: [
                                        {
                                            name: "upddistr",
                                            image: updaterImage(args),
                                            command: args.sleeper ? SLEEPER_COMMAND : UPDATER_COMMAND,
                                            env: [{ name: "UPDATE_DESIRED_VERSION", value: args.updateDesiredVersion }],
                                            volumeMounts: [{ name: "volume", mountPath: VOLUME_MOUNT_PATH }],
                                        },
                                    ],
                                    volumes: [{ name: "volume", persistentVolumeClaim: { claimName: args.volumeClaimName } }],
                                },
                            },
                        },
                    },
                },
            },
            { parent: this },
        );
        this.registerOutputs({ name: this.cronJob.metadata.name });
    }
}

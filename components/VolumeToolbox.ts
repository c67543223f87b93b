import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VOLUME_MOUNT_PATH } from "./EnvironmentVolume";
import { commonLabels, Stage } from "./labels";
import { COMPONENTS, TOOLBOX_NAME } from "./names";
import { restrictedContainer, restrictedPod } from "./podSecurity";

/** The CronJob operators start a toolbox from: `kubectl create job --from=cronjob/protheus-toolbox <name>`. */
/** The flag file names of protheus:updater.completionFlags, space-separated, for a shell loop. */
export const COMPLETION_FLAGS_ENV = "COMPLETION_FLAGS";
export const FLAGS_DIR = `${VOLUME_MOUNT_PATH}/flags`;
/**
 * The one command that writes the configured flags (`<job>` is the toolbox Job's name).
 * `kubectl exec job/<name>` picks the Job's pod.
 */
export function writeFlagsCommand(namespace: string, job: string): string {
    return `kubectl -n ${namespace} exec job/${job} -- sh -c 'mkdir -p ${FLAGS_DIR} && for f in $${COMPLETION_FLAGS_ENV}; do touch "${FLAGS_DIR}/$f"; done; ls -l ${FLAGS_DIR}'`;
}

export interface VolumeToolboxArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    volumeClaimName: pulumi.Input<string>;
    timeZone: string;
    /** A small pinned image with sh, ls, cat, tail, touch. */
    image: string;
    /** A uid allowed to write /volume/flags. */
    runAsUser: number;
    /** The pod ends by itself after this long. */
    hours: number;
    /** protheus:updater.completionFlags. */
    completionFlags: readonly string[];
}

/**
 * A shell on the environment volume for the abort procedure: read
 * /volume/logs (UPDDISTR.LOG), write /volume/flags. A suspended CronJob (it
 * never runs on its own); each Job made from it sleeps `hours` and ends, with
 * a deadline as a backstop, so a forgotten toolbox never lingers.
 */
export class VolumeToolbox extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: VolumeToolboxArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:VolumeToolbox", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.toolbox);
        const seconds = args.hours * 3600;
        this.cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: { name: TOOLBOX_NAME, namespace: args.namespace, labels },
                spec: {
                    // February 31st: even if someone unsuspends it, it never fires on its own.
                    schedule: "0 0 31 2 *",
                    timeZone: args.timeZone,
                    suspend: true,
                    concurrencyPolicy: "Forbid",
                    failedJobsHistoryLimit: 1,
                    successfulJobsHistoryLimit: 1,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            backoffLimit: 0,
                            activeDeadlineSeconds: seconds + 600,
                            template: {
                                metadata: { labels },
                                spec: {
                                    restartPolicy: "Never",
                                    automountServiceAccountToken: false,
                                    securityContext: restrictedPod({ runAsUser: args.runAsUser, runAsGroup: args.runAsUser }),
                                    containers: [
                                        {
                                            name: "toolbox",
                                            image: args.image,
                                            command: ["sleep", String(seconds)],
                                            env: [
                                                { name: COMPLETION_FLAGS_ENV, value: args.completionFlags.join(" ") },
                                                { name: "HOME", value: "/tmp" },
                                            ],
                                            workingDir: VOLUME_MOUNT_PATH,
                                            volumeMounts: [
                                                { name: "volume", mountPath: VOLUME_MOUNT_PATH },
                                                { name: "tmp", mountPath: "/tmp" },
                                            ],
                                            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                                            securityContext: restrictedContainer({ runAsUser: args.runAsUser, runAsGroup: args.runAsUser }),
                                        },
                                    ],
                                    volumes: [
                                        { name: "volume", persistentVolumeClaim: { claimName: args.volumeClaimName } },
                                        { name: "tmp", emptyDir: {} },
                                    ],
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

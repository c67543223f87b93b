import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VOLUME_MOUNT_PATH } from "./EnvironmentVolume";
import { commonLabels, Stage } from "./labels";
import { COMPONENT_LABEL, COMPONENTS, UPDATER_NAME, UPDATER_SCRIPTS_CONFIGMAP } from "./names";
import { ImagePodSecurity, imagePod } from "./podSecurity";

/** UPDDISTR's entry point inside the updater image. */
export const UPDDISTR_ENTRY_POINT = "init-upddistr";
const SCRIPTS_MOUNT = "/scripts";
/**
 * The updater runs init-upddistr through the wrapper: it keeps UPDDISTR's exit
 * code and prints the end of UPDDISTR.LOG and result.json to the pod's log, so
 * `kubectl logs` of a failed (finished) updater pod shows why.
 */
export const UPDATER_COMMAND = ["sh", `${SCRIPTS_MOUNT}/upddistr.sh`];
/**
 * Every Job and pod of the updater carries this label (also those made with
 * `kubectl create job --from=cronjob/protheus-updater`, which copies the template's labels),
 * so `kubectl delete job -l app.kubernetes.io/component=updater` removes leftover update Jobs.
 */
export const UPDATER_JOB_SELECTOR = `${COMPONENT_LABEL}=${COMPONENTS.updater}`;

/**
 * The sleeper: the pod stays up doing nothing, so an operator can `kubectl cp`
 * a fixed RPO into it and run `init-upddistr` by hand. It ends by itself after
 * `hours` (a number of seconds: busybox-based images take no `infinity`), and
 * the Job's deadline ends it even if sleep does not.
 */
export function sleeperCommand(hours: number): string[] {
    return ["sleep", String(hours * 3600)];
}
/** The sleeping Job's deadline: the sleep plus 10 minutes to start the pod. */
export function sleeperDeadlineSeconds(hours: number): number {
    return hours * 3600 + 600;
}

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
    sleeperHours: number;
    suspend: boolean;
    volumeClaimName: pulumi.Input<string>;
    failedJobsHistoryLimit: number;
    successfulJobsHistoryLimit: number;
    /** How many lines of UPDDISTR.LOG the wrapper prints when UPDDISTR ends. */
    logLines: number;
    /** upddistr.sh, shipped in the updater's own ConfigMap. */
    scripts: Record<string, string>;
    /** Who the updater runs as, its root filesystem and resources (protheus:podSecurity.updater). */
    podSecurity: ImagePodSecurity;
}

export function updaterImage(args: Pick<UpdaterCronJobArgs, "image" | "tag" | "updateDesiredVersion">): string {
    return `${args.image}:${args.tag ?? args.updateDesiredVersion}`;
}

/**
 * The `protheus-updater` CronJob that runs UPDDISTR (`init-upddistr`, through
 * scripts/upddistr.sh). UPDDISTR needs the environment in exclusive mode, so
 * runs never overlap, and failed pods are kept so their log can be read. The
 * CronJob moves to a new version only after the release did (dependsOn).
 */
export class UpdaterCronJob extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: UpdaterCronJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:UpdaterCronJob", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.updater);
        const security = imagePod(args.podSecurity);
        // Independent of the backup section: the wrapper must exist wherever the updater runs.
        const scripts = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            { metadata: { name: UPDATER_SCRIPTS_CONFIGMAP, namespace: args.namespace, labels }, data: args.scripts },
            { parent: this },
        );
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
                            // Only a sleeping Job has a deadline: UPDDISTR itself may run as long as it needs.
                            activeDeadlineSeconds: args.sleeper ? sleeperDeadlineSeconds(args.sleeperHours) : undefined,
                            template: {
                                metadata: { labels: { ...labels, ...security.labels } },
                                spec: {
                                    restartPolicy: "Never",
                                    ...security.pod,
                                    containers: [
                                        {
                                            name: "upddistr",
                                            image: updaterImage(args),
                                            command: args.sleeper ? sleeperCommand(args.sleeperHours) : UPDATER_COMMAND,
                                            env: [
                                                { name: "UPDATE_DESIRED_VERSION", value: args.updateDesiredVersion },
                                                { name: "UPDDISTR_COMMAND", value: UPDDISTR_ENTRY_POINT },
                                                { name: "UPDDISTR_LOG", value: `${VOLUME_MOUNT_PATH}/logs/UPDDISTR.LOG` },
                                                { name: "UPDDISTR_RESULT", value: `${VOLUME_MOUNT_PATH}/logs/result.json` },
                                                { name: "UPDDISTR_LOG_LINES", value: String(args.logLines) },
                                                ...security.container.env,
                                            ],
                                            volumeMounts: [
                                                { name: "volume", mountPath: VOLUME_MOUNT_PATH },
                                                { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
                                                security.mount,
                                            ],
                                            securityContext: security.container.securityContext,
                                            resources: security.container.resources,
                                        },
                                    ],
                                    volumes: [
                                        { name: "volume", persistentVolumeClaim: { claimName: args.volumeClaimName } },
                                        { name: "scripts", configMap: { name: UPDATER_SCRIPTS_CONFIGMAP, defaultMode: 0o555 } },
                                        security.volume,
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            // The component's dependsOn (the release) holds for the CronJob itself: a failed release leaves it as it was.
            {
                parent: this,
                dependsOn: [...([] as pulumi.Resource[]).concat((opts?.dependsOn as pulumi.Resource[] | pulumi.Resource | undefined) ?? []), scripts],
            },
        );
        this.registerOutputs({ name: this.cronJob.metadata.name });
    }
}

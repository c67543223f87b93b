import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VOLUME_MOUNT_PATH } from "./EnvironmentVolume";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENT_LABEL, COMPONENTS, NAME_LABEL, UPDATER_NAME, UPDATER_SCRIPTS_CONFIGMAP, UPDATER_SLEEPER_NAME } from "./names";
import { ImagePodSecurity, imagePod } from "./podSecurity";
import { updaterImage } from "../lib/registry";

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
 * The sleeper: the updater's pod staying up doing nothing, so an operator can
 * `kubectl cp` a fixed RPO into it and run `init-upddistr` by hand. Its sleep
 * ends after `hours` (a number of seconds: busybox-based images take no
 * `infinity`) and the pod starts it afresh, until the sleeper is turned off.
 */
export function sleeperCommand(hours: number): string[] {
    return ["sleep", String(hours * 3600)];
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

/**
 * The `protheus-updater` CronJob that runs UPDDISTR (`init-upddistr`, through
 * scripts/upddistr.sh). UPDDISTR needs the environment in exclusive mode, so
 * runs never overlap, and failed pods are kept so their log can be read. The
 * CronJob moves to a new version only after the release did (dependsOn).
 *
 * With the sleeper on, the CronJob is suspended (no UPDDISTR runs on its own
 * while an operator works by hand) and the StatefulSet `protheus-updater-sleeper`
 * runs the same pod asleep, under the stable name protheus-updater-sleeper-0:
 * exec and `kubectl cp` are granted on that name alone. Off, it has no replicas.
 */
export class UpdaterCronJob extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;
    public readonly sleeper: k8s.apps.v1.StatefulSet;

    constructor(name: string, args: UpdaterCronJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:UpdaterCronJob", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.updater);
        const security = imagePod(args.podSecurity);
        // Independent of the backup section: the wrapper must exist wherever the updater runs.
        const scripts = new k8s.core.v1.ConfigMap(
            childName(name, "scripts"),
            { metadata: { name: UPDATER_SCRIPTS_CONFIGMAP, namespace: args.namespace, labels }, data: args.scripts },
            { parent: this },
        );
        // One pod for both: what the sleeper runs by hand is what the CronJob runs.
        const podSpec = (command: string[]): k8s.types.input.core.v1.PodSpec => ({
            // No service account token either (security.pod): people exec into the sleeper.
            ...security.pod,
            containers: [
                {
                    name: "upddistr",
                    image: updaterImage(args),
                    command,
                    env: [
                        { name: "UPDATE_DESIRED_VERSION", value: args.updateDesiredVersion },
                        { name: "UPDDISTR_COMMAND", value: UPDDISTR_ENTRY_POINT },
                        { name: "UPDDISTR_LOG", value: `${VOLUME_MOUNT_PATH}/logs/UPDDISTR.LOG` },
                        { name: "UPDDISTR_RESULT", value: `${VOLUME_MOUNT_PATH}/logs/result.json` },
                        { name: "UPDDISTR_LOG_LINES", value: String(args.logLines) },
                        ...security.container.env,
                        // The environment in the outcome line (the namespace).
                        { name: "BACKUP_NAMESPACE", value: args.namespace },
                        // Where the outcome is kept after the Job is gone: /volume/logs/<Job name>.log. The
                        // sleeper's pod has no job-name label, so it gets "" and the wrapper keeps no copy.
                        { name: "UPDDISTR_JOB", valueFrom: { fieldRef: { fieldPath: "metadata.labels['job-name']" } } },
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
        });
        this.cronJob = new k8s.batch.v1.CronJob(
            childName(name),
            {
                metadata: { name: UPDATER_NAME, namespace: args.namespace, labels },
                spec: {
                    schedule: args.schedule,
                    timeZone: args.timeZone,
                    suspend: args.suspend || args.sleeper,
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 600,
                    failedJobsHistoryLimit: args.failedJobsHistoryLimit,
                    successfulJobsHistoryLimit: args.successfulJobsHistoryLimit,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            // A retry would re-run a half-applied dictionary update: an operator decides instead.
                            backoffLimit: 0,
                            // No deadline: UPDDISTR itself may run as long as it needs.
                            template: {
                                metadata: { labels: { ...labels, ...security.labels } },
                                spec: {
                                    ...podSpec(UPDATER_COMMAND),
                                    restartPolicy: "Never",
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
        const sleeperLabels = { ...labels, [NAME_LABEL]: UPDATER_SLEEPER_NAME };
        this.sleeper = new k8s.apps.v1.StatefulSet(
            childName(name, "sleeper"),
            {
                metadata: {
                    name: UPDATER_SLEEPER_NAME,
                    namespace: args.namespace,
                    labels: sleeperLabels,
                    // The config decides the replicas: a hand-made scale is overwritten on the next deploy, not a conflict.
                    annotations: { "pulumi.com/patchForce": "true" },
                },
                spec: {
                    replicas: args.sleeper ? 1 : 0,
                    selector: { matchLabels: sleeperLabels },
                    template: {
                        metadata: { labels: { ...sleeperLabels, ...security.labels } },
                        spec: { ...podSpec(sleeperCommand(args.sleeperHours)), restartPolicy: "Always" },
                    },
                },
            },
            { parent: this, dependsOn: [this.cronJob] },
        );
        this.registerOutputs({ name: this.cronJob.metadata.name, sleeper: this.sleeper.metadata.name });
    }
}

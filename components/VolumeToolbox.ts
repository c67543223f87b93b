import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VOLUME_MOUNT_PATH } from "./EnvironmentVolume";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS, TOOLBOX_NAME, TOOLBOX_POD } from "./names";
import { restrictedContainer, restrictedPod } from "./podSecurity";

/** The flag file names of protheus:updater.completionFlags, space-separated, for a shell loop. */
export const COMPLETION_FLAGS_ENV = "COMPLETION_FLAGS";
export const FLAGS_DIR = `${VOLUME_MOUNT_PATH}/flags`;
/** Why writing the flags is refused when the environment names none (one line, naming the key). */
export const NO_FLAGS_MESSAGE =
    "toolbox: protheus:updater.completionFlags is empty: no flag written; set the chart flag names in the stack config and deploy first";

/**
 * The one command that writes the configured flags, run in the toolbox's pod;
 * it refuses, non-zero, when none is configured.
 */
export function writeFlagsCommand(namespace: string): string {
    const refuse = `[ -n "$${COMPLETION_FLAGS_ENV}" ] || { echo "${NO_FLAGS_MESSAGE}" >&2; exit 3; }`;
    return `kubectl -n ${namespace} exec ${TOOLBOX_POD} -- sh -c '${refuse}; mkdir -p ${FLAGS_DIR} && for f in $${COMPLETION_FLAGS_ENV}; do touch "${FLAGS_DIR}/$f" || exit 1; done; ls -l ${FLAGS_DIR}'`;
}

/** The command that only reads the end of UPDDISTR.LOG on the volume, in the toolbox's pod: it writes nothing. */
export function readLogCommand(namespace: string, lines = 100): string {
    return `kubectl -n ${namespace} exec ${TOOLBOX_POD} -- tail -n ${lines} ${VOLUME_MOUNT_PATH}/logs/UPDDISTR.LOG`;
}

export interface VolumeToolboxArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    volumeClaimName: pulumi.Input<string>;
    /** A small pinned image with sh, ls, cat, tail, touch. */
    image: string;
    /** A uid allowed to write /volume/flags. */
    runAsUser: number;
    /** The shell's process ends after this long and the pod starts it afresh. */
    hours: number;
    /** protheus:updater.completionFlags. */
    completionFlags: readonly string[];
}

/**
 * A shell on the environment volume for the abort procedure: read
 * /volume/logs (UPDDISTR.LOG), write /volume/flags. A StatefulSet, so its one
 * pod has a stable name (protheus-toolbox-0) and exec is granted on that name
 * alone: closed (no replicas) until an operator opens it with
 * `kubectl scale statefulset protheus-toolbox --replicas=1`, closed again with
 * `--replicas=0`. The program sets no replicas after creating it (ignoreChanges),
 * so a deploy never closes a toolbox in use nor conflicts with the scale.
 *
 * It was a suspended CronJob before: a CronJob cannot become a StatefulSet in
 * place, so a stack that had it deletes the CronJob and creates the StatefulSet
 * (nothing is lost: the toolbox holds no state of its own).
 */
export class VolumeToolbox extends pulumi.ComponentResource {
    public readonly statefulSet: k8s.apps.v1.StatefulSet;

    constructor(name: string, args: VolumeToolboxArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:VolumeToolbox", name, {}, opts);
        const labels = commonLabels(args.stage, COMPONENTS.toolbox);
        const seconds = args.hours * 3600;
        this.statefulSet = new k8s.apps.v1.StatefulSet(
            childName(name),
            {
                metadata: { name: TOOLBOX_NAME, namespace: args.namespace, labels },
                spec: {
                    replicas: 0,
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: {
                            restartPolicy: "Always",
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
            { parent: this, ignoreChanges: ["spec.replicas"] },
        );
        this.registerOutputs({ name: this.statefulSet.metadata.name });
    }
}

// The hardened pod shape, defined once and applied by every component that declares a pod
// template: the Kubernetes `restricted` Pod Security Standard (non-root, no privilege escalation,
// no capabilities, seccomp RuntimeDefault) plus a read-only root filesystem with an emptyDir for
// scratch, and the namespace's Pod Security Admission labels.
import * as k8s from "@pulumi/kubernetes";
import type { ContainerResources, PssLevel } from "../config/podSecurity";

type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Who a container runs as. */
export interface RunAs {
    runAsUser: number;
    runAsGroup: number;
}

/** The scratch emptyDir: with a read-only root filesystem, every tool writes here (HOME, TMPDIR, gcloud's config). */
export const SCRATCH_VOLUME = "tmp";
export const SCRATCH_MOUNT = "/tmp";

/**
 * A pod template's label when it meets only `baseline` (an updater image that needs root): the
 * policy pack then checks it against baseline instead of restricted, and `kubectl get pods -l`
 * lists every such pod.
 */
export const POD_SECURITY_LABEL = "protheus.totvs.com/pod-security";

/** Pod Security Admission's namespace labels (kubernetes.io/docs/concepts/security/pod-security-admission). */
export const PSA_LABEL_PREFIX = "pod-security.kubernetes.io/";

/**
 * The namespace's labels: `enforce` at `level` (what the Helm chart's pods can live with), and
 * `warn` and `audit` at restricted, so every pod that falls short of it is reported.
 */
export function podSecurityAdmissionLabels(enforce: PssLevel): Record<string, string> {
    return { [`${PSA_LABEL_PREFIX}enforce`]: enforce, [`${PSA_LABEL_PREFIX}warn`]: "restricted", [`${PSA_LABEL_PREFIX}audit`]: "restricted" };
}

/** A container that meets `restricted` and writes nothing outside its volumes. */
export function restrictedContainer(runAs: RunAs, o: { readOnlyRootFilesystem?: boolean } = {}): SecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: runAs.runAsUser,
        runAsGroup: runAs.runAsGroup,
        readOnlyRootFilesystem: o.readOnlyRootFilesystem ?? true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/**
 * A root container that still meets `baseline`: the runtime's default capabilities, no
 * privilege escalation beyond them, seccomp RuntimeDefault. Only where an image cannot run
 * otherwise, and said so in config.
 */
export function rootContainer(o: { readOnlyRootFilesystem?: boolean } = {}): SecurityContext {
    return {
        runAsNonRoot: false,
        runAsUser: 0,
        readOnlyRootFilesystem: o.readOnlyRootFilesystem ?? false,
        allowPrivilegeEscalation: false,
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** The pod-level half: non-root, seccomp RuntimeDefault, and the volume's files group-owned by `fsGroup`. */
export function restrictedPod(runAs: RunAs, fsGroup = runAs.runAsGroup): PodSecurityContext {
    return { runAsNonRoot: true, runAsUser: runAs.runAsUser, runAsGroup: runAs.runAsGroup, fsGroup, seccompProfile: { type: "RuntimeDefault" } };
}

export function scratchVolume(): Volume {
    return { name: SCRATCH_VOLUME, emptyDir: {} };
}

export function scratchMount(): VolumeMount {
    return { name: SCRATCH_VOLUME, mountPath: SCRATCH_MOUNT };
}

/** Where the tools write when the root filesystem is read-only: all on the scratch volume. */
export function scratchEnv(): EnvVar[] {
    return [
        { name: "HOME", value: SCRATCH_MOUNT },
        { name: "TMPDIR", value: SCRATCH_MOUNT },
        // gcloud keeps its configuration, credentials cache and logs here instead of ~/.config/gcloud.
        { name: "CLOUDSDK_CONFIG", value: `${SCRATCH_MOUNT}/gcloud` },
        // psql's history and its ~/.psqlrc lookup (the scripts run psql -X, non-interactive).
        { name: "PSQL_HISTORY", value: `${SCRATCH_MOUNT}/.psql_history` },
    ];
}

/** Requests and limits as a Kubernetes container takes them. */
export function containerResources(r: ContainerResources): k8s.types.input.core.v1.ResourceRequirements {
    return {
        requests: { cpu: r.requests.cpu, memory: r.requests.memory },
        limits: { memory: r.limits.memory, ...(r.limits.cpu !== undefined ? { cpu: r.limits.cpu } : {}) },
    };
}

/** How a pod of an image the program does not build runs (the updater: TOTVS's image). */
export interface ImagePodSecurity extends RunAs {
    /** The image cannot run without root: the pod meets baseline, not restricted, and is labelled so. */
    runAsRoot: boolean;
    readOnlyRootFilesystem: boolean;
    resources: ContainerResources;
}

/**
 * The pod-level fields, the container-level fields, the scratch volume and the pod template's
 * extra labels of such a pod, to spread into its spec. HOME and TMPDIR move to the scratch volume
 * only with a read-only root filesystem: otherwise the image keeps its own.
 */
export function imagePod(s: ImagePodSecurity): {
    pod: { automountServiceAccountToken: false; securityContext: PodSecurityContext };
    container: { securityContext: SecurityContext; resources: k8s.types.input.core.v1.ResourceRequirements; env: EnvVar[] };
    mount: VolumeMount;
    volume: Volume;
    labels: Record<string, string>;
} {
    const o = { readOnlyRootFilesystem: s.readOnlyRootFilesystem };
    return {
        // It never calls the Kubernetes API.
        pod: { automountServiceAccountToken: false, securityContext: s.runAsRoot ? { seccompProfile: { type: "RuntimeDefault" } } : restrictedPod(s) },
        container: {
            securityContext: s.runAsRoot ? rootContainer(o) : restrictedContainer(s, o),
            resources: containerResources(s.resources),
            env: s.readOnlyRootFilesystem ? scratchEnv().filter((e) => e.name === "HOME" || e.name === "TMPDIR") : [],
        },
        mount: scratchMount(),
        volume: scratchVolume(),
        labels: s.runAsRoot ? { [POD_SECURITY_LABEL]: "baseline" } : {},
    };
}

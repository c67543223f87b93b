// Policy pod-security-restricted: every pod template meets the Kubernetes Pod Security Standards'
// `restricted` level, so Pod Security Admission never refuses one and an audit finds nothing.
// The rules follow kubernetes.io/docs/concepts/security/pod-security-standards (the checks of
// k8s.io/pod-security-admission, latest version), without the relaxations for pods in a user
// namespace (hostUsers: false) and for Windows pods, which the program does not run: stricter
// than Pod Security Admission there, never looser.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, dig, ENFORCEMENT, isObject, onTypes, POD_SPEC_PATHS } from "./common";

export type PssLevel = "baseline" | "restricted";

/**
 * A pod template labelled with this (value "baseline") is checked against baseline only: the way
 * to run an image that cannot run without root, said in config (components/podSecurity.ts).
 */
export const POD_SECURITY_LABEL = "protheus.totvs.com/pod-security";

/** What a rule sees: the pod template's metadata and spec, and every container with where it sits. */
export interface PodView {
    /** Where the pod spec sits in the resource, for messages: "spec.template.spec". */
    at: string;
    metadata: unknown;
    spec: unknown;
    containers: { where: string; c: Record<string, unknown> }[];
}

export interface PodSecurityRule {
    /** The check's id in k8s.io/pod-security-admission. */
    id: string;
    level: PssLevel;
    control: string;
    fields: string;
    allowed: string;
    check(pod: PodView): string[];
}

const BASELINE_CAPABILITIES = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
const SAFE_SYSCTLS = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
/** Volume sources `restricted` admits; every other one (nfs, hostPath, gcePersistentDisk, ...) is refused. */
export const RESTRICTED_VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];

const show = (v: unknown) => JSON.stringify(v);
const podSc = (p: PodView) => dig(p.spec, ["securityContext"]);
const sc = (c: Record<string, unknown>) => c["securityContext"];

/** One message per container whose field at `path` (under securityContext) is not allowed. */
function eachContainer(p: PodView, path: string[], ok: (v: unknown) => boolean, field = `securityContext.${path.join(".")}`): string[] {
    return p.containers.filter(({ c }) => !ok(dig(sc(c), path))).map(({ where, c }) => `${where} ${field}=${show(dig(sc(c), path))}`);
}
const unsetOr =
    (...allowed: unknown[]) =>
    (v: unknown) =>
        v === undefined || v === null || allowed.includes(v);

export const POD_SECURITY_RULES: readonly PodSecurityRule[] = [
    {
        id: "windowsHostProcess",
        level: "baseline",
        control: "HostProcess",
        fields: "spec.securityContext.windowsOptions.hostProcess, containers' securityContext.windowsOptions.hostProcess",
        allowed: "undefined, false",
        check: (p) => [
            ...(unsetOr(false)(dig(podSc(p), ["windowsOptions", "hostProcess"])) ? [] : [`${p.at}.securityContext.windowsOptions.hostProcess=true`]),
            ...eachContainer(p, ["windowsOptions", "hostProcess"], unsetOr(false)),
        ],
    },
    {
        id: "hostNamespaces",
        level: "baseline",
        control: "Host Namespaces",
        fields: "spec.hostNetwork, spec.hostPID, spec.hostIPC",
        allowed: "undefined, false",
        check: (p) =>
            ["hostNetwork", "hostPID", "hostIPC"].filter((f) => !unsetOr(false)(dig(p.spec, [f]))).map((f) => `${p.at}.${f}=${show(dig(p.spec, [f]))}`),
    },
    {
        id: "privileged",
        level: "baseline",
        control: "Privileged Containers",
        fields: "containers' securityContext.privileged",
        allowed: "undefined, false",
        check: (p) => eachContainer(p, ["privileged"], unsetOr(false)),
    },
    {
        id: "capabilities_baseline",
        level: "baseline",
        control: "Capabilities",
        fields: "containers' securityContext.capabilities.add",
        allowed: `undefined, empty, or only ${BASELINE_CAPABILITIES.join(", ")}`,
        check: (p) => eachContainer(p, ["capabilities", "add"], (v) => asArray(v).every((cap) => BASELINE_CAPABILITIES.includes(String(cap)))),
    },
    {
        id: "hostPathVolumes",
        level: "baseline",
        control: "HostPath Volumes",
        fields: "spec.volumes[*].hostPath",
        allowed: "undefined",
        check: (p) =>
            asArray(dig(p.spec, ["volumes"]))
                .filter((v) => isObject(v) && v["hostPath"] !== undefined && v["hostPath"] !== null)
                .map((v) => `${p.at}.volumes "${String((v as Record<string, unknown>)["name"])}" is a hostPath`),
    },
    {
        id: "hostPorts",
        level: "baseline",
        control: "Host Ports",
        fields: "containers' ports[*].hostPort",
        allowed: "undefined, 0",
        check: (p) =>
            p.containers.flatMap(({ where, c }) =>
                asArray(c["ports"])
                    .map((port) => dig(port, ["hostPort"]))
                    .filter((h) => !unsetOr(0)(h))
                    .map((h) => `${where} ports[].hostPort=${show(h)}`),
            ),
    },
    {
        id: "hostProbesAndHostLifecycle",
        level: "baseline",
        control: "Probes and lifecycle handlers' host",
        fields: "containers' liveness/readiness/startup probes' and lifecycle handlers' httpGet.host, tcpSocket.host",
        allowed: 'undefined, ""',
        check: (p) =>
            p.containers.flatMap(({ where, c }) =>
                [["livenessProbe"], ["readinessProbe"], ["startupProbe"], ["lifecycle", "postStart"], ["lifecycle", "preStop"]].flatMap((handler) =>
                    ["httpGet", "tcpSocket"]
                        .filter((kind) => !unsetOr("")(dig(c, [...handler, kind, "host"])))
                        .map((kind) => `${where} ${[...handler, kind, "host"].join(".")}=${show(dig(c, [...handler, kind, "host"]))}`),
                ),
            ),
    },
    {
        id: "appArmorProfile",
        level: "baseline",
        control: "AppArmor",
        fields: "spec.securityContext.appArmorProfile.type, containers' securityContext.appArmorProfile.type, annotations container.apparmor.security.beta.kubernetes.io/*",
        allowed: "undefined, RuntimeDefault, Localhost (annotations: runtime/default, localhost/*)",
        check: (p) => [
            ...(unsetOr("RuntimeDefault", "Localhost")(dig(podSc(p), ["appArmorProfile", "type"]))
                ? []
                : [`${p.at}.securityContext.appArmorProfile.type=${show(dig(podSc(p), ["appArmorProfile", "type"]))}`]),
            ...eachContainer(p, ["appArmorProfile", "type"], unsetOr("RuntimeDefault", "Localhost")),
            ...Object.entries(isObject(dig(p.metadata, ["annotations"])) ? (dig(p.metadata, ["annotations"]) as Record<string, unknown>) : {})
                .filter(
                    ([k, v]) =>
                        k.startsWith("container.apparmor.security.beta.kubernetes.io/") &&
                        !(v === "" || v === "runtime/default" || String(v).startsWith("localhost/")),
                )
                .map(([k, v]) => `metadata.annotations["${k}"]=${show(v)}`),
        ],
    },
    {
        id: "seLinuxOptions",
        level: "baseline",
        control: "SELinux",
        fields: "seLinuxOptions.type, .user, .role of the pod and of each container",
        allowed: `type: undefined, ${SELINUX_TYPES.filter((t) => t).join(", ")}; user and role: undefined`,
        check: (p) => {
            const bad = (o: unknown) => !unsetOr(...SELINUX_TYPES)(dig(o, ["type"])) || !unsetOr("")(dig(o, ["user"])) || !unsetOr("")(dig(o, ["role"]));
            return [
                ...(bad(dig(podSc(p), ["seLinuxOptions"])) ? [`${p.at}.securityContext.seLinuxOptions=${show(dig(podSc(p), ["seLinuxOptions"]))}`] : []),
                ...eachContainer(p, ["seLinuxOptions"], (o) => !bad(o)),
            ];
        },
    },
    {
        id: "procMount",
        level: "baseline",
        control: "/proc Mount Type",
        fields: "containers' securityContext.procMount",
        allowed: "undefined, Default",
        check: (p) => eachContainer(p, ["procMount"], unsetOr("Default")),
    },
    {
        id: "seccompProfile_baseline",
        level: "baseline",
        control: "Seccomp",
        fields: "spec.securityContext.seccompProfile.type, containers' securityContext.seccompProfile.type",
        allowed: "undefined, RuntimeDefault, Localhost (never Unconfined)",
        check: (p) => [
            ...(unsetOr("RuntimeDefault", "Localhost")(dig(podSc(p), ["seccompProfile", "type"]))
                ? []
                : [`${p.at}.securityContext.seccompProfile.type=${show(dig(podSc(p), ["seccompProfile", "type"]))}`]),
            ...eachContainer(p, ["seccompProfile", "type"], unsetOr("RuntimeDefault", "Localhost")),
        ],
    },
    {
        id: "sysctls",
        level: "baseline",
        control: "Sysctls",
        fields: "spec.securityContext.sysctls[*].name",
        allowed: `undefined, or only ${SAFE_SYSCTLS.join(", ")}`,
        check: (p) =>
            asArray(dig(podSc(p), ["sysctls"]))
                .map((s) => dig(s, ["name"]))
                .filter((n) => !SAFE_SYSCTLS.includes(String(n)))
                .map((n) => `${p.at}.securityContext.sysctls ${show(n)} is not a safe sysctl`),
    },
    {
        id: "restrictedVolumes",
        level: "restricted",
        control: "Volume Types",
        fields: "spec.volumes[*]",
        allowed: RESTRICTED_VOLUME_TYPES.join(", "),
        check: (p) =>
            asArray(dig(p.spec, ["volumes"])).flatMap((v) => {
                const o = isObject(v) ? v : {};
                const sources = Object.keys(o).filter((k) => k !== "name" && o[k] !== undefined && o[k] !== null);
                // A volume with no source at all is defaulted to an emptyDir by the API server.
                const bad = sources.filter((k) => !RESTRICTED_VOLUME_TYPES.includes(k));
                return bad.length > 0 ? [`${p.at}.volumes "${String(o["name"])}" is ${bad.join(", ")}`] : [];
            }),
    },
    {
        id: "allowPrivilegeEscalation",
        level: "restricted",
        control: "Privilege Escalation",
        fields: "containers' securityContext.allowPrivilegeEscalation",
        allowed: "false",
        check: (p) => eachContainer(p, ["allowPrivilegeEscalation"], (v) => v === false),
    },
    {
        id: "runAsNonRoot",
        level: "restricted",
        control: "Running as Non-root",
        fields: "spec.securityContext.runAsNonRoot, containers' securityContext.runAsNonRoot",
        allowed: "true; a container's may be undefined when the pod's is true",
        check: (p) => {
            const pod = dig(podSc(p), ["runAsNonRoot"]);
            if (pod !== undefined && pod !== null && pod !== true) return [`${p.at}.securityContext.runAsNonRoot=${show(pod)}`];
            return eachContainer(p, ["runAsNonRoot"], (v) => v === true || (pod === true && (v === undefined || v === null)));
        },
    },
    {
        id: "runAsUser",
        level: "restricted",
        control: "Running as Non-root user",
        fields: "spec.securityContext.runAsUser, containers' securityContext.runAsUser",
        allowed: "undefined, any non-zero uid",
        check: (p) => [
            ...(dig(podSc(p), ["runAsUser"]) === 0 ? [`${p.at}.securityContext.runAsUser=0`] : []),
            ...eachContainer(p, ["runAsUser"], (v) => v !== 0),
        ],
    },
    {
        id: "seccompProfile_restricted",
        level: "restricted",
        control: "Seccomp",
        fields: "spec.securityContext.seccompProfile.type, containers' securityContext.seccompProfile.type",
        allowed: "RuntimeDefault, Localhost; a container's may be undefined when the pod's is set",
        check: (p) => {
            const ok = (v: unknown) => v === "RuntimeDefault" || v === "Localhost";
            const pod = dig(podSc(p), ["seccompProfile", "type"]);
            if (pod !== undefined && pod !== null && !ok(pod)) return [`${p.at}.securityContext.seccompProfile.type=${show(pod)}`];
            return eachContainer(p, ["seccompProfile", "type"], (v) => ok(v) || (ok(pod) && (v === undefined || v === null)));
        },
    },
    {
        id: "capabilities_restricted",
        level: "restricted",
        control: "Capabilities",
        fields: "containers' securityContext.capabilities.drop and .add",
        allowed: "drop includes ALL; add is undefined, empty or only NET_BIND_SERVICE",
        check: (p) => [
            ...eachContainer(p, ["capabilities", "drop"], (v) => asArray(v).includes("ALL")),
            ...eachContainer(p, ["capabilities", "add"], (v) => asArray(v).every((cap) => cap === "NET_BIND_SERVICE")),
        ],
    },
    {
        id: "procMount_restricted",
        level: "restricted",
        control: "/proc Mount Type",
        fields: "containers' securityContext.procMount",
        allowed: "undefined, Default",
        check: (p) => eachContainer(p, ["procMount"], unsetOr("Default")),
    },
];

/** The pod template's containers, init containers and ephemeral containers, each with where it sits. */
export function podView(metadata: unknown, spec: unknown, at = "spec"): PodView {
    const containers = (["initContainers", "containers", "ephemeralContainers"] as const).flatMap((field) =>
        asArray(dig(spec, [field])).map((c, i) => {
            const o = isObject(c) ? c : {};
            const name = typeof o["name"] === "string" ? ` "${o["name"]}"` : "";
            return { where: `${at}.${field}[${i}]${name}`, c: o };
        }),
    );
    return { at, metadata, spec, containers };
}

/** Every rule of `level` (restricted includes baseline) the pod breaks, each with its findings. */
export function podSecurityProblems(pod: PodView, level: PssLevel): { rule: PodSecurityRule; findings: string[] }[] {
    return POD_SECURITY_RULES.filter((r) => level === "restricted" || r.level === "baseline")
        .map((rule) => ({ rule, findings: rule.check(pod) }))
        .filter((p) => p.findings.length > 0);
}

/** The level a pod template must meet: restricted, unless labelled baseline. */
export function requiredLevel(metadata: unknown): PssLevel {
    return dig(metadata, ["labels", POD_SECURITY_LABEL]) === "baseline" ? "baseline" : "restricted";
}

export const podSecurityRestricted: ResourceValidationPolicy = {
    name: "pod-security-restricted",
    description:
        "Every pod template of a CronJob, Job, Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod meets the Kubernetes Pod Security " +
        `Standards' restricted level (baseline only when labelled ${POD_SECURITY_LABEL}=baseline).`,
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes(Object.keys(POD_SPEC_PATHS), (args, report, what) => {
        const specPath = POD_SPEC_PATHS[args.type]!;
        const spec = dig(args.props, specPath);
        if (spec === undefined) return;
        const metadata = dig(args.props, [...specPath.slice(0, -1), "metadata"]);
        const level = requiredLevel(metadata);
        for (const { rule, findings } of podSecurityProblems(podView(metadata, spec, specPath.join(".")), level)) {
            report(`${what}: breaks ${level} "${rule.control}" (${rule.id}): ${findings.join("; ")}; allowed: ${rule.allowed}.`);
        }
    }),
};

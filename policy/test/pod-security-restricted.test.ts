import * as assert from "node:assert/strict";
import { POD_SECURITY_LABEL, POD_SECURITY_RULES, podSecurityProblems, podSecurityRestricted, podView } from "../pod-security-restricted";
import { cronJob, runResource, workload } from "./harness";

const RESTRICTED_CONTAINER = {
    runAsNonRoot: true,
    runAsUser: 999,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** A pod spec that meets restricted, with `patch` applied to the spec and `container` to every container's securityContext. */
function spec(patch: Record<string, unknown> = {}, container: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, any> {
    const c = (name: string) => ({ name, image: "postgres:15.8", securityContext: { ...RESTRICTED_CONTAINER, ...container }, ...extra });
    return {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [c("fetch")],
        containers: [c("main")],
        volumes: [
            { name: "volume", persistentVolumeClaim: { claimName: "protheus-volume" } },
            { name: "tmp", emptyDir: {} },
            { name: "scripts", configMap: { name: "s" } },
        ],
        ...patch,
    };
}

const ids = (s: Record<string, any>, level: "baseline" | "restricted" = "restricted", metadata: unknown = {}) =>
    podSecurityProblems(podView(metadata, s), level).map((p) => p.rule.id);

/** One pod per rule that breaks exactly that rule (and, for restricted-only rules, nothing in baseline). */
const BREAKS: Record<string, { spec: Record<string, any>; metadata?: unknown }> = {
    windowsHostProcess: { spec: spec({}, { windowsOptions: { hostProcess: true } }) },
    hostNamespaces: { spec: spec({ hostPID: true }) },
    privileged: { spec: spec({}, { privileged: true }) },
    capabilities_baseline: { spec: spec({}, { capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } }) },
    hostPathVolumes: { spec: spec({ volumes: [{ name: "host", hostPath: { path: "/" } }] }) },
    hostPorts: { spec: spec({}, {}, { ports: [{ containerPort: 80, hostPort: 8080 }] }) },
    hostProbesAndHostLifecycle: { spec: spec({}, {}, { livenessProbe: { httpGet: { host: "10.0.0.1", port: 80 } } }) },
    appArmorProfile: { spec: spec({}, { appArmorProfile: { type: "Unconfined" } }) },
    seLinuxOptions: { spec: spec({}, { seLinuxOptions: { type: "spc_t" } }) },
    procMount: { spec: spec({}, { procMount: "Unmasked" }) },
    seccompProfile_baseline: { spec: spec({}, { seccompProfile: { type: "Unconfined" } }) },
    sysctls: {
        spec: spec({ securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, sysctls: [{ name: "kernel.msgmax", value: "1" }] } }),
    },
    restrictedVolumes: { spec: spec({ volumes: [{ name: "rubrik", nfs: { server: "rubrik", path: "/export" } }] }) },
    allowPrivilegeEscalation: { spec: spec({}, { allowPrivilegeEscalation: undefined }) },
    runAsNonRoot: { spec: spec({ securityContext: { seccompProfile: { type: "RuntimeDefault" } } }, { runAsNonRoot: undefined }) },
    runAsUser: { spec: spec({}, { runAsUser: 0 }) },
    seccompProfile_restricted: { spec: spec({ securityContext: { runAsNonRoot: true } }, { seccompProfile: undefined }) },
    capabilities_restricted: { spec: spec({}, { capabilities: { drop: ["NET_RAW"] } }) },
    procMount_restricted: { spec: spec({}, { procMount: "Unmasked" }) },
};

describe("policy pod-security-restricted", () => {
    it("accepts a pod that meets restricted, with the seccomp profile and runAsNonRoot set on the pod or on every container", () => {
        assert.deepEqual(ids(spec()), []);
        assert.deepEqual(ids(spec({ securityContext: {} }, { runAsNonRoot: true })), []);
        assert.deepEqual(ids(spec({}, { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } })), []);
        // The API server makes a volume without a source an emptyDir.
        assert.deepEqual(ids(spec({ volumes: [{ name: "scratch" }] })), []);
    });

    it("has a failing pod for every rule, which breaks that rule", () => {
        assert.deepEqual(Object.keys(BREAKS).sort(), POD_SECURITY_RULES.map((r) => r.id).sort());
        for (const rule of POD_SECURITY_RULES) {
            const { spec: s, metadata } = BREAKS[rule.id];
            assert.ok(ids(s, "restricted", metadata).includes(rule.id), `${rule.id}: ${ids(s, "restricted", metadata).join(", ")}`);
        }
    });

    it("holds baseline to the baseline rules only", () => {
        for (const rule of POD_SECURITY_RULES) {
            const found = ids(BREAKS[rule.id].spec, "baseline");
            if (rule.level === "baseline") assert.ok(found.includes(rule.id), rule.id);
            else if (rule.id !== "procMount_restricted" && rule.id !== "restrictedVolumes") assert.deepEqual(found, [], rule.id);
        }
        // A root container without dropped capabilities and without seccomp is still baseline.
        assert.deepEqual(
            ids(spec({ securityContext: {} }, { runAsNonRoot: false, runAsUser: 0, capabilities: undefined, seccompProfile: undefined }), "baseline"),
            [],
        );
    });

    it("checks the AppArmor annotations of the pod template", () => {
        assert.deepEqual(ids(spec(), "baseline", { annotations: { "container.apparmor.security.beta.kubernetes.io/main": "localhost/protheus" } }), []);
        assert.deepEqual(ids(spec(), "baseline", { annotations: { "container.apparmor.security.beta.kubernetes.io/main": "unconfined" } }), [
            "appArmorProfile",
        ]);
    });

    it("refuses a CronJob whose pod template runs as root, naming the rule, the container and the field", async () => {
        const cj = cronJob("protheus-updater", { timeZone: "America/Sao_Paulo" });
        cj.props.spec.jobTemplate.spec.template.spec = spec({}, { runAsUser: 0 });
        const out = await runResource(podSecurityRestricted, cj);
        assert.equal(out.violations.length, 1, out.violations.join("\n"));
        assert.match(
            out.violations[0]!,
            /^CronJob "protheus-updater" \(c2a7dv\/protheus-updater\): breaks restricted "Running as Non-root user" \(runAsUser\): spec\.jobTemplate\.spec\.template\.spec\.initContainers\[0\] "fetch" securityContext\.runAsUser=0; spec\.jobTemplate\.spec\.template\.spec\.containers\[0\] "main" securityContext\.runAsUser=0/,
        );
    });

    it("refuses the inline nfs volume and a pod template with no securityContext at all", async () => {
        const nfs = await runResource(podSecurityRestricted, workload("kubernetes:batch/v1:Job", "copy", BREAKS.restrictedVolumes.spec));
        assert.equal(nfs.violations.length, 1);
        assert.match(nfs.violations[0]!, /"Volume Types" \(restrictedVolumes\): spec\.template\.spec\.volumes "rubrik" is nfs/);
        const bare = await runResource(
            podSecurityRestricted,
            workload("kubernetes:apps/v1:Deployment", "d", { containers: [{ name: "app", image: "nginx:1.27" }] }),
        );
        assert.deepEqual(
            bare.violations.map((v) => /\((\w+)\)/.exec(v)![1]),
            ["allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile_restricted", "capabilities_restricted"],
        );
    });

    it("holds a pod template labelled baseline to baseline, and still refuses what baseline forbids", async () => {
        const root = spec({ securityContext: { seccompProfile: { type: "RuntimeDefault" } } }, { runAsNonRoot: false, runAsUser: 0, capabilities: undefined });
        const labelled = (s: Record<string, any>) => {
            const r = workload("kubernetes:batch/v1:Job", "updater", s);
            r.props.spec.template.metadata.labels[POD_SECURITY_LABEL] = "baseline";
            return r;
        };
        assert.notEqual((await runResource(podSecurityRestricted, workload("kubernetes:batch/v1:Job", "updater", root))).violations.length, 0);
        assert.deepEqual((await runResource(podSecurityRestricted, labelled(root))).violations, []);
        const privileged = await runResource(podSecurityRestricted, labelled({ ...root, hostNetwork: true }));
        assert.equal(privileged.violations.length, 1);
        assert.match(privileged.violations[0]!, /breaks baseline "Host Namespaces"/);
    });

    it("ignores resources that are not workloads and workloads without a pod template", async () => {
        assert.deepEqual((await runResource(podSecurityRestricted, { type: "kubernetes:core/v1:ConfigMap", name: "cm", props: { data: {} } })).violations, []);
        assert.deepEqual(
            (await runResource(podSecurityRestricted, { type: "kubernetes:apps/v1:Deployment", name: "d", props: { metadata: {} } })).violations,
            [],
        );
    });
});

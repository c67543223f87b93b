// Pod security of everything the program runs, as the plan shows it: every pod template meets
// the restricted Pod Security Standard (the policy pack's rules), with a read-only root, scratch
// on an emptyDir, requests and limits and no service account token unless it calls Google Cloud;
// the namespace's Pod Security Admission labels; the config that changes them; docs/pod-security.md.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { documentedStack, levelMet, podTemplates, PodTemplate, renderPodSecurityDoc } from "../bin/pod-security";
import { POD_SECURITY_LABEL, SCRATCH_MOUNT } from "../components/podSecurity";
import { RenderResult, resourceKey } from "../lib/render";
import { checkResources } from "../policy/test/engine";
import { podSecurityProblems, podView } from "../policy/pod-security-restricted";
import { isKubernetesObject, schemaViolations } from "./support/k8sSchema";
import { byK8sName, render, renderExample, renderFailure, stackWith } from "./support/stacks";

const DOC = path.resolve(__dirname, "..", "docs", "pod-security.md");
const UPDATER = "protheus-updater";
/** The updater's pod, asleep (protheus:updater.sleeper): the same pod spec as the updater's, so the same settings. */
const SLEEPER = "protheus-updater-sleeper";
const isUpdaterPod = (name: string) => name === UPDATER || name === SLEEPER;

/** The pod templates every full plan declares, by workload name (the one-off Jobs by their prefix). */
const EXPECTED = [
    "protheus-updater",
    "protheus-updater-sleeper",
    "protheus-toolbox",
    "protheus-backup",
    "protheus-backup-manual",
    "protheus-backup-copy",
    "protheus-restore",
    "protheus-restore-drill",
    "protheus-restore-example",
    "protheus-backup-pre-rollback-12-1-2410",
];

const containersOf = (t: PodTemplate): any[] => [...(t.spec.initContainers ?? []), ...t.spec.containers];
const env = (c: any): Record<string, string> => Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

/** The writable mount a path lies under, or undefined: with a read-only root, nothing else can be written. */
function writableMountOf(t: PodTemplate, c: any, file: string): string | undefined {
    return (c.volumeMounts ?? [])
        .filter((m: any) => !m.readOnly && (file === m.mountPath || file.startsWith(`${m.mountPath}/`)))
        .map((m: any) => m.mountPath)[0];
}

describe("pod security (every pod template of the plan)", () => {
    let full: RenderResult;
    let templates: PodTemplate[];
    before(async () => {
        full = await render(documentedStack());
        templates = podTemplates(full.resources);
    });

    it("declares the pod templates of the updater, toolbox, backup, copy, restore template and request, pre-upgrade Job and drill", () => {
        assert.deepEqual(templates.map((t) => t.name).sort(), [...EXPECTED].sort());
    });

    it("every one meets restricted, by every rule of the policy pack, and the pack refuses none", () => {
        for (const t of templates) {
            const problems = podSecurityProblems(podView(t.metadata, t.spec, t.at), "restricted");
            assert.deepEqual(
                problems.map((p) => `${p.rule.id}: ${p.findings.join("; ")}`),
                [],
                t.name,
            );
            assert.equal(t.metadata.labels?.[POD_SECURITY_LABEL], undefined, t.name);
        }
        assert.deepEqual(
            checkResources(full.resources, "prod").filter((f) => f.policy === "pod-security-restricted"),
            [],
        );
    });

    it("every container sets the restricted fields itself, uid and gid non-root, and has requests and a memory limit", () => {
        for (const t of templates) {
            assert.equal(t.spec.securityContext?.runAsNonRoot, true, t.name);
            assert.equal(t.spec.securityContext?.seccompProfile?.type, "RuntimeDefault", t.name);
            for (const c of containersOf(t)) {
                const what = `${t.name}/${c.name}`;
                const sc = c.securityContext;
                assert.equal(sc.runAsNonRoot, true, what);
                assert.ok(sc.runAsUser > 0 && sc.runAsGroup > 0, what);
                assert.equal(sc.allowPrivilegeEscalation, false, what);
                assert.deepEqual(sc.capabilities, { drop: ["ALL"] }, what);
                assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" }, what);
                assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, what);
            }
        }
    });

    it("robots have a read-only root, and HOME, TMPDIR and gcloud's config on a writable scratch emptyDir", () => {
        for (const t of templates.filter((t) => !isUpdaterPod(t.name))) {
            const scratch = t.spec.volumes.find((v: any) => v.name === "tmp");
            assert.deepEqual(scratch, { name: "tmp", emptyDir: {} }, t.name);
            for (const c of containersOf(t)) {
                const what = `${t.name}/${c.name}`;
                assert.equal(c.securityContext.readOnlyRootFilesystem, true, what);
                const vars = env(c);
                for (const name of ["HOME", "TMPDIR", "CLOUDSDK_CONFIG", "PSQL_HISTORY"].filter((n) => t.name !== "protheus-toolbox" || n === "HOME")) {
                    assert.ok(vars[name], `${what}: ${name} unset`);
                    assert.equal(writableMountOf(t, c, vars[name]), SCRATCH_MOUNT, `${what}: ${name}=${vars[name]} is not on the scratch volume`);
                }
                // backup.sh, restore.sh and drill.sh stage under the backup directory: it must be writable where they write.
                if (vars.BACKUP_DIR && ["backup", "restore", "drill", "fetch"].includes(c.name)) {
                    assert.ok(writableMountOf(t, c, vars.BACKUP_DIR), `${what}: BACKUP_DIR ${vars.BACKUP_DIR} is read-only`);
                }
            }
        }
    });

    it("only the pods that call Google Cloud mount a service account token, and none mounts the default one", () => {
        for (const t of templates) {
            const gcs = containersOf(t).some((c) => c.name === "copy" || c.name === "fetch");
            assert.equal(t.spec.automountServiceAccountToken, gcs, t.name);
            // The copy creates objects; restores and drills only read (protheus-backup-reader).
            if (gcs)
                assert.equal(t.spec.serviceAccountName, containersOf(t).some((c) => c.name === "copy") ? "protheus-backup" : "protheus-backup-reader", t.name);
            else assert.equal(t.spec.serviceAccountName, undefined, t.name);
        }
    });

    it("the namespace is labelled for Pod Security Admission: enforce baseline, warn and audit restricted", () => {
        const labels = (byK8sName(full.resources, "Namespace", "c2a7dv").inputs as any).metadata.labels;
        assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
        assert.equal(labels["pod-security.kubernetes.io/warn"], "restricted");
        assert.equal(labels["pod-security.kubernetes.io/audit"], "restricted");
    });

    it("the copy waits for the Rubrik claim, and the claim for its volume: pulumi up awaits the claim Bound", () => {
        // pulumi-kubernetes awaits a claim's Bound phase when its storage class binds at once or it has none
        // (pulumi/pulumi-kubernetes#3130): the claim names the volume, whose claimRef admits it, so a wrong
        // volume fails `pulumi up` instead of the 06:00 copy.
        const claim = resourceKey("kubernetes:core/v1:PersistentVolumeClaim", "backup-copy-rubrik");
        assert.ok(full.options[resourceKey("kubernetes:batch/v1:CronJob", "backup-copy")].dependsOn.includes(claim));
        assert.deepEqual(full.options[claim].dependsOn, [resourceKey("kubernetes:core/v1:PersistentVolume", "backup-copy-rubrik")]);
    });

    it("the pods' security settings and resources are part of what a version change's backup Job is, like its images", async () => {
        // Job templates are immutable: a change replaces the Job, which runs the backup again (on purpose, as for an image).
        const jobOf = async (podSecurity: unknown) =>
            (
                byK8sName(
                    (await render({ ...documentedStack(), config: { ...documentedStack().config, "protheus:podSecurity": JSON.stringify(podSecurity) } }))
                        .resources,
                    "Job",
                    "protheus-backup-pre-rollback-12-1-2410",
                ).inputs as any
            ).spec;
        assert.deepEqual(await jobOf({}), await jobOf({ enforce: "baseline" }), "the namespace's level is not the Job's");
        assert.notDeepEqual(await jobOf({}), await jobOf({ resources: { backup: { limits: { memory: "3Gi" } } } }));
    });

    it("renders only manifests the Kubernetes schemas accept (the Rubrik PersistentVolume and claim too)", async () => {
        const objects = full.resources.filter(isKubernetesObject);
        assert.ok(objects.some((r) => r.type === "kubernetes:core/v1:PersistentVolume"));
        assert.deepEqual((await Promise.all(objects.map(schemaViolations))).flat(), []);
    });
});

describe("pod security config (protheus:podSecurity)", () => {
    const updaterOf = async (podSecurity: unknown) => {
        const { resources } = await render(stackWith("hml", { podSecurity }));
        return podTemplates(resources).find((t) => t.name === UPDATER)!;
    };

    it("enforce is per environment: restricted labels the namespace restricted", async () => {
        const { resources } = await render(stackWith("hml", { podSecurity: { enforce: "restricted" } }));
        assert.equal((byK8sName(resources, "Namespace", "c2a7dv-hml").inputs as any).metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    });

    it("the robots' uid and gid and each container's resources come from config", async () => {
        const { resources } = await render(
            stackWith("hml", {
                podSecurity: {
                    robots: { runAsUser: 70, runAsGroup: 70 },
                    resources: { backup: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } } },
                },
            }),
        );
        const robots = podTemplates(resources).filter((t) => !isUpdaterPod(t.name) && t.name !== "protheus-toolbox");
        assert.ok(robots.length >= 4);
        for (const t of robots) {
            assert.equal(t.spec.securityContext.fsGroup, 70, t.name);
            for (const c of containersOf(t)) assert.deepEqual([c.securityContext.runAsUser, c.securityContext.runAsGroup], [70, 70], `${t.name}/${c.name}`);
        }
        const backup = podTemplates(resources).find((t) => t.name === "protheus-backup")!;
        assert.deepEqual(backup.spec.containers[0].resources, { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } });
    });

    it("the updater's uid is configurable, and its root filesystem read-only on request, with HOME and TMPDIR on scratch", async () => {
        const t = await updaterOf({ updater: { runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true } });
        const c = t.spec.containers[0];
        assert.deepEqual([c.securityContext.runAsUser, c.securityContext.runAsGroup, t.spec.securityContext.fsGroup], [1000, 1000, 1000]);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(writableMountOf(t, c, env(c).HOME), SCRATCH_MOUNT);
        assert.equal(writableMountOf(t, c, env(c).TMPDIR), SCRATCH_MOUNT);
        assert.equal(levelMet(t), "restricted");
        // By default the image keeps its writable tree and its own HOME.
        const byDefault = (await updaterOf({})).spec.containers[0];
        assert.equal(byDefault.securityContext.readOnlyRootFilesystem, false);
        assert.equal(env(byDefault).HOME, undefined);
    });

    it("an updater that needs root runs as root only when said, meets baseline, is labelled so, and the pack holds it to baseline", async () => {
        const { resources } = await render(stackWith("hml", { podSecurity: { updater: { runAsRoot: true } } }));
        const t = podTemplates(resources).find((t) => t.name === UPDATER)!;
        const c = t.spec.containers[0];
        assert.equal(c.securityContext.runAsUser, 0);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.equal(t.metadata.labels[POD_SECURITY_LABEL], "baseline");
        assert.equal(levelMet(t), "baseline");
        assert.deepEqual(
            checkResources(resources, "hml").filter((f) => f.policy === "pod-security-restricted"),
            [],
        );
        // The label is on the pod template only: the other pods stay restricted.
        for (const other of podTemplates(resources).filter((o) => !isUpdaterPod(o.name))) assert.equal(levelMet(other), "restricted", other.name);
    });

    it("the pack refuses the updater running as root without the label", async () => {
        const { resources } = await render(stackWith("hml", { podSecurity: { updater: { runAsRoot: true } } }));
        const updater = resources.find((r) => (r.inputs as any).metadata?.name === UPDATER && r.type.endsWith(":CronJob"))!;
        delete (updater.inputs as any).spec.jobTemplate.spec.template.metadata.labels[POD_SECURITY_LABEL];
        const findings = checkResources(resources, "hml").filter((f) => f.policy === "pod-security-restricted");
        assert.ok(findings.length > 0 && findings.every((f) => f.resource === "updater"), JSON.stringify(findings));
        assert.ok(findings.some((f) => /runAsUser=0/.test(f.message)));
    });

    it("refuses, naming each key, an updater as root under enforce restricted, a request above its limit, a root uid", async () => {
        const err = await renderFailure(
            stackWith("hml", {
                podSecurity: {
                    enforce: "restricted",
                    updater: { runAsRoot: true },
                    robots: { runAsUser: 0 },
                    resources: { restore: { requests: { memory: "4Gi" }, limits: { memory: "1Gi" } }, copy: { requests: { cpu: "fast" } } },
                },
            }),
        );
        const message = err.message;
        assert.match(message, /protheus:podSecurity\.updater\.runAsRoot.*enforce is "restricted"/);
        assert.match(message, /protheus:podSecurity\.resources\.restore\.requests\.memory.*at most the limit \(1Gi\)/);
        assert.match(message, /protheus:podSecurity\.robots\.runAsUser.*non-root uid/);
        assert.match(message, /protheus:podSecurity\.resources\.copy\.requests\.cpu.*CPU quantity/);
    });
});

describe("docs/pod-security.md", () => {
    it("matches the rendered plan", async () => {
        const committed = fs.existsSync(DOC) ? fs.readFileSync(DOC, "utf8") : "";
        assert.ok(
            committed === (await renderPodSecurityDoc()),
            "docs/pod-security.md is out of date: run `npm run -s pod-security > docs/pod-security.md` and commit it",
        );
    });

    it("has a row per container of every pod template, with the level it meets", async () => {
        const doc = await renderPodSecurityDoc();
        for (const name of EXPECTED) assert.ok(doc.includes(`\`${name}\``), name);
        assert.ok(!/\| (baseline|privileged) \|/.test(doc.split("## Decisions")[0]));
    });

    it("the hml plan's pod templates meet restricted too", async () => {
        const { resources } = await renderExample("hml");
        for (const t of podTemplates(resources)) assert.equal(levelMet(t), "restricted", t.name);
    });
});

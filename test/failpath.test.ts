// The update failure path as the plan shows it: the order of one
// `pulumi up` (upgrade and rollback), what it waits on, the backup before a
// version change, restore requests and their refusals, maintenance values,
// the toolbox and the sleeper.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../config/load";
import { DEFAULT_WAIT_MINUTES } from "../config/schema";
import { VERSION_BACKUP_DEADLINE_SECONDS } from "../components/PreUpgradeBackup";
import { RESTORE_DEADLINE_SECONDS } from "../components/RestoreRequest";
import { PlannedResource, RenderResult, resourceKey } from "../lib/render";
import { StackConfigInput } from "../lib/stackFiles";
import { deriveTransition, versionChangeBackup } from "../lib/versionChange";
import { checkResources } from "../policy/test/engine";
import { isKubernetesObject, schemaViolations } from "./support/k8sSchema";
import { byK8sName, configObject, find, render, renderFailure, stackWith, Stage } from "./support/stacks";

const JOB = "kubernetes:batch/v1:Job";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const NS = "kubernetes:core/v1:Namespace";

const envOf = (container: any): Record<string, unknown> => Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
const jobs = (rs: PlannedResource[]) => rs.filter((r) => r.type === JOB);
const jobNamed = (rs: PlannedResource[], name: string) => byK8sName(rs, "Job", name);
/** The update that follows a stack that exported `previous` (its StackReference to itself). */
const after = (stage: Stage, previous: Record<string, unknown>, overrides: Record<string, unknown> = {}): Promise<RenderResult> =>
    render({ ...stackWith(stage, overrides), previousOutputs: previous });
const ROLLBACK_REQUEST = {
    id: "2026-11-27-upd2510",
    backup: "before:12.1.2510",
    source: "volume",
    replace: true,
    reason: "UPDDISTR broke SX3 during 12.1.2510, ticket 4711",
};

/** Follows the explicit dependsOn of the custom resources from the updater back to the namespace. */
function chain(result: RenderResult, from: string): string[] {
    const out = [from];
    let key = from;
    for (;;) {
        const deps = (result.options[key]?.dependsOn ?? []).filter((d) => !d.startsWith("kubernetes:core/v1:ConfigMap::"));
        if (deps.length === 0) return out;
        assert.equal(deps.length, 1, `${key} waits on more than one step: ${deps.join(", ")}`);
        key = deps[0];
        out.push(key);
    }
}

describe("versionChange: the transition from the stack's own last outputs", () => {
    it("first deploy: no previous version, no backup", () => {
        assert.deepEqual(deriveTransition("12.1.2510", {}), { from: null, to: "12.1.2510" });
        assert.equal(versionChangeBackup({ from: null, to: "12.1.2510" }), undefined);
    });

    it("a new target: from the running version; up is pre-upgrade, down is pre-rollback (semver order)", () => {
        const up = deriveTransition("12.1.2510", { updateDesiredVersion: "12.1.2410" });
        assert.deepEqual(up, { from: "12.1.2410", to: "12.1.2510" });
        assert.deepEqual(versionChangeBackup(up), { reason: "pre-upgrade", from: "12.1.2410", to: "12.1.2510" });
        assert.equal(versionChangeBackup(deriveTransition("12.1.2410", { updateDesiredVersion: "12.1.2510" }))?.reason, "pre-rollback");
        assert.equal(versionChangeBackup(deriveTransition("12.1.2510-3", { updateDesiredVersion: "12.1.2510-2" }))?.reason, "pre-upgrade");
        assert.equal(versionChangeBackup(deriveTransition("12.1.2510-3", { updateDesiredVersion: "12.1.2510" }))?.reason, "pre-rollback");
    });

    it("the same target again: the transition exported last time, so the Job does not change", () => {
        const last = { from: "12.1.2410", to: "12.1.2510" };
        assert.deepEqual(deriveTransition("12.1.2510", { updateDesiredVersion: "12.1.2510", versionTransition: last }), last);
        // Outputs without a transition (a stack last updated by a program that exported none), or a garbled one: no backup rather than a made-up FROM.
        assert.deepEqual(deriveTransition("12.1.2510", { updateDesiredVersion: "12.1.2510" }), { from: null, to: "12.1.2510" });
        assert.deepEqual(deriveTransition("12.1.2510", { updateDesiredVersion: "12.1.2510", versionTransition: { from: "x", to: "12.1.2510" } }), {
            from: null,
            to: "12.1.2510",
        });
    });
});

describe("one pulumi up that changes the version", () => {
    let up: RenderResult;
    before(async () => {
        up = await after("hml", { updateDesiredVersion: "12.1.2410" });
    });

    it("runs namespace annotation → pre-upgrade backup Job → Helm release → updater CronJob, each waiting for the one before", () => {
        assert.deepEqual(chain(up, resourceKey(CRONJOB, "updater")), [
            resourceKey(CRONJOB, "updater"),
            resourceKey(RELEASE, "release"),
            resourceKey(JOB, "pre-upgrade-backup"),
            resourceKey(NS, "namespace"),
        ]);
        const job = find(up.resources, JOB, "pre-upgrade-backup");
        // The plan JSON carries the same options.
        assert.deepEqual(job.options?.dependsOn, [
            resourceKey(NS, "namespace"),
            resourceKey("kubernetes:core/v1:ConfigMap", "backup-scripts"),
            resourceKey("kubernetes:core/v1:ConfigMap", "backup-settings"),
        ]);
    });

    it("moves the updater only after the release: a failed atomic release fails the update and the updater keeps its image", () => {
        // Pulumi starts no new operation once one fails (the Helm provider reports a failed, rolled-back upgrade as an error),
        // so the updater's dependsOn on the release is what keeps it on the old version.
        assert.deepEqual(
            up.options[resourceKey(CRONJOB, "updater")].dependsOn.filter((d) => !d.includes("ConfigMap")),
            [resourceKey(RELEASE, "release")],
        );
        assert.equal((find(up.resources, RELEASE).inputs as any).atomic, true);
    });

    it("waits for the backup Job as long as configured (Kubernetes provider default: 10 minutes), at least its deadline", async () => {
        const job = find(up.resources, JOB, "pre-upgrade-backup");
        assert.deepEqual(job.options?.customTimeouts, { create: `${DEFAULT_WAIT_MINUTES.preUpgrade}m`, update: `${DEFAULT_WAIT_MINUTES.preUpgrade}m` });
        assert.equal((job.inputs as any).spec.activeDeadlineSeconds, VERSION_BACKUP_DEADLINE_SECONDS);
        assert.ok(DEFAULT_WAIT_MINUTES.preUpgrade * 60 >= VERSION_BACKUP_DEADLINE_SECONDS);
        assert.ok(DEFAULT_WAIT_MINUTES.restore * 60 >= RESTORE_DEADLINE_SECONDS);
        const backup = configObject("hml", "backup");
        const longer = await after("hml", { updateDesiredVersion: "12.1.2410" }, { backup: { ...backup, preUpgradeTimeoutMinutes: 300 } });
        assert.deepEqual(find(longer.resources, JOB, "pre-upgrade-backup").options?.customTimeouts, { create: "300m", update: "300m" });
    });

    it("a second pulumi up with the same target declares the identical Job (nothing re-runs)", async () => {
        const again = await after("hml", up.outputs);
        assert.deepEqual(up.outputs.versionTransition, { from: "12.1.2410", to: "12.1.2510" });
        assert.deepEqual(jobs(again.resources), jobs(up.resources));
        const third = await after("hml", again.outputs);
        assert.deepEqual(jobs(third.resources), jobs(up.resources));
    });

    it("keeps the Job's inputs unchanged when only backup settings change (they reach it through the settings ConfigMap)", async () => {
        const backup = configObject("hml", "backup");
        const changed = await after(
            "hml",
            { updateDesiredVersion: "12.1.2410" },
            {
                backup: {
                    ...backup,
                    retention: { days: 30, keepMin: 9 },
                    dumpJobs: 6,
                    schedule: "30 22 * * *",
                    copySchedule: "0 7 * * *",
                    database: { ...backup.database, host: "pg-new.internal", port: 6432 },
                    preUpgradeTimeoutMinutes: 400,
                },
            },
        );
        assert.deepEqual(find(changed.resources, JOB, "pre-upgrade-backup").inputs, find(up.resources, JOB, "pre-upgrade-backup").inputs);
        const settings = (byK8sName(changed.resources, "ConfigMap", "protheus-backup-settings").inputs as any).data;
        assert.equal(settings.BACKUP_RETENTION_DAYS, "30");
        assert.equal(settings.PGHOST, "pg-new.internal");
        // The images are part of what the Job is: a new postgres image is a new Job.
        const image = await after(
            "hml",
            { updateDesiredVersion: "12.1.2410" },
            { backup: { ...backup, images: { postgres: "postgres:16.4", cloudSdk: "gcr.io/google.com/cloudsdktool/google-cloud-cli:499.0.0-slim" } } },
        );
        assert.notDeepEqual(find(image.resources, JOB, "pre-upgrade-backup").inputs, find(up.resources, JOB, "pre-upgrade-backup").inputs);
    });

    it("renders only manifests the Kubernetes schemas accept", async () => {
        const violations = (await Promise.all(up.resources.filter(isKubernetesObject).map(schemaViolations))).flat();
        assert.deepEqual(violations, []);
    });
});

describe("rollback as one commit: the version set back plus a restore request", () => {
    let rollback: RenderResult;
    before(async () => {
        // Maintenance was enabled by the update before (maintenanceEnabled exported), as the rollback in docs/operacao.md asks.
        rollback = await after(
            "prod",
            { updateDesiredVersion: "12.1.2510", versionTransition: { from: "12.1.2410", to: "12.1.2510" }, maintenanceEnabled: true },
            {
                updateDesiredVersion: "12.1.2410",
                restore: ROLLBACK_REQUEST,
                maintenance: { enabled: true, values: { appserver: { replicas: 0 } } },
            },
        );
    });

    it("runs pre-rollback backup → restore → release downgrade → updater", () => {
        assert.deepEqual(chain(rollback, resourceKey(CRONJOB, "updater")), [
            resourceKey(CRONJOB, "updater"),
            resourceKey(RELEASE, "release"),
            resourceKey(JOB, "restore"),
            resourceKey(JOB, "pre-upgrade-backup"),
            resourceKey(NS, "namespace"),
        ]);
        assert.equal((find(rollback.resources, RELEASE).inputs as any).version, "12.1.2410");
    });

    it("takes a pre-rollback backup under another name (the broken state; latest never picks it)", () => {
        const job = jobNamed(rollback.resources, "protheus-backup-pre-rollback-12-1-2410");
        const env = envOf((job.inputs as any).spec.template.spec.containers[0]);
        assert.deepEqual([env.BACKUP_REASON, env.BACKUP_FROM_VERSION, env.BACKUP_TO_VERSION], ["pre-rollback", "12.1.2510", "12.1.2410"]);
        assert.equal((job.inputs as any).metadata.labels["protheus.totvs.com/backup-reason"], "pre-rollback");
    });

    it("restores with a Job named after the id, the request as env, waited for, never replaced", () => {
        const job = jobNamed(rollback.resources, "protheus-restore-2026-11-27-upd2510");
        const spec = (job.inputs as any).spec;
        const c = spec.template.spec.containers[0];
        assert.deepEqual(c.command, ["bash", "/scripts/restore.sh"]);
        const env = envOf(c);
        assert.deepEqual([env.RESTORE_BACKUP, env.RESTORE_SOURCE, env.RESTORE_REPLACE], ["before:12.1.2510", "volume", "yes"]);
        // As the restore role, set in the spec over the settings ConfigMap's PGUSER (the read-only backup role).
        assert.equal(env.PGUSER, "protheus_restore");
        assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: "protheus-database-restore", key: "password" } });
        assert.deepEqual(c.envFrom, [{ configMapRef: { name: "protheus-backup-settings" } }]);
        assert.equal(spec.backoffLimit, 0);
        assert.equal(spec.ttlSecondsAfterFinished, undefined, "a Job removed by a TTL would be created, and run, again");
        assert.equal(spec.template.spec.initContainers, undefined, "from the volume: no GCS fetch");
        assert.equal(spec.template.spec.automountServiceAccountToken, false);
        assert.deepEqual(job.options?.ignoreChanges, ["spec"], "a spec change must not replace (re-run) a restore; a new restore needs a new id");
        assert.deepEqual(job.options?.customTimeouts, { create: `${DEFAULT_WAIT_MINUTES.restore}m`, update: `${DEFAULT_WAIT_MINUTES.restore}m` });
        assert.equal(spec.activeDeadlineSeconds, RESTORE_DEADLINE_SECONDS);
        assert.match((job.inputs as any).metadata.annotations["protheus.totvs.com/restore-reason"], /ticket 4711/);
    });

    it("merges the maintenance values into the release while enabled, and only then", async () => {
        const values = (find(rollback.resources, RELEASE).inputs as any).values;
        assert.deepEqual(values.appserver, { replicas: 0 });
        assert.equal(values.dbaccess.port, 7890, "the rest of chart.values stays");
        const off = await after("prod", { updateDesiredVersion: "12.1.2410" }, { maintenance: { enabled: false, values: { appserver: { replicas: 0 } } } });
        assert.deepEqual((find(off.resources, RELEASE).inputs as any).values.appserver, { replicas: 3 });
    });

    it("removing the request removes the restore Job only", async () => {
        const done = await after("prod", rollback.outputs, {
            updateDesiredVersion: "12.1.2410",
            maintenance: { enabled: true, values: { appserver: { replicas: 0 } } },
        });
        const keys = (r: RenderResult) => r.resources.map((x) => resourceKey(x.type, x.name));
        const gone = keys(rollback).filter((k) => !keys(done).includes(k));
        assert.deepEqual(gone, [resourceKey("protheus:index:RestoreRequest", "restore"), resourceKey(JOB, "restore")]);
        // The pre-rollback Job stays as it was: the same change, re-derived from the stack's outputs.
        assert.deepEqual(
            jobs(done.resources),
            jobs(rollback.resources).filter((j) => j.name !== "restore"),
        );
    });

    it("fetches from GCS first when the request says so, as the copy's service account", async () => {
        const r = await after(
            "prod",
            { updateDesiredVersion: "12.1.2410", maintenanceEnabled: true },
            {
                restore: { ...ROLLBACK_REQUEST, source: "gcs", backup: "20261127T000012Z" },
                maintenance: { enabled: true, values: { appserver: { replicas: 0 } } },
            },
        );
        const pod = (jobNamed(r.resources, "protheus-restore-2026-11-27-upd2510").inputs as any).spec.template.spec;
        assert.deepEqual(pod.initContainers[0].command, ["bash", "/scripts/restore.sh", "--fetch-only"]);
        assert.match(pod.initContainers[0].image, /cloud/);
        assert.equal(envOf(pod.initContainers[0]).PGPASSWORD, undefined);
        assert.equal(envOf(pod.containers[0]).GCS_BUCKET, "protheus-backups-c2a7dv");
        assert.equal(pod.serviceAccountName, "protheus-backup-reader", "the fetch reads as the read-only account");
    });

    it("renders only manifests the Kubernetes schemas accept, and passes the policy pack", async () => {
        const violations = (await Promise.all(rollback.resources.filter(isKubernetesObject).map(schemaViolations))).flat();
        assert.deepEqual(violations, []);
        assert.deepEqual(
            checkResources(rollback.resources, "prod").filter((f) => f.level === "mandatory"),
            [],
        );
    });
});

describe("restore requests that are refused before anything runs", () => {
    const hmlBackup = configObject("hml", "backup");
    const cases: { what: string; input: StackConfigInput; key: string; expect: RegExp }[] = [
        {
            what: "an unknown backup form",
            input: stackWith("hml", { restore: { ...ROLLBACK_REQUEST, backup: "yesterday" } }),
            key: "protheus:restore.backup",
            expect: /"yesterday".*latest, a backup name such as 20261127T000012Z, or before:<version>/,
        },
        {
            what: "before: without an exact version",
            input: stackWith("hml", { restore: { ...ROLLBACK_REQUEST, backup: "before:12.1" } }),
            key: "protheus:restore.backup",
            expect: /before:<version>/,
        },
        {
            what: "a reason under 20 characters",
            input: stackWith("hml", { restore: { ...ROLLBACK_REQUEST, reason: "broken" } }),
            key: "protheus:restore.reason",
            expect: /at least 20 characters/,
        },
        {
            what: "an id that is not a DNS label",
            input: stackWith("hml", { restore: { ...ROLLBACK_REQUEST, id: "Upd_2510" } }),
            key: "protheus:restore.id",
            expect: /DNS-1123 label/,
        },
        {
            what: "an id too long for the Job name",
            input: stackWith("hml", { restore: { ...ROLLBACK_REQUEST, id: "a".repeat(47) } }),
            key: "protheus:restore.id",
            expect: /at most 46 characters/,
        },
        {
            what: "source gcs without a gcs target",
            input: stackWith("hml", { restore: { ...ROLLBACK_REQUEST, source: "gcs" }, backup: { ...hmlBackup, targets: [], gcs: undefined } }),
            key: "protheus:restore.source",
            expect: /backup\.targets to include "gcs"/,
        },
        {
            what: "a restore in prod without maintenance enabled",
            input: stackWith("prod", { restore: ROLLBACK_REQUEST }),
            key: "protheus:restore",
            expect: /refused in prod while protheus:maintenance\.enabled is not true/,
        },
        {
            what: "a restore without a backup section",
            input: stackWith("hml", { restore: ROLLBACK_REQUEST, backup: undefined }),
            key: "protheus:restore",
            expect: /expected a backup section/,
        },
    ];
    for (const c of cases) {
        it(`refuses ${c.what}, naming ${c.key}, and registers nothing`, async () => {
            const err = await renderFailure(c.input);
            assert.ok(err.cause instanceof ConfigError, err.message);
            const line = err.cause.problems.find((p) => p.startsWith(`${c.key} `));
            assert.ok(line, err.cause.message);
            assert.match(line, c.expect);
            assert.deepEqual(err.resources, []);
        });
    }

    it("refuses a prod restore in the same change that enables maintenance: the appservers would still be up while it runs", async () => {
        const request = { restore: ROLLBACK_REQUEST, maintenance: { enabled: true, values: { appserver: { replicas: 0 } } } };
        const err = await renderFailure({ ...stackWith("prod", request), previousOutputs: { updateDesiredVersion: "12.1.2410", maintenanceEnabled: false } });
        assert.ok(err.cause instanceof ConfigError, err.message);
        assert.match(err.message, /protheus:restore is refused until protheus:maintenance\.enabled has been applied/);
        assert.deepEqual(
            err.resources.map((r) => r.type),
            ["pulumi:pulumi:StackReference", "pulumi:pulumi:StackReference"],
            "only the reads ran",
        );
        const applied = await render({ ...stackWith("prod", request), previousOutputs: { updateDesiredVersion: "12.1.2410", maintenanceEnabled: true } });
        jobNamed(applied.resources, "protheus-restore-2026-11-27-upd2510");
        assert.equal(applied.outputs.maintenanceEnabled, true);
    });

    it("accepts a restore in hml without maintenance (users there can be sent away by hand)", async () => {
        const { resources } = await render(stackWith("hml", { restore: { ...ROLLBACK_REQUEST, backup: "latest", replace: false } }));
        const env = envOf((jobNamed(resources, "protheus-restore-2026-11-27-upd2510").inputs as any).spec.template.spec.containers[0]);
        assert.equal(env.RESTORE_REPLACE, "no", "without replace, restore.sh refuses an existing database itself (exit 3)");
    });
});

describe("updater: wrapper, sleeper bounds, labels", () => {
    it("ships scripts/upddistr.sh byte for byte in its own ConfigMap, also without a backup section", async () => {
        const { resources } = await render(stackWith("hml", { backup: undefined }));
        const cm = byK8sName(resources, "ConfigMap", "protheus-updater-scripts").inputs as any;
        assert.equal(cm.data["upddistr.sh"], fs.readFileSync(path.join(__dirname, "..", "scripts", "upddistr.sh"), "utf8"));
        const pod = (byK8sName(resources, "CronJob", "protheus-updater").inputs as any).spec.jobTemplate.spec.template.spec;
        assert.deepEqual(pod.volumes.find((v: any) => v.name === "scripts").configMap, { name: "protheus-updater-scripts", defaultMode: 0o555 });
    });

    it("labels the updater's Jobs and pods so `kubectl delete job -l app.kubernetes.io/component=updater` finds them", async () => {
        const { resources } = await render(stackWith("hml"));
        const cj = byK8sName(resources, "CronJob", "protheus-updater").inputs as any;
        assert.equal(cj.spec.jobTemplate.metadata.labels["app.kubernetes.io/component"], "updater");
        assert.equal(cj.spec.jobTemplate.spec.template.metadata.labels["app.kubernetes.io/component"], "updater");
        // No other Job template carries it: the label deletes update Jobs only.
        for (const r of resources.filter((x) => x.type === CRONJOB && x !== byK8sName(resources, "CronJob", "protheus-updater"))) {
            assert.notEqual((r.inputs as any).spec.jobTemplate.metadata.labels["app.kubernetes.io/component"], "updater", r.name);
        }
    });

    it("refuses a sleeper of more than a day, and completion flags that are not plain file names", async () => {
        const updater = configObject("hml", "updater");
        for (const [value, key, re] of [
            [{ ...updater, sleeperHours: 25 }, "protheus:updater.sleeperHours", /25/],
            [{ ...updater, completionFlags: ["ok.flag", "../etc/passwd"] }, "protheus:updater.completionFlags[1]", /plain file name/],
            [{ ...updater, completionFlags: ["two words"] }, "protheus:updater.completionFlags[0]", /plain file name/],
            [{ ...updater, completionFlags: ["a", "a"] }, "protheus:updater.completionFlags", /at most once/],
        ] as const) {
            const err = await renderFailure(stackWith("hml", { updater: value }));
            assert.ok(err.cause instanceof ConfigError, err.message);
            assert.ok(
                err.cause.problems.some((p) => p.startsWith(`${key} `) && re.test(p)),
                err.cause.message,
            );
        }
    });
});

describe("updater: the environment and the Job's name reach the wrapper", () => {
    it("passes the namespace for the outcome line and the Job's name (its pods' job-name label) for the kept report", async () => {
        const { resources } = await render(stackWith("hml"));
        const c = (byK8sName(resources, "CronJob", "protheus-updater").inputs as any).spec.jobTemplate.spec.template.spec.containers[0];
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
        assert.equal(env.BACKUP_NAMESPACE, "c2a7dv-hml");
        assert.deepEqual(env.UPDDISTR_JOB, { fieldRef: { fieldPath: "metadata.labels['job-name']" } });
    });
});

describe("toolbox: a shell on the volume for the abort procedure", () => {
    it("is a StatefulSet protheus-toolbox, closed (no replica) until scaled: pinned small image, non-root, read-only root, no capabilities, /volume writable", async () => {
        const updater = configObject("hml", "updater");
        const { resources, options } = await render(stackWith("hml", { updater: { ...updater, completionFlags: ["upddistr.done", "dbaccess.ready"] } }));
        const toolbox = byK8sName(resources, "StatefulSet", "protheus-toolbox");
        const sts = toolbox.inputs as any;
        assert.equal(sts.spec.replicas, 0);
        // Operators scale it; a deploy neither closes a toolbox in use nor conflicts with their scale.
        assert.deepEqual(options[resourceKey(toolbox.type, toolbox.name)].ignoreChanges, ["spec.replicas"]);
        assert.deepEqual(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels);
        const pod = sts.spec.template.spec;
        const c = pod.containers[0];
        assert.equal(c.image, "busybox:1.36.1");
        assert.deepEqual(c.command, ["sleep", String(2 * 3600)]);
        assert.equal(c.securityContext.runAsNonRoot, true);
        assert.ok(c.securityContext.runAsUser > 0);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
        assert.equal(pod.automountServiceAccountToken, false);
        const vol = c.volumeMounts.find((m: any) => m.mountPath === "/volume");
        assert.notEqual(vol.readOnly, true);
        assert.equal(pod.volumes.find((v: any) => v.name === vol.name).persistentVolumeClaim.claimName, "protheus-volume");
        assert.equal(envOf(c).COMPLETION_FLAGS, "upddistr.done dbaccess.ready");
        assert.deepEqual(await schemaViolations(toolbox), []);
        assert.equal(
            resources.find((r) => r.type === CRONJOB && (r.inputs as any).metadata.name === "protheus-toolbox"),
            undefined,
            "no toolbox CronJob any more",
        );
    });

    it("has no flags unless the stack names them, and takes another pinned image and duration from config", async () => {
        const { resources } = await render(stackWith("hml", { toolbox: { image: "registry.example.com/tools/busybox@sha256:" + "a".repeat(64), hours: 1 } }));
        const c = (byK8sName(resources, "StatefulSet", "protheus-toolbox").inputs as any).spec.template.spec.containers[0];
        assert.equal(envOf(c).COMPLETION_FLAGS, "");
        assert.deepEqual(c.command, ["sleep", "3600"]);
        const err = await renderFailure(stackWith("hml", { toolbox: { image: "busybox:latest" } }));
        assert.ok(err.cause instanceof ConfigError && err.cause.problems.some((p) => p.startsWith("protheus:toolbox.image ")), err.message);
        const root = await renderFailure(stackWith("hml", { toolbox: { runAsUser: 0 } }));
        assert.ok(
            root.cause instanceof ConfigError && root.cause.problems.some((p) => p.startsWith("protheus:toolbox.runAsUser ") && /non-root/.test(p)),
            root.message,
        );
    });
});

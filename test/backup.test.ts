import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PlannedResource, renderStack, resourceKey } from "../lib/render";
import { checkResources } from "../policy/test/engine";
import { byK8sName, configObject, find, render, renderExample, stackWith } from "./support/stacks";

const BUCKET = "gcp:storage/bucket:Bucket";
const BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const JOB = "kubernetes:batch/v1:Job";

const spec = (r: PlannedResource): any => (r.inputs as any).spec;
const podOf = (cronJob: PlannedResource): any => spec(cronJob).jobTemplate.spec.template.spec;
const envOf = (container: any): Record<string, unknown> => Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("backups (prod plan)", () => {
    let resources: PlannedResource[];
    let options: Awaited<ReturnType<typeof renderStack>>["options"];
    before(async () => {
        ({ resources, options } = await renderExample("prod"));
    });

    it("dumps at 21:00 and copies at 06:00, Sao Paulo time, never overlapping, with deadlines and failed history", () => {
        for (const [name, schedule] of [
            ["protheus-backup", "0 21 * * *"],
            ["protheus-backup-copy", "0 6 * * *"],
        ]) {
            const s = spec(byK8sName(resources, "CronJob", name));
            assert.equal(s.schedule, schedule, name);
            assert.equal(s.timeZone, "America/Sao_Paulo", name);
            assert.equal(s.concurrencyPolicy, "Forbid", name);
            assert.ok(s.startingDeadlineSeconds > 0, name);
            assert.ok(s.jobTemplate.spec.activeDeadlineSeconds > 0, name);
            assert.ok(s.failedJobsHistoryLimit >= 1, name);
        }
        // The dump must end before the copy starts: 21:00 + deadline <= 06:00 next day.
        assert.ok(spec(byK8sName(resources, "CronJob", "protheus-backup")).jobTemplate.spec.activeDeadlineSeconds <= 9 * 3600);
    });

    it("runs the scripts from the ConfigMap in stock images, with the settings ConfigMap and the password from a Secret", () => {
        const backup = podOf(byK8sName(resources, "CronJob", "protheus-backup")).containers[0];
        assert.match(backup.image, /^postgres:15/);
        assert.deepEqual(backup.command, ["bash", "/scripts/backup.sh"]);
        const env = envOf(backup);
        assert.deepEqual(backup.envFrom, [{ configMapRef: { name: "protheus-backup-settings" } }]);
        const settings = (byK8sName(resources, "ConfigMap", "protheus-backup-settings").inputs as any).data;
        assert.deepEqual(settings, {
            PGHOST: "postgresql",
            PGPORT: "5432",
            PGDATABASE: "protheus",
            PGUSER: "protheus_backup",
            BACKUP_JOBS: "2",
            BACKUP_RETENTION_DAYS: "7",
            BACKUP_KEEP_MIN: "3",
            // Every outcome line names its environment.
            BACKUP_NAMESPACE: "c2a7dv",
        });
        assert.equal(env.PGHOST, undefined, "connection settings come from the ConfigMap, not the spec");
        assert.equal(env.BACKUP_REASON, "nightly");
        assert.equal(env.BACKUP_DIR, "/volume/backups");
        assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: "protheus-database", key: "password" } });
        const copy = podOf(byK8sName(resources, "CronJob", "protheus-backup-copy")).containers[0];
        assert.match(copy.image, /cloud/);
        assert.deepEqual(copy.command, ["bash", "/scripts/copy.sh"]);
        assert.equal(envOf(copy).PGPASSWORD, undefined, "the copy job has no business with the database password");
    });

    it("ships the committed scripts, byte for byte", () => {
        const cm = byK8sName(resources, "ConfigMap", "protheus-backup-scripts").inputs as any;
        for (const file of ["backup.sh", "copy.sh", "restore.sh", "lib.sh"]) {
            assert.equal(cm.data[file], fs.readFileSync(path.join(__dirname, "..", "scripts", file), "utf8"), file);
        }
    });

    it("copies to GCS and the Rubrik NFS mount, reading the volume only", () => {
        // Rubrik through a claim bound by name to an NFS PersistentVolume that admits only that claim.
        const claim = byK8sName(resources, "PersistentVolumeClaim", "protheus-rubrik").inputs as any;
        const volume = byK8sName(resources, "PersistentVolume", "protheus-rubrik-c2a7dv").inputs as any;
        assert.deepEqual(volume.spec.nfs, { server: "rubrik-mv.totvs.internal", path: "/export/protheus/c2a7dv" });
        assert.deepEqual(volume.spec.claimRef, { namespace: "c2a7dv", name: "protheus-rubrik" });
        assert.equal(volume.spec.persistentVolumeReclaimPolicy, "Retain");
        assert.equal(claim.metadata.namespace, "c2a7dv");
        assert.equal(claim.spec.volumeName, "protheus-rubrik-c2a7dv");
        assert.equal(claim.spec.storageClassName, "", "no storage class: nothing is provisioned");
        assert.equal(volume.spec.storageClassName, "");
        const pod = podOf(byK8sName(resources, "CronJob", "protheus-backup-copy"));
        const env = envOf(pod.containers[0]);
        assert.equal(env.BACKUP_TARGETS, "gcs,rubrik");
        assert.equal(env.GCS_BUCKET, "protheus-backups-c2a7dv");
        assert.equal(env.BACKUP_NAMESPACE, "c2a7dv");
        assert.equal(env.RUBRIK_DIR, "/rubrik");
        assert.deepEqual(
            pod.volumes.find((v: any) => v.name === "rubrik"),
            { name: "rubrik", persistentVolumeClaim: { claimName: "protheus-rubrik" } },
        );
        assert.equal(pod.containers[0].volumeMounts.find((m: any) => m.mountPath === "/volume").readOnly, true);
        assert.equal(pod.serviceAccountName, "protheus-backup");
    });

    it("runs every backup container non-root, read-only, without capabilities", () => {
        for (const name of ["protheus-backup", "protheus-backup-copy", "protheus-restore"]) {
            const pod = podOf(byK8sName(resources, "CronJob", name));
            for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
                assert.equal(c.securityContext.runAsNonRoot, true, `${name}/${c.name}`);
                assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${name}/${c.name}`);
                assert.equal(c.securityContext.allowPrivilegeEscalation, false, `${name}/${c.name}`);
                assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], `${name}/${c.name}`);
            }
        }
    });

    it("keeps the restore as a suspended template that never retries, fed by the restore-request ConfigMap", () => {
        const restore = byK8sName(resources, "CronJob", "protheus-restore");
        assert.equal(spec(restore).suspend, true);
        assert.equal(spec(restore).jobTemplate.spec.backoffLimit, 0);
        const pod = podOf(restore);
        assert.deepEqual(pod.containers[0].command, ["bash", "/scripts/restore.sh"]);
        assert.deepEqual(pod.containers[0].envFrom, [
            { configMapRef: { name: "protheus-backup-settings" } },
            { configMapRef: { name: "protheus-restore-request", optional: true } },
        ]);
        assert.equal(envOf(pod.containers[0]).RESTORE_REPLACE, undefined, "replacing a database must be asked for, never defaulted");
        // The GCS fetch runs in the Cloud SDK image first, only when asked for.
        assert.match(pod.initContainers[0].command.join(" "), /RESTORE_SOURCE.*= gcs.*restore\.sh --fetch-only/);
    });

    it("has a manual backup template: suspended, never fires, the nightly's Job but for BACKUP_REASON=manual", () => {
        const manual = spec(byK8sName(resources, "CronJob", "protheus-backup-manual"));
        const nightly = spec(byK8sName(resources, "CronJob", "protheus-backup"));
        assert.equal(manual.suspend, true);
        assert.equal(manual.schedule, "0 0 31 2 *", "February 31st: even unsuspended it never fires");
        assert.equal(nightly.suspend, undefined, "the nightly is not suspended");
        const reasons = [manual, nightly].map((s) => envOf(s.jobTemplate.spec.template.spec.containers[0]).BACKUP_REASON);
        assert.deepEqual(reasons, ["manual", "nightly"]);
        // Apart from the reason, the same Job as the nightly's.
        const withoutReason = (s: any) => {
            const job = JSON.parse(JSON.stringify(s.jobTemplate));
            for (const c of job.spec.template.spec.containers) c.env = c.env.filter((e: any) => e.name !== "BACKUP_REASON");
            return job;
        };
        assert.deepEqual(withoutReason(manual), withoutReason(nightly));
    });

    it("annotates the copy job's ServiceAccount for Workload Identity", () => {
        const ksa = byK8sName(resources, "ServiceAccount", "protheus-backup").inputs as any;
        assert.equal(ksa.metadata.annotations["iam.gke.io/gcp-service-account"], "bkp-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com");
    });

    it("declares a private bucket with a locked retention policy, lifecycle and labels", () => {
        const bucket = find(resources, BUCKET).inputs as any;
        assert.equal(bucket.name, "protheus-backups-c2a7dv");
        assert.equal(bucket.location, "SOUTHAMERICA-EAST1");
        assert.equal(bucket.uniformBucketLevelAccess, true);
        assert.equal(bucket.publicAccessPrevention, "enforced");
        assert.deepEqual(bucket.retentionPolicy, { retentionPeriod: String(30 * 86400), isLocked: true });
        assert.deepEqual(bucket.labels, { namespace: "c2a7dv", stage: "prod", "part-of": "protheus" });
        const del = bucket.lifecycleRules.find((r: any) => r.action.type === "Delete");
        assert.equal(del.condition.age, 31);
        assert.equal(options[resourceKey(BUCKET, "backup-storage")].protect, true);
    });

    it("lets the copy account create and read on its bucket only: no delete, no overwrite", () => {
        const grants = resources.filter((r) => r.type === BUCKET_IAM).map((r) => r.inputs as any);
        const mine = grants.filter((g) => g.member === "serviceAccount:bkp-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com");
        assert.deepEqual(mine.map((g) => g.role).sort(), ["roles/storage.objectCreator", "roles/storage.objectViewer"]);
        for (const g of grants) {
            assert.equal(g.bucket, "protheus-backups-c2a7dv");
            assert.ok(["roles/storage.objectCreator", "roles/storage.objectViewer"].includes(g.role), `${g.member} gets ${g.role}`);
            if (g.role === "roles/storage.objectCreator") assert.equal(g.member, mine[0].member, "only the backup account writes");
        }
        const wi = resources.filter((r) => r.type === "gcp:serviceaccount/iAMMember:IAMMember").map((r) => r.inputs as any);
        assert.deepEqual(wi.map((m) => [m.role, m.member, m.serviceAccountId]).sort(), [
            [
                "roles/iam.workloadIdentityUser",
                "serviceAccount:totvs-protheus-prod.svc.id.goog[c2a7dv/protheus-backup-reader]",
                "projects/totvs-protheus-prod/serviceAccounts/rdr-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com",
            ],
            [
                "roles/iam.workloadIdentityUser",
                "serviceAccount:totvs-protheus-prod.svc.id.goog[c2a7dv/protheus-backup]",
                "projects/totvs-protheus-prod/serviceAccounts/bkp-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com",
            ],
        ]);
    });

    it("fetches for restores and drills as a second Google account that only reads the bucket", () => {
        const reader = "serviceAccount:rdr-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com";
        const grants = resources.filter((r) => r.type === BUCKET_IAM).map((r) => r.inputs as any);
        assert.deepEqual(
            grants.filter((g) => g.member === reader).map((g) => g.role),
            ["roles/storage.objectViewer"],
        );
        const ksa = byK8sName(resources, "ServiceAccount", "protheus-backup-reader").inputs as any;
        assert.equal(ksa.metadata.annotations["iam.gke.io/gcp-service-account"], "rdr-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com");
        assert.equal(ksa.automountServiceAccountToken, false);
        // The restore template fetches as the reader; only the copy runs as the creator account.
        assert.equal(podOf(byK8sName(resources, "CronJob", "protheus-restore")).serviceAccountName, "protheus-backup-reader");
        const asCreator = resources
            .filter((r) => r.type.startsWith("kubernetes:") && JSON.stringify(r.inputs).includes('"serviceAccountName":"protheus-backup"'))
            .map((r) => (r.inputs as any).metadata.name);
        assert.deepEqual(asCreator, ["protheus-backup-copy"]);
    });

    it("passes every rule of the policy pack", () => {
        const findings = checkResources(resources, "prod").filter((f) => f.level === "mandatory");
        assert.deepEqual(findings, []);
    });
});

describe("backups (hml plan)", () => {
    it("copies to GCS only, with an unlocked retention, and passes the policy pack", async () => {
        const { resources } = await renderExample("hml");
        assert.equal(envOf(podOf(byK8sName(resources, "CronJob", "protheus-backup-copy")).containers[0]).BACKUP_TARGETS, "gcs");
        assert.equal(
            podOf(byK8sName(resources, "CronJob", "protheus-backup-copy")).volumes.some((v: any) => v.name === "rubrik"),
            false,
        );
        assert.equal(
            resources.some((r) => r.type === "kubernetes:core/v1:PersistentVolume"),
            false,
        );
        assert.equal((find(resources, BUCKET).inputs as any).retentionPolicy.isLocked, false);
        assert.deepEqual(
            checkResources(resources, "hml").filter((f) => f.level === "mandatory"),
            [],
        );
    });

    it("without offsite targets has no copy job, no bucket and no cloud identity", async () => {
        const backup = configObject("hml", "backup");
        const { resources } = await render(stackWith("hml", { backup: { ...backup, targets: [], gcs: undefined } }));
        assert.equal(resources.filter((r) => r.type.startsWith("gcp:")).length, 0);
        assert.throws(() => byK8sName(resources, "CronJob", "protheus-backup-copy"));
        byK8sName(resources, "CronJob", "protheus-backup");
        assert.equal(podOf(byK8sName(resources, "CronJob", "protheus-restore")).initContainers, undefined);
    });
});

describe("database identities: the backup role reads, the restore role restores", () => {
    // PGUSER as a job sees it: its own env wins over the settings ConfigMap it reads with envFrom.
    const identity = (resources: PlannedResource[], container: any) => {
        const env = envOf(container);
        const fromConfigMap = (container.envFrom ?? []).some((f: any) => f.configMapRef?.name === "protheus-backup-settings");
        const settings = (byK8sName(resources, "ConfigMap", "protheus-backup-settings").inputs as any).data;
        return { user: env.PGUSER ?? (fromConfigMap ? settings.PGUSER : undefined), password: env.PGPASSWORD };
    };
    const backupRole = { user: "protheus_backup", password: { secretKeyRef: { name: "protheus-database", key: "password" } } };
    const restoreRole = { user: "protheus_restore", password: { secretKeyRef: { name: "protheus-database-restore", key: "password" } } };

    it("prod: backups as protheus_backup; the restore template and the drill as protheus_restore, set over the ConfigMap", async () => {
        const { resources } = await renderExample("prod");
        assert.deepEqual(identity(resources, podOf(byK8sName(resources, "CronJob", "protheus-backup")).containers[0]), backupRole);
        const restore = podOf(byK8sName(resources, "CronJob", "protheus-restore")).containers[0];
        assert.deepEqual(identity(resources, restore), restoreRole);
        assert.equal(envOf(restore).PGUSER, "protheus_restore", "explicit in the spec, not left to the ConfigMap");
        assert.deepEqual(identity(resources, podOf(byK8sName(resources, "CronJob", "protheus-restore-drill")).containers[0]), restoreRole);
        const copy = podOf(byK8sName(resources, "CronJob", "protheus-backup-copy")).containers[0];
        assert.deepEqual([envOf(copy).PGUSER, envOf(copy).PGPASSWORD], [undefined, undefined], "the copy never connects to the database");
        for (const c of podOf(byK8sName(resources, "CronJob", "protheus-restore")).initContainers)
            assert.equal(envOf(c).PGPASSWORD, undefined, `${c.name} only downloads`);
    });

    it("the backup before a version change runs as the backup role", async () => {
        const { resources } = await render({ ...stackWith("hml"), previousOutputs: { updateDesiredVersion: "12.1.2410" } });
        const job = resources.find((r) => r.type === JOB)!;
        assert.deepEqual(identity(resources, spec(job).template.spec.containers[0]), backupRole);
    });

    it("hml without a restore user restores as the backup user and its password (the Pulumi-secret one too)", async () => {
        const backup = configObject("hml", "backup");
        const { restoreUser, restorePasswordSecret, passwordSecret, ...database } = backup.database;
        const { resources } = await render(stackWith("hml", { backup: { ...backup, database } }, { databasePassword: "pw-Very-Secret-42" }));
        const created = { user: "protheus_backup", password: { secretKeyRef: { name: "protheus-backup-database", key: "password" } } };
        assert.deepEqual(identity(resources, podOf(byK8sName(resources, "CronJob", "protheus-restore")).containers[0]), created);
        assert.deepEqual(identity(resources, podOf(byK8sName(resources, "CronJob", "protheus-backup")).containers[0]), created);
    });
});

describe("the database password as a Pulumi secret", () => {
    it("becomes a Kubernetes Secret whose value never shows in the plan", async () => {
        const backup = configObject("hml", "backup");
        const { passwordSecret, ...database } = backup.database;
        const { resources } = await render(stackWith("hml", { backup: { ...backup, database } }, { databasePassword: "pw-Very-Secret-42" }));
        const secret = byK8sName(resources, "Secret", "protheus-backup-database").inputs as any;
        assert.equal(secret.stringData, "[secret]");
        assert.doesNotMatch(JSON.stringify(resources), /pw-Very-Secret-42/);
        const env = envOf(podOf(byK8sName(resources, "CronJob", "protheus-backup")).containers[0]);
        assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: "protheus-backup-database", key: "password" } });
    });
});

describe("PreUpgradeBackup", () => {
    const jobs = (rs: PlannedResource[]) => rs.filter((r) => r.type === JOB);
    // hml's file names 12.1.2510: as the update after a stack that ran 12.1.2410.
    const fromPrevious = (previousOutputs: Record<string, unknown>, overrides: Record<string, unknown> = {}) =>
        render({ ...stackWith("hml", overrides), previousOutputs });

    it("is a Job named after the version, with reason and versions, and the release waits for it", async () => {
        const { resources, options } = await fromPrevious({ updateDesiredVersion: "12.1.2410" });
        const [job] = jobs(resources);
        assert.equal((job.inputs as any).metadata.name, "protheus-backup-pre-12-1-2510");
        const c = spec(job).template.spec.containers[0];
        assert.deepEqual(c.command, ["bash", "/scripts/backup.sh"]);
        const env = envOf(c);
        assert.equal(env.BACKUP_REASON, "pre-upgrade");
        assert.equal(env.BACKUP_FROM_VERSION, "12.1.2410");
        assert.equal(env.BACKUP_TO_VERSION, "12.1.2510");
        assert.equal(spec(job).ttlSecondsAfterFinished, undefined, "a Job that vanished would run again on the next pulumi up");
        assert.deepEqual(options[resourceKey("kubernetes:helm.sh/v3:Release", "release")].dependsOn, [resourceKey(JOB, "pre-upgrade-backup")]);
    });

    it("runs only when the version changes: the committed stacks as they stand, and a first deploy, have none", async () => {
        assert.equal(jobs((await renderExample("hml")).resources).length, 0);
        assert.equal(jobs((await fromPrevious({})).resources).length, 0);
        const moved = jobs((await fromPrevious({ updateDesiredVersion: "12.1.2510-2" }, { updateDesiredVersion: "12.1.2510-3" })).resources);
        assert.equal((moved[0].inputs as any).metadata.name, "protheus-backup-pre-12-1-2510-3");
    });

    it("can be turned off, and then nothing waits for it", async () => {
        const backup = configObject("hml", "backup");
        const { resources, options } = await fromPrevious({ updateDesiredVersion: "12.1.2410" }, { backup: { ...backup, preUpgrade: false } });
        assert.equal(jobs(resources).length, 0);
        assert.deepEqual(options[resourceKey("kubernetes:helm.sh/v3:Release", "release")].dependsOn, [
            resourceKey("kubernetes:core/v1:Namespace", "namespace"),
        ]);
        find(resources, RELEASE);
    });
});

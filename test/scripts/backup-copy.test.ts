/**
 * scripts/copy.sh after backup.sh: idempotence, resuming under the bucket's
 * retention policy, and what it never ships (the bucket listing and its
 * failure: backup-failures.test.ts).
 *
 * Real parts: a throwaway PostgreSQL 15, the gcloud CLI pointed at an
 * in-process fake GCS JSON API, and a temp dir standing in for the Rubrik
 * Managed Volume.
 *
 * As in production, the Protheus database belongs to an application role
 * (`protheus`), and the scripts connect as the least-privilege roles that
 * docs/backups.md tells DBAs to create (created here by running that SQL):
 * backup.sh as protheus_backup, restore.sh as protheus_restore. The server's
 * superuser only builds the fixture and inspects the results.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { putBackup } from "./support/fake-gcs";
import { useScriptFixture, NS } from "./support/script-fixture";

const DB = "p01";
const BUCKET = "protheus-backups-copy";

describe("copy script (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: BUCKET, sizeMb: 4, leastPrivilegeRoles: true });
    const { freshDirs, script, copyOfBackup, copyToBoth } = fx;

    it("copy is idempotent: a second run ships nothing", async function () {
        const { backupDir, rubrikDir } = freshDirs();
        const name = await copyOfBackup(backupDir);
        const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs,rubrik", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
        const first = await script("copy", env);
        assert.equal(first.status, 0, first.stderr);
        const uploads = fx.gcs.uploads.length;
        const rubrikStat = fs.statSync(path.join(rubrikDir, NS, name, "MANIFEST.json"));
        const second = await script("copy", env);
        assert.equal(second.status, 0, second.stderr);
        assert.match(second.stdout, /done: 0 shipment\(s\), 1 backup\(s\) already at every target/);
        assert.equal(fx.gcs.uploads.length, uploads, "no object uploaded on the second run");
        assert.deepEqual(fx.gcs.rejectedOverwrites, []);
        assert.equal(fs.statSync(path.join(rubrikDir, NS, name, "MANIFEST.json")).ino, rubrikStat.ino, "rubrik copy untouched");
    });

    it("copy resumes a half-finished gcs upload without overwriting (retention policy) and uploads the manifest last", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await copyOfBackup(backupDir);
        const files = fs
            .readdirSync(path.join(dbDir, name))
            .filter((f) => f !== "MANIFEST.json")
            .sort();
        const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
        // An earlier run got one data file up, then died.
        fx.gcs.put(BUCKET, `${NS}/${name}/${files[0]}`, fs.readFileSync(path.join(dbDir, name, files[0])));
        // This run fails on the manifest (the upload is refused).
        fx.gcs.failUploadsMatching = /MANIFEST\.json$/;
        const failed = await script("copy", env);
        fx.gcs.failUploadsMatching = undefined;
        assert.equal(failed.status, 1, failed.stdout + failed.stderr);
        assert.match(failed.stderr, /upload of MANIFEST.json failed/);
        assert.equal(fx.gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), undefined, 'target does not "have" the backup');
        const before = fx.gcs.uploads.length;
        const retry = await script("copy", env);
        assert.equal(retry.status, 0, retry.stderr);
        assert.match(retry.stdout, /gcs: shipped .*\(0 of \d+ data files uploaded/);
        assert.deepEqual(fx.gcs.uploads.slice(before), [`${BUCKET}/${NS}/${name}/MANIFEST.json`]);
        assert.deepEqual(fx.gcs.rejectedOverwrites, [], "never tried to overwrite an object");
    });

    it("a data file damaged on its way to GCS fails the copy (gcloud's checksum check), the manifest stays home, the next run says to resolve by hand", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await copyOfBackup(backupDir);
        const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
        const [damaged] = fs.readdirSync(path.join(dbDir, name)).filter((f) => f !== "MANIFEST.json" && f !== "toc.dat");
        fx.gcs.corruptUploadsMatching = new RegExp(`/${damaged.replace(/\./g, "\\.")}$`);
        const failed = await script("copy", env).finally(() => (fx.gcs.corruptUploadsMatching = undefined));
        assert.equal(failed.status, 1, failed.stdout + failed.stderr);
        assert.match(
            failed.stderr,
            new RegExp(`gcs: ${name}: upload failed: gs://${BUCKET}/${NS}/${name}/${damaged.replace(/\./g, "\\.")} arrived damaged \\(its checksum differs`),
        );
        assert.ok(fx.gcs.get(BUCKET, `${NS}/${name}/${damaged}`), "the damaged object is in the bucket (it cannot be deleted)");
        assert.equal(fx.gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), undefined, 'target does not "have" the backup');
        const again = await script("copy", env);
        assert.equal(again.status, 1, again.stdout + again.stderr);
        assert.match(again.stderr, new RegExp(`gcs: ${name}: ${damaged.replace(/\./g, "\\.")}: target object differs .*resolve by hand`));
        assert.equal(fx.gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), undefined);
    });

    it("copy never ships a .partial, even one that carries a manifest", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await copyOfBackup(backupDir);
        const fakePartial = "20991231T235959Z.partial";
        fs.cpSync(path.join(dbDir, name), path.join(dbDir, fakePartial), { recursive: true });
        fs.renameSync(path.join(dbDir, name), path.join(dbDir, "20991231T235958Z")); // keep one real complete backup
        // GCS has the complete one already (its upload is not the point here): copy only lists the bucket
        putBackup(fx.gcs, BUCKET, `${NS}/20991231T235958Z`, path.join(dbDir, "20991231T235958Z"));
        const r = await copyToBoth(backupDir, rubrikDir);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), ["20991231T235958Z"]);
        assert.deepEqual(fx.gcs.list(BUCKET, `${NS}/20991231T235959Z`), []);
    });
});

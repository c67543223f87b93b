/**
 * scripts/backup.sh, copy.sh, restore.sh when things go wrong: a killed or
 * failing backup, a corrupted backup file, a bucket that cannot be listed, a
 * failing restore, a wrong password; what each leaves behind and what the
 * others then refuse to ship or restore.
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
import { fakeCommands } from "./support/fake-commands";
import { putBackup } from "./support/fake-gcs";
import { databaseOid } from "./support/protheus-fixture";
import { useScriptFixture, completeBackups, oneLine, NS } from "./support/script-fixture";

const DB = "p01";
const BUCKET = "protheus-backups-failures";

describe("backup scripts when things go wrong (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: BUCKET, sizeMb: 4, leastPrivilegeRoles: true });
    const { freshDirs, script, copyOfBackup, copyToBoth } = fx;

    it("copy lists the bucket once; when that listing fails, GCS is not tried, Rubrik still gets the backup, exit 1", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await copyOfBackup(backupDir);
        fx.gcs.failListing = true;
        const failed = await copyToBoth(backupDir, rubrikDir).finally(() => (fx.gcs.failListing = false));
        assert.equal(failed.status, 1, failed.stdout + failed.stderr);
        assert.match(failed.stderr, /gcs: cannot list gs:\/\/[^ ]+\/\*\*: .*Simulated refusal to list/);
        // The run says GCS was not tried, never that the backups are already there, and the outcome line keeps the cause.
        assert.doesNotMatch(failed.stdout, /already at every target/);
        const outcome = JSON.parse(failed.stdout.trimEnd().split("\n").pop()!);
        assert.equal(outcome.status, "failed");
        assert.match(outcome.error, /gcs: cannot list gs:\/\/[^ ]+\/\*\*: .*Simulated refusal to list/);
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [name], "Rubrik is shipped all the same");
        assert.deepEqual(fx.gcs.list(BUCKET, `${NS}/${name}/`), [], "nothing uploaded to GCS");
        const retry = await copyToBoth(backupDir, rubrikDir);
        assert.equal(retry.status, 0, retry.stderr);
        assert.ok(fx.gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), "the next run ships it");
        // with two backups at every target, a run asks GCS one question (the second one is put there
        // directly: uploads are tested in backup-copy.test.ts)
        const second = await copyOfBackup(backupDir);
        putBackup(fx.gcs, BUCKET, `${NS}/${second}`, path.join(dbDir, second));
        assert.equal((await script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "rubrik", BACKUP_NAMESPACE: NS, RUBRIK_DIR: rubrikDir })).status, 0);
        const before = fx.gcs.requests.length;
        const quiet = await copyToBoth(backupDir, rubrikDir);
        assert.equal(quiet.status, 0, quiet.stderr);
        assert.match(quiet.stdout, /0 shipment\(s\), 2 backup\(s\) already at every target/);
        assert.deepEqual(
            fx.gcs.requests.slice(before).map((r) => r.replace(/\?.*/, "")),
            [`GET /storage/v1/b/${BUCKET}/o`],
        );
    });

    it("a backup killed midway (SIGKILL) leaves no complete backup; copy and restore skip it", async function () {
        const { base, backupDir, dbDir, rubrikDir } = freshDirs();
        const good = await copyOfBackup(backupDir);
        // pg_dump that finishes writing, then hangs: the .partial dir looks complete except for the manifest.
        const PATH = fakeCommands(fx.pg, path.join(base, "bin"), {
            pg_dump: `[ "$1" = --version ] && exec "${fx.pg.binDir}/pg_dump" --version\n"${fx.pg.binDir}/pg_dump" "$@" || exit $?\nexec sleep 600`,
        });
        let pid = 0;
        const running = script("backup", { BACKUP_DIR: backupDir, PATH }, [], { detached: true, onSpawn: (c) => (pid = c.pid ?? 0) });
        // wait for the dump to be written
        const deadline = Date.now() + 60_000;
        let partial = "";
        while (Date.now() < deadline) {
            partial = fs.existsSync(dbDir) ? (fs.readdirSync(dbDir).find((n) => n.endsWith(".partial")) ?? "") : "";
            if (partial && fs.existsSync(path.join(dbDir, partial, "toc.dat"))) break;
            await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(partial, "backup started");
        assert.ok(pid > 0, "backup.sh pid known");
        process.kill(-pid, "SIGKILL"); // the whole process group: script, pg_dump wrapper, sleep
        const killed = await running;
        assert.equal(killed.signal, "SIGKILL");

        assert.deepEqual(completeBackups(dbDir), [good], "the killed backup is not complete");
        assert.ok(fs.existsSync(path.join(dbDir, partial, "toc.dat")));
        assert.equal(fs.existsSync(path.join(dbDir, partial, "MANIFEST.json")), false);

        // GCS has the good backup already (its upload is not the point here): copy only lists the bucket
        putBackup(fx.gcs, BUCKET, `${NS}/${good}`, path.join(dbDir, good));
        const copy = await copyToBoth(backupDir, rubrikDir);
        assert.equal(copy.status, 0, copy.stderr);
        assert.match(copy.stdout, new RegExp(`skip ${partial}`));
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [good]);
        assert.deepEqual(fx.gcs.list(BUCKET, `${NS}/${partial.replace(".partial", "")}`), []);

        const latest = await script("restore", { BACKUP_DIR: backupDir }, ["--verify-only"]);
        assert.equal(latest.status, 0, latest.stderr);
        assert.match(latest.stdout, new RegExp(`verified .*/${good}$`, "m"), "latest = newest COMPLETE backup");
        const named = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: partial.replace(".partial", ""), RESTORE_DATABASE: "p01_never" });
        assert.equal(named.status, 4);
        assert.match(oneLine(named), /not found|incomplete/);
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_never%'`).trim(), "0");
    });

    it("a corrupted backup file: restore refuses before touching the database; copy does not ship it", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await copyOfBackup(backupDir);
        const dat = fs
            .readdirSync(path.join(dbDir, name))
            .filter((f) => f.endsWith(".dat.gz"))
            .sort()[0];
        const file = path.join(dbDir, name, dat);
        const buf = fs.readFileSync(file);
        buf[Math.floor(buf.length / 2)] ^= 0xff; // same size, different content
        fs.writeFileSync(file, buf);
        fx.pg.psql(`CREATE TABLE zz_marker (id int); INSERT INTO zz_marker VALUES (42)`, DB);
        const oid = databaseOid(fx.pg, DB);

        const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
        assert.equal(r.status, 4);
        assert.match(oneLine(r), new RegExp(`^restore: backup ${name} failed verification: ${dat.replace(".", "\\.")}: SHA-256 differs`));
        assert.equal(databaseOid(fx.pg, DB), oid, "database not replaced");
        assert.equal(fx.pg.psql("SELECT id FROM zz_marker", DB).trim(), "42", "database untouched");
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), "0", "no temp database created");

        const c = await copyToBoth(backupDir, rubrikDir);
        assert.equal(c.status, 3, c.stderr);
        assert.match(c.stderr, new RegExp(`backup ${name} failed local verification`));
        assert.deepEqual(fs.existsSync(path.join(rubrikDir, NS)) ? fs.readdirSync(path.join(rubrikDir, NS)) : [], []);
        assert.deepEqual(fx.gcs.list(BUCKET, `${NS}/${name}/`), []);

        // a missing file is refused as well
        fs.rmSync(file);
        const r2 = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
        assert.equal(r2.status, 4);
        assert.match(oneLine(r2), new RegExp(`${dat.replace(".", "\\.")}: missing`));
        assert.equal(databaseOid(fx.pg, DB), oid);
        fx.pg.psql("DROP TABLE zz_marker", DB);
    });

    it("restore over an existing database without RESTORE_REPLACE=yes refuses (exit 3)", async function () {
        const { backupDir } = freshDirs();
        await copyOfBackup(backupDir);
        const oid = databaseOid(fx.pg, DB);
        for (const replace of [undefined, "", "YES", "true", "y"]) {
            const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: replace });
            assert.equal(r.status, 3, `RESTORE_REPLACE=${replace}: ${r.stderr}`);
            assert.match(oneLine(r), /database "p01" exists; refusing/);
        }
        assert.equal(databaseOid(fx.pg, DB), oid);
    });

    it("a failed restore leaves nothing under the target name (temp database dropped)", async function () {
        const { base, backupDir } = freshDirs();
        await copyOfBackup(backupDir);
        const PATH = fakeCommands(fx.pg, path.join(base, "bin"), {
            pg_restore: `"${fx.pg.binDir}/pg_restore" "$@" || exit $?\necho 'pg_restore: error: simulated failure at the end' >&2\nexit 1`,
        });
        const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_copy", PATH });
        assert.equal(r.status, 1);
        assert.match(oneLine(r), /^restore: pg_restore failed: simulated failure at the end; database "p01_copy" untouched$/);
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_copy%'`).trim(), "0");
    });

    it("a wrong password fails with a clear one-line reason and leaves no backup dir at all", async function () {
        const { backupDir, dbDir } = freshDirs();
        const r = await script("backup", { BACKUP_DIR: backupDir, PGPASSWORD: "wrong-password" });
        assert.equal(r.status, 1);
        assert.match(oneLine(r), /^backup: cannot connect to database "p01": password authentication failed for user "protheus_backup"$/);
        assert.equal(fs.existsSync(dbDir), false, "nothing written, not even a .partial");
    });

    it("pg_dump failing midway removes its own .partial", async function () {
        const { base, backupDir, dbDir } = freshDirs();
        const PATH = fakeCommands(fx.pg, path.join(base, "bin"), {
            pg_dump: `[ "$1" = --version ] && exec "${fx.pg.binDir}/pg_dump" --version\n"${fx.pg.binDir}/pg_dump" "$@" || exit $?\necho 'pg_dump: error: could not write to file: No space left on device' >&2\nexit 1`,
        });
        const r = await script("backup", { BACKUP_DIR: backupDir, PATH });
        assert.equal(r.status, 1);
        assert.match(oneLine(r), /^backup: pg_dump failed: could not write to file: No space left on device$/);
        assert.deepEqual(fs.readdirSync(dbDir), [".lock"], "nothing but the lock file (empty; one backup of a database at a time)");
        assert.equal(fs.statSync(path.join(dbDir, ".lock")).size, 0);
    });
});

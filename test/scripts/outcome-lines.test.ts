/**
 * The outcome line every robot prints (backup.sh, copy.sh, restore.sh and the
 * updater wrapper upddistr.sh), from real runs against a real throwaway
 * PostgreSQL 15 and a temp dir standing in for the Rubrik Managed Volume.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "./support/run";
import { useScriptFixture, outcome, NS, SCRIPTS } from "./support/script-fixture";

const DB = "d01";

describe("outcome lines of every robot (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: "protheus-backups-outcome", sizeMb: 3, leastPrivilegeRoles: false, env: { BACKUP_NAMESPACE: NS } });
    const { script, copyOfBackup } = fx;
    const freshDir = () => fx.freshDirs().backupDir;

    it("backup: ok with bytes and backup name; failed with the error", async function () {
        const backupDir = freshDir();
        const ok = await script("backup", { BACKUP_DIR: backupDir });
        const o = outcome(ok);
        const name = path.basename(/complete: (\S+)/.exec(ok.stdout)![1]);
        const bytes = JSON.parse(fs.readFileSync(path.join(backupDir, DB, name, "MANIFEST.json"), "utf8")).total_bytes;
        assert.deepEqual({ ...o, seconds: 0 }, { event: "protheus.backup", status: "ok", environment: NS, database: DB, seconds: 0, backup: name, bytes });
        const bad = await script("backup", { BACKUP_DIR: backupDir, PGPASSWORD: 'wrong "quoted" \\ password' });
        const f = outcome(bad);
        assert.equal(bad.status, 1);
        assert.equal(f.status, "failed");
        assert.equal(f.exit_code, 1);
        assert.equal(`backup: ${f.error}`, bad.stderr.trim());
    });

    it("copy: ok and failed", async function () {
        const { backupDir, rubrikDir } = fx.freshDirs();
        await copyOfBackup(backupDir);
        // the outcome line is the same whatever the target: Rubrik (a local dir) spares the gcloud runs
        const ok = await script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "rubrik", RUBRIK_DIR: rubrikDir });
        assert.equal(ok.status, 0, ok.stderr);
        const o = outcome(ok);
        assert.deepEqual([o.event, o.status, o.environment, o.database, o.shipped], ["protheus.copy", "ok", NS, DB, 1]);
        const notADir = path.join(fx.tmp, "not-a-dir");
        fs.writeFileSync(notADir, "");
        const bad = await script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "rubrik", RUBRIK_DIR: notADir, BACKUP_NAMESPACE: "c2a7dv-other" });
        assert.equal(bad.status, 2);
        const f = outcome(bad);
        assert.deepEqual([f.event, f.status, f.environment, f.exit_code], ["protheus.copy", "failed", "c2a7dv-other", 2]);
        assert.equal(`copy: ${f.error}`, bad.stderr.trim());
    });

    it("restore: ok and failed", async function () {
        const backupDir = freshDir();
        const name = await copyOfBackup(backupDir);
        const ok = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "d01_outcome" });
        assert.equal(ok.status, 0, ok.stderr);
        const o = outcome(ok);
        assert.deepEqual([o.event, o.status, o.database, o.backup, o.target], ["protheus.restore", "ok", DB, name, "d01_outcome"]);
        fx.pg.psql("DROP DATABASE d01_outcome");
        const bad = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: "20000101T000000Z", RESTORE_DATABASE: "d01_outcome" });
        assert.equal(bad.status, 4);
        const f = outcome(bad);
        assert.deepEqual([f.event, f.status, f.exit_code], ["protheus.restore", "failed", 4]);
        assert.match(String(f.error), /backup not found/);
    });

    it("updater wrapper (upddistr.sh, POSIX sh): ok and failed", async function () {
        const dir = path.join(fx.tmp, "upd");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "init-upddistr"), "#!/bin/sh\nexit 3\n", { mode: 0o755 });
        for (const [cmd, status, code] of [
            ["true", "ok", 0],
            [path.join(dir, "init-upddistr"), "failed", 3],
        ] as const) {
            const r = await run("sh", [path.join(SCRIPTS, "upddistr.sh")], {
                env: {
                    PATH: process.env.PATH,
                    BACKUP_NAMESPACE: NS,
                    PGDATABASE: DB,
                    UPDDISTR_COMMAND: cmd,
                    UPDDISTR_LOG: path.join(dir, "none.log"),
                    UPDDISTR_RESULT: path.join(dir, "none.json"),
                },
            });
            assert.equal(r.status, code);
            const o = outcome(r);
            assert.deepEqual([o.event, o.status, o.environment, o.database], ["protheus.updater", status, NS, DB]);
            if (code) assert.deepEqual([o.exit_code, typeof o.error], [3, "string"]);
        }
    });
});

/**
 * scripts/drill.sh against a real throwaway PostgreSQL 15, the real gcloud CLI
 * on the in-process fake GCS, and the real backup/restore scripts: a good
 * backup from the volume and from the offsite copy, on a separate drill server,
 * as least-privilege roles, and its configuration (what makes a drill fail:
 * drill-failures.test.ts).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { startPostgres } from "../support/postgres";
import { pathWithout } from "./support/fake-commands";
import { putBackup } from "./support/fake-gcs";
import { createProtheusDatabase } from "./support/protheus-fixture";
import { outcome, NS } from "./support/script-fixture";
import { useDrillFixture, DB, ODD_TABLE } from "./support/drill-fixture";
import { PROTHEUS_TABLES } from "../../bench/protheus-db";
import { DATABASE_NAME_MAX } from "../../components/names";

const BUCKET = "protheus-backups-drill";

describe("restore drill (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const { fx, freshDir, liveOdd, scratchDatabases, assertFailed, assertLiveUntouched } = useDrillFixture(BUCKET);
    const { script, backup, copyOfBackup } = fx;

    it("--help lists every variable and exit code", async function () {
        const r = await script("drill", {}, ["--help"]);
        assert.equal(r.status, 0);
        for (const v of [
            "PGDATABASE",
            "DRILL_PGHOST",
            "DRILL_PGPORT",
            "DRILL_PGUSER",
            "DRILL_PGPASSWORD",
            "DRILL_SOURCE",
            "DRILL_BACKUP",
            "DRILL_DEADLINE_SECONDS",
            "DRILL_CHECKS_DIR",
            "DRILL_STAGING_DIR",
            "BACKUP_DIR",
            "BACKUP_NAMESPACE",
            "GCS_BUCKET",
        ]) {
            assert.match(r.stdout, new RegExp(`\\b${v}\\b`), v);
        }
        for (const code of [0, 1, 2, 4, 5, 6]) assert.match(r.stdout, new RegExp(`^  ${code}  `, "m"), `exit code ${code}`);
        assert.equal(
            r.stdout.split("\n").some((l) => l.startsWith("{")),
            false,
            "--help prints no outcome line",
        );
    });

    it("backup.sh records every table and its row count in MANIFEST.json, in the format the bash readers parse", async function () {
        const backupDir = freshDir();
        const name = await backup(backupDir);
        const text = fs.readFileSync(path.join(backupDir, DB, name, "MANIFEST.json"), "utf8");
        const m = JSON.parse(text);
        const expected: Record<string, number> = { [`public.${ODD_TABLE}`]: Number(liveOdd()), "public.zz9010": 0 };
        for (const t of PROTHEUS_TABLES) expected[`public.${t}`] = Number(fx.original[t].split("|")[0]);
        assert.deepEqual(Object.fromEntries(m.tables.map((t: { table: string; rows: number }) => [t.table, t.rows])), expected);
        assert.equal(m.table_count, Object.keys(expected).length);
        // one table per line, as TABLE_RE in lib.sh reads it
        assert.equal(text.split("\n").filter((l) => /^\s*\{"table": ".*", "rows": \d+\},?$/.test(l)).length, m.table_count);
    });

    it("a good backup from the volume: passes, reports the restore time, drops the scratch database and a killed drill's, leaves the live database untouched", async function () {
        const backupDir = freshDir();
        const name = await copyOfBackup(backupDir);
        // what a drill killed while restore.sh ran leaves: its scratch and restore.sh's temporary database
        fx.pg.psql(`CREATE DATABASE ${DB}_drill;\nCREATE DATABASE ${DB}_drill_restore_tmp;`);
        const r = await script("drill", { BACKUP_DIR: backupDir });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.doesNotMatch(r.stdout, /interrupted restore/, "the drill dropped both before restore.sh ran");
        assert.match(r.stdout, /tables: all 5 present with the row counts the backup recorded/);
        assert.match(r.stdout, new RegExp(`drill passed: backup ${name} restored in [0-9.]+s`));
        const o = outcome(r);
        assert.deepEqual(
            { event: o.event, status: o.status, environment: o.environment, database: o.database, backup: o.backup, tables: o.tables, checks: o.checks },
            { event: "protheus.drill", status: "ok", environment: NS, database: DB, backup: name, tables: 5, checks: 0 },
        );
        assert.equal(typeof o.restore_seconds, "number");
        assert.ok((o.restore_seconds as number) > 0 && (o.restore_seconds as number) <= o.seconds);
        assert.equal("error" in o, false);
        assert.equal(scratchDatabases(), "");
        assertLiveUntouched();
    });

    it("from the offsite copy (GCS) even when the volume lost its backups; staging removed; also as --fetch-only + drill without gcloud (the Kubernetes pod)", async function () {
        const backupDir = freshDir();
        const older = await copyOfBackup(backupDir);
        const newest = await copyOfBackup(backupDir);
        // the offsite copy, as copy.sh leaves it (copy.sh itself is tested in backup-copy.test.ts)
        for (const name of [older, newest]) putBackup(fx.gcs, BUCKET, `${NS}/${name}`, path.join(backupDir, DB, name));
        fs.rmSync(path.join(backupDir, DB), { recursive: true });
        const staging = path.join(backupDir, ".drill-staging", DB);

        const r = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET });
        assert.equal(r.status, 0, r.stderr);
        const o = outcome(r);
        assert.equal(o.status, "ok");
        assert.equal(o.backup, newest, "the newest complete backup of the offsite copy");
        assert.equal(typeof o.fetch_seconds, "number");
        assert.equal(fs.existsSync(staging), false);

        // the deadline counts from the download: the fetch leaves it for the drill container
        const fetch = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, DRILL_DEADLINE_SECONDS: "600" }, ["--fetch-only"]);
        assert.equal(fetch.status, 0, fetch.stderr);
        assert.equal(fetch.stdout.includes('"event"'), false, "a successful fetch leaves the outcome to the drill container");
        assert.ok(fs.existsSync(path.join(staging, newest, "MANIFEST.json")));
        const deadlineFile = path.join(staging, ".drill-deadline");
        const at = Number(fs.readFileSync(deadlineFile, "utf8"));
        assert.ok(at > Date.now() / 1000 && at <= Date.now() / 1000 + 600);
        // what this fetch staged, kept for the late drill below (instead of fetching it again)
        const stagedCopy = path.join(path.dirname(backupDir), "staged-copy");
        fs.cpSync(staging, stagedCopy, { recursive: true });
        const noGcloud = pathWithout(fx.pg, path.join(fx.tmp, "no-gcloud"), ["gcloud"]);
        const drill = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, PATH: noGcloud });
        assert.equal(drill.status, 0, drill.stderr);
        assert.equal(outcome(drill).backup, newest);
        assert.equal(fs.existsSync(staging), false);
        assert.equal(scratchDatabases(), "");
        assertLiveUntouched();

        fs.cpSync(stagedCopy, staging, { recursive: true });
        fs.writeFileSync(deadlineFile, `${Math.floor(Date.now() / 1000) - 1}\n`);
        const late = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, PATH: noGcloud });
        assertFailed(late, 6, /deadline of 21600s passed before the restore/, staging);

        // a failed fetch prints the drill's failed outcome (no drill container will)
        const bad = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, BACKUP_NAMESPACE: "nobody-here" }, ["--fetch-only"]);
        assert.equal(bad.status, 4, bad.stderr);
        assert.equal(outcome(bad).status, "failed");
    });

    it("on a separate drill server (DRILL_PG*): the live server never gets a scratch database", async function () {
        const other = await startPostgres({ settings: { fsync: "off" } });
        try {
            const backupDir = freshDir();
            await copyOfBackup(backupDir);
            const r = await script("drill", {
                BACKUP_DIR: backupDir,
                DRILL_PGHOST: other.host,
                DRILL_PGPORT: String(other.port),
                DRILL_PGUSER: other.user,
                DRILL_PGPASSWORD: other.password,
                RESTORE_NO_OWNER: "yes",
            });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(outcome(r).status, "ok");
            assert.equal(scratchDatabases(other), "");
            assert.match(other.psql(`SELECT count(*) FROM pg_stat_database WHERE datname = '${DB}_drill'`), /^0/);
            assertLiveUntouched();
        } finally {
            other.stop();
        }
    });

    it("as least-privilege roles (backup: pg_read_all_data; drill: CREATEDB + member of the owner role), never superuser", async function () {
        const db = "d02";
        fx.pg.psql(
            `CREATE ROLE d02_app NOLOGIN; CREATE ROLE d02_backup LOGIN PASSWORD 'pw-backup'; GRANT pg_read_all_data TO d02_backup;
       CREATE ROLE d02_restore LOGIN CREATEDB PASSWORD 'pw-restore'; GRANT d02_app TO d02_restore;`,
        );
        createProtheusDatabase(fx.pg, db, 1);
        fx.pg.psql(`ALTER DATABASE ${db} OWNER TO d02_app`);
        fx.pg.psql(`ALTER SCHEMA public OWNER TO d02_app; ${PROTHEUS_TABLES.map((t) => `ALTER TABLE ${t} OWNER TO d02_app;`).join(" ")}`, db);
        const backupDir = freshDir();
        const b = await script("backup", { PGDATABASE: db, BACKUP_DIR: backupDir, PGUSER: "d02_backup", PGPASSWORD: "pw-backup" });
        assert.equal(b.status, 0, b.stderr);
        // Run as the backup role by mistake: refused, and the way out is the restore role, never a grant
        // that would give the read-only role write rights.
        const wrongRole = await script("drill", { PGDATABASE: db, BACKUP_DIR: backupDir, PGUSER: "d02_backup", PGPASSWORD: "pw-backup" });
        assert.notEqual(wrongRole.status, 0);
        assert.doesNotMatch(wrongRole.stderr, /GRANT/);
        assert.match(String(outcome(wrongRole).error), /restore role/);
        const r = await script("drill", { PGDATABASE: db, BACKUP_DIR: backupDir, PGUSER: "d02_restore", PGPASSWORD: "pw-restore" });
        assert.equal(r.status, 0, r.stderr);
        const o = outcome(r);
        assert.deepEqual([o.status, o.database, o.tables], ["ok", db, 3]);
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '${db}_drill%'`).trim(), "0");
    });

    it("refuses bad configuration with exit 2 and a failed outcome line", async function () {
        for (const [env, reason] of [
            [{ DRILL_SOURCE: "s3" }, /DRILL_SOURCE must be gcs or volume/],
            [{ DRILL_DEADLINE_SECONDS: "0" }, /DRILL_DEADLINE_SECONDS must be a positive integer/],
            [{ PGDATABASE: "a".repeat(DATABASE_NAME_MAX + 1) }, new RegExp(`at most ${DATABASE_NAME_MAX} characters`)],
        ] as [Record<string, string>, RegExp][]) {
            const r = await script("drill", { BACKUP_DIR: freshDir(), ...env });
            assert.equal(r.status, 2, r.stderr);
            assert.match(r.stderr, reason);
            assert.equal(outcome(r).status, "failed");
        }
    });
});

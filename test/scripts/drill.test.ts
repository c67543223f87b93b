/**
 * scripts/drill.sh (and the outcome line every robot prints) against a real
 * throwaway PostgreSQL 15, the real gcloud CLI on the in-process fake GCS,
 * and the real backup/copy/restore scripts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startPostgres, PgServer } from "../support/postgres";
import { startGcloudFixture, FakeGcs } from "./support/fake-gcs";
import { run, RunResult } from "./support/run";
import { createProtheusDatabase, fingerprint, databaseOid } from "./support/protheus-fixture";
import { PROTHEUS_TABLES } from "../../bench/protheus-db";

const SCRIPTS = path.resolve(__dirname, "../../scripts");
const DB = "d01";
const NS = "c2a7dv";
const BUCKET = "protheus-backups-drill";
/** A table name that needs JSON escaping and contains the count separator. */
const ODD_TABLE = 'Odd "name" | x';

type Outcome = Record<string, unknown> & { event: string; status: string; environment: string; database: string; seconds: number };

/** The outcome line: the last stdout line, which must be the only JSON line. */
function outcome(r: RunResult): Outcome {
    const json = r.stdout.split("\n").filter((l) => l.startsWith("{"));
    assert.equal(json.length, 1, `expected exactly one outcome line on stdout, got:\n${r.stdout}`);
    assert.equal(r.stdout.trimEnd().split("\n").pop(), json[0], "the outcome line is the last line");
    const o = JSON.parse(json[0]) as Outcome;
    assert.equal(typeof o.seconds, "number");
    assert.ok(o.seconds >= 0);
    return o;
}

describe("restore drill and outcome lines (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    let pg: PgServer;
    let gcs: FakeGcs;
    let tmp: string;
    let gcloud: Record<string, string>;
    let live: Record<string, string>;
    let liveOid: string;
    let liveOdd: string;

    before(async function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "drill-scripts-"));
        pg = await startPostgres({ settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
        createProtheusDatabase(pg, DB, 3);
        // An empty table (no block: counted from the catalogue) and one whose name needs escaping.
        pg.psql(
            `CREATE TABLE zz9010 (r_e_c_n_o_ integer PRIMARY KEY); CREATE TABLE "${ODD_TABLE.replace(/"/g, '""')}" (id integer); INSERT INTO "${ODD_TABLE.replace(/"/g, '""')}" SELECT generate_series(1, 7);`,
            DB,
        );
        live = fingerprint(pg, DB);
        liveOid = databaseOid(pg, DB);
        liveOdd = pg.psql(`SELECT count(*) FROM "${ODD_TABLE.replace(/"/g, '""')}"`, DB).trim();
        ({ gcs, gcloud } = await startGcloudFixture([BUCKET], tmp));
    });

    after(async function () {
        await gcs?.close();
        pg?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    let seq = 0;
    function freshDir(): string {
        const dir = path.join(tmp, `t${++seq}`, "backups");
        fs.mkdirSync(dir, { recursive: true });
        return dir;
    }

    function script(name: string, env: Record<string, string | undefined>, args: string[] = [], server: PgServer = pg): Promise<RunResult> {
        return run("bash", [path.join(SCRIPTS, `${name}.sh`), ...args], { env: server.env({ PGDATABASE: DB, BACKUP_NAMESPACE: NS, ...gcloud, ...env }) });
    }

    async function backup(backupDir: string): Promise<string> {
        const r = await script("backup", { BACKUP_DIR: backupDir });
        assert.equal(r.status, 0, `backup failed: ${r.stderr}`);
        return path.basename(/complete: (\S+)/.exec(r.stdout)![1]);
    }

    const scratchDatabases = (server: PgServer = pg) => server.psql(`SELECT datname FROM pg_database WHERE datname LIKE '${DB}_drill%' ORDER BY 1`).trim();

    /** the drill failed with exit `code`, one line on stderr matching `reason`, and left nothing behind */
    function assertFailed(r: RunResult, code: number, reason: RegExp, staging?: string) {
        assert.equal(r.status, code, `expected exit ${code}:\n${r.stdout}\n${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `expected a one-line reason on stderr, got:\n${r.stderr}`);
        assert.match(lines[0], /^drill: /);
        assert.match(lines[0], reason);
        const o = outcome(r);
        assert.equal(o.event, "protheus.drill");
        assert.equal(o.status, "failed");
        assert.equal(o.exit_code, code);
        assert.equal(o.error, lines[0].replace(/^drill: /, ""));
        assert.equal(scratchDatabases(), "", "no scratch database left");
        if (staging) assert.equal(fs.existsSync(staging), false, "drill staging dir removed");
        assertLiveUntouched();
    }

    function assertLiveUntouched() {
        assert.equal(databaseOid(pg, DB), liveOid, "the live database is the same database (OID)");
        assert.deepEqual(fingerprint(pg, DB), live, "the live database content is unchanged");
    }

    /** A backup dir holding a copy of one good backup, whose MANIFEST.json `edit` may change. */
    let golden = "";
    let goldenName = "";
    async function copyOfGoodBackup(edit?: (manifest: string) => string): Promise<{ backupDir: string; dir: string }> {
        if (!golden) {
            golden = freshDir();
            goldenName = await backup(golden);
        }
        const backupDir = freshDir();
        const dir = path.join(backupDir, DB, goldenName);
        fs.cpSync(path.join(golden, DB, goldenName), dir, { recursive: true });
        if (edit) {
            const m = path.join(dir, "MANIFEST.json");
            const before = fs.readFileSync(m, "utf8");
            const after = edit(before);
            assert.notEqual(after, before, "the manifest edit changed something");
            fs.writeFileSync(m, after);
        }
        return { backupDir, dir };
    }

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
        const expected: Record<string, number> = { [`public.${ODD_TABLE}`]: Number(liveOdd), "public.zz9010": 0 };
        for (const t of PROTHEUS_TABLES) expected[`public.${t}`] = Number(live[t].split("|")[0]);
        assert.deepEqual(Object.fromEntries(m.tables.map((t: { table: string; rows: number }) => [t.table, t.rows])), expected);
        assert.equal(m.table_count, Object.keys(expected).length);
        // one table per line, as TABLE_RE in lib.sh reads it
        assert.equal(text.split("\n").filter((l) => /^\s*\{"table": ".*", "rows": \d+\},?$/.test(l)).length, m.table_count);
    });

    it("a good backup from the volume: passes, reports the restore time, drops the scratch database, leaves the live database untouched", async function () {
        const backupDir = freshDir();
        const name = await backup(backupDir);
        const r = await script("drill", { BACKUP_DIR: backupDir });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
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
        await backup(backupDir);
        const newest = await backup(backupDir);
        const copy = await script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs", GCS_BUCKET: BUCKET });
        assert.equal(copy.status, 0, copy.stderr);
        fs.rmSync(path.join(backupDir, DB), { recursive: true });
        const staging = path.join(backupDir, ".drill-staging", DB);

        const r = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET });
        assert.equal(r.status, 0, r.stderr);
        const o = outcome(r);
        assert.equal(o.status, "ok");
        assert.equal(o.backup, newest, "the newest complete backup of the offsite copy");
        assert.equal(typeof o.fetch_seconds, "number");
        assert.equal(fs.existsSync(staging), false);

        const fetch = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET }, ["--fetch-only"]);
        assert.equal(fetch.status, 0, fetch.stderr);
        assert.equal(fetch.stdout.includes('"event"'), false, "a successful fetch leaves the outcome to the drill container");
        assert.ok(fs.existsSync(path.join(staging, newest, "MANIFEST.json")));
        const drill = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, GCLOUD: "/nonexistent/gcloud" });
        assert.equal(drill.status, 0, drill.stderr);
        assert.equal(outcome(drill).backup, newest);
        assert.equal(fs.existsSync(staging), false);
        assert.equal(scratchDatabases(), "");
        assertLiveUntouched();

        // the deadline counts from the download: the fetch leaves it for the drill container
        assert.equal((await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, DRILL_DEADLINE_SECONDS: "600" }, ["--fetch-only"])).status, 0);
        const deadlineFile = path.join(staging, ".drill-deadline");
        const at = Number(fs.readFileSync(deadlineFile, "utf8"));
        assert.ok(at > Date.now() / 1000 && at <= Date.now() / 1000 + 600);
        fs.writeFileSync(deadlineFile, `${Math.floor(Date.now() / 1000) - 1}\n`);
        const late = await script("drill", { BACKUP_DIR: backupDir, GCS_BUCKET: BUCKET, GCLOUD: "/nonexistent/gcloud" });
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
            await backup(backupDir);
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
        pg.psql(
            `CREATE ROLE d02_app NOLOGIN; CREATE ROLE d02_backup LOGIN PASSWORD 'pw-backup'; GRANT pg_read_all_data TO d02_backup;
       CREATE ROLE d02_restore LOGIN CREATEDB PASSWORD 'pw-restore'; GRANT d02_app TO d02_restore;`,
        );
        createProtheusDatabase(pg, db, 1);
        pg.psql(`ALTER DATABASE ${db} OWNER TO d02_app`);
        pg.psql(`ALTER SCHEMA public OWNER TO d02_app; ${PROTHEUS_TABLES.map((t) => `ALTER TABLE ${t} OWNER TO d02_app;`).join(" ")}`, db);
        const backupDir = freshDir();
        const b = await script("backup", { PGDATABASE: db, BACKUP_DIR: backupDir, PGUSER: "d02_backup", PGPASSWORD: "pw-backup" });
        assert.equal(b.status, 0, b.stderr);
        const r = await script("drill", { PGDATABASE: db, BACKUP_DIR: backupDir, PGUSER: "d02_restore", PGPASSWORD: "pw-restore" });
        assert.equal(r.status, 0, r.stderr);
        const o = outcome(r);
        assert.deepEqual([o.status, o.database, o.tables], ["ok", db, 3]);
        assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '${db}_drill%'`).trim(), "0");
    });

    it("a recorded row count that differs from the restored table fails with a clear line", async function () {
        const n = Number(live.sb1010.split("|")[0]);
        const { backupDir } = await copyOfGoodBackup((m) =>
            m.replace(`{"table": "public.sb1010", "rows": ${n}}`, `{"table": "public.sb1010", "rows": ${n + 1}}`),
        );
        const r = await script("drill", { BACKUP_DIR: backupDir });
        assertFailed(r, 5, new RegExp(`table "public.sb1010" has ${n} rows restored, the backup recorded ${n + 1}$`));
    });

    it("a table the backup recorded but the dump does not restore fails as missing", async function () {
        const { backupDir } = await copyOfGoodBackup((m) =>
            m.replace(
                /"table_count": (\d+),\n {2}"tables": \[\n/,
                (_all, c) => `"table_count": ${Number(c) + 1},\n  "tables": [\n    {"table": "public.sx2010", "rows": 12},\n`,
            ),
        );
        const r = await script("drill", { BACKUP_DIR: backupDir });
        assertFailed(r, 5, /table "public\.sx2010" \(12 rows in the backup\) is missing from the restored database$/);
    });

    it("a corrupted backup file fails verification before any database is created", async function () {
        const { backupDir, dir } = await copyOfGoodBackup();
        const data = fs.readdirSync(dir).find((f) => /^\d+\.dat\.gz$/.test(f))!;
        const buf = fs.readFileSync(path.join(dir, data));
        buf[buf.length >> 1] ^= 0xff;
        fs.writeFileSync(path.join(dir, data), buf);
        const r = await script("drill", { BACKUP_DIR: backupDir });
        assertFailed(r, 4, new RegExp(`${data.replace(".", "\\.")}: SHA-256 differs from MANIFEST\\.json`));
    });

    it("a backup without recorded row counts (older backup.sh) cannot be checked: fails, says why", async function () {
        const { backupDir } = await copyOfGoodBackup((m) => m.replace(/"table_count": \d+,\n {2}"tables": \[\n(.*\n)*? {2}\],\n/, ""));
        const r = await script("drill", { BACKUP_DIR: backupDir });
        assertFailed(r, 5, /records no row counts/);
    });

    it("extra SQL checks: a matching check passes, a differing one fails naming it, one without .expected is a config error", async function () {
        const { backupDir } = await copyOfGoodBackup();
        const checks = path.join(path.dirname(backupDir), "checks");
        fs.mkdirSync(checks);
        const active = Number(pg.psql(`SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' '`, DB).trim());
        fs.writeFileSync(path.join(checks, "sa1010_ativos.sql"), `SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' ';\n`);
        fs.writeFileSync(path.join(checks, "sa1010_ativos.expected"), `${active}\n`);
        const ok = await script("drill", { BACKUP_DIR: backupDir, DRILL_CHECKS_DIR: checks });
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /check sa1010_ativos: ok/);
        assert.equal(outcome(ok).checks, 1);

        fs.writeFileSync(path.join(checks, "sentinela.sql"), `SELECT a1_nome FROM sa1010 WHERE r_e_c_n_o_ = 1;\n`);
        fs.writeFileSync(path.join(checks, "sentinela.expected"), "NOT THE NAME\n");
        const bad = await script("drill", { BACKUP_DIR: backupDir, DRILL_CHECKS_DIR: checks });
        assertFailed(bad, 5, /check sentinela: got ".+", expected "NOT THE NAME"$/);

        fs.rmSync(path.join(checks, "sentinela.expected"));
        const cfg = await script("drill", { BACKUP_DIR: backupDir, DRILL_CHECKS_DIR: checks });
        assertFailed(cfg, 2, /check sentinela: .*sentinela\.expected is missing/);
    });

    it("past DRILL_DEADLINE_SECONDS the drill fails (exit 6) and cleans up", async function () {
        const { backupDir } = await copyOfGoodBackup();
        const checks = path.join(path.dirname(backupDir), "checks");
        fs.mkdirSync(checks);
        fs.writeFileSync(path.join(checks, "slow.sql"), "SELECT pg_sleep(600);\n");
        fs.writeFileSync(path.join(checks, "slow.expected"), "\n");
        const r = await script("drill", { BACKUP_DIR: backupDir, DRILL_CHECKS_DIR: checks, DRILL_DEADLINE_SECONDS: "20" });
        assertFailed(r, 6, /deadline of 20s passed during the checks/);
    });

    it("refuses bad configuration with exit 2 and a failed outcome line", async function () {
        for (const [env, reason] of [
            [{ DRILL_SOURCE: "s3" }, /DRILL_SOURCE must be gcs or volume/],
            [{ DRILL_DEADLINE_SECONDS: "0" }, /DRILL_DEADLINE_SECONDS must be a positive integer/],
            [{ PGDATABASE: "a".repeat(45) }, /at most 44 characters/],
        ] as [Record<string, string>, RegExp][]) {
            const r = await script("drill", { BACKUP_DIR: freshDir(), ...env });
            assert.equal(r.status, 2, r.stderr);
            assert.match(r.stderr, reason);
            assert.equal(outcome(r).status, "failed");
        }
    });

    describe("outcome lines of every robot", function () {
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
            const backupDir = freshDir();
            await backup(backupDir);
            const ok = await script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs", GCS_BUCKET: BUCKET });
            assert.equal(ok.status, 0, ok.stderr);
            const o = outcome(ok);
            assert.deepEqual([o.event, o.status, o.environment, o.database, o.shipped], ["protheus.copy", "ok", NS, DB, 1]);
            const notADir = path.join(tmp, "not-a-dir");
            fs.writeFileSync(notADir, "");
            const bad = await script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "rubrik", RUBRIK_DIR: notADir, BACKUP_NAMESPACE: "c2a7dv-other" });
            assert.equal(bad.status, 2);
            const f = outcome(bad);
            assert.deepEqual([f.event, f.status, f.environment, f.exit_code], ["protheus.copy", "failed", "c2a7dv-other", 2]);
            assert.equal(`copy: ${f.error}`, bad.stderr.trim());
        });

        it("restore: ok and failed", async function () {
            const { backupDir } = await copyOfGoodBackup();
            const ok = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "d01_outcome" });
            assert.equal(ok.status, 0, ok.stderr);
            const o = outcome(ok);
            assert.deepEqual([o.event, o.status, o.database, o.backup, o.target], ["protheus.restore", "ok", DB, goldenName, "d01_outcome"]);
            pg.psql("DROP DATABASE d01_outcome");
            const bad = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: "20000101T000000Z", RESTORE_DATABASE: "d01_outcome" });
            assert.equal(bad.status, 4);
            const f = outcome(bad);
            assert.deepEqual([f.event, f.status, f.exit_code], ["protheus.restore", "failed", 4]);
            assert.match(String(f.error), /backup not found/);
        });

        it("updater wrapper (upddistr.sh, POSIX sh): ok and failed", async function () {
            const dir = path.join(tmp, "upd");
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
});

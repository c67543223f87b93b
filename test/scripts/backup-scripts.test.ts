/**
 * scripts/backup.sh, copy.sh, restore.sh against a real throwaway PostgreSQL
 * 15, the real gcloud CLI pointed at an in-process fake GCS JSON API, and a
 * temp dir standing in for the Rubrik Managed Volume.
 *
 * As in production, the Protheus database belongs to an application role
 * (`protheus`), and the scripts connect as the least-privilege roles that
 * docs/backups.md tells DBAs to create (created here by running that SQL):
 * backup.sh as protheus_backup, restore.sh as protheus_restore. The server's
 * superuser only builds the fixture and inspects the results.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startPostgres, PgServer } from "../support/postgres";
import { startGcloudFixture, FakeGcs } from "./support/fake-gcs";
import { run, RunOptions, RunResult } from "./support/run";
import { createProtheusDatabase, fingerprint, databaseSettings, databaseOid, owners } from "./support/protheus-fixture";
import { roleSqlFromDocs, runRoleSql } from "./support/roles";

const SCRIPTS = path.resolve(__dirname, "../../scripts");
const DB = "p01";
const NS = "c2a7dv";
const BUCKET = "protheus-backups-test";
const TS_RE = /^\d{8}T\d{6}Z$/;
const APP_ROLE = "protheus";
const BACKUP_ROLE = "protheus_backup";
const RESTORE_ROLE = "protheus_restore";
/** who each script connects as (copy.sh needs no database) */
const ROLE_OF = { backup: BACKUP_ROLE, restore: RESTORE_ROLE, copy: BACKUP_ROLE } as const;

describe("backup scripts (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    let pg: PgServer;
    let gcs: FakeGcs;
    let tmp: string;
    let gcloud: Record<string, string>;
    let original: Record<string, string>;
    const passwords: Record<string, string> = {};

    before(async function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backup-scripts-"));
        pg = await startPostgres({ settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
        passwords[APP_ROLE] = `app-${Math.random().toString(36).slice(2)}`;
        pg.psql(`CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${passwords[APP_ROLE]}'`);
        createProtheusDatabase(pg, DB, 4, APP_ROLE);
        const roleSql = roleSqlFromDocs();
        for (const role of [BACKUP_ROLE, RESTORE_ROLE]) {
            assert.ok(roleSql[role], `docs/backups.md has no role-sql block for ${role}`);
            passwords[role] = `pw '"$\\ ${role}`; // quotes, dollar, backslash: survive \password as typed
            await runRoleSql(pg, roleSql[role], passwords[role]);
        }
        original = fingerprint(pg, DB);
        ({ gcs, gcloud } = await startGcloudFixture([BUCKET], tmp));
    });

    after(async function () {
        await gcs?.close();
        pg?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    let seq = 0;
    /** a fresh volume (BACKUP_DIR) and Rubrik dir per test */
    function freshDirs() {
        const base = path.join(tmp, `t${++seq}`);
        const backupDir = path.join(base, "volume", "backups");
        const rubrikDir = path.join(base, "rubrik");
        fs.mkdirSync(backupDir, { recursive: true });
        fs.mkdirSync(rubrikDir, { recursive: true });
        return { base, backupDir, rubrikDir, dbDir: path.join(backupDir, DB) };
    }

    /** copy.sh shipping a volume's backups to Rubrik and GCS */
    const copyToBoth = (backupDir: string, rubrikDir: string) =>
        script("copy", { BACKUP_DIR: backupDir, BACKUP_TARGETS: "rubrik,gcs", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir });

    /** connection of a role (never the superuser) */
    const as = (role: string) => ({ PGUSER: role, PGPASSWORD: passwords[role] });

    function script(
        name: "backup" | "copy" | "restore",
        env: Record<string, string | undefined>,
        args: string[] = [],
        opts: RunOptions = {},
    ): Promise<RunResult> {
        return run("bash", [path.join(SCRIPTS, `${name}.sh`), ...args], { env: pg.env({ PGDATABASE: DB, ...as(ROLE_OF[name]), ...gcloud, ...env }), ...opts });
    }

    const completeBackups = (dbDir: string) =>
        fs.existsSync(dbDir)
            ? fs
                  .readdirSync(dbDir)
                  .filter((n) => TS_RE.test(n) && fs.existsSync(path.join(dbDir, n, "MANIFEST.json")))
                  .sort()
            : [];

    async function backup(backupDir: string, env: Record<string, string> = {}): Promise<string> {
        const r = await script("backup", { BACKUP_DIR: backupDir, ...env });
        assert.equal(r.status, 0, `backup failed: ${r.stderr}`);
        const m = /complete: (\S+)/.exec(r.stdout);
        assert.ok(m, r.stdout);
        return path.basename(m[1]);
    }

    /** polls a condition (not a timing assertion: it only waits for a state) */
    async function waitFor(cond: () => boolean, what: string): Promise<void> {
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) if (cond()) return;
        assert.fail(`gave up waiting for ${what}`);
    }

    const oneLine = (r: RunResult) => {
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `expected a one-line reason on stderr, got:\n${r.stderr}`);
        return lines[0];
    };

    describe("usage", function () {
        for (const name of ["backup", "copy", "restore"] as const) {
            it(`${name}.sh --help lists its variables and exit codes`, async function () {
                const r = await script(name, {}, ["--help"]);
                assert.equal(r.status, 0);
                for (const v of {
                    backup: [
                        "BACKUP_DIR",
                        "PGDATABASE",
                        "BACKUP_JOBS",
                        "BACKUP_COMPRESS",
                        "BACKUP_RETENTION_DAYS",
                        "BACKUP_KEEP_MIN",
                        "BACKUP_REASON",
                        "BACKUP_FROM_VERSION",
                        "BACKUP_TO_VERSION",
                    ],
                    copy: ["BACKUP_TARGETS", "GCS_BUCKET", "BACKUP_NAMESPACE", "RUBRIK_DIR"],
                    restore: ["RESTORE_BACKUP", "RESTORE_SOURCE", "RESTORE_JOBS", "RESTORE_REPLACE", "RESTORE_OWNER", "RESTORE_NO_OWNER"],
                }[name]) {
                    assert.match(r.stdout, new RegExp(`\\b${v}\\b`));
                }
                assert.match(r.stdout, /Exit codes/);
            });
            it(`${name}.sh rejects an unknown argument and a missing PGDATABASE with exit 2`, async function () {
                const r = await script(name, { BACKUP_TARGETS: "rubrik" }, ["--bogus"]);
                assert.equal(r.status, 2);
                const r2 = await script(name, { PGDATABASE: undefined, BACKUP_TARGETS: "rubrik", BACKUP_NAMESPACE: NS, RUBRIK_DIR: tmp });
                assert.equal(r2.status, 2);
                assert.match(oneLine(r2), new RegExp(`^${name}: PGDATABASE is required`));
            });
        }
        it("docs/backups.md documents every variable of each --help, and the restore requests use only restore.sh variables", async function () {
            const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/backups.md"), "utf8");
            for (const name of ["backup", "copy", "restore"] as const) {
                const help = (await script(name, {}, ["--help"])).stdout;
                const vars = [...help.matchAll(/^ {2}([A-Z][A-Z0-9_]+)\b/gm)].map((m) => m[1]);
                assert.ok(vars.length >= 5, help);
                for (const v of vars)
                    assert.match(doc, new RegExp(`^\\|[^\\n]*\`${v}\``, "m"), `${name}.sh --help lists ${v}, docs/backups.md has no table row for it`);
                for (const code of [...help.matchAll(/^ {2}(\d) {2}/gm)].map((m) => m[1]))
                    assert.match(doc, new RegExp(`\`${code}\` `), `${name}.sh exit code ${code} in the docs`);
            }
            const restoreHelp = (await script("restore", {}, ["--help"])).stdout;
            const literals = [...doc.matchAll(/--from-literal=([A-Z_]+)=/g)].map((m) => m[1]);
            assert.ok(literals.length > 0);
            for (const v of literals) assert.match(restoreHelp, new RegExp(`^ {2}${v}\\b`, "m"), `restore request key ${v} is not a restore.sh variable`);
            assert.doesNotMatch(doc, /create job --from=\S+ [^\n]*\n#\s+(with overrides|overrides)/, "kubectl create job cannot take variables");
        });

        it("copy.sh requires BACKUP_TARGETS and valid targets (exit 2)", async function () {
            const { backupDir } = freshDirs();
            for (const targets of [undefined, "", " , ", "gcs,s3"]) {
                const r = await script("copy", { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, BACKUP_TARGETS: targets });
                assert.equal(r.status, 2, `BACKUP_TARGETS=${targets}: ${r.stderr}`);
                assert.match(oneLine(r), /^copy: BACKUP_TARGETS/);
            }
            const r = await script("copy", { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, BACKUP_TARGETS: "gcs" });
            assert.equal(r.status, 2);
            assert.match(oneLine(r), /GCS_BUCKET is required/);
        });
    });

    it("full cycle: backup -> copy (rubrik + gcs) -> drop -> restore from volume, and from gcs: same rows, same content, WIN1252/C", async function () {
        const { backupDir, rubrikDir, dbDir } = freshDirs();
        const name = await backup(backupDir);
        assert.deepEqual(fs.readdirSync(dbDir), [name]);
        const manifest = JSON.parse(fs.readFileSync(path.join(dbDir, name, "MANIFEST.json"), "utf8"));
        assert.equal(manifest.database, DB);
        assert.equal(manifest.reason, "manual", "BACKUP_REASON defaults to manual");
        assert.equal(manifest.from_version, null);
        assert.equal(manifest.to_version, null);
        assert.equal(manifest.database_owner, APP_ROLE);
        assert.match(manifest.server_version, /^15\./);
        assert.match(manifest.pg_dump_version, /pg_dump \(PostgreSQL\) 15/);
        assert.ok(manifest.started_at && manifest.finished_at);
        const files = fs
            .readdirSync(path.join(dbDir, name))
            .filter((f) => f !== "MANIFEST.json")
            .sort();
        assert.deepEqual(manifest.files.map((f: { name: string }) => f.name).sort(), files);
        assert.ok(files.includes("toc.dat"));

        const copy = await copyToBoth(backupDir, rubrikDir);
        assert.equal(copy.status, 0, copy.stderr);
        assert.match(copy.stdout, /gcs: shipped/);
        assert.match(copy.stdout, /rubrik: shipped/);
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [name]);
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS, name)).sort(), [...files, "MANIFEST.json"].sort());
        assert.deepEqual(gcs.list(BUCKET, `${NS}/${name}/`), [...files, "MANIFEST.json"].map((f) => `${NS}/${name}/${f}`).sort());
        assert.equal(gcs.uploads[gcs.uploads.length - 1], `${BUCKET}/${NS}/${name}/MANIFEST.json`, "manifest is uploaded last");
        for (const f of files) assert.deepEqual(gcs.get(BUCKET, `${NS}/${name}/${f}`), fs.readFileSync(path.join(dbDir, name, f)));
        // the Rubrik copy itself verifies as a backup
        const rv = await script("restore", { BACKUP_DIR: rubrikDir, PGDATABASE: NS, RESTORE_BACKUP: name }, ["--verify-only"]);
        assert.equal(rv.status, 0, rv.stderr);

        pg.psql(`DROP DATABASE ${DB}`);
        const restore = await script("restore", { BACKUP_DIR: backupDir });
        assert.equal(restore.status, 0, restore.stderr);
        assert.match(restore.stdout, new RegExp(`restored backup ${name} into database "${DB}"`));
        assert.deepEqual(fingerprint(pg, DB), original);
        assert.equal(databaseSettings(pg, DB), "WIN1252 C C");
        assert.deepEqual(owners(pg, DB), { database: APP_ROLE, objects: [APP_ROLE] }, "the dropped database comes back to the owner recorded in the backup");
        assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), "0");
        // indexes and statistics came back
        assert.equal(pg.psql(`SELECT count(*) FROM pg_indexes WHERE indexname IN ('sa1010_unq', 'sa1010_pk', 'sc5010_unq')`, DB).trim(), "3");
        assert.ok(Number(pg.psql(`SELECT count(*) FROM pg_stats WHERE tablename = 'sa1010'`, DB).trim()) > 0, "ANALYZE ran");
        assert.equal(pg.psql(`SELECT a1_mun FROM sa1010 WHERE r_e_c_n_o_ = 1`, DB).trim(), "GOIÂNIA");

        // From GCS (latest), replacing the database.
        const oidBefore = databaseOid(pg, DB);
        const staging = path.join(backupDir, ".restore-staging");
        const fromGcs = await script("restore", {
            BACKUP_DIR: backupDir,
            RESTORE_SOURCE: "gcs",
            GCS_BUCKET: BUCKET,
            BACKUP_NAMESPACE: NS,
            RESTORE_REPLACE: "yes",
            RESTORE_STAGING_DIR: staging,
        });
        assert.equal(fromGcs.status, 0, fromGcs.stderr);
        assert.match(fromGcs.stdout, /fetched and verified/);
        assert.notEqual(databaseOid(pg, DB), oidBefore, "database was replaced");
        assert.deepEqual(fingerprint(pg, DB), original);
        assert.equal(databaseSettings(pg, DB), "WIN1252 C C");
        assert.deepEqual(owners(pg, DB), { database: APP_ROLE, objects: [APP_ROLE] });
        assert.deepEqual(fs.readdirSync(staging), [], "staged copy removed after restore");
    });

    it("gcs: --fetch-only (cloud-sdk container) then restore without gcloud (postgres container) uses the staged copy", async function () {
        const { backupDir, rubrikDir } = freshDirs();
        const name = await backup(backupDir);
        const env = { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET };
        assert.equal((await script("copy", { ...env, BACKUP_TARGETS: "gcs", RUBRIK_DIR: rubrikDir })).status, 0);
        fs.rmSync(path.join(backupDir, DB), { recursive: true }); // the volume lost its backups
        const fetch = await script("restore", { ...env, RESTORE_SOURCE: "gcs", RESTORE_BACKUP: name }, ["--fetch-only"]);
        assert.equal(fetch.status, 0, fetch.stderr);
        const staged = path.join(backupDir, ".restore-staging", DB, name);
        assert.ok(fs.existsSync(path.join(staged, "MANIFEST.json")));
        const r = await script("restore", { ...env, RESTORE_SOURCE: "gcs", RESTORE_BACKUP: name, RESTORE_REPLACE: "yes", GCLOUD: "/nonexistent/gcloud" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /using staged copy/);
        assert.deepEqual(fingerprint(pg, DB), original);
        assert.equal(fs.existsSync(staged), false);
        // without a staged copy and without gcloud: a config error, not a crash
        const r2 = await script("restore", { ...env, RESTORE_SOURCE: "gcs", RESTORE_BACKUP: name, RESTORE_REPLACE: "yes", GCLOUD: "/nonexistent/gcloud" });
        assert.equal(r2.status, 2);
        assert.match(oneLine(r2), /--fetch-only/);
    });

    it("copy is idempotent: a second run ships nothing", async function () {
        const { backupDir, rubrikDir } = freshDirs();
        const name = await backup(backupDir);
        const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs,rubrik", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
        const first = await script("copy", env);
        assert.equal(first.status, 0, first.stderr);
        const uploads = gcs.uploads.length;
        const rubrikStat = fs.statSync(path.join(rubrikDir, NS, name, "MANIFEST.json"));
        const second = await script("copy", env);
        assert.equal(second.status, 0, second.stderr);
        assert.match(second.stdout, /done: 0 shipment\(s\), 1 backup\(s\) already at every target/);
        assert.equal(gcs.uploads.length, uploads, "no object uploaded on the second run");
        assert.deepEqual(gcs.rejectedOverwrites, []);
        assert.equal(fs.statSync(path.join(rubrikDir, NS, name, "MANIFEST.json")).ino, rubrikStat.ino, "rubrik copy untouched");
    });

    it("copy resumes a half-finished gcs upload without overwriting (retention policy) and uploads the manifest last", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await backup(backupDir);
        const files = fs
            .readdirSync(path.join(dbDir, name))
            .filter((f) => f !== "MANIFEST.json")
            .sort();
        const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: "gcs", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
        // An earlier run got one data file up, then died.
        gcs.put(BUCKET, `${NS}/${name}/${files[0]}`, fs.readFileSync(path.join(dbDir, name, files[0])));
        // This run fails on the manifest (the upload is refused).
        gcs.failUploadsMatching = /MANIFEST\.json$/;
        const failed = await script("copy", env);
        gcs.failUploadsMatching = undefined;
        assert.equal(failed.status, 1, failed.stdout + failed.stderr);
        assert.match(failed.stderr, /upload of MANIFEST.json failed/);
        assert.equal(gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), undefined, 'target does not "have" the backup');
        const before = gcs.uploads.length;
        const retry = await script("copy", env);
        assert.equal(retry.status, 0, retry.stderr);
        assert.match(retry.stdout, /gcs: shipped .*\(0 of \d+ data files uploaded/);
        assert.deepEqual(gcs.uploads.slice(before), [`${BUCKET}/${NS}/${name}/MANIFEST.json`]);
        assert.deepEqual(gcs.rejectedOverwrites, [], "never tried to overwrite an object");
    });

    it("copy lists the bucket once; when that listing fails, GCS is not tried, Rubrik still gets the backup, exit 1", async function () {
        const { backupDir, rubrikDir } = freshDirs();
        const name = await backup(backupDir);
        gcs.failListing = true;
        const failed = await copyToBoth(backupDir, rubrikDir).finally(() => (gcs.failListing = false));
        assert.equal(failed.status, 1, failed.stdout + failed.stderr);
        assert.match(failed.stderr, /gcs: cannot list gs:\/\/[^ ]+\/\*\*: .*Simulated refusal to list/);
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [name], "Rubrik is shipped all the same");
        assert.deepEqual(gcs.list(BUCKET, `${NS}/${name}/`), [], "nothing uploaded to GCS");
        const retry = await copyToBoth(backupDir, rubrikDir);
        assert.equal(retry.status, 0, retry.stderr);
        assert.ok(gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), "the next run ships it");
        // with two backups at every target, a run asks GCS one question
        await backup(backupDir);
        assert.equal((await copyToBoth(backupDir, rubrikDir)).status, 0);
        const before = gcs.requests.length;
        const quiet = await copyToBoth(backupDir, rubrikDir);
        assert.equal(quiet.status, 0, quiet.stderr);
        assert.match(quiet.stdout, /0 shipment\(s\), 2 backup\(s\) already at every target/);
        assert.deepEqual(
            gcs.requests.slice(before).map((r) => r.replace(/\?.*/, "")),
            [`GET /storage/v1/b/${BUCKET}/o`],
        );
    });

    it("a backup killed midway (SIGKILL) leaves no complete backup; copy and restore skip it", async function () {
        const { base, backupDir, dbDir, rubrikDir } = freshDirs();
        const good = await backup(backupDir);
        // pg_dump that finishes writing, then hangs: the .partial dir looks complete except for the manifest.
        const slow = path.join(base, "slow-pg_dump");
        fs.writeFileSync(
            slow,
            `#!/bin/bash\n[ "$1" = --version ] && exec "${pg.binDir}/pg_dump" --version\n"${pg.binDir}/pg_dump" "$@" || exit $?\nexec sleep 600\n`,
            { mode: 0o755 },
        );
        let pid = 0;
        const running = script("backup", { BACKUP_DIR: backupDir, PG_DUMP: slow }, [], { detached: true, onSpawn: (c) => (pid = c.pid ?? 0) });
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

        const copy = await copyToBoth(backupDir, rubrikDir);
        assert.equal(copy.status, 0, copy.stderr);
        assert.match(copy.stdout, new RegExp(`skip ${partial}`));
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [good]);
        assert.deepEqual(gcs.list(BUCKET, `${NS}/${partial.replace(".partial", "")}`), []);

        const latest = await script("restore", { BACKUP_DIR: backupDir }, ["--verify-only"]);
        assert.equal(latest.status, 0, latest.stderr);
        assert.match(latest.stdout, new RegExp(`verified .*/${good}$`, "m"), "latest = newest COMPLETE backup");
        const named = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: partial.replace(".partial", ""), RESTORE_DATABASE: "p01_never" });
        assert.equal(named.status, 4);
        assert.match(oneLine(named), /not found|incomplete/);
        assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_never%'`).trim(), "0");
    });

    it("copy never ships a .partial, even one that carries a manifest", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await backup(backupDir);
        const fakePartial = "20991231T235959Z.partial";
        fs.cpSync(path.join(dbDir, name), path.join(dbDir, fakePartial), { recursive: true });
        fs.renameSync(path.join(dbDir, name), path.join(dbDir, "20991231T235958Z")); // keep one real complete backup
        const r = await script("copy", {
            BACKUP_DIR: backupDir,
            BACKUP_TARGETS: "rubrik,gcs",
            BACKUP_NAMESPACE: NS,
            GCS_BUCKET: BUCKET,
            RUBRIK_DIR: rubrikDir,
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), ["20991231T235958Z"]);
        assert.deepEqual(gcs.list(BUCKET, `${NS}/20991231T235959Z`), []);
    });

    it("a corrupted backup file: restore refuses before touching the database; copy does not ship it", async function () {
        const { backupDir, dbDir, rubrikDir } = freshDirs();
        const name = await backup(backupDir);
        const dat = fs
            .readdirSync(path.join(dbDir, name))
            .filter((f) => f.endsWith(".dat.gz"))
            .sort()[0];
        const file = path.join(dbDir, name, dat);
        const buf = fs.readFileSync(file);
        buf[Math.floor(buf.length / 2)] ^= 0xff; // same size, different content
        fs.writeFileSync(file, buf);
        pg.psql(`CREATE TABLE zz_marker (id int); INSERT INTO zz_marker VALUES (42)`, DB);
        const oid = databaseOid(pg, DB);

        const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
        assert.equal(r.status, 4);
        assert.match(oneLine(r), new RegExp(`^restore: backup ${name} failed verification: ${dat.replace(".", "\\.")}: SHA-256 differs`));
        assert.equal(databaseOid(pg, DB), oid, "database not replaced");
        assert.equal(pg.psql("SELECT id FROM zz_marker", DB).trim(), "42", "database untouched");
        assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), "0", "no temp database created");

        const c = await script("copy", {
            BACKUP_DIR: backupDir,
            BACKUP_TARGETS: "rubrik,gcs",
            BACKUP_NAMESPACE: NS,
            GCS_BUCKET: BUCKET,
            RUBRIK_DIR: rubrikDir,
        });
        assert.equal(c.status, 3, c.stderr);
        assert.match(c.stderr, new RegExp(`backup ${name} failed local verification`));
        assert.deepEqual(fs.existsSync(path.join(rubrikDir, NS)) ? fs.readdirSync(path.join(rubrikDir, NS)) : [], []);
        assert.deepEqual(gcs.list(BUCKET, `${NS}/${name}/`), []);

        // a missing file is refused as well
        fs.rmSync(file);
        const r2 = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
        assert.equal(r2.status, 4);
        assert.match(oneLine(r2), new RegExp(`${dat.replace(".", "\\.")}: missing`));
        assert.equal(databaseOid(pg, DB), oid);
        pg.psql("DROP TABLE zz_marker", DB);
    });

    it("restore over an existing database without RESTORE_REPLACE=yes refuses (exit 3)", async function () {
        const { backupDir } = freshDirs();
        await backup(backupDir);
        const oid = databaseOid(pg, DB);
        for (const replace of [undefined, "", "YES", "true", "y"]) {
            const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: replace });
            assert.equal(r.status, 3, `RESTORE_REPLACE=${replace}: ${r.stderr}`);
            assert.match(oneLine(r), /database "p01" exists; refusing/);
        }
        assert.equal(databaseOid(pg, DB), oid);
    });

    it("a failed restore leaves nothing under the target name (temp database dropped)", async function () {
        const { base, backupDir } = freshDirs();
        await backup(backupDir);
        const failing = path.join(base, "failing-pg_restore");
        fs.writeFileSync(
            failing,
            `#!/bin/bash\n"${pg.binDir}/pg_restore" "$@" || exit $?\necho 'pg_restore: error: simulated failure at the end' >&2\nexit 1\n`,
            { mode: 0o755 },
        );
        const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_copy", PG_RESTORE: failing });
        assert.equal(r.status, 1);
        assert.match(oneLine(r), /^restore: pg_restore failed: simulated failure at the end; database "p01_copy" untouched$/);
        assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_copy%'`).trim(), "0");
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
        const failing = path.join(base, "failing-pg_dump");
        fs.writeFileSync(
            failing,
            `#!/bin/bash\n[ "$1" = --version ] && exec "${pg.binDir}/pg_dump" --version\n"${pg.binDir}/pg_dump" "$@" || exit $?\necho 'pg_dump: error: could not write to file: No space left on device' >&2\nexit 1\n`,
            { mode: 0o755 },
        );
        const r = await script("backup", { BACKUP_DIR: backupDir, PG_DUMP: failing });
        assert.equal(r.status, 1);
        assert.match(oneLine(r), /^backup: pg_dump failed: could not write to file: No space left on device$/);
        assert.deepEqual(fs.readdirSync(dbDir), []);
    });

    it("pruning keeps the newest BACKUP_KEEP_MIN complete backups and removes old and stale ones", async function () {
        const { backupDir, dbDir } = freshDirs();
        fs.mkdirSync(dbDir, { recursive: true });
        const stamp = (daysAgo: number) =>
            new Date(Date.now() - daysAgo * 86_400_000)
                .toISOString()
                .replace(/[-:]/g, "")
                .replace(/\.\d+Z$/, "Z");
        const fakeBackup = (name: string, manifest = true) => {
            fs.mkdirSync(path.join(dbDir, name));
            fs.writeFileSync(path.join(dbDir, name, "toc.dat"), "x");
            if (manifest) fs.writeFileSync(path.join(dbDir, name, "MANIFEST.json"), "{}\n");
        };
        const d1 = stamp(1);
        const d10 = stamp(10);
        const d11 = stamp(11);
        const d12 = stamp(12);
        for (const n of [d1, d10, d11, d12]) fakeBackup(n);
        const stalePartial = `${stamp(2)}.partial`;
        const freshPartial = `${stamp(1 / 24)}.partial`;
        const oldNoManifest = stamp(3);
        fakeBackup(stalePartial, false);
        fakeBackup(freshPartial, false);
        fakeBackup(oldNoManifest, false);
        fs.mkdirSync(path.join(dbDir, "not-a-backup"));

        const now = await backup(backupDir, { BACKUP_KEEP_MIN: "3", BACKUP_RETENTION_DAYS: "7" });
        // newest 3 complete: now, d1, d10 (d10 is older than 7 days but kept by BACKUP_KEEP_MIN)
        assert.deepEqual(completeBackups(dbDir), [d10, d1, now].sort());
        const left = fs.readdirSync(dbDir).sort();
        assert.ok(left.includes(freshPartial), "a recent .partial (maybe a running backup) is kept");
        assert.ok(!left.includes(stalePartial), "stale .partial removed");
        assert.ok(!left.includes(oldNoManifest), "old dir without manifest removed");
        assert.ok(left.includes("not-a-backup"), "foreign entries are left alone");

        // Within retention nothing is removed beyond the minimum.
        const now2 = await backup(backupDir, { BACKUP_KEEP_MIN: "1", BACKUP_RETENTION_DAYS: "30" });
        assert.deepEqual(completeBackups(dbDir), [d10, d1, now, now2].sort());
        // Retention 0 with keep-min 2: only the two newest remain.
        await backup(backupDir, { BACKUP_KEEP_MIN: "2", BACKUP_RETENTION_DAYS: "0" });
        assert.equal(completeBackups(dbDir).length, 2);
        assert.equal(completeBackups(dbDir)[0], now2);
    });

    describe("why a backup was taken (BACKUP_REASON) and which one a restore picks", function () {
        const FROM = "12.1.2410";
        const TO = "12.1.2510";
        const upgrade = { BACKUP_REASON: "pre-upgrade", BACKUP_FROM_VERSION: FROM, BACKUP_TO_VERSION: TO };
        const rollback = { BACKUP_REASON: "pre-rollback", BACKUP_FROM_VERSION: TO, BACKUP_TO_VERSION: FROM };
        const readManifest = (dbDir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dbDir, name, "MANIFEST.json"), "utf8"));

        it("backup.sh refuses a bad reason, a missing or malformed version (exit 2, nothing written)", async function () {
            const { backupDir, dbDir } = freshDirs();
            const cases: [Record<string, string>, RegExp][] = [
                [{ BACKUP_REASON: "weekly" }, /^backup: BACKUP_REASON must be nightly, pre-upgrade, pre-rollback or manual: weekly$/],
                [{ BACKUP_REASON: "Nightly" }, /BACKUP_REASON must be/],
                [{ BACKUP_REASON: "pre-upgrade", BACKUP_TO_VERSION: TO }, /^backup: BACKUP_FROM_VERSION is required when BACKUP_REASON is pre-upgrade$/],
                [{ BACKUP_REASON: "pre-upgrade", BACKUP_FROM_VERSION: FROM }, /^backup: BACKUP_TO_VERSION is required when BACKUP_REASON is pre-upgrade$/],
                [
                    { BACKUP_REASON: "pre-rollback", BACKUP_FROM_VERSION: TO, BACKUP_TO_VERSION: "" },
                    /BACKUP_TO_VERSION is required when BACKUP_REASON is pre-rollback/,
                ],
                [{ ...upgrade, BACKUP_TO_VERSION: "12.1" }, /^backup: BACKUP_TO_VERSION must be a version like 12.1.2510 or 12.1.2510-3: 12.1$/],
                [{ ...upgrade, BACKUP_FROM_VERSION: "v12.1.2410" }, /BACKUP_FROM_VERSION must be a version/],
                [{ BACKUP_REASON: "nightly", BACKUP_TO_VERSION: "12.1.2510 " }, /BACKUP_TO_VERSION must be a version/],
            ];
            for (const [env, reason] of cases) {
                const r = await script("backup", { BACKUP_DIR: backupDir, ...env });
                assert.equal(r.status, 2, `${JSON.stringify(env)}: ${r.stderr}`);
                assert.match(oneLine(r), reason);
            }
            assert.equal(fs.existsSync(dbDir), false, "nothing written");
        });

        it("MANIFEST.json records reason, from_version and to_version (JSON and the bash readers)", async function () {
            const { backupDir, dbDir } = freshDirs();
            const up = await backup(backupDir, upgrade);
            const nightly = await backup(backupDir, { BACKUP_REASON: "nightly" });
            assert.deepEqual(
                [readManifest(dbDir, up), readManifest(dbDir, nightly)].map((m) => [m.reason, m.from_version, m.to_version]),
                [
                    ["pre-upgrade", FROM, TO],
                    ["nightly", null, null],
                ],
            );
            // the new fields do not disturb verification and shipping
            const v = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: up }, ["--verify-only"]);
            assert.equal(v.status, 0, v.stderr);
        });

        describe("a history of backups around an upgrade and its rollback", function () {
            // oldest to newest: nightly, pre-upgrade to 2510, a second pre-upgrade to 2510
            // (the upgrade retried), nightly, pre-rollback from 2510 (the broken state)
            let backupDir: string;
            let dbDir: string;
            let rubrikDir: string;
            let names: { nightly1: string; up1: string; up2: string; nightly2: string; rollback: string };
            let marker: string;
            before(async function () {
                ({ backupDir, dbDir, rubrikDir } = freshDirs());
                const nightly1 = await backup(backupDir, { BACKUP_REASON: "nightly" });
                const up1 = await backup(backupDir, upgrade);
                // the data changes between the two pre-upgrade backups: tells them apart after a restore
                marker = `m${Date.now()}`;
                pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE zz_marker (v text); INSERT INTO zz_marker VALUES ('${marker}')`, DB);
                const up2 = await backup(backupDir, upgrade);
                pg.psql("DROP TABLE zz_marker", DB);
                const nightly2 = await backup(backupDir, { BACKUP_REASON: "nightly" });
                const rollback2 = await backup(backupDir, rollback);
                names = { nightly1, up1, up2, nightly2, rollback: rollback2 };
                assert.deepEqual(completeBackups(dbDir), [nightly1, up1, up2, nightly2, rollback2]);
                const copy = await script("copy", {
                    BACKUP_DIR: backupDir,
                    BACKUP_TARGETS: "gcs",
                    BACKUP_NAMESPACE: `${NS}-history`,
                    GCS_BUCKET: BUCKET,
                    RUBRIK_DIR: rubrikDir,
                });
                assert.equal(copy.status, 0, copy.stderr);
            });

            const verified = (r: RunResult) => {
                assert.equal(r.status, 0, r.stderr);
                const m = /^restore: verified .*\/(\d{8}T\d{6}Z)$/m.exec(r.stdout);
                assert.ok(m, r.stdout);
                return m[1];
            };
            const fromVolume = (sel: string) => script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: sel }, ["--verify-only"]);
            const gcsEnv = () => ({
                BACKUP_DIR: backupDir,
                RESTORE_SOURCE: "gcs",
                GCS_BUCKET: BUCKET,
                BACKUP_NAMESPACE: `${NS}-history`,
                RESTORE_STAGING_DIR: path.join(backupDir, ".staging-history"),
            });

            it("volume: latest skips the pre-rollback backup; before:<version> is the newest pre-upgrade to it; a name is taken as named", async function () {
                assert.equal(verified(await fromVolume("latest")), names.nightly2);
                assert.equal(verified(await fromVolume(`before:${TO}`)), names.up2);
                assert.equal(verified(await fromVolume(names.rollback)), names.rollback);
                assert.equal(verified(await fromVolume(names.up1)), names.up1);
            });

            it("volume: a before:/latest that matches nothing is exit 4 with a one-line reason; a bad version is exit 2", async function () {
                const none = await fromVolume(`before:${FROM}`); // the rollback went TO 2410, but that is not a pre-upgrade backup
                assert.equal(none.status, 4);
                assert.equal(oneLine(none), `restore: no complete pre-upgrade backup to version ${FROM} in ${dbDir}`);
                const onlyRollback = freshDirs();
                await backup(onlyRollback.backupDir, rollback);
                const latest = await script("restore", { BACKUP_DIR: onlyRollback.backupDir }, ["--verify-only"]);
                assert.equal(latest.status, 4);
                assert.match(oneLine(latest), /^restore: no complete backup \(other than pre-rollback ones, which are restored only by name\) in /);
                for (const bad of ["before:", "before:12.1", "before:latest", "before: 12.1.2510", "after:12.1.2510", "Latest"]) {
                    const r = await fromVolume(bad);
                    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
                    assert.match(oneLine(r), /^restore: RESTORE_BACKUP /);
                }
            });

            it("gcs: the same choices, read from the manifests in the bucket", async function () {
                const r = await script("restore", { ...gcsEnv(), RESTORE_BACKUP: "latest" }, ["--verify-only"]);
                assert.equal(verified(r), names.nightly2);
                assert.match(r.stdout, new RegExp(`^restore: latest is ${names.nightly2}$`, "m"));
                assert.equal(verified(await script("restore", { ...gcsEnv(), RESTORE_BACKUP: `before:${TO}` }, ["--verify-only"])), names.up2);
                const none = await script("restore", { ...gcsEnv(), RESTORE_BACKUP: "before:12.1.2610" }, ["--verify-only"]);
                assert.equal(none.status, 4);
                assert.equal(oneLine(none), `restore: no complete pre-upgrade backup to version 12.1.2610 under gs://${BUCKET}/${NS}-history/`);
            });

            it("gcs without gcloud (postgres container): before:/latest are chosen from the staged manifests", async function () {
                const env = { ...gcsEnv(), RESTORE_STAGING_DIR: path.join(backupDir, ".staging-nogcloud") };
                // the cloud-sdk init container fetched the pre-rollback backup (by name) and before:<TO>
                for (const sel of [names.rollback, `before:${TO}`]) {
                    const f = await script("restore", { ...env, RESTORE_BACKUP: sel }, ["--fetch-only"]);
                    assert.equal(f.status, 0, f.stderr);
                }
                const noGcloud = { ...env, GCLOUD: "/nonexistent/gcloud" };
                assert.equal(
                    verified(await script("restore", { ...noGcloud, RESTORE_BACKUP: "latest" }, ["--verify-only"])),
                    names.up2,
                    "latest is not the staged pre-rollback backup",
                );
                assert.equal(verified(await script("restore", { ...noGcloud, RESTORE_BACKUP: `before:${TO}` }, ["--verify-only"])), names.up2);
                const none = await script("restore", { ...noGcloud, RESTORE_BACKUP: "before:12.1.2610" }, ["--verify-only"]);
                assert.equal(none.status, 2);
                assert.match(oneLine(none), /no staged copy of before:12\.1\.2610 .*--fetch-only/);
            });

            it("restore before:<version> (as protheus_restore) brings back the data of the newest pre-upgrade backup", async function () {
                const target = "p01_before";
                const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: `before:${TO}`, RESTORE_DATABASE: target });
                assert.equal(r.status, 0, r.stderr);
                assert.match(r.stdout, new RegExp(`restored backup ${names.up2} into database "${target}"`));
                assert.equal(pg.psql("SELECT v FROM zz_marker", target).trim(), marker, "the second pre-upgrade backup, not the first");
                assert.deepEqual(fingerprint(pg, target), original);
                assert.deepEqual(owners(pg, target), { database: APP_ROLE, objects: [APP_ROLE] });
                pg.psql(`DROP DATABASE ${target}`);
            });
        });
    });

    describe("least-privilege roles from docs/backups.md", function () {
        it("the roles the docs create are neither superusers nor more than the docs say", function () {
            const rows = pg.psql(
                `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolbypassrls,
                coalesce((SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), '')
         FROM pg_roles r WHERE rolname IN ('${BACKUP_ROLE}', '${RESTORE_ROLE}') ORDER BY 1`,
            );
            assert.deepEqual(rows.trim().split("\n"), [`${BACKUP_ROLE}|f|f|f|t|f|pg_read_all_data`, `${RESTORE_ROLE}|f|t|f|t|f|${APP_ROLE}`]);
            // passwords were set by \password (SCRAM), not left empty
            assert.equal(
                pg.psql(`SELECT count(*) FROM pg_authid WHERE rolname IN ('${BACKUP_ROLE}', '${RESTORE_ROLE}') AND rolpassword LIKE 'SCRAM-SHA-256$%'`).trim(),
                "2",
            );
        });

        it("backup.sh as protheus_backup cannot write: the role is refused a CREATE TABLE", async function () {
            const r = await run("psql", ["-X", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c", "CREATE TABLE zz_nope (id int)"], { env: pg.env(as(BACKUP_ROLE)) });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /permission denied for schema public/);
        });

        it("restore replaces the database while the application (role protheus) is connected: its sessions are ended", async function () {
            const { backupDir } = freshDirs();
            await backup(backupDir, { BACKUP_REASON: "nightly" });
            pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE zz_after (id int)`, DB); // made after the backup: must be gone
            const oid = databaseOid(pg, DB);
            const app = run("psql", ["-X", "-d", DB, "-c", "SELECT pg_sleep(600)"], { env: pg.env({ ...as(APP_ROLE), PGAPPNAME: "dbaccess-standin" }) });
            await waitFor(
                () => pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbaccess-standin' AND datname = '${DB}'`).trim() === "1",
                "the application session",
            );
            const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
            assert.equal(r.status, 0, r.stderr);
            const ended = await app;
            assert.notEqual(ended.status, 0, "the application session was ended");
            assert.match(ended.stderr, /terminat/i);
            assert.notEqual(databaseOid(pg, DB), oid);
            assert.equal(pg.psql(`SELECT count(*) FROM pg_class WHERE relname = 'zz_after'`, DB).trim(), "0");
            assert.deepEqual(fingerprint(pg, DB), original);
            assert.deepEqual(owners(pg, DB), { database: APP_ROLE, objects: [APP_ROLE] });
            // the application role can still create tables in the restored database (schema public is its)
            pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE zz_app (id int); DROP TABLE zz_app`, DB);
        });

        it("a session of another role blocks the replacement (no pg_signal_backend): exit 1, old database untouched", async function () {
            const { backupDir } = freshDirs();
            await backup(backupDir);
            const oid = databaseOid(pg, DB);
            let pid = 0;
            const other = run("psql", ["-X", "-d", DB, "-c", "SELECT pg_sleep(600)"], {
                env: pg.env({ ...as(BACKUP_ROLE), PGAPPNAME: "other-role" }),
                onSpawn: (c) => (pid = c.pid ?? 0),
            });
            try {
                await waitFor(() => pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'other-role'`).trim() === "1", "the other session");
                const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
                assert.equal(r.status, 1, r.stderr);
                assert.match(
                    oneLine(r),
                    /^restore: cannot drop database "p01": must be a member of the role whose process is being terminated or member of pg_signal_backend$/,
                );
                assert.equal(databaseOid(pg, DB), oid);
                assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), "0", "temporary database dropped");
            } finally {
                pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'other-role'`);
                if (pid) await other;
            }
        });

        it("RESTORE_NO_OWNER=yes: everything belongs to RESTORE_OWNER, else to the connecting role", async function () {
            const { backupDir } = freshDirs();
            await backup(backupDir);
            const r1 = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_noowner", RESTORE_NO_OWNER: "yes" });
            assert.equal(r1.status, 0, r1.stderr);
            assert.deepEqual(owners(pg, "p01_noowner"), { database: RESTORE_ROLE, objects: [RESTORE_ROLE] });
            assert.deepEqual(fingerprint(pg, "p01_noowner"), original);
            const r2 = await script("restore", {
                BACKUP_DIR: backupDir,
                RESTORE_DATABASE: "p01_noowner",
                RESTORE_NO_OWNER: "yes",
                RESTORE_OWNER: APP_ROLE,
                RESTORE_REPLACE: "yes",
            });
            assert.equal(r2.status, 0, r2.stderr);
            assert.deepEqual(owners(pg, "p01_noowner"), { database: APP_ROLE, objects: [APP_ROLE] });
            pg.psql("DROP DATABASE p01_noowner");
        });

        it("an owner the restore role cannot act as, or that does not exist: exit 1 before any database is created", async function () {
            const { backupDir } = freshDirs();
            await backup(backupDir);
            const notMember = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_owner", RESTORE_OWNER: BACKUP_ROLE });
            assert.equal(notMember.status, 1);
            assert.equal(
                oneLine(notMember),
                `restore: role "${RESTORE_ROLE}" cannot act as owner "${BACKUP_ROLE}" (a DBA runs: GRANT "${BACKUP_ROLE}" TO "${RESTORE_ROLE}"; see docs/backups.md); database untouched`,
            );
            const missing = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_owner", RESTORE_OWNER: "nosuchrole" });
            assert.equal(missing.status, 1);
            assert.match(oneLine(missing), /^restore: owner role "nosuchrole" does not exist in this cluster/);
            assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_owner%'`).trim(), "0");
        });
    });
});

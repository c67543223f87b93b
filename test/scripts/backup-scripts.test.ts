/**
 * scripts/backup.sh, copy.sh, restore.sh: usage, the full cycle (backup, copy
 * to Rubrik and GCS, restore from the volume and from GCS, also split between
 * a cloud-sdk and a postgres container) and pruning. The other backup-*.test.ts
 * files: copy.sh, failures, reasons and restore selection, roles.
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
import { pathWithout } from "./support/fake-commands";
import { putBackup } from "./support/fake-gcs";
import { fingerprint, databaseSettings, databaseOid, owners } from "./support/protheus-fixture";
import { useScriptFixture, backupName, completeBackups, oneLine, outcome, NS, APP_ROLE } from "./support/script-fixture";

const DB = "p01";
const BUCKET = "protheus-backups-test";

describe("backup scripts (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: BUCKET, sizeMb: 4, leastPrivilegeRoles: true });
    const { freshDirs, script, backup, copyToBoth } = fx;

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
                const r2 = await script(name, { PGDATABASE: undefined, BACKUP_TARGETS: "rubrik", BACKUP_NAMESPACE: NS, RUBRIK_DIR: fx.tmp });
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
        assert.deepEqual(fs.readdirSync(dbDir).sort(), [".lock", name], "the backup and the lock file (one backup of a database at a time)");
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
        assert.deepEqual(fx.gcs.list(BUCKET, `${NS}/${name}/`), [...files, "MANIFEST.json"].map((f) => `${NS}/${name}/${f}`).sort());
        assert.equal(fx.gcs.uploads[fx.gcs.uploads.length - 1], `${BUCKET}/${NS}/${name}/MANIFEST.json`, "manifest is uploaded last");
        for (const f of files) assert.deepEqual(fx.gcs.get(BUCKET, `${NS}/${name}/${f}`), fs.readFileSync(path.join(dbDir, name, f)));
        // the Rubrik copy itself verifies as a backup
        const rv = await script("restore", { BACKUP_DIR: rubrikDir, PGDATABASE: NS, RESTORE_BACKUP: name }, ["--verify-only"]);
        assert.equal(rv.status, 0, rv.stderr);

        fx.pg.psql(`DROP DATABASE ${DB}`);
        const restore = await script("restore", { BACKUP_DIR: backupDir });
        assert.equal(restore.status, 0, restore.stderr);
        assert.match(restore.stdout, new RegExp(`restored backup ${name} into database "${DB}"`));
        assert.deepEqual(fingerprint(fx.pg, DB), fx.original);
        assert.equal(databaseSettings(fx.pg, DB), "WIN1252 C C");
        assert.deepEqual(owners(fx.pg, DB), { database: APP_ROLE, objects: [APP_ROLE] }, "the dropped database comes back to the owner recorded in the backup");
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), "0");
        // indexes and statistics came back
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_indexes WHERE indexname IN ('sa1010_unq', 'sa1010_pk', 'sc5010_unq')`, DB).trim(), "3");
        assert.ok(Number(fx.pg.psql(`SELECT count(*) FROM pg_stats WHERE tablename = 'sa1010'`, DB).trim()) > 0, "ANALYZE ran");
        assert.equal(fx.pg.psql(`SELECT a1_mun FROM sa1010 WHERE r_e_c_n_o_ = 1`, DB).trim(), "GOIÂNIA");

        // From GCS (latest), replacing the database.
        const oidBefore = databaseOid(fx.pg, DB);
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
        assert.notEqual(databaseOid(fx.pg, DB), oidBefore, "database was replaced");
        assert.deepEqual(fingerprint(fx.pg, DB), fx.original);
        assert.equal(databaseSettings(fx.pg, DB), "WIN1252 C C");
        assert.deepEqual(owners(fx.pg, DB), { database: APP_ROLE, objects: [APP_ROLE] });
        assert.deepEqual(fs.readdirSync(staging), [], "staged copy removed after restore");
    });

    it("gcs: --fetch-only (cloud-sdk container) then restore without gcloud (postgres container) uses the staged copy", async function () {
        const { backupDir, dbDir } = freshDirs();
        const name = await backup(backupDir);
        const env = { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET };
        // the offsite copy, as copy.sh leaves it (the full cycle above ships one with copy.sh)
        putBackup(fx.gcs, BUCKET, `${NS}/${name}`, path.join(dbDir, name));
        fs.rmSync(path.join(backupDir, DB), { recursive: true }); // the volume lost its backups
        const fetch = await script("restore", { ...env, RESTORE_SOURCE: "gcs", RESTORE_BACKUP: name }, ["--fetch-only"]);
        assert.equal(fetch.status, 0, fetch.stderr);
        const staged = path.join(backupDir, ".restore-staging", DB, name);
        assert.ok(fs.existsSync(path.join(staged, "MANIFEST.json")));
        const noGcloud = pathWithout(fx.pg, path.join(fx.tmp, "no-gcloud"), ["gcloud"]);
        const r = await script("restore", { ...env, RESTORE_SOURCE: "gcs", RESTORE_BACKUP: name, RESTORE_REPLACE: "yes", PATH: noGcloud });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /using staged copy/);
        assert.deepEqual(fingerprint(fx.pg, DB), fx.original);
        assert.equal(fs.existsSync(staged), false);
        // without a staged copy and without gcloud: a config error, not a crash
        const r2 = await script("restore", { ...env, RESTORE_SOURCE: "gcs", RESTORE_BACKUP: name, RESTORE_REPLACE: "yes", PATH: noGcloud });
        assert.equal(r2.status, 2);
        assert.match(oneLine(r2), /--fetch-only/);
    });

    it("pruning keeps the newest BACKUP_KEEP_MIN complete backups and removes old and stale ones", async function () {
        const { backupDir, dbDir } = freshDirs();
        fs.mkdirSync(dbDir, { recursive: true });
        const stamp = (daysAgo: number) => backupName(new Date(Date.now() - daysAgo * 86_400_000));
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

        const first = await script("backup", { BACKUP_DIR: backupDir, BACKUP_KEEP_MIN: "3", BACKUP_RETENTION_DAYS: "7" });
        assert.equal(first.status, 0, first.stderr);
        const now = String(outcome(first).backup);
        // Under the lock no other backup runs: every .partial, however recent, is an interrupted one's.
        assert.equal(outcome(first).interrupted, `${[stalePartial, freshPartial].sort().join(" ")} removed (an interrupted backup's .partial)`);
        // newest 3 complete: now, d1, d10 (d10 is older than 7 days but kept by BACKUP_KEEP_MIN)
        assert.deepEqual(completeBackups(dbDir), [d10, d1, now].sort());
        const left = fs.readdirSync(dbDir).sort();
        assert.ok(!left.includes(freshPartial), "a recent .partial removed (no backup runs beside this one)");
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
});

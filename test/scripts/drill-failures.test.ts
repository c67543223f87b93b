/**
 * What makes scripts/drill.sh fail, and that a failed drill leaves nothing
 * behind: row counts that differ from the backup's, a missing table, a
 * corrupted file, a backup without row counts, extra SQL checks, the deadline.
 * Against a real throwaway PostgreSQL 15 and the real backup/restore scripts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { readOnlyQueryProblems } from "../../config/readOnlyQuery";
import { outcome } from "./support/script-fixture";
import { useDrillFixture, DB } from "./support/drill-fixture";

const BUCKET = "protheus-backups-drill-failures";

describe("restore drill failures (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const { fx, freshDir, assertFailed } = useDrillFixture(BUCKET);
    const { script } = fx;

    /** A backup dir holding a copy of one good backup, whose MANIFEST.json `edit` may change. */
    async function copyOfGoodBackup(edit?: (manifest: string) => string): Promise<{ backupDir: string; dir: string }> {
        const backupDir = freshDir();
        const name = await fx.copyOfBackup(backupDir, edit);
        return { backupDir, dir: path.join(backupDir, DB, name) };
    }

    it("a recorded row count that differs from the restored table fails with a clear line", async function () {
        const n = Number(fx.original.sb1010.split("|")[0]);
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
        const active = Number(fx.pg.psql(`SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' '`, DB).trim());
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

    it("an extra check runs only as one read-only query of the scratch database: psql commands, writes and extra statements fail and none of them runs", async function () {
        const { backupDir } = await copyOfGoodBackup();
        // A marker the server (the postgres OS user) or the drill's shell would create if a command ran.
        const markers = path.join(path.dirname(backupDir), "markers");
        fs.mkdirSync(markers);
        fs.chmodSync(markers, 0o777);
        const marker = path.join(markers, "ran");
        const touch = `COPY (SELECT 1) TO PROGRAM 'touch ${marker}'`;
        const cases: [string, string, number, RegExp][] = [
            ["shell", `SELECT 1\n\\! touch ${marker}\n`, 2, /check shell: .*contains a backslash/],
            ["live_database", `\\c ${DB}\nUPDATE sa1010 SET a1_nome = 'x';\n`, 2, /check live_database: .*contains a backslash/],
            ["update", "UPDATE sa1010 SET a1_nome = 'x'", 5, /check update failed: .*cannot open UPDATE query as cursor/],
            ["two_statements", `SELECT 1; ${touch}`, 5, /check two_statements failed: .*cannot open multi-query plan as cursor/],
            ["commit_first", `COMMIT; ${touch}`, 5, /check commit_first failed: .*cannot open multi-query plan as cursor/],
            ["read_write", `SET transaction_read_only = off; ${touch}`, 5, /check read_write failed: .*cannot open multi-query plan as cursor/],
            [
                "writable_cte",
                "WITH d AS (UPDATE sa1010 SET a1_nome = 'x' RETURNING 1) SELECT count(*) FROM d",
                5,
                /check writable_cte failed: .*read-only transaction/,
            ],
        ];
        for (const [name, sql, code, reason] of cases) {
            // The config refuses each before it could reach a drill; here drill.sh is run as if it had not.
            assert.ok(readOnlyQueryProblems([sql])[0], `${name}: accepted by the config`);
            const checks = path.join(path.dirname(backupDir), `checks-${name}`);
            fs.mkdirSync(checks);
            fs.writeFileSync(path.join(checks, `${name}.sql`), sql);
            fs.writeFileSync(path.join(checks, `${name}.expected`), "1\n");
            const r = await script("drill", { BACKUP_DIR: backupDir, DRILL_CHECKS_DIR: checks });
            assertFailed(r, code, reason);
            assert.equal(fs.existsSync(marker), false, `${name}: a command ran`);
        }
    });

    it("past DRILL_DEADLINE_SECONDS the drill fails (exit 6) and cleans up", async function () {
        const { backupDir } = await copyOfGoodBackup();
        const checks = path.join(path.dirname(backupDir), "checks");
        fs.mkdirSync(checks);
        fs.writeFileSync(path.join(checks, "slow.sql"), "SELECT pg_sleep(600);\n");
        fs.writeFileSync(path.join(checks, "slow.expected"), "\n");
        const r = await script("drill", { BACKUP_DIR: backupDir, DRILL_CHECKS_DIR: checks, DRILL_DEADLINE_SECONDS: "10" });
        assertFailed(r, 6, /deadline of 10s passed during the checks/);
    });
});

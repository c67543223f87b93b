/**
 * Benchmark of scripts/backup.sh and scripts/restore.sh against baselines and
 * floors, side by side on one throwaway PostgreSQL 15 with a Protheus-shaped
 * database. Not a test: run with `npm run bench:backup -- [--size-mb N]`.
 *
 *   backup:  COPY floor (every table COPY TO STDOUT > /dev/null, one stream)
 *            vs `pg_dump | gzip` (plain format) vs backup.sh variants
 *   restore: COPY-in floor (same data into tables without indexes, one
 *            stream) vs `psql -f plain.sql` vs restore.sh variants
 *   drill:   restore.sh alone vs drill.sh (restore.sh + checks + drop),
 *            alternated; and counting rows with index-only vs heap scans
 *
 * Wall time, throughput (database size / time), output size and peak RSS of
 * the client-side process tree (GNU time %M: the largest process) for each.
 *
 * As in production and in the tests, the database belongs to the application
 * role `protheus`, and backup.sh / restore.sh connect as the least-privilege
 * roles created by the SQL in docs/backups.md (protheus_backup,
 * protheus_restore); the floors and baselines run as the superuser.
 *
 * Options (or env): --size-mb N (BENCH_SIZE_MB, default 1536),
 * --variants "Z:J,..." backup.sh BACKUP_COMPRESS:BACKUP_JOBS to try
 * (BENCH_VARIANTS, default "1:2,0:2,3:2"), --drill-rounds N restore.sh-alone /
 * drill.sh pairs (BENCH_DRILL_ROUNDS, default 2), --keep (keep the temp dir),
 * --baseline-scripts DIR (BENCH_BASELINE_SCRIPTS): another copy of scripts/
 * (e.g. main's) run side by side with this one, alternated for
 * --compare-rounds N (BENCH_COMPARE_ROUNDS, default 3): backup.sh (default
 * settings), restore.sh into a new database and restore.sh replacing it; the
 * report gives each one's median and the ratio this / baseline.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { commandLine, wholeNumber } from "../lib/commandLine";
import { startPostgres, PgServer } from "../test/support/postgres";
import { run } from "../test/scripts/support/run";
import { roleSqlFromDocs, runRoleSql } from "../test/scripts/support/roles";
import { createProtheusDatabaseSql, dataSqlForSize, PROTHEUS_SCHEMA_SQL, PROTHEUS_TABLES, rowCountsForSize } from "./protheus-db";

const { values, fail } = commandLine({
    name: "bench:backup",
    usage:
        "usage: npm run bench:backup -- [--size-mb N] [--variants Z:J,...] [--restore-variants default,plain,nosettings,j1] [--drill-rounds N]\n" +
        "       [--baseline-scripts DIR] [--compare-rounds N] [--keep]   (each also from its BENCH_* variable; see BENCHMARKS.md)",
    options: {
        "size-mb": { type: "string", value: "a size in MB" },
        variants: { type: "string", value: "Z:J,... pairs" },
        "restore-variants": { type: "string", value: "a comma-separated list of variants" },
        "drill-rounds": { type: "string", value: "a number of rounds" },
        "baseline-scripts": { type: "string", value: "a directory" },
        "compare-rounds": { type: "string", value: "a number of rounds" },
        keep: { type: "boolean" },
    },
});
const opt = (name: Exclude<keyof typeof values, "keep">, env: string, dflt: string) => values[name] ?? process.env[env] ?? dflt;
const count = (name: "size-mb" | "drill-rounds" | "compare-rounds", env: string, dflt: string, min: number) =>
    wholeNumber(opt(name, env, dflt), min) ?? fail(`--${name} (${env}) needs a whole number of at least ${min}`);
const SIZE_MB = count("size-mb", "BENCH_SIZE_MB", "1536", 1);
const VARIANTS = opt("variants", "BENCH_VARIANTS", "1:2,0:2,3:2")
    .split(",")
    .map((v) => v.split(":"));
const RESTORE_VARIANTS = opt("restore-variants", "BENCH_RESTORE_VARIANTS", "default,plain,nosettings");
const KEEP = values.keep ?? false;
const DRILL_ROUNDS = count("drill-rounds", "BENCH_DRILL_ROUNDS", "2", 0);
const SCRIPTS = path.resolve(__dirname, "../scripts");
const BASELINE_SCRIPTS = opt("baseline-scripts", "BENCH_BASELINE_SCRIPTS", "");
const COMPARE_ROUNDS = count("compare-rounds", "BENCH_COMPARE_ROUNDS", "3", 0);
const DB = "bench01";
const APP_ROLE = "protheus";
const PASSWORD = `bench-${process.pid}`;

interface Measure {
    label: string;
    seconds: number;
    maxRssKb: number;
    bytes?: number;
    stdout?: string;
}

const fmtMb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

async function timed(label: string, script: string, env: NodeJS.ProcessEnv): Promise<Measure> {
    const tf = path.join(os.tmpdir(), `bench-time-${process.pid}`);
    const t0 = process.hrtime.bigint();
    const r = await run("/usr/bin/time", ["-f", "%e %M", "-o", tf, "bash", "-c", `set -euo pipefail; ${script}`], { env });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`);
    const [, rss] = fs.readFileSync(tf, "utf8").trim().split("\n").pop()!.split(" ");
    fs.rmSync(tf, { force: true });
    log(`${label}: ${seconds.toFixed(1)} s`);
    return { label, seconds, maxRssKb: Number(rss), stdout: r.stdout };
}

function duBytes(p: string): number {
    return Number(execFileSync("du", ["-sb", p], { encoding: "utf8" }).split("\t")[0]);
}

async function buildDatabase(pg: PgServer): Promise<void> {
    pg.psql(`CREATE ROLE ${APP_ROLE} LOGIN`);
    pg.psql(`${createProtheusDatabaseSql(DB)} OWNER ${APP_ROLE}`);
    pg.psql(`SET ROLE ${APP_ROLE};\n${PROTHEUS_SCHEMA_SQL}`, DB);
    const data = dataSqlForSize(SIZE_MB, 250_000);
    // Two loaders in parallel (2 cores), each statement one batch.
    const queue = PROTHEUS_TABLES.flatMap((t) => data[t]);
    const worker = async () => {
        for (let sql = queue.shift(); sql; sql = queue.shift()) {
            const r = await run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB], {
                env: pg.env({ PGOPTIONS: `-c synchronous_commit=off -c role=${APP_ROLE}` }),
                input: `${sql};\n`,
            });
            if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
        }
    };
    await Promise.all([worker(), worker()]);
    pg.psql("VACUUM (ANALYZE, FREEZE)", DB);
    pg.psql("CHECKPOINT");
}

async function main() {
    const nproc = os.cpus().length;
    const memGb = (os.totalmem() / 1073741824).toFixed(1);
    if (!fs.existsSync("/usr/bin/time")) throw new Error("bench: /usr/bin/time (GNU time) is required: apt-get install -y time");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-backup-"));
    fs.chmodSync(work, 0o755);
    log(`work dir ${work}; size ${SIZE_MB} MB; ${nproc} cpus, ${memGb} GiB RAM`);
    const pg = await startPostgres({
        settings: { shared_buffers: "512MB", max_wal_size: "8GB", checkpoint_timeout: "30min", max_connections: "50" },
    });
    try {
        const env = pg.env();
        const version = pg.psql("SHOW server_version").trim();
        log(`PostgreSQL ${version}; building database (${JSON.stringify(rowCountsForSize(SIZE_MB))} rows)`);
        const tb = Date.now();
        await buildDatabase(pg);
        const dbBytes = Number(pg.psql(`SELECT pg_database_size('${DB}')`).trim());
        const tableBytes = Number(
            pg.psql(`SELECT sum(pg_table_size(c.oid)) FROM pg_class c WHERE relname IN (${PROTHEUS_TABLES.map((t) => `'${t}'`).join(",")})`, DB).trim(),
        );
        log(`database ${fmtMb(dbBytes)} (tables without indexes ${fmtMb(tableBytes)}) built in ${((Date.now() - tb) / 1000).toFixed(0)} s`);
        const dbEnv = pg.env({ PGDATABASE: DB });
        const roleSql = roleSqlFromDocs();
        await runRoleSql(
            pg,
            ["protheus_backup", "protheus_restore"].map((role) => ({ sql: roleSql[role], password: PASSWORD })),
        );
        const as = (role: string) => ({ PGUSER: role, PGPASSWORD: PASSWORD });

        // ---- backup side -------------------------------------------------------
        const copyOut = PROTHEUS_TABLES.map((t) => `psql -X -q -c "COPY ${t} TO STDOUT" > /dev/null`).join("; ");
        await timed("warm-up (untimed)", copyOut, dbEnv);
        const backups: Measure[] = [];
        backups.push(await timed("COPY floor (COPY TO STDOUT > /dev/null, 1 stream)", copyOut, dbEnv));
        const baseline = await timed("pg_dump \\| gzip (plain, gzip -6)", `pg_dump -d ${DB} | gzip > ${work}/plain.sql.gz`, dbEnv);
        baseline.bytes = fs.statSync(`${work}/plain.sql.gz`).size;
        fs.rmSync(`${work}/plain.sql.gz`);
        backups.push(baseline);
        let defaultBackup = "";
        for (const [z, j] of VARIANTS) {
            const dir = path.join(work, `vol-z${z}-j${j}`);
            const m = await timed(
                `backup.sh BACKUP_COMPRESS=${z} BACKUP_JOBS=${j}`,
                `${SCRIPTS}/backup.sh`,
                pg.env({ PGDATABASE: DB, BACKUP_DIR: dir, BACKUP_COMPRESS: z, BACKUP_JOBS: j, ...as("protheus_backup") }),
            );
            m.bytes = duBytes(dir);
            backups.push(m);
            if (!defaultBackup) defaultBackup = dir;
            else fs.rmSync(dir, { recursive: true });
        }

        // ---- restore side ------------------------------------------------------
        const restores: Measure[] = [];
        // COPY-in floor: the same rows into index-less tables, one stream.
        const dataDir = path.join(work, "copydata");
        fs.mkdirSync(dataDir);
        for (const t of PROTHEUS_TABLES) await timed(`export ${t} (untimed)`, `psql -X -q -c "\\copy ${t} TO '${dataDir}/${t}.copy'"`, dbEnv);
        pg.psql(createProtheusDatabaseSql("floor_in"));
        const tablesOnly = PROTHEUS_SCHEMA_SQL.split(";")
            .filter((s) => /CREATE TABLE/.test(s))
            .map((s) => s.replace(/,\s*CONSTRAINT [^\n]+PRIMARY KEY \([^)]*\)\s*\n\)/, "\n)"))
            .join(";\n");
        pg.psql(`${tablesOnly};`, "floor_in");
        pg.psql("CHECKPOINT");
        const floorIn = await timed(
            "COPY-in floor (COPY FROM, no indexes, 1 stream)",
            PROTHEUS_TABLES.map((t) => `psql -X -q -d floor_in -c "\\copy ${t} FROM '${dataDir}/${t}.copy'"`).join("; "),
            env,
        );
        restores.push(floorIn);
        // The same plus the index work a restore must do (PKs + Protheus indexes), one stream.
        const indexSql = [
            ...PROTHEUS_TABLES.map((t) => `ALTER TABLE ${t} ADD CONSTRAINT ${t}_pk PRIMARY KEY (r_e_c_n_o_)`),
            ...PROTHEUS_SCHEMA_SQL.split(";").filter((s) => /CREATE (UNIQUE )?INDEX/.test(s)),
        ].join(";\n");
        fs.writeFileSync(path.join(work, "indexes.sql"), `${indexSql};\n`);
        const idx = await timed("  + CREATE INDEX (same DB, 1 stream)", `psql -X -q -v ON_ERROR_STOP=1 -d floor_in -f ${work}/indexes.sql`, env);
        restores.push({
            label: "COPY-in + indexes floor (COPY FROM, then PKs + indexes, 1 stream)",
            seconds: floorIn.seconds + idx.seconds,
            maxRssKb: Math.max(floorIn.maxRssKb, idx.maxRssKb),
        });
        pg.psql("DROP DATABASE floor_in");
        fs.rmSync(dataDir, { recursive: true });
        pg.psql("CHECKPOINT");

        if (RESTORE_VARIANTS.includes("plain")) {
            await timed("plain dump for psql replay (untimed)", `pg_dump -d ${DB} -f ${work}/plain.sql`, dbEnv);
            pg.psql(createProtheusDatabaseSql("plain_in"));
            pg.psql("CHECKPOINT");
            const m = await timed("psql -f plain.sql (plain SQL replay)", `psql -X -q -v ON_ERROR_STOP=1 -d plain_in -f ${work}/plain.sql > /dev/null`, env);
            m.bytes = fs.statSync(`${work}/plain.sql`).size;
            restores.push(m);
            pg.psql("DROP DATABASE plain_in");
            fs.rmSync(`${work}/plain.sql`);
            pg.psql("CHECKPOINT");
        }

        const restoreRuns: [string, Record<string, string>][] = [["restore.sh (defaults)", {}]];
        if (RESTORE_VARIANTS.includes("nosettings")) restoreRuns.push(['restore.sh RESTORE_PGOPTIONS="" (server defaults)', { RESTORE_PGOPTIONS: "" }]);
        if (RESTORE_VARIANTS.includes("j1")) restoreRuns.push(["restore.sh RESTORE_JOBS=1", { RESTORE_JOBS: "1" }]);
        for (const [label, extra] of restoreRuns) {
            const m = await timed(
                label,
                `${SCRIPTS}/restore.sh`,
                pg.env({ PGDATABASE: DB, BACKUP_DIR: defaultBackup, RESTORE_DATABASE: "restored", ...as("protheus_restore"), ...extra }),
            );
            m.bytes = Number(pg.psql(`SELECT pg_database_size('restored')`).trim());
            restores.push(m);
            pg.psql("DROP DATABASE restored");
            pg.psql("CHECKPOINT");
        }

        // ---- drill side: drill.sh (restore.sh + checks) against restore.sh alone -
        // Alternated rounds on the same backup, so both see the same noise.
        const backupOut = backups.find((m) => m.label.startsWith("backup.sh"))?.stdout ?? "";
        const countLine = /counted the rows of (\d+) tables in the dump's snapshot in ([0-9.]+)s/.exec(backupOut);
        const drillRows: Measure[] = [];
        const phases: { restore: number; checks: number }[] = [];
        for (let round = 1; round <= DRILL_ROUNDS; round++) {
            const alone = await timed(
                `restore.sh alone (round ${round})`,
                `${SCRIPTS}/restore.sh`,
                pg.env({ PGDATABASE: DB, BACKUP_DIR: defaultBackup, RESTORE_DATABASE: "restored" }),
            );
            pg.psql("DROP DATABASE restored");
            pg.psql("CHECKPOINT");
            drillRows.push(alone);
            const drill = await timed(
                `drill.sh: restore.sh + checks + drop (round ${round})`,
                `${SCRIPTS}/drill.sh`,
                pg.env({ PGDATABASE: DB, BACKUP_DIR: defaultBackup, BACKUP_NAMESPACE: "bench" }),
            );
            const outcome = JSON.parse(drill.stdout!.trim().split("\n").pop()!);
            if (outcome.status !== "ok") throw new Error(`drill failed: ${outcome.error}`);
            phases.push({ restore: outcome.restore_seconds, checks: outcome.check_seconds });
            drillRows.push(drill);
            pg.psql("CHECKPOINT");
        }
        // Row counting on the live database: what backup.sh runs (planner: index-only scans of the
        // R_E_C_N_O_ primary key on an all-visible table) against forced full heap scans.
        const countSql = PROTHEUS_TABLES.map((t) => `SELECT count(*) FROM ${t};`).join(" ");
        const counting = [
            await timed("count(*) of every table, planner choice (index-only scans)", `psql -X -q -At -c "${countSql}" > /dev/null`, dbEnv),
            await timed(
                "count(*) of every table, heap scans forced",
                `PGOPTIONS="-c enable_indexonlyscan=off -c enable_indexscan=off -c enable_bitmapscan=off" psql -X -q -At -c "${countSql}" > /dev/null`,
                dbEnv,
            ),
        ];

        // ---- this scripts/ against a baseline copy, alternated -----------------
        const compared: { action: string; baseline: number[]; current: number[] }[] = [];
        if (BASELINE_SCRIPTS) {
            const actions = ["backup.sh (defaults)", "restore.sh into a new database", "restore.sh RESTORE_REPLACE=yes"];
            for (const action of actions) compared.push({ action, baseline: [], current: [] });
            for (let round = 1; round <= COMPARE_ROUNDS; round++) {
                for (const [which, dir] of [
                    ["baseline", BASELINE_SCRIPTS],
                    ["current", SCRIPTS],
                ] as const) {
                    const vol = path.join(work, `compare-${which}-${round}`);
                    const b = await timed(
                        `${which} backup.sh (round ${round})`,
                        `bash ${dir}/backup.sh`,
                        pg.env({ PGDATABASE: DB, BACKUP_DIR: vol, ...as("protheus_backup") }),
                    );
                    const restoreEnv = pg.env({ PGDATABASE: DB, BACKUP_DIR: vol, RESTORE_DATABASE: "compared", ...as("protheus_restore") });
                    pg.psql("CHECKPOINT");
                    const r = await timed(`${which} restore.sh new (round ${round})`, `bash ${dir}/restore.sh`, restoreEnv);
                    pg.psql("CHECKPOINT");
                    const rr = await timed(`${which} restore.sh replace (round ${round})`, `bash ${dir}/restore.sh`, { ...restoreEnv, RESTORE_REPLACE: "yes" });
                    pg.psql("DROP DATABASE compared");
                    pg.psql("CHECKPOINT");
                    fs.rmSync(vol, { recursive: true });
                    [b, r, rr].forEach((m, i) => compared[i][which].push(m.seconds));
                }
            }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const comparison = BASELINE_SCRIPTS
            ? [
                  `### This scripts/ against ${BASELINE_SCRIPTS}`,
                  "",
                  `Alternated, ${COMPARE_ROUNDS} rounds; median wall seconds.`,
                  "",
                  "| action | baseline s | this s | this / baseline |",
                  "| --- | ---: | ---: | ---: |",
                  ...compared.map(
                      (c) =>
                          `| ${c.action} | ${median(c.baseline).toFixed(2)} | ${median(c.current).toFixed(2)} | ${(median(c.current) / median(c.baseline)).toFixed(2)} |`,
                  ),
                  "",
              ].join("\n")
            : "";

        // ---- report ------------------------------------------------------------
        const table = (title: string, rows: Measure[], floor: Measure, sizeLabel: string) => {
            const lines = [
                `### ${title}`,
                "",
                `| method | wall s | throughput (DB MB/s) | × floor | ${sizeLabel} | peak RSS |`,
                "| --- | ---: | ---: | ---: | ---: | ---: |",
                ...rows.map(
                    (m) =>
                        `| ${m.label} | ${m.seconds.toFixed(1)} | ${(dbBytes / 1048576 / m.seconds).toFixed(0)} | ${(m.seconds / floor.seconds).toFixed(2)} | ${m.bytes ? fmtMb(m.bytes) : "-"} | ${(m.maxRssKb / 1024).toFixed(0)} MB |`,
                ),
                "",
            ];
            return lines.join("\n");
        };
        const report = [
            `## Run ${new Date().toISOString()}`,
            "",
            `Machine: ${nproc} CPUs (${os.cpus()[0]?.model ?? "?"}), ${memGb} GiB RAM; PostgreSQL ${version}; database ${fmtMb(dbBytes)} (${fmtMb(tableBytes)} heap, rest indexes), rows ${JSON.stringify(rowCountsForSize(SIZE_MB))}.`,
            "",
            comparison,
            table("Backup", backups, backups[0], "output size"),
            table("Restore", restores, floorIn, "size (input / restored DB)"),
            `Restore vs the COPY-in + indexes floor: ${restores
                .filter((m) => m.label.startsWith("restore.sh"))
                .map((m) => `${m.label} ${(m.seconds / restores[1].seconds).toFixed(2)}×`)
                .join("; ")}.`,
            "",
            "### Restore drill",
            "",
            "| method | wall s | × restore.sh alone (same round) |",
            "| --- | ---: | ---: |",
            ...drillRows.map((m, i) => `| ${m.label} | ${m.seconds.toFixed(1)} | ${(m.seconds / drillRows[i - (i % 2)].seconds).toFixed(2)} |`),
            "",
            "| round | drill restore_seconds | drill check_seconds | checks / restore |",
            "| --- | ---: | ---: | ---: |",
            ...phases.map((p, i) => `| ${i + 1} | ${p.restore.toFixed(1)} | ${p.checks.toFixed(1)} | ${((100 * p.checks) / p.restore).toFixed(1)}% |`),
            "",
            `Checks add ${((100 * phases.reduce((a, p) => a + p.checks, 0)) / phases.reduce((a, p) => a + p.restore, 0)).toFixed(1)}% to the restore time (target ≤ 10%).`,
            "",
            "### Row counts in the backup",
            "",
            `backup.sh (default variant): ${countLine ? `counted ${countLine[1]} tables in the dump's snapshot in ${countLine[2]} s, concurrently with pg_dump` : "no counting line found"}.`,
            "",
            "| count(*) on the live database | wall s |",
            "| --- | ---: |",
            ...counting.map((m) => `| ${m.label} | ${m.seconds.toFixed(2)} |`),
            "",
        ].join("\n");
        console.log(`\n${report}`);
        const out = path.join(__dirname, `results-${SIZE_MB}mb.md`);
        fs.writeFileSync(out, `${report}\n`);
        log(`report written to ${out}`);
    } finally {
        pg.stop();
        if (!KEEP) fs.rmSync(work, { recursive: true, force: true });
        else log(`kept ${work}`);
    }
}

main().catch((e) => {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(1);
});

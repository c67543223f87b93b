/**
 * scripts/restore.sh replacing a database (RESTORE_REPLACE=yes) when the swap
 * goes wrong: a session blocking the rename, the server stopping, SIGTERM and
 * SIGKILL at each phase, autovacuum working on the target. Afterwards a
 * database with the old or the new content is under the live name (for a
 * SIGKILL: once the next run has put the previous one back), and whatever was
 * left over is named in the log and cleaned by the next run.
 *
 * Faults are injected through PATH, the way the scripts find their programs:
 * a psql (and vacuumdb) stand-in that, once the databases reach a given state,
 * kills the run, sends it SIGTERM, opens a blocking session, or stops the
 * server, then runs the real psql.
 *
 * Real parts: a throwaway PostgreSQL 15 with its pg_restore and psql, the
 * least-privilege roles of docs/backups.md (restore.sh connects as
 * protheus_restore; the database belongs to protheus).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fakeCommands } from "./support/fake-commands";
import { fingerprint } from "./support/protheus-fixture";
import { useScriptFixture, outcome, APP_ROLE } from "./support/script-fixture";
import { RunResult } from "./support/run";
import { waitFor } from "../support/wait";

const DB = "r01";
const TMPDB = `${DB}_restore_tmp`;
const PREV = new RegExp(`^${DB}_prev_\\d{8}T\\d{6}Z$`);

/** When the fault fires: the target moved to its _prev_ name with the restored database still temporary, or both renamed. */
type Phase = "moved" | "swapped";
type Action = "kill" | "term" | "block" | "stop";

describe("restore.sh swap: a database under the live name at every step (real PostgreSQL 15)", function () {
    this.timeout(600_000);
    const fx = useScriptFixture({ database: DB, bucket: "protheus-backups-swap", sizeMb: 2, leastPrivilegeRoles: true });
    let backupDir = "";
    let restored: Record<string, string> = {};

    /** database names of this test's target: live, temporary and previous ones */
    const databases = () => fx.pg.psql(`SELECT datname FROM pg_database WHERE datname LIKE '${DB}%' ORDER BY 1`).trim().split("\n").filter(Boolean);
    const leftovers = () => databases().filter((d) => d !== DB);
    /** the live database holds the pre-restore content (a table made after the backup) */
    const hasOldContent = () => fx.pg.psql(`SELECT count(*) FROM pg_tables WHERE tablename = 'zz_after_backup'`, DB).trim() === "1";
    const markOld = () => {
        fx.pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE IF NOT EXISTS zz_after_backup (id int)`, DB);
        assert.ok(hasOldContent());
    };
    const pgCtl = (...args: string[]) => {
        const r = spawnSync("runuser", ["-u", "postgres", "--", path.join(fx.pg.binDir, "pg_ctl"), "-D", path.join(fx.pg.dir, "data"), ...args], {
            encoding: "utf8",
            cwd: fx.pg.dir,
        });
        assert.equal(r.status, 0, `pg_ctl ${args.join(" ")}: ${r.stderr}`);
    };

    /**
     * Shell lines that open a session of the server's superuser on the temporary database (sleeping) in
     * the background and wait until it is there. It holds none of the script's descriptors but the
     * standard three, which go to /dev/null: the scripts keep a copy of their stdout on a spare one
     * (lib.sh), and the run would not end before the session does.
     */
    function blockingSession(): string {
        const su = `PGUSER=${fx.pg.user} PGPASSWORD='${fx.pg.password}'`;
        const real = path.join(fx.pg.binDir, "psql");
        return `(for fd in /proc/self/fd/*; do fd=\${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  ${su} "${real}" -X -d ${TMPDB} -c 'SELECT pg_sleep(120)') </dev/null >/dev/null 2>&1 &
until [ "$(${su} "${real}" -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '${TMPDB}' AND query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")" = 1 ]; do sleep 0.1; done`;
    }

    /** A PATH whose psql fires `action` once the databases reach `phase`. */
    function faultyPath(dir: string, action: Action, phase: Phase, scriptPid: () => number): string {
        const su = `PGUSER=${fx.pg.user} PGPASSWORD='${fx.pg.password}'`;
        const real = path.join(fx.pg.binDir, "psql");
        const fault = path.join(dir, "fault");
        const pidFile = path.join(dir, "pid");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(fault, "");
        const prevExists = `EXISTS (SELECT 1 FROM pg_database WHERE datname ~ '^${DB}_prev_')`;
        const tmpExists = `EXISTS (SELECT 1 FROM pg_database WHERE datname = '${TMPDB}')`;
        const when = phase === "moved" ? `${prevExists} AND ${tmpExists}` : `${prevExists} AND NOT ${tmpExists}`;
        const act: Record<Action, string> = {
            kill: "kill -KILL 0",
            term: `kill -TERM "$(cat '${pidFile}')"`,
            block: blockingSession(),
            // The test servers run with synchronous_commit off: a CHECKPOINT first makes the committed rename
            // durable, as a real server's synchronous commit does, before the crash-like immediate stop.
            stop: `${su} "${real}" -X -d postgres -c CHECKPOINT >/dev/null
runuser -u postgres -- "${fx.pg.binDir}/pg_ctl" -D "${fx.pg.dir}/data" -m immediate -w stop >/dev/null`,
        };
        const PATH = fakeCommands(fx.pg, path.join(dir, "bin"), {
            psql: `if [ -f '${fault}' ] && [ "$(${su} "${real}" -X -At -d postgres -c "SELECT ${when}" 2>/dev/null)" = t ]; then
  rm -f '${fault}'
  ${act[action]}
fi
exec "${real}" "$@"`,
        });
        // the test writes the script's pid once spawned
        setImmediate(function write() {
            const pid = scriptPid();
            if (pid) fs.writeFileSync(pidFile, String(pid));
            else setImmediate(write);
        });
        return PATH;
    }

    const restore = (env: Record<string, string> = {}, onSpawn?: (pid: number) => void): Promise<RunResult> =>
        fx.script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes", ...env }, [], { detached: true, onSpawn: (c) => onSpawn?.(c.pid ?? 0) });
    /** A later run that only cleans up: it finds what an interrupted run left, then no such backup (exit 4). */
    const nextRun = async () => {
        const r = await fx.script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes", RESTORE_BACKUP: "20000101T000000Z" });
        assert.equal(r.status, 4, r.stderr);
        return outcome(r);
    };

    before(async function () {
        backupDir = fx.freshDirs().backupDir;
        await fx.backup(backupDir);
        restored = fx.original;
    });

    it("a session of the server's superuser opens on the temporary database before the swap: exit 1 naming it, old database still live; the next run drops the temporary one", async function () {
        markOld();
        let pid = 0;
        const r = await restore({ PATH: faultyPathBeforeSwap() }, (p) => (pid = p));
        assert.ok(pid);
        assert.equal(r.status, 1, r.stderr);
        assert.match(
            r.stderr,
            new RegExp(
                `^restore: database "${TMPDB}" has sessions of roles protheus_restore cannot end: ${fx.pg.user} \\(pid \\d+, psql\\); database "${DB}" untouched$`,
                "m",
            ),
        );
        assert.match(r.stderr, new RegExp(`cannot drop the temporary database "${TMPDB}": .*; the next restore drops it`));
        assert.equal(outcome(r).status, "failed");
        assert.ok(hasOldContent(), "the old database is live");
        assert.deepEqual(leftovers(), [TMPDB]);
        fx.pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${TMPDB}'`);
        const o = await nextRun();
        assert.equal(o.interrupted, `dropped ${TMPDB}`);
        assert.deepEqual(leftovers(), []);
        assert.ok(hasOldContent());

        function faultyPathBeforeSwap() {
            // the blocking session opens when vacuumdb (ANALYZE, the step before the swap) has run
            const dir = path.join(fx.tmp, "block-before-swap");
            return fakeCommands(fx.pg, path.join(dir, "bin"), {
                vacuumdb: `"${fx.pg.binDir}/vacuumdb" "$@" || exit $?
${blockingSession()}`,
            });
        }
    });

    it("the rename of the restored database is blocked after the target moved aside: the previous database is put back", async function () {
        markOld();
        let pid = 0;
        const r = await restore({ PATH: faultyPath(path.join(fx.tmp, "block"), "block", "moved", () => pid) }, (p) => (pid = p));
        assert.equal(r.status, 1, r.stderr);
        assert.match(
            r.stderr,
            new RegExp(
                `^restore: cannot rename "${TMPDB}" to "${DB}": database "${TMPDB}" has sessions of roles protheus_restore cannot end: ${fx.pg.user} \\(pid \\d+, psql\\)$`,
                "m",
            ),
        );
        assert.match(r.stderr, new RegExp(`^restore: previous database put back as "${DB}"$`, "m"));
        assert.match(String(outcome(r).error), /previous database put back/);
        assert.ok(hasOldContent(), "the old database is live again");
        assert.deepEqual(leftovers(), [TMPDB], "only the blocked temporary database is left (named above)");
        fx.pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${TMPDB}'`);
        assert.equal((await nextRun()).interrupted, `dropped ${TMPDB}`);
        assert.deepEqual(leftovers(), []);
    });

    it("SIGTERM during the rename of the restored database (after the target moved aside): the rename completes, then the previous database is dropped and the log says so", async function () {
        markOld();
        let pid = 0;
        // The signal reaches the script while the psql of the last rename runs: bash handles it once psql is done.
        const r = await restore({ PATH: faultyPath(path.join(fx.tmp, "term"), "term", "moved", () => pid) }, (p) => (pid = p));
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /^restore: interrupted by SIGTERM$/m);
        const said = new RegExp(
            `^restore: the swap had completed: the restored database is "${DB}"; previous database "${DB}_prev_\\d{8}T\\d{6}Z" dropped$`,
            "m",
        );
        assert.match(r.stderr, said);
        assert.match(String(outcome(r).error), /^interrupted by SIGTERM; the swap had completed/);
        assert.deepEqual(fingerprint(fx.pg, DB), restored, "the restored database is live");
        assert.deepEqual(leftovers(), []);
    });

    it("the server stops after the target moved aside: exit 1 naming the previous database; the next run puts it back", async function () {
        markOld();
        let pid = 0;
        const r = await restore({ PATH: faultyPath(path.join(fx.tmp, "stop"), "stop", "moved", () => pid) }, (p) => (pid = p)).finally(() =>
            pgCtl("-l", path.join(fx.pg.dir, "server.log"), "-w", "start"),
        );
        assert.equal(r.status, 1, r.stderr);
        const prev = /the previous database may be "([^"]+)"/.exec(r.stderr)?.[1] ?? "";
        assert.match(prev, PREV, r.stderr);
        assert.match(r.stderr, /the next restore puts it back/);
        assert.deepEqual(leftovers().sort(), [prev, TMPDB].sort());
        assert.equal(databases().includes(DB), false);
        const o = await nextRun();
        assert.equal(o.interrupted, `renamed ${prev} back to ${DB}, dropped ${TMPDB}`);
        assert.ok(hasOldContent(), "the old database is live again");
        assert.deepEqual(leftovers(), []);
    });

    for (const [phase, live] of [
        ["restoring", "old"],
        ["moved", "old"],
        ["swapped", "new"],
    ] as const) {
        it(`SIGKILL ${phase === "restoring" ? "while restoring" : phase === "moved" ? "between the two renames" : "before the previous database is dropped"}: the next run names what it found and leaves the ${live} content live`, async function () {
            markOld();
            let pid = 0;
            const dir = path.join(fx.tmp, `kill-${phase}`);
            const PATH =
                phase === "restoring" ? fakeCommands(fx.pg, path.join(dir, "bin"), { vacuumdb: "kill -KILL 0" }) : faultyPath(dir, "kill", phase, () => pid);
            const r = await restore({ PATH }, (p) => (pid = p));
            assert.equal(r.signal, "SIGKILL");
            assert.equal(r.stdout.split("\n").filter((l) => l.startsWith("{")).length, 0, "a killed run prints no outcome line");
            // the advisory lock's session ends with its client
            await waitFor(() => fx.pg.psql(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`).trim() === "0", "the killed run's lock to go");
            const left = leftovers();
            const prev = left.find((d) => PREV.test(d));
            const o = await nextRun();
            const expected = {
                restoring: `dropped ${TMPDB}`,
                moved: `renamed ${prev} back to ${DB}, dropped ${TMPDB}`,
                swapped: `dropped ${prev}`,
            }[phase];
            assert.equal(o.interrupted, expected, `left: ${left.join(" ")}`);
            assert.deepEqual(leftovers(), []);
            if (live === "old") assert.ok(hasOldContent(), "the old database is live");
            else assert.deepEqual(fingerprint(fx.pg, DB), restored, "the restored database is live");
        });
    }

    it("autovacuum working on the target: the replacement waits for it instead of failing to terminate it", async function () {
        markOld();
        fx.pg.psql(`ALTER SYSTEM SET autovacuum_naptime = 1; SELECT pg_reload_conf()`);
        // A table autovacuum crawls through: dead rows on about 900 pages, each dirtied page a
        // 400 ms cost sleep at these settings (minutes, far longer than the restore).
        fx.pg.psql(
            `SET ROLE ${APP_ROLE};
             CREATE TABLE zz_vacuum WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)
               AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 30000) g;
             DELETE FROM zz_vacuum WHERE id % 2 = 0;`,
            DB,
        );
        await waitFor(
            () => fx.pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = '${DB}'`).trim() !== "0",
            "an autovacuum worker on the target",
        );
        try {
            const r = await restore();
            assert.equal(r.status, 0, r.stderr);
            assert.equal(outcome(r).status, "ok");
            assert.deepEqual(fingerprint(fx.pg, DB), restored);
            assert.deepEqual(leftovers(), []);
        } finally {
            fx.pg.psql(`ALTER SYSTEM RESET autovacuum_naptime; SELECT pg_reload_conf()`);
        }
    });
});

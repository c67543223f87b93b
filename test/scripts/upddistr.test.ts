/**
 * scripts/upddistr.sh, the updater's wrapper around init-upddistr, run by
 * /bin/sh (dash here: the updater image is TOTVS's, so only POSIX sh is
 * assumed) with a stand-in `init-upddistr` on PATH that writes a log and a
 * result.json and exits as told.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run, RunResult } from "./support/run";

const WRAPPER = path.resolve(__dirname, "../../scripts/upddistr.sh");

/**
 * The stand-in: writes STANDIN_LINES numbered lines ("UPDDISTR line <n>") to
 * $STANDIN_LOG (none when unset), STANDIN_RESULT to $STANDIN_RESULT_FILE,
 * records its arguments, and exits STANDIN_EXIT. With STANDIN_WAIT it first
 * marks itself started and waits to be signalled; on TERM it records "TERM"
 * and exits STANDIN_TERM_EXIT (when set; else TERM kills it).
 */
const STANDIN = `#!/bin/sh
echo "$*" > "$STANDIN_DIR/args"
if [ -n "\${STANDIN_LOG:-}" ]; then
  i=1
  while [ "$i" -le "\${STANDIN_LINES:-0}" ]; do echo "UPDDISTR line $i"; i=$((i + 1)); done > "$STANDIN_LOG"
  [ -z "\${STANDIN_LOG_TAIL:-}" ] || printf '%s' "$STANDIN_LOG_TAIL" >> "$STANDIN_LOG"
fi
[ -z "\${STANDIN_RESULT:-}" ] || printf '%s\\n' "$STANDIN_RESULT" > "$STANDIN_RESULT_FILE"
if [ -n "\${STANDIN_WAIT:-}" ]; then
  if [ -n "\${STANDIN_TERM_EXIT:-}" ]; then
    trap 'echo TERM > "$STANDIN_DIR/signal"; kill "$SLEEPER" 2>/dev/null; exit "$STANDIN_TERM_EXIT"' TERM
  fi
  # not holding the test's stdout pipe; its pid recorded so the test can end it
  sleep 600 >/dev/null 2>&1 &
  SLEEPER=$!
  echo "$SLEEPER" > "$STANDIN_DIR/sleeper"
  echo "$$" > "$STANDIN_DIR/started"
  wait "$SLEEPER"
fi
exit "\${STANDIN_EXIT:-0}"
`;

describe("upddistr.sh (the updater wrapper, run by /bin/sh)", function () {
    this.timeout(60_000);
    let tmp: string;
    let seq = 0;

    before(function () {
        assert.match(fs.realpathSync("/bin/sh"), /dash$/, "these tests mean to run the wrapper with dash");
    });
    beforeEach(function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), `upddistr-${++seq}-`));
        fs.mkdirSync(path.join(tmp, "bin"));
        fs.mkdirSync(path.join(tmp, "logs"));
        fs.writeFileSync(path.join(tmp, "bin", "init-upddistr"), STANDIN, { mode: 0o755 });
    });
    afterEach(function () {
        const sleeper = path.join(tmp, "sleeper");
        if (fs.existsSync(sleeper)) {
            try {
                process.kill(Number(fs.readFileSync(sleeper, "utf8")), "SIGKILL");
            } catch {
                /* already gone */
            }
        }
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const logPath = () => path.join(tmp, "logs", "UPDDISTR.LOG");
    const resultPath = () => path.join(tmp, "logs", "result.json");

    function env(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
        const e: NodeJS.ProcessEnv = {
            PATH: `${path.join(tmp, "bin")}:/usr/bin:/bin`,
            STANDIN_DIR: tmp,
            STANDIN_LOG: logPath(),
            STANDIN_RESULT_FILE: resultPath(),
            UPDDISTR_LOG: logPath(),
            UPDDISTR_RESULT: resultPath(),
        };
        for (const [k, v] of Object.entries(extra)) {
            if (v === undefined) delete e[k];
            else e[k] = v;
        }
        return e;
    }
    const wrapper = (extra: Record<string, string | undefined> = {}, args: string[] = []) => run("/bin/sh", [WRAPPER, ...args], { env: env(extra) });

    /** the lines printed between the wrapper's log markers */
    function printedLog(r: RunResult): string[] {
        const lines = r.stdout.split("\n");
        const start = lines.findIndex((l) => /^----- upddistr: last \d+ lines of .*UPDDISTR\.LOG -----$/.test(l));
        const end = lines.findIndex((l) => /^----- upddistr: end of .*UPDDISTR\.LOG -----$/.test(l));
        assert.ok(start >= 0 && end > start, `log markers in:\n${r.stdout}`);
        return lines.slice(start + 1, end);
    }
    const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `UPDDISTR line ${from + i}`);

    it("success: exit 0, the log and result.json on stdout", async function () {
        const result = '{"status": "ok", "tables": 1234}';
        const r = await wrapper({ STANDIN_LINES: "3", STANDIN_RESULT: result });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(printedLog(r), numbered(1, 3));
        const lines = r.stdout.split("\n");
        const rs = lines.indexOf(`----- upddistr: ${resultPath()} -----`);
        assert.ok(rs >= 0, r.stdout);
        assert.deepEqual(lines.slice(rs + 1, rs + 3), [result, `----- upddistr: end of ${resultPath()} -----`]);
        assert.match(r.stdout, /upddistr: init-upddistr finished successfully$/m);
        assert.equal(r.stderr, "");
    });

    for (const code of [1, 3, 42, 255]) {
        it(`failure: UPDDISTR's exit code ${code} is the wrapper's, and the log is still printed`, async function () {
            const r = await wrapper({ STANDIN_LINES: "2", STANDIN_EXIT: String(code), STANDIN_RESULT: '{"status": "error"}' });
            assert.equal(r.status, code);
            assert.deepEqual(printedLog(r), numbered(1, 2));
            assert.match(r.stdout, /^\{"status": "error"\}$/m);
            assert.equal(r.stderr.trim(), `upddistr: init-upddistr failed with exit code ${code}`);
        });
    }

    it("keeps the same report under the Job's name next to the log, so deleting the Job loses nothing", async function () {
        const r = await wrapper({
            STANDIN_LINES: "3",
            STANDIN_EXIT: "5",
            STANDIN_RESULT: '{"status": "error"}',
            UPDDISTR_JOB: "protheus-updater-29871234",
            BACKUP_NAMESPACE: "c2a7dv",
        });
        assert.equal(r.status, 5);
        const kept = fs.readFileSync(path.join(tmp, "logs", "protheus-updater-29871234.log"), "utf8");
        assert.equal(kept, r.stdout.slice(r.stdout.indexOf("----- upddistr: last")));
        assert.match(kept, /^\{"status": "error"\}$/m);
        const outcome = JSON.parse(kept.trimEnd().split("\n").pop()!);
        assert.equal(outcome.status, "failed");
        assert.equal(outcome.environment, "c2a7dv");
        assert.deepEqual(fs.readdirSync(path.join(tmp, "logs")).sort(), ["UPDDISTR.LOG", "protheus-updater-29871234.log", "result.json"]);
        assert.match(r.stderr, /report kept in .*protheus-updater-29871234\.log/);
    });

    it("keeps no report under a name that is not a Job's", async function () {
        const r = await wrapper({ STANDIN_LINES: "1", UPDDISTR_JOB: "../escape" });
        assert.equal(r.status, 0);
        assert.match(r.stderr, /UPDDISTR_JOB is not a Job name/);
        assert.deepEqual(fs.readdirSync(path.join(tmp, "logs")).sort(), ["UPDDISTR.LOG"]);
    });

    it("the log is bounded to the last UPDDISTR_LOG_LINES lines (default 500)", async function () {
        const bounded = await wrapper({ STANDIN_LINES: "1200", UPDDISTR_LOG_LINES: "7" });
        assert.equal(bounded.status, 0, bounded.stderr);
        assert.deepEqual(printedLog(bounded), numbered(1194, 1200));
        const byDefault = await wrapper({ STANDIN_LINES: "1200" });
        assert.deepEqual(printedLog(byDefault), numbered(701, 1200));
        const shorter = await wrapper({ STANDIN_LINES: "4", UPDDISTR_LOG_LINES: "100000" });
        assert.deepEqual(printedLog(shorter), numbered(1, 4));
    });

    it("a log without a final newline does not swallow the end marker", async function () {
        const r = await wrapper({ STANDIN_LINES: "2", STANDIN_LOG_TAIL: "ERROR: no final newline" });
        assert.deepEqual(printedLog(r), [...numbered(1, 2), "ERROR: no final newline"]);
    });

    it("result.json without a final newline is printed whole, the end marker on its own line", async function () {
        fs.writeFileSync(path.join(tmp, "bin", "init-upddistr"), `#!/bin/sh\nprintf '{"status":"error"}' > "$UPDDISTR_RESULT"\nexit 9\n`, { mode: 0o755 });
        const r = await wrapper();
        assert.equal(r.status, 9);
        assert.match(
            r.stdout,
            new RegExp(`^----- upddistr: ${resultPath()} -----\n\\{"status":"error"\\}\n----- upddistr: end of ${resultPath()} -----$`, "m"),
        );
    });

    it("no log and no result.json: says so, keeps the exit code", async function () {
        const r = await wrapper({ STANDIN_LOG: undefined, STANDIN_EXIT: "5" });
        assert.equal(r.status, 5);
        assert.match(r.stdout, new RegExp(`^upddistr: ${logPath()} does not exist \\(UPDDISTR wrote no log\\)$`, "m"));
        assert.doesNotMatch(r.stdout, /result\.json -----/);
        assert.equal(r.stderr.trim(), "upddistr: init-upddistr failed with exit code 5");
    });

    it("UPDDISTR_COMMAND with arguments replaces init-upddistr", async function () {
        const r = await wrapper({ UPDDISTR_COMMAND: `${path.join(tmp, "bin", "init-upddistr")} --only SA1 --x`, STANDIN_LINES: "1" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(tmp, "args"), "utf8"), "--only SA1 --x\n");
    });

    it("a command that does not exist: exit 127, the log section still printed", async function () {
        const r = await wrapper({ UPDDISTR_COMMAND: path.join(tmp, "bin", "no-such-command") });
        assert.equal(r.status, 127);
        assert.match(r.stdout, /does not exist \(UPDDISTR wrote no log\)/);
        assert.match(r.stderr, /upddistr: .*no-such-command failed with exit code 127$/m);
    });

    for (const bad of ["abc", "0", "100001", "-5", "5x", " 5", "1e3"]) {
        it(`UPDDISTR_LOG_LINES=${JSON.stringify(bad)}: exit 2 with a one-line reason, UPDDISTR not run`, async function () {
            const r = await wrapper({ UPDDISTR_LOG_LINES: bad, STANDIN_LINES: "1" });
            assert.equal(r.status, 2);
            assert.equal(r.stderr, `upddistr: UPDDISTR_LOG_LINES must be a whole number from 1 to 100000: ${bad}\n`);
            assert.equal(fs.existsSync(path.join(tmp, "args")), false, "the command did not run");
        });
    }

    it("--help prints the variables; an unknown argument is exit 2", async function () {
        const help = await wrapper({}, ["--help"]);
        assert.equal(help.status, 0);
        for (const v of ["UPDDISTR_COMMAND", "UPDDISTR_LOG", "UPDDISTR_RESULT", "UPDDISTR_LOG_LINES", "Exit codes"]) assert.match(help.stdout, new RegExp(v));
        const bad = await wrapper({}, ["--bogus"]);
        assert.equal(bad.status, 2);
        assert.equal(bad.stderr, "upddistr: unknown argument: --bogus (try --help)\n");
        assert.equal(fs.existsSync(path.join(tmp, "args")), false);
    });

    /** starts the wrapper, waits until the stand-in runs, sends SIGTERM to the wrapper only */
    async function terminated(extra: Record<string, string>): Promise<RunResult> {
        let pid = 0;
        const running = run("/bin/sh", [WRAPPER], { env: env({ STANDIN_WAIT: "1", STANDIN_LINES: "3", ...extra }), onSpawn: (c) => (pid = c.pid ?? 0) });
        const started = path.join(tmp, "started");
        for (const deadline = Date.now() + 30_000; !fs.existsSync(started) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
        assert.ok(fs.existsSync(started), "the stand-in started");
        process.kill(pid, "SIGTERM");
        return running;
    }

    it("SIGTERM (pod deletion) is passed to UPDDISTR; the wrapper exits with its code and prints the log", async function () {
        const r = await terminated({ STANDIN_TERM_EXIT: "42" });
        assert.equal(fs.readFileSync(path.join(tmp, "signal"), "utf8"), "TERM\n", "the child saw TERM");
        assert.equal(r.signal, null);
        assert.equal(r.status, 42);
        assert.deepEqual(printedLog(r), numbered(1, 3));
        assert.equal(r.stderr.trim(), "upddistr: init-upddistr failed with exit code 42");
    });

    it("SIGTERM to a child that does not handle it: the child dies of it, the wrapper exits 143", async function () {
        const r = await terminated({});
        assert.equal(r.status, 143);
        const pid = Number(fs.readFileSync(path.join(tmp, "started"), "utf8"));
        assert.throws(() => process.kill(pid, 0), /ESRCH/, "the child is gone");
        assert.deepEqual(printedLog(r), numbered(1, 3));
    });
});

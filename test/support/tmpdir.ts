// Loaded by mocha before any test file (.mocharc.json `require`): every temporary file of the
// run, the tests' own and those of the scripts they start (TMPDIR is inherited; a script killed
// with SIGKILL cannot remove its own), goes under one directory that is removed when the run
// ends, so `npm test` leaves nothing behind in /tmp.
//
// In parallel mode mocha loads this file in its main process first, then forks the workers,
// which inherit the directory through the environment: only the main process creates the
// directory and removes it, after every worker has ended.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const RUN_DIR = "PROTHEUS_TEST_TMPDIR";

const inherited = process.env[RUN_DIR];
if (inherited && fs.existsSync(inherited)) {
    process.env.TMPDIR = inherited;
} else {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-test-"));
    // Readable by the `postgres` OS user the throwaway servers run as (their own dirs stay 0700).
    fs.chmodSync(root, 0o755);
    process.env[RUN_DIR] = root;
    process.env.TMPDIR = root;
    process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
}

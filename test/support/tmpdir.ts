// Loaded by mocha before any test file (.mocharc.json `require`): every temporary file of the
// run, the tests' own and those of the scripts they start (TMPDIR is inherited; a script killed
// with SIGKILL cannot remove its own), goes under one directory that is removed when the
// process exits, so `npm test` leaves nothing behind in /tmp.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-test-"));
// Readable by the `postgres` OS user the throwaway servers run as (their own dirs stay 0700).
fs.chmodSync(root, 0o755);
process.env.TMPDIR = root;
process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));

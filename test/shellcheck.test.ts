// npm test runs shellcheck on every shell script (test/shellcheck.sh). An exception is a
// `# shellcheck disable=SCxxxx # reason` directive: one without its reason fails the check.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../lib/stackFiles";

/** Runs test/shellcheck.sh on one script with the given body. */
function shellcheck(body: string): { status: number | null; output: string; file: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
    const file = path.join(dir, "script.sh");
    fs.writeFileSync(file, `#!/usr/bin/env bash\n${body}`);
    const run = spawnSync("bash", [path.join(REPO_ROOT, "test", "shellcheck.sh"), file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: run.status, output: run.stdout + run.stderr, file };
}

describe("shellcheck (test/shellcheck.sh)", () => {
    it("fails on a finding", () => {
        const run = shellcheck("echo $1\n");
        assert.equal(run.status, 1, run.output);
        assert.match(run.output, /SC2086/);
    });

    it("takes an exception that says why", () => {
        const run = shellcheck("# shellcheck disable=SC2086 # the argument is a list of words\necho $1\n");
        assert.equal(run.status, 0, run.output);
    });

    it("fails on an exception without its reason, naming the file and line", () => {
        const run = shellcheck("# shellcheck disable=SC2086\necho $1\n");
        assert.equal(run.status, 1, run.output);
        assert.ok(run.output.includes(`${run.file}:2:# shellcheck disable=SC2086\n`), run.output);
        assert.match(run.output, /disable directive without its reason/);
    });
});

// npm test (test/run.sh) names its test files by one glob per directory: a test file put in
// another directory would never run, and nothing would say so.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../lib/stackFiles";

describe("npm test", () => {
    it("runs every test file of the repository", () => {
        const runner = fs.readFileSync(path.join(REPO_ROOT, "test", "run.sh"), "utf8");
        const mochaLine = runner.split("\n").find((l) => /^mocha /.test(l));
        assert.ok(mochaLine, "test/run.sh has a line starting with `mocha`");
        const dirs = [...mochaLine.matchAll(/"([^"*]+)\/\*\.test\.ts"/g)].map((m) => m[1]);
        assert.ok(dirs.length > 0, mochaLine);
        const testFiles = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.test.ts"], { cwd: REPO_ROOT, encoding: "utf8" })
            .split("\n")
            .filter((f) => f !== "" && fs.existsSync(path.join(REPO_ROOT, f)));
        assert.ok(testFiles.length > 20, testFiles.join(", "));
        assert.deepEqual(
            testFiles.filter((f) => !dirs.includes(path.dirname(f))),
            [],
            `test files that npm test does not run (its globs: ${dirs.join(", ")})`,
        );
    });
});

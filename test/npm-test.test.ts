// npm test (test/run.sh) names its test files by one glob per directory: a test file put in
// another directory would never run, and nothing would say so. npm run test:unit runs the same
// script without the directories of the tests that start servers.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../lib/stackFiles";

/** Every test file of the repository, committed or not. */
function testFiles(): string[] {
    return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.test.ts"], { cwd: REPO_ROOT, encoding: "utf8" })
        .split("\n")
        .filter((f) => f !== "" && fs.existsSync(path.join(REPO_ROOT, f)))
        .sort();
}

/** The test files the npm script `script` gives mocha: test/run.sh run with stand-ins for mocha (which prints its arguments) and npm. */
function filesOf(script: string): string[] {
    const command = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts[script];
    const [shell, runner, ...args] = command.split(" ");
    assert.deepEqual([shell, runner], ["bash", "test/run.sh"], `npm run ${script}: ${command}`);
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "npm-test-"));
    try {
        fs.writeFileSync(path.join(bin, "mocha"), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "npm"), "#!/bin/sh\n", { mode: 0o755 });
        const r = spawnSync("bash", [runner, ...args], { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        assert.equal(r.status, 0, r.stderr);
        // mocha expands the globs (quoted in run.sh) itself: `dir/*.test.ts` is every test file of dir
        return r.stdout
            .split("\n")
            .filter((a) => a !== "" && !a.startsWith("-") && !/^\d+$/.test(a))
            .flatMap((glob) => {
                const m = /^([^*]+)\/\*\.test\.ts$/.exec(glob);
                assert.ok(m, `a glob of one directory's test files: ${glob}`);
                const dir = path.join(REPO_ROOT, m[1]);
                return fs.existsSync(dir)
                    ? fs
                          .readdirSync(dir)
                          .filter((f) => f.endsWith(".test.ts"))
                          .map((f) => `${m[1]}/${f}`)
                    : [];
            });
    } finally {
        fs.rmSync(bin, { recursive: true, force: true });
    }
}

/** The directories of the tests that start servers: a real PostgreSQL and gcloud (test/scripts), a registry (test/registry). */
const SERVER_TESTS = ["test/scripts", "test/registry"];

describe("npm test", () => {
    it("runs every test file of the repository, once", () => {
        const files = testFiles();
        assert.ok(files.length > 20, files.join(", "));
        assert.deepEqual(filesOf("test").sort(), files);
    });

    it("npm run test:unit runs every test file but those that start servers, once", () => {
        const files = testFiles();
        const unit = files.filter((f) => !SERVER_TESTS.includes(path.dirname(f)));
        assert.ok(unit.length > 20 && unit.length < files.length, unit.join(", "));
        assert.deepEqual(filesOf("test:unit").sort(), unit);
    });

    it("the tests that start a PostgreSQL server, gcloud or a registry are in those directories", () => {
        for (const f of testFiles().filter((f) => !SERVER_TESTS.includes(path.dirname(f)))) {
            const text = fs.readFileSync(path.join(REPO_ROOT, f), "utf8");
            assert.doesNotMatch(
                text,
                /\b(startPostgres|useScriptFixture|startRegistry|startGcloudFixture)\(/,
                `${f} starts a server: it belongs in ${SERVER_TESTS.join(" or ")}`,
            );
        }
    });
});

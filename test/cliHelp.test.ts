// Every command in bin/ and bench/ answers --help with its usage on stdout and exit 0, before it
// reads or starts anything else. One process per command, stacks's through npm: for the commands whose
// tests run their main in process (test/support/commandMain.ts) it is their one run as a process, so
// it covers how the file, run as its npm script, hands its arguments to main and ends with main's code.
// The parser's rules are tested in process, test/commandLine.test.ts. Each command of bin/ is the npm
// script of its name.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CommandIo, runAsProcess } from "../lib/commandLine";
import { REPO_ROOT } from "../lib/stackFiles";
import { tsNodeCommand } from "../lib/tsNode";

/** The npm script whose command's --help runs through npm itself; the other commands' run without npm. */
const THROUGH_NPM = "stacks";

describe("bin/*.ts and bench/*.ts --help", () => {
    const commands = [
        ...fs
            .readdirSync(path.join(REPO_ROOT, "bin"))
            .filter((f) => f.endsWith(".ts"))
            .map((f) => path.join("bin", f)),
        // The benchmarks (bench/protheus-db.ts is their database, not a command).
        path.join("bench", "backup.ts"),
        path.join("bench", "fleet.ts"),
    ];

    it("covers every command", () => assert.ok(commands.length >= 8, commands.join(", ")));

    it("each is the npm script of its name, which passes the arguments after --", () => {
        const scripts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        for (const command of commands.filter((c) => c.startsWith("bin/"))) assert.equal(scripts[path.basename(command, ".ts")], `ts-node --swc ${command}`);
        // the other tests run a script's command without npm (test/support/npmScript.ts): this one runs npm
        const r = spawnSync("npm", ["run", "--silent", THROUGH_NPM, "--", "--help"], { cwd: REPO_ROOT, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^usage: npm run --silent ${THROUGH_NPM} -- `));
        assert.equal(r.stderr, "");
    });

    for (const command of commands.filter((c) => c !== path.join("bin", `${THROUGH_NPM}.ts`))) {
        it(`${command} prints its usage and exits 0`, () => {
            const [node, args] = tsNodeCommand(command, ["--help"]);
            const r = spawnSync(node, args, { cwd: REPO_ROOT, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /^usage: npm run/);
            assert.equal(r.stderr, "");
        });
    }

    // --help exits 0 whatever the wiring does with main's code: the code a refusal or a failure resolves
    // to becomes the process's exit code through runAsProcess, checked here with a stand-in main.
    it("runAsProcess gives main this process's arguments, streams and environment, and makes its code the exit code", async () => {
        const argv = process.argv;
        const exitCode = process.exitCode;
        const given: { argv: string[]; io: CommandIo }[] = [];
        process.argv = [argv[0], "bin/x.ts", "--stacks", "a b"];
        try {
            runAsProcess(async (a, io) => {
                given.push({ argv: a, io });
                return 3;
            });
            // The code is set when main's promise settles.
            await new Promise((resolve) => setImmediate(resolve));
            assert.equal(process.exitCode, 3);
        } finally {
            process.argv = argv;
            process.exitCode = exitCode;
        }
        assert.equal(given.length, 1);
        assert.deepEqual(given[0].argv, ["--stacks", "a b"]);
        const { io } = given[0];
        assert.ok(io.stdout === process.stdout && io.stderr === process.stderr && io.env === process.env);
    });
});

// Every command in bin/ and bench/ answers --help with its usage on stdout and exit 0, before it
// reads or starts anything else (one process per command; the parser's rules are tested in process,
// test/commandLine.test.ts). Each command of bin/ is the npm script of its name.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../lib/stackFiles";
import { tsNodeCommand } from "../lib/tsNode";

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
        const r = spawnSync("npm", ["run", "--silent", "stacks", "--", "--help"], { cwd: REPO_ROOT, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^usage: npm run --silent stacks -- /);
    });

    for (const command of commands) {
        it(`${command} prints its usage and exits 0`, () => {
            const [node, args] = tsNodeCommand(command, ["--help"]);
            const r = spawnSync(node, args, { cwd: REPO_ROOT, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /^usage: npm run/);
            assert.equal(r.stderr, "");
        });
    }
});

// Which trees plan renders in its own process: those holding this process's program (every file but
// the stack files byte for byte, the same node_modules). Anything else is rendered by the tree's own
// plan in a child process.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeTree } from "../lib/git";
import { runsThisProgram } from "../lib/programTree";
import { REPO_ROOT } from "../lib/stackFiles";
import { FleetRepo, programRepo } from "./support/fleetRepo";

describe("lib/programTree.ts: a tree that runs this process's program", () => {
    let repo: FleetRepo;
    before(() => (repo = programRepo()));
    after(() => repo.remove());
    afterEach(() => {
        repo.git("checkout", "-q", "--", ".");
        repo.git("clean", "-qfd");
    });

    it("is this repository, and a copy of it whose stack files are edited, added or removed", () => {
        assert.equal(runsThisProgram(REPO_ROOT), true);
        assert.equal(runsThisProgram(repo.dir), true);
        repo.setVersion("c2a7dv-hml", "12.1.2999");
        repo.write("Pulumi.qa01-hml.yaml", "config: {}\n");
        fs.rmSync(path.join(repo.dir, "Pulumi.c2a7dv-prod.yaml"));
        assert.equal(runsThisProgram(repo.dir), true);
    });

    it("is a commit's tree written out with this repository's node_modules, as the plan diff writes the ref", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "program-tree-"));
        try {
            const dir = writeTree(repo.git("rev-parse", "HEAD").trim(), repo.dir, tmp);
            assert.equal(runsThisProgram(dir), true);
            fs.appendFileSync(path.join(dir, "Pulumi.yaml"), "# edited\n");
            assert.equal(runsThisProgram(dir), false, "Pulumi.yaml is not a stack file");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("is not a copy with any other file edited, added (not ignored) or removed", () => {
        const cases: [string, () => void][] = [
            ["an edited component", () => fs.appendFileSync(path.join(repo.dir, "components", "backup", "scripts.ts"), "\n")],
            ["an edited config/", () => fs.appendFileSync(path.join(repo.dir, "config", "schema.ts"), "\n")],
            ["an edited asset the program reads", () => fs.appendFileSync(path.join(repo.dir, "scripts", "backup.sh"), "# x\n")],
            ["a new file beside the scripts", () => repo.write("scripts/extra.sh", "echo\n")],
            ["a removed file", () => fs.rmSync(path.join(repo.dir, "index.ts"))],
            ["a new file anywhere", () => repo.write("docs/new.md", "x\n")],
        ];
        for (const [what, change] of cases) {
            change();
            assert.equal(runsThisProgram(repo.dir), false, what);
            repo.git("checkout", "-q", "--", ".");
            repo.git("clean", "-qfd");
            assert.equal(runsThisProgram(repo.dir), true, `after undoing ${what}`);
        }
        // An ignored file is not part of the tree, as for git.
        repo.write("tmp/scratch.txt", "x\n");
        assert.equal(runsThisProgram(repo.dir), true, "an ignored file");
    });

    it("is not a copy with its own node_modules, nor a directory that is not there", () => {
        const link = path.join(repo.dir, "node_modules");
        fs.rmSync(link);
        fs.mkdirSync(link);
        try {
            assert.equal(runsThisProgram(repo.dir), false);
        } finally {
            fs.rmSync(link, { recursive: true });
            fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), link, "dir");
        }
        assert.equal(runsThisProgram(path.join(repo.dir, "no-such-dir")), false);
    });
});

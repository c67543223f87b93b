// Every stack in one process: `plan --all [--json]`, and the plan diff of many stacks. plan runs in
// this process (its main, on a scratch copy of the repository); one run is the command's own process.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { renderAll } from "../lib/renderAll";
import { REPO_ROOT } from "../lib/stackFiles";
import { tsNodeCommand } from "../lib/tsNode";
import { programRepo, FleetRepo } from "./support/fleetRepo";
import { planHere } from "./support/planHere";

describe("plan --all and the plan diff of many stacks", function () {
    let repo: FleetRepo;
    const plan = (...args: string[]) => planHere(args, repo.dir);
    const planProcess = (...args: string[]) =>
        spawnSync(...tsNodeCommand("bin/plan.ts", args, repo.dir), { cwd: repo.dir, encoding: "utf8", maxBuffer: 1 << 28 });
    before(() => (repo = programRepo()));
    after(() => repo.remove());
    afterEach(() => repo.git("checkout", "-q", "--", "."));

    it("renders every stack of the repository in one process, keeping an error per stack", async () => {
        const plans = await renderAll(["c2a7dv-hml", "c2a7dv-prod"]);
        assert.deepEqual(
            plans.map((p) => p.stack),
            ["c2a7dv-hml", "c2a7dv-prod"],
        );
        for (const p of plans) assert.ok("resources" in p && p.resources.some((r) => r.type === "kubernetes:helm.sh/v3:Release"));
        const [bad] = await renderAll(["c2a7dv-hml"], path.join(REPO_ROOT, "no-such-dir"));
        assert.ok("error" in bad && /no stack file/.test(bad.error));
    });

    it("splits a fleet over worker threads of the same process, with the same result in the same order", async () => {
        const stacks = ["c2a7dv-hml", "c2a7dv-prod", "c2a7dv-hml"];
        const threaded = await renderAll(stacks, REPO_ROOT, 2);
        const sequential = await renderAll(stacks, REPO_ROOT, 1);
        assert.deepEqual(
            threaded.map((p) => p.stack),
            stacks,
        );
        assert.deepEqual(threaded, sequential);
    });

    it("answers --help and refuses a bad command line in this process as its command does: one line, exit 2", async () => {
        const help = await plan("--help");
        assert.equal(help.status, 0);
        assert.match(help.stdout, /^usage: npm run plan -- /);
        assert.deepEqual(await plan("--all", "--stacks", "c2a7dv-hml"), {
            status: 2,
            stdout: "",
            stderr: "plan: --all and --stacks exclude each other (try --help)\n",
        });
        assert.deepEqual(await plan("--stack"), { status: 2, stdout: "", stderr: "plan: --stack needs a stack name (try --help)\n" });
    });

    it("--all --json prints one array with every stack's resources", async () => {
        const r = await plan("--all", "--json");
        assert.equal(r.status, 0, r.stderr);
        const parsed = JSON.parse(r.stdout);
        assert.deepEqual(
            parsed.map((p: { stack: string }) => p.stack),
            ["c2a7dv-hml", "c2a7dv-prod"],
        );
    });

    it("diffs every stack against a ref: a summary table on top, each stack's diff folded, exit 1 on changes", async () => {
        repo.setVersion("c2a7dv-hml", "12.1.2610");
        const r = await plan("--all", "--diff", "HEAD", "--markdown");
        assert.equal(r.status, 1, r.stderr);
        const lines = r.stdout.split("\n");
        assert.equal(lines[0], "<!-- protheus-offline-plan -->");
        assert.match(
            r.stdout,
            /\| stack \| plan \|\n\| --- \| --- \|\n\| `c2a7dv-hml` \| \d+ to change, \d+ to add, 0 to remove \|\n\| `c2a7dv-prod` \| no changes \|\n/,
        );
        assert.match(r.stdout, /<details open><summary><b>c2a7dv-hml<\/b>: \d+ to change/);
        assert.match(r.stdout, /<details><summary><b>c2a7dv-prod<\/b>: no changes<\/summary>/);
        const j = await plan("--stacks", "c2a7dv-hml,c2a7dv-prod", "--diff", "HEAD", "--json");
        assert.equal(j.status, 1);
        assert.deepEqual(
            JSON.parse(j.stdout).map((d: { stack: string; changed: boolean }) => [d.stack, d.changed]),
            [
                ["c2a7dv-hml", true],
                ["c2a7dv-prod", false],
            ],
        );
    });

    it("exits 2 naming the stack whose plan fails (the command's own process), and 0 with nothing to diff", async () => {
        repo.setVersion("c2a7dv-prod", "not-a-version");
        const r = planProcess("--all", "--diff", "HEAD");
        assert.equal(r.status, 2);
        assert.match(r.stderr, /^Stack c2a7dv-prod: plan diff: working tree: the plan failed/m);
        const none = await plan("--stacks", "", "--diff", "HEAD", "--markdown");
        assert.equal(none.status, 0, none.stderr);
        assert.match(none.stdout, /No stack is affected by this change/);
    });
});

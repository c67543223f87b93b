// The workflows find the stacks in the Pulumi.<environment>-<stage>.yaml files
// (through npm run stacks), never by name; the rollout is hml before prod.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { githubOutput, selectChanged } from "../bin/stacks";
import { listFleet, listStackNames } from "../lib/fleet";
import { REPO_ROOT } from "../lib/stackFiles";
import { fleetRepo, FleetRepo } from "./support/fleetRepo";

const read = (f: string) => fs.readFileSync(path.join(REPO_ROOT, f), "utf8");
const WORKFLOWS = [".github/workflows/pr.yml", ".github/workflows/deploy.yml", ".github/actions/pulumi/action.yml"];

describe("workflows read the stack names from the stack files", () => {
    it("name no stack, environment or stage-named stack anywhere", () => {
        for (const f of WORKFLOWS) {
            const text = read(f);
            for (const name of [...listStackNames(REPO_ROOT), ...listFleet(REPO_ROOT).map((s) => s.environment)])
                assert.ok(!text.includes(name), `${f} names ${name}`);
            assert.doesNotMatch(text, /stack-name: *(hml|prod)\b|stack: *\[|format\('\{0\}\/(hml|prod)'/, f);
        }
    });

    it("deploy: matrices from npm run stacks, hml before prod, prod protected, width set once, one concurrency group per stack", () => {
        const wf = parse(read(".github/workflows/deploy.yml"));
        const discover = wf.jobs.discover;
        const run = discover.steps.find((s: { id?: string }) => s.id === "stacks").run as string;
        assert.match(run, /npm run --silent stacks -- --changed-since "\$BEFORE" --github-output "\$GITHUB_OUTPUT"/);
        assert.match(run, /npm run --silent stacks -- --github-output "\$GITHUB_OUTPUT"/);
        assert.equal(discover.env.MAX_PARALLEL, "${{ vars.DEPLOY_MAX_PARALLEL || '4' }}");
        assert.equal((read(".github/workflows/deploy.yml").match(/DEPLOY_MAX_PARALLEL/g) ?? []).length, 1);
        for (const stage of ["hml", "prod"]) {
            const job = wf.jobs[stage];
            assert.equal(job.strategy.matrix.include, `\${{ fromJSON(needs.discover.outputs.${stage}) }}`);
            assert.equal(job.strategy["max-parallel"], "${{ fromJSON(needs.discover.outputs.max_parallel) }}");
            assert.equal(job.concurrency.group, "pulumi-up-${{ matrix.stack }}");
            assert.equal(job.concurrency["cancel-in-progress"], false);
            assert.equal(job.environment, stage);
            assert.equal(job.steps.find((s: { uses?: string }) => s.uses === "./.github/actions/pulumi").with.stack, "${{ matrix.stack }}");
        }
        assert.deepEqual(wf.jobs.prod.needs, ["discover", "hml"]);
    });

    it("pull request: the plan diff and the preview cover the stacks npm run stacks selects; the review rule runs", () => {
        const wf = parse(read(".github/workflows/pr.yml"));
        const steps = wf.jobs.test.steps as { id?: string; run?: string; env?: Record<string, string> }[];
        assert.match(
            steps.find((s) => s.id === "stacks")!.run!,
            /npm run --silent stacks -- --changed-since "origin\/\$BASE_REF" --github-output "\$GITHUB_OUTPUT"/,
        );
        const plan = steps.find((s) => s.id === "plan")!;
        assert.equal(plan.env!.STACKS, "${{ steps.stacks.outputs.stacks }}");
        assert.match(plan.run!, /npm run --silent plan -- --stacks "\$STACKS" --diff "origin\/\$BASE_REF" --markdown/);
        assert.ok(steps.some((s) => /npm run --silent review -- --base "origin\/\$BASE_REF"/.test(s.run ?? "")));
        assert.equal(wf.jobs.preview.strategy.matrix.stack, "${{ fromJSON(needs.test.outputs.names) }}");
    });
});

describe("npm run stacks: which stacks a change touches", () => {
    const fleet = listFleet(REPO_ROOT);

    it("selects every stack, hml first, when the program or Pulumi.yaml changes", () => {
        for (const f of ["index.ts", "components/UpdaterCronJob.ts", "Pulumi.yaml", "package-lock.json", "scripts/backup.sh", "config/schema.ts"]) {
            const sel = selectChanged([f], fleet);
            assert.equal(sel.all, true, f);
            assert.deepEqual(
                sel.stacks.map((s) => s.name),
                ["c2a7dv-hml", "c2a7dv-prod"],
                f,
            );
        }
    });

    it("selects a stack whose file changed, and none for docs or tests", () => {
        assert.deepEqual(
            selectChanged(["Pulumi.c2a7dv-prod.yaml", "README.md"], fleet).stacks.map((s) => s.name),
            ["c2a7dv-prod"],
        );
        assert.deepEqual(selectChanged(["README.md", "docs/ci.md", "test/x.test.ts", "Pulumi.gone-hml.yaml"], fleet).stacks, []);
        assert.equal(githubOutput(selectChanged([], fleet)), "stacks=\nnames=[]\nhml=[]\nprod=[]\ncount=0\n");
    });

    describe("in a repository", () => {
        let repo: FleetRepo;
        beforeEach(() => (repo = fleetRepo()));
        afterEach(() => repo.remove());
        const stacks = (...args: string[]) =>
            spawnSync("npm", ["run", "--silent", "stacks", "--", "--repo", repo.dir, ...args], { cwd: REPO_ROOT, encoding: "utf8" });

        it("finds a stack added as a file, with nothing else to change", () => {
            repo.git("checkout", "-q", "-b", "feature");
            repo.write("Pulumi.x9k2pq-hml.yaml", "config:\n  protheus:stage: hml\n");
            repo.commit("x9k2pq");
            const out = path.join(repo.dir, "github-output");
            const res = stacks("--changed-since", "main", "--github-output", out);
            assert.equal(res.status, 0, res.stderr);
            assert.equal(res.stdout, "x9k2pq-hml\n");
            assert.equal(
                fs.readFileSync(out, "utf8"),
                'stacks=x9k2pq-hml\nnames=["x9k2pq-hml"]\nhml=[{"stack":"x9k2pq-hml","environment":"x9k2pq","stage":"hml"}]\nprod=[]\ncount=1\n',
            );
            assert.equal(stacks().stdout, "c2a7dv-hml\nx9k2pq-hml\nc2a7dv-prod\n");
        });

        it("exits 2 on a misnamed stack file or a bad ref", () => {
            assert.equal(stacks("--changed-since", "nope").status, 2);
            repo.write("Pulumi.staging.yaml", "config: {}\n");
            const res = stacks();
            assert.equal(res.status, 2);
            assert.match(res.stderr, /^stacks: stack files not named Pulumi\.<environment>-<stage>\.yaml: Pulumi\.staging\.yaml$/m);
        });
    });
});

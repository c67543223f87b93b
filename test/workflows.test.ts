// The workflows find the stacks in the Pulumi.<environment>-<stage>.yaml files
// (through npm run stacks), never by name; the rollout is hml before prod.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { githubOutput, main, selectChanged } from "../bin/stacks";
import { listFleet, listStackNames, STAGES } from "../lib/fleet";
import { DEPLOY_JOB_TIMEOUT_MINUTES, waveKey, WAVES } from "../lib/rollout";
import { REPO_ROOT } from "../lib/stackFiles";
import { fleetRepo, FleetRepo } from "./support/fleetRepo";
import { runMain } from "./support/commandMain";

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

    it("deploy: a job per stage and wave, each a matrix of batches from npm run stacks; widths set once; one deploy run at a time", () => {
        const wf = parse(read(".github/workflows/deploy.yml"));
        const discover = wf.jobs.discover;
        const run = discover.steps.find((s: { id?: string }) => s.id === "stacks").run as string;
        assert.match(
            run,
            /npm run --silent stacks -- "\$@" --batch-size "\$BATCH_SIZE" --rollout-plan "\$RUNNER_TEMP\/rollout\/plan\.json" --github-output "\$GITHUB_OUTPUT"/,
        );
        assert.match(run, /set -- --changed-since "\$SINCE"/);
        assert.equal(discover.env.MAX_PARALLEL, "${{ vars.DEPLOY_MAX_PARALLEL || '4' }}");
        assert.equal(discover.env.BATCH_SIZE, "${{ vars.DEPLOY_BATCH_SIZE || '10' }}");
        for (const variable of ["DEPLOY_MAX_PARALLEL", "DEPLOY_BATCH_SIZE"])
            assert.equal((read(".github/workflows/deploy.yml").match(new RegExp(variable, "g")) ?? []).length, 1, variable);
        // Two runs never update a stack together: one deploy run at a time, a running one never cancelled.
        assert.deepEqual(wf.concurrency, { group: "deploy-${{ github.ref }}", "cancel-in-progress": false });
        const waveJobs = STAGES.flatMap((stage) => WAVES.map((wave) => [stage, wave, waveKey(stage, wave)] as const));
        assert.deepEqual(Object.keys(wf.jobs).sort(), ["discover", "report", ...waveJobs.map(([, , key]) => key)].sort());
        const steps = JSON.stringify(wf.jobs.hml_1.steps);
        for (const [stage, , key] of waveJobs) {
            const job = wf.jobs[key];
            assert.equal(discover.outputs[key], `\${{ steps.stacks.outputs.${key} }}`);
            assert.equal(job.strategy.matrix.include, `\${{ fromJSON(needs.discover.outputs.${key}) }}`);
            assert.equal(job.strategy["max-parallel"], "${{ fromJSON(needs.discover.outputs.max_parallel) }}");
            assert.equal(job.strategy["fail-fast"], false);
            assert.equal(job.environment, stage);
            assert.equal(job["timeout-minutes"], DEPLOY_JOB_TIMEOUT_MINUTES);
            assert.equal(JSON.stringify(job.steps), steps, key);
            assert.match(job.if, /^\$\{\{ !cancelled\(\) && /, key);
        }
        const action = wf.jobs.prod_3.steps.find((s: { uses?: string }) => s.uses === "./.github/actions/pulumi");
        assert.equal(action.with.stacks, "${{ matrix.stacks }}");
        const batch = wf.jobs.prod_3.steps.find((s: { run?: string }) => /npm run --silent rollout -- run up/.test(s.run ?? "")).run as string;
        assert.match(batch, /--batch "\$BATCH" --stacks "\$STACKS" --results "\$RUNNER_TEMP\/rollout\/results-\$BATCH\.json"/);
        assert.equal(wf.jobs.prod_3.env.STACKS, "${{ matrix.stacks }}");
        assert.deepEqual(wf.jobs.report.needs, ["discover", ...waveJobs.map(([, , key]) => key)]);
        assert.match(wf.jobs.report.steps.at(-1).run, /npm run --silent rollout -- report --dir "\$RUNNER_TEMP\/rollout"/);
    });

    describe("deploy: which wave jobs run, by GitHub's rules for `needs` and `if`", () => {
        const wf = parse(read(".github/workflows/deploy.yml"));
        const keys = STAGES.flatMap((stage) => WAVES.map((wave) => waveKey(stage, wave)));
        /** The jobs that run and their results, when the waves in `empty` have no stack and the jobs in `failing` fail. */
        const simulate = (empty: string[], failing: string[] = []) => {
            const outputs = Object.fromEntries(keys.map((k) => [k, empty.includes(k) ? "[]" : '[{"batch":"x","stacks":"y"}]']));
            const results: Record<string, string> = { discover: "success" };
            for (const key of [...keys, "report"]) {
                const job = wf.jobs[key];
                const needs = Object.fromEntries(
                    ([] as string[]).concat(job.needs).map((n) => [n, { result: results[n], outputs: n === "discover" ? { ...outputs, count: "6" } : {} }]),
                );
                const runs = evaluate(job.if, { needs }) === true;
                results[key] = !runs ? "skipped" : failing.includes(key) ? "failure" : "success";
            }
            return results;
        };
        const ran = (r: Record<string, string>) => keys.filter((k) => r[k] !== "skipped");

        it("every wave in order when all succeed; an empty wave is passed over", () => {
            assert.deepEqual(ran(simulate([])), keys);
            assert.deepEqual(ran(simulate(["hml_2", "prod_1"])), ["hml_1", "hml_3", "prod_2", "prod_3"]);
            assert.equal(simulate([]).report, "success");
        });

        it("a failed canary wave holds the later waves of its stage back, and all of prod when it is hml", () => {
            assert.deepEqual(ran(simulate([], ["hml_1"])), ["hml_1"]);
            assert.deepEqual(ran(simulate(["hml_2"], ["hml_1"])), ["hml_1"]);
            assert.deepEqual(ran(simulate([], ["prod_1"])), ["hml_1", "hml_2", "hml_3", "prod_1"]);
            assert.deepEqual(ran(simulate(["prod_2"], ["prod_1"])), ["hml_1", "hml_2", "hml_3", "prod_1"]);
            // The report runs whatever happened, and fails the run naming the stacks.
            assert.notEqual(simulate([], ["hml_1"]).report, "skipped");
        });

        it("a failure in the last hml wave does not hold prod back (each prod's gate checks its own hml), as before waves", () => {
            assert.deepEqual(ran(simulate([], ["hml_3"])), keys);
        });
    });

    it("pull request: the plan diff covers the stacks npm run stacks selects, the previews run in its batches; the review rule runs", () => {
        const wf = parse(read(".github/workflows/pr.yml"));
        const steps = wf.jobs.test.steps as { id?: string; run?: string; env?: Record<string, string> }[];
        assert.match(
            steps.find((s) => s.id === "stacks")!.run!,
            /npm run --silent stacks -- --changed-since "origin\/\$BASE_REF" --batch-size "\$BATCH_SIZE" --github-output "\$GITHUB_OUTPUT"/,
        );
        const plan = steps.find((s) => s.id === "plan")!;
        assert.equal(plan.env!.STACKS, "${{ steps.stacks.outputs.stacks }}");
        assert.match(plan.run!, /npm run --silent plan -- --stacks "\$STACKS" --diff "origin\/\$BASE_REF" --markdown/);
        assert.ok(steps.some((s) => /npm run --silent review -- --base "origin\/\$BASE_REF"/.test(s.run ?? "")));
        assert.equal(wf.jobs.test.outputs.preview, "${{ steps.stacks.outputs.preview }}");
        assert.equal(wf.jobs.preview.strategy.matrix.include, "${{ fromJSON(needs.test.outputs.preview) }}");
        assert.match(
            wf.jobs.preview.steps.at(-1).run,
            /npm run --silent rollout -- run preview --batch "\$BATCH" --stacks "\$STACKS" --results "\$RUNNER_TEMP\/results-\$BATCH\.json"/,
        );
    });
});

/**
 * A GitHub Actions expression as the deploy workflow's `if:`s write them: `${{ }}`, `!`, `&&`,
 * `||`, `==`, `!=`, parentheses, string literals, context paths and the status functions
 * cancelled() (false here: the run is not cancelled) and always(). Anything else throws.
 */
function evaluate(text: string, context: Record<string, unknown>): unknown {
    const src = text.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
    const tokens = src.match(/\s*(\(\)|&&|\|\||==|!=|!|\(|\)|'[^']*'|[A-Za-z_][\w.-]*)/g)?.map((t) => t.trim()) ?? [];
    assert.equal(tokens.join(""), src.replace(/\s+/g, ""), `unsupported expression: ${src}`);
    let i = 0;
    const peek = () => tokens[i];
    const next = () => tokens[i++];
    const primary = (): unknown => {
        const t = next();
        if (t === "!") return !primary();
        if (t === "(") {
            const v = or();
            assert.equal(next(), ")");
            return v;
        }
        if (t.startsWith("'")) return t.slice(1, -1);
        if (peek() === "()") {
            next();
            if (t === "cancelled") return false;
            if (t === "always") return true;
            throw new Error(`unsupported function ${t}()`);
        }
        return t.split(".").reduce<unknown>((cur, k) => (cur as Record<string, unknown> | undefined)?.[k], context);
    };
    const comparison = (): unknown => {
        const left = primary();
        if (peek() === "==" || peek() === "!=") {
            const op = next();
            const right = primary();
            return op === "==" ? left === right : left !== right;
        }
        return left;
    };
    const and = (): unknown => {
        let v = comparison();
        while (peek() === "&&") {
            next();
            const r = comparison();
            v = v && r;
        }
        return v;
    };
    const or = (): unknown => {
        let v = and();
        while (peek() === "||") {
            next();
            const r = and();
            v = v || r;
        }
        return v;
    };
    const value = or();
    assert.equal(i, tokens.length, `unparsed: ${tokens.slice(i).join(" ")}`);
    return value;
}

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
        assert.equal(
            githubOutput(selectChanged([], fleet)),
            "stacks=\ncount=0\nbatch_size=10\npreview=[]\nhml_1=[]\nhml_2=[]\nhml_3=[]\nprod_1=[]\nprod_2=[]\nprod_3=[]\n",
        );
    });

    describe("in a repository", () => {
        let repo: FleetRepo;
        beforeEach(() => (repo = fleetRepo()));
        afterEach(() => repo.remove());
        const stacks = (...args: string[]) => runMain(main, ["--repo", repo.dir, ...args]);

        it("finds a stack added as a file, with nothing else to change", async () => {
            repo.git("checkout", "-q", "-b", "feature");
            repo.write("Pulumi.x9k2pq-hml.yaml", "config:\n  protheus:stage: hml\n");
            repo.commit("x9k2pq");
            const out = path.join(repo.dir, "github-output");
            const res = await stacks("--changed-since", "main", "--github-output", out);
            assert.equal(res.status, 0, res.stderr);
            assert.equal(res.stdout, "x9k2pq-hml\n");
            assert.equal(
                fs.readFileSync(out, "utf8"),
                'stacks=x9k2pq-hml\ncount=1\nbatch_size=10\npreview=[{"batch":"preview-1","stacks":"x9k2pq-hml"}]\n' +
                    'hml_1=[]\nhml_2=[{"batch":"hml-w2-1","stacks":"x9k2pq-hml"}]\nhml_3=[]\nprod_1=[]\nprod_2=[]\nprod_3=[]\n',
            );
            assert.equal((await stacks()).stdout, "c2a7dv-hml\nx9k2pq-hml\nc2a7dv-prod\n");
        });

        it("exits 2 on a misnamed stack file or a bad ref", async () => {
            assert.equal((await stacks("--changed-since", "nope")).status, 2);
            repo.write("Pulumi.staging.yaml", "config: {}\n");
            const res = await stacks();
            assert.equal(res.status, 2);
            assert.match(res.stderr, /^stacks: stack files not named Pulumi\.<environment>-<stage>\.yaml: Pulumi\.staging\.yaml$/m);
        });
    });
});

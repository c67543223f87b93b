// A batch job of the deploy (or preview) runs its stacks one after another with the Pulumi CLI:
// one stack's failure does not stop the rest, each result is reported, and an update starts only
// while the job's time left covers that stack's longest wait. Here `pulumi` is a stand-in script
// on the PATH that records its arguments (there is no Pulumi CLI or cloud here). The command runs in
// this process (its `main`, pulumi still a child process found on the PATH it is given); one test
// runs it as its npm script does, so the command line's wiring to `main` is covered too.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main, pulumiArgs, runBatch } from "../bin/rollout";
import { BatchResults, RolloutPlan } from "../lib/rollout";
import { REPO_ROOT } from "../lib/stackFiles";
import { Capture, runMain } from "./support/commandMain";
import { npmScriptCommand } from "./support/npmScript";

describe("npm run rollout: a batch of stacks, and the run's report", () => {
    let tmp: string;
    let calls: string;
    let summary: string;
    const env = (failStack: string, runningVersion: string): NodeJS.ProcessEnv => ({
        ...process.env,
        PATH: `${path.join(tmp, "bin")}:${process.env.PATH}`,
        FAKE_PULUMI_CALLS: calls,
        FAKE_PULUMI_FAIL: failStack,
        FAKE_PULUMI_VERSION: runningVersion,
        GITHUB_STEP_SUMMARY: summary,
        PULUMI_ORG: "totvs",
    });
    /** The command in this process: its exit code and what it wrote to stdout and stderr. */
    const rollout = (args: string[], failStack = "", runningVersion = "") => runMain(main, args, env(failStack, runningVersion));
    /** The command as its npm script runs it, in a process of its own. */
    const rolloutCommand = (args: string[], failStack = "") =>
        spawnSync(...npmScriptCommand("rollout", args), { cwd: REPO_ROOT, encoding: "utf8", env: env(failStack, "") });
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-run-"));
        calls = path.join(tmp, "calls");
        summary = path.join(tmp, "summary.md");
        fs.mkdirSync(path.join(tmp, "bin"));
        // `stack output updateDesiredVersion` prints FAKE_PULUMI_VERSION (no state without it); up and
        // preview record their arguments and fail (exit 3) for the stack named in FAKE_PULUMI_FAIL.
        fs.writeFileSync(
            path.join(tmp, "bin", "pulumi"),
            [
                "#!/usr/bin/env bash",
                'if [ "$1 $2" = "stack output" ]; then [ -n "$FAKE_PULUMI_VERSION" ] || exit 255; echo "$FAKE_PULUMI_VERSION"; exit 0; fi',
                'echo "$*" >> "$FAKE_PULUMI_CALLS"',
                'for a in "$@"; do if [ -n "$FAKE_PULUMI_FAIL" ] && [ "$a" = "totvs/$FAKE_PULUMI_FAIL" ]; then exit 3; fi; done',
                "",
            ].join("\n"),
            { mode: 0o755 },
        );
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const results = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as BatchResults;

    it("runs every stack in turn after one fails, reports each, and exits 1 naming the failed one", () => {
        const file = path.join(tmp, "results-hml-w2-1.json");
        const res = rolloutCommand(
            ["run", "up", "--batch", "hml-w2-1", "--stacks", "c2a7dv-hml c2a7dv-prod", "--results", file, "--message", "abc123 a change"],
            "c2a7dv-hml",
        );
        assert.equal(res.status, 1, res.stderr);
        assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), [
            pulumiArgs("up", "c2a7dv-hml", "totvs", "abc123 a change").join(" "),
            pulumiArgs("up", "c2a7dv-prod", "totvs", "abc123 a change").join(" "),
        ]);
        assert.deepEqual(
            results(file).results.map((r) => [r.stack, r.status, r.reason]),
            [
                ["c2a7dv-hml", "failed", "pulumi up exited 3"],
                ["c2a7dv-prod", "succeeded", undefined],
            ],
        );
        assert.match(res.stdout, /^::error title=c2a7dv-hml failed::pulumi up exited 3$/m);
        assert.match(fs.readFileSync(summary, "utf8"), /1 of 2 stacks did not succeed: `c2a7dv-hml`/);
        assert.deepEqual(pulumiArgs("up", "c2a7dv-hml", "totvs", "m"), [
            "up",
            "--stack",
            "totvs/c2a7dv-hml",
            "--non-interactive",
            "--policy-pack",
            "policy",
            "--diff",
            "--yes",
            "--skip-preview",
            "--message",
            "m",
        ]);
    });

    it("runs the preflight before each stack's pulumi: a stack whose chart or image is missing is not started, the rest go on", async () => {
        const file = path.join(tmp, "results-prod-w2-1.json");
        const checked: string[] = [];
        const stdout = new Capture();
        const out = await runBatch({
            command: "preview",
            batch: "prod-w2-1",
            stacks: ["c2a7dv-hml", "c2a7dv-prod"],
            results: file,
            budgetMinutes: 300,
            organization: "totvs",
            io: { stdout, stderr: new Capture(), env: env("", "") },
            preflight: async (stack) => {
                checked.push(stack);
                return stack === "c2a7dv-hml"
                    ? { code: 1, lines: [`${stack}  updater image  registry/protheus-updater:12.1.2510  MISSING: manifest unknown`] }
                    : { code: 0, lines: [`${stack}  chart  present`] };
            },
        });
        assert.deepEqual(checked, ["c2a7dv-hml", "c2a7dv-prod"]);
        assert.deepEqual(
            out.map((r) => [r.stack, r.status]),
            [
                ["c2a7dv-hml", "not started"],
                ["c2a7dv-prod", "succeeded"],
            ],
        );
        assert.match(out[0].reason ?? "", /^preflight: .*MISSING: manifest unknown/);
        assert.match(stdout.text, /^preflight: c2a7dv-hml {2}updater image .* MISSING: manifest unknown$/m);
        assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), [pulumiArgs("preview", "c2a7dv-prod", "totvs").join(" ")]);
    });

    it("starts no update the job's time left cannot cover (a job killed at its timeout would leave the update half done); previews are not held", async () => {
        const file = path.join(tmp, "results.json");
        const up = async (budget: number, running = "") =>
            (
                await rollout(
                    ["run", "up", "--batch", "prod-w2-1", "--stacks", "c2a7dv-prod", "--results", file, "--budget-minutes", String(budget)],
                    "",
                    running,
                )
            ).status;
        // Same version running, no restore requested: only the Helm upgrade's 60 minutes.
        assert.equal(await up(59, "12.1.2410"), 1);
        assert.ok(!fs.existsSync(calls), "pulumi up was not run");
        const [r] = results(file).results;
        assert.equal(r.status, "not started");
        assert.match(r.reason!, /^\d+ min left in this job, its longest update waits 60 min: re-run the failed jobs$/);
        assert.equal(await up(90, "12.1.2410"), 0);
        assert.equal(fs.readFileSync(calls, "utf8").trim(), pulumiArgs("up", "c2a7dv-prod", "totvs").join(" "));
        // A version change (or an unknown running version) adds the pre-upgrade backup's 125 minutes.
        fs.rmSync(calls);
        assert.equal(await up(150, "12.1.2310"), 1);
        assert.match(results(file).results[0].reason!, /its longest update waits 185 min/);
        assert.equal(await up(150), 1);
        assert.match(results(file).results[0].reason!, /its longest update waits 185 min/);
        assert.ok(!fs.existsSync(calls));
        const preview = await rollout(["run", "preview", "--batch", "preview-1", "--stacks", "c2a7dv-prod", "--results", file, "--budget-minutes", "1"]);
        assert.equal(preview.status, 0, preview.stderr);
        assert.equal(fs.readFileSync(calls, "utf8").trim(), pulumiArgs("preview", "c2a7dv-prod", "totvs").join(" "));
        assert.equal(results(file).results[0].status, "succeeded");
    });

    it("the report names every stack that did not succeed, and those no batch reported as not run", async () => {
        const dir = path.join(tmp, "rollout");
        fs.mkdirSync(dir);
        const plan: RolloutPlan = {
            batchSize: 2,
            waves: {
                hml_1: [{ batch: "hml-w1-1", stacks: "a-hml b-hml" }],
                prod_1: [{ batch: "prod-w1-1", stacks: "a-prod" }],
                prod_2: [{ batch: "prod-w2-1", stacks: "b-prod" }],
            },
        };
        fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(plan));
        const write = (b: BatchResults) => fs.writeFileSync(path.join(dir, `results-${b.batch}.json`), JSON.stringify(b));
        write({
            batch: "hml-w1-1",
            command: "up",
            results: [
                { stack: "a-hml", status: "succeeded" },
                { stack: "b-hml", status: "succeeded" },
            ],
        });
        write({ batch: "prod-w1-1", command: "up", results: [{ stack: "a-prod", status: "failed", reason: "pulumi up exited 255" }] });
        const res = await rollout(["report", "--dir", dir]);
        assert.equal(res.status, 1);
        assert.match(res.stdout, /2 of 4 stacks did not succeed: `a-prod`, `b-prod`/);
        assert.match(res.stdout, /\| `a-prod` \| failed \|/);
        assert.match(res.stdout, /\| `b-prod` \| not run \| +\| its batch did not report/);
        write({ batch: "prod-w1-1", command: "up", results: [{ stack: "a-prod", status: "succeeded" }] });
        write({ batch: "prod-w2-1", command: "up", results: [{ stack: "b-prod", status: "succeeded" }] });
        const ok = await rollout(["report", "--dir", dir]);
        assert.equal(ok.status, 0, ok.stdout);
        assert.match(ok.stdout, /Every stack succeeded/);
        fs.rmSync(path.join(dir, "plan.json"));
        const broken = await rollout(["report", "--dir", dir]);
        assert.equal(broken.status, 2);
        assert.match(broken.stderr, /^rollout: cannot read the run in .*plan\.json/m);
        assert.deepEqual(await rollout(["report"]), { status: 2, stdout: "", stderr: "rollout: report needs --dir (try --help)\n" });
    });
});

// A deploy batch job must always be able to start its first stack's longest `pulumi up`: the
// backup before a version change, a requested restore and the Helm upgrade, each waited for in
// turn; later stacks of the batch start only while the time left covers theirs (bin/rollout.ts).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig } from "../config/load";
import { StackConfig } from "../config/schema";
import { listStackNames, parseStackName } from "../lib/fleet";
import { BATCH_BUDGET_MINUTES, DEPLOY_JOB_TIMEOUT_MINUTES, longestUpMinutes, SETUP_MINUTES, waveKey, WAVES } from "../lib/rollout";
import { REPO_ROOT } from "../lib/stackFiles";
import { resolvedStackFile } from "./support/stacks";

const WORKFLOW = path.join(REPO_ROOT, ".github", "workflows", "deploy.yml");
/** GitHub-hosted runners end any job after 6 hours, whatever timeout-minutes says. */
const HOSTED_RUNNER_LIMIT_MINUTES = 360;

function stackConfig(stack: string, overrides: Record<string, unknown> = {}): StackConfig {
    const { config, secretKeys } = resolvedStackFile(stack);
    for (const [k, v] of Object.entries(overrides)) config[`protheus:${k}`] = JSON.stringify(v);
    return parseStackConfig(config, (k) => secretKeys.includes(k));
}

/** Why the workflow job cannot run this stack's longest update, or undefined. */
function timeoutProblem(job: { "timeout-minutes"?: number; "runs-on"?: string }, cfg: StackConfig): string | undefined {
    const needed = longestUpMinutes(cfg) + SETUP_MINUTES;
    const timeout = job["timeout-minutes"];
    if (typeof timeout !== "number") return "no timeout-minutes (GitHub's default is 360)";
    if (timeout <= needed) return `timeout-minutes ${timeout} is not longer than the longest pulumi up (${needed} minutes with setup)`;
    if (String(job["runs-on"]).startsWith("ubuntu-") && timeout > HOSTED_RUNNER_LIMIT_MINUTES)
        return `timeout-minutes ${timeout} exceeds what a GitHub-hosted runner allows (${HOSTED_RUNNER_LIMIT_MINUTES})`;
    return undefined;
}

describe("deploy workflow timeout", () => {
    const workflow = parseYaml(fs.readFileSync(WORKFLOW, "utf8")) as { jobs: Record<string, { "timeout-minutes"?: number; "runs-on"?: string }> };

    // Every stack of the fleet runs in a wave job of its stage.
    for (const stack of listStackNames(REPO_ROOT)) {
        const stage = parseStackName(stack)!.stage;
        it(`every ${stage} wave job outlasts backup wait + restore wait + Helm timeout of Pulumi.${stack}.yaml`, () => {
            for (const wave of WAVES) {
                const job = workflow.jobs[waveKey(stage, wave)];
                assert.ok(job, `deploy.yml has no job ${waveKey(stage, wave)}`);
                assert.equal(timeoutProblem(job, stackConfig(stack)), undefined);
            }
            // The batch runner's budget is that job's time less setup, so a batch's first stack always starts.
            assert.ok(longestUpMinutes(stackConfig(stack)) <= BATCH_BUDGET_MINUTES);
        });
    }

    it("the batch runner's budget is the wave jobs' timeout less setup", () => {
        assert.equal(BATCH_BUDGET_MINUTES, DEPLOY_JOB_TIMEOUT_MINUTES - SETUP_MINUTES);
        for (const key of Object.keys(workflow.jobs).filter((k) => /^(hml|prod)_\d$/.test(k)))
            assert.equal(workflow.jobs[key]["timeout-minutes"], DEPLOY_JOB_TIMEOUT_MINUTES, key);
    });

    it("would fail a stack whose waits no longer fit, so raising a timeout in config shows up here", () => {
        const cfg = stackConfig("c2a7dv-prod", {
            chart: { ...JSON.parse(resolvedStackFile("c2a7dv-prod").config["protheus:chart"]), timeoutSeconds: 4 * 3600 },
        });
        assert.equal(longestUpMinutes(cfg), 125 + 155 + 240);
        assert.match(timeoutProblem(workflow.jobs.prod_1, cfg)!, /is not longer than the longest pulumi up \(530 minutes/);
        assert.match(timeoutProblem({ "timeout-minutes": 600, "runs-on": "ubuntu-24.04" }, cfg)!, /GitHub-hosted runner/);
    });
});

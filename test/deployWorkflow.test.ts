// The deploy workflow must outlast the longest `pulumi up` a stack's config
// allows: the backup before a version change, a requested restore and the Helm
// upgrade, each waited for in turn.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig } from "../config/load";
import { StackConfig } from "../config/schema";
import { listStackNames, parseStackName } from "../lib/fleet";
import { REPO_ROOT } from "../lib/stackFiles";
import { resolvedStackFile } from "./support/stacks";

const WORKFLOW = path.join(REPO_ROOT, ".github", "workflows", "deploy.yml");
/** Checkout, npm ci (twice), cloud auth, Pulumi login and preview before the first wait. */
const SETUP_MINUTES = 10;
/** GitHub-hosted runners end any job after 6 hours, whatever timeout-minutes says. */
const HOSTED_RUNNER_LIMIT_MINUTES = 360;

/** The longest one `pulumi up` of this stack can wait, in minutes. */
function longestUpMinutes(cfg: StackConfig): number {
    const waits = cfg.backup ? cfg.backup.preUpgradeTimeoutMinutes + cfg.backup.restoreTimeoutMinutes : 0;
    return waits + Math.ceil(cfg.chart.timeoutSeconds / 60);
}

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

    // Every stack of the fleet runs in the deploy job of its stage.
    for (const stack of listStackNames(REPO_ROOT)) {
        const stage = parseStackName(stack)!.stage;
        it(`job ${stage} outlasts backup wait + restore wait + Helm timeout of Pulumi.${stack}.yaml`, () => {
            const job = workflow.jobs[stage];
            assert.ok(job, `deploy.yml has no job ${stage}`);
            assert.equal(timeoutProblem(job, stackConfig(stack)), undefined);
        });
    }

    it("would fail a stack whose waits do not fit, so raising a timeout in config shows up here", () => {
        const cfg = stackConfig("c2a7dv-prod", {
            chart: { ...JSON.parse(resolvedStackFile("c2a7dv-prod").config["protheus:chart"]), timeoutSeconds: 4 * 3600 },
        });
        assert.equal(longestUpMinutes(cfg), 125 + 155 + 240);
        assert.match(timeoutProblem(workflow.jobs.prod, cfg)!, /is not longer than the longest pulumi up \(530 minutes/);
        assert.match(timeoutProblem({ "timeout-minutes": 600, "runs-on": "ubuntu-24.04" }, cfg)!, /GitHub-hosted runner/);
    });
});

// The composite action .github/actions/pulumi: its shell steps run for real here (gcloud and helm
// replaced by recorders), so the registry it logs in to is the one the stack's chart.repo names.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { listStackNames } from "../lib/fleet";
import { ociRegistryHost } from "../lib/registry";
import { readStackFile, REPO_ROOT } from "../lib/stackFiles";
import { parseStackConfig } from "../config/load";

interface Step {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    env?: Record<string, string>;
    with?: Record<string, string>;
}
const ACTION = ".github/actions/pulumi/action.yml";
const action = () => parse(fs.readFileSync(path.join(REPO_ROOT, ACTION), "utf8")) as { inputs: Record<string, { default?: string }>; runs: { steps: Step[] } };

/** Replaces ${{ inputs.x }} and ${{ steps.y.outputs.z }} as the runner would. */
function expand(text: string, inputs: Record<string, string>, outputs: Record<string, Record<string, string>>): string {
    return text.replace(/\$\{\{\s*(inputs\.([\w-]+)|steps\.([\w-]+)\.outputs\.([\w-]+))\s*\}\}/g, (_m, _all, input, step, out) =>
        input !== undefined ? (inputs[input] ?? "") : (outputs[step]?.[out] ?? ""),
    );
}

/**
 * Runs the action's `run` steps from the chart-registry step (the setup before it installs tools and
 * dependencies) up to and including `last` (by name), with recorders for gcloud and helm.
 */
function runSteps(stacks: string, last: RegExp): { calls: string[]; helmStdin: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "action-bin-"));
    const record = path.join(bin, "calls.log");
    fs.writeFileSync(
        path.join(bin, "gcloud"),
        `#!/bin/sh\necho "gcloud $*" >> "${record}"\n[ "$1 $2" = "auth print-access-token" ] && echo ya29.test-token\n`,
        { mode: 0o755 },
    );
    fs.writeFileSync(path.join(bin, "helm"), `#!/bin/sh\necho "helm $*" >> "${record}"\ncat > "${bin}/helm.stdin"\n`, { mode: 0o755 });
    const outputs: Record<string, Record<string, string>> = {};
    const steps = action().runs.steps;
    for (const step of steps.slice(steps.findIndex((s) => s.id === "chart-registry"))) {
        if (!step.run) continue;
        const out = path.join(bin, `out-${step.id ?? "step"}`);
        fs.writeFileSync(out, "");
        const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v), { stacks }, outputs)]));
        const r = spawnSync("bash", ["-eo", "pipefail", "-c", step.run], {
            cwd: REPO_ROOT,
            encoding: "utf8",
            env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: out },
        });
        assert.equal(r.status, 0, `step ${step.name ?? step.id}: ${r.stderr}`);
        if (step.id)
            outputs[step.id] = Object.fromEntries(
                fs
                    .readFileSync(out, "utf8")
                    .trim()
                    .split("\n")
                    .filter(Boolean)
                    .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
            );
        if (last.test(step.name ?? "")) break;
    }
    const calls = fs.existsSync(record) ? fs.readFileSync(record, "utf8").trim().split("\n") : [];
    const stdinFile = path.join(bin, "helm.stdin");
    return { calls, helmStdin: fs.existsSync(stdinFile) ? fs.readFileSync(stdinFile, "utf8") : "" };
}

describe("the pulumi action logs in to the stack's chart registry", function () {
    this.timeout(60_000);
    const stacks = listStackNames(REPO_ROOT);
    const hostOf = (stack: string) => {
        const input = readStackFile(stack);
        return ociRegistryHost(parseStackConfig(input.config, (k) => input.secretKeys.includes(k)).chart.repo);
    };
    // One batch of every stack, its steps run once for the tests below: the chart-registry step runs
    // `npm run preflight` per stack, a command process each.
    let batch: ReturnType<typeof runSteps> | undefined;
    const batchRun = () => (batch ??= runSteps(stacks.join(" "), /^helm registry login/));

    for (const stack of stacks) {
        it(`${stack}: helm registry login to the host of protheus:chart.repo, with the identity's access token on stdin`, () => {
            const host = hostOf(stack);
            assert.ok(host, `${stack}: its chart.repo is an oci:// repository`);
            const { calls, helmStdin } = batchRun();
            assert.ok(calls.includes(`helm registry login -u oauth2accesstoken --password-stdin ${host}`), calls.join("\n"));
            assert.equal(helmStdin.trim(), "ya29.test-token");
        });
    }

    it("a batch logs in once to each distinct registry of its stacks, each with a token of its own", () => {
        const hosts = [...new Set(stacks.map(hostOf))].sort();
        // The two ends of a pipe start together: a login and its token's gcloud are logged in either order.
        assert.deepEqual(
            [...batchRun().calls].sort(),
            [
                ...hosts.map(() => "gcloud auth print-access-token"),
                ...hosts.map((h) => `helm registry login -u oauth2accesstoken --password-stdin ${h}`),
            ].sort(),
        );
    });

    it("logs in after the GCP auth and before the Pulumi CLI; the preflight runs per stack in the batch runner (test/rollout-run.test.ts)", () => {
        const steps = action().runs.steps;
        const at = (f: (s: Step) => boolean) => steps.findIndex(f);
        const login = at((s) => /helm registry login/.test(s.run ?? ""));
        const pulumi = at((s) => (s.uses ?? "").startsWith("pulumi/actions@"));
        const auth = at((s) => (s.uses ?? "").startsWith("google-github-actions/auth@"));
        assert.ok(auth >= 0 && auth < login && login < pulumi, JSON.stringify({ auth, login, pulumi }));
        assert.match(
            fs.readFileSync(path.join(REPO_ROOT, "bin/rollout.ts"), "utf8"),
            /preflight: \(stack, dir\) => preflight\(\[stack\], \{ dir, env: io\.env \}\)/,
        );
    });

    it("takes no cluster from inputs or repository variables, and pins the Pulumi CLI to the SDK's version", () => {
        const text = fs.readFileSync(path.join(REPO_ROOT, ACTION), "utf8");
        for (const f of [ACTION, ".github/workflows/pr.yml", ".github/workflows/deploy.yml"]) {
            assert.doesNotMatch(fs.readFileSync(path.join(REPO_ROOT, f), "utf8"), /GKE_CLUSTER|get-gke-credentials|cluster-name/, f);
        }
        const a = action();
        const sdk = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
        assert.equal(a.inputs["pulumi-version"].default, sdk);
        assert.equal(a.runs.steps.find((s) => (s.uses ?? "").startsWith("pulumi/actions@"))!.with!["pulumi-version"], "${{ inputs.pulumi-version }}");
        assert.match(text, /install_components: gke-gcloud-auth-plugin/);
    });
});

describe("@action-validator/cli checks the workflows and the action (.ci/run runs it)", function () {
    this.timeout(60_000);
    const validate = (file: string) => spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "action-validator"), [file], { encoding: "utf8" });
    for (const f of [".github/workflows/pr.yml", ".github/workflows/deploy.yml", ACTION]) {
        it(`${f} is valid`, () => {
            const r = validate(path.join(REPO_ROOT, f));
            assert.equal(r.status, 0, r.stdout + r.stderr);
        });
    }

    it("rejects an action with an input lacking its description, and .ci/run validates every file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "action-"));
        const bad = path.join(dir, "action.yml");
        fs.writeFileSync(bad, fs.readFileSync(path.join(REPO_ROOT, ACTION), "utf8").replace(/( {2}stacks:\n) {4}description: [^\n]*\n/, "$1"));
        assert.notEqual(validate(bad).status, 0);
        assert.match(
            fs.readFileSync(path.join(REPO_ROOT, ".ci/run"), "utf8"),
            /for f in \.github\/workflows\/\*\.yml \.github\/actions\/\*\/action\.yml; do\n\s+npx --no-install action-validator "\$f"/,
        );
    });
});

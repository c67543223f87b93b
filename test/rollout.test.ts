// Deploys and previews of a fleet of any size: the stacks a change touches, by stage and wave,
// in batches that keep every workflow run within GitHub's limits (lib/rollout.ts, npm run stacks).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { githubOutput } from "../bin/stacks";
import { deployOrder, listFleet, STAGES } from "../lib/fleet";
import {
    Batch,
    DEFAULT_BATCH_SIZE,
    MAX_JOB_OUTPUT_BYTES,
    MAX_MATRIX_JOBS,
    MAX_RUN_OUTPUT_BYTES,
    outputBytes,
    planRollout,
    waveKey,
    WAVES,
    withWaves,
} from "../lib/rollout";
import { REPO_ROOT } from "../lib/stackFiles";
import { environmentFiles } from "../bin/new-environment";

/** A repository of `count` stacks made with the new-environment template: every 20th environment a canary (wave 1), every 7th last (wave 3), the rest the project's default (2). */
function fleetOf(count: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rollout-fleet-${count}-`));
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (let i = 0; i < count; i++) {
        const env = `f${String(Math.floor(i / 2)).padStart(4, "0")}`;
        const stage = STAGES[i % 2];
        const files = environmentFiles(env, "12.1.2510", `protheus-cliente-${env}@totvs.com.br`);
        const n = Math.floor(i / 2);
        const wave = n % 20 === 0 ? 1 : n % 7 === 0 ? 3 : undefined;
        fs.writeFileSync(path.join(dir, `Pulumi.${env}-${stage}.yaml`), files[`${env}-${stage}`] + (wave ? `  protheus:rollout:\n    wave: ${wave}\n` : ""));
    }
    return dir;
}

/** GITHUB_OUTPUT lines (name=value, one a line) as a map. */
function parseOutput(text: string): Map<string, string> {
    return new Map(
        text
            .trimEnd()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
    );
}

const stacksOf = (batches: Batch[]) => batches.flatMap((b) => b.stacks.split(" "));

describe("rollout: batches by stage and wave within GitHub's limits", () => {
    for (const count of [1, 300, 2000]) {
        it(`${count} stack${count === 1 ? "" : "s"}: every stack in exactly one batch of its stage and wave; at most ${MAX_MATRIX_JOBS} matrix jobs, outputs within 1 MB a job and 50 MB a run`, () => {
            const dir = fleetOf(count);
            try {
                const fleet = listFleet(dir);
                assert.equal(fleet.length, count);
                const sel = { all: true, stacks: deployOrder(fleet) };
                const out = githubOutput(sel, dir);
                const outputs = parseOutput(out);
                // The discover job's outputs (deploy) and the PR tests job's (preview) are each one job's.
                assert.ok(outputBytes(out) <= MAX_JOB_OUTPUT_BYTES, `${outputBytes(out)} bytes`);
                assert.ok(2 * outputBytes(out) <= MAX_RUN_OUTPUT_BYTES);
                assert.equal(outputs.get("count"), String(count));
                const batchSize = Number(outputs.get("batch_size"));
                assert.ok(batchSize >= DEFAULT_BATCH_SIZE);

                const waves = withWaves(fleet, dir);
                const expected = new Map(waves.map((s) => [s.name, waveKey(s.stage, s.wave)]));
                const seen = new Map<string, string>();
                let deployJobs = 0;
                for (const stage of STAGES)
                    for (const wave of WAVES) {
                        const key = waveKey(stage, wave);
                        const batches = JSON.parse(outputs.get(key)!) as Batch[];
                        deployJobs += batches.length;
                        for (const b of batches) {
                            const names = b.stacks.split(" ");
                            assert.ok(names.length >= 1 && names.length <= batchSize, `${b.batch}: ${names.length}`);
                            assert.match(b.batch, new RegExp(`^${stage}-w${wave}-\\d+$`));
                        }
                        for (const s of stacksOf(batches)) {
                            assert.ok(!seen.has(s), `${s} is in ${seen.get(s)} and ${key}`);
                            seen.set(s, key);
                            assert.equal(key, expected.get(s), s);
                        }
                    }
                assert.deepEqual([...seen.keys()].sort(), [...expected.keys()].sort());
                assert.ok(deployJobs <= MAX_MATRIX_JOBS, `${deployJobs} deploy jobs`);
                const preview = JSON.parse(outputs.get("preview")!) as Batch[];
                assert.ok(preview.length <= MAX_MATRIX_JOBS);
                assert.deepEqual(stacksOf(preview).sort(), fleet.map((s) => s.name).sort());
                // The waves the fleet asked for are all there.
                if (count >= 300)
                    for (const w of WAVES)
                        assert.ok(
                            waves.some((s) => s.wave === w),
                            `wave ${w}`,
                        );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }

    it("raises the batch size when the requested one would pass the matrix limit, and keeps it otherwise", () => {
        const stacks = Array.from({ length: 2000 }, (_, i) => ({ name: `e${i}-prod`, environment: `e${i}`, stage: "prod" as const, wave: 1 + (i % 3) }));
        const small = planRollout(stacks, 1);
        const total = Object.values(small.waves).reduce((n, b) => n + b.length, 0);
        assert.ok(total <= MAX_MATRIX_JOBS, String(total));
        // The smallest size that fits: one less would pass the limit.
        assert.equal(small.batchSize, 8);
        assert.ok([667, 667, 666].reduce((n, g) => n + Math.ceil(g / 7), 0) > MAX_MATRIX_JOBS);
        assert.equal(planRollout(stacks.slice(0, 30), 4).batchSize, 4);
        assert.deepEqual(
            planRollout(stacks.slice(0, 5), 2).waves.prod_1.map((b) => b.stacks),
            ["e0-prod e3-prod"],
        );
        assert.throws(() => planRollout(stacks, 0), /batch size 0: expected a whole number of at least 1/);
    });

    it("takes the default wave from Pulumi.yaml, and names every stack whose wave is invalid", () => {
        assert.deepEqual(
            withWaves(listFleet(REPO_ROOT), REPO_ROOT).map((s) => s.wave),
            [2, 2],
        );
        const dir = fleetOf(6);
        try {
            fs.appendFileSync(path.join(dir, "Pulumi.f0001-hml.yaml"), "  protheus:rollout:\n    wave: 4\n");
            fs.appendFileSync(path.join(dir, "Pulumi.f0002-prod.yaml"), "  protheus:rollout:\n    wave: first\n");
            assert.throws(
                () => withWaves(listFleet(dir), dir),
                (err: Error) =>
                    /f0001-hml: protheus:rollout = \{"wave":4\}: expected a wave number from 1 to 3/.test(err.message) && /f0002-prod/.test(err.message),
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

// What the stack's own outputs hold after an update that did not finish, and what the next
// `pulumi up` (a retry of the same change) then declares. The engine's rule (Pulumi CLI 3.112.0
// and later, pkg/resource/deploy/step_executor.go and deployment_executor.go, read at v3.260.0):
// the stack's outputs are registered once, when every exported value has resolved; after a failed
// or cancelled update the engine keeps the previous outputs and lays over them only the outputs
// that were registered. index.ts exports the release's status, so no output of an update is
// registered before its Helm release has finished: a failure in the backup or the release, or a
// process killed while either runs, leaves exactly the previous update's outputs. A cancel that
// lets the release finish (SIGINT: the engine finishes the operations in flight) registers the
// new outputs, and the release did move.
import { strict as assert } from "assert";
import { REPLACE_UNREADY } from "../components/names";
import { RenderResult, resourceKey } from "../lib/render";
import { MAINTENANCE_OUTPUT, TRANSITION_OUTPUT, VERSION_OUTPUT } from "../lib/versionChange";
import { render, stackWith } from "./support/stacks";

const JOB = "kubernetes:batch/v1:Job";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const FROM = "12.1.2410";
const TO = "12.1.2510"; // what Pulumi.c2a7dv-hml.yaml names

const previousUpdate = { [VERSION_OUTPUT]: FROM, [TRANSITION_OUTPUT]: { from: "12.1.2310", to: FROM }, [MAINTENANCE_OUTPUT]: false };
const after = (previous: Record<string, unknown>) => render({ ...stackWith("hml"), previousOutputs: previous });
const backupJob = (r: RenderResult) => r.resources.filter((x) => x.type === JOB);

describe("the engine's outputs after an update that did not finish, and the retry", () => {
    let first: RenderResult;
    before(async () => {
        first = await after(previousUpdate);
    });

    it("the update from 12.1.2410 backs up before the release moves", () => {
        const [job] = backupJob(first);
        assert.equal((job.inputs as { metadata: { name: string } }).metadata.name, "protheus-backup-pre-12-1-2510");
        assert.ok(first.options[resourceKey(RELEASE, "release")].dependsOn.includes(resourceKey(JOB, "pre-upgrade-backup")));
        // The exported status comes from the release: the outputs cannot be registered before it finished.
        assert.equal(first.outputs.releaseStatus, "deployed");
        assert.equal(first.outputs[VERSION_OUTPUT], TO);
    });

    for (const [what, left] of [
        ["failed in the Helm release (atomic: rolled back)", previousUpdate],
        ["failed in the pre-upgrade backup (the release never started)", previousUpdate],
        ["cancelled, the process killed while the backup or the release ran", previousUpdate],
    ] as const) {
        it(`${what}: the retry declares the same backup Job before the release, nothing new`, async () => {
            const retry = await after(left);
            assert.deepEqual(backupJob(retry), backupJob(first));
            assert.deepEqual(retry.options[resourceKey(RELEASE, "release")].dependsOn, first.options[resourceKey(RELEASE, "release")].dependsOn);
            assert.deepEqual(retry.outputs[TRANSITION_OUTPUT], { from: FROM, to: TO });
        });
    }

    it("a backup Job that did not complete is replaced by the retry (pulumi.com/replaceUnready), so the release never moves on a failed backup", () => {
        const [job] = backupJob(first);
        assert.equal((job.inputs as { metadata: { annotations: Record<string, string> } }).metadata.annotations[REPLACE_UNREADY], "true");
        // A finished Job is ready: the annotation replaces nothing then, and the retry re-runs no backup.
    });

    it("cancelled after the release finished (the new outputs were registered): the retry keeps the finished Job and moves nothing", async () => {
        const retry = await after({ ...first.outputs });
        assert.deepEqual(backupJob(retry), backupJob(first));
        assert.deepEqual(retry.outputs[TRANSITION_OUTPUT], { from: FROM, to: TO });
    });

    it("outputs of an update that registered none at all (a first update that failed): no version change is assumed, no backup", async () => {
        const retry = await after({});
        assert.deepEqual(backupJob(retry), []);
    });
});

// `npm run plan -- <args>` in this process: bin/plan.ts's main on a scratch repository, with the
// TypeScript and Pulumi SDKs the test process has already loaded. Each run checks that it left this
// process as it found it, so runs cannot leak into each other or into the next test.
import * as assert from "assert";
import { main } from "../../bin/plan";
import { Capture } from "./capture";

export interface PlanRun {
    status: number;
    stdout: string;
    stderr: string;
}

/** What a run of plan could change in the process it runs in. */
function processState() {
    return {
        exitCode: process.exitCode,
        cwd: process.cwd(),
        env: JSON.stringify(process.env),
        // Not "exit": the Pulumi runtime installs its own exit hook once per process, at the first render of any test.
        signalListeners: (["SIGINT", "SIGTERM"] as const).map((e) => process.listenerCount(e)),
        streamListeners: [process.stdout, process.stderr].map((s) => s.listenerCount("error")),
    };
}

/** plan's main on `args` for the repository at `dir`, its temporary files under `env`'s TMPDIR. */
export async function planHere(args: string[], dir: string, env: NodeJS.ProcessEnv = process.env): Promise<PlanRun> {
    const before = processState();
    const stdout = new Capture();
    const stderr = new Capture();
    const status = await main(args, { stdout, stderr, env, dir });
    assert.deepStrictEqual(processState(), before, "the in-process plan left this process changed");
    return { status, stdout: stdout.text, stderr: stderr.text };
}

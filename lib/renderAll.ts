// Renders many stacks in one process. The Pulumi runtime is process-global per
// JavaScript realm, so one thread renders one stack at a time. On request
// (plan --threads N) a fleet is split over worker threads of the same process,
// each its own realm. One thread is the default: on the 2-core machine the
// fleet benchmark ran on, each extra thread's start-up (the Pulumi SDKs loaded
// again) cost more CPU than the threads saved (BENCHMARKS.md).
import { isMainThread, parentPort, Worker, workerData } from "worker_threads";
import { ConfigError } from "../config/load";
import { PromotionError } from "./promotion";
import { PlannedResource, RenderError, renderProgram } from "./render";
import { readStackFile, REPO_ROOT } from "./stackFiles";
import { outputsBefore, PreviousState } from "./previousOutputs";
import { TS_NODE_REGISTER } from "./tsNode";

export type StackPlan = { stack: string; resources: PlannedResource[]; outputs: Record<string, unknown> } | { stack: string; error: string };

/** What a failed render prints: a config or promotion error as it is, anything else prefixed "plan:". */
export function renderFailureMessage(err: unknown): string {
    const cause = err instanceof RenderError ? err.cause : err;
    return cause instanceof ConfigError || cause instanceof PromotionError ? cause.message : `plan: ${(cause as Error).message}`;
}

/** Renders `stacks` one after the other in this thread; an error is kept per stack. */
export async function renderSequentially(stacks: string[], dir = REPO_ROOT, previousStates: Record<string, PreviousState> = {}): Promise<StackPlan[]> {
    const out: StackPlan[] = [];
    for (const stack of stacks) {
        try {
            const input = readStackFile(stack, dir);
            // The state the stack was left in before this update, when the caller knows it (plan --diff).
            const previous = previousStates[stack];
            const r = await renderProgram(previous === undefined ? input : { ...input, previousOutputs: outputsBefore(input, previous, dir) });
            out.push({ stack, resources: r.resources, outputs: r.outputs });
        } catch (err) {
            out.push({ stack, error: renderFailureMessage(err) });
        }
    }
    return out;
}

function renderInThread(stacks: string[], dir: string, previousStates: Record<string, PreviousState>): Promise<StackPlan[]> {
    // ts-node registers itself in the thread too: the program is TypeScript.
    const code = `${TS_NODE_REGISTER} require(${JSON.stringify(__filename)});`;
    return new Promise((resolve, reject) => {
        const worker = new Worker(code, { eval: true, workerData: { renderAll: { stacks, dir, previousStates } } });
        let result: StackPlan[] | undefined;
        worker.once("message", (m: StackPlan[]) => (result = m));
        worker.once("error", reject);
        worker.once("exit", (code) => (result ? resolve(result) : reject(new Error(`render thread exited ${code} without a result`))));
    });
}

/** Renders every stack in `stacks`, in order, over `threads` threads of this process. */
export async function renderAll(stacks: string[], dir = REPO_ROOT, threads = 1, previousStates: Record<string, PreviousState> = {}): Promise<StackPlan[]> {
    if (threads <= 1) return renderSequentially(stacks, dir, previousStates);
    // Interleaved, so each thread gets a like share of hml and prod stacks.
    const shares = Array.from({ length: threads }, (_, t) => stacks.filter((_, i) => i % threads === t));
    const rendered = await Promise.all(shares.map((share) => renderInThread(share, dir, previousStates)));
    const byStack = new Map(rendered.flat().map((p) => [p.stack, p]));
    return stacks.map((s) => byStack.get(s)!);
}

if (!isMainThread && workerData?.renderAll) {
    const { stacks, dir, previousStates } = workerData.renderAll as { stacks: string[]; dir: string; previousStates: Record<string, PreviousState> };
    void renderSequentially(stacks, dir, previousStates).then((plans) => parentPort!.postMessage(plans));
}

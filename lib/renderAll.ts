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

/** Renders `stacks` one after the other in this thread, each plan handed over before the next render; an error is kept per stack. */
export async function* renderEach(stacks: string[], dir = REPO_ROOT, previousStates: Record<string, PreviousState> = {}): AsyncGenerator<StackPlan> {
    for (const stack of stacks) {
        let plan: StackPlan;
        try {
            const input = readStackFile(stack, dir);
            // The state the stack was left in before this update, when the caller knows it (plan --diff).
            const previous = previousStates[stack];
            const r = await renderProgram(previous === undefined ? input : { ...input, previousOutputs: outputsBefore(input, previous, dir) });
            plan = { stack, resources: r.resources, outputs: r.outputs };
        } catch (err) {
            plan = { stack, error: renderFailureMessage(err) };
        }
        yield plan;
    }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of items) out.push(item);
    return out;
}

/** A thread's message: the plan of the stack at `index` of the whole list. */
interface ThreadPlan {
    index: number;
    plan: StackPlan;
}

/**
 * Renders `stacks` over `threads` threads of this process and hands the plans over in the order
 * of `stacks`, each as soon as it and every one before it has arrived (only plans that arrive
 * ahead of their turn wait in memory).
 */
export async function* renderEachInThreads(
    stacks: string[],
    dir = REPO_ROOT,
    threads = 1,
    previousStates: Record<string, PreviousState> = {},
): AsyncGenerator<StackPlan> {
    if (threads <= 1) {
        yield* renderEach(stacks, dir, previousStates);
        return;
    }
    const arrived = new Map<number, StackPlan>();
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
        wake?.();
        wake = undefined;
    };
    // Interleaved, so each thread gets a like share of hml and prod stacks.
    const indices = Array.from({ length: threads }, (_, t) => stacks.map((_, i) => i).filter((i) => i % threads === t));
    // ts-node registers itself in the thread too: the program is TypeScript.
    const code = `${TS_NODE_REGISTER} require(${JSON.stringify(__filename)});`;
    const workers = indices.map((share) => {
        const worker = new Worker(code, { eval: true, workerData: { renderAll: { stacks, indices: share, dir, previousStates } } });
        let received = 0;
        worker.on("message", (m: ThreadPlan) => {
            arrived.set(m.index, m.plan);
            received++;
            notify();
        });
        worker.once("error", (err) => {
            failure ??= err;
            notify();
        });
        worker.once("exit", (exitCode) => {
            if (received < share.length) failure ??= new Error(`render thread exited ${exitCode} after ${received} of ${share.length} stacks`);
            notify();
        });
        return worker;
    });
    try {
        for (let i = 0; i < stacks.length; i++) {
            while (!arrived.has(i)) {
                if (failure) throw failure;
                await new Promise<void>((resolve) => (wake = resolve));
            }
            const plan = arrived.get(i)!;
            arrived.delete(i);
            yield plan;
        }
    } finally {
        for (const w of workers) void w.terminate();
    }
}

/** Renders every stack in `stacks`, in order, over `threads` threads of this process. */
export async function renderAll(stacks: string[], dir = REPO_ROOT, threads = 1, previousStates: Record<string, PreviousState> = {}): Promise<StackPlan[]> {
    return collect(renderEachInThreads(stacks, dir, threads, previousStates));
}

if (!isMainThread && workerData?.renderAll) {
    const { stacks, indices, dir, previousStates } = workerData.renderAll as {
        stacks: string[];
        indices: number[];
        dir: string;
        previousStates: Record<string, PreviousState>;
    };
    void (async () => {
        let n = 0;
        for await (const plan of renderEach(
            indices.map((i) => stacks[i]),
            dir,
            previousStates,
        ))
            parentPort!.postMessage({ index: indices[n++], plan } satisfies ThreadPlan);
    })();
}

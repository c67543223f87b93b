// Many stacks' plans as a stream: each stack is rendered, written out and dropped before the
// next, so the memory of `plan --all` and of the fleet's plan diff does not grow with the fleet.
// The JSON array is printed as it goes, one stack per line between "[" and "]": whole, it is
// the JSON it always was; line by line, a reader (the plan diff of a ref rendered by a child
// process) takes one stack at a time.
import { spawn } from "child_process";
import * as readline from "readline";
import { PlannedResource } from "./render";
import { PreviousState } from "./previousOutputs";
import { renderEach, StackPlan } from "./renderAll";
import { tsNodeCommand } from "./tsNode";

/** An error of the plan diff itself (a side that cannot render): the command exits 2 with this message. */
export class PlanDiffError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PlanDiffError";
    }
}

/** Writes `text`, resolving when `out` takes more: a slow reader holds the renders back instead of letting output pile up in memory. */
export function write(out: NodeJS.WritableStream, text: string): Promise<void> {
    return new Promise((resolve) => {
        if (out.write(text)) resolve();
        else out.once("drain", resolve);
    });
}

/** Prints `items` as one JSON array, an element per line, each as soon as it arrives. */
export async function writeJsonArray<T>(out: NodeJS.WritableStream, items: AsyncIterable<T>): Promise<void> {
    let first = true;
    await write(out, "[");
    for await (const item of items) {
        await write(out, `${first ? "\n" : ",\n"}${JSON.stringify(item)}`);
        first = false;
    }
    await write(out, first ? "]\n" : "\n]\n");
}

/**
 * The elements of a JSON array read line by line as writeJsonArray prints it; an array
 * printed on one line (a plan older than the stream) is taken whole.
 */
export async function* readJsonArray<T>(lines: AsyncIterable<string>): AsyncGenerator<T> {
    let opened = false;
    let closed = false;
    for await (const raw of lines) {
        const line = raw.trim();
        if (line === "") continue;
        if (closed) throw new Error(`text after the end of the JSON array: ${line.slice(0, 200)}`);
        if (!opened) {
            if (!line.startsWith("[")) throw new Error(`not a JSON array: ${line.slice(0, 200)}`);
            opened = true;
            if (line === "[") continue;
            // One line holding the whole array.
            for (const item of JSON.parse(line) as T[]) yield item;
            closed = true;
            continue;
        }
        if (line === "]") {
            closed = true;
            continue;
        }
        yield JSON.parse(line.endsWith(",") ? line.slice(0, -1) : line) as T;
    }
    if (!closed) throw new Error(opened ? "the JSON array is cut short" : "no output");
}

/** One stack's side of a plan diff: its resources, and its stack outputs when the plan that rendered it reports them (the gate notes read them). */
export interface SidePlan {
    resources: PlannedResource[];
    outputs?: Record<string, unknown>;
}

/** One side of a plan diff, stack by stack in the order asked: the stack's plan, or why that side could not render it. */
export type SidePlans = AsyncGenerator<[string, SidePlan | Error]>;

function sidePlan(p: StackPlan, side: string): [string, SidePlan | Error] {
    return [p.stack, "error" in p ? new PlanDiffError(`${side}: the plan failed:\n${p.error}`) : { resources: p.resources, outputs: p.outputs }];
}

/**
 * Plans rendered in this process (the working tree's program): a ref's stack files when the ref's
 * program is the working tree's, or the working tree's own. Through JSON, as a child's plan arrives,
 * so both sides of a diff compare alike.
 */
export async function* plansHere(stacks: string[], dir: string, side: string, previousStates: Record<string, PreviousState> = {}): SidePlans {
    for await (const p of renderEach(stacks, dir, previousStates)) {
        const [stack, plan] = sidePlan(p, side);
        yield [stack, plan instanceof Error ? plan : (JSON.parse(JSON.stringify(plan)) as SidePlan)];
    }
}

/**
 * Plans of `stacks` rendered by the plan of the tree in `dir` (its own bin/plan.ts and program) in
 * one child process, read one stack at a time as the child prints them. That plan must take
 * `--stacks a,b --json --previous-states <json>`; one that refuses the command line (exit 2 before
 * printing anything: an older plan) is reported as predating it, in one line.
 */
export async function* plansInChild(
    dir: string,
    stacks: string[],
    side: string,
    previousStates: Record<string, PreviousState> = {},
    env: NodeJS.ProcessEnv = process.env,
): SidePlans {
    if (stacks.length === 0) return;
    const args = ["--stacks", stacks.join(","), "--json"];
    if (Object.keys(previousStates).length > 0) args.push("--previous-states", JSON.stringify(previousStates));
    const [cmd, cmdArgs] = tsNodeCommand("bin/plan.ts", args);
    const child = spawn(cmd, cmdArgs, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => (stderr = (stderr + d).slice(-8000)));
    const exited = new Promise<number>((resolve) => {
        child.once("error", () => resolve(-1));
        child.once("close", (code) => resolve(code ?? -1));
    });
    const seen = new Set<string>();
    let read = false;
    let printed = false;
    const lines = async function* () {
        for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
            printed ||= line.trim() !== "";
            yield line;
        }
    };
    try {
        for await (const p of readJsonArray<StackPlan>(lines())) {
            seen.add(p.stack);
            yield sidePlan(p, side);
        }
        read = true;
    } catch (err) {
        // Cut short or not JSON: the child's exit code and stderr say why. One whose output ended is
        // exiting and keeps its own code; one still printing something else is stopped.
        if (!child.stdout.readableEnded && child.exitCode === null) child.kill();
        const code = await exited;
        if (code === 2 && !printed) throw new PlanDiffError(refusedMessage(side, args, stderr));
        throw new PlanDiffError(`${side}: the plan failed (exit ${code}):\n${(stderr || (err as Error).message).trim().slice(0, 4000)}`);
    } finally {
        // A reader that stops early (the other side failed) does not leave the child rendering.
        if (!read && child.exitCode === null) child.kill();
    }
    await exited;
    const missing = stacks.filter((s) => !seen.has(s));
    if (missing.length > 0) throw new PlanDiffError(`${side}: the plan printed no result for ${missing.join(", ")}:\n${stderr.trim().slice(0, 4000)}`);
}

/** Why a tree's plan refused the plan diff's command line (`args`), in one line, and what to do. */
function refusedMessage(side: string, args: string[], stderr: string): string {
    const said = stderr.trim().split("\n")[0] ?? "";
    const asked = args.map((a, i) => (args[i - 1] === "--previous-states" ? "<json>" : a)).join(" ");
    return (
        `${side}: its bin/plan.ts predates the plan diff's interface (it refused \`plan ${asked}\`${said ? `: ${said}` : ""}); ` +
        "diff against a later ref, or check that ref out and run its own plan"
    );
}

/**
 * Pairs two sides stack by stack: each yields the stacks in the order asked, so the n-th of one is
 * the n-th of the other. `before` holds only the stacks in `atBase`; the others are new stacks.
 * `concurrently`: both sides' next plan is asked for at once (one side renders in a child process);
 * otherwise one after the other (both render in this process, which has one Pulumi runtime).
 */
export async function* pairSides(
    stacks: string[],
    atBase: Set<string>,
    before: SidePlans,
    after: SidePlans,
    concurrently = false,
): AsyncGenerator<[string, SidePlan | Error | undefined, SidePlan | Error]> {
    const nextOf = async (side: SidePlans, stack: string, name: string) => {
        const next = await side.next();
        if (next.done || next.value[0] !== stack) throw new PlanDiffError(`${name} plans came out of order at ${stack}`);
        return next.value[1];
    };
    for (const stack of stacks) {
        const b = () => (atBase.has(stack) ? nextOf(before, stack, "the ref's") : Promise.resolve(undefined));
        const a = () => nextOf(after, stack, "the working tree's");
        const [bPlan, aPlan] = concurrently ? await Promise.all([b(), a()]) : [await b(), await a()];
        yield [stack, bPlan, aPlan];
    }
}

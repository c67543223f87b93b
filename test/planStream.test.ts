// The fleet's plans are streamed: rendered, printed and dropped one stack at a time, so the
// memory of `plan --all` and of the fleet's diff does not grow with the fleet.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import { readJsonArray, writeJsonArray } from "../lib/planStream";
import { renderEach, renderEachInThreads } from "../lib/renderAll";
import { REPO_ROOT } from "../lib/stackFiles";

async function* lines(...ls: string[]): AsyncGenerator<string> {
    yield* ls;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const i of items) out.push(i);
    return out;
}

describe("plan streaming (lib/planStream.ts)", () => {
    it("prints a JSON array element by element: each element is out before the next is asked for", async () => {
        const out = new PassThrough();
        let printed = "";
        out.on("data", (d: Buffer) => (printed += d.toString()));
        const seenWhenAsked: string[] = [];
        async function* items() {
            for (const stack of ["a-hml", "a-prod", "b-hml"]) {
                await new Promise((r) => setImmediate(r));
                seenWhenAsked.push(printed);
                yield { stack, n: stack.length };
            }
        }
        await writeJsonArray(out, items());
        assert.deepEqual(seenWhenAsked, ["[", '[\n{"stack":"a-hml","n":5}', '[\n{"stack":"a-hml","n":5},\n{"stack":"a-prod","n":6}']);
        assert.deepEqual(JSON.parse(printed), [
            { stack: "a-hml", n: 5 },
            { stack: "a-prod", n: 6 },
            { stack: "b-hml", n: 5 },
        ]);
        const empty = new PassThrough();
        let none = "";
        empty.on("data", (d: Buffer) => (none += d.toString()));
        await writeJsonArray(empty, lines());
        assert.deepEqual(JSON.parse(none), []);
    });

    it("reads such an array line by line, and an array on one line whole; a cut-short array is an error", async () => {
        assert.deepEqual(await all(readJsonArray(lines("[", '{"a":1},', '{"a":2}', "]"))), [{ a: 1 }, { a: 2 }]);
        assert.deepEqual(await all(readJsonArray(lines('[{"a":1},{"a":2}]'))), [{ a: 1 }, { a: 2 }]);
        assert.deepEqual(await all(readJsonArray(lines("[]"))), []);
        await assert.rejects(all(readJsonArray(lines("[", '{"a":1},'))), /cut short/);
        await assert.rejects(all(readJsonArray(lines("plan: failed"))), /not a JSON array/);
        await assert.rejects(all(readJsonArray(lines())), /no output/);
        await assert.rejects(all(readJsonArray(lines("[]", "[]"))), /after the end/);
    });

    it("reads and renders a stack only when the one before it has been taken", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-stream-"));
        try {
            for (const f of ["Pulumi.yaml", "Pulumi.c2a7dv-hml.yaml", "Pulumi.c2a7dv-prod.yaml"]) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
            const plans = renderEach(["c2a7dv-hml", "c2a7dv-prod"], dir);
            const first = await plans.next();
            assert.ok(!first.done && first.value.stack === "c2a7dv-hml" && "resources" in first.value);
            // The second stack file goes after the first plan was handed over: it had not been read.
            fs.rmSync(path.join(dir, "Pulumi.c2a7dv-prod.yaml"));
            const second = await plans.next();
            assert.ok(!second.done && second.value.stack === "c2a7dv-prod" && "error" in second.value && /no stack file/.test(second.value.error));
            assert.ok((await plans.next()).done);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("over threads, hands the plans over in the order asked, with the same content as one thread", async () => {
        const stacks = ["c2a7dv-prod", "c2a7dv-hml", "c2a7dv-prod"];
        const threaded = await all(renderEachInThreads(stacks, REPO_ROOT, 2));
        assert.deepEqual(
            threaded.map((p) => p.stack),
            stacks,
        );
        assert.deepEqual(threaded, await all(renderEach(stacks, REPO_ROOT)));
    });
});

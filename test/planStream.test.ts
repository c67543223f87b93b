// The fleet's plans are streamed: rendered, printed and dropped one stack at a time, so the
// memory of `plan --all` and of the fleet's diff does not grow with the fleet.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import { plansInChild, readJsonArray, writeJsonArray } from "../lib/planStream";
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

    it("reports a ref whose plan refuses the diff's command line as predating it, in one line; a plan that fails a stack as that stack's failure", async () => {
        // A plan that predates --previous-states: it refuses it as a usage error (exit 2, nothing on stdout).
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-older-"));
        try {
            fs.mkdirSync(path.join(dir, "bin"));
            fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
            fs.writeFileSync(
                path.join(dir, "bin", "plan.ts"),
                [
                    'if (process.argv.includes("--previous-states")) {',
                    '    process.stderr.write("plan: unknown argument --previous-states\\nusage: npm run plan -- --stacks <a,b>\\n");',
                    "    process.exit(2);",
                    "}",
                    'process.stdout.write(\'[\\n{"stack":"c2a7dv-hml","error":"protheus:updateDesiredVersion is not a version"}\\n]\\n\');',
                    "process.exit(2);",
                    "",
                ].join("\n"),
            );
            const refused = all(plansInChild(dir, ["c2a7dv-hml"], "at v1 (1234567)", { "c2a7dv-hml": { version: "12.1.2410" } }));
            await assert.rejects(refused, (e: Error) => {
                assert.match(
                    e.message,
                    /^at v1 \(1234567\): its bin\/plan\.ts predates the plan diff's interface \(it refused `plan --stacks c2a7dv-hml --json --previous-states <json>`: plan: unknown argument --previous-states\); diff against a later ref/,
                );
                assert.ok(!e.message.includes("\n"), e.message);
                return true;
            });
            const [[stack, plan]] = await all(plansInChild(dir, ["c2a7dv-hml"], "at v1 (1234567)"));
            assert.equal(stack, "c2a7dv-hml");
            assert.ok(plan instanceof Error && /^at v1 \(1234567\): the plan failed:\nprotheus:updateDesiredVersion/.test(plan.message), String(plan));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

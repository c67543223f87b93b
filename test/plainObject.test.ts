// The one merge of plain objects: config layers (Pulumi.yaml defaults, stage defaults, the stack
// file) and maintenance values over chart values both go through it.
import { strict as assert } from "assert";
import { isPlainObject, overlay } from "../lib/plainObject";

describe("plain objects", () => {
    it("an object of named values is neither null nor a list", () => {
        assert.deepEqual([{}, { a: 1 }, null, [], "x", 1, undefined].map(isPlainObject), [true, true, false, false, false, false, false]);
    });

    it("overlay merges objects key by key and replaces lists and scalars whole", () => {
        const base = { appserver: { replicas: 3, env: ["A=1", "B=2"] }, dbaccess: { port: 7890 } };
        const over = { appserver: { replicas: 0, env: ["C=3"] } };
        assert.deepEqual(overlay(base, over), { appserver: { replicas: 0, env: ["C=3"] }, dbaccess: { port: 7890 } });
    });

    it("null replaces (Helm drops that chart default); undefined, a key not given, keeps the base", () => {
        const base = { appserver: { replicas: 3, probe: { path: "/health" } } };
        assert.deepEqual(overlay(base, { appserver: { probe: null } }), { appserver: { replicas: 3, probe: null } });
        assert.deepEqual(overlay(base, { appserver: { replicas: undefined } }), base);
        assert.deepEqual(overlay(base, undefined), base);
        assert.equal(overlay("shared", undefined), "shared");
    });

    it("changes neither argument: merged objects are new, the parts taken whole are shared", () => {
        const base = { appserver: { replicas: 3, env: ["A=1"] } };
        const over = { appserver: { replicas: 0 }, extra: { on: true } };
        const [baseCopy, overCopy] = [structuredClone(base), structuredClone(over)];
        const merged = overlay(base, over);
        assert.deepEqual([base, over], [baseCopy, overCopy]);
        assert.notEqual(merged.appserver, base.appserver);
        assert.equal(merged.extra, over.extra);
    });
});

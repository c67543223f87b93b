// The Pulumi SDK internals the offline plan uses (lib/pulumiInternals.ts): each one still exists in
// the installed SDK, and together they still make lib/render.ts see what a program declares.
// When a Pulumi upgrade breaks one, these tests say which and why it is needed.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { INTERNALS } from "../lib/pulumiInternals";
import { renderProgram, resourceKey } from "../lib/render";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed SDK's own package.json, read at run time
const SDK_VERSION: string = require("@pulumi/pulumi/package.json").version;

describe(`Pulumi SDK internals (@pulumi/pulumi ${SDK_VERSION})`, () => {
    for (const { module, member, why } of INTERNALS) {
        it(`${module} exports ${member}`, () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module comes from the internals table
            const value = (require(module) as Record<string, unknown>)[member];
            const expected = member.startsWith("special") ? "string" : "function";
            assert.equal(
                typeof value,
                expected,
                `@pulumi/pulumi ${SDK_VERSION}: ${module}.${member} is ${typeof value}, expected a ${expected}. ` +
                    `The offline plan uses it: ${why}. Adapt lib/pulumiInternals.ts to the new SDK.`,
            );
            if (expected === "string") assert.match(value as string, /^[0-9a-f]{32}$/, `${module}.${member} is no longer a 32-hex signature`);
        });
    }

    it("a resource transform (registerResourceTransform) runs in the engine: the mocks never call it, so lib/render.ts observes resources with a stack transformation", async () => {
        const program = path.join(__dirname, "support", "transforms-program.ts");
        const result = await renderProgram({ stack: "dev", config: {}, secretKeys: [] }, program);
        assert.ok(result.resources.some((r) => r.type === "test:index:Group" && r.name === "group"));
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program's module, as the render left it
        assert.deepEqual((require(program) as { transformed: string[] }).transformed, []);
    });

    describe("a program rendered through them", () => {
        let result: Awaited<ReturnType<typeof renderProgram>>;
        const thing = (name: string) => result.resources.find((r) => r.type === "test:index:Thing" && r.name === name)!;

        before(async () => {
            result = await renderProgram(
                { stack: "dev", config: { "protheus:password": "pw", "protheus:plain": "p" }, secretKeys: ["protheus:password"] },
                path.join(__dirname, "support", "internals-program.ts"),
            );
        });

        it("records each resource's parent by type and name (__pulumiType, __name)", () => {
            assert.equal(thing("child").parent, "test:index:Group::group");
            assert.equal(result.resources.find((r) => r.name === "group")!.parent, null);
        });

        it("gives each resource the engine's URN and records its aliases as URNs (MockMonitor, __aliases)", () => {
            const group = result.resources.find((r) => r.name === "group")!;
            assert.equal(group.urn, "urn:pulumi:dev::protheus::test:index:Group::group");
            assert.equal(group.aliases, undefined);
            assert.equal(thing("renamed").urn, "urn:pulumi:dev::protheus::test:index:Group$test:index:Thing::renamed");
            assert.deepEqual(thing("renamed").aliases, ["urn:pulumi:dev::protheus::test:index:Group$test:index:Thing::old-name"]);
        });

        it("records explicit dependencies", () => {
            assert.deepEqual(result.options[resourceKey("test:index:Thing", "child")]!.dependsOn, ["test:index:Thing::other"]);
        });

        it("recognises a secret input by its RPC signature", () => {
            assert.equal(thing("child").inputs.password, "[secret]");
            assert.ok(!JSON.stringify(result.resources).includes("s3cr3t"));
        });

        it("masks a secret stack output and knows which config keys are secret", () => {
            assert.equal(result.outputs.token, "[secret]");
            assert.ok(!JSON.stringify(result.outputs).includes("t0ken"));
            assert.deepEqual(result.outputs.secretKeys, ["protheus:password"]);
        });
    });
});

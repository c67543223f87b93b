import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../config/load";
import { PromotionError, promotionProblem } from "../lib/promotion";
import { readStackFile, REPO_ROOT } from "../lib/render";
import { find, render, renderFailure, stackWith } from "./support/stacks";

const HML = "totvs/protheus/hml";
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("promotionProblem", () => {
    it("lets prod run what hml runs, or trail it", () => {
        assert.equal(promotionProblem("12.1.2510", "12.1.2510", HML), undefined);
        assert.equal(promotionProblem("12.1.2410", "12.1.2510", HML), undefined);
        assert.equal(promotionProblem("12.1.2510-2", "12.1.2510-3", HML), undefined);
    });

    it("stops prod from leading hml, naming both versions and the way out", () => {
        const problem = promotionProblem("12.1.2610", "12.1.2510", HML);
        assert.match(problem!, /protheus:updateDesiredVersion = "12\.1\.2610" has not run on hml: stack totvs\/protheus\/hml runs 12\.1\.2510/);
        assert.match(problem!, /protheus:promotion\.override/);
        // A pre-release sorts before its release: 12.1.2610-1 has not run when hml runs 12.1.2510.
        assert.ok(promotionProblem("12.1.2610-1", "12.1.2510", HML));
    });

    it("accepts an override only for the exact version it names", () => {
        const override = { version: "12.1.2610", reason: "hotfix for a fiscal deadline, approved by the CAB" };
        assert.equal(promotionProblem("12.1.2610", "12.1.2510", HML, override), undefined);
        assert.match(promotionProblem("12.1.2611", "12.1.2510", HML, override)!, /override is for 12\.1\.2610, not 12\.1\.2611/);
    });

    it("refuses when hml exports no version", () => {
        assert.match(promotionProblem("12.1.2410", undefined, HML)!, /exports no valid updateDesiredVersion/);
    });
});

describe("the prod promotion gate in the plan", () => {
    it("passes the committed stacks: prod's version runs on hml", async () => {
        const { resources } = await render(stackWith("prod"));
        assert.equal((find(resources, RELEASE).inputs as any).version, "12.1.2410");
        assert.equal((find(resources, "pulumi:pulumi:StackReference", "hml").inputs as any).name, HML);
    });

    it("fails prod with a clear message, before any environment resource, when its version has not run on hml", async () => {
        const err = await renderFailure(stackWith("prod", { updateDesiredVersion: "12.1.2610" }));
        assert.ok(err.cause instanceof PromotionError, err.message);
        assert.match(err.message, /"12\.1\.2610" has not run on hml: stack totvs\/protheus\/hml runs 12\.1\.2510/);
        assert.deepEqual(err.resources.map((r) => r.type), ["pulumi:pulumi:StackReference"]);
    });

    it("lets the version through with an override that gives a reason", async () => {
        const override = { version: "12.1.2610", reason: "fiscal hotfix, hml environment is down for maintenance" };
        const { resources } = await render(stackWith("prod", { updateDesiredVersion: "12.1.2610", promotion: { hmlStack: HML, override } }));
        assert.equal((find(resources, RELEASE).inputs as any).version, "12.1.2610");
    });

    it("resolves the reference offline from Pulumi.hml.yaml: moving hml first unblocks prod", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
        try {
            const hml = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.hml.yaml"), "utf8").replace(/updateDesiredVersion: .*/, "updateDesiredVersion: 12.1.2610");
            fs.writeFileSync(path.join(dir, "Pulumi.hml.yaml"), hml);
            fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), path.join(dir, "Pulumi.prod.yaml"));
            const prod = readStackFile("prod", dir);
            prod.config["protheus:updateDesiredVersion"] = "12.1.2610";
            const { resources } = await render(prod);
            assert.equal((find(resources, RELEASE).inputs as any).version, "12.1.2610");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("requires prod to name its hml stack, forbids the gate in hml, and wants a real reason", async () => {
        const cases: [ReturnType<typeof stackWith>, RegExp][] = [
            [stackWith("prod", { promotion: undefined }), /^protheus:promotion is missing: expected promotion\.hmlStack/],
            [stackWith("hml", { promotion: { hmlStack: HML } }), /^protheus:promotion = .*only prod is gated/],
            [stackWith("prod", { promotion: { hmlStack: HML, override: { version: "12.1.2610", reason: "urgent" } } }), /^protheus:promotion\.override\.reason = "urgent": expected a written reason/],
        ];
        for (const [input, expected] of cases) {
            const err = await renderFailure(input);
            assert.ok(err.cause instanceof ConfigError, err.message);
            assert.ok(err.cause.problems.some((p) => expected.test(p)), err.cause.message);
            assert.equal(err.resources.length, 0);
        }
    });
});

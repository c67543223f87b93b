import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../config/load";
import { PromotionError, promotionProblem, promotionVerdict, ranVersionsAfter, ranVersionsBefore } from "../lib/promotion";
import { readStackFile, REPO_ROOT } from "../lib/stackFiles";
import { find, render, renderExample, renderFailure, stackWith } from "./support/stacks";

const HML = "organization/protheus/c2a7dv-hml";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const REF = "pulumi:pulumi:StackReference";
const check = (prodVersion: string, override?: { version: string; reason: string }) => ({ prodVersion, environment: "c2a7dv", hmlStack: HML, override });
const hmlRan = (...ranVersions: string[]) => ({ environment: "c2a7dv", ranVersions });

describe("promotionProblem: exactly the versions hml ran", () => {
    it("lets prod run a version hml ran, including a rollback to an older one", () => {
        assert.equal(promotionProblem(check("12.1.2510"), hmlRan("12.1.2410", "12.1.2510")), undefined);
        assert.equal(promotionProblem(check("12.1.2410"), hmlRan("12.1.2410", "12.1.2510")), undefined);
    });

    it("refuses a version below hml's newest that hml never ran, naming what it ran and the way out", () => {
        const problem = promotionProblem(check("12.1.2450"), hmlRan("12.1.2410", "12.1.2510"));
        assert.match(
            problem!,
            /protheus:updateDesiredVersion = "12\.1\.2450" has not run successfully on hml: stack organization\/protheus\/c2a7dv-hml ran 12\.1\.2410, 12\.1\.2510/,
        );
        assert.match(problem!, /protheus:promotion\.override/);
        assert.ok(promotionProblem(check("12.1.2610"), hmlRan("12.1.2510")));
    });

    it("refuses another environment's hml, naming both codes, even with an override", () => {
        const override = { version: "12.1.2510", reason: "hotfix for a fiscal deadline, approved by the CAB" };
        const problem = promotionProblem(check("12.1.2510", override), { environment: "x9k2pq", ranVersions: ["12.1.2510"] });
        assert.match(problem!, /hml stack of environment x9k2pq, not of this stack's environment c2a7dv/);
        const named = promotionProblem({ ...check("12.1.2510"), hmlStack: "organization/protheus/x9k2pq-hml" }, hmlRan("12.1.2510"));
        assert.match(
            named!,
            /protheus:promotion\.hmlStack = "organization\/protheus\/x9k2pq-hml" is the hml stack of environment x9k2pq, not of this stack's environment c2a7dv/,
        );
        assert.match(
            promotionProblem({ ...check("12.1.2510"), hmlStack: "organization/protheus/c2a7dv-prod" }, hmlRan("12.1.2510"))!,
            /is a prod stack, not an hml stack/,
        );
    });

    it("accepts an override only for the exact version it names", () => {
        const override = { version: "12.1.2610", reason: "hotfix for a fiscal deadline, approved by the CAB" };
        assert.equal(promotionProblem(check("12.1.2610", override), hmlRan("12.1.2510")), undefined);
        assert.match(promotionProblem(check("12.1.2611", override), hmlRan("12.1.2510"))!, /override is for 12\.1\.2610, not 12\.1\.2611/);
    });

    it("refuses when hml exports no history or no environment", () => {
        assert.match(promotionProblem(check("12.1.2410"), { environment: "c2a7dv", ranVersions: undefined })!, /exports no valid ranVersions list/);
        assert.match(promotionProblem(check("12.1.2410"), { environment: undefined, ranVersions: ["12.1.2410"] })!, /exports no environment code/);
    });
});

describe("promotionVerdict: a rollback to a version the stack itself ran", () => {
    it("lets prod go back to a version in its own history that hml no longer lists, and says which entry let it through", () => {
        const verdict = promotionVerdict(check("12.1.2410"), hmlRan("12.1.2510"), ["12.1.2410", "12.1.2510"]);
        assert.equal(verdict.problem, undefined);
        assert.match(verdict.grantedBy!, /12\.1\.2410 is in this stack's own history/);
        assert.match(
            promotionVerdict(check("12.1.2510"), hmlRan("12.1.2510"), ["12.1.2410"]).grantedBy!,
            /history of organization\/protheus\/c2a7dv-hml \(hml ran 12\.1\.2510\)/,
        );
        const override = { version: "12.1.2610", reason: "hotfix for a fiscal deadline, approved by the CAB" };
        assert.match(
            promotionVerdict(check("12.1.2610", override), hmlRan("12.1.2510"), []).grantedBy!,
            /protheus:promotion\.override for 12\.1\.2610: hotfix/,
        );
    });

    it("refuses a version neither history holds, and never reads its own history past another environment's hml", () => {
        assert.match(promotionProblem(check("12.1.2450"), hmlRan("12.1.2510"), ["12.1.2410"])!, /has not run successfully on hml/);
        assert.match(promotionProblem(check("12.1.2410"), { environment: "x9k2pq", ranVersions: [] }, ["12.1.2410"])!, /environment x9k2pq/);
    });

    it("seeds the own history of a stack that exported none yet with the version its last update left deployed", () => {
        assert.deepEqual(ranVersionsBefore({ version: "12.1.2410", releaseStatus: "deployed" }), ["12.1.2410"]);
        assert.deepEqual(ranVersionsBefore({ version: "12.1.2410", releaseStatus: "failed" }), []);
        assert.deepEqual(ranVersionsBefore({ ranVersions: ["12.1.2310"], version: "12.1.2410", releaseStatus: "deployed" }), ["12.1.2310"]);
    });
});

describe("ranVersionsAfter: a stack's history", () => {
    it("adds the version once its release reached deployed, keeping what ran before, in version order", () => {
        assert.deepEqual(ranVersionsAfter(["12.1.2510"], "12.1.2410", { status: "deployed", version: "12.1.2410" }), ["12.1.2410", "12.1.2510"]);
        assert.deepEqual(ranVersionsAfter(undefined, "12.1.2410", { status: "deployed" }), ["12.1.2410"]);
        assert.deepEqual(ranVersionsAfter(["12.1.2410"], "12.1.2410", { status: "deployed" }), ["12.1.2410"]);
    });

    it("does not add a version whose release failed or is another version", () => {
        assert.deepEqual(ranVersionsAfter(["12.1.2410"], "12.1.2510", { status: "failed", version: "12.1.2510" }), ["12.1.2410"]);
        assert.deepEqual(ranVersionsAfter(["12.1.2410"], "12.1.2510", { status: "deployed", version: "12.1.2410" }), ["12.1.2410"]);
        assert.deepEqual(ranVersionsAfter("junk", "12.1.2510", undefined), []);
    });
});

describe("the prod promotion gate in the plan", () => {
    it("passes the committed stacks: prod reads c2a7dv-hml, derived from its own name", async () => {
        const { resources } = await renderExample("prod");
        assert.equal((find(resources, RELEASE).inputs as any).version, "12.1.2410");
        assert.equal((find(resources, "pulumi:pulumi:StackReference", "hml").inputs as any).name, HML);
    });

    it("exports the environment code from both stages and the history from hml", async () => {
        const hml = await renderExample("hml");
        assert.equal(hml.outputs.environment, "c2a7dv");
        // Offline, hml's history is what its stack file says now.
        assert.deepEqual(hml.outputs.ranVersions, ["12.1.2510"]);
        assert.equal((find(hml.resources, REF).inputs as any).name, HML);
        const prod = await renderExample("prod");
        assert.equal(prod.outputs.environment, "c2a7dv");
        // prod keeps its own history too: a rollback to a version it ran passes the gate.
        assert.deepEqual(prod.outputs.ranVersions, ["12.1.2410"]);
    });

    it("fails prod with a clear message, before any environment resource, when hml has not run its version", async () => {
        const err = await renderFailure(stackWith("prod", { updateDesiredVersion: "12.1.2450", promotion: undefined }));
        assert.ok(err.cause instanceof PromotionError, err.message);
        assert.match(err.message, /"12\.1\.2450" has not run successfully on hml: stack organization\/protheus\/c2a7dv-hml ran 12\.1\.2510/);
        // Only the references to hml and to the stack itself (whose history the gate also reads).
        assert.deepEqual(
            err.resources.map((r) => `${r.type}::${r.name}`),
            [`${REF}::hml`, `${REF}::self`],
        );
    });

    it("refuses a configured hml stack of another environment before reading it", async () => {
        const err = await renderFailure(stackWith("prod", { updateDesiredVersion: "12.1.2510", promotion: { hmlStack: "organization/protheus/x9k2pq-hml" } }));
        assert.ok(err.cause instanceof PromotionError, err.message);
        assert.match(err.message, /environment x9k2pq, not of this stack's environment c2a7dv/);
        assert.deepEqual(err.resources, []);
    });

    it("lets the version through with an override that gives a reason", async () => {
        const override = { version: "12.1.2610", reason: "fiscal hotfix, hml environment is down for maintenance" };
        const { resources } = await render(stackWith("prod", { updateDesiredVersion: "12.1.2610", promotion: { override } }));
        assert.equal((find(resources, RELEASE).inputs as any).version, "12.1.2610");
    });

    it("resolves the reference offline from the hml stack file: moving hml first unblocks prod", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
        try {
            fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            const hml = fs
                .readFileSync(path.join(REPO_ROOT, "Pulumi.c2a7dv-hml.yaml"), "utf8")
                .replace(/updateDesiredVersion: .*/, "updateDesiredVersion: 12.1.2610");
            fs.writeFileSync(path.join(dir, "Pulumi.c2a7dv-hml.yaml"), hml);
            fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.c2a7dv-prod.yaml"), path.join(dir, "Pulumi.c2a7dv-prod.yaml"));
            const prod = readStackFile("c2a7dv-prod", dir);
            prod.config["protheus:updateDesiredVersion"] = "12.1.2610";
            const { resources } = await render(prod);
            assert.equal((find(resources, RELEASE).inputs as any).version, "12.1.2610");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("forbids the gate in hml and wants a real reason", async () => {
        const cases: [ReturnType<typeof stackWith>, RegExp][] = [
            [stackWith("hml", { promotion: { hmlStack: HML } }), /^protheus:promotion = .*only prod is gated/],
            [
                stackWith("prod", { promotion: { override: { version: "12.1.2610", reason: "urgent" } } }),
                /^protheus:promotion\.override\.reason = "urgent": expected a written reason/,
            ],
        ];
        for (const [input, expected] of cases) {
            const err = await renderFailure(input);
            assert.ok(err.cause instanceof ConfigError, err.message);
            assert.ok(
                err.cause.problems.some((p) => expected.test(p)),
                err.cause.message,
            );
            assert.equal(err.resources.length, 0);
        }
    });
});

describe("stack name and stage", () => {
    it("refuses a stack whose name and protheus:stage disagree, naming both, before any resource", async () => {
        const err = await renderFailure({ ...stackWith("hml"), stack: "c2a7dv-prod" });
        assert.ok(err.cause instanceof ConfigError, err.message);
        assert.match(err.message, /stack "c2a7dv-prod" is named for stage prod but its protheus:stage = "hml"/);
        assert.deepEqual(err.resources, []);
    });

    it("refuses a stack not named <environment>-<stage>, saying how to rename it", async () => {
        const err = await renderFailure({ ...stackWith("hml"), stack: "hml" });
        assert.match(err.message, /stack name "hml" is not <environment>-<stage>.*pulumi stack rename/);
    });
});

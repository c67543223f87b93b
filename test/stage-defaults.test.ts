// What every stack of a stage shares lives in Pulumi.yaml (protheus:stageDefaults.prod / .hml),
// laid over protheus:defaults and under the stack file; alert recipients default to the
// responsible teams' groups. The compact stack files must mean what the explicit ones meant.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { environmentFiles } from "../bin/new-environment";
import { ConfigError, layerStackValues, parseStackConfig } from "../config/load";
import { alertRecipients } from "../config/drill";
import { renderProgram } from "../lib/render";
import { projectConfigFromYaml, readStackFile, REPO_ROOT, stackConfigFromYaml } from "../lib/stackFiles";
import { stackWith } from "./support/stacks";
import { isPlainObject } from "../lib/plainObject";
import { parse as parseYaml } from "yaml";

const EXPLICIT = path.join(REPO_ROOT, "test", "fixtures", "explicit-stacks");
const nonCommentLines = (text: string) => text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));

function problemsOf(raw: Record<string, string>): string[] {
    try {
        parseStackConfig(raw, () => false);
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
    }
}

describe("stage defaults (protheus:stageDefaults)", () => {
    const layered = (own: Record<string, unknown>) => layerStackValues(own);

    it("lays the stage's section over protheus:defaults and the stack file over both, field by field; lists replace", () => {
        const { input, problems } = layered({
            defaults: { volume: { size: "100Gi", claimName: "v" }, backup: { targets: ["gcs"], gcs: { location: "X" } } },
            stageDefaults: {
                prod: { volume: { size: "500Gi" }, backup: { targets: ["gcs", "rubrik"], gcs: { project: "p" } } },
                hml: { volume: { size: "1Gi" } },
            },
            stage: "prod",
            backup: { gcs: { retentionDays: 30 } },
        });
        assert.deepEqual(problems, []);
        assert.deepEqual(input.volume, { size: "500Gi", claimName: "v" });
        assert.deepEqual(input.backup, { targets: ["gcs", "rubrik"], gcs: { location: "X", project: "p", retentionDays: 30 } });
        assert.equal(input.stageDefaults, undefined);
        assert.equal(input.defaults, undefined);
    });

    it("gives an hml stack the hml section only, and a stack without a known stage no section", () => {
        const shared = { defaults: { volume: { size: "100Gi" } }, stageDefaults: { prod: { volume: { size: "500Gi" } }, hml: { volume: { size: "1Gi" } } } };
        assert.deepEqual(layered({ ...shared, stage: "hml" }).input.volume, { size: "1Gi" });
        assert.deepEqual(layered({ ...shared, stage: "dev" }).input.volume, { size: "100Gi" });
    });

    it("names a malformed stageDefaults with the stack's other problems, at once", () => {
        const hml = readStackFile("c2a7dv-hml").config;
        const problems = problemsOf({ ...hml, "protheus:stageDefaults": JSON.stringify({ staging: {}, prod: [1] }), "protheus:volume": '{"size":"lots"}' });
        assert.ok(
            problems.some((p) => p === "protheus:stageDefaults.staging: unknown stage (expected prod or hml)"),
            problems.join("\n"),
        );
        assert.ok(
            problems.some((p) => /^protheus:stageDefaults\.prod = \[1\]: expected an object/.test(p)),
            problems.join("\n"),
        );
        assert.ok(
            problems.some((p) => /^protheus:volume\.size = "lots"/.test(p)),
            problems.join("\n"),
        );
    });

    it("the compact committed stack files render exactly what the explicit files rendered (every resource, input and option)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "explicit-stacks-"));
        try {
            for (const f of fs.readdirSync(EXPLICIT)) fs.copyFileSync(path.join(EXPLICIT, f), path.join(dir, f));
            const explicitProject = projectConfigFromYaml(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
            assert.equal(explicitProject["protheus:stageDefaults"], undefined, "the fixture is the layout without stage defaults");
            for (const stack of ["c2a7dv-hml", "c2a7dv-prod"]) {
                const explicitText = fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
                const before = await renderProgram({ ...stackConfigFromYaml(stack, explicitText, explicitProject), stackFileDir: dir });
                const after = await renderProgram(readStackFile(stack));
                assert.ok(before.resources.length > 20, stack);
                assert.deepEqual(after.resources, before.resources, stack);
                // Which entry let prod's version through depends on the git history beside the files (the
                // fixture copy has none, so its override answers): both must pass, the rest must be equal.
                const { promotion: afterGate, ...afterOutputs } = after.outputs;
                const { promotion: beforeGate, ...beforeOutputs } = before.outputs;
                assert.deepEqual(afterOutputs, beforeOutputs, stack);
                assert.equal(typeof afterGate, typeof beforeGate, stack);
            }
            // The committed prod file is the short one.
            assert.ok(
                nonCommentLines(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.c2a7dv-prod.yaml"), "utf8")).length <
                    nonCommentLines(fs.readFileSync(path.join(dir, "Pulumi.c2a7dv-prod.yaml"), "utf8")).length,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a new environment's prod file sets only what is its own: stage, namespace, version, customer group, Rubrik export path", () => {
        const prod = environmentFiles("ab12cd", "12.1.2510", "protheus-cliente-ab12cd@totvs.com.br")["ab12cd-prod"];
        const leaves = (v: unknown, at: string): string[] =>
            isPlainObject(v) ? Object.entries(v).flatMap(([k, child]) => leaves(child, at ? `${at}.${k}` : k)) : [at];
        assert.deepEqual(leaves(parseYaml(prod).config, ""), [
            "protheus:stage",
            "protheus:namespace",
            "protheus:updateDesiredVersion",
            "protheus:access.groups.cliente",
            "protheus:backup.rubrik.exportPath",
        ]);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stage-defaults-"));
        try {
            fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            fs.writeFileSync(path.join(dir, "Pulumi.ab12cd-prod.yaml"), prod);
            const cfg = parseStackConfig(readStackFile("ab12cd-prod", dir).config, () => false);
            // What every prod shares came from stageDefaults.prod.
            assert.deepEqual(cfg.backup?.targets, ["gcs", "rubrik"]);
            assert.equal(cfg.backup?.gcs?.project, "totvs-protheus-prod");
            assert.equal(cfg.backup?.gcs?.lockRetention, true);
            assert.equal(cfg.backup?.rubrik?.exportPath, "/export/protheus/ab12cd");
            assert.equal(cfg.volume.size, "500Gi");
            assert.deepEqual(cfg.alerts?.emails, []);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("alert recipients", () => {
    const groups = { smartsre: "sre@x.com", "devops-protheus": "dp@x.com", dbas: "dba@x.com", gcad: "gcad@x.com", cliente: "c@x.com" };

    it("are the groups of the teams responsible for the robots and the database, then the stack's extra e-mails, each once", () => {
        assert.deepEqual(alertRecipients([], groups), ["sre@x.com", "dp@x.com", "dba@x.com"]);
        assert.deepEqual(alertRecipients(["oncall@x.com", "dba@x.com"], groups), ["sre@x.com", "dp@x.com", "dba@x.com", "oncall@x.com"]);
        // A team without a group (opted out) receives nothing; artifact teams and the customer never do.
        assert.deepEqual(alertRecipients([], { dbas: "dba@x.com", gcad: "gcad@x.com" }), ["dba@x.com"]);
    });

    it("the committed prod stack e-mails the three responsible teams' groups without listing them", async () => {
        assert.doesNotMatch(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.c2a7dv-prod.yaml"), "utf8"), /alerts|@totvs\.com\.br\]/);
        const { resources } = await renderProgram(stackWith("prod", { alerts: { emails: ["plantao@totvs.com.br"] } }));
        const emails = resources
            .filter((r) => r.type === "gcp:monitoring/notificationChannel:NotificationChannel")
            .map((r) => (r.inputs.labels as { email_address: string }).email_address);
        assert.deepEqual(emails, ["protheus-smartsre@totvs.com.br", "protheus-devops@totvs.com.br", "protheus-dbas@totvs.com.br", "plantao@totvs.com.br"]);
    });

    it("refuses a prod alerts section that reaches nobody: every responsible team opted out and no e-mail or channel", () => {
        const input = stackWith("prod", {
            access: {
                groups: {
                    gcad: "g@x.com",
                    tecnologia: "t@x.com",
                    framework: "f@x.com",
                    "devops-cloud": "dc@x.com",
                    cliente: "protheus-cliente-c2a7dv@totvs.com.br",
                },
                optOut: { smartsre: "not this customer's SRE", "devops-protheus": "robots run by another team", dbas: "database run by the customer" },
                deployers: ["pulumi-deployer@totvs-protheus.iam.gserviceaccount.com"],
            },
        });
        const problems = problemsOf(input.config);
        assert.ok(
            problems.some((p) => /^protheus:alerts\.emails .*: expected at least one e-mail or channel id/.test(p)),
            problems.join("\n"),
        );
    });
});

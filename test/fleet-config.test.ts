// The fleet layout: project config precedence as Pulumi resolves it, stack
// names and stages, and the new-environment scaffold.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseStackConfig } from "../config/load";
import { environmentFiles, main, NewEnvironmentError, prepareEnvironment, writeEnvironment } from "../bin/new-environment";
import { environmentCodeProblem, listFleet, listStackNames, parseStackName, stackNameProblem } from "../lib/fleet";
import { renderProgram } from "../lib/render";
import { projectConfigFromYaml, readStackFile, REPO_ROOT, stackConfigFromYaml } from "../lib/stackFiles";
import { resolvedStackFile, exampleStack } from "./support/stacks";
import { runMain } from "./support/commandMain";

const PROJECT = `name: protheus
runtime: nodejs
config:
  protheus:timeZone:
    value: America/Sao_Paulo
  namespace: from-project
  protheus:volume:
    value:
      size: 100Gi
      storageClassName: standard-rwx
  protheus:backupTargets: [gcs]
  aws:region:
    value: us-east-1
`;

describe("project-level config (Pulumi.yaml) and stack config", () => {
    it("reads namespaced and bare keys, `value:` objects and shorthand scalars and lists", () => {
        assert.deepEqual(projectConfigFromYaml(PROJECT), {
            "protheus:timeZone": "America/Sao_Paulo",
            "protheus:namespace": "from-project",
            "protheus:volume": { size: "100Gi", storageClassName: "standard-rwx" },
            "protheus:backupTargets": ["gcs"],
            "aws:region": "us-east-1",
        });
    });

    it("refuses an object written without `value:`, naming the key", () => {
        assert.throws(
            () => projectConfigFromYaml("name: protheus\nconfig:\n  protheus:chart:\n    repo: oci://x\n"),
            /Pulumi\.yaml config protheus:chart: repo is not a config attribute; write an object value under `value:`/,
        );
    });

    it("takes a key the stack does not set from the project, and a key it sets from the stack alone: objects are not merged", () => {
        const stack = "config:\n  protheus:timeZone: America/Manaus\n  protheus:volume:\n    size: 500Gi\n";
        const { config } = stackConfigFromYaml("c2a7dv-prod", stack, projectConfigFromYaml(PROJECT));
        assert.equal(config["protheus:timeZone"], "America/Manaus");
        assert.equal(config["protheus:namespace"], "from-project");
        // Pulumi replaces the project's object as a whole: storageClassName does not survive.
        assert.deepEqual(JSON.parse(config["protheus:volume"]), { size: "500Gi" });
        assert.deepEqual(JSON.parse(config["protheus:backupTargets"]), ["gcs"]);
    });

    it("resolves the committed stacks: shared sections come from protheus:defaults, a stack sets only what differs, field by field", () => {
        const parsed = (stage: "hml" | "prod") => {
            const input = readStackFile(exampleStack(stage));
            return parseStackConfig(input.config, (k) => input.secretKeys.includes(k));
        };
        const hml = parsed("hml");
        const prod = parsed("prod");
        assert.equal(hml.chart.values.appserver && (hml.chart.values.appserver as any).replicas, 1);
        assert.equal((prod.chart.values.appserver as any).replicas, 3);
        // prod sets only chart.values.appserver.replicas: the shared repo, name and dbaccess values stay.
        assert.equal((prod.chart.values.dbaccess as any).port, 7890);
        assert.equal(prod.chart.repo, hml.chart.repo);
        assert.deepEqual(hml.backup?.targets, ["gcs"]);
        assert.deepEqual(prod.backup?.targets, ["gcs", "rubrik"]);
        assert.equal(prod.backup?.gcs?.project, "totvs-protheus-prod");
        assert.equal(prod.backup?.gcs?.location, hml.backup?.gcs?.location);
        assert.equal(prod.backup?.database.user, hml.backup?.database.user);
        assert.equal(hml.updater.image, prod.updater.image);
    });

    it("keys the customer's group once, as protheus:access.groups.cliente; the old protheus:customerGroup is refused naming it", () => {
        const input = resolvedStackFile(exampleStack("hml"));
        const parsed = parseStackConfig(input.config, () => false);
        assert.equal(parsed.access.groups.cliente, "protheus-cliente-c2a7dv@totvs.com.br");
        assert.throws(
            () => parseStackConfig({ ...input.config, "protheus:customerGroup": "protheus-cliente-c2a7dv@totvs.com.br" }, () => false),
            (err: unknown) =>
                err instanceof ConfigError &&
                err.problems.length === 1 &&
                /^protheus:customerGroup = "protheus-cliente-c2a7dv@totvs\.com\.br": renamed: set it as protheus:access\.groups\.cliente /.test(
                    err.problems[0]!,
                ),
        );
    });
});

describe("stack names", () => {
    it("parses <environment>-<stage>, qualified or not", () => {
        assert.deepEqual(parseStackName("c2a7dv-hml"), { name: "c2a7dv-hml", environment: "c2a7dv", stage: "hml" });
        assert.deepEqual(parseStackName("totvs/protheus/ab-12-prod"), { name: "ab-12-prod", environment: "ab-12", stage: "prod" });
        assert.equal(parseStackName("hml"), undefined);
        assert.equal(parseStackName("c2a7dv-dev"), undefined);
    });

    it("says when a name and a stage disagree, naming both", () => {
        assert.equal(stackNameProblem("c2a7dv-prod", "prod"), undefined);
        assert.match(stackNameProblem("c2a7dv-prod", "hml")!, /stack "c2a7dv-prod" is named for stage prod but its protheus:stage = "hml"/);
        assert.match(stackNameProblem("prod", "prod")!, /pulumi stack rename/);
    });

    it("lists the repository's stacks from its Pulumi.<stack>.yaml files", () => {
        assert.deepEqual(listStackNames(REPO_ROOT), ["c2a7dv-hml", "c2a7dv-prod"]);
        assert.deepEqual(
            listFleet(REPO_ROOT).map((s) => s.environment),
            ["c2a7dv", "c2a7dv"],
        );
    });

    it("refuses a stack file that is not named <environment>-<stage>", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-names-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.hml.yaml"), "config: {}\n");
            assert.throws(() => listFleet(dir), /not named Pulumi\.<environment>-<stage>\.yaml: Pulumi\.hml\.yaml/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("npm run new-environment", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "new-environment-"));
        for (const f of ["Pulumi.yaml", "Pulumi.c2a7dv-hml.yaml", "Pulumi.c2a7dv-prod.yaml"]) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("writes both stack files holding only what differs, valid and renderable, at the fleet's prod version", async () => {
        const written = writeEnvironment(await prepareEnvironment({ code: "x9k2pq" }, dir), dir);
        assert.deepEqual(written, ["Pulumi.x9k2pq-hml.yaml", "Pulumi.x9k2pq-prod.yaml"]);
        const hmlLines = fs.readFileSync(path.join(dir, "Pulumi.x9k2pq-hml.yaml"), "utf8").trim().split("\n");
        assert.ok(hmlLines.length <= 15, `${hmlLines.length} lines`);
        for (const stage of ["hml", "prod"] as const) {
            const input = readStackFile(`x9k2pq-${stage}`, dir);
            const parsed = parseStackConfig(input.config, () => false);
            assert.equal(parsed.stage, stage);
            assert.equal(parsed.namespace, stage === "prod" ? "x9k2pq" : "x9k2pq-hml");
            assert.equal(parsed.updateDesiredVersion, "12.1.2410");
            assert.equal(parsed.access.groups.cliente, "protheus-cliente-x9k2pq@totvs.com.br");
            const { outputs } = await renderProgram(input);
            assert.equal(outputs.environment, "x9k2pq");
        }
        assert.equal(parseStackConfig(readStackFile("x9k2pq-prod", dir).config, () => false).backup?.rubrik?.exportPath, "/export/protheus/x9k2pq");
        assert.deepEqual(listStackNames(dir), ["c2a7dv-hml", "c2a7dv-prod", "x9k2pq-hml", "x9k2pq-prod"]);
    });

    it("refuses an existing, an invalid or a colliding code, and writes nothing", async () => {
        const before = fs.readdirSync(dir).sort();
        const cases: [string, RegExp][] = [
            ["c2a7dv", /environment c2a7dv exists already: Pulumi\.c2a7dv-hml\.yaml, Pulumi\.c2a7dv-prod\.yaml/],
            ["Bad_Code", /environment code "Bad_Code" is not valid/],
            ["x9-prod", /ends in -hml or -prod/],
        ];
        for (const [code, expected] of cases) {
            await assert.rejects(prepareEnvironment({ code }, dir), (err: unknown) => err instanceof NewEnvironmentError && expected.test(err.message));
        }
        assert.equal(environmentCodeProblem("x9k2pq"), undefined);
        assert.deepEqual(fs.readdirSync(dir).sort(), before);
    });

    it("refuses a config the schema rejects, with every problem, and writes nothing", async () => {
        const before = fs.readdirSync(dir).sort();
        await assert.rejects(
            prepareEnvironment({ code: "x9k2pq", version: "12.1", customerGroup: "not-an-email" }, dir),
            (err: unknown) =>
                err instanceof NewEnvironmentError &&
                /nothing was written/.test(err.message) &&
                /x9k2pq-hml: protheus:updateDesiredVersion = "12\.1"/.test(err.message) &&
                /x9k2pq-prod: protheus:access\.groups\.cliente = "not-an-email"/.test(err.message),
        );
        assert.deepEqual(fs.readdirSync(dir).sort(), before);
    });

    it("the command exits 2 with a one-line reason and writes nothing for an existing environment", async () => {
        const before = fs.readdirSync(REPO_ROOT).sort();
        const res = await runMain(main, ["c2a7dv"]);
        assert.equal(res.status, 2, res.stderr);
        assert.match(res.stderr, /^new-environment: environment c2a7dv exists already/);
        assert.deepEqual(fs.readdirSync(REPO_ROOT).sort(), before);
    });

    it("the files it writes are the template, nothing of another environment", () => {
        const files = environmentFiles("ab12cd", "12.1.2510", "g@totvs.com.br");
        assert.deepEqual(Object.keys(files), ["ab12cd-hml", "ab12cd-prod"]);
        for (const text of Object.values(files)) assert.doesNotMatch(text, /c2a7dv/);
    });
});

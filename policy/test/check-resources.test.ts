import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENFORCEMENT, policies } from "../policies";
import { checkResources, makeUrn, type PlannedResource } from "./engine";
import { parse as parseYaml } from "yaml";
import { TS_NODE_REGISTER } from "../../lib/tsNode";

const ROOT = path.resolve(__dirname, "..", "..");

function plan(stage: "hml" | "prod", overrides: { image?: string; targets?: string; retention?: boolean } = {}): PlannedResource[] {
    const ns = "c2a7dv";
    const container = (name: string, env?: { name: string; value: string }[]) => ({
        name,
        image: overrides.image ?? "ghcr.io/totvs/protheus-tools:1.4.2",
        command: ["/bin/run"],
        ...(env ? { env } : {}),
        securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    });
    const cron = (name: string, schedule: string, env?: { name: string; value: string }[]) => ({
        type: "kubernetes:batch/v1:CronJob",
        name,
        inputs: {
            metadata: { name, namespace: ns, labels: {} },
            spec: { schedule, timeZone: "America/Sao_Paulo", jobTemplate: { spec: { template: { spec: { containers: [container(name, env)] } } } } },
        },
    });
    return [
        { type: "kubernetes:core/v1:Namespace", name: ns, inputs: { metadata: { name: ns, labels: { "protheus.totvs.com/stage": stage } } } },
        {
            type: "kubernetes:helm.sh/v3:Release",
            name: "protheus",
            inputs: {
                name: "protheus",
                chart: "protheus",
                version: "12.1.2410",
                namespace: ns,
                repositoryOpts: { repo: "https://charts.example.com" },
                values: {},
            },
        },
        cron("protheus-backup", "0 21 * * *"),
        cron("protheus-backup-copy", "0 6 * * *", [{ name: "BACKUP_TARGETS", value: overrides.targets ?? "gcs,rubrik" }]),
        {
            type: "gcp:storage/bucket:Bucket",
            name: "backups",
            inputs: {
                name: `protheus-${ns}-${stage}-backups`,
                location: "SOUTHAMERICA-EAST1",
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                labels: { namespace: ns, stage },
                ...(overrides.retention === false ? {} : { retentionPolicy: { retentionPeriod: "2592000", isLocked: false } }),
            },
        },
        {
            type: "kubernetes:rbac.authorization.k8s.io/v1:Role",
            name: "updater",
            inputs: { metadata: { name: "updater", namespace: ns }, rules: [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "create"] }] },
        },
        { type: "kubernetes:core/v1:ConfigMap", name: "ini", inputs: { metadata: { name: "ini", namespace: ns }, data: { "appserver.ini": "[General]" } } },
    ];
}

describe("checkResources (offline plan)", () => {
    it("finds nothing in a compliant prod and hml plan", () => {
        assert.deepEqual(checkResources(plan("prod"), "prod"), []);
        assert.deepEqual(checkResources(plan("hml", { retention: false, targets: "volume" }), "hml"), []);
    });

    it("reports resource and stack violations with policy and resource names", () => {
        const findings = checkResources(plan("prod", { image: "nginx:latest", targets: "volume", retention: false }), "prod");
        const summary = findings.map((f) => `${f.level} ${f.policy} ${f.resource ?? "-"}`).sort();
        assert.deepEqual(summary, [
            "mandatory container-image-pinned protheus-backup",
            "mandatory container-image-pinned protheus-backup-copy",
            "mandatory prod-bucket-retention backups",
            "mandatory prod-offsite-backup protheus-backup-copy",
        ]);
        const stackFinding = findings.find((f) => f.policy === "prod-offsite-backup")!;
        assert.match(stackFinding.message, /BACKUP_TARGETS="volume"/);
    });

    it("uses the stack name: a plan whose bucket has no stage label is prod in stack prod", () => {
        const resources = plan("prod", { retention: false }).map((r) =>
            r.type === "gcp:storage/bucket:Bucket" ? { ...r, inputs: { ...r.inputs, labels: {} } } : r,
        );
        assert.equal(checkResources(resources, "hml").length, 0);
        const prod = checkResources(resources, "prod");
        assert.equal(prod.length, 1);
        assert.match(prod[0]!.message, /stack is prod/);
    });

    it("reports a value that is unknown at plan time as advisory", () => {
        const resources = plan("hml").map((r) =>
            r.name === "protheus-backup" ? { ...r, inputs: { ...r.inputs, spec: { ...r.inputs.spec, timeZone: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } } } : r,
        );
        const findings = checkResources(resources, "hml");
        assert.equal(findings.length, 1);
        assert.equal(findings[0]!.level, "advisory");
        assert.equal(findings[0]!.policy, "cronjob-time-zone");
        assert.match(findings[0]!.message, /spec\.timeZone can't be known during preview/);
    });
});

describe("the policy pack", () => {
    it("runs on URNs with the project name of Pulumi.yaml, as the engine builds them", () => {
        const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).name;
        assert.equal(makeUrn("prod", "kubernetes:batch/v1:CronJob", "x"), `urn:pulumi:prod::${project}::kubernetes:batch/v1:CronJob::x`);
    });

    it("has one file per policy, named after the policy, each listed in the pack once", () => {
        const files = fs.readdirSync(path.join(ROOT, "policy")).filter((f) => f.endsWith(".ts") && !["index.ts", "policies.ts", "common.ts"].includes(f));
        assert.deepEqual(files.map((f) => f.replace(/\.ts$/, "")).sort(), policies.map((p) => p.name).sort());
    });

    it("has the eight policies, unique names, all mandatory, each described", () => {
        assert.deepEqual(
            policies.map((p) => p.name),
            [
                "cronjob-time-zone",
                "helm-release-exact-version",
                "container-image-pinned",
                "bucket-no-public-access",
                "prod-bucket-retention",
                "rbac-no-wildcards",
                "pod-security-restricted",
                "prod-offsite-backup",
            ],
        );
        for (const p of policies) {
            assert.equal(p.enforcementLevel, "mandatory");
            assert.ok(p.description.length > 30, p.name);
        }
        assert.equal(ENFORCEMENT, "mandatory");
    });

    it("importing the policies has no side effects (no policy server, process exits)", () => {
        const files = fs.readdirSync(path.join(ROOT, "policy")).filter((f) => f.endsWith(".ts") && f !== "index.ts");
        assert.ok(files.includes("policies.ts") && files.includes("common.ts"), files.join(", "));
        const script = [
            TS_NODE_REGISTER,
            ...files.map((f) => `require("./policy/${f}");`),
            "const loaded = Object.keys(require.cache).filter((k) => /@pulumi[\\\\/]policy[\\\\/](server|index)\\.js$/.test(k));",
            "process.stdout.write(JSON.stringify(loaded));",
        ].join("\n");
        const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "[]");
    });

    it("policy/package.json pins the same @pulumi versions as the root package.json", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- JSON read at run time: package.json is outside the compiled tree
        const root = require(path.join(ROOT, "package.json"));
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- JSON read at run time: package.json is outside the compiled tree
        const pack = require(path.join(ROOT, "policy", "package.json"));
        const all = { ...root.dependencies, ...root.devDependencies };
        for (const dep of ["@pulumi/policy", "@pulumi/pulumi", "semver"]) {
            assert.equal(pack.dependencies[dep], all[dep], dep);
        }
        assert.equal(pack.name, "protheus-policy");
        assert.ok(pack.version, "the policy runtime requires a version");
    });
});

import { strict as assert } from "assert";
import { ConfigError, parseStackConfig } from "../config/load";
import { readStackFile } from "../lib/render";
import { configObject, exampleStack, renderFailure, stackWith, Stage } from "./support/stacks";

interface BadCase {
    what: string;
    stage?: Stage;
    overrides: Record<string, unknown>;
    secrets?: Record<string, string>;
    /** The key path the error must name. */
    key: string;
    /** Text the error must contain (the value shown, and what was expected). */
    expect: RegExp[];
}

const updater = configObject("hml", "updater");
const chart = configObject("hml", "chart");
const prodBackup = configObject("prod", "backup");
const access = configObject("hml", "access");

const badCases: BadCase[] = [
    { what: "stage not prod/hml", overrides: { stage: "production" }, key: "protheus:stage", expect: [/"production"/, /expected "prod" or "hml"/] },
    { what: "namespace with upper case", overrides: { namespace: "C2A7DV" }, key: "protheus:namespace", expect: [/"C2A7DV"/, /DNS-1123 label/] },
    { what: "namespace too long", overrides: { namespace: "a".repeat(64) }, key: "protheus:namespace", expect: [/at most 63 characters/] },
    { what: "version not semver", overrides: { updateDesiredVersion: "12.1" }, key: "protheus:updateDesiredVersion", expect: [/"12\.1"/, /exact semantic version/] },
    { what: "version as a range", overrides: { updateDesiredVersion: "^12.1.2410" }, key: "protheus:updateDesiredVersion", expect: [/"\^12\.1\.2410"/, /no range/] },
    { what: "version missing", overrides: { updateDesiredVersion: undefined }, key: "protheus:updateDesiredVersion", expect: [/is missing/, /required: expected a version/] },
    { what: "chart repo over http", overrides: { chart: { ...chart, repo: "http://charts.example.com" } }, key: "protheus:chart.repo", expect: [/"http:\/\/charts\.example\.com"/, /https:\/\/ or oci:\/\//] },
    { what: "chart without name", overrides: { chart: { repo: chart.repo } }, key: "protheus:chart.name", expect: [/is missing/, /expected a chart name/] },
    { what: "cron minute out of range", overrides: { updater: { ...updater, schedule: "61 * * * *" } }, key: "protheus:updater.schedule", expect: [/"61 \* \* \* \*"/, /expected range 0-59/] },
    { what: "cron with six fields", overrides: { updater: { ...updater, schedule: "0 */15 * * * *" } }, key: "protheus:updater.schedule", expect: [/5-field cron expression/, /found 6 fields/] },
    { what: "sleeper not a boolean", overrides: { updater: { ...updater, sleeper: "yes" } }, key: "protheus:updater.sleeper", expect: [/"yes"/, /expected true or false/] },
    { what: "updater image with a tag", overrides: { updater: { ...updater, image: "gcr.io/p/updater:latest" } }, key: "protheus:updater.image", expect: [/without a tag/] },
    { what: "updater tag latest", overrides: { updater: { ...updater, tag: "latest" } }, key: "protheus:updater.tag", expect: [/not 'latest'/] },
    { what: "typo in a key", overrides: { updater: { ...updater, sleepr: true } }, key: "protheus:updater.sleepr", expect: [/unknown key/] },
    { what: "unknown top-level key", overrides: { updaterr: {} }, key: "protheus:updaterr", expect: [/unknown key/] },
    { what: "time zone not IANA", overrides: { timeZone: "Brasilia" }, key: "protheus:timeZone", expect: [/"Brasilia"/, /IANA time zone/] },
    { what: "prod without offsite target", stage: "prod", overrides: { backup: { ...prodBackup, targets: [] } }, key: "protheus:backup.targets", expect: [/at least one offsite target/] },
    { what: "unknown offsite target", stage: "prod", overrides: { backup: { ...prodBackup, targets: ["s3"] } }, key: "protheus:backup.targets[0]", expect: [/"s3"/, /"gcs" or "rubrik"/] },
    { what: "rubrik target without rubrik settings", stage: "prod", overrides: { backup: { ...prodBackup, rubrik: undefined } }, key: "protheus:backup.rubrik", expect: [/targets include "rubrik"/] },
    { what: "database port out of range", stage: "prod", overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, port: 70000 } } }, key: "protheus:backup.database.port", expect: [/70000/] },
    { what: "volume size not a quantity", overrides: { volume: { size: "lots" } }, key: "protheus:volume.size", expect: [/"lots"/, /Kubernetes quantity/] },
    { what: "database password in plain text", overrides: { databasePassword: "hunter2-plain" }, key: "protheus:databasePassword", expect: [/--secret/] },
    { what: "group that is not an e-mail", overrides: { access: { ...access, groups: { ...access.groups, dbas: "dbas" } } }, key: "protheus:access.groups.dbas", expect: [/"dbas"/, /e-mail/] },
];

describe("stack config validation", () => {
    for (const c of badCases) {
        it(`rejects ${c.what}, naming ${c.key}, and registers no resource`, async () => {
            const err = await renderFailure(stackWith(c.stage ?? "hml", c.overrides, c.secrets));
            assert.ok(err.cause instanceof ConfigError, `expected a ConfigError, got ${err.message}`);
            const line = err.cause.problems.find((p) => p.startsWith(`${c.key} `));
            assert.ok(line, `no problem names ${c.key}:\n${err.cause.message}`);
            for (const re of c.expect) assert.match(line, re);
            assert.equal(err.resources.length, 0, "a resource was registered despite the bad config");
        });
    }

    it("has at least 12 distinct bad configs, each naming a different problem", () => {
        assert.ok(badCases.length >= 12);
        assert.equal(new Set(badCases.map((c) => c.what)).size, badCases.length);
    });

    it("reports every problem at once", async () => {
        const err = await renderFailure(
            stackWith("hml", { namespace: "Bad_NS", updateDesiredVersion: "latest", updater: { ...updater, schedule: "every day" } }),
        );
        assert.ok(err.cause instanceof ConfigError);
        const keys = err.cause.problems.map((p) => p.split(" ")[0]).sort();
        assert.deepEqual(keys, ["protheus:namespace", "protheus:updateDesiredVersion", "protheus:updater.schedule"]);
    });

    it("never prints a secret's value, even when the secret is the invalid one", async () => {
        const err = await renderFailure(stackWith("hml", { databasePassword: "s3cr3t-value" }));
        assert.ok(err.cause instanceof ConfigError);
        assert.doesNotMatch(err.message, /s3cr3t-value/);
    });

    it("accepts both committed stack files and fills documented defaults", () => {
        for (const stage of ["prod", "hml"] as const) {
            const { config, secretKeys } = readStackFile(exampleStack(stage));
            const parsed = parseStackConfig(config, (k) => secretKeys.includes(k));
            assert.equal(parsed.stage, stage);
            assert.equal(parsed.timeZone, "America/Sao_Paulo");
            assert.equal(parsed.updater.sleeper, false);
            assert.equal(parsed.chart.timeoutSeconds, 3600);
            assert.equal(parsed.chart.maxHistory, 10);
            assert.equal(parsed.backup?.schedule, "0 21 * * *");
            assert.equal(parsed.backup?.copySchedule, "0 6 * * *");
        }
    });
});

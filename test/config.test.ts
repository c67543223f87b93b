import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { DATABASE_NAME_MAX, DRILL_DATABASE_SUFFIX, RESTORE_DATABASE_SUFFIXES, RESTORE_PREVIOUS_TIME_FORMAT, RESTORE_TARGET_MAX } from "../components/names";
import { ConfigError, parseStackConfig } from "../config/load";
import { STACK_RULES } from "../config/schema";
import { preRollbackJobName, preUpgradeJobName } from "../components/PreUpgradeBackup";
import { bucketNameProblem, copyServiceAccountId, defaultBucketName, protheusVersion, serviceAccountIdProblem, VERSION_MAX } from "../config/validators";
import { readStackFile } from "../lib/stackFiles";
import { configObject, exampleStack, render, renderFailure, stackWith, Stage } from "./support/stacks";

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
    {
        what: "version not semver",
        overrides: { updateDesiredVersion: "12.1" },
        key: "protheus:updateDesiredVersion",
        expect: [/"12\.1"/, /exact semantic version/],
    },
    {
        what: "version as a range",
        overrides: { updateDesiredVersion: "^12.1.2410" },
        key: "protheus:updateDesiredVersion",
        expect: [/"\^12\.1\.2410"/, /no range/],
    },
    {
        what: "version missing",
        overrides: { updateDesiredVersion: undefined },
        key: "protheus:updateDesiredVersion",
        expect: [/is missing/, /required: expected a version/],
    },
    {
        what: "chart repo over http",
        overrides: { chart: { ...chart, repo: "http://charts.example.com" } },
        key: "protheus:chart.repo",
        expect: [/"http:\/\/charts\.example\.com"/, /https:\/\/ or oci:\/\//],
    },
    { what: "chart without name", overrides: { chart: { repo: chart.repo } }, key: "protheus:chart.name", expect: [/is missing/, /expected a chart name/] },
    {
        what: "cron minute out of range",
        overrides: { updater: { ...updater, schedule: "61 * * * *" } },
        key: "protheus:updater.schedule",
        expect: [/"61 \* \* \* \*"/, /expected range 0-59/],
    },
    {
        what: "cron with six fields",
        overrides: { updater: { ...updater, schedule: "0 */15 * * * *" } },
        key: "protheus:updater.schedule",
        expect: [/5-field cron expression/, /found 6 fields/],
    },
    {
        what: "sleeper not a boolean",
        overrides: { updater: { ...updater, sleeper: "yes" } },
        key: "protheus:updater.sleeper",
        expect: [/"yes"/, /expected true or false/],
    },
    {
        what: "updater image with a tag",
        overrides: { updater: { ...updater, image: "gcr.io/p/updater:latest" } },
        key: "protheus:updater.image",
        expect: [/without a tag/],
    },
    { what: "updater tag latest", overrides: { updater: { ...updater, tag: "latest" } }, key: "protheus:updater.tag", expect: [/not 'latest'/] },
    { what: "typo in a key", overrides: { updater: { ...updater, sleepr: true } }, key: "protheus:updater.sleepr", expect: [/unknown key/] },
    { what: "unknown top-level key", overrides: { updaterr: {} }, key: "protheus:updaterr", expect: [/unknown key/] },
    { what: "time zone not IANA", overrides: { timeZone: "Brasilia" }, key: "protheus:timeZone", expect: [/"Brasilia"/, /IANA time zone/] },
    {
        what: "prod without offsite target",
        stage: "prod",
        overrides: { backup: { ...prodBackup, targets: [] } },
        key: "protheus:backup.targets",
        expect: [/at least one offsite target/],
    },
    {
        what: "unknown offsite target",
        stage: "prod",
        overrides: { backup: { ...prodBackup, targets: ["s3"] } },
        key: "protheus:backup.targets[0]",
        expect: [/"s3"/, /"gcs" or "rubrik"/],
    },
    {
        what: "rubrik target without rubrik settings",
        stage: "prod",
        overrides: { backup: { ...prodBackup, rubrik: undefined } },
        key: "protheus:backup.rubrik",
        expect: [/targets include "rubrik"/],
    },
    {
        what: "database port out of range",
        stage: "prod",
        overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, port: 70000 } } },
        key: "protheus:backup.database.port",
        expect: [/= 70000:/, /expected a TCP port number from 1 to 65535$/],
    },
    {
        what: "prod without a restore user",
        stage: "prod",
        overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, restoreUser: undefined, restorePasswordSecret: undefined } } },
        key: "protheus:backup.database.restoreUser",
        expect: [/is missing/, /restore role/, /protheus_restore/],
    },
    {
        what: "a restore user without its password Secret",
        overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, restorePasswordSecret: undefined } } },
        stage: "prod",
        key: "protheus:backup.database.restorePasswordSecret",
        expect: [/existing Kubernetes Secret/, /backup\.database\.restoreUser/],
    },
    {
        what: "a restore password Secret without its user (hml)",
        overrides: { backup: { ...configObject("hml", "backup"), database: { ...configObject("hml", "backup").database, restoreUser: undefined } } },
        key: "protheus:backup.database.restoreUser",
        expect: [/restorePasswordSecret/],
    },
    {
        what: "the backup user as the restore user",
        stage: "prod",
        overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, restoreUser: prodBackup.database.user } } },
        key: "protheus:backup.database.restoreUser",
        expect: [/"protheus_backup"/, /a role other than backup\.database\.user/],
    },
    { what: "volume size not a quantity", overrides: { volume: { size: "lots" } }, key: "protheus:volume.size", expect: [/"lots"/, /Kubernetes quantity/] },
    { what: "database password in plain text", overrides: { databasePassword: "hunter2-plain" }, key: "protheus:databasePassword", expect: [/--secret/] },
    {
        what: "timeout below its range",
        overrides: { chart: { ...chart, timeoutSeconds: 10 } },
        key: "protheus:chart.timeoutSeconds",
        expect: [/= 10:/, /expected a whole number of seconds from 300 to 14400$/],
    },
    {
        what: "history limit above its range",
        overrides: { updater: { ...updater, failedJobsHistoryLimit: 11 } },
        key: "protheus:updater.failedJobsHistoryLimit",
        expect: [/= 11:/, /expected a whole number from 1 to 10$/],
    },
    {
        what: "a fraction where a whole number goes",
        overrides: { chart: { ...chart, maxHistory: 2.5 } },
        key: "protheus:chart.maxHistory",
        expect: [/= 2\.5:/, /expected a whole number from 2 to 50$/],
    },
    {
        what: "a nested key set without --path (a flat key)",
        overrides: { "updater.sleeper": "true" },
        key: "protheus:updater.sleeper",
        expect: [/= "true"/, /flat key/, /`pulumi config set --path 'protheus:updater\.sleeper' <value>`/, /`pulumi config rm 'protheus:updater\.sleeper'`/],
    },
    {
        what: "a namespace too long for the default bucket name",
        stage: "prod",
        overrides: { namespace: "n".repeat(47) },
        key: "protheus:namespace",
        expect: [/= "n{47}"/, /default bucket name "protheus-backups-n{47}"/, /expected 3 to 63 characters \(it has 64\)/, /protheus:backup\.gcs\.bucketName/],
    },
    {
        what: "a bucket name reserved by Google",
        stage: "prod",
        overrides: { backup: { ...prodBackup, gcs: { ...prodBackup.gcs, bucketName: "google-backups" } } },
        key: "protheus:backup.gcs.bucketName",
        expect: [/"google-backups"/, /"google"/],
    },
    {
        what: "a bucket name ending in '-'",
        stage: "prod",
        overrides: { backup: { ...prodBackup, gcs: { ...prodBackup.gcs, bucketName: "backups-" } } },
        key: "protheus:backup.gcs.bucketName",
        expect: [/"backups-"/, /ending with a letter or digit/],
    },
    {
        what: "a namespace too short for the service account id",
        stage: "prod",
        overrides: { namespace: "a" },
        key: "protheus:namespace",
        expect: [/= "a"/, /service account id "bkp-a"/, /expected 6 to 30 characters \(it has 5\)/],
    },
    {
        what: "a database name too long for the names the restore and the drill derive from it",
        stage: "prod",
        overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, name: "p".repeat(DATABASE_NAME_MAX + 1) } } },
        key: "protheus:backup.database.name",
        expect: [
            new RegExp(`= "p{${DATABASE_NAME_MAX + 1}}"`),
            new RegExp(`at most ${DATABASE_NAME_MAX} characters`),
            /<name>_drill/,
            /<target>_prev_<UTC time>/,
        ],
    },
    {
        what: "a prod bucket whose retention is not locked",
        stage: "prod",
        overrides: { backup: { ...prodBackup, gcs: { ...prodBackup.gcs, lockRetention: false } } },
        key: "protheus:backup.gcs.lockRetention",
        expect: [/= false/, /expected true in prod/],
    },
    {
        what: "a prod bucket that leaves the retention lock to its default",
        stage: "prod",
        overrides: { backup: { ...prodBackup, gcs: { ...prodBackup.gcs, lockRetention: undefined } } },
        key: "protheus:backup.gcs.lockRetention",
        expect: [/is missing/, /expected true in prod/],
    },
    {
        what: "a version longer than the backup Job names and labels it goes into allow",
        overrides: { updateDesiredVersion: `12.1.2510-${"a".repeat(VERSION_MAX - 9)}` },
        key: "protheus:updateDesiredVersion",
        expect: [new RegExp(`at most ${VERSION_MAX} characters`), /names the pre-upgrade backup Job/],
    },
    {
        what: "pre-upgrade wait under 10 minutes",
        stage: "prod",
        overrides: { backup: { ...prodBackup, preUpgradeTimeoutMinutes: 5 } },
        key: "protheus:backup.preUpgradeTimeoutMinutes",
        expect: [/5/],
    },
    {
        what: "maintenance values not an object",
        overrides: { maintenance: { enabled: true, values: "replicas=0" } },
        key: "protheus:maintenance.values",
        expect: [/"replicas=0"/, /object of chart values/],
    },
    {
        what: "maintenance enabled with values that change nothing in the release",
        stage: "prod",
        overrides: { maintenance: { enabled: true, values: { appserver: { replicas: 3 } } } },
        key: "protheus:maintenance.values",
        expect: [/take the users out/, /changes nothing in the release/],
    },
    {
        what: "maintenance enabled with no values",
        overrides: { maintenance: { enabled: true, values: {} } },
        key: "protheus:maintenance.values",
        expect: [/= \{\}/, /changes nothing in the release/],
    },
    {
        what: "group that is not an e-mail",
        overrides: { access: { ...access, groups: { ...access.groups, dbas: "dbas" } } },
        key: "protheus:access.groups.dbas",
        expect: [/"dbas"/, /e-mail/],
    },
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

    it("reports every problem at once", async () => {
        const err = await renderFailure(
            stackWith("hml", { namespace: "Bad_NS", updateDesiredVersion: "latest", updater: { ...updater, schedule: "every day" } }),
        );
        assert.ok(err.cause instanceof ConfigError);
        const keys = err.cause.problems.map((p) => p.split(" ")[0]).sort();
        assert.deepEqual(keys, ["protheus:namespace", "protheus:updateDesiredVersion", "protheus:updater.schedule"]);
    });

    it("checks names derived from the namespace only where they are used", () => {
        const parse = (overrides: Record<string, unknown>) => {
            const { config, secretKeys } = stackWith("prod", overrides);
            return parseStackConfig(config, (k) => secretKeys.includes(k));
        };
        const long = "n".repeat(47);
        // An explicit bucket name replaces the default one.
        assert.equal(parse({ namespace: long, backup: { ...prodBackup, gcs: { ...prodBackup.gcs, bucketName: "protheus-backups-prod" } } }).namespace, long);
        // No GCS target: no bucket and no service account.
        assert.equal(
            parse({
                namespace: "a",
                backup: { ...prodBackup, targets: ["rubrik"], gcs: undefined },
                alerts: { emails: ["sre@totvs.com.br"], project: "totvs-protheus-prod" },
            }).namespace,
            "a",
        );
        // The longest namespace the default bucket name allows.
        assert.equal(parse({ namespace: "n".repeat(46) }).namespace, "n".repeat(46));
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
            // The failure path: bounded sleeper, no invented flag names, waits longer than the Jobs' deadlines.
            assert.equal(parsed.updater.sleeperHours, 8);
            assert.deepEqual(parsed.updater.completionFlags, []);
            assert.equal(parsed.updater.logLines, 500);
            assert.equal(parsed.backup?.preUpgradeTimeoutMinutes, 125);
            assert.equal(parsed.backup?.restoreTimeoutMinutes, 155);
            // Exclusive mode's values are shared by the fleet (Pulumi.yaml): the appservers go to 0.
            assert.deepEqual(parsed.maintenance, { enabled: false, values: { appserver: { replicas: 0 } } });
            assert.deepEqual(parsed.toolbox, { image: "busybox:1.36.1", runAsUser: 999, hours: 2 });
            assert.equal(parsed.restore, undefined);
        }
    });

    it("fills whole default sections from the defaults of their keys", () => {
        const { config, secretKeys } = stackWith("prod", { volume: undefined, backup: { ...prodBackup, retention: undefined, images: undefined } });
        const parsed = parseStackConfig(config, (k) => secretKeys.includes(k));
        assert.deepEqual(parsed.volume, { claimName: "protheus-volume", manage: true, storageClassName: "standard-rwx", size: "100Gi" });
        assert.deepEqual(parsed.backup?.retention, { days: 7, keepMin: 3 });
        assert.deepEqual(parsed.backup?.images, { postgres: "postgres:15.8", cloudSdk: "gcr.io/google.com/cloudsdktool/google-cloud-cli:499.0.0-slim" });
        const partial = stackWith("prod", { backup: { ...prodBackup, retention: { days: 14 } } });
        assert.deepEqual(parseStackConfig(partial.config, (k) => partial.secretKeys.includes(k)).backup?.retention, { days: 14, keepMin: 3 });
    });
});

const hmlBackup = configObject("hml", "backup");
const restoreRequest = { id: "r1", backup: "latest", reason: "the data of yesterday was lost by a bad import" };

/** One config per rule across keys (config/schema.ts STACK_RULES) that breaks it, and the problem it must report. */
const ruleCases: Record<string, { stage: Stage; overrides: Record<string, unknown>; key: string; expect: RegExp }> = {
    promotionOnlyInProd: {
        stage: "hml",
        overrides: { promotion: { hmlStack: "totvs/protheus/c2a7dv-hml" } },
        key: "protheus:promotion",
        expect: /no promotion section in hml/,
    },
    restoreNeedsBackup: {
        stage: "hml",
        overrides: { backup: undefined, restore: restoreRequest },
        key: "protheus:restore",
        expect: /expected a backup section/,
    },
    gcsRestoreNeedsGcsTarget: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, targets: [] }, restore: { ...restoreRequest, source: "gcs" } },
        key: "protheus:restore.source",
        expect: /= "gcs": expected "volume"/,
    },
    prodRestoreNeedsMaintenance: {
        stage: "prod",
        overrides: { restore: restoreRequest },
        key: "protheus:restore",
        expect: /refused in prod while protheus:maintenance\.enabled/,
    },
    maintenanceChangesRelease: {
        stage: "hml",
        overrides: { maintenance: { enabled: true, values: {} } },
        key: "protheus:maintenance.values",
        expect: /changes nothing in the release/,
    },
    prodIsBackedUp: {
        stage: "prod",
        overrides: { backup: undefined },
        key: "protheus:backup",
        expect: /is missing: expected a backup section: prod must be backed up/,
    },
    prodCopiesOffsite: {
        stage: "prod",
        overrides: { backup: { ...prodBackup, targets: [] } },
        key: "protheus:backup.targets",
        expect: /= \[\]: expected at least one offsite target/,
    },
    gcsTargetHasSection: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, gcs: undefined } },
        key: "protheus:backup.gcs",
        expect: /is missing: expected a gcs section/,
    },
    prodBucketRetentionLocked: {
        stage: "prod",
        overrides: { backup: { ...prodBackup, gcs: { ...prodBackup.gcs, lockRetention: false } } },
        key: "protheus:backup.gcs.lockRetention",
        expect: /= false: expected true in prod/,
    },
    rubrikTargetHasSection: {
        stage: "prod",
        overrides: { backup: { ...prodBackup, rubrik: undefined } },
        key: "protheus:backup.rubrik",
        expect: /expected a rubrik section/,
    },
    gcsNamesFromNamespaceValid: {
        stage: "prod",
        overrides: { namespace: "a" },
        key: "protheus:namespace",
        expect: /= "a": the backup copy's Google service account id/,
    },
    backupPasswordGiven: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, database: { ...hmlBackup.database, passwordSecret: undefined } } },
        key: "protheus:backup.database.passwordSecret",
        expect: /is missing: expected either backup\.database\.passwordSecret .* or the secret protheus:databasePassword/,
    },
    restoreUserHasPasswordSecret: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, database: { ...hmlBackup.database, restorePasswordSecret: undefined } } },
        key: "protheus:backup.database.restorePasswordSecret",
        expect: /is missing: expected \{name, key\} of an existing Kubernetes Secret/,
    },
    restorePasswordSecretHasUser: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, database: { ...hmlBackup.database, restoreUser: undefined } } },
        key: "protheus:backup.database.restoreUser",
        expect: /is missing: expected the user whose password/,
    },
    prodRestoresAsRestoreRole: {
        stage: "prod",
        overrides: { backup: { ...prodBackup, database: { ...prodBackup.database, restoreUser: undefined, restorePasswordSecret: undefined } } },
        key: "protheus:backup.database.restoreUser",
        expect: /is missing: expected the restore role .* in prod/,
    },
    restoreRoleIsNotBackupRole: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, database: { ...hmlBackup.database, restoreUser: hmlBackup.database.user } } },
        key: "protheus:backup.database.restoreUser",
        expect: /expected a role other than backup\.database\.user/,
    },
    copyClearOfBackupWindow: {
        stage: "hml",
        overrides: { backup: { ...hmlBackup, schedule: "0 21 * * *", copySchedule: "0 23 * * *" } },
        key: "protheus:backup.copySchedule",
        expect: /= "0 23 \* \* \*": expected a copy schedule that never starts inside a backup's window/,
    },
    drillNeedsBackup: {
        stage: "hml",
        overrides: { backup: undefined, drill: { enabled: true } },
        key: "protheus:drill.enabled",
        expect: /= true: expected false or a backup section/,
    },
    drillOutlastsObjective: {
        stage: "prod",
        overrides: { drill: { rtoMinutes: 240, deadlineMinutes: 200 } },
        key: "protheus:drill.deadlineMinutes",
        expect: /= 200: expected at least drill\.rtoMinutes \(240\)/,
    },
    drillClearOfBackupAndCopy: {
        stage: "prod",
        overrides: { drill: { schedule: "0 20 * * 0" } },
        key: "protheus:drill.schedule",
        expect: /= "0 20 \* \* 0": expected a drill schedule that never overlaps a backup or copy run/,
    },
    prodHasAlerts: { stage: "prod", overrides: { alerts: undefined }, key: "protheus:alerts", expect: /is missing: expected an alerts section/ },
    alertsReachSomeone: {
        stage: "hml",
        overrides: {
            alerts: {},
            access: {
                ...access,
                groups: { ...access.groups, smartsre: undefined, "devops-protheus": undefined, dbas: undefined },
                optOut: { smartsre: "no alerts in this stack", "devops-protheus": "no alerts in this stack", dbas: "no alerts in this stack" },
            },
        },
        key: "protheus:alerts.emails",
        expect: /expected at least one e-mail or channel id/,
    },
    alertsHaveProject: {
        stage: "hml",
        overrides: { backup: undefined, alerts: { emails: ["sre@totvs.com.br"] } },
        key: "protheus:alerts.project",
        expect: /is missing: expected the GKE cluster's GCP project/,
    },
};

function configProblems(stage: Stage, overrides: Record<string, unknown>): string[] {
    const { config, secretKeys } = stackWith(stage, overrides);
    try {
        parseStackConfig(config, (k) => secretKeys.includes(k));
    } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
    }
    return [];
}

describe("the rules across keys", () => {
    it("each rule has a case here", () => {
        assert.deepEqual(
            STACK_RULES.map((r) => r.name),
            Object.keys(ruleCases),
        );
    });

    for (const [rule, c] of Object.entries(ruleCases)) {
        it(`${rule}: reports ${c.key} with its value and what is expected`, () => {
            const problems = configProblems(c.stage, c.overrides);
            const line = problems.find((p) => p.startsWith(`${c.key} `) && c.expect.test(p));
            assert.ok(line, `expected a problem naming ${c.key} matching ${c.expect}, got:\n${problems.join("\n")}`);
        });
    }

    it("a valid config carries what the rules guarantee: the backup password's source and the alerts' project", () => {
        const parse = (stage: Stage, overrides: Record<string, unknown>, secrets: Record<string, string> = {}) => {
            const { config, secretKeys } = stackWith(stage, overrides, secrets);
            return parseStackConfig(config, (k) => secretKeys.includes(k));
        };
        const prod = parse("prod", {});
        assert.equal(prod.stage, "prod");
        assert.deepEqual(prod.backup?.password, { secretRef: prodBackup.database.passwordSecret });
        assert.equal(prod.alerts?.project, prodBackup.gcs.project);
        assert.equal(parse("prod", { alerts: { project: "totvs-protheus-logs" } }).alerts?.project, "totvs-protheus-logs");
        const hml = parse(
            "hml",
            { backup: { ...hmlBackup, database: { ...hmlBackup.database, passwordSecret: undefined } } },
            { databasePassword: "pw-Very-Secret-42" },
        );
        assert.deepEqual(hml.backup?.password, { value: "pw-Very-Secret-42" });
    });

    it("reports every broken rule at once", () => {
        const problems = configProblems("hml", {
            promotion: { hmlStack: "totvs/protheus/c2a7dv-hml" },
            maintenance: { enabled: true, values: {} },
            backup: { ...hmlBackup, gcs: undefined, database: { ...hmlBackup.database, passwordSecret: undefined, restoreUser: hmlBackup.database.user } },
        });
        assert.deepEqual(problems.map((p) => p.split(" ")[0]).sort(), [
            "protheus:backup.database.passwordSecret",
            "protheus:backup.database.restoreUser",
            "protheus:backup.gcs",
            "protheus:maintenance.values",
            "protheus:promotion",
        ]);
    });
});

describe("config strings in a container's environment, command or args", () => {
    // Every free-text key (its validator allows "$("), and a config section for it to sit in.
    const backup = configObject("prod", "backup");
    // No drill server or role unless a key asks for one: the drill then connects as the backup's.
    const drill = { checks: { a: { sql: "SELECT 1", expected: "1" } } };
    const freeText = [
        "backup.database.host",
        "backup.database.user",
        "backup.database.restoreUser",
        "backup.gcs.location",
        "backup.rubrik.nfsServer",
        "backup.rubrik.exportPath",
        "drill.server.host",
        "drill.database.user",
        "drill.checks.a.expected",
        "volume.storageClassName",
    ];
    /** The prod stack's sections with `value(key)` at each of `keys` (exportPath keeps its leading '/'). */
    const withValues = (keys: string[], value: (key: string) => string) => {
        const sections: Record<string, any> = structuredClone({ backup, drill, volume: configObject("prod", "volume") });
        for (const key of keys) {
            const path = key.split(".");
            let at = sections;
            for (const k of path.slice(0, -1)) at = at[k] ??= k === "database" ? { passwordSecret: { name: "drill-db" } } : {};
            at[path[path.length - 1]] = key.endsWith("exportPath") ? `/${value(key)}` : value(key);
        }
        return sections;
    };
    const marker = (key: string) => `mark-${key.replace(/[^a-z]/gi, "").toLowerCase()}-x`;

    it('refuses "$(" in each key that reaches a container\'s env value, command or args (found by rendering), naming each at once', async () => {
        // Where each key lands: a marker in it alone, rendered, looked up in every container's env values, command and args.
        const landing: string[] = [];
        for (const key of freeText) {
            const { resources } = await render(stackWith("prod", withValues([key], marker)));
            const expanded: string[] = [];
            for (const r of resources) {
                const inputs = r.inputs as any;
                const pod = inputs.spec?.jobTemplate?.spec?.template?.spec ?? inputs.spec?.template?.spec;
                for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
                    expanded.push(...(c.env ?? []).map((e: any) => e.value ?? ""), ...(c.command ?? []), ...(c.args ?? []));
                }
            }
            if (expanded.some((v) => v.includes(marker(key)))) landing.push(key);
        }
        assert.deepEqual(landing.sort(), ["backup.database.host", "backup.database.restoreUser", "drill.database.user", "drill.server.host"]);

        const err = await renderFailure(
            stackWith(
                "prod",
                withValues(freeText, () => "db-$(PGPASSWORD)"),
            ),
        );
        assert.ok(err.cause instanceof ConfigError);
        // backup.database.user lands there too when no restore user is set (hml restores as the backup user).
        for (const key of [...landing, "backup.database.user"]) {
            const line = err.cause.problems.find((p) => p.startsWith(`protheus:${key} `));
            assert.ok(line, `protheus:${key} not refused:\n${err.message}`);
            assert.match(line, /= "(\/)?db-\$\(PGPASSWORD\)": expected .* without "\$\(": Kubernetes expands \$\(VAR\)/);
        }
        assert.equal(err.resources.length, 0);
    });

    it("backup.database.user reaches PGUSER of the restore and the drill when no restore user is set", async () => {
        const hmlBackup = configObject("hml", "backup");
        const { restoreUser: _u, restorePasswordSecret: _s, ...database } = hmlBackup.database;
        const { resources } = await render(stackWith("hml", { backup: { ...hmlBackup, database: { ...database, user: "mark-user-x" } } }));
        assert.match(JSON.stringify(resources), /"name":"PGUSER","value":"mark-user-x"/);
    });

    it("refuses a Secret key Kubernetes would not accept", async () => {
        const err = await renderFailure(
            stackWith("prod", { backup: { ...backup, database: { ...backup.database, passwordSecret: { name: "db", key: "$(HOME)" } } } }),
        );
        assert.ok(err.cause instanceof ConfigError);
        assert.match(err.message, /protheus:backup\.database\.passwordSecret\.key = "\$\(HOME\)": expected a Secret key/);
    });
});

describe("the stack name and protheus:stage", () => {
    it("a name that disagrees with the stage is reported together with the other config problems", async () => {
        const err = await renderFailure(stackWith("prod", { stage: "hml", updater: { ...configObject("prod", "updater"), logLines: 0 } }));
        assert.ok(err.cause instanceof ConfigError, err.message);
        assert.match(err.cause.problems[0], /stack "c2a7dv-prod" is named for stage prod but its protheus:stage = "hml"/);
        assert.ok(
            err.cause.problems.some((p) => p.startsWith("protheus:updater.logLines ")),
            err.message,
        );
    });
});

describe("names derived from the config", () => {
    for (const [namespace, bucket, account] of [
        ["c2a7dv", "protheus-backups-c2a7dv", "bkp-c2a7dv"],
        ["c2a7dv-hml", "protheus-backups-c2a7dv-hml", "bkp-c2a7dv-hml"],
        ["a".repeat(26), `protheus-backups-${"a".repeat(26)}`, `bkp-${"a".repeat(26)}`],
        ["protheus-environment-homologacao-01", "protheus-backups-protheus-environment-homologacao-01", "bkp-protheus-environmen-11a46c"],
    ] as const) {
        it(`namespace ${namespace}: bucket ${bucket}, service account ${account}`, () => {
            assert.equal(defaultBucketName(namespace), bucket);
            assert.equal(copyServiceAccountId(namespace), account);
        });
    }

    it("service account ids stay valid and distinct for long namespaces that share a prefix (a hash, not a cut)", () => {
        const namespaces = [`${"a".repeat(25)}-b`, `${"a".repeat(25)}-c`, `${"a".repeat(26)}`, `${"a".repeat(27)}`, `${"a".repeat(62)}x`, `${"a".repeat(62)}y`];
        const ids = namespaces.map(copyServiceAccountId);
        for (const id of ids) assert.equal(serviceAccountIdProblem(id), undefined, id);
        assert.equal(new Set(ids).size, namespaces.length, ids.join(", "));
    });

    it("the longest version names its backup Jobs whole, within a DNS label, and fits a label value", () => {
        const longest = `12.1.2510-${"a".repeat(VERSION_MAX - 10)}`;
        assert.equal(longest.length, VERSION_MAX);
        assert.equal(protheusVersion.safeParse(longest).success, true);
        for (const name of [preUpgradeJobName(longest), preRollbackJobName(longest)]) {
            assert.ok(name.endsWith(`12-1-2510-${"a".repeat(VERSION_MAX - 10)}`) && name.length <= 63, name);
        }
        assert.notEqual(preRollbackJobName(longest), preRollbackJobName(`12.1.2510-${"a".repeat(VERSION_MAX - 11)}b`));
        assert.ok(VERSION_MAX <= 63);
    });

    it("the database name limit follows the suffixes the scripts append: <name>_drill is a restore.sh target whose _prev_ and temp names fit 63 bytes", () => {
        const script = (name: string) => fs.readFileSync(path.join(__dirname, "..", "scripts", name), "utf8");
        const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        assert.match(script("drill.sh"), new RegExp(`^DRILL_DB=\\$\\{PGDATABASE\\}${DRILL_DATABASE_SUFFIX}$`, "m"));
        const [tmpSuffix, prevSuffix] = RESTORE_DATABASE_SUFFIXES;
        assert.match(script("restore.sh"), new RegExp(`^TMPDB="\\$\\{RESTORE_DATABASE\\}${tmpSuffix}"$`, "m"));
        assert.match(script("restore.sh"), new RegExp(`^PREVDB=\\$\\{RESTORE_DATABASE\\}_prev_\\$\\(date -u \\+${re(RESTORE_PREVIOUS_TIME_FORMAT)}\\)$`, "m"));
        // the example time in the suffix has the length the script's format gives now, and the shape its leftover cleanup matches
        const now = execFileSync("date", ["-u", `+${RESTORE_PREVIOUS_TIME_FORMAT}`], { encoding: "utf8" }).trim();
        assert.equal(prevSuffix.length, `_prev_${now}`.length);
        assert.match(script("restore.sh"), /^PREV_RE="\^\$\{RESTORE_DATABASE\}_prev_\[0-9\]\{8\}T\[0-9\]\{6\}Z\\\$"$/m);
        assert.match(prevSuffix, /^_prev_[0-9]{8}T[0-9]{6}Z$/);
        assert.equal(RESTORE_TARGET_MAX + Math.max(tmpSuffix.length, prevSuffix.length), 63);
        assert.equal(DATABASE_NAME_MAX + DRILL_DATABASE_SUFFIX.length, RESTORE_TARGET_MAX);
        // the scripts' own limits are these numbers (their tests run them at the limit and one past it)
        assert.match(script("restore.sh"), new RegExp(`^\\[\\[ \\$\\{#RESTORE_DATABASE\\} -le ${RESTORE_TARGET_MAX} \\]\\]`, "m"));
        assert.match(
            script("drill.sh"),
            new RegExp(`^\\[\\[ \\$PGDATABASE =~ \\^\\[A-Za-z_\\]\\[A-Za-z0-9_\\]\\{0,${DATABASE_NAME_MAX - 1}\\}\\$ \\]\\]`, "m"),
        );
    });

    for (const [name, problem] of [
        ["protheus-backups-c2a7dv", undefined],
        ["abc", undefined],
        ["my_bucket.backups.example", undefined],
        ["ab", /3 to 63 characters \(it has 2\)/],
        ["b".repeat(64), /3 to 63 characters \(it has 64\)/],
        [`${"b".repeat(63)}.example`, undefined],
        [`${"b".repeat(64)}.example`, /at most 63 between dots/],
        ["Backups", /lower-case/],
        ["-backups", /starting and ending with a letter or digit/],
        ["backups_", /starting and ending with a letter or digit/],
        ["goog-backups", /"goog" prefix/],
        ["my-google-backups", /"google"/],
    ] as const) {
        it(`bucket name ${name.length > 30 ? `${name.slice(0, 12)}… (${name.length} chars)` : name}: ${problem ?? "valid"}`, () => {
            if (problem === undefined) assert.equal(bucketNameProblem(name), undefined);
            else assert.match(bucketNameProblem(name) ?? "(valid)", problem);
        });
    }

    for (const [id, problem] of [
        ["bkp-c2a7dv", undefined],
        ["bkp-ab", undefined],
        ["bkp-a", /6 to 30 characters \(it has 5\)/],
        [`bkp-${"a".repeat(27)}`, /6 to 30 characters \(it has 31\)/],
        ["bkp-abc-", /not ending in '-'/],
        ["1bkp-abc", /lower-case letters/],
    ] as const) {
        it(`service account id ${id}: ${problem ?? "valid"}`, () => {
            if (problem === undefined) assert.equal(serviceAccountIdProblem(id), undefined);
            else assert.match(serviceAccountIdProblem(id) ?? "(valid)", problem);
        });
    }
});

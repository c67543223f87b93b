// The pure functions the components build names, images, values and bucket rules with,
// each against a table of cases written out by hand.
import * as assert from "node:assert/strict";
import { lifecycleRules } from "../components/BackupStorage";
import { preUpgradeJobName } from "../components/PreUpgradeBackup";
import { withValueAt } from "../components/ProtheusRelease";
import { teamObjectName } from "../components/TeamAccess";
import { updaterImage } from "../lib/registry";

describe("lifecycleRules: colder classes only when objects stay there their minimum duration", () => {
    const nearline = { action: { type: "SetStorageClass", storageClass: "NEARLINE" }, condition: { age: 7, matchesStorageClasses: ["STANDARD"] } };
    const coldline = { action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 30, matchesStorageClasses: ["NEARLINE"] } };
    const del = (age: number) => ({ action: { type: "Delete" }, condition: { age } });
    const cases: [retentionDays: number, rules: unknown[]][] = [
        [1, [del(2)]],
        [7, [del(8)]], // Pulumi.hml.yaml
        [30, [del(31)]], // Pulumi.prod.yaml
        [36, [del(37)]], // Nearline at day 7 would be deleted before its 30 days
        [37, [nearline, del(38)]],
        [119, [nearline, del(120)]], // Coldline at day 30 would be deleted before its 90 days
        [120, [nearline, coldline, del(121)]],
        [3650, [nearline, coldline, del(3651)]],
    ];
    for (const [days, rules] of cases) {
        it(`retention ${days} days`, () => assert.deepEqual(lifecycleRules(days), rules));
    }
});

describe("withValueAt: writes one value at a dot path into a copy of the chart values", () => {
    const cases: [what: string, values: Record<string, unknown>, path: string, expected: Record<string, unknown>][] = [
        ["into empty values", {}, "volume.existingClaim", { volume: { existingClaim: "vol" } }],
        [
            "next to sibling keys",
            { volume: { size: "1Gi" }, replicas: 2 },
            "volume.existingClaim",
            { volume: { size: "1Gi", existingClaim: "vol" }, replicas: 2 },
        ],
        ["over an existing value", { volume: { existingClaim: "old" } }, "volume.existingClaim", { volume: { existingClaim: "vol" } }],
        ["over a scalar on the way", { volume: "none" }, "volume.existingClaim", { volume: { existingClaim: "vol" } }],
        ["over a list on the way", { volume: ["a"] }, "volume.existingClaim", { volume: { existingClaim: "vol" } }],
        ["over null on the way", { volume: null }, "volume.existingClaim", { volume: { existingClaim: "vol" } }],
        ["at the top level", { a: 1 }, "claim", { a: 1, claim: "vol" }],
        ["three levels deep", { a: { b: { keep: true } } }, "a.b.c", { a: { b: { keep: true, c: "vol" } } }],
    ];
    for (const [what, values, path, expected] of cases) {
        it(what, () => {
            const before = structuredClone(values);
            assert.deepEqual(withValueAt(values, path, "vol"), expected);
            assert.deepEqual(values, before, "the input values are not modified");
        });
    }
});

describe("preUpgradeJobName: a DNS-1123 Job name per version", () => {
    const cases: [version: string, name: string][] = [
        ["12.1.2410", "protheus-backup-pre-12-1-2410"],
        ["12.1.2510-3", "protheus-backup-pre-12-1-2510-3"],
        ["12.1.2510-RC.1", "protheus-backup-pre-12-1-2510-rc-1"],
        ["1.0.0+build.5", "protheus-backup-pre-1-0-0-build-5"],
        // Cut at 63 characters.
        [`12.1.2510-${"a".repeat(60)}`, `protheus-backup-pre-12-1-2510-${"a".repeat(33)}`],
        // Cut right after a separator: the trailing '-' goes too.
        [`1.0.0-${"a".repeat(36)}.b`, `protheus-backup-pre-1-0-0-${"a".repeat(36)}`],
    ];
    for (const [version, name] of cases) {
        it(`${version.length > 20 ? `${version.slice(0, 20)}… (${version.length} chars)` : version} → ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`, () => {
            assert.equal(preUpgradeJobName(version), name);
        });
    }
});

describe("updaterImage: the tag follows updateDesiredVersion unless pinned", () => {
    const cases: [args: Parameters<typeof updaterImage>[0], image: string][] = [
        [{ image: "gcr.io/totvs/protheus-updater", updateDesiredVersion: "12.1.2410" }, "gcr.io/totvs/protheus-updater:12.1.2410"],
        [{ image: "gcr.io/totvs/protheus-updater", updateDesiredVersion: "12.1.2410", tag: "hotfix-7" }, "gcr.io/totvs/protheus-updater:hotfix-7"],
        [{ image: "registry:5000/protheus-updater", updateDesiredVersion: "12.1.2510-3" }, "registry:5000/protheus-updater:12.1.2510-3"],
    ];
    for (const [args, image] of cases) it(image, () => assert.equal(updaterImage(args), image));
});

describe("teamObjectName: the Role and RoleBinding of a team", () => {
    for (const [team, name] of [
        ["gcad", "protheus-gcad"],
        ["devops-protheus", "protheus-devops-protheus"],
        ["dbas", "protheus-dbas"],
    ] as const) {
        it(`${team} → ${name}`, () => assert.equal(teamObjectName(team), name));
    }
});

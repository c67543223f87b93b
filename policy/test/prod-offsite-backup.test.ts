import * as assert from "node:assert/strict";
import { prodOffsiteBackup } from "../prod-offsite-backup";
import { backupCopy, cronJob, namespace, runStack, urnOf } from "./harness";

const NS = "kubernetes:core/v1:Namespace";

describe("policy prod-offsite-backup", () => {
    for (const targets of ["gcs", "rubrik", "gcs,rubrik", " volume , GCS "]) {
        it(`accepts BACKUP_TARGETS=${JSON.stringify(targets)} in prod`, async () => {
            const out = await runStack(
                prodOffsiteBackup,
                [namespace("c2a7dv", "prod"), backupCopy("c2a7dv", [{ name: "BACKUP_TARGETS", value: targets }])],
                "prod",
            );
            assert.deepEqual(out.violations, []);
        });
    }

    it("does not apply to hml", async () => {
        const out = await runStack(prodOffsiteBackup, [namespace("c2a7dv", "hml"), cronJob("protheus-backup", { timeZone: "America/Sao_Paulo" })], "hml");
        assert.deepEqual(out.violations, []);
    });

    it("reports a prod stack (by stack name) without the copy CronJob", async () => {
        const out = await runStack(prodOffsiteBackup, [namespace("c2a7dv"), cronJob("protheus-backup", { timeZone: "America/Sao_Paulo" })], "prod");
        assert.equal(out.violations.length, 1);
        assert.equal(out.violations[0]!.urn, undefined);
        assert.match(out.violations[0]!.message, /^production stack \(stack prod\) has no CronJob with metadata.name "protheus-backup-copy"/);
    });

    it("reports a stack with a Namespace labelled prod (any stack name) without the copy CronJob", async () => {
        const out = await runStack(prodOffsiteBackup, [namespace("c2a7dv", "prod")], "dev");
        assert.equal(out.violations.length, 2, JSON.stringify(out.violations));
        assert.match(out.violations[0]!.message, /Namespace labelled protheus.totvs.com\/stage=prod\) has no CronJob/);
        assert.equal(out.violations[1]!.urn, urnOf("dev", NS, "c2a7dv"));
        assert.match(out.violations[1]!.message, /Namespace "c2a7dv" is labelled protheus.totvs.com\/stage=prod but has no CronJob "protheus-backup-copy"/);
    });

    for (const [label, env, re] of [
        [
            "only the local volume",
            [{ name: "BACKUP_TARGETS", value: "volume" }],
            /BACKUP_TARGETS="volume" lists no offsite target; it must include gcs or rubrik/,
        ],
        ["an empty list", [{ name: "BACKUP_TARGETS", value: " , " }], /lists no offsite target/],
        ["no BACKUP_TARGETS", [{ name: "OTHER", value: "gcs" }], /no container sets env BACKUP_TARGETS/],
        ["no env at all", undefined, /no container sets env BACKUP_TARGETS/],
        ["a valueFrom", [{ name: "BACKUP_TARGETS", valueFrom: { configMapKeyRef: { name: "cfg", key: "targets" } } }], /has no literal value/],
    ] as const) {
        it(`reports a copy CronJob with ${label}`, async () => {
            const copy = backupCopy("c2a7dv", env === undefined ? undefined : [...env]);
            const out = await runStack(prodOffsiteBackup, [namespace("c2a7dv", "prod"), copy], "prod");
            assert.equal(out.violations.length, 1, JSON.stringify(out.violations));
            assert.equal(out.violations[0]!.urn, urnOf("prod", copy.type, copy.name));
            assert.match(out.violations[0]!.message, /^CronJob "c2a7dv-backup-copy" \(c2a7dv\/protheus-backup-copy\): /);
            assert.match(out.violations[0]!.message, re);
        });
    }

    it("requires the copy CronJob in every prod namespace", async () => {
        const out = await runStack(
            prodOffsiteBackup,
            [namespace("c2a7dv", "prod"), namespace("x9k2pq", "prod"), backupCopy("c2a7dv", [{ name: "BACKUP_TARGETS", value: "rubrik" }])],
            "prod",
        );
        assert.equal(out.violations.length, 1, JSON.stringify(out.violations));
        assert.match(out.violations[0]!.message, /Namespace "x9k2pq"/);
    });
});

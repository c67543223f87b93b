import * as assert from "node:assert/strict";
import { cronJobTimeZone } from "../cronjob-time-zone";
import { cronJob, runResource, UNKNOWN_STRING, workload } from "./harness";

describe("policy cronjob-time-zone", () => {
    it("accepts a CronJob with an IANA time zone", async () => {
        const out = await runResource(cronJobTimeZone, cronJob("protheus-backup", { timeZone: "America/Sao_Paulo" }));
        assert.deepEqual(out.violations, []);
    });

    it("accepts UTC", async () => {
        const out = await runResource(cronJobTimeZone, cronJob("x", { timeZone: "Etc/UTC" }));
        assert.deepEqual(out.violations, []);
    });

    it("reports a CronJob without spec.timeZone, naming the resource and the field", async () => {
        const out = await runResource(cronJobTimeZone, cronJob("protheus-backup"));
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /CronJob "protheus-backup"/);
        assert.match(out.violations[0]!, /c2a7dv\/protheus-backup|CronJob "protheus-backup":/);
        assert.match(out.violations[0]!, /spec\.timeZone is not set/);
    });

    for (const [label, tz, re] of [
        ["empty", "", /is not set/],
        ["blank", "   ", /is blank/],
        ["not a zone", "Brazil/Nowhere", /not a known IANA time zone/],
        ["not a string", 3, /is not a string/],
    ] as const) {
        it(`reports a ${label} spec.timeZone`, async () => {
            const out = await runResource(cronJobTimeZone, cronJob("protheus-updater", { timeZone: tz }));
            assert.equal(out.violations.length, 1, out.violations.join("\n"));
            assert.match(out.violations[0]!, re);
            assert.match(out.violations[0]!, /protheus-updater/);
        });
    }

    it("reports CRON_TZ embedded in the schedule", async () => {
        const out = await runResource(cronJobTimeZone, cronJob("x", { timeZone: "America/Sao_Paulo", schedule: "CRON_TZ=America/Sao_Paulo 0 21 * * *" }));
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /spec\.schedule .*CRON_TZ/);
    });

    it("ignores other resource types", async () => {
        const out = await runResource(cronJobTimeZone, workload("kubernetes:batch/v1:Job", "j", { containers: [] }));
        assert.deepEqual(out.violations, []);
    });

    it("treats an unknown time zone during preview as unknown, not as a violation", async () => {
        const out = await runResource(cronJobTimeZone, cronJob("x", { timeZone: UNKNOWN_STRING }));
        assert.deepEqual(out.violations, []);
        assert.match(out.unknown ?? "", /\.spec\.timeZone can't be known during preview/);
    });
});

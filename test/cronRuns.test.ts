// The cron runs behind the schedule overlap rules: a year in fixed-offset periods must give the
// runs cron-parser gives in the named zone, except inside the hour a zone's clocks change.
import { strict as assert } from "assert";
import { CronExpressionParser } from "cron-parser";
import { offsetPeriods, runsAfter } from "../config/cronRuns";

const FROM = Date.parse("2026-01-01T00:00:00Z");
const YEAR = 365 * 86400_000;
const iso = (t: number) => new Date(t).toISOString().replace(":00.000Z", "Z");

/** A year of runs of `schedule` in `timeZone`, straight from cron-parser in that zone. */
function cronParserRuns(schedule: string, timeZone: string): number[] {
    const runs = CronExpressionParser.parse(schedule, { currentDate: new Date(FROM), tz: timeZone });
    const out: number[] = [];
    for (let t = runs.next().getTime(); t < FROM + YEAR; t = runs.next().getTime()) out.push(t);
    return out;
}

const yearOfRuns = (schedule: string, timeZone: string) => [...runsAfter(schedule, FROM, offsetPeriods(timeZone, FROM, FROM + YEAR))];

describe("cron runs in a time zone (config/cronRuns.ts)", () => {
    describe("offsetPeriods", () => {
        for (const [zone, expected] of [
            // No daylight saving time since 2019.
            ["America/Sao_Paulo", [["2026-01-01T00:00Z", "2027-01-01T00:00Z", "UTC-03:00"]]],
            [
                "America/New_York",
                [
                    ["2026-01-01T00:00Z", "2026-03-08T07:00Z", "UTC-05:00"],
                    ["2026-03-08T07:00Z", "2026-11-01T06:00Z", "UTC-04:00"],
                    ["2026-11-01T06:00Z", "2027-01-01T00:00Z", "UTC-05:00"],
                ],
            ],
            [
                "Europe/Berlin",
                [
                    ["2026-01-01T00:00Z", "2026-03-29T01:00Z", "UTC+01:00"],
                    ["2026-03-29T01:00Z", "2026-10-25T01:00Z", "UTC+02:00"],
                    ["2026-10-25T01:00Z", "2027-01-01T00:00Z", "UTC+01:00"],
                ],
            ],
            // Half-hour offset, and a half-hour daylight saving shift.
            ["Asia/Kolkata", [["2026-01-01T00:00Z", "2027-01-01T00:00Z", "UTC+05:30"]]],
            [
                "Australia/Lord_Howe",
                [
                    ["2026-01-01T00:00Z", "2026-04-04T15:00Z", "UTC+11:00"],
                    ["2026-04-04T15:00Z", "2026-10-03T15:30Z", "UTC+10:30"],
                    ["2026-10-03T15:30Z", "2027-01-01T00:00Z", "UTC+11:00"],
                ],
            ],
            ["UTC", [["2026-01-01T00:00Z", "2027-01-01T00:00Z", "UTC+00:00"]]],
        ] as const) {
            it(`${zone}: the year in periods of one offset, each change at its first minute`, () => {
                const periods = offsetPeriods(zone, FROM, FROM + YEAR);
                assert.deepEqual(
                    periods.map((p) => [iso(p.start), iso(p.end), p.zone]),
                    expected,
                );
            });
        }

        it("throws on a zone Intl does not know", () => {
            assert.throws(() => offsetPeriods("America/Atlantis", FROM, FROM + YEAR), RangeError);
        });
    });

    describe("runsAfter", () => {
        // Not Lord Howe: cron-parser itself stops there ("loop limit exceeded") on its half-hour shift.
        const zones = ["America/Sao_Paulo", "America/New_York", "Europe/Berlin", "Asia/Kolkata"];
        // Schedules away from every zone's change hour: the runs must be cron-parser's own, one by one.
        // Daily, weekly on a weekday, twice a month, and several runs on working days.
        const schedules = ["0 21 * * *", "0 13 * * 0", "15 22 1,15 * *", "*/30 9-10 * * 1-5"];
        for (const zone of zones) {
            it(`${zone}: a year of runs equals cron-parser's in the zone`, () => {
                for (const schedule of schedules) {
                    const expected = cronParserRuns(schedule, zone).map(iso);
                    assert.ok(expected.length > 10, schedule);
                    assert.deepEqual(yearOfRuns(schedule, zone).map(iso), expected, `${schedule} in ${zone}`);
                }
            });
        }

        it("inside a change hour: a wall-clock time that does not exist has no run, one that happens twice has two", () => {
            const runs = yearOfRuns("30 2 * * *", "America/New_York").map(iso);
            // 2026-03-08 02:30 does not exist in New York (02:00 EST -> 03:00 EDT).
            assert.ok(runs.includes("2026-03-07T07:30Z") && runs.includes("2026-03-09T06:30Z"));
            assert.equal(runs.filter((t) => t.startsWith("2026-03-08")).length, 0);
            const back = yearOfRuns("30 1 * * *", "America/New_York").map(iso);
            // 2026-11-01 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
            assert.deepEqual(
                back.filter((t) => t.startsWith("2026-11-01")),
                ["2026-11-01T05:30Z", "2026-11-01T06:30Z"],
            );
        });

        it("starts strictly after `after` and keeps a run on a period's first minute", () => {
            const periods = offsetPeriods("Europe/Berlin", FROM, FROM + YEAR);
            // 03:00 CEST is the first minute of summer time (01:00Z).
            const firstSummer = [...runsAfter("0 3 29 3 *", FROM, periods)];
            assert.deepEqual(firstSummer.map(iso), ["2026-03-29T01:00Z"]);
            const after = Date.parse("2026-03-29T01:00:00Z");
            assert.deepEqual([...runsAfter("0 3 29 3 *", after, periods)], []);
        });
    });
});

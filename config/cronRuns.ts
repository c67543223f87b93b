// The runs of a cron schedule in a time zone over a span of time, as instants, for the schedule
// overlap rules (config/drill.ts). cron-parser stepping through a named zone asks Intl for the
// offset at every step: a year of runs cost about 0.6 s of every process that parses a stack's
// config. The span is cut where the zone's UTC offset changes, and each piece is stepped in a
// fixed-offset zone, which costs about half as much.
import { CronExpressionParser } from "cron-parser";

/** A stretch of time with one UTC offset: [start, end) in ms, and the zone that is that offset. */
export interface OffsetPeriod {
    start: number;
    end: number;
    /** e.g. "UTC-03:00", the fixed-offset zone luxon (and so cron-parser) accepts */
    zone: string;
}

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;

/** The UTC offset of `timeZone` at `at`, as a fixed-offset zone name ("UTC+05:30"). Throws on an unknown zone. */
function offsetZone(format: Intl.DateTimeFormat, at: number): string {
    const name = format.formatToParts(new Date(at)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
    // Intl writes "GMT-03:00", or "GMT" for UTC itself.
    return name === "GMT" ? "UTC+00:00" : name.replace("GMT", "UTC");
}

/**
 * The periods of one UTC offset of `timeZone` that cover [from, to). The offset is sampled daily
 * and each change narrowed down to its first minute: zones change offset at most a few times a
 * year, never twice in a day, and always on a minute.
 */
export function offsetPeriods(timeZone: string, from: number, to: number): OffsetPeriod[] {
    const format = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
    const periods: OffsetPeriod[] = [];
    let start = Math.floor(from / MINUTE) * MINUTE;
    let zone = offsetZone(format, start);
    for (let day = start; day < to; day += DAY) {
        let [lo, hi] = [day, day + DAY];
        if (offsetZone(format, hi) === zone) continue;
        // The offset at lo is `zone`, at hi another: bisect to the first minute of the other.
        while (hi - lo > MINUTE) {
            const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / MINUTE)) * MINUTE;
            if (offsetZone(format, mid) === zone) lo = mid;
            else hi = mid;
        }
        periods.push({ start, end: hi, zone });
        start = hi;
        zone = offsetZone(format, hi);
    }
    periods.push({ start, end: Math.max(to, start), zone });
    return periods;
}

/**
 * The runs of `schedule` after `after` (exclusive), in increasing order, as instants, within
 * `periods`. In each period the zone's wall clock is its fixed offset. Where the offset changes,
 * a wall-clock time that does not exist (clocks jump forward) has no run, and one that happens
 * twice (clocks go back) has two; everywhere else the runs are those of cron-parser in the zone.
 */
export function* runsAfter(schedule: string, after: number, periods: OffsetPeriod[]): Generator<number> {
    // Every run yielded is strictly after `cursor`; a period's runs are those before its end.
    let cursor = after;
    for (const p of periods) {
        if (p.end - 1 <= cursor) continue;
        // cron-parser's next() is strictly after currentDate: start a millisecond early to keep a run at p.start.
        const runs = CronExpressionParser.parse(schedule, { currentDate: new Date(Math.max(cursor, p.start - 1)), tz: p.zone });
        for (let t = runs.next().getTime(); t < p.end; t = runs.next().getTime()) yield t;
        cursor = p.end - 1;
    }
}

// Policy cronjob-time-zone: CronJobs set spec.timeZone.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { dig, ENFORCEMENT, onTypes, T } from "./common";

export function timeZoneProblem(tz: unknown): string | undefined {
    if (tz === undefined || tz === null || tz === "") {
        return "is not set";
    }
    if (typeof tz !== "string") {
        return `is not a string (${JSON.stringify(tz)})`;
    }
    if (tz.trim() === "") {
        return "is blank";
    }
    if (tz !== tz.trim()) {
        return `"${tz}" has surrounding whitespace`;
    }
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
    } catch {
        return `"${tz}" is not a known IANA time zone`;
    }
    return undefined;
}

export const cronJobTimeZone: ResourceValidationPolicy = {
    name: "cronjob-time-zone",
    description:
        "Every Kubernetes CronJob sets spec.timeZone to an IANA time zone (e.g. America/Sao_Paulo), " +
        "so schedules such as the 21:00 database backup do not silently follow the node's clock (UTC).",
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes([T.cronJob], (args, report, what) => {
        const spec = dig(args.props, ["spec"]);
        const problem = timeZoneProblem(dig(spec, ["timeZone"]));
        if (problem) {
            report(`${what}: spec.timeZone ${problem}; set it, e.g. spec.timeZone: "America/Sao_Paulo".`);
        }
        const schedule = dig(spec, ["schedule"]);
        if (typeof schedule === "string" && /\b(CRON_)?TZ=/.test(schedule)) {
            report(`${what}: spec.schedule "${schedule}" embeds TZ=/CRON_TZ=; Kubernetes rejects it, use spec.timeZone.`);
        }
    }),
};

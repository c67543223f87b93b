// Config of the weekly restore drill (protheus:drill) and of the alerts
// (protheus:alerts), and the rule that a drill never overlaps a backup or a
// copy run. Part of the one stack-config schema (config/schema.ts).
import { z } from "zod";
import { offsetPeriods, runsAfter } from "./cronRuns";
import { readOnlyQueryProblems } from "./readOnlyQuery";
import { containerString, cronSchedule, dnsLabel, secretKey } from "./validators";
import { DUTIES, TeamId } from "../lib/access/responsibilities";

/**
 * How long a backup or copy run may hold the database/volume: index.ts makes them the
 * activeDeadlineSeconds of their Jobs (NightlyBackup, OffsiteCopy), and the schema keeps
 * the copy out of the backup's window and the drill out of both, whatever the schedules.
 */
export const BACKUP_WINDOW_HOURS = 8;
export const COPY_WINDOW_HOURS = 6;
/** Kubernetes ends the drill Job this long after the script's own deadline, so the script cleans up first. */
export const DRILL_KILL_MARGIN_MINUTES = 10;

// Sunday 13:00: after the 06:00 copy's window (until 12:00), done before the 21:00 backup.
export const DRILL_DEFAULTS = { schedule: "0 13 * * 0", deadlineMinutes: 360, rtoMinutes: 240 } as const;

/** The deadline a drill gets unless set: half as long again as the objective (360 min for 240), so a slow restore is measured, not cut. */
export function defaultDrillDeadline(rtoMinutes: number): number {
    return Math.min(23 * 60, Math.max(10, Math.ceil((rtoMinutes * 3) / 2)));
}

const checkName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, { error: "expected a check name of lower-case letters, digits, '_' and '-' (at most 50)" });

export const drillSchema = z
    .strictObject({
        // Default: on in prod, off in hml (resolved with the stage: drillEnabled()).
        enabled: z.boolean({ error: "expected true or false" }).optional().describe("run the weekly drill; by default `true` in prod, `false` in hml"),
        schedule: cronSchedule
            .default(DRILL_DEFAULTS.schedule)
            .describe(
                "when the drill runs (cron); refused if a run, plus deadlineMinutes and 10 minutes, overlaps a backup (8 h) or copy (6 h) run over the year ahead",
            ),
        // The restore and the checks must end within this; past it the drill fails and drops the scratch database.
        deadlineMinutes: z
            .int({ error: "expected a whole number of minutes" })
            .min(10)
            .max(23 * 60)
            .optional()
            .describe(
                "the drill's own deadline (`DRILL_DEADLINE_SECONDS`), at least rtoMinutes, by default 1.5 × rtoMinutes: past it the drill fails and drops its scratch database; Kubernetes ends the Job 10 minutes later",
            ),
        // A drill server instead of the live one (the restore user and password Secret: backup.database.restoreUser).
        server: z
            .strictObject({
                host: containerString("the drill PostgreSQL host name").describe("the drill server's host"),
                port: z.int({ error: "expected a TCP port number" }).min(1).max(65535).default(5432).describe("its TCP port"),
            })
            .optional()
            .describe("restore the drill on this PostgreSQL instead of the live server (same restore user and password Secret)"),
        // The role the drill connects as: it creates and drops <database>_drill, so it needs CREATEDB and
        // membership in the owner's role (protheus_restore in docs/backups.md). Default: backup.database's.
        database: z
            .strictObject({
                user: containerString("the database user").describe("the role's name"),
                passwordSecret: z
                    .strictObject({
                        name: dnsLabel.describe("the Secret's name"),
                        key: secretKey.default("password").describe("the key in the Secret that holds the password"),
                    })
                    .describe("an existing Kubernetes Secret with the role's password"),
            })
            .optional()
            .describe(
                "the role the drill connects as, by default the restore identity (`backup.database.restoreUser`): it needs `CREATEDB` and membership in the owner's role",
            ),
        // Extra checks: each SQL query prints one value that must equal `expected`.
        checks: z
            .record(
                checkName,
                z.strictObject({
                    // One read-only query, proved by PostgreSQL's parser (config/readOnlyQuery.ts); drill.sh runs it as a cursor.
                    sql: z
                        .string({ error: "expected an SQL query" })
                        .min(1, { error: "expected an SQL query" })
                        .superRefine((sql, ctx) => {
                            const [problem] = readOnlyQueryProblems([sql]);
                            if (problem) ctx.addIssue({ code: "custom", message: problem });
                        })
                        .describe(
                            "exactly one read-only query (`SELECT`, `VALUES` or `WITH … SELECT`, checked with PostgreSQL's parser: no second statement, no backslash, no write, `SELECT INTO`, `FOR UPDATE` or side-effect function such as `pg_terminate_backend`), run in a read-only transaction of the restored scratch database",
                        ),
                    expected: z.string({ error: "expected the value the query prints, as a string" }).describe("exactly what the query must print"),
                }),
                { error: "expected an object of named checks {sql, expected}, each check name of lower-case letters, digits, '_' and '-' (at most 50)" },
            )
            .default({})
            .describe("extra checks by name (lower-case letters, digits, '_' and '-'): each query must print exactly its `expected` value"),
        // The recovery-time objective: a drill restore slower than this alerts.
        rtoMinutes: z
            .int({ error: "expected a whole number of minutes" })
            .min(1)
            .max(23 * 60)
            .default(DRILL_DEFAULTS.rtoMinutes)
            .describe("the recovery-time objective, in minutes: a drill restore slower than this alerts"),
    })
    .transform((d) => ({ ...d, deadlineMinutes: d.deadlineMinutes ?? defaultDrillDeadline(d.rtoMinutes) }));

export const alertsSchema = z.strictObject({
    // The GKE cluster's project (where the containers' logs land); default backup.gcs.project.
    project: z
        .string({ error: "expected a string" })
        .regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "expected a GCP project ID" })
        .optional()
        .describe("the GKE cluster's GCP project (where the containers' logs land); by default `backup.gcs.project`"),
    emails: z
        .array(z.email({ error: "expected an e-mail address" }), { error: "expected a list of e-mail addresses" })
        .default([])
        .describe(
            "extra recipients: the alerts always e-mail the groups (`access.groups`) of the teams responsible for the robots and the database (SmartSRE, Devops Protheus, DBAs), then these; each address is an e-mail notification channel",
        ),
    // Existing Cloud Monitoring notification channels (e.g. a team's chat or pager).
    channelIds: z
        .array(
            z.string().regex(/^projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]\/notificationChannels\/[0-9]+$/, {
                error: "expected projects/<project>/notificationChannels/<id>",
            }),
            {
                error: "expected a list of notification channel ids",
            },
        )
        .default([])
        .describe("existing notification channels (`projects/<project>/notificationChannels/<id>`) notified as well"),
});

/** What the alerts are about (components/BackupAlerts.ts): the teams carrying these duties receive every alert. */
export const ALERT_DUTIES = ["maintain-robots", "maintain-database"] as const;

/**
 * Who the alerts e-mail: the Google Groups (protheus:access.groups) of the teams
 * responsible for the alerts, then the extra addresses of protheus:alerts.emails,
 * each once. A team without a group (opted out) receives nothing.
 */
export function alertRecipients(emails: readonly string[], groups: Partial<Record<TeamId, string>>): string[] {
    const teams = ALERT_DUTIES.flatMap((d) => DUTIES[d].teams);
    const teamGroups = teams.map((t) => groups[t]).filter((g): g is string => g !== undefined);
    return [...new Set([...teamGroups, ...emails])];
}

export type DrillConfig = z.infer<typeof drillSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;

export function drillEnabled(stage: "prod" | "hml", drill: DrillConfig | undefined): boolean {
    return drill?.enabled ?? stage === "prod";
}

interface Window {
    key: string;
    schedule: string;
    hours: number;
}

/**
 * The first time a drill run (start + deadline; or another job's run, `what`) overlaps a run of another
 * job (start + its window), over a year of drill runs from a fixed date, in
 * the stack's time zone (runsAfter says what happens in the hour its clocks change);
 * undefined when none does. A fixed start keeps the verdict the same on every machine and day.
 */
export function scheduleOverlap(
    drill: { schedule: string; minutes: number; what?: string },
    others: Window[],
    timeZone: string,
    from = new Date("2026-01-01T00:00:00Z"),
): string | undefined {
    // A year of cron runs costs 0.1 to 0.3 s (config/cronRuns.ts), and every render and fleet view parses
    // configs that share the default schedules: each distinct question is answered once.
    const key = JSON.stringify([drill, others, timeZone, from.getTime()]);
    if (!overlapVerdicts.has(key)) {
        if (overlapVerdicts.size >= 1000) overlapVerdicts.clear();
        overlapVerdicts.set(key, firstOverlap(drill, others, timeZone, from));
    }
    return overlapVerdicts.get(key);
}

const overlapVerdicts = new Map<string, string | undefined>();

function firstOverlap(drill: { schedule: string; minutes: number; what?: string }, others: Window[], timeZone: string, from: Date): string | undefined {
    const end = from.getTime() + 366 * 86400_000;
    // Other jobs' runs are looked up from a window before the first drill run to past the last one's end.
    const margin = (Math.max(0, ...others.map((o) => o.hours)) * 60 + drill.minutes) * 60_000 + 86400_000;
    const periods = offsetPeriods(timeZone, from.getTime() - margin, end + margin);
    // Per other job, its runs from (first start - its window), carried forward as the starts grow.
    const cursors = others.map(() => ({ runs: undefined as Iterator<number> | undefined, next: 0 }));
    const nextOf = (runs: Iterator<number>) => {
        const r = runs.next();
        return r.done ? Infinity : r.value;
    };
    let examined = 0;
    for (const start of runsAfter(drill.schedule, from.getTime(), periods)) {
        if (start > end || ++examined > 2000) return undefined;
        const stop = start + drill.minutes * 60_000;
        for (const [n, o] of others.entries()) {
            // The latest run of `o` that could still be busy at `start` begins after start - window.
            const after = start - o.hours * 3600_000;
            const c = cursors[n];
            if (!c.runs) {
                c.runs = runsAfter(o.schedule, after, periods);
                c.next = nextOf(c.runs);
            }
            while (c.next <= after) c.next = nextOf(c.runs);
            const other = c.next;
            if (other < stop) {
                const at = (t: number) => new Date(t).toLocaleString("sv-SE", { timeZone, hour12: false }).slice(0, 16);
                return `the ${drill.what ?? "drill"} run at ${at(start)} (until ${at(stop)}) overlaps the ${o.key} run at ${at(other)} (${o.hours} h window) in ${timeZone}`;
            }
        }
    }
    return undefined;
}

/** What the rules of the backup windows, the drill and the alerts read of a stack's config. */
interface ScheduledStack {
    stage: "prod" | "hml";
    timeZone: string;
    backup?: { schedule: string; copySchedule: string; targets: string[]; gcs?: { project: string } };
    drill?: DrillConfig;
    alerts?: AlertsConfig;
    access: { groups: Partial<Record<TeamId, string>> };
}

/** The first overlap scheduleOverlap finds; none for an invalid schedule, which its own key already reports. */
function overlapOf(...args: Parameters<typeof scheduleOverlap>): string | undefined {
    try {
        return scheduleOverlap(...args);
    } catch {
        return undefined;
    }
}

function backupWindow(backup: { schedule: string }): Window {
    return { key: "backup.schedule", schedule: backup.schedule, hours: BACKUP_WINDOW_HOURS };
}

/** The copy ships what the night's backup finished: it must not start while a backup may still run. */
export function copyClearOfBackupWindow(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    if (!cfg.backup || cfg.backup.targets.length === 0) return;
    const overlap = overlapOf({ schedule: cfg.backup.copySchedule, minutes: 1, what: "copy" }, [backupWindow(cfg.backup)], cfg.timeZone);
    if (overlap) {
        ctx.addIssue({
            code: "custom",
            path: ["backup", "copySchedule"],
            message: `expected a copy schedule that never starts inside a backup's window (backup.schedule + ${BACKUP_WINDOW_HOURS} h, its deadline): ${overlap}`,
        });
    }
}

export function drillNeedsBackup(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    if (cfg.drill && drillEnabled(cfg.stage, cfg.drill) && !cfg.backup) {
        ctx.addIssue({ code: "custom", path: ["drill", "enabled"], message: "expected false or a backup section: the drill restores the backups" });
    }
}

export function drillOutlastsObjective(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    if (!cfg.backup || !drillEnabled(cfg.stage, cfg.drill)) return;
    const d = cfg.drill ?? drillSchema.parse({});
    if (d.deadlineMinutes < d.rtoMinutes) {
        ctx.addIssue({
            code: "custom",
            path: ["drill", "deadlineMinutes"],
            params: { default: d.deadlineMinutes },
            message: `expected at least drill.rtoMinutes (${d.rtoMinutes}): a drill must be able to run past the objective to measure a slow restore`,
        });
    }
}

export function drillClearOfBackupAndCopy(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    if (!cfg.backup || !drillEnabled(cfg.stage, cfg.drill)) return;
    const d = cfg.drill ?? drillSchema.parse({});
    const others: Window[] = [backupWindow(cfg.backup)];
    if (cfg.backup.targets.length > 0) others.push({ key: "backup.copySchedule", schedule: cfg.backup.copySchedule, hours: COPY_WINDOW_HOURS });
    const overlap = overlapOf({ schedule: d.schedule, minutes: d.deadlineMinutes + DRILL_KILL_MARGIN_MINUTES }, others, cfg.timeZone);
    if (overlap) {
        ctx.addIssue({
            code: "custom",
            path: ["drill", "schedule"],
            params: { default: d.schedule },
            message: `expected a drill schedule that never overlaps a backup or copy run (drill window = drill.deadlineMinutes + ${DRILL_KILL_MARGIN_MINUTES} min): ${overlap}; set protheus:drill.schedule to a time clear of both`,
        });
    }
}

export function prodHasAlerts(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    if (cfg.stage === "prod" && !cfg.alerts) {
        ctx.addIssue({
            code: "custom",
            path: ["alerts"],
            message: "expected an alerts section (emails and/or channelIds): a failed prod backup must reach someone",
        });
    }
}

export function alertsReachSomeone(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    const alerts = cfg.alerts;
    if (alerts && alertRecipients(alerts.emails, cfg.access.groups).length === 0 && alerts.channelIds.length === 0) {
        ctx.addIssue({
            code: "custom",
            path: ["alerts", "emails"],
            message:
                "expected at least one e-mail or channel id: the responsible teams (SmartSRE, Devops Protheus, DBAs) have no group here (or no alerts section at all, in hml)",
        });
    }
}

export function alertsHaveProject(cfg: ScheduledStack, ctx: z.RefinementCtx): void {
    if (cfg.alerts && !cfg.alerts.project && !cfg.backup?.gcs) {
        ctx.addIssue({
            code: "custom",
            path: ["alerts", "project"],
            message: "expected the GKE cluster's GCP project (there is no backup.gcs.project to default to)",
        });
    }
}

/** The rules of the backup windows, the drill and the alerts, in the order their problems are listed (config/schema.ts STACK_RULES). */
export const SCHEDULE_AND_ALERT_RULES = [
    copyClearOfBackupWindow,
    drillNeedsBackup,
    drillOutlastsObjective,
    drillClearOfBackupAndCopy,
    prodHasAlerts,
    alertsReachSomeone,
    alertsHaveProject,
] as const;

// Plan tests of the restore drill CronJob, its schedule rules, and the
// Cloud Monitoring metrics and alert policies.
import { strict as assert } from "assert";
import { OUTCOME_CONTAINERS } from "../components/names";
import { ConfigError } from "../config/load";
import { BACKUP_WINDOW_HOURS, COPY_WINDOW_HOURS, scheduleOverlap } from "../config/drill";
import { PlannedResource } from "../lib/render";
import { schemaViolations } from "./support/k8sSchema";
import { byK8sName, configObject, render, renderFailure, stackWith } from "./support/stacks";

const METRIC = "gcp:logging/metric:Metric";
const POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
const CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel";

const spec = (r: PlannedResource): any => (r.inputs as any).spec;
const podOf = (cronJob: PlannedResource): any => spec(cronJob).jobTemplate.spec.template.spec;
const envOf = (container: any): Record<string, unknown> => Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
const ofType = (resources: PlannedResource[], type: string) => resources.filter((r) => r.type === type);
const policyNamed = (resources: PlannedResource[], fragment: string): any => {
    const hits = ofType(resources, POLICY).filter((p) => String((p.inputs as any).displayName).includes(fragment));
    assert.equal(
        hits.length,
        1,
        `expected one alert policy named like "${fragment}", found ${hits.map((p) => (p.inputs as any).displayName).join(", ") || "none"}`,
    );
    return hits[0].inputs;
};

async function problemsOf(stage: "prod" | "hml", overrides: Record<string, unknown>): Promise<string[]> {
    const err = await renderFailure(stackWith(stage, overrides));
    assert.ok(err.cause instanceof ConfigError, `expected a ConfigError, got ${err.message}`);
    assert.equal(err.resources.length, 0, "a resource was registered despite the bad config");
    return err.cause.problems;
}
function problemFor(problems: string[], key: string): string {
    const line = problems.find((p) => p.startsWith(`${key} `));
    assert.ok(line, `no problem names ${key}:\n${problems.join("\n")}`);
    return line;
}

describe("restore drill (plan)", () => {
    let prod: PlannedResource[];
    before(async () => {
        ({ resources: prod } = await render(stackWith("prod")));
    });

    it("prod: a weekly CronJob protheus-restore-drill, Sundays 13:00 Sao Paulo time, never retried, killed only after the script's own deadline", async () => {
        const cj = byK8sName(prod, "CronJob", "protheus-restore-drill");
        assert.deepEqual(await schemaViolations(cj), []);
        const s = spec(cj);
        assert.equal(s.schedule, "0 13 * * 0");
        assert.equal(s.timeZone, "America/Sao_Paulo");
        assert.equal(s.concurrencyPolicy, "Forbid");
        assert.equal(s.jobTemplate.spec.backoffLimit, 0);
        const drill = podOf(cj).containers[0];
        const env = envOf(drill);
        assert.equal(env.DRILL_DEADLINE_SECONDS, String(360 * 60));
        assert.equal(s.jobTemplate.spec.activeDeadlineSeconds, (360 + 10) * 60, "Kubernetes ends the Job 10 min after the script's deadline");
        assert.deepEqual(drill.command, ["bash", "/scripts/drill.sh"]);
        assert.match(drill.image, /^postgres:15/);
        assert.equal(env.PGDATABASE, "protheus");
        assert.equal(env.PGHOST, "postgresql", "same server by default");
        assert.equal(env.DRILL_PGHOST, undefined);
        assert.equal(env.PGUSER, "protheus_restore", "the drill restores: it connects as the restore role");
        assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: "protheus-database-restore", key: "password" } });
        assert.equal(env.BACKUP_NAMESPACE, "c2a7dv");
        assert.equal(env.RESTORE_REPLACE, undefined, "the drill never replaces anything");
    });

    it("prod ships to GCS: an init container fetches the offsite copy (drill.sh --fetch-only) with the read-only backup reader account, no database password", () => {
        const pod = podOf(byK8sName(prod, "CronJob", "protheus-restore-drill"));
        assert.equal(pod.serviceAccountName, "protheus-backup-reader", "the fetch reads as the read-only account");
        assert.equal(pod.initContainers.length, 1);
        const fetch = pod.initContainers[0];
        assert.deepEqual(fetch.command, ["bash", "/scripts/drill.sh", "--fetch-only"]);
        assert.match(fetch.image, /cloud/);
        const env = envOf(fetch);
        assert.equal(env.PGPASSWORD, undefined);
        assert.equal(env.PGDATABASE, "protheus");
        assert.equal(typeof env.GCS_BUCKET, "string");
        assert.equal(envOf(pod.containers[0]).GCS_BUCKET, env.GCS_BUCKET);
    });

    it("the scripts ConfigMap ships drill.sh", () => {
        const cm = byK8sName(prod, "ConfigMap", "protheus-backup-scripts").inputs as any;
        assert.match(cm.data["drill.sh"], /^#!\/usr\/bin\/env bash\n# drill\.sh/);
    });

    it("the collision windows are the backup and copy Jobs' own activeDeadlineSeconds", () => {
        assert.equal(spec(byK8sName(prod, "CronJob", "protheus-backup")).jobTemplate.spec.activeDeadlineSeconds, BACKUP_WINDOW_HOURS * 3600);
        assert.equal(spec(byK8sName(prod, "CronJob", "protheus-backup-copy")).jobTemplate.spec.activeDeadlineSeconds, COPY_WINDOW_HOURS * 3600);
    });

    it("hml: off by default; enabled, with a drill server and extra checks mounted from a ConfigMap", async () => {
        const { resources: off } = await render(stackWith("hml"));
        assert.equal(off.filter((r) => (r.inputs as any).metadata?.name === "protheus-restore-drill").length, 0);
        const { resources } = await render(
            stackWith("hml", {
                drill: {
                    enabled: true,
                    schedule: "30 14 * * 6",
                    server: { host: "pg-drill.internal" },
                    database: { user: "protheus_restore", passwordSecret: { name: "protheus-restore-database" } },
                    checks: { sa1010_ativos: { sql: "SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' '", expected: "1027176" } },
                },
            }),
        );
        const cj = byK8sName(resources, "CronJob", "protheus-restore-drill");
        assert.deepEqual(await schemaViolations(cj), []);
        assert.equal(spec(cj).schedule, "30 14 * * 6");
        const pod = podOf(cj);
        const env = envOf(pod.containers[0]);
        assert.equal(env.DRILL_PGHOST, "pg-drill.internal");
        assert.equal(env.PGUSER, "protheus_restore", "drill.database replaces the backup's role");
        assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: "protheus-restore-database", key: "password" } });
        assert.equal(env.PGHOST, "postgresql");
        assert.equal(env.DRILL_PGPORT, "5432");
        assert.equal(env.DRILL_CHECKS_DIR, "/drill-checks");
        assert.deepEqual(
            pod.containers[0].volumeMounts.find((m: any) => m.mountPath === "/drill-checks"),
            { name: "drill-checks", mountPath: "/drill-checks", readOnly: true },
        );
        assert.deepEqual(
            pod.volumes.find((v: any) => v.name === "drill-checks"),
            { name: "drill-checks", configMap: { name: "protheus-restore-drill-checks" } },
        );
        const cm = byK8sName(resources, "ConfigMap", "protheus-restore-drill-checks");
        assert.deepEqual(await schemaViolations(cm), []);
        assert.deepEqual((cm.inputs as any).data, {
            "sa1010_ativos.sql": "SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' '",
            "sa1010_ativos.expected": "1027176",
        });
    });

    describe("schedule collisions", () => {
        const tz = "America/Sao_Paulo";
        const jobs = [
            { key: "backup.schedule", schedule: "0 21 * * *", hours: 8 },
            { key: "backup.copySchedule", schedule: "0 6 * * *", hours: 6 },
        ];
        it("finds the first overlap of a drill run with a job's window, and none for a free slot", () => {
            assert.equal(scheduleOverlap({ schedule: "0 13 * * 0", minutes: 370 }, jobs, tz), undefined);
            assert.match(scheduleOverlap({ schedule: "0 13 * * 0", minutes: 8 * 60 + 10 }, jobs, tz)!, /overlaps the backup\.schedule run at 2026-01-04 21:00/);
            assert.match(
                scheduleOverlap({ schedule: "0 3 * * 0", minutes: 60 }, jobs, tz)!,
                /overlaps the backup\.schedule run at 2026-01-03 21:00 \(8 h window\)/,
            );
            assert.match(scheduleOverlap({ schedule: "0 10 * * 0", minutes: 60 }, jobs, tz)!, /overlaps the backup\.copySchedule run at 2026-01-04 06:00/);
            // Only on the 1st of a month, still found.
            assert.match(scheduleOverlap({ schedule: "0 22 1 * *", minutes: 60 }, jobs, tz)!, /2026-01-01 22:00/);
        });

        for (const [what, drill, key, expect] of [
            [
                "a drill inside the backup window",
                { schedule: "0 2 * * 0" },
                "protheus:drill.schedule",
                /never overlaps a backup or copy run.*backup\.schedule run at/,
            ],
            ["a drill inside the copy window", { schedule: "0 7 * * 0" }, "protheus:drill.schedule", /backup\.copySchedule run at .* 06:00/],
            [
                "a drill whose deadline runs into the nightly backup",
                { schedule: "0 18 * * 0", deadlineMinutes: 240, rtoMinutes: 60 },
                "protheus:drill.schedule",
                /until .* 22:10\) overlaps the backup\.schedule run at .* 21:00/,
            ],
            [
                "a deadline shorter than the recovery-time objective",
                { deadlineMinutes: 60, rtoMinutes: 120 },
                "protheus:drill.deadlineMinutes",
                /at least drill\.rtoMinutes \(120\)/,
            ],
            ["a malformed drill schedule", { schedule: "every sunday" }, "protheus:drill.schedule", /5-field cron/],
            ["an unknown drill key", { shedule: "0 13 * * 0" }, "protheus:drill.shedule", /unknown key/],
            [
                "a check without its expected value",
                { checks: { sentinela: { sql: "SELECT 1" } } },
                "protheus:drill.checks.sentinela.expected",
                /expected the value/,
            ],
            [
                "a check name that is not a file name",
                { checks: { "../x": { sql: "SELECT 1", expected: "1" } } },
                "protheus:drill.checks.../x",
                /check name of lower-case letters/,
            ],
            ["a drill server port out of range", { server: { host: "pg", port: 0 } }, "protheus:drill.server.port", /0/],
        ] as [string, Record<string, unknown>, string, RegExp][]) {
            it(`refuses ${what}, naming ${key}`, async () => {
                const problems = await problemsOf("prod", { drill: drill });
                assert.match(problemFor(problems, key), expect);
            });
        }

        it("refuses every check that is not exactly one read-only query, all at once, naming each check's sql", async () => {
            const bad: Record<string, [string, RegExp]> = {
                shell: ["SELECT 1\n\\! id", /no backslash/],
                other_db: ["\\c c2a7dv\nUPDATE sa1010 SET a1_nome = 'x'", /no backslash/],
                update: ["UPDATE sa1010 SET a1_nome = 'x'", /found Update/],
                two: ["SELECT 1; UPDATE sa1010 SET a1_nome = 'x'", /exactly one SQL statement \(found 2\)/],
                commit: ["COMMIT; UPDATE sa1010 SET a1_nome = 'x'", /exactly one SQL statement \(found 2\)/],
                read_write: ["SET transaction_read_only = off", /found VariableSet/],
                writable_cte: ["WITH d AS (DELETE FROM sa1010 RETURNING 1) SELECT count(*) FROM d", /no data-modifying statement, found DELETE/],
                select_into: ["SELECT * INTO copia FROM sa1010", /no SELECT INTO/],
                locks: ["SELECT 1 FROM sa1010 FOR UPDATE", /no FOR UPDATE/],
                kills: ["SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity", /no call of pg_terminate_backend\(\)/],
                not_sql: ["SELEC 1", /PostgreSQL can parse: syntax error at or near "SELEC"/],
            };
            const checks = Object.fromEntries(Object.entries(bad).map(([name, [sql]]) => [name, { sql, expected: "1" }]));
            const problems = await problemsOf("prod", {
                drill: { checks: { ...checks, ok: { sql: "SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' '", expected: "1" } } },
            });
            for (const [name, [sql, expect]] of Object.entries(bad)) {
                const line = problemFor(problems, `protheus:drill.checks.${name}.sql`);
                assert.ok(line.includes(JSON.stringify(sql)), `the value is shown: ${line}`);
                assert.match(line, expect);
            }
            assert.equal(
                problems.some((p) => p.startsWith("protheus:drill.checks.ok")),
                false,
            );
        });

        it("refuses a copy that starts inside the backup's window (its deadline), naming protheus:backup.copySchedule", async () => {
            const backup = configObject("prod", "backup");
            const problems = await problemsOf("prod", { backup: { ...backup, copySchedule: "0 4 * * *" } });
            assert.match(
                problemFor(problems, "protheus:backup.copySchedule"),
                /never starts inside a backup's window \(backup\.schedule \+ 8 h.*the copy run at .* 04:00.*overlaps the backup\.schedule run at .* 21:00/,
            );
            // Moved together, backup and copy are accepted.
            const { resources } = await render(stackWith("prod", { backup: { ...backup, schedule: "0 20 * * *", copySchedule: "0 6 * * *" } }));
            assert.equal(spec(byK8sName(resources, "CronJob", "protheus-backup")).schedule, "0 20 * * *");
        });

        it("a moved backup schedule is checked against the default drill too", async () => {
            const backup = configObject("prod", "backup");
            const problems = await problemsOf("prod", { backup: { ...backup, schedule: "0 12 * * *" } });
            assert.match(problemFor(problems, "protheus:drill.schedule"), /backup\.schedule run at .* 12:00/);
        });

        it("a new copy schedule that collides with the default drill says what the default is and why it no longer fits", async () => {
            const backup = configObject("prod", "backup");
            const problems = await problemsOf("prod", { backup: { ...backup, copySchedule: "0 12 * * *" } });
            const problem = problemFor(problems, "protheus:drill.schedule");
            assert.match(problem, /^protheus:drill\.schedule is not set, and its default "0 13 \* \* 0" no longer fits: /);
            assert.match(problem, /backup\.copySchedule run at .* 12:00/);
            assert.doesNotMatch(problem, /is missing/);
        });

        it("the drill deadline follows a larger rtoMinutes unless set, and a set one below it names its value", async () => {
            const { resources } = await render(stackWith("prod", { drill: { rtoMinutes: 300 } }));
            assert.equal(spec(byK8sName(resources, "CronJob", "protheus-restore-drill")).jobTemplate.spec.activeDeadlineSeconds, (450 + 10) * 60);
            // Followed further, the default deadline reaches the 21:00 backup: the schedule's default is named.
            const late = problemFor(await problemsOf("prod", { drill: { rtoMinutes: 400 } }), "protheus:drill.schedule");
            assert.match(late, /is not set, and its default "0 13 \* \* 0" no longer fits: .*until .* 23:10\) overlaps the backup\.schedule run/);
            const problems = await problemsOf("prod", { drill: { rtoMinutes: 400, deadlineMinutes: 300, schedule: "0 13 * * 0" } });
            assert.match(problemFor(problems, "protheus:drill.deadlineMinutes"), /= 300: expected at least drill\.rtoMinutes \(400\)/);
        });
    });
});

describe("backup alerts (plan)", () => {
    let prod: PlannedResource[];
    before(async () => {
        ({ resources: prod } = await render(stackWith("prod")));
    });

    it("log-based metrics on the outcome lines of this environment: a counter by event and status, the drill restore seconds as a distribution", () => {
        const metrics = Object.fromEntries(ofType(prod, METRIC).map((m) => [(m.inputs as any).name, m.inputs as any]));
        assert.deepEqual(Object.keys(metrics).sort(), ["protheus-drill-restore-seconds-c2a7dv", "protheus-outcomes-c2a7dv"]);
        const outcomes = metrics["protheus-outcomes-c2a7dv"];
        assert.equal(outcomes.project, "totvs-protheus-prod");
        assert.equal(
            outcomes.filter,
            'resource.type="k8s_container" AND resource.labels.namespace_name="c2a7dv" AND resource.labels.container_name=("backup" OR "copy" OR "fetch" OR "restore" OR "drill" OR "upddistr") AND jsonPayload.event=("protheus.backup" OR "protheus.copy" OR "protheus.restore" OR "protheus.drill" OR "protheus.updater")',
        );
        assert.deepEqual(outcomes.labelExtractors, { event: "EXTRACT(jsonPayload.event)", status: "EXTRACT(jsonPayload.status)" });
        assert.deepEqual([outcomes.metricDescriptor.metricKind, outcomes.metricDescriptor.valueType], ["DELTA", "INT64"]);
        assert.deepEqual(
            outcomes.metricDescriptor.labels.map((l: any) => l.key),
            ["event", "status"],
        );
        const seconds = metrics["protheus-drill-restore-seconds-c2a7dv"];
        assert.equal(
            seconds.filter,
            'resource.type="k8s_container" AND resource.labels.namespace_name="c2a7dv" AND resource.labels.container_name=("backup" OR "copy" OR "fetch" OR "restore" OR "drill" OR "upddistr") AND jsonPayload.event="protheus.drill" AND jsonPayload.restore_seconds>0',
        );
        assert.equal(seconds.valueExtractor, "EXTRACT(jsonPayload.restore_seconds)");
        assert.deepEqual([seconds.metricDescriptor.valueType, seconds.metricDescriptor.unit], ["DISTRIBUTION", "s"]);
        assert.ok(seconds.bucketOptions.exponentialBuckets);
    });

    it("counts outcome lines only from the robots' own containers: every container that runs a robot script is named, no other", () => {
        // A robot is a container running one of the scripts that print an outcome line (scripts/*.sh, upddistr.sh).
        const robots = new Set<string>();
        for (const r of prod) {
            const inputs = r.inputs as any;
            const pod = inputs.spec?.jobTemplate?.spec?.template?.spec ?? inputs.spec?.template?.spec;
            for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
                if (/\/scripts\/(backup|copy|restore|drill|upddistr)\.sh/.test(JSON.stringify([c.command, c.args]))) robots.add(c.name);
            }
        }
        assert.deepEqual([...robots].sort(), [...OUTCOME_CONTAINERS].sort());
        for (const m of ofType(prod, METRIC)) {
            const filter = (m.inputs as any).filter as string;
            const listed = /resource\.labels\.container_name=\(([^)]*)\)/.exec(filter);
            assert.ok(listed, `${(m.inputs as any).name}: no container clause in ${filter}`);
            assert.deepEqual(
                listed[1]
                    .split(" OR ")
                    .map((c) => JSON.parse(c))
                    .sort(),
                [...robots].sort(),
            );
            assert.match(filter, /resource\.labels\.namespace_name="c2a7dv" AND /);
        }
    });

    it("the five alert policies, with their conditions and thresholds", () => {
        const names = ofType(prod, POLICY)
            .map((p) => (p.inputs as any).displayName)
            .sort();
        assert.equal(names.length, 6);
        const failedFilter = (event: string) =>
            `metric.type="logging.googleapis.com/user/protheus-outcomes-c2a7dv" AND resource.type="k8s_container" AND metric.labels.event="${event}" AND metric.labels.status="failed"`;
        for (const [fragment, event] of [
            ["cópia externa do backup falhou", "protheus.copy"],
            ["teste semanal de restore falhou", "protheus.drill"],
            ["atualização (UPDDISTR) falhou", "protheus.updater"],
        ]) {
            const c = policyNamed(prod, fragment).conditions[0].conditionThreshold;
            assert.equal(c.filter, failedFilter(event), fragment);
            assert.deepEqual([c.comparison, c.thresholdValue], ["COMPARISON_GT", 0], fragment);
            assert.deepEqual(c.aggregations, [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }]);
        }
        for (const [fragment, event] of [
            ["nenhum backup concluído em 26 h", "protheus.backup"],
            ["nenhuma cópia externa concluída em 26 h", "protheus.copy"],
        ]) {
            const q = policyNamed(prod, fragment).conditions[0].conditionPrometheusQueryLanguage.query;
            assert.equal(
                q,
                `(sum(increase(logging_googleapis_com:user_protheus_outcomes_c2a7dv{monitored_resource="k8s_container",event="${event}",status="ok"}[26h])) or vector(0)) < 1`,
            );
        }
        const slow = policyNamed(prod, "restore acima do objetivo de 240 min").conditions[0].conditionThreshold;
        assert.equal(slow.filter, 'metric.type="logging.googleapis.com/user/protheus-drill-restore-seconds-c2a7dv" AND resource.type="k8s_container"');
        assert.deepEqual([slow.comparison, slow.thresholdValue, slow.aggregations[0].perSeriesAligner], ["COMPARISON_GT", 240 * 60, "ALIGN_PERCENTILE_99"]);
    });

    it("every policy notifies the configured e-mails, and its Portuguese documentation names the teams of the responsibility table and what to do", () => {
        const channels = ofType(prod, CHANNEL)
            .map((c) => (c.inputs as any).labels.email_address)
            .sort();
        assert.deepEqual(channels, ["protheus-dbas@totvs.com.br", "protheus-devops@totvs.com.br", "protheus-smartsre@totvs.com.br"]);
        for (const p of ofType(prod, POLICY)) {
            const inputs = p.inputs as any;
            assert.equal(inputs.notificationChannels.length, 3, inputs.displayName);
            assert.equal(inputs.userLabels.environment, "c2a7dv");
            const doc = inputs.documentation.content as string;
            assert.match(doc, /\*\*Quem atende:\*\*/, inputs.displayName);
            assert.match(doc, /\*\*O que fazer:\*\*/, inputs.displayName);
            assert.match(doc, /SmartSRE/, inputs.displayName);
            assert.match(doc, /Devops Protheus|DBAs/, inputs.displayName);
            assert.match(doc, /kubectl -n c2a7dv|RESTORE_JOBS/, inputs.displayName);
        }
        assert.match(policyNamed(prod, "restore acima do objetivo").documentation.content, /DBAs \(Engenharia\/Cloud\) e SmartSRE/);
        assert.match(policyNamed(prod, "nenhum backup concluído").documentation.content, /SmartSRE e Devops Protheus/);
    });

    it("existing channel ids are used as given, beside the responsible teams' groups; hml without an alerts section has no alerts", async () => {
        const { resources } = await render(stackWith("prod", { alerts: { channelIds: ["projects/totvs-protheus-prod/notificationChannels/123"] } }));
        assert.deepEqual(
            ofType(resources, CHANNEL).map((c) => (c.inputs as any).labels.email_address),
            ["protheus-smartsre@totvs.com.br", "protheus-devops@totvs.com.br", "protheus-dbas@totvs.com.br"],
        );
        for (const p of ofType(resources, POLICY)) {
            const channels = (p.inputs as any).notificationChannels as string[];
            assert.equal(channels.length, 4);
            assert.equal(channels[3], "projects/totvs-protheus-prod/notificationChannels/123");
        }
        const { resources: hml } = await render(stackWith("hml"));
        assert.equal(ofType(hml, POLICY).length + ofType(hml, METRIC).length, 0);
    });

    it("hml with alerts and no drill: no drill policies, no drill metric; copy policies follow the copy job", async () => {
        const { resources } = await render(stackWith("hml", { alerts: { emails: ["protheus-smartsre@totvs.com.br"] } }));
        assert.deepEqual(
            ofType(resources, METRIC).map((m) => (m.inputs as any).name),
            ["protheus-outcomes-c2a7dv-hml"],
        );
        const names = ofType(resources, POLICY).map((p) => (p.inputs as any).displayName as string);
        assert.equal(names.filter((n) => /restore/.test(n)).length, 0);
        assert.equal(names.filter((n) => /cópia/.test(n)).length, 2, "hml ships to gcs");
        assert.equal((ofType(resources, METRIC)[0].inputs as any).project, "totvs-protheus-hml", "defaults to backup.gcs.project");
    });

    for (const [what, stage, alerts, key, expect] of [
        ["prod without alerts", "prod", undefined, "protheus:alerts", /failed prod backup must reach someone/],
        ["an address that is not an e-mail", "prod", { emails: ["smartsre"] }, "protheus:alerts.emails[0]", /e-mail/],
        ["a malformed channel id", "prod", { channelIds: ["123"] }, "protheus:alerts.channelIds[0]", /notificationChannels/],
        ["an unknown alerts key", "hml", { email: ["a@b.com"] }, "protheus:alerts.email", /unknown key/],
    ] as [string, "prod" | "hml", unknown, string, RegExp][]) {
        it(`refuses ${what}, naming ${key}`, async () => {
            const problems = await problemsOf(stage, { alerts });
            assert.match(problemFor(problems, key), expect);
        });
    }

    it("refuses alerts without a project to put them in, naming protheus:alerts.project", async () => {
        const backup = configObject("hml", "backup");
        const problems = await problemsOf("hml", { backup: { ...backup, targets: [], gcs: undefined }, alerts: { emails: ["a@b.com"] } });
        assert.match(problemFor(problems, "protheus:alerts.project"), /GKE cluster's GCP project/);
    });
});

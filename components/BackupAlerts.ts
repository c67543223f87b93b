import * as logging from "@pulumi/gcp/logging";
import * as monitoring from "@pulumi/gcp/monitoring";
import type * as gcpTypes from "@pulumi/gcp/types";
import * as pulumi from "@pulumi/pulumi";
import { Stage } from "./labels";
import { OUTCOME_CONTAINERS } from "./names";

/** The robots' outcome lines (scripts/lib.sh outcome_end, scripts/upddistr.sh). */
export const OUTCOME_EVENTS = ["protheus.backup", "protheus.copy", "protheus.restore", "protheus.drill", "protheus.updater"] as const;
/** "No successful run for this long": one nightly run missed plus two hours of slack. */
export const MISSING_RUN_HOURS = 26;

export interface BackupAlertsArgs {
    /** The GKE cluster's project: where the containers' logs land. */
    project: string;
    namespace: string;
    stage: Stage;
    emails: string[];
    /** Existing notification channels (projects/<p>/notificationChannels/<id>). */
    channelIds: string[];
    /** The environment ships backups offsite (a copy job runs). */
    copies: boolean;
    /** The restore drill runs; its restore time above rtoMinutes alerts. */
    drill?: { rtoMinutes: number };
}

const TEAMS_ROBOTS = "SmartSRE e Devops Protheus (manutenção dos robôs)";
const TEAMS_DATABASE = "DBAs (Engenharia/Cloud) e SmartSRE (manutenção do banco de dados)";

/**
 * Cloud Monitoring for one environment: log-based metrics on the robots'
 * outcome lines (GKE sends container stdout to Cloud Logging; a JSON line
 * becomes jsonPayload) and the alert policies on them (no backup, copy, drill
 * and updater failures, a slow restore), with their
 * documentation in Portuguese naming the teams of the responsibility table.
 */
export class BackupAlerts extends pulumi.ComponentResource {
    public readonly outcomeMetric: string;
    public readonly drillSecondsMetric: string;

    constructor(name: string, args: BackupAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:BackupAlerts", name, {}, opts);
        const ns = args.namespace;
        const parent = { parent: this };
        // Log-based metrics are project-wide: the namespace in the name keeps environments sharing a project apart.
        this.outcomeMetric = `protheus-outcomes-${ns}`;
        this.drillSecondsMetric = `protheus-drill-restore-seconds-${ns}`;
        // Only the robots' own containers in this namespace: a line printed by any other pod must not count as an outcome.
        const containers = OUTCOME_CONTAINERS.map((c) => `"${c}"`).join(" OR ");
        const logs = `resource.type="k8s_container" AND resource.labels.namespace_name="${ns}" AND resource.labels.container_name=(${containers})`;

        const outcomes = new logging.Metric(
            `${name}-outcomes`,
            {
                project: args.project,
                name: this.outcomeMetric,
                description: `Outcome lines of the Protheus robots in ${ns} (backup, copy, restore, drill, updater), by event and status.`,
                filter: `${logs} AND jsonPayload.event=(${OUTCOME_EVENTS.map((e) => `"${e}"`).join(" OR ")})`,
                metricDescriptor: {
                    metricKind: "DELTA",
                    valueType: "INT64",
                    unit: "1",
                    labels: [
                        {
                            key: "event",
                            valueType: "STRING",
                            description: "protheus.backup, protheus.copy, protheus.restore, protheus.drill, protheus.updater",
                        },
                        { key: "status", valueType: "STRING", description: "ok or failed" },
                    ],
                },
                labelExtractors: { event: "EXTRACT(jsonPayload.event)", status: "EXTRACT(jsonPayload.status)" },
            },
            parent,
        );
        const drillSeconds = args.drill
            ? new logging.Metric(
                  `${name}-drill-restore-seconds`,
                  {
                      project: args.project,
                      name: this.drillSecondsMetric,
                      description: `Restore time (seconds) measured by the weekly restore drill in ${ns}: the environment's recovery time on that week's data.`,
                      filter: `${logs} AND jsonPayload.event="protheus.drill" AND jsonPayload.restore_seconds>0`,
                      valueExtractor: "EXTRACT(jsonPayload.restore_seconds)",
                      metricDescriptor: { metricKind: "DELTA", valueType: "DISTRIBUTION", unit: "s" },
                      // 1 s to ~7 days in 25% steps.
                      bucketOptions: { exponentialBuckets: { numFiniteBuckets: 64, growthFactor: 1.25, scale: 1 } },
                  },
                  parent,
              )
            : undefined;

        const channels: pulumi.Input<string>[] = [
            ...args.emails.map(
                (email, i) =>
                    new monitoring.NotificationChannel(
                        `${name}-email-${i}`,
                        { project: args.project, type: "email", displayName: `Protheus ${ns} (${args.stage}): ${email}`, labels: { email_address: email } },
                        parent,
                    ).id,
            ),
            ...args.channelIds,
        ];

        const metricType = (m: string) => `metric.type="logging.googleapis.com/user/${m}" AND resource.type="k8s_container"`;
        // PromQL name of a user log-based metric: the first "/" becomes ":", other special characters "_".
        const promMetric = `logging_googleapis_com:user_${this.outcomeMetric.replace(/[^A-Za-z0-9_]/g, "_")}`;
        const policy = (
            id: string,
            displayName: string,
            condition: gcpTypes.input.monitoring.AlertPolicyCondition,
            severity: string,
            doc: string,
            deps: pulumi.Resource[],
        ) =>
            new monitoring.AlertPolicy(
                `${name}-${id}`,
                {
                    project: args.project,
                    displayName: `Protheus ${ns} (${args.stage}): ${displayName}`,
                    combiner: "OR",
                    conditions: [condition],
                    notificationChannels: channels,
                    severity,
                    userLabels: { environment: ns, stage: args.stage },
                    alertStrategy: { autoClose: "604800s" },
                    documentation: { mimeType: "text/markdown", subject: `Protheus ${ns}: ${displayName}`, content: doc },
                },
                { parent: this, dependsOn: deps },
            );
        // Any failed run of `event` in the last 5 minutes.
        const failed = (event: string, displayName: string): gcpTypes.input.monitoring.AlertPolicyCondition => ({
            displayName,
            conditionThreshold: {
                filter: `${metricType(this.outcomeMetric)} AND metric.labels.event="${event}" AND metric.labels.status="failed"`,
                aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
                comparison: "COMPARISON_GT",
                thresholdValue: 0,
                duration: "0s",
                trigger: { count: 1 },
            },
        });
        // No "ok" line of `event` for MISSING_RUN_HOURS. A metric-absence condition
        // cannot look back more than 23.5 h, so this is PromQL; `or vector(0)` also
        // fires when there was never a successful run.
        const missing = (event: string, displayName: string): gcpTypes.input.monitoring.AlertPolicyCondition => ({
            displayName,
            conditionPrometheusQueryLanguage: {
                query: `(sum(increase(${promMetric}{monitored_resource="k8s_container",event="${event}",status="ok"}[${MISSING_RUN_HOURS}h])) or vector(0)) < 1`,
                evaluationInterval: "300s",
                duration: "0s",
                // The metric exists only after the first outcome line was logged.
                disableMetricValidation: true,
            },
        });
        const logsCmd = `kubectl -n ${ns} get jobs --sort-by=.status.startTime; kubectl -n ${ns} logs job/<job>`;

        policy(
            "backup-missing",
            `nenhum backup concluído em ${MISSING_RUN_HOURS} h`,
            missing("protheus.backup", `nenhuma linha protheus.backup ok em ${MISSING_RUN_HOURS} h`),
            "CRITICAL",
            [
                `O backup diário do banco do ambiente **${ns}** (CronJob protheus-backup, 21:00) não terminou com sucesso nas últimas ${MISSING_RUN_HOURS} horas.`,
                "",
                `**Quem atende:** ${TEAMS_ROBOTS}. Se o erro for do banco (conexão, senha, permissão, espaço): ${TEAMS_DATABASE}.`,
                "",
                `**O que fazer:** ver o último Job e o motivo na última linha do log (\`${logsCmd}\`; a linha JSON final traz \`error\`). Corrigir a causa e rodar um backup manual: \`kubectl -n ${ns} create job --from=cronjob/protheus-backup-manual backup-manual-$(date +%s)\`. Até haver um backup novo, não atualizar o ambiente.`,
            ].join("\n"),
            [outcomes],
        );
        if (args.copies) {
            policy(
                "copy-failed",
                "cópia externa do backup falhou",
                failed("protheus.copy", "linha protheus.copy failed"),
                "ERROR",
                [
                    `A cópia dos backups de **${ns}** para GCS/Rubrik (CronJob protheus-backup-copy, 06:00) falhou.`,
                    "",
                    `**Quem atende:** ${TEAMS_ROBOTS}.`,
                    "",
                    `**O que fazer:** ler o motivo (\`${logsCmd}\`; campo \`error\` da linha JSON final). A cópia é idempotente: corrigida a causa, rodar \`kubectl -n ${ns} create job --from=cronjob/protheus-backup-copy copy-manual-$(date +%s)\`. Um backup local corrompido (saída 3) não é enviado: avisar ${TEAMS_DATABASE}.`,
                ].join("\n"),
                [outcomes],
            );
            policy(
                "copy-missing",
                `nenhuma cópia externa concluída em ${MISSING_RUN_HOURS} h`,
                missing("protheus.copy", `nenhuma linha protheus.copy ok em ${MISSING_RUN_HOURS} h`),
                "ERROR",
                [
                    `Nenhuma cópia dos backups de **${ns}** para GCS/Rubrik terminou com sucesso nas últimas ${MISSING_RUN_HOURS} horas (a cópia não rodou ou falhou).`,
                    "",
                    `**Quem atende:** ${TEAMS_ROBOTS}.`,
                    "",
                    `**O que fazer:** ver se o CronJob protheus-backup-copy está suspenso ou se os Jobs falham (\`kubectl -n ${ns} get cronjob protheus-backup-copy\`; \`${logsCmd}\`), corrigir e rodar a cópia manualmente como no alerta de falha da cópia.`,
                ].join("\n"),
                [outcomes],
            );
        }
        if (args.drill && drillSeconds) {
            policy(
                "drill-failed",
                "teste semanal de restore falhou",
                failed("protheus.drill", "linha protheus.drill failed"),
                "CRITICAL",
                [
                    `O teste semanal de restore de **${ns}** (CronJob protheus-restore-drill) falhou: o último backup externo pode não servir para um restore.`,
                    "",
                    `**Quem atende:** ${TEAMS_ROBOTS}; quando a restauração ou as verificações falham (contagem de linhas, tabela faltando, encoding, checagem SQL): ${TEAMS_DATABASE}.`,
                    "",
                    `**O que fazer:** ler o motivo (\`kubectl -n ${ns} logs job/<job do drill> --all-containers\`; campo \`error\`, código de saída em \`exit_code\`: 4 = backup ausente ou corrompido, 5 = dados restaurados diferem do backup, 6 = prazo excedido). O banco de produção não é tocado pelo teste. Corrigir e repetir: \`kubectl -n ${ns} create job --from=cronjob/protheus-restore-drill drill-manual-$(date +%s)\`. Detalhes: docs/backups.md, "Restore drill".`,
                ].join("\n"),
                [outcomes],
            );
            policy(
                "drill-slow",
                `restore acima do objetivo de ${args.drill.rtoMinutes} min`,
                {
                    displayName: `restore_seconds do drill > ${args.drill.rtoMinutes * 60}`,
                    conditionThreshold: {
                        filter: metricType(this.drillSecondsMetric),
                        aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX" }],
                        comparison: "COMPARISON_GT",
                        thresholdValue: args.drill.rtoMinutes * 60,
                        duration: "0s",
                        trigger: { count: 1 },
                    },
                },
                "WARNING",
                [
                    `O teste de restore de **${ns}** restaurou o backup em mais de ${args.drill.rtoMinutes} minutos (objetivo de tempo de recuperação, protheus:drill.rtoMinutes): um restore real hoje levaria esse tempo.`,
                    "",
                    `**Quem atende:** ${TEAMS_DATABASE}.`,
                    "",
                    "**O que fazer:** comparar com as semanas anteriores (métrica de tempo de restore do drill), avaliar recursos do servidor de banco no horário do restore (CPU, disco), RESTORE_JOBS e o crescimento da base; revisar o objetivo com o cliente se o crescimento for legítimo.",
                ].join("\n"),
                [drillSeconds],
            );
        }
        policy(
            "updater-failed",
            "atualização (UPDDISTR) falhou",
            failed("protheus.updater", "linha protheus.updater failed"),
            "ERROR",
            [
                `O atualizador de **${ns}** (CronJob protheus-updater, UPDDISTR) terminou com erro.`,
                "",
                `**Quem atende:** ${TEAMS_ROBOTS}.`,
                "",
                `**O que fazer:** ler o fim do UPDDISTR.LOG e o result.json impressos pelo pod (\`kubectl -n ${ns} logs job/<job do updater>\`) e seguir a triagem do runbook (erro de usuário/senha: HLCLOUD, nova execução; erro em campos/índices novos: abortar, módulo dono, ATUSX, GCAD; campos já existentes: time de banco de dados de engenharia; infraestrutura: corrigir e repetir).`,
            ].join("\n"),
            [outcomes],
        );
        this.registerOutputs({ outcomeMetric: this.outcomeMetric, drillSecondsMetric: this.drillSecondsMetric });
    }
}

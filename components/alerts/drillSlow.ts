import * as logging from "@pulumi/gcp/logging";
import { robotLogsFilter } from "./outcomes";
import { alertPolicy, AlertScope, MetricScope, metricTypeFilter, TEAMS_DATABASE } from "./policy";
import { childName } from "../names";

/** Log-based metrics are project-wide: the namespace in the name keeps environments sharing a project apart. */
export function drillSecondsMetricName(namespace: string): string {
    return `protheus-drill-restore-seconds-${namespace}`;
}

/** The restore time the drill measures (its outcome line's restore_seconds), as a distribution. */
export function drillSecondsMetric(scope: MetricScope): logging.Metric {
    const ns = scope.namespace;
    return new logging.Metric(
        childName(scope.name, "drill-restore-seconds"),
        {
            project: scope.project,
            name: drillSecondsMetricName(ns),
            description: `Restore time (seconds) measured by the weekly restore drill in ${ns}: the environment's recovery time on that week's data.`,
            filter: `${robotLogsFilter(ns)} AND jsonPayload.event="protheus.drill" AND jsonPayload.restore_seconds>0`,
            valueExtractor: "EXTRACT(jsonPayload.restore_seconds)",
            metricDescriptor: { metricKind: "DELTA", valueType: "DISTRIBUTION", unit: "s" },
            // 1 s to ~7 days in 25% steps.
            bucketOptions: { exponentialBuckets: { numFiniteBuckets: 64, growthFactor: 1.25, scale: 1 } },
        },
        { parent: scope.component },
    );
}

/** The drill restored slower than the recovery time objective: a real restore today would take that long. */
export function drillSlowAlert(scope: AlertScope, drill: { rtoMinutes: number; seconds: logging.Metric }): void {
    const ns = scope.namespace;
    alertPolicy(scope, {
        role: "drill-slow",
        displayName: `restore acima do objetivo de ${drill.rtoMinutes} min`,
        condition: {
            displayName: `restore_seconds do drill > ${drill.rtoMinutes * 60}`,
            conditionThreshold: {
                filter: metricTypeFilter(drillSecondsMetricName(ns)),
                aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX" }],
                comparison: "COMPARISON_GT",
                thresholdValue: drill.rtoMinutes * 60,
                duration: "0s",
                trigger: { count: 1 },
            },
        },
        severity: "WARNING",
        doc: [
            `O teste de restore de **${ns}** restaurou o backup em mais de ${drill.rtoMinutes} minutos (objetivo de tempo de recuperação, protheus:drill.rtoMinutes): um restore real hoje levaria esse tempo.`,
            "",
            `**Quem atende:** ${TEAMS_DATABASE}.`,
            "",
            "**O que fazer:** comparar com as semanas anteriores (métrica de tempo de restore do drill), avaliar recursos do servidor de banco no horário do restore (CPU, disco), RESTORE_JOBS e o crescimento da base; revisar o objetivo com o cliente se o crescimento for legítimo.",
        ],
        metric: drill.seconds,
    });
}

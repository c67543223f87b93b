import * as logging from "@pulumi/gcp/logging";
import type * as gcpTypes from "@pulumi/gcp/types";
import { childName, OUTCOME_CONTAINERS } from "../names";
import { MetricScope, metricTypeFilter } from "./policy";

/** The robots' outcome lines (scripts/lib.sh outcome_end, scripts/upddistr.sh). */
export const OUTCOME_EVENTS = ["protheus.backup", "protheus.copy", "protheus.restore", "protheus.drill", "protheus.updater"] as const;
/** "No successful run for this long": one nightly run missed plus two hours of slack. */
export const MISSING_RUN_HOURS = 26;

/** Log-based metrics are project-wide: the namespace in the name keeps environments sharing a project apart. */
export function outcomeMetricName(namespace: string): string {
    return `protheus-outcomes-${namespace}`;
}

/** Only the robots' own containers in this namespace: a line printed by any other pod must not count as an outcome. */
export function robotLogsFilter(namespace: string): string {
    const containers = OUTCOME_CONTAINERS.map((c) => `"${c}"`).join(" OR ");
    return `resource.type="k8s_container" AND resource.labels.namespace_name="${namespace}" AND resource.labels.container_name=(${containers})`;
}

/** The metric every outcome alert reads: the robots' outcome lines, counted by event and status. */
export function outcomesMetric(scope: MetricScope): logging.Metric {
    const namespace = scope.namespace;
    return new logging.Metric(
        childName(scope.name, "outcomes"),
        {
            project: scope.project,
            name: outcomeMetricName(namespace),
            description: `Outcome lines of the Protheus robots in ${namespace} (backup, copy, restore, drill, updater), by event and status.`,
            filter: `${robotLogsFilter(namespace)} AND jsonPayload.event=(${OUTCOME_EVENTS.map((e) => `"${e}"`).join(" OR ")})`,
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
        { parent: scope.component },
    );
}

/** Any failed run of `event` in the last 5 minutes. */
export function failedRun(metric: string, event: string, displayName: string): gcpTypes.input.monitoring.AlertPolicyCondition {
    return {
        displayName,
        conditionThreshold: {
            filter: `${metricTypeFilter(metric)} AND metric.labels.event="${event}" AND metric.labels.status="failed"`,
            aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_SUM", crossSeriesReducer: "REDUCE_SUM" }],
            comparison: "COMPARISON_GT",
            thresholdValue: 0,
            duration: "0s",
            trigger: { count: 1 },
        },
    };
}

/**
 * No "ok" line of `event` for MISSING_RUN_HOURS. A metric-absence condition cannot look back more
 * than 23.5 h, so this is PromQL; `or vector(0)` also fires when there was never a successful run.
 */
export function missingRun(metric: string, event: string, displayName: string): gcpTypes.input.monitoring.AlertPolicyCondition {
    // PromQL name of a user log-based metric: the first "/" becomes ":", other special characters "_".
    const promMetric = `logging_googleapis_com:user_${metric.replace(/[^A-Za-z0-9_]/g, "_")}`;
    return {
        displayName,
        conditionPrometheusQueryLanguage: {
            query: `(sum(increase(${promMetric}{monitored_resource="k8s_container",event="${event}",status="ok"}[${MISSING_RUN_HOURS}h])) or vector(0)) < 1`,
            evaluationInterval: "300s",
            duration: "0s",
            // The metric exists only after the first outcome line was logged.
            disableMetricValidation: true,
        },
    };
}

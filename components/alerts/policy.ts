import * as monitoring from "@pulumi/gcp/monitoring";
import type * as gcpTypes from "@pulumi/gcp/types";
import * as pulumi from "@pulumi/pulumi";
import { Stage } from "../labels";
import { childName } from "../names";

/** What every alert of one environment shares: where it goes, whom it notifies, the metric of the robots' outcome lines. */
export interface AlertScope {
    /** The BackupAlerts component: each alert's resources are its children, named after it. */
    component: pulumi.ComponentResource;
    /** The component's logical name. */
    name: string;
    project: string;
    namespace: string;
    stage: Stage;
    channels: pulumi.Input<string>[];
    /** The log-based metric counting the outcome lines (outcomes.ts): its name, and the resource the policies on it wait for. */
    outcomes: { metric: string; resource: pulumi.Resource };
}

/** Where the environment's log-based metrics go. */
export type MetricScope = Pick<AlertScope, "component" | "name" | "project" | "namespace">;

/** The alert's text for the operating teams, in Portuguese, naming the teams of the responsibility table. */
export const TEAMS_ROBOTS = "SmartSRE e Devops Protheus (manutenção dos robôs)";
export const TEAMS_DATABASE = "DBAs (Engenharia/Cloud) e SmartSRE (manutenção do banco de dados)";

/** Where an operator reads why a robot's Job failed. */
export function jobLogsCommand(namespace: string): string {
    return `kubectl -n ${namespace} get jobs --sort-by=.status.startTime; kubectl -n ${namespace} logs job/<job>`;
}

/** A metric type's filter: a user log-based metric, on containers. */
export function metricTypeFilter(metric: string): string {
    return `metric.type="logging.googleapis.com/user/${metric}" AND resource.type="k8s_container"`;
}

export interface AlertPolicyArgs {
    /** The policy's role in the component's logical name, `<component>-<role>`. */
    role: string;
    displayName: string;
    condition: gcpTypes.input.monitoring.AlertPolicyCondition;
    severity: "CRITICAL" | "ERROR" | "WARNING";
    /** The documentation shown with the incident (markdown). */
    doc: string[];
    /** The metric the condition reads: the policy is created after it. */
    metric: pulumi.Resource;
}

/** One alert policy of the environment: one condition, every channel, closed by itself after a week. */
export function alertPolicy(scope: AlertScope, a: AlertPolicyArgs): monitoring.AlertPolicy {
    const ns = scope.namespace;
    return new monitoring.AlertPolicy(
        childName(scope.name, `${a.role}`),
        {
            project: scope.project,
            displayName: `Protheus ${ns} (${scope.stage}): ${a.displayName}`,
            combiner: "OR",
            conditions: [a.condition],
            notificationChannels: scope.channels,
            severity: a.severity,
            userLabels: { environment: ns, stage: scope.stage },
            alertStrategy: { autoClose: "604800s" },
            documentation: { mimeType: "text/markdown", subject: `Protheus ${ns}: ${a.displayName}`, content: a.doc.join("\n") },
        },
        { parent: scope.component, dependsOn: [a.metric] },
    );
}

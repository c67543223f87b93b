import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { backupMissingAlert } from "./alerts/backupMissing";
import { copyFailedAlert } from "./alerts/copyFailed";
import { copyMissingAlert } from "./alerts/copyMissing";
import { drillFailedAlert } from "./alerts/drillFailed";
import { drillSecondsMetric, drillSecondsMetricName, drillSlowAlert } from "./alerts/drillSlow";
import { outcomeMetricName, outcomesMetric } from "./alerts/outcomes";
import { updaterFailedAlert } from "./alerts/updaterFailed";
import { Stage } from "./labels";
import { childName } from "./names";

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

/**
 * Cloud Monitoring for one environment: log-based metrics on the robots'
 * outcome lines (GKE sends container stdout to Cloud Logging; a JSON line
 * becomes jsonPayload) and the alert policies on them (no backup, copy, drill
 * and updater failures, a slow restore), with their
 * documentation in Portuguese naming the teams of the responsibility table.
 * Each alert (its condition, its policy, a metric of its own) is in alerts/.
 */
export class BackupAlerts extends pulumi.ComponentResource {
    public readonly outcomeMetric: string;
    public readonly drillSecondsMetric: string;

    constructor(name: string, args: BackupAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:BackupAlerts", name, {}, opts);
        const ns = args.namespace;
        this.outcomeMetric = outcomeMetricName(ns);
        this.drillSecondsMetric = drillSecondsMetricName(ns);
        const metrics = { component: this, name, project: args.project, namespace: ns };
        const outcomes = outcomesMetric(metrics);
        const drillSeconds = args.drill ? drillSecondsMetric(metrics) : undefined;

        const channels: pulumi.Input<string>[] = [
            ...args.emails.map(
                (email, i) =>
                    new monitoring.NotificationChannel(
                        childName(name, `email-${i}`),
                        { project: args.project, type: "email", displayName: `Protheus ${ns} (${args.stage}): ${email}`, labels: { email_address: email } },
                        { parent: this },
                    ).id,
            ),
            ...args.channelIds,
        ];
        const scope = { ...metrics, stage: args.stage, channels, outcomes: { metric: this.outcomeMetric, resource: outcomes } };

        backupMissingAlert(scope);
        if (args.copies) {
            copyFailedAlert(scope);
            copyMissingAlert(scope);
        }
        if (args.drill && drillSeconds) {
            drillFailedAlert(scope);
            drillSlowAlert(scope, { rtoMinutes: args.drill.rtoMinutes, seconds: drillSeconds });
        }
        updaterFailedAlert(scope);
        this.registerOutputs({ outcomeMetric: this.outcomeMetric, drillSecondsMetric: this.drillSecondsMetric });
    }
}

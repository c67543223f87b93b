import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackupReason } from "../lib/versionChange";
import { commonLabels, Stage } from "./labels";
import { BACKUP_REASON_LABEL, childName, COMPONENTS, PRE_ROLLBACK_JOB_PREFIX, PRE_UPGRADE_JOB_PREFIX, REPLACE_UNREADY, UPGRADE_TO_LABEL } from "./names";

/**
 * How long the backup before a version change may run. Fixed, not configured: the Job's spec
 * must depend only on the versions and the images, or Pulumi would replace (re-run) it.
 * protheus:backup.preUpgradeTimeoutMinutes (how long `pulumi up` waits) defaults to more.
 */
export const VERSION_BACKUP_DEADLINE_SECONDS = 2 * 3600;

/** The Job spec of a backup run with the given extra env and deadline (NightlyBackup.backupJobSpec). */
export type BackupJobSpec = (
    env: k8s.types.input.core.v1.EnvVar[],
    activeDeadlineSeconds: number,
    labels: Record<string, string>,
) => k8s.types.input.batch.v1.JobSpec;

export interface PreUpgradeBackupArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    /** pre-upgrade when the version goes up, pre-rollback when it goes down. */
    reason: BackupReason;
    /** The version running before the change. */
    fromVersion: string;
    /** The version being rolled out; it names the Job. */
    toVersion: string;
    jobSpec: BackupJobSpec;
    /** How long `pulumi up` waits for the Job (the provider's default is 10 minutes). */
    timeoutMinutes: number;
}

function dnsPart(version: string): string {
    return version.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

/** `protheus-backup-pre-12-1-2510-3`: a Job name is a DNS-1123 label. */
export function preUpgradeJobName(version: string): string {
    return `${PRE_UPGRADE_JOB_PREFIX}${dnsPart(version)}`.slice(0, 63).replace(/-+$/, "");
}

/** `protheus-backup-pre-rollback-12-1-2410`: another name, so a rollback never reuses an upgrade's Job. */
export function preRollbackJobName(version: string): string {
    return `${PRE_ROLLBACK_JOB_PREFIX}${dnsPart(version)}`.slice(0, 63).replace(/-+$/, "");
}

/**
 * The backup taken right before the version changes: `pre-upgrade` when it goes up,
 * `pre-rollback` when it goes down (the broken state, kept for the data-management
 * team; restore.sh's `latest` never picks it). MANIFEST.json records the reason and
 * both versions. The release waits for it (customTimeouts). Its spec depends only on
 * the versions and the images (settings come from the settings ConfigMap), so
 * every `pulumi up` with the same change keeps the finished Job and re-runs nothing.
 */
export class PreUpgradeBackup extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: PreUpgradeBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:PreUpgradeBackup", name, {}, opts);
        const labels = { ...commonLabels(args.stage, COMPONENTS.backup), [BACKUP_REASON_LABEL]: args.reason, [UPGRADE_TO_LABEL]: args.toVersion };
        const objectName = args.reason === "pre-rollback" ? preRollbackJobName(args.toVersion) : preUpgradeJobName(args.toVersion);
        const timeout = `${args.timeoutMinutes}m`;
        this.job = new k8s.batch.v1.Job(
            childName(name),
            {
                // No ttlSecondsAfterFinished: a vanished Job would be re-created, and re-run, by the next `pulumi up`.
                // A Job that did not complete (failed, or left running by a killed update) is replaced on the next
                // `pulumi up`, so the retry backs up again before the release moves; by default the provider would
                // only wait on it again (pulumi-kubernetes, Diff: the replaceUnready check of a Job's live status).
                metadata: { name: objectName, namespace: args.namespace, labels, annotations: { [REPLACE_UNREADY]: "true" } },
                spec: args.jobSpec(
                    [
                        { name: "BACKUP_REASON", value: args.reason },
                        { name: "BACKUP_FROM_VERSION", value: args.fromVersion },
                        { name: "BACKUP_TO_VERSION", value: args.toVersion },
                    ],
                    VERSION_BACKUP_DEADLINE_SECONDS,
                    labels,
                ),
            },
            // The provider waits for a Job to complete (10 minutes unless told otherwise); a real database takes longer.
            { parent: this, dependsOn: opts?.dependsOn, customTimeouts: { create: timeout, update: timeout } },
        );
        this.registerOutputs({ jobName: this.job.metadata.name });
    }
}

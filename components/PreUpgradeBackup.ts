import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { commonLabels, Stage } from "./labels";

export interface PreUpgradeBackupArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    /** The version being rolled out; it names the Job. */
    updateDesiredVersion: string;
    /** The same pod template as a nightly backup run. */
    jobSpec: k8s.types.input.batch.v1.JobSpec;
}

/** `protheus-backup-pre-12-1-2510-3`: a Job name is a DNS-1123 label. */
export function preUpgradeJobName(version: string): string {
    return `protheus-backup-pre-${version.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`.slice(0, 63).replace(/-+$/, "");
}

/**
 * A backup taken right before an upgrade, named after the target version.
 * The release and the updater depend on it, so `pulumi up` upgrades only once
 * it succeeded (the Kubernetes provider waits for a Job to complete). The same
 * version keeps the same Job, so nothing re-runs until the version changes.
 */
export class PreUpgradeBackup extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: PreUpgradeBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:PreUpgradeBackup", name, {}, opts);
        const labels = { ...commonLabels(args.stage, "backup"), "protheus.totvs.com/upgrade-to": args.updateDesiredVersion };
        this.job = new k8s.batch.v1.Job(
            name,
            {
                // No ttlSecondsAfterFinished: a vanished Job would be re-created, and re-run, by the next `pulumi up`.
                metadata: { name: preUpgradeJobName(args.updateDesiredVersion), namespace: args.namespace, labels },
                spec: args.jobSpec,
            },
            { parent: this },
        );
        this.registerOutputs({ jobName: this.job.metadata.name });
    }
}

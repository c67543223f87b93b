import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS } from "./names";

/** Where every Protheus job expects the environment volume. */
export const VOLUME_MOUNT_PATH = "/volume";

export interface EnvironmentVolumeArgs {
    namespace: pulumi.Input<string>;
    stage: Stage;
    claimName: string;
    /** Create the claim (true) or mount one that already exists (false). */
    manage: boolean;
    storageClassName: string;
    size: string;
}

/**
 * The environment volume mounted at /volume (logs/, flags/, backups/).
 * This program owns it, not the chart: the updater and backup CronJobs mount
 * it too, and it must survive a failed or rolled-back Helm release. The chart
 * is told the claim name through its values.
 */
export class EnvironmentVolume extends pulumi.ComponentResource {
    public readonly claimName: pulumi.Output<string>;

    constructor(name: string, args: EnvironmentVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:EnvironmentVolume", name, {}, opts);
        if (args.manage) {
            const claim = new k8s.core.v1.PersistentVolumeClaim(
                childName(name),
                {
                    metadata: { name: args.claimName, namespace: args.namespace, labels: commonLabels(args.stage, COMPONENTS.volume) },
                    spec: {
                        // The appserver pods, the updater and the backup jobs mount it at once.
                        accessModes: ["ReadWriteMany"],
                        storageClassName: args.storageClassName,
                        resources: { requests: { storage: args.size } },
                    },
                },
                // The volume holds the day's backups and UPDDISTR's logs: never delete it with the stack.
                { parent: this, protect: true, retainOnDelete: true },
            );
            this.claimName = claim.metadata.name;
        } else {
            this.claimName = pulumi.output(args.claimName);
        }
        this.registerOutputs({ claimName: this.claimName });
    }
}

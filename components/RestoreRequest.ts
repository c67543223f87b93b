import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RestoreSelection } from "./RestoreTemplate";
import { commonLabels, Stage } from "./labels";
import { childName, COMPONENTS, RESTORE_ID_LABEL, RESTORE_JOB_PREFIX, RESTORE_REASON_ANNOTATION } from "./names";

/** Fixed for the same reason as the pre-upgrade backup's deadline: the spec must not follow config. */
export const RESTORE_DEADLINE_SECONDS = 150 * 60;

/** The restore Job spec of RestoreTemplate.restoreJobSpec. */
export type RestoreJobSpec = (o: {
    selection: RestoreSelection;
    activeDeadlineSeconds: number;
    labels: Record<string, string>;
}) => k8s.types.input.batch.v1.JobSpec;

export interface RestoreRequestArgs extends RestoreSelection {
    namespace: pulumi.Input<string>;
    stage: Stage;
    /** A DNS label: the Job is `protheus-restore-<id>`. */
    id: string;
    /** Why, for the reviewers and whoever reads the Job later. */
    reason: string;
    jobSpec: RestoreJobSpec;
    /** How long `pulumi up` waits for the restore. */
    timeoutMinutes: number;
}

export function restoreJobName(id: string): string {
    return `${RESTORE_JOB_PREFIX}${id}`;
}

/**
 * A restore asked for in stack config (protheus:restore), run by `pulumi up` as
 * the Job `protheus-restore-<id>` and waited for. The same id never runs twice:
 * the name is fixed by the id, the Job is never deleted by a TTL, and changes to
 * its spec are ignored (a replaced Job would restore again); a new restore needs
 * a new id. Removing the request deletes the finished Job and nothing else.
 */
export class RestoreRequest extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: RestoreRequestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:RestoreRequest", name, {}, opts);
        const labels = { ...commonLabels(args.stage, COMPONENTS.restore), [RESTORE_ID_LABEL]: args.id };
        const timeout = `${args.timeoutMinutes}m`;
        this.job = new k8s.batch.v1.Job(
            childName(name),
            {
                metadata: { name: restoreJobName(args.id), namespace: args.namespace, labels, annotations: { [RESTORE_REASON_ANNOTATION]: args.reason } },
                spec: args.jobSpec({
                    selection: { backup: args.backup, source: args.source, replace: args.replace },
                    activeDeadlineSeconds: RESTORE_DEADLINE_SECONDS,
                    labels,
                }),
            },
            { parent: this, dependsOn: opts?.dependsOn, customTimeouts: { create: timeout, update: timeout }, ignoreChanges: ["spec"] },
        );
        this.registerOutputs({ jobName: this.job.metadata.name });
    }
}

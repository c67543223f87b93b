import * as storage from "@pulumi/gcp/storage";
import type * as gcpTypes from "@pulumi/gcp/types";
import * as pulumi from "@pulumi/pulumi";
import { Stage } from "./labels";
import { BUCKET_LABELS, PART_OF } from "./names";

const DAY_SECONDS = 86400;

export interface BackupStorageArgs {
    /** The GCP project holding the bucket and the service account. */
    project: string;
    location: string;
    bucketName: string;
    namespace: string;
    stage: Stage;
    retentionDays: number;
    /** A locked retention policy can never be shortened or removed: prod's choice. */
    lockRetention: boolean;
}

/**
 * Lifecycle: backups are rarely read after their first week, so they move to
 * colder classes, but only when they stay there at least the class's minimum
 * storage duration (Nearline 30 days, Coldline 90); deleted after retention.
 */
export function lifecycleRules(retentionDays: number): gcpTypes.input.storage.BucketLifecycleRule[] {
    const rules: gcpTypes.input.storage.BucketLifecycleRule[] = [];
    if (retentionDays >= 7 + 30)
        rules.push({ action: { type: "SetStorageClass", storageClass: "NEARLINE" }, condition: { age: 7, matchesStorageClasses: ["STANDARD"] } });
    if (retentionDays >= 30 + 90)
        rules.push({ action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 30, matchesStorageClasses: ["NEARLINE"] } });
    rules.push({ action: { type: "Delete" }, condition: { age: retentionDays + 1 } });
    return rules;
}

/**
 * The environment's offsite backup bucket. The copy's account (OffsiteCopy) can
 * create and read objects on it, never delete or overwrite them; the retention
 * policy enforces the same for everyone else.
 */
export class BackupStorage extends pulumi.ComponentResource {
    public readonly bucket: storage.Bucket;
    public readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:BackupStorage", name, {}, opts);

        this.bucket = new storage.Bucket(
            name,
            {
                name: args.bucketName,
                project: args.project,
                location: args.location,
                storageClass: "STANDARD",
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                retentionPolicy: { retentionPeriod: String(args.retentionDays * DAY_SECONDS), isLocked: args.lockRetention },
                lifecycleRules: lifecycleRules(args.retentionDays),
                labels: { [BUCKET_LABELS.namespace]: args.namespace, [BUCKET_LABELS.stage]: args.stage, [BUCKET_LABELS.partOf]: PART_OF },
                forceDestroy: false,
            },
            // A locked bucket cannot be deleted before its objects expire anyway; say so in the plan.
            { parent: this, protect: args.lockRetention },
        );
        this.bucketName = this.bucket.name;

        this.registerOutputs({ bucketName: this.bucketName });
    }
}

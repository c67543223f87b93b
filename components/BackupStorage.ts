import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import type * as gcpTypes from "@pulumi/gcp/types";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readerServiceAccountId } from "../config/validators";
import { commonLabels, Stage } from "./labels";
import { BACKUP_READER_SERVICE_ACCOUNT, BUCKET_LABELS, childName, COMPONENTS, PART_OF } from "./names";

/** The only role of the restore's and the drill's Google account on the bucket: get and list, never create or delete. */
export const BACKUP_FETCH_ROLE = "roles/storage.objectViewer";

const DAY_SECONDS = 86400;

export interface BackupStorageArgs {
    /** The GCP project holding the bucket and the service account. */
    project: string;
    location: string;
    bucketName: string;
    namespace: string;
    /** The environment namespace as declared (the reader's Kubernetes service account goes there once it exists). */
    workloadNamespace: pulumi.Input<string>;
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
 * policy enforces the same for everyone else. The restore's and the drill's
 * fetches read it as a second account that can only read
 * (roles/storage.objectViewer): the Kubernetes service account
 * `protheus-backup-reader`, bound to it by Workload Identity, so no pod that
 * restores can write a backup another restore would take for a real one.
 */
export class BackupStorage extends pulumi.ComponentResource {
    public readonly bucket: storage.Bucket;
    public readonly bucketName: pulumi.Output<string>;
    /** The Kubernetes service account of the GCS fetch (restore, drill). */
    public readonly readerServiceAccountName: pulumi.Output<string>;

    constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:BackupStorage", name, {}, opts);

        this.bucket = new storage.Bucket(
            childName(name),
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

        const reader = new serviceaccount.Account(
            childName(name, "reader"),
            {
                project: args.project,
                // Same length and alphabet as the copy's id, which the config checks (config/schema.ts).
                accountId: readerServiceAccountId(args.namespace),
                displayName: `Protheus backup reader (${args.namespace}, ${args.stage})`,
                description: "Reads backups from the backup bucket for restores and drills; cannot create, overwrite or delete.",
            },
            { parent: this },
        );
        const ksa = new k8s.core.v1.ServiceAccount(
            childName(name, "reader"),
            {
                metadata: {
                    name: BACKUP_READER_SERVICE_ACCOUNT,
                    namespace: args.workloadNamespace,
                    labels: commonLabels(args.stage, COMPONENTS.restore),
                    annotations: { "iam.gke.io/gcp-service-account": reader.email },
                },
                automountServiceAccountToken: false,
            },
            { parent: this },
        );
        this.readerServiceAccountName = ksa.metadata.name;
        new serviceaccount.IAMMember(
            childName(name, "reader-workload-identity"),
            {
                serviceAccountId: reader.name,
                role: "roles/iam.workloadIdentityUser",
                member: `serviceAccount:${args.project}.svc.id.goog[${args.namespace}/${BACKUP_READER_SERVICE_ACCOUNT}]`,
            },
            { parent: this },
        );
        new storage.BucketIAMMember(
            childName(name, "reader-read"),
            { bucket: this.bucket.name, role: BACKUP_FETCH_ROLE, member: pulumi.interpolate`serviceAccount:${reader.email}` },
            { parent: this },
        );

        this.registerOutputs({ bucketName: this.bucketName, readerServiceAccountName: this.readerServiceAccountName });
    }
}

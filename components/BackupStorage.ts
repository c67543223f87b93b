import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { copyServiceAccountId } from "../config/validators";
import { Stage } from "./labels";

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
    /** The Kubernetes ServiceAccount (namespace/name) the copy job runs as. */
    kubernetesServiceAccount: { namespace: string; name: string };
}

/**
 * Lifecycle: backups are rarely read after their first week, so they move to
 * colder classes, but only when they stay there at least the class's minimum
 * storage duration (Nearline 30 days, Coldline 90); deleted after retention.
 */
export function lifecycleRules(retentionDays: number): gcp.types.input.storage.BucketLifecycleRule[] {
    const rules: gcp.types.input.storage.BucketLifecycleRule[] = [];
    if (retentionDays >= 7 + 30) rules.push({ action: { type: "SetStorageClass", storageClass: "NEARLINE" }, condition: { age: 7, matchesStorageClasses: ["STANDARD"] } });
    if (retentionDays >= 30 + 90) rules.push({ action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 30, matchesStorageClasses: ["NEARLINE"] } });
    rules.push({ action: { type: "Delete" }, condition: { age: retentionDays + 1 } });
    return rules;
}

/**
 * The environment's offsite backup bucket and the Google service account of
 * the copy job. The account can create and read objects on this one bucket,
 * never delete or overwrite them; the retention policy enforces the same for
 * everyone else.
 */
export class BackupStorage extends pulumi.ComponentResource {
    public readonly bucket: gcp.storage.Bucket;
    public readonly bucketName: pulumi.Output<string>;
    public readonly serviceAccountEmail: pulumi.Output<string>;

    constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:BackupStorage", name, {}, opts);

        this.bucket = new gcp.storage.Bucket(
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
                labels: { namespace: args.namespace, stage: args.stage, "part-of": "protheus" },
                forceDestroy: false,
            },
            // A locked bucket cannot be deleted before its objects expire anyway; say so in the plan.
            { parent: this, protect: args.lockRetention },
        );
        this.bucketName = this.bucket.name;

        const account = new gcp.serviceaccount.Account(
            `${name}-copy`,
            {
                project: args.project,
                // Checked when the config is parsed: service account IDs are 6-30 characters.
                accountId: copyServiceAccountId(args.namespace),
                displayName: `Protheus backup copy (${args.namespace}, ${args.stage})`,
                description: "Ships backups from the environment volume to the backup bucket; cannot delete or overwrite.",
            },
            { parent: this },
        );
        this.serviceAccountEmail = account.email;

        const ksa = args.kubernetesServiceAccount;
        new gcp.serviceaccount.IAMMember(
            `${name}-workload-identity`,
            {
                serviceAccountId: account.name,
                role: "roles/iam.workloadIdentityUser",
                member: `serviceAccount:${args.project}.svc.id.goog[${ksa.namespace}/${ksa.name}]`,
            },
            { parent: this },
        );
        const member = pulumi.interpolate`serviceAccount:${account.email}`;
        // objectCreator: create only; without storage.objects.delete an existing object cannot be overwritten.
        new gcp.storage.BucketIAMMember(`${name}-copy-create`, { bucket: this.bucket.name, role: "roles/storage.objectCreator", member }, { parent: this });
        // objectViewer: get and list, to verify what arrived and skip what is already there.
        new gcp.storage.BucketIAMMember(`${name}-copy-read`, { bucket: this.bucket.name, role: "roles/storage.objectViewer", member }, { parent: this });

        this.registerOutputs({ bucketName: this.bucketName, serviceAccountEmail: this.serviceAccountEmail });
    }
}

import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { copyServiceAccountId } from "../config/validators";
import { formerlyUnder, RobotPods, scriptContainer, scriptCronJobSpec, scriptPod } from "./backup/pod";
import { commonLabels, Stage } from "./labels";
import { BACKUP_SERVICE_ACCOUNT, childName, COMPONENTS, COPY_CRONJOB, RUBRIK_CLAIM, rubrikVolumeName } from "./names";

export type OffsiteTarget = "gcs" | "rubrik";

/** Where the Rubrik Managed Volume (NFS) is mounted in the copy job. */
export const RUBRIK_MOUNT = "/rubrik";
/**
 * The size the Rubrik PersistentVolume and its claim declare. The API requires one; an NFS
 * volume is not sized by it (the Managed Volume's own size is Rubrik's).
 */
export const RUBRIK_NOMINAL_SIZE = "1Ti";

/** Where stacks deployed with the one BackupSchedule component hold these resources (the names index.ts gave those components). */
const FORMER = { schedule: ["protheus:index:BackupSchedule", "backup"], storage: ["protheus:index:BackupStorage", "backup-storage"] } as const;

export interface OffsiteCopyArgs {
    namespace: string;
    stage: Stage;
    timeZone: string;
    volumeClaimName: pulumi.Input<string>;
    /** Ship to GCS/Rubrik (the runbook: at 06:00). */
    schedule: string;
    /** How long a run may take: the copy window the schema keeps the drill out of. */
    deadlineSeconds: number;
    databaseName: string;
    targets: OffsiteTarget[];
    /** Required when targets include gcs: the bucket (BackupStorage) and its project. */
    gcs?: { project: string; bucket: pulumi.Output<string> };
    /** Required when targets include rubrik. */
    rubrik?: { nfsServer: string; exportPath: string };
    images: { cloudSdk: string };
    /** Who the copy container runs as and its resources (protheus:podSecurity). */
    pods: RobotPods;
    /** The scripts and settings ConfigMaps (NightlyBackup.jobInputs). */
    jobInputs: pulumi.Resource[];
}

/**
 * The offsite copy: `protheus-backup-copy` ships complete backups to GCS and/or
 * Rubrik at 06:00 and, for GCS, the identity it ships with: the Kubernetes
 * service account `protheus-backup`, the Google service account, the Workload
 * Identity binding between them and the account's grants on the bucket (create
 * and read, never delete or overwrite). The GCS fetch of a restore or drill
 * runs as another, read-only account (BackupStorage).
 */
export class OffsiteCopy extends pulumi.ComponentResource {
    /** The Kubernetes service account, when the copy ships to GCS. */
    public readonly serviceAccountName?: pulumi.Output<string>;
    public readonly serviceAccountEmail?: pulumi.Output<string>;

    constructor(name: string, args: OffsiteCopyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:OffsiteCopy", name, {}, opts);
        if (args.targets.includes("gcs") && !args.gcs) throw new Error("OffsiteCopy: targets include gcs but no gcs settings were given");
        if (args.targets.includes("rubrik") && !args.rubrik) throw new Error("OffsiteCopy: targets include rubrik but no rubrik settings were given");
        const labels = commonLabels(args.stage, COMPONENTS.copy);
        // Aliases to where stacks deployed before hold a resource: `oldName` under the former component, and
        // `previousName` under this one (the copy's identity was `<name>-account` and `<name>-sa`).
        const was = (former: readonly [string, string], oldName: string, previousName?: string) => ({
            parent: this,
            aliases: [formerlyUnder(former[0], former[1], oldName, opts), ...(previousName ? [{ name: previousName }] : [])],
        });

        if (args.gcs) {
            const account = new serviceaccount.Account(
                childName(name),
                {
                    project: args.gcs.project,
                    // Checked when the config is parsed: service account IDs are 6-30 characters.
                    accountId: copyServiceAccountId(args.namespace),
                    displayName: `Protheus backup copy (${args.namespace}, ${args.stage})`,
                    description: "Ships backups from the environment volume to the backup bucket; cannot delete or overwrite.",
                },
                was(FORMER.storage, "backup-storage-copy", `${name}-account`),
            );
            this.serviceAccountEmail = account.email;
            // GKE Workload Identity: pods of this KSA act as the Google service account.
            const ksa = new k8s.core.v1.ServiceAccount(
                childName(name),
                {
                    metadata: {
                        name: BACKUP_SERVICE_ACCOUNT,
                        namespace: args.namespace,
                        labels,
                        annotations: { "iam.gke.io/gcp-service-account": account.email },
                    },
                    automountServiceAccountToken: false,
                },
                was(FORMER.schedule, "backup-sa", `${name}-sa`),
            );
            this.serviceAccountName = ksa.metadata.name;
            new serviceaccount.IAMMember(
                childName(name, "workload-identity"),
                {
                    serviceAccountId: account.name,
                    role: "roles/iam.workloadIdentityUser",
                    member: `serviceAccount:${args.gcs.project}.svc.id.goog[${args.namespace}/${BACKUP_SERVICE_ACCOUNT}]`,
                },
                was(FORMER.storage, "backup-storage-workload-identity"),
            );
            const member = pulumi.interpolate`serviceAccount:${account.email}`;
            // objectCreator: create only; without storage.objects.delete an existing object cannot be overwritten.
            new storage.BucketIAMMember(
                childName(name, "create"),
                { bucket: args.gcs.bucket, role: "roles/storage.objectCreator", member },
                was(FORMER.storage, "backup-storage-copy-create"),
            );
            // objectViewer: get and list, to verify what arrived and skip what is already there.
            new storage.BucketIAMMember(
                childName(name, "read"),
                { bucket: args.gcs.bucket, role: "roles/storage.objectViewer", member },
                was(FORMER.storage, "backup-storage-copy-read"),
            );
        }

        const env: pulumi.Input<k8s.types.input.core.v1.EnvVar>[] = [
            { name: "PGDATABASE", value: args.databaseName },
            { name: "BACKUP_TARGETS", value: args.targets.join(",") },
            { name: "BACKUP_NAMESPACE", value: args.namespace },
        ];
        if (args.gcs) env.push({ name: "GCS_BUCKET", value: args.gcs.bucket });
        if (args.rubrik) env.push({ name: "RUBRIK_DIR", value: RUBRIK_MOUNT });
        const rubrikClaim = args.rubrik ? this.rubrikClaim(name, args.namespace, args.rubrik, labels) : undefined;
        new k8s.batch.v1.CronJob(
            childName(name),
            {
                metadata: { name: COPY_CRONJOB, namespace: args.namespace, labels },
                spec: scriptCronJobSpec(args.timeZone, {
                    schedule: args.schedule,
                    startingDeadlineSeconds: 3600,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            // Idempotent: a retry ships only what is still missing.
                            backoffLimit: 2,
                            activeDeadlineSeconds: args.deadlineSeconds,
                            template: {
                                metadata: { labels },
                                spec: scriptPod({
                                    volumeClaimName: args.volumeClaimName,
                                    serviceAccountName: this.serviceAccountName,
                                    // Through a claim, not an inline nfs volume: `restricted` admits persistentVolumeClaim, not nfs.
                                    extraVolumes: rubrikClaim ? [{ name: "rubrik", persistentVolumeClaim: { claimName: rubrikClaim.metadata.name } }] : [],
                                    pods: args.pods,
                                    containers: [
                                        scriptContainer({
                                            name: "copy",
                                            image: args.images.cloudSdk,
                                            script: "copy.sh",
                                            // The copy only reads the volume; it can never damage a local backup.
                                            volumeReadOnly: true,
                                            env,
                                            extraMounts: args.rubrik ? [{ name: "rubrik", mountPath: RUBRIK_MOUNT }] : [],
                                            pods: args.pods,
                                        }),
                                    ],
                                }),
                            },
                        },
                    },
                }),
            },
            { ...was(FORMER.schedule, "backup-copy"), dependsOn: [...args.jobInputs, ...(rubrikClaim ? [rubrikClaim] : [])] },
        );

        this.registerOutputs({ serviceAccountName: this.serviceAccountName, serviceAccountEmail: this.serviceAccountEmail });
    }

    /**
     * The Rubrik Managed Volume as an NFS PersistentVolume and the claim bound to it by name:
     * the volume's claimRef admits only this claim, and the claim names only this volume, with no
     * storage class, so nothing is provisioned and no other claim can take it. Retain: removing
     * them never touches what Rubrik holds.
     */
    private rubrikClaim(
        name: string,
        namespace: string,
        rubrik: { nfsServer: string; exportPath: string },
        labels: Record<string, string>,
    ): k8s.core.v1.PersistentVolumeClaim {
        const volumeName = rubrikVolumeName(namespace);
        const volume = new k8s.core.v1.PersistentVolume(
            childName(name, "rubrik"),
            {
                metadata: { name: volumeName, labels },
                spec: {
                    capacity: { storage: RUBRIK_NOMINAL_SIZE },
                    accessModes: ["ReadWriteMany"],
                    persistentVolumeReclaimPolicy: "Retain",
                    storageClassName: "",
                    claimRef: { namespace, name: RUBRIK_CLAIM },
                    nfs: { server: rubrik.nfsServer, path: rubrik.exportPath },
                },
            },
            { parent: this },
        );
        return new k8s.core.v1.PersistentVolumeClaim(
            childName(name, "rubrik"),
            {
                metadata: { name: RUBRIK_CLAIM, namespace, labels },
                spec: {
                    accessModes: ["ReadWriteMany"],
                    storageClassName: "",
                    volumeName,
                    resources: { requests: { storage: RUBRIK_NOMINAL_SIZE } },
                },
            },
            { parent: this, dependsOn: [volume] },
        );
    }
}

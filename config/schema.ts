// The one schema for a stack's `protheus:*` config. index.ts parses the whole
// config with it once; components receive the typed result and never read config.
import { z } from "zod";
import { accessSchema } from "./access";
import { cronSchedule, dnsLabel, ianaTimeZone, imageRepository, imageTag, pinnedImage, protheusVersion, quantity } from "./validators";

const httpsOrOci = z
    .string({ error: "expected a chart repository URL" })
    .regex(/^(https|oci):\/\/[^\s/]+(\/[^\s]*)?$/, { error: "expected an https:// or oci:// chart repository URL" });

export const chartSchema = z.strictObject({
    repo: httpsOrOci,
    name: z.string({ error: "expected a chart name such as protheus" }).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "expected a chart name such as protheus" }),
    values: z.record(z.string(), z.unknown(), { error: "expected an object of chart values" }).default({}),
    // A Protheus upgrade (images pulled, pods restarted, UPDDISTR waited on) routinely takes tens of minutes.
    timeoutSeconds: z.int({ error: "expected a whole number of seconds" }).min(300).max(4 * 3600).default(3600),
    maxHistory: z.int({ error: "expected a whole number" }).min(2).max(50).default(10),
    // Where in the chart's values the environment volume's claim name goes (dot path).
    volumeClaimValue: z.string({ error: "expected a string" }).regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { error: "expected a dot path such as volume.existingClaim" }).default("volume.existingClaim"),
});

export const updaterSchema = z.strictObject({
    image: imageRepository,
    tag: imageTag.optional(),
    schedule: cronSchedule,
    sleeper: z.boolean({ error: "expected true or false" }).default(false),
    suspend: z.boolean({ error: "expected true or false" }).default(false),
    // Failed pods are kept so UPDDISTR's output can be collected after the fact.
    failedJobsHistoryLimit: z.int({ error: "expected a whole number" }).min(1).max(10).default(3),
    successfulJobsHistoryLimit: z.int({ error: "expected a whole number" }).min(0).max(10).default(1),
});

export const volumeSchema = z.strictObject({
    claimName: dnsLabel.default("protheus-volume"),
    // true: this program creates the claim (protected, retained on delete);
    // false: the claim already exists (made by the chart or by hand) and is only mounted.
    manage: z.boolean({ error: "expected true or false" }).default(true),
    storageClassName: z.string({ error: "expected a string" }).min(1).default("standard-rwx"),
    size: quantity.default("100Gi"),
});

const databaseSchema = z.strictObject({
    host: z.string({ error: "expected the DBAccess/PostgreSQL host name" }).min(1),
    port: z.int({ error: "expected a TCP port number" }).min(1).max(65535).default(5432),
    name: z.string({ error: "expected the database name" }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: "expected a PostgreSQL database name" }),
    user: z.string({ error: "expected the database user" }).min(1),
    // An existing Kubernetes Secret holding the password; otherwise the Pulumi
    // secret protheus:databasePassword is turned into one.
    passwordSecret: z.strictObject({ name: dnsLabel, key: z.string({ error: "expected a string" }).min(1).default("password") }).optional(),
});

const offsiteTarget = z.enum(["gcs", "rubrik"], { error: "expected \"gcs\" or \"rubrik\"" });

export const backupSchema = z.strictObject({
    schedule: cronSchedule.default("0 21 * * *"),
    copySchedule: cronSchedule.default("0 6 * * *"),
    database: databaseSchema,
    // A backup Job named after the new version runs before the release is upgraded.
    preUpgrade: z.boolean({ error: "expected true or false" }).default(true),
    dumpJobs: z.int({ error: "expected a whole number" }).min(1).max(16).default(2),
    retention: z
        .strictObject({
            days: z.int({ error: "expected a whole number of days" }).min(1).max(365).default(7),
            keepMin: z.int({ error: "expected a whole number of backups" }).min(1).max(100).default(3),
        })
        .default({ days: 7, keepMin: 3 }),
    targets: z.array(offsiteTarget, { error: "expected a list of offsite targets" }).refine((t) => new Set(t).size === t.length, { error: "expected each target at most once" }),
    gcs: z
        .strictObject({
            project: z.string({ error: "expected a string" }).regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "expected a GCP project ID" }),
            location: z.string({ error: "expected a string" }).min(2).default("SOUTHAMERICA-EAST1"),
            bucketName: z.string({ error: "expected a string" }).regex(/^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$/, { error: "expected a GCS bucket name" }).optional(),
            retentionDays: z.int({ error: "expected a whole number" }).min(1).max(3650).default(30),
            lockRetention: z.boolean({ error: "expected true or false" }).default(false),
        })
        .optional(),
    rubrik: z
        .strictObject({
            nfsServer: z.string({ error: "expected the Rubrik Managed Volume NFS server" }).min(1),
            exportPath: z.string({ error: "expected a string" }).regex(/^\//, { error: "expected an absolute NFS export path" }),
        })
        .optional(),
    images: z
        .strictObject({
            postgres: pinnedImage.default("postgres:15.8"),
            cloudSdk: pinnedImage.default("gcr.io/google.com/cloudsdktool/google-cloud-cli:499.0.0-slim"),
        })
        .default({ postgres: "postgres:15.8", cloudSdk: "gcr.io/google.com/cloudsdktool/google-cloud-cli:499.0.0-slim" }),
});

/** The customer's group differs per environment; the other teams' groups are shared in Pulumi.yaml. */
function withCustomerGroup(input: unknown): unknown {
    if (input === null || typeof input !== "object") return input;
    const { customerGroup, access } = input as { customerGroup?: unknown; access?: unknown };
    if (customerGroup === undefined || access === null || typeof access !== "object") return input;
    const groups = (access as { groups?: unknown }).groups;
    if (groups !== undefined && (groups === null || typeof groups !== "object" || (groups as Record<string, unknown>).cliente !== undefined)) return input;
    return { ...input, access: { ...access, groups: { ...(groups as object | undefined), cliente: customerGroup } } };
}

export const stackConfigSchema = z.preprocess(
    withCustomerGroup,
    z
    .strictObject({
        stage: z.enum(["prod", "hml"], { error: "expected \"prod\" or \"hml\"" }),
        namespace: dnsLabel,
        updateDesiredVersion: protheusVersion,
        // Brazil has had no daylight saving since 2019; the zone still names the intent.
        timeZone: ianaTimeZone.default("America/Sao_Paulo"),
        chart: chartSchema,
        updater: updaterSchema,
        volume: volumeSchema.default({ claimName: "protheus-volume", manage: true, storageClassName: "standard-rwx", size: "100Gi" }),
        backup: backupSchema.optional(),
        access: accessSchema,
        databasePassword: z.string({ error: "expected a string" }).min(1).optional(),
        /** The customer's Google Group (access.groups.cliente), set once per environment. */
        customerGroup: z.email({ error: "expected a Google Group e-mail address" }).optional(),
        // prod only: the hml stack a version must have run on first; by default
        // <org>/<project>/<environment>-hml, derived from the stack name.
        promotion: z
            .strictObject({
                hmlStack: z.string({ error: "expected a stack name such as totvs/protheus/c2a7dv-hml" }).regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/, { error: "expected a stack name such as totvs/protheus/c2a7dv-hml" }).optional(),
                override: z
                    .strictObject({
                        version: protheusVersion,
                        reason: z.string({ error: "expected a written reason" }).min(20, { error: "expected a written reason of at least 20 characters" }),
                    })
                    .optional(),
            })
            .optional(),
    })
    .superRefine((cfg, ctx) => {
        if (cfg.customerGroup !== undefined && cfg.access.groups.cliente !== cfg.customerGroup) {
            ctx.addIssue({ code: "custom", path: ["customerGroup"], message: `expected the customer's group once: protheus:access.groups.cliente says ${cfg.access.groups.cliente ?? "nothing"}` });
        }
        if (cfg.stage === "hml" && cfg.promotion) {
            ctx.addIssue({ code: "custom", path: ["promotion"], message: "expected no promotion section in hml: only prod is gated" });
        }
        const b = cfg.backup;
        if (!b) {
            if (cfg.stage === "prod") ctx.addIssue({ code: "custom", path: ["backup"], message: "expected a backup section: prod must be backed up" });
            return;
        }
        if (cfg.stage === "prod" && b.targets.length === 0) {
            ctx.addIssue({ code: "custom", path: ["backup", "targets"], message: "expected at least one offsite target (\"gcs\" and/or \"rubrik\") for prod" });
        }
        if (b.targets.includes("gcs") && !b.gcs) {
            ctx.addIssue({ code: "custom", path: ["backup", "gcs"], message: "expected a gcs section because targets include \"gcs\"" });
        }
        if (b.targets.includes("rubrik") && !b.rubrik) {
            ctx.addIssue({ code: "custom", path: ["backup", "rubrik"], message: "expected a rubrik section because targets include \"rubrik\"" });
        }
        if (!b.database.passwordSecret && cfg.databasePassword === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["backup", "database", "passwordSecret"],
                message: "expected either backup.database.passwordSecret (an existing Kubernetes Secret) or the secret protheus:databasePassword",
            });
        }
    }),
);

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type ChartConfig = StackConfig["chart"];
export type UpdaterConfig = StackConfig["updater"];
export type VolumeConfig = StackConfig["volume"];
export type BackupConfig = z.infer<typeof backupSchema>;

/** Keys whose values must come from `pulumi config set --secret`. */
export const SECRET_KEYS = ["databasePassword"] as const;

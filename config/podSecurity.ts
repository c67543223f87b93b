// Config of Pod Security for everything the program runs (protheus:podSecurity): the namespace's
// Pod Security Admission level, the uids the pods run as and their resources. Part of the one
// stack-config schema (config/schema.ts); components/podSecurity.ts turns it into pod specs.
import { z } from "zod";

/** The Pod Security Standards levels, least to most restricted. */
export const PSS_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PssLevel = (typeof PSS_LEVELS)[number];

/**
 * The uid/gid of the `postgres` user in the official Debian-based postgres image (the Alpine
 * variant's is 70); the Cloud SDK image runs as any uid with HOME and CLOUDSDK_CONFIG on the
 * scratch volume. The toolbox defaults to it too, so everything the program writes on the
 * environment volume has one owner.
 */
export const DEFAULT_ROBOT_UID = 999;

/** CPU as Kubernetes writes it: 250m, 0.5, 2. */
const cpu = z.string({ error: "expected a CPU quantity such as 250m or 1" }).regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, {
    error: "expected a CPU quantity such as 250m or 1",
});
const memory = z.string({ error: "expected a memory quantity such as 512Mi" }).regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/, {
    error: "expected a memory quantity in Ki, Mi, Gi or Ti, such as 512Mi",
});
const id = (what: string) =>
    z
        .int({ error: `expected a numeric ${what}` })
        .min(1, { error: `expected a non-root ${what} (1 or more)` })
        .max(2147483647, { error: `expected a ${what} of at most 2147483647` });

const MEMORY_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
function memoryBytes(q: string): number {
    const m = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(q);
    if (!m) throw new Error(`not a memory quantity the schema accepts: ${q}`);
    return Number(m[1]) * MEMORY_UNITS[m[2]];
}
function cpuMillis(q: string): number {
    return q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

/**
 * Requests and limits of one container. No CPU limit by default: it only throttles a dump or a
 * restore that has a node's spare CPU; the memory limit is what protects the node.
 */
const resources = (d: { cpu: string; memory: string; memoryLimit: string }) =>
    z
        .strictObject({
            requests: z
                .strictObject({
                    cpu: cpu.default(d.cpu).describe("CPU the scheduler reserves"),
                    memory: memory.default(d.memory).describe("memory the scheduler reserves"),
                })
                .prefault({})
                .describe("what the scheduler reserves for the container"),
            limits: z
                .strictObject({
                    cpu: cpu.optional().describe("CPU cap; none by default (it would only throttle a dump with spare CPU)"),
                    memory: memory.default(d.memoryLimit).describe("memory cap: the container is killed above it"),
                })
                .prefault({})
                .describe("the most the container may use"),
        })
        .prefault({});

/** Defaults per container: what a dump, a restore, an upload and UPDDISTR need on a mid-sized database. */
export const DEFAULT_RESOURCES = {
    backup: { cpu: "250m", memory: "256Mi", memoryLimit: "2Gi" },
    copy: { cpu: "100m", memory: "256Mi", memoryLimit: "1Gi" },
    fetch: { cpu: "100m", memory: "256Mi", memoryLimit: "1Gi" },
    restore: { cpu: "250m", memory: "256Mi", memoryLimit: "2Gi" },
    drill: { cpu: "250m", memory: "256Mi", memoryLimit: "2Gi" },
    // UPDDISTR runs the application server's binaries; killed for memory it would leave a half-applied dictionary.
    updater: { cpu: "500m", memory: "1Gi", memoryLimit: "8Gi" },
} as const;

export const podSecuritySchema = z
    .strictObject({
        // Pod Security Admission's enforce level for the namespace. The Helm chart's pods (TOTVS's images)
        // run there too, so the default is what they can live with; warn and audit are always restricted.
        enforce: z
            .enum(PSS_LEVELS, { error: 'expected "privileged", "baseline" or "restricted"' })
            .default("baseline")
            .describe("the namespace's Pod Security Admission enforce level (warn and audit are always `restricted`); see docs/pod-security.md"),
        // Who the backup, copy, restore and drill containers run as.
        robots: z
            .strictObject({
                runAsUser: id("uid").default(DEFAULT_ROBOT_UID).describe("their uid (the postgres image's `postgres`; 70 for Alpine images)"),
                runAsGroup: id("gid").default(DEFAULT_ROBOT_UID).describe("their gid, also the volume's fsGroup"),
            })
            .prefault({})
            .describe("who the backup, copy, restore, drill and toolbox containers run as"),
        // The updater runs TOTVS's image: its uid must be one the image and the volume's files allow.
        updater: z
            .strictObject({
                runAsUser: id("uid").default(DEFAULT_ROBOT_UID).describe("the updater's uid: one TOTVS's image and the volume's files allow"),
                runAsGroup: id("gid").default(DEFAULT_ROBOT_UID).describe("the updater's gid"),
                // Only for an updater image that cannot run without root: the pod then meets baseline, not restricted.
                runAsRoot: z
                    .boolean({ error: "expected true or false" })
                    .default(false)
                    .describe("only for an updater image that cannot run without root: the pod then meets baseline (refused with `enforce: restricted`)"),
                // The image writes in its own tree (the RPO under protheus/apo, which the runbook's `kubectl cp` replaces).
                readOnlyRootFilesystem: z
                    .boolean({ error: "expected true or false" })
                    .default(false)
                    .describe("the image writes its own tree (the RPO under `protheus/apo`); `true` breaks the guide's RPO copy"),
            })
            .prefault({})
            .describe("how the updater (TOTVS's image) runs"),
        resources: z
            .strictObject({
                backup: resources(DEFAULT_RESOURCES.backup).describe("the nightly and pre-upgrade dump"),
                copy: resources(DEFAULT_RESOURCES.copy).describe("the 06:00 offsite copy"),
                fetch: resources(DEFAULT_RESOURCES.fetch).describe("the download of a backup from GCS before a restore or drill"),
                restore: resources(DEFAULT_RESOURCES.restore).describe("the restore (template, request)"),
                drill: resources(DEFAULT_RESOURCES.drill).describe("the weekly restore drill"),
                updater: resources(DEFAULT_RESOURCES.updater).describe("UPDDISTR, in the updater"),
            })
            .prefault({})
            .describe("requests and limits per container: `backup`, `copy`, `fetch`, `restore`, `drill`, `updater`"),
    })
    .superRefine((p, ctx) => {
        for (const [container, r] of Object.entries(p.resources)) {
            for (const [what, toUnits] of [
                ["memory", memoryBytes],
                ["cpu", cpuMillis],
            ] as const) {
                const limit = r.limits[what];
                if (limit !== undefined && toUnits(r.requests[what]) > toUnits(limit)) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["resources", container, "requests", what],
                        message: `expected at most the limit (${limit}): Kubernetes refuses a request above its limit`,
                    });
                }
            }
        }
        if (p.updater.runAsRoot && p.enforce === "restricted") {
            ctx.addIssue({
                code: "custom",
                path: ["updater", "runAsRoot"],
                message: 'expected false while protheus:podSecurity.enforce is "restricted": the namespace would refuse an updater pod running as root',
            });
        }
    });

export type PodSecurityConfig = z.infer<typeof podSecuritySchema>;
export type ContainerResources = PodSecurityConfig["resources"]["backup"];

// The pod shape shared by every backup, copy and restore job: stock images running the
// scripts from a ConfigMap, hardened as ../podSecurity.ts says (restricted, read-only root).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerResources } from "../../config/podSecurity";
import { VOLUME_MOUNT_PATH } from "../EnvironmentVolume";
import { BACKUP_SUBDIR, DATABASE_SECRET, SCRIPTS_CONFIGMAP } from "../names";
import { containerResources, restrictedContainer, restrictedPod, RunAs, scratchEnv, scratchMount, scratchVolume } from "../podSecurity";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type EnvVar = k8s.types.input.core.v1.EnvVar;

export const SCRIPTS_MOUNT = "/scripts";

/** The robots' containers (protheus:podSecurity): who they run as, and each one's requests and limits. */
export interface RobotPods {
    runAs: RunAs;
    resources: Record<"backup" | "copy" | "fetch" | "restore" | "drill", ContainerResources>;
}

export interface DatabaseConnection {
    host: string;
    port: number;
    name: string;
    user: string;
    /** The Kubernetes Secret key holding the password. */
    passwordSecret: { name: pulumi.Input<string>; key: string };
}

/** The connection settings (no password): they go into the settings ConfigMap. */
export function databaseSettings(db: Omit<DatabaseConnection, "passwordSecret">): Record<string, string> {
    return { PGHOST: db.host, PGPORT: String(db.port), PGDATABASE: db.name, PGUSER: db.user };
}

/** The password, from its Secret: the only database variable a Job's spec carries. */
export function passwordEnv(db: Pick<DatabaseConnection, "passwordSecret">): EnvVar {
    return { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: db.passwordSecret.name, key: db.passwordSecret.key } } };
}

/** Who a job connects as: a database user and the Secret key holding its password. */
export interface DatabaseIdentity {
    user: string;
    passwordSecret: { name: pulumi.Input<string>; key: string };
}

/**
 * Who the jobs that restore connect as: backup.database.restoreUser and its Secret; without them
 * (hml only, the schema refuses it in prod) the backup's user and password.
 */
export function restoreIdentity(db: {
    user: string;
    passwordSecret?: { name: string; key: string };
    restoreUser?: string;
    restorePasswordSecret?: { name: string; key: string };
}): DatabaseIdentity {
    if (db.restoreUser !== undefined && db.restorePasswordSecret) return { user: db.restoreUser, passwordSecret: db.restorePasswordSecret };
    return { user: db.user, passwordSecret: db.passwordSecret ?? { name: DATABASE_SECRET, key: "password" } };
}

/**
 * PGUSER and PGPASSWORD of a job that restores, set in its spec: they take precedence over the
 * settings ConfigMap's PGUSER (the backup's read-only user) that the job also reads with envFrom.
 */
export function identityEnv(identity: DatabaseIdentity): EnvVar[] {
    return [{ name: "PGUSER", value: identity.user }, passwordEnv(identity)];
}

export interface ScriptContainerOptions {
    /** Also the key of its resources in RobotPods. */
    name: keyof RobotPods["resources"];
    image: string;
    /** The script file in the ConfigMap. */
    script: string;
    /** Replaces `bash /scripts/<script>` when the script runs only on a condition. */
    command?: string[];
    env: pulumi.Input<EnvVar>[];
    envFrom?: k8s.types.input.core.v1.EnvFromSource[];
    volumeReadOnly: boolean;
    extraMounts?: k8s.types.input.core.v1.VolumeMount[];
    pods: RobotPods;
}

export function scriptContainer(o: ScriptContainerOptions): Container {
    return {
        name: o.name,
        image: o.image,
        command: o.command ?? ["bash", `${SCRIPTS_MOUNT}/${o.script}`],
        env: [
            { name: "BACKUP_DIR", value: `${VOLUME_MOUNT_PATH}/${BACKUP_SUBDIR}` },
            // Read-only root filesystem: every tool writes under the scratch emptyDir.
            ...scratchEnv(),
            ...o.env,
        ],
        envFrom: o.envFrom,
        volumeMounts: [
            { name: "volume", mountPath: VOLUME_MOUNT_PATH, readOnly: o.volumeReadOnly },
            { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
            scratchMount(),
            ...(o.extraMounts ?? []),
        ],
        resources: containerResources(o.pods.resources[o.name]),
        securityContext: restrictedContainer(o.pods.runAs),
    };
}

export interface ScriptPodOptions {
    containers: Container[];
    initContainers?: Container[];
    volumeClaimName: pulumi.Input<string>;
    serviceAccountName?: pulumi.Input<string>;
    extraVolumes?: k8s.types.input.core.v1.Volume[];
    pods: RobotPods;
}

export function scriptPod(o: ScriptPodOptions): PodSpec {
    return {
        restartPolicy: "Never",
        serviceAccountName: o.serviceAccountName,
        // Only the copy job talks to a cloud API; the others get no token at all.
        automountServiceAccountToken: o.serviceAccountName !== undefined,
        securityContext: restrictedPod(o.pods.runAs),
        initContainers: o.initContainers,
        containers: o.containers,
        volumes: [
            { name: "volume", persistentVolumeClaim: { claimName: o.volumeClaimName } },
            { name: "scripts", configMap: { name: SCRIPTS_CONFIGMAP, defaultMode: 0o555 } },
            scratchVolume(),
            ...(o.extraVolumes ?? []),
        ],
    };
}

/** What every backup, copy and restore CronJob shares; `spec` adds the schedule and the Job. */
export function scriptCronJobSpec(
    timeZone: string,
    spec: Omit<k8s.types.input.batch.v1.CronJobSpec, "concurrencyPolicy" | "timeZone">,
): k8s.types.input.batch.v1.CronJobSpec {
    return {
        timeZone,
        // Two dumps or two uploads of one database at once only slow each other down.
        concurrencyPolicy: "Forbid",
        // Failed runs stay so their pods' logs can be collected.
        failedJobsHistoryLimit: 3,
        successfulJobsHistoryLimit: 3,
        ...spec,
    };
}

/** A template CronJob's schedule, February 31st: even if someone unsuspends it, it never fires on its own. */
export const NEVER = "0 0 31 2 *";

/**
 * An alias to a resource's name under the component that held it in stacks deployed with one
 * backup component (BackupSchedule, a sibling of its new parent), so those stacks move it
 * instead of replacing it.
 */
export function formerlyUnder(parentType: string, parentName: string, name: string, opts?: pulumi.ComponentResourceOptions): pulumi.Alias {
    return { name, parent: pulumi.createUrn(parentName, parentType, opts?.parent) };
}

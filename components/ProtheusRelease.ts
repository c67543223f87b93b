import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isPlainObject, overlay } from "../lib/plainObject";
import { childName } from "./names";

/** The release name the runbook's `helm upgrade` uses. */
export const RELEASE_NAME = "protheus";

export interface ProtheusReleaseArgs {
    namespace: pulumi.Input<string>;
    /** https:// (a classic chart repository) or oci:// (a registry). */
    repo: string;
    chart: string;
    /** The chart version: always the environment's UpdateDesiredVersion. */
    version: string;
    values: Record<string, unknown>;
    /** protheus:maintenance.values while maintenance is enabled: deep-merged over `values`. */
    maintenanceValues?: Record<string, unknown>;
    /** The environment volume's claim, written into the values at `volumeClaimValue`. */
    volumeClaimName: pulumi.Input<string>;
    volumeClaimValue: string;
    timeoutSeconds: number;
    maxHistory: number;
    /**
     * The chart settings hold a secret (protheus:chart or protheus:maintenance set with --secret): the
     * repository, chart and values then stay a Pulumi secret in the release's inputs, the state and the plan.
     */
    secret?: boolean;
}

/** Sets `value` at a dot path in a copy of `values`, keeping what is already there. */
export function withValueAt(values: Record<string, unknown>, dotPath: string, value: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = structuredClone(values);
    const keys = dotPath.split(".");
    let cur = out;
    for (const k of keys.slice(0, -1)) {
        const next = cur[k];
        cur[k] = isPlainObject(next) ? { ...next } : {};
        cur = cur[k] as Record<string, unknown>;
    }
    cur[keys[keys.length - 1]] = value;
    return out;
}

/**
 * The Protheus Helm release, pinned to UpdateDesiredVersion. Upgrades are
 * atomic: a failed upgrade (missing image, no capacity) rolls back to the
 * running release instead of leaving a half-upgraded environment.
 */
export class ProtheusRelease extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly status: pulumi.Output<k8s.types.output.helm.v3.ReleaseStatus>;

    constructor(name: string, args: ProtheusReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("protheus:index:ProtheusRelease", name, {}, opts);
        const oci = args.repo.startsWith("oci://");
        const merged = overlay(args.values, args.maintenanceValues);
        const values = pulumi.output(args.volumeClaimName).apply((claim) => withValueAt(merged, args.volumeClaimValue, claim));
        const kept = <T>(value: T): pulumi.Input<T> => (args.secret ? (pulumi.secret(value) as pulumi.Output<T>) : value);
        this.release = new k8s.helm.v3.Release(
            childName(name),
            {
                name: RELEASE_NAME,
                namespace: args.namespace,
                // OCI charts are addressed by URL; classic repositories by name plus repo.
                chart: kept(oci ? `${args.repo.replace(/\/+$/, "")}/${args.chart}` : args.chart),
                repositoryOpts: oci ? undefined : kept({ repo: args.repo }),
                version: args.version,
                values: args.secret ? pulumi.secret(values) : values,
                atomic: true,
                cleanupOnFail: true,
                timeout: args.timeoutSeconds,
                maxHistory: args.maxHistory,
                createNamespace: false,
            },
            // The component's dependsOn (the backup and restore Jobs) holds for the release itself.
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.status = this.release.status;
        this.registerOutputs({ status: this.status });
    }
}

// The stack's GKE cluster as a Kubernetes provider: a kubeconfig built from the cluster's endpoint
// and CA (read from GKE), with GKE's exec credential plugin, so no ambient kubeconfig or context is
// ever consulted. How the provider behaves when it changes is in docs/ci.md ("The stack's cluster").
import * as container from "@pulumi/gcp/container";
import * as kubernetes from "@pulumi/kubernetes";
import { stringify } from "yaml";
import type { ClusterConfig } from "../config/schema";
import { clusterLabel, gkeContextName } from "./clusterName";

/** The provider resource's name in every stack. */
export const CLUSTER_PROVIDER_NAME = "cluster";

/** A kubeconfig for one GKE cluster whose user is GKE's exec credential plugin (the caller's gcloud identity). */
export function gkeKubeconfig(c: ClusterConfig, endpoint: string, caCertificate: string): string {
    const name = gkeContextName(c);
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caCertificate } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [
            {
                name,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "gke-gcloud-auth-plugin",
                        installHint:
                            "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin (or apt-get install google-cloud-cli-gke-gcloud-auth-plugin)",
                        provideClusterInfo: true,
                    },
                },
            },
        ],
    });
}

/**
 * The explicit provider for the stack's cluster. Its kubeconfig is a plain string when the provider is
 * registered (the cluster is read with an awaited invoke, never from a resource's output): the provider's
 * DiffConfig answers a computed kubeconfig with a replacement of every object. clusterIdentifier makes
 * only a change of cluster replace the provider, not a new endpoint or CA of the same cluster.
 */
export async function gkeClusterProvider(c: ClusterConfig): Promise<kubernetes.Provider> {
    const found = await container.getCluster({ project: c.project, location: c.location, name: c.name });
    const ca = found.masterAuths?.[0]?.clusterCaCertificate;
    if (!found.endpoint || !ca) {
        throw new Error(
            `protheus:cluster ${clusterLabel(c)}: GKE returned no endpoint or CA certificate for the cluster; check the project, location and name`,
        );
    }
    return new kubernetes.Provider(CLUSTER_PROVIDER_NAME, {
        kubeconfig: gkeKubeconfig(c, found.endpoint, ca),
        clusterIdentifier: gkeContextName(c),
    });
}

// How the stack's GKE cluster is named, without the cloud SDKs: the fleet view reads these names
// for every stack, and loading @pulumi/gcp and @pulumi/kubernetes for them cost most of its start-up.
import type { ClusterConfig } from "../config/schema";

/** gcloud's name for the cluster (`gcloud container clusters get-credentials` uses it for the context too). */
export function gkeContextName(c: ClusterConfig): string {
    return `gke_${c.project}_${c.location}_${c.name}`;
}

/** "project/location/name", as the fleet view and the plan show it. */
export function clusterLabel(c: ClusterConfig): string {
    return `${c.project}/${c.location}/${c.name}`;
}

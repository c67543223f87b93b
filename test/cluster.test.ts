// Each stack names its GKE cluster (protheus:cluster); every Kubernetes object goes there through
// one explicit provider, and none through the engine's default provider (the ambient kubeconfig).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { renderProgram, RenderResult } from "../lib/render";
import { gkeContextName } from "../lib/clusterName";
import { CLUSTER_PROVIDER_NAME, gkeKubeconfig } from "../lib/gkeCluster";
import { projectConfigFromYaml, readStackFile, REPO_ROOT } from "../lib/stackFiles";
import { parseStackConfig } from "../config/load";
import { listStackNames } from "../lib/fleet";
import { fleetView } from "../bin/fleet";
import { configObject, renderFailure, stackWith } from "./support/stacks";

/** The Kubernetes custom resources registered with another provider than the stack's explicit one (or none). */
function kubernetesWithoutClusterProvider(result: RenderResult): string[] {
    const providers = result.providers ?? {};
    return Object.entries(providers)
        .filter(([key]) => key.startsWith("kubernetes:"))
        .filter(([, ref]) => !ref.includes(`pulumi:providers:kubernetes::${CLUSTER_PROVIDER_NAME}::`))
        .map(([key, ref]) => `${key} -> ${ref || "default provider"}`);
}

describe("the stack's cluster", () => {
    for (const stage of ["hml", "prod"] as const) {
        it(`${stage}: every Kubernetes resource, in an upgrade with a restore, uses the explicit provider`, async () => {
            const restore = { id: "cluster-test", backup: "latest", reason: "checking the provider of every object" };
            const result = await renderProgram({
                ...stackWith(stage, { restore, maintenance: { ...configObject(stage, "maintenance"), enabled: true } }),
                previousOutputs: { updateDesiredVersion: "12.1.2310", maintenanceEnabled: true },
            });
            const kinds = new Set(Object.keys(result.providers ?? {}).map((k) => k.split("::")[0]));
            // The test reaches the objects that exist only in some updates: the backup Job, the restore Job, the release;
            // and the cluster-wide admission policies with their bindings, and the StatefulSets people exec into.
            for (const t of [
                "kubernetes:batch/v1:Job",
                "kubernetes:helm.sh/v3:Release",
                "kubernetes:core/v1:Namespace",
                "kubernetes:batch/v1:CronJob",
                "kubernetes:apps/v1:StatefulSet",
                "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
                "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
            ])
                assert.ok(kinds.has(t), `${t} registered`);
            assert.ok(Object.keys(result.providers!).filter((k) => k.startsWith("kubernetes:")).length > 20);
            assert.deepEqual(kubernetesWithoutClusterProvider(result), []);
            const provider = result.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
            assert.equal(provider.name, CLUSTER_PROVIDER_NAME);
            const cluster = configObject(stage, "cluster");
            assert.equal(provider.inputs.clusterIdentifier, gkeContextName(cluster as never));
            assert.equal(result.outputs.cluster, `${cluster.project}/${cluster.location}/${cluster.name}`);
        });
    }

    it("the check finds a Kubernetes object declared without a parent (on the default provider)", async () => {
        const result = await renderProgram(stackWith("hml"), path.join(__dirname, "support", "orphan-program.ts"));
        assert.deepEqual(kubernetesWithoutClusterProvider(result), ["kubernetes:core/v1:ConfigMap::orphan -> default provider"]);
    });

    it("the default Kubernetes provider is disabled for the whole project", () => {
        const project = projectConfigFromYaml(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"));
        assert.deepEqual(project["pulumi:disable-default-providers"], ["kubernetes"]);
    });

    it("is required, and a bad value is named with its key", async () => {
        const missing = (await renderFailure(stackWith("hml", { cluster: undefined, defaults: undefined }))).message;
        assert.match(missing, /protheus:cluster/);
        const bad = (await renderFailure(stackWith("prod", { cluster: { project: "totvs-protheus", location: "sa east", name: "Prod_1" } }))).message;
        assert.match(bad, /protheus:cluster\.location/);
        assert.match(bad, /protheus:cluster\.name/);
    });

    it("every stack resolves its cluster (its file, or its stage's defaults in Pulumi.yaml), and the fleet view lists it", () => {
        const fleet = fleetView(REPO_ROOT);
        for (const stack of listStackNames(REPO_ROOT)) {
            const input = readStackFile(stack);
            const own = parseStackConfig(input.config, (k) => input.secretKeys.includes(k)).cluster;
            assert.ok(own.name && own.project && own.location, `${stack} resolves its cluster`);
            const env = fleet.find((e) => stack.startsWith(`${e.environment}-`))!;
            const view = env.hml?.stack === stack ? env.hml : env.prod;
            assert.match(view!.cluster, new RegExp(`/${own.name}$`));
        }
    });
});

describe("the provider change from the ambient default to the explicit provider replaces nothing", () => {
    // pulumi-kubernetes' DiffConfig (provider/pkg/provider/provider.go) asks for a replacement of every
    // object when kubeconfig, context or cluster is computed (unknown in preview), or when clusterIdentifier
    // changes from one value to another; a kubeconfig that appears where the default provider had none
    // finds no "old active cluster" to compare with, so it is an update. The engine's step generator
    // (providerChanged) replaces a resource only when that DiffConfig asks for a replacement.
    it("the kubeconfig and clusterIdentifier are plain strings, not outputs, when the provider is registered", async () => {
        const result = await renderProgram(stackWith("prod"));
        const provider = result.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
        assert.equal(typeof provider.inputs.kubeconfig, "string");
        assert.equal(typeof provider.inputs.clusterIdentifier, "string");
        assert.deepEqual(result.options[`pulumi:providers:kubernetes::${CLUSTER_PROVIDER_NAME}`]?.dependsOn ?? [], []);
    });

    it("clusterIdentifier depends on the cluster's project, location and name only, so a new endpoint or CA is an update", () => {
        const c = { project: "totvs-protheus", location: "southamerica-east1", name: "protheus-prod" };
        assert.notEqual(gkeKubeconfig(c, "192.0.2.1", "Q0E="), gkeKubeconfig(c, "192.0.2.2", "Q0I="));
        assert.equal(gkeContextName(c), "gke_totvs-protheus_southamerica-east1_protheus-prod");
        assert.notEqual(gkeContextName({ ...c, name: "protheus-hml" }), gkeContextName(c));
    });

    it("the kubeconfig authenticates with GKE's exec plugin and points at the cluster's endpoint", () => {
        const c = { project: "totvs-protheus", location: "southamerica-east1", name: "protheus-hml" };
        const k = parse(gkeKubeconfig(c, "192.0.2.7", "Q0E="));
        assert.equal(k["current-context"], gkeContextName(c));
        assert.equal(k.clusters[0].cluster.server, "https://192.0.2.7");
        assert.equal(k.clusters[0].cluster["certificate-authority-data"], "Q0E=");
        assert.equal(k.users[0].user.exec.command, "gke-gcloud-auth-plugin");
        assert.equal(k.users[0].user.exec.apiVersion, "client.authentication.k8s.io/v1beta1");
        assert.deepEqual(
            k.contexts.map((x: { name: string }) => x.name),
            [gkeContextName(c)],
        );
    });

    it("no stack config sets kubernetes:* keys (the old default provider then had no kubeconfig to compare)", () => {
        for (const stack of listStackNames(REPO_ROOT)) {
            const text = fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8");
            assert.doesNotMatch(text, /^\s*kubernetes:/m, stack);
        }
        assert.doesNotMatch(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"), /^\s*kubernetes:(kubeconfig|context|cluster)/m);
    });
});

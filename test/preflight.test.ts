// What preflight checks and where: the names it derives from a stack's config (the checks
// against a real registry are in test/registry/preflight.test.ts).
import { strict as assert } from "assert";
import { chartRegistryHost } from "../bin/preflight";
import { chartManifest, imageManifest, parseChallenge } from "../lib/registry";
import { fleetAt } from "./support/registry";

const STACK = "c2a7dv-hml";

describe("preflight: what a stack pulls, and from where", () => {
    it("a Helm chart in an OCI repository is <path>/<chart>:<version>, '+' written as '_'", () => {
        assert.deepEqual(chartManifest("oci://southamerica-east1-docker.pkg.dev/totvs-protheus/charts", "protheus", "12.1.2510"), {
            registry: "southamerica-east1-docker.pkg.dev",
            repository: "totvs-protheus/charts/protheus",
            reference: "12.1.2510",
        });
        assert.equal(chartManifest("oci://r.example:5000/c/", "p", "1.0.0+build.1")!.reference, "1.0.0_build.1");
        assert.equal(chartManifest("https://charts.example/stable", "p", "1.0.0"), undefined);
    });

    it("an image's registry is its first segment when that is a host, else Docker Hub", () => {
        assert.deepEqual(imageManifest("gcr.io/p/updater", "1"), { registry: "gcr.io", repository: "p/updater", reference: "1" });
        assert.deepEqual(imageManifest("localhost:5000/u", "1"), { registry: "localhost:5000", repository: "u", reference: "1" });
        assert.deepEqual(imageManifest("busybox", "1.36.1"), { registry: "registry-1.docker.io", repository: "library/busybox", reference: "1.36.1" });
    });

    it("reads a Bearer challenge's realm, service and scope", () => {
        assert.deepEqual(parseChallenge('Bearer realm="https://r.example/v2/token",service="r.example",scope="repository:a/b:pull"'), {
            scheme: "bearer",
            params: { realm: "https://r.example/v2/token", service: "r.example", scope: "repository:a/b:pull" },
        });
    });

    it("the chart registry host of each committed stack is the host of its chart.repo", () => {
        assert.equal(chartRegistryHost("c2a7dv-hml"), "southamerica-east1-docker.pkg.dev");
        const dir = fleetAt("registry.example:8443", "x");
        assert.equal(chartRegistryHost(STACK, dir), "registry.example:8443");
    });
});

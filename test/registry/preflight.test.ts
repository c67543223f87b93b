// npm run preflight against a real registry (Docker Distribution, htpasswd auth), with the
// manifests pushed through its HTTP API: one line per check, exit 0 / 1 / 2.
import { strict as assert } from "assert";
import { preflight } from "../../bin/preflight";
import { fleetAt, freePort, startRegistry, TestRegistry } from "../support/registry";

const STACK = "c2a7dv-hml";
const HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json";

describe("npm run preflight (a real registry)", function () {
    this.timeout(60_000);
    let registry: TestRegistry;
    before(async () => {
        registry = await startRegistry();
    });
    after(async () => registry && (await registry.stop()));

    const env = (password = registry.password) => ({
        PREFLIGHT_REGISTRY_USERNAME: registry.username,
        PREFLIGHT_REGISTRY_PASSWORD: password,
        PREFLIGHT_PLAIN_HTTP_HOSTS: registry.host,
        PATH: process.env.PATH,
    });
    const version = "12.1.2510";

    it("exit 0 when the chart version and the updater tag exist", async () => {
        await registry.push("present/charts/protheus", version, HELM_CONFIG);
        await registry.push("present/images/protheus-updater", version);
        const r = await preflight([STACK], { dir: fleetAt(registry.host, "present"), env: env() });
        assert.deepEqual(r.lines, [
            `${STACK}  chart  ${registry.host}/present/charts/protheus:${version}  present`,
            `${STACK}  updater image  ${registry.host}/present/images/protheus-updater:${version}  present`,
        ]);
        assert.equal(r.code, 0);
        assert.ok(!r.lines.join("\n").includes(registry.password), "the password is never printed");
    });

    it("exit 1 naming the missing tag (the repository has others)", async () => {
        await registry.push("tag/charts/protheus", "12.1.2410", HELM_CONFIG);
        await registry.push("tag/images/protheus-updater", version);
        const r = await preflight([STACK], { dir: fleetAt(registry.host, "tag"), env: env() });
        assert.match(r.lines[0], new RegExp(`^${STACK}  chart  \\S+/tag/charts/protheus:${version.replace(/\./g, "\\.")}  MISSING: `));
        assert.match(r.lines[1], / {2}present$/);
        assert.equal(r.code, 1);
    });

    it("exit 1 when the repository does not exist", async () => {
        await registry.push("repo/charts/protheus", version, HELM_CONFIG);
        const r = await preflight([STACK], { dir: fleetAt(registry.host, "repo"), env: env() });
        assert.match(r.lines[0], / {2}present$/);
        assert.match(r.lines[1], /updater image {2}\S+\/repo\/images\/protheus-updater:12\.1\.2510 {2}MISSING: /);
        assert.equal(r.code, 1);
    });

    it("exit 2 when the credentials are refused, and it says so", async () => {
        await registry.push("creds/charts/protheus", version, HELM_CONFIG);
        const r = await preflight([STACK], { dir: fleetAt(registry.host, "creds"), env: env("wrong-password") });
        assert.equal(r.lines.length, 2);
        for (const l of r.lines) assert.match(l, /could not check: credentials refused \(HTTP 401\)$/);
        assert.equal(r.code, 2);
    });

    it("exit 2 when the registry is down", async () => {
        const host = `127.0.0.1:${await freePort()}`;
        const r = await preflight([STACK], { dir: fleetAt(host, "down"), env: { ...env(), PREFLIGHT_PLAIN_HTTP_HOSTS: host } });
        for (const l of r.lines) assert.match(l, /could not check: registry unreachable \(ECONNREFUSED\)$/);
        assert.equal(r.code, 2);
    });

    it("exit 2 without credentials: gcloud gives no token", async () => {
        const r = await preflight([STACK], {
            dir: fleetAt(registry.host, "nogcloud"),
            env: { PATH: "/nonexistent", PREFLIGHT_PLAIN_HTTP_HOSTS: registry.host },
        });
        for (const l of r.lines) assert.match(l, /could not check: no registry credentials: gcloud auth print-access-token failed/);
        assert.equal(r.code, 2);
    });
});

// A throwaway Docker Distribution registry (Debian's docker-registry package) with htpasswd
// (bcrypt) authentication, and pushes through its HTTP API: blob uploads, then the manifest.
import { spawn, spawnSync, ChildProcess } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as os from "os";
import { REPO_ROOT } from "../../lib/stackFiles";
import { waitFor } from "./wait";

export interface TestRegistry {
    /** 127.0.0.1:<port> */
    host: string;
    username: string;
    password: string;
    /** Pushes a manifest (a config blob and one layer) under repository:tag. */
    push(repository: string, tag: string, configMediaType?: string): Promise<void>;
    stop(): Promise<void>;
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** A repository copy whose `stack` pulls its chart and updater from `host` under `prefix`. */
export function fleetAt(host: string, prefix: string, stack = "c2a7dv-hml"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const own = fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8");
    fs.writeFileSync(
        path.join(dir, `Pulumi.${stack}.yaml`),
        `${own}  protheus:chart:\n    repo: oci://${host}/${prefix}/charts\n  protheus:updater:\n    image: ${host}/${prefix}/images/protheus-updater\n`,
    );
    return dir;
}

const digest = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export async function startRegistry(): Promise<TestRegistry> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-"));
    const username = "deploy";
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const htpasswd = spawnSync("htpasswd", ["-B", "-b", "-n", username, password], { encoding: "utf8" });
    if (htpasswd.status !== 0) throw new Error(`htpasswd (apache2-utils) failed: ${htpasswd.error?.message ?? htpasswd.stderr}`);
    fs.writeFileSync(path.join(dir, "htpasswd"), htpasswd.stdout.trim() + "\n");
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    fs.writeFileSync(
        path.join(dir, "config.yml"),
        [
            "version: 0.1",
            "log:",
            "  level: error",
            "storage:",
            "  filesystem:",
            `    rootdirectory: ${path.join(dir, "data")}`,
            "http:",
            `  addr: ${host}`,
            "  secret: preflight-test-secret",
            "auth:",
            "  htpasswd:",
            "    realm: preflight-test",
            `    path: ${path.join(dir, "htpasswd")}`,
            "",
        ].join("\n"),
    );
    const log = fs.openSync(path.join(dir, "registry.log"), "a");
    const child: ChildProcess = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", log, log] });
    let exited = false;
    child.on("exit", () => (exited = true));
    let up = false;
    const probe = setInterval(() => {
        const s = net.connect(port, "127.0.0.1", () => {
            up = true;
            s.destroy();
        });
        s.on("error", () => s.destroy());
    }, 50);
    try {
        await waitFor(() => up || exited, `docker-registry on ${host}`, 30_000);
    } finally {
        clearInterval(probe);
    }
    if (exited) throw new Error(`docker-registry exited: ${fs.readFileSync(path.join(dir, "registry.log"), "utf8")}`);

    const auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const base = `http://${host}`;
    async function pushBlob(repository: string, blob: Buffer): Promise<string> {
        const d = digest(blob);
        const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST", headers: { Authorization: auth } });
        if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
        const location = new URL(start.headers.get("location")!, base);
        location.searchParams.set("digest", d);
        const put = await fetch(location, {
            method: "PUT",
            headers: { Authorization: auth, "Content-Type": "application/octet-stream" },
            body: new Uint8Array(blob),
        });
        if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
        return d;
    }
    return {
        host,
        username,
        password,
        async push(repository, tag, configMediaType = "application/vnd.oci.image.config.v1+json") {
            const config = Buffer.from(JSON.stringify({ name: repository, tag }));
            const layer = Buffer.from(`layer of ${repository}:${tag}`);
            const manifest = {
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config: { mediaType: configMediaType, digest: await pushBlob(repository, config), size: config.length },
                layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: await pushBlob(repository, layer), size: layer.length }],
            };
            const put = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
                method: "PUT",
                headers: { Authorization: auth, "Content-Type": manifest.mediaType },
                body: JSON.stringify(manifest),
            });
            if (put.status !== 201) throw new Error(`manifest put: HTTP ${put.status} ${await put.text()}`);
        },
        async stop() {
            if (!exited) {
                const gone = new Promise((r) => child.once("exit", r));
                child.kill("SIGTERM");
                await gone;
            }
            fs.closeSync(log);
        },
    };
}

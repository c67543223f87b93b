// Does a manifest exist in an OCI registry? One HEAD of /v2/<repository>/manifests/<reference>
// (the OCI distribution API), answering the registry's authentication challenge: Basic
// (htpasswd registries) or the Bearer token flow (Artifact Registry, Docker Hub).
import { spawnSync } from "child_process";

export interface ManifestRef {
    /** host[:port] */
    registry: string;
    repository: string;
    /** A tag or a digest. */
    reference: string;
}

export interface RegistryCredentials {
    username: string;
    password: string;
}

export type ManifestOutcome = { status: "present" } | { status: "missing"; detail: string } | { status: "unchecked"; detail: string };

/** Every manifest kind a chart or an image tag may point at: OCI and Docker, single and multi-platform. */
export const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** "oci://host/path" -> host; undefined for another scheme. */
export function ociRegistryHost(repo: string): string | undefined {
    const m = /^oci:\/\/([^/\s]+)/.exec(repo);
    return m?.[1];
}

/** A Helm chart in an OCI repository: oci://host/path + name:version (Helm writes '+' as '_' in tags). */
export function chartManifest(repo: string, chart: string, version: string): ManifestRef | undefined {
    const m = /^oci:\/\/([^/\s]+)(\/[^\s]*)?$/.exec(repo);
    if (!m) return undefined;
    const path = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
    return { registry: m[1], repository: path ? `${path}/${chart}` : chart, reference: version.replace(/\+/g, "_") };
}

/** host[/path]/name:tag (a first segment without '.', ':' or "localhost" is Docker Hub's). */
export function imageManifest(image: string, tag: string): ManifestRef {
    const slash = image.indexOf("/");
    const first = slash < 0 ? "" : image.slice(0, slash);
    if (first && (first.includes(".") || first.includes(":") || first === "localhost"))
        return { registry: first, repository: image.slice(slash + 1), reference: tag };
    return { registry: "registry-1.docker.io", repository: image.includes("/") ? image : `library/${image}`, reference: tag };
}

/** The updater's image: its tag follows updateDesiredVersion unless pinned (protheus:updater.tag). */
export function updaterImage(args: { image: string; tag?: string; updateDesiredVersion: string }): string {
    return `${args.image}:${args.tag ?? args.updateDesiredVersion}`;
}

export function formatRef(r: ManifestRef): string {
    return `${r.registry}/${r.repository}${r.reference.startsWith("sha256:") ? "@" : ":"}${r.reference}`;
}

/** The challenge of a 401: scheme and parameters (realm, service, scope). */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
    if (!header) return undefined;
    const m = /^\s*(\w+)\s*(.*)$/.exec(header);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
    return { scheme: m[1].toLowerCase(), params };
}

export interface CheckOptions {
    credentials?: RegistryCredentials;
    /** Hosts spoken to over plain http (a test registry); every other over https. */
    plainHttpHosts?: string[];
}

const basic = (c: RegistryCredentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;

function describeError(err: unknown): string {
    const e = err as { cause?: { code?: string; message?: string }; message?: string };
    return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

function outcomeOf(status: number, ref: ManifestRef, authed: boolean): ManifestOutcome {
    if (status === 200) return { status: "present" };
    if (status === 404) return { status: "missing", detail: `no manifest ${ref.reference} in ${ref.repository}` };
    if (status === 401 || status === 403)
        return {
            status: "unchecked",
            detail: authed ? `credentials refused (HTTP ${status})` : `registry asks for credentials (HTTP ${status}) and none were given`,
        };
    return { status: "unchecked", detail: `registry answered HTTP ${status}` };
}

/** HEAD the manifest; "unchecked" when the registry is unreachable, refuses the credentials or answers oddly. */
export async function checkManifest(ref: ManifestRef, opts: CheckOptions = {}): Promise<ManifestOutcome> {
    const scheme = opts.plainHttpHosts?.includes(ref.registry) ? "http" : "https";
    const url = `${scheme}://${ref.registry}/v2/${ref.repository}/manifests/${ref.reference}`;
    const head = (authorization?: string) =>
        fetch(url, { method: "HEAD", headers: { Accept: MANIFEST_ACCEPT, ...(authorization ? { Authorization: authorization } : {}) }, redirect: "follow" });
    try {
        const first = await head();
        if (first.status !== 401) return outcomeOf(first.status, ref, false);
        const challenge = parseChallenge(first.headers.get("www-authenticate"));
        if (!opts.credentials) return outcomeOf(401, ref, false);
        if (challenge?.scheme === "basic") return outcomeOf((await head(basic(opts.credentials))).status, ref, true);
        if (challenge?.scheme !== "bearer" || !challenge.params.realm)
            return { status: "unchecked", detail: `unknown authentication challenge: ${first.headers.get("www-authenticate") ?? "none"}` };
        const tokenUrl = new URL(challenge.params.realm);
        if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
        tokenUrl.searchParams.set("scope", challenge.params.scope ?? `repository:${ref.repository}:pull`);
        const tokenResponse = await fetch(tokenUrl, { headers: { Authorization: basic(opts.credentials) } });
        if (tokenResponse.status === 401 || tokenResponse.status === 403)
            return { status: "unchecked", detail: `credentials refused by the token service (HTTP ${tokenResponse.status})` };
        if (!tokenResponse.ok) return { status: "unchecked", detail: `token service answered HTTP ${tokenResponse.status}` };
        const body = (await tokenResponse.json()) as { token?: string; access_token?: string };
        const token = body.token ?? body.access_token;
        if (!token) return { status: "unchecked", detail: "token service answered without a token" };
        return outcomeOf((await head(`Bearer ${token}`)).status, ref, true);
    } catch (err) {
        return { status: "unchecked", detail: `registry unreachable (${describeError(err)})` };
    }
}

/**
 * The credentials the deploy uses: PREFLIGHT_REGISTRY_USERNAME/PASSWORD when set, else the gcloud
 * identity's access token as Artifact Registry takes it (user oauth2accesstoken). Never printed.
 */
export function deployCredentials(env: NodeJS.ProcessEnv = process.env): RegistryCredentials | { problem: string } {
    if (env.PREFLIGHT_REGISTRY_USERNAME && env.PREFLIGHT_REGISTRY_PASSWORD)
        return { username: env.PREFLIGHT_REGISTRY_USERNAME, password: env.PREFLIGHT_REGISTRY_PASSWORD };
    const r = spawnSync("gcloud", ["auth", "print-access-token"], { encoding: "utf8", env });
    const token = r.status === 0 ? r.stdout.trim() : "";
    if (!token)
        return {
            problem: `no registry credentials: gcloud auth print-access-token failed (${(r.error?.message ?? r.stderr ?? "").trim().split("\n")[0] || `exit ${r.status}`})`,
        };
    return { username: "oauth2accesstoken", password: token };
}

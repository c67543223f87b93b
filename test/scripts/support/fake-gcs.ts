/**
 * A small in-memory fake of the Google Cloud Storage JSON API, enough for the
 * REAL `gcloud storage` CLI (ls, objects list, cp up/down, hash) to run
 * against it with no cloud:
 *
 *   CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=<fake.url>/
 *   CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=<file with any token>
 *   CLOUDSDK_CORE_PROJECT=<any>
 *
 * It models a bucket with a retention policy: an existing object can be
 * neither overwritten nor deleted (403), so the copy script must never
 * re-upload an object that is already there.
 */
import { strict as assert } from "node:assert";
import * as http from "node:http";
import * as crypto from "node:crypto";
import { AddressInfo } from "node:net";
import * as fs from "node:fs";
import * as path from "node:path";

const CRC_TABLE = (() => {
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
        let c = i;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
        t[i] = c >>> 0;
    }
    return t;
})();

/** CRC32C (Castagnoli), as GCS reports it: big-endian 4 bytes, base64. */
export function crc32cBase64(buf: Buffer): string {
    let c = 0xffffffff;
    for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
    const out = Buffer.alloc(4);
    out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
    return out.toString("base64");
}

interface StoredObject {
    name: string;
    data: Buffer;
    generation: number;
    contentType: string;
    created: string;
    crc32c: string;
    md5: string;
}

interface ResumableSession {
    bucket: string;
    name: string;
    contentType: string;
    chunks: Buffer[];
    received: number;
}

export interface FakeGcs {
    /** e.g. http://127.0.0.1:12345/ (with trailing slash, as the override wants) */
    url: string;
    buckets: Map<string, Map<string, StoredObject>>;
    /** every object name successfully uploaded, in order ("bucket/name") */
    uploads: string[];
    /** every rejected overwrite ("bucket/name") */
    rejectedOverwrites: string[];
    /** request log "METHOD path" */
    requests: string[];
    /**
     * When set, uploads of names matching it are refused with 403. Not 503: gcloud retries a
     * 5xx five times with backoff (about 30 s) before it fails, and the scripts only see the failure.
     */
    failUploadsMatching?: RegExp;
    /** when set, every object listing is refused with 403 */
    failListing?: boolean;
    /** when set, uploads of names matching it are stored with one byte changed (data damaged in transit) */
    corruptUploadsMatching?: RegExp;
    put(bucket: string, name: string, data: Buffer): void;
    get(bucket: string, name: string): Buffer | undefined;
    list(bucket: string, prefix?: string): string[];
    close(): Promise<void>;
}

export async function startFakeGcs(bucketNames: string[]): Promise<FakeGcs> {
    const buckets = new Map<string, Map<string, StoredObject>>();
    for (const b of bucketNames) buckets.set(b, new Map());
    const sessions = new Map<string, ResumableSession>();
    let generation = 1_700_000_000_000_000;
    let sessionSeq = 0;
    const fake = {} as FakeGcs;

    const meta = (bucket: string, o: StoredObject) => ({
        kind: "storage#object",
        id: `${bucket}/${o.name}/${o.generation}`,
        selfLink: `${fake.url}storage/v1/b/${bucket}/o/${encodeURIComponent(o.name)}`,
        mediaLink: `${fake.url}download/storage/v1/b/${bucket}/o/${encodeURIComponent(o.name)}?generation=${o.generation}&alt=media`,
        name: o.name,
        bucket,
        generation: String(o.generation),
        metageneration: "1",
        contentType: o.contentType,
        storageClass: "STANDARD",
        size: String(o.data.length),
        md5Hash: o.md5,
        crc32c: o.crc32c,
        etag: "CAE=",
        timeCreated: o.created,
        updated: o.created,
        timeStorageClassUpdated: o.created,
        retentionExpirationTime: "2099-01-01T00:00:00Z",
    });

    const store = (bucket: string, name: string, data: Buffer, contentType = "application/octet-stream"): StoredObject | "exists" => {
        const objs = buckets.get(bucket)!;
        if (objs.has(name)) {
            fake.rejectedOverwrites.push(`${bucket}/${name}`);
            return "exists";
        }
        if (fake.corruptUploadsMatching?.test(name) && data.length > 0) {
            data = Buffer.from(data);
            data[0] ^= 0xff;
        }
        const o: StoredObject = {
            name,
            data,
            generation: ++generation,
            contentType,
            created: new Date().toISOString(),
            crc32c: crc32cBase64(data),
            md5: crypto.createHash("md5").update(data).digest("base64"),
        };
        objs.set(name, o);
        fake.uploads.push(`${bucket}/${name}`);
        return o;
    };

    const send = (res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
        const text = JSON.stringify(body);
        res.writeHead(code, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text), ...headers });
        res.end(text);
    };
    const error = (res: http.ServerResponse, code: number, message: string) =>
        send(res, code, { error: { code, message, errors: [{ message, reason: code === 404 ? "notFound" : "forbidden" }] } });
    const retentionError = (res: http.ServerResponse, bucket: string, name: string) =>
        error(
            res,
            403,
            `Object '${bucket}/${name}' is subject to bucket's retention policy or object retention and cannot be deleted or overwritten until 2099-01-01T00:00:00Z`,
        );

    const sendMedia = (req: http.IncomingMessage, res: http.ServerResponse, bucket: string, o: StoredObject) => {
        let data = o.data;
        let code = 200;
        const headers: Record<string, string> = {
            "content-type": o.contentType,
            "x-goog-hash": `crc32c=${o.crc32c},md5=${o.md5}`,
            "x-goog-generation": String(o.generation),
            "x-goog-stored-content-length": String(o.data.length),
        };
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ""));
        if (range) {
            const start = Number(range[1]);
            const end = range[2] ? Math.min(Number(range[2]), o.data.length - 1) : o.data.length - 1;
            data = o.data.subarray(start, end + 1);
            code = 206;
            headers["content-range"] = `bytes ${start}-${end}/${o.data.length}`;
        }
        headers["content-length"] = String(data.length);
        res.writeHead(code, headers);
        res.end(data);
        void bucket;
    };

    const parseMultipart = (body: Buffer, contentType: string): { metadata: Record<string, unknown>; media: Buffer; mediaType: string } => {
        const m = /boundary=["']?([^"';]+)["']?/.exec(contentType);
        if (!m) throw new Error("no boundary");
        const delim = Buffer.from(`--${m[1]}`);
        const parts: Buffer[] = [];
        let pos = body.indexOf(delim);
        while (pos >= 0) {
            const next = body.indexOf(delim, pos + delim.length);
            if (next < 0) break;
            parts.push(body.subarray(pos + delim.length, next));
            pos = next;
        }
        const parsed = parts.map((p) => {
            // strip leading CRLF, split headers / body, strip trailing CRLF
            const s = p.subarray(p.indexOf("\n") + 1);
            const crlf = s.indexOf("\r\n\r\n");
            const lf = s.indexOf("\n\n");
            const useCrlf = crlf >= 0 && (lf < 0 || crlf < lf);
            const sep = useCrlf ? crlf : lf;
            const sepLen = useCrlf ? 4 : 2;
            const headers = s.subarray(0, sep).toString("utf8");
            let content = s.subarray(sep + sepLen);
            if (content.subarray(-2).toString() === "\r\n") content = content.subarray(0, -2);
            else if (content.subarray(-1).toString() === "\n") content = content.subarray(0, -1);
            const ct = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? "application/octet-stream";
            return { headers, content, ct };
        });
        return { metadata: JSON.parse(parsed[0].content.toString("utf8")), media: parsed[1].content, mediaType: parsed[1].ct };
    };

    const handle = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
        const url = new URL(req.url ?? "/", "http://x");
        const p = url.pathname;
        fake.requests.push(`${req.method} ${p}${url.search}`);
        let m: RegExpExecArray | null;

        // Resumable session PUTs (the Location we hand out).
        if ((req.method === "PUT" || req.method === "POST") && url.searchParams.get("upload_id")) {
            const s = sessions.get(url.searchParams.get("upload_id")!);
            if (!s) return error(res, 404, "No such upload session");
            const cr = /^bytes (\*|(\d+)-(\d+))\/(\*|\d+)$/.exec(String(req.headers["content-range"] ?? ""));
            if (body.length) {
                s.chunks.push(body);
                s.received += body.length;
            }
            const total = cr ? (cr[4] === "*" ? undefined : Number(cr[4])) : s.received;
            if (total !== undefined && s.received >= total) {
                sessions.delete(url.searchParams.get("upload_id")!);
                if (fake.failUploadsMatching?.test(s.name)) return error(res, 403, "Simulated refusal");
                const o = store(s.bucket, s.name, Buffer.concat(s.chunks), s.contentType);
                if (o === "exists") return retentionError(res, s.bucket, s.name);
                return send(res, 200, meta(s.bucket, o));
            }
            res.writeHead(308, s.received ? { range: `bytes=0-${s.received - 1}`, "content-length": "0" } : { "content-length": "0" });
            return res.end();
        }

        if ((m = /^(?:\/resumable)?\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === "POST") {
            const bucket = decodeURIComponent(m[1]);
            if (!buckets.has(bucket)) return error(res, 404, "The specified bucket does not exist.");
            const type = url.searchParams.get("uploadType");
            if (type === "multipart") {
                const { metadata, media, mediaType } = parseMultipart(body, String(req.headers["content-type"] ?? ""));
                const name = String(metadata.name ?? url.searchParams.get("name"));
                if (fake.failUploadsMatching?.test(name)) return error(res, 403, "Simulated refusal");
                if (url.searchParams.get("ifGenerationMatch") === "0" && buckets.get(bucket)!.has(name))
                    return error(res, 412, "At least one of the pre-conditions you specified did not hold.");
                const o = store(bucket, name, media, String(metadata.contentType ?? mediaType));
                if (o === "exists") return retentionError(res, bucket, name);
                return send(res, 200, meta(bucket, o));
            }
            if (type === "media") {
                const name = String(url.searchParams.get("name"));
                if (fake.failUploadsMatching?.test(name)) return error(res, 403, "Simulated refusal");
                const o = store(bucket, name, body, String(req.headers["content-type"] ?? "application/octet-stream"));
                if (o === "exists") return retentionError(res, bucket, name);
                return send(res, 200, meta(bucket, o));
            }
            if (type === "resumable") {
                const metadata = body.length ? JSON.parse(body.toString("utf8")) : {};
                const name = String(metadata.name ?? url.searchParams.get("name"));
                if (url.searchParams.get("ifGenerationMatch") === "0" && buckets.get(bucket)!.has(name))
                    return error(res, 412, "At least one of the pre-conditions you specified did not hold.");
                const id = `s${++sessionSeq}`;
                sessions.set(id, {
                    bucket,
                    name,
                    contentType: String(metadata.contentType ?? req.headers["x-upload-content-type"] ?? "application/octet-stream"),
                    chunks: [],
                    received: 0,
                });
                res.writeHead(200, {
                    location: `${fake.url}upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`,
                    "content-length": "0",
                });
                return res.end();
            }
            return error(res, 400, `unsupported uploadType ${type}`);
        }

        if ((m = /^\/download\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p)) && req.method === "GET") {
            const bucket = decodeURIComponent(m[1]);
            const o = buckets.get(bucket)?.get(decodeURIComponent(m[2]));
            if (!o) return error(res, 404, "No such object");
            return sendMedia(req, res, bucket, o);
        }

        if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p))) {
            const bucket = decodeURIComponent(m[1]);
            const name = decodeURIComponent(m[2]);
            const objs = buckets.get(bucket);
            if (!objs) return error(res, 404, "The specified bucket does not exist.");
            const o = objs.get(name);
            if (req.method === "DELETE") return o ? retentionError(res, bucket, name) : error(res, 404, "No such object");
            if (!o) return error(res, 404, `No such object: ${bucket}/${name}`);
            if (url.searchParams.get("alt") === "media") return sendMedia(req, res, bucket, o);
            return send(res, 200, meta(bucket, o));
        }

        if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === "GET") {
            const bucket = decodeURIComponent(m[1]);
            const objs = buckets.get(bucket);
            if (!objs) return error(res, 404, "The specified bucket does not exist.");
            if (fake.failListing) return error(res, 403, "Simulated refusal to list");
            const prefix = url.searchParams.get("prefix") ?? "";
            const delimiter = url.searchParams.get("delimiter");
            const max = Number(url.searchParams.get("maxResults") ?? 1000);
            const start = url.searchParams.get("pageToken") ?? "";
            const names = [...objs.keys()].filter((n) => n.startsWith(prefix)).sort();
            const items: StoredObject[] = [];
            const prefixes = new Set<string>();
            for (const n of names) {
                if (delimiter) {
                    const i = n.indexOf(delimiter, prefix.length);
                    if (i >= 0) {
                        prefixes.add(n.slice(0, i + delimiter.length));
                        continue;
                    }
                }
                items.push(objs.get(n)!);
            }
            const page = items.filter((o) => o.name > start).slice(0, max);
            const body: Record<string, unknown> = { kind: "storage#objects" };
            if (page.length) body.items = page.map((o) => meta(bucket, o));
            if (prefixes.size && !start) body.prefixes = [...prefixes].sort();
            if (items.filter((o) => o.name > start).length > max) body.nextPageToken = page[page.length - 1].name;
            return send(res, 200, body);
        }

        if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(p)) && req.method === "GET") {
            const bucket = decodeURIComponent(m[1]);
            if (!buckets.has(bucket)) return error(res, 404, "The specified bucket does not exist.");
            return send(res, 200, {
                kind: "storage#bucket",
                id: bucket,
                name: bucket,
                location: "SOUTHAMERICA-EAST1",
                storageClass: "STANDARD",
                retentionPolicy: { retentionPeriod: "2592000", effectiveTime: "2026-01-01T00:00:00Z" },
            });
        }
        return error(res, 404, `fake-gcs: unsupported ${req.method} ${p}`);
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (d: Buffer) => chunks.push(d));
        req.on("end", () => {
            try {
                handle(req, res, Buffer.concat(chunks));
            } catch (e) {
                error(res, 500, `fake-gcs: ${(e as Error).message}`);
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    Object.assign(fake, {
        url: `http://127.0.0.1:${port}/`,
        buckets,
        uploads: [],
        rejectedOverwrites: [],
        requests: [],
        put(bucket: string, name: string, data: Buffer) {
            store(bucket, name, data);
        },
        get(bucket: string, name: string) {
            return buckets.get(bucket)?.get(name)?.data;
        },
        list(bucket: string, prefix = "") {
            return [...(buckets.get(bucket)?.keys() ?? [])].filter((n) => n.startsWith(prefix)).sort();
        },
        close() {
            return new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            });
        },
    });
    return fake;
}

/** Environment that points the real gcloud at the fake (isolated config dir). */
export function gcloudEnv(fake: FakeGcs, configDir: string, tokenFile: string): Record<string, string> {
    return {
        CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: fake.url,
        CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
        CLOUDSDK_CORE_PROJECT: "protheus-test",
        CLOUDSDK_CONFIG: configDir,
        CLOUDSDK_CORE_DISABLE_PROMPTS: "1",
        CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: "1",
        CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: "1",
        // fail fast on (simulated) errors instead of retrying for a minute
        CLOUDSDK_STORAGE_MAX_RETRIES: "1",
        CLOUDSDK_STORAGE_BASE_RETRY_DELAY: "1",
        CLOUDSDK_STORAGE_EXPONENTIAL_SLEEP_MULTIPLIER: "1",
    };
}

/** A fake GCS with `bucketNames` and the gcloud environment that talks to it, its config and token under `dir`. */
export async function startGcloudFixture(bucketNames: string[], dir: string): Promise<{ gcs: FakeGcs; gcloud: Record<string, string> }> {
    const gcs = await startFakeGcs(bucketNames);
    fs.mkdirSync(path.join(dir, "gcloud-config"));
    fs.writeFileSync(path.join(dir, "token"), "fake-token\n");
    return { gcs, gcloud: gcloudEnv(gcs, path.join(dir, "gcloud-config"), path.join(dir, "token")) };
}

/**
 * Puts a local backup dir into the fake bucket under `prefix/` as copy.sh leaves it: every file, then
 * MANIFEST.json last. For tests where objects in GCS are only a precondition (copy.sh has its own tests),
 * so that they do not pay for gcloud runs.
 */
export function putBackup(gcs: FakeGcs, bucket: string, prefix: string, localBackupDir: string): void {
    const files = fs.readdirSync(localBackupDir).sort();
    assert.ok(files.includes("MANIFEST.json"), `${localBackupDir} is not a complete backup`);
    for (const f of [...files.filter((f) => f !== "MANIFEST.json"), "MANIFEST.json"])
        gcs.put(bucket, `${prefix}/${f}`, fs.readFileSync(path.join(localBackupDir, f)));
}

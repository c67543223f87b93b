/**
 * Throwaway real PostgreSQL 15 for the script tests and the benchmark.
 *
 * initdb + pg_ctl run as the `postgres` OS user when the caller is root
 * (PostgreSQL refuses to run as root), in a fresh temp dir (mode 0700). The
 * server listens on 127.0.0.1 on a free port with scram-sha-256 password
 * authentication for every connection, and its unix socket lives in the temp
 * dir. Missing binaries fail loudly with a one-line reason.
 */
import { execFileSync, spawnSync, SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { waitFor } from "./wait";

export interface PgServer {
    /** 127.0.0.1 */
    host: string;
    port: number;
    /** password-authenticated superuser */
    user: string;
    password: string;
    /** PG binaries dir (initdb, pg_ctl, pg_dump, pg_restore, psql) */
    binDir: string;
    /** temp dir holding data/, the socket and the server log */
    dir: string;
    /** Environment for a client: PATH with binDir first, PGHOST/PGPORT/PGUSER/PGPASSWORD. */
    env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv;
    /** Run SQL through psql (ON_ERROR_STOP, tuples only, unaligned, '|' separated); returns stdout. */
    psql(sql: string, database?: string): string;
    stop(): void;
}

export interface StartOptions {
    /** postgresql.conf settings passed with -c (e.g. fsync: 'off' for fast tests). */
    settings?: Record<string, string>;
}

export function findPgBinDir(): string {
    const candidates = [process.env.PG_BINDIR, "/usr/lib/postgresql/15/bin"].filter(Boolean) as string[];
    try {
        candidates.push(execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim());
    } catch {
        /* pg_config not on PATH */
    }
    for (const dir of candidates) {
        if (["initdb", "pg_ctl", "postgres", "pg_dump", "pg_restore", "psql"].every((b) => fs.existsSync(path.join(dir, b)))) return dir;
    }
    throw new Error(
        `postgres test helper: PostgreSQL 15 server binaries (initdb, pg_ctl, postgres, pg_dump, pg_restore, psql) not found in ${candidates.join(", ") || "(none)"}; install postgresql-15 or set PG_BINDIR`,
    );
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

function runChecked(cmd: string, args: string[], what: string, opts: SpawnSyncOptions = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
    if (r.error) throw new Error(`postgres test helper: ${what}: ${r.error.message}`);
    if (r.status !== 0) {
        const reason = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").filter(Boolean).slice(-3).join(" / ");
        throw new Error(`postgres test helper: ${what} failed (exit ${r.status}): ${reason}`);
    }
    return String(r.stdout ?? "");
}

type AsPg = (bin: string, args: string[], what: string) => string;

/** Where test/support/tmpdir.ts puts every file of a test run (set only inside one). */
const TEST_RUN_DIR = "PROTHEUS_TEST_TMPDIR";

const newPassword = () => `pw-${Math.random().toString(36).slice(2)}`;

/** initdb into `data` with a password-authenticated superuser; returns the password. */
function initCluster(data: string, user: string, password: string, asPg: AsPg): string {
    const pwfile = path.join(path.dirname(data), "pwfile");
    fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (process.getuid?.() === 0) {
        const owner = fs.statSync(path.dirname(data));
        fs.chownSync(pwfile, owner.uid, owner.gid);
    }
    try {
        asPg("initdb", ["-D", data, "-U", user, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"], "initdb");
    } finally {
        fs.rmSync(pwfile, { force: true });
    }
    return password;
}

/**
 * Copies the run's template cluster to `data` and returns its superuser password. The first
 * caller of the run (any mocha worker) creates the template with `init`, under a lock directory;
 * the others wait for it, or for the reason it failed.
 */
async function clusterFromTemplate(runDir: string, data: string, init: (into: string, password: string) => string): Promise<string> {
    const root = path.join(runDir, "pg-template");
    const [template, passwordFile, failed] = ["data", "password", "failed"].map((f) => path.join(root, f));
    let mine = false;
    try {
        fs.mkdirSync(root, { mode: 0o700 });
        mine = true;
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (mine) {
        // Owned like the server's own directory, so that initdb (as `postgres`) can write there.
        const owner = fs.statSync(path.dirname(data));
        fs.chownSync(root, owner.uid, owner.gid);
        try {
            const building = path.join(root, "building");
            fs.writeFileSync(passwordFile, init(building, newPassword()), { mode: 0o600 });
            fs.renameSync(building, template);
        } catch (e) {
            fs.writeFileSync(failed, (e as Error).message);
            throw e;
        }
    }
    const ready = () => {
        if (fs.existsSync(failed)) throw new Error(`postgres test helper: the run's template cluster failed: ${fs.readFileSync(failed, "utf8")}`);
        return fs.existsSync(template);
    };
    await waitFor(ready, `the run's template cluster in ${root} (postgres test helper)`, 120_000);
    // cp -a keeps the owner (`postgres`) and the 0700 mode the server insists on.
    runChecked("cp", ["-a", template, data], "copy of the template cluster");
    return fs.readFileSync(passwordFile, "utf8");
}

export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
    const binDir = findPgBinDir();
    const isRoot = process.getuid?.() === 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgtest-"));
    fs.chmodSync(dir, 0o700);
    if (isRoot) {
        const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
        if (id.status !== 0) throw new Error("postgres test helper: running as root but there is no `postgres` OS user to run the server as");
        fs.chownSync(dir, Number(id.stdout.trim()), Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim()));
    }
    // Run a server binary as the postgres user when root.
    const asPg = (bin: string, args: string[], what: string) =>
        isRoot
            ? runChecked("runuser", ["-u", "postgres", "--", path.join(binDir, bin), ...args], what, { cwd: dir })
            : runChecked(path.join(binDir, bin), args, what, { cwd: dir });

    const user = "protheus_admin";
    const data = path.join(dir, "data");
    // Inside a test run every server starts from a copy of one initdb (about 1.3 s of CPU each
    // time, a copy about 0.1 s); the benchmark, outside a run, gets its own initdb.
    const runDir = process.env[TEST_RUN_DIR];
    const password = runDir
        ? await clusterFromTemplate(runDir, data, (into, pw) => initCluster(into, user, pw, asPg))
        : initCluster(data, user, newPassword(), asPg);

    const port = await freePort();
    const settings: Record<string, string> = {
        listen_addresses: "127.0.0.1",
        port: String(port),
        unix_socket_directories: dir,
        max_wal_size: "4GB",
        ...(opts.settings ?? {}),
    };
    const conf = Object.entries(settings)
        .map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`)
        .join("\n");
    fs.appendFileSync(path.join(data, "postgresql.conf"), `\n# test helper\n${conf}\n`);
    const log = path.join(dir, "server.log");
    asPg("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "start"], `pg_ctl start (log: ${log})`);

    let stopped = false;
    const server: PgServer = {
        host: "127.0.0.1",
        port,
        user,
        password,
        binDir,
        dir,
        env(extra = {}) {
            const env: NodeJS.ProcessEnv = { ...process.env };
            for (const k of Object.keys(env)) if (k.startsWith("PG")) delete env[k];
            Object.assign(env, {
                PATH: `${binDir}:${process.env.PATH ?? ""}`,
                PGHOST: "127.0.0.1",
                PGPORT: String(port),
                PGUSER: user,
                PGPASSWORD: password,
                PGCLIENTENCODING: "UTF8",
                PGCONNECT_TIMEOUT: "10",
            });
            for (const [k, v] of Object.entries(extra)) {
                if (v === undefined) delete env[k];
                else env[k] = v;
            }
            return env;
        },
        psql(sql: string, database = "postgres") {
            return runChecked(path.join(binDir, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", database], `psql on ${database}`, {
                input: sql,
                env: server.env(),
                maxBuffer: 256 * 1024 * 1024,
            });
        },
        stop() {
            if (stopped) return;
            stopped = true;
            try {
                asPg("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"], "pg_ctl stop");
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        },
    };
    return server;
}

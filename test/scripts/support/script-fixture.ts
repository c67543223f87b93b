/**
 * What every script test file sets up for itself, so that mocha can run the
 * files in parallel (one worker per file): its own throwaway PostgreSQL 15
 * holding a Protheus-shaped database, its own fake GCS with the real gcloud
 * pointed at it, its own temp dir, all stopped in `after`; and the helpers
 * that run the scripts against them.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startPostgres, PgServer } from "../../support/postgres";
import { startGcloudFixture, FakeGcs } from "./fake-gcs";
import { run, RunOptions, RunResult } from "./run";
import { createProtheusDatabase, fingerprint } from "./protheus-fixture";
import { roleSqlFromDocs, runRoleSql } from "./roles";

export const SCRIPTS = path.resolve(__dirname, "../../../scripts");
/** the environment's Kubernetes namespace (BACKUP_NAMESPACE) */
export const NS = "c2a7dv";
export const TS_RE = /^\d{8}T\d{6}Z$/;
/** The name backup.sh gives a backup started at `at` (UTC, to the second; names sort as times do). */
export const backupName = (at: Date) =>
    at
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
export const APP_ROLE = "protheus";
export const BACKUP_ROLE = "protheus_backup";
export const RESTORE_ROLE = "protheus_restore";
/** who each script connects as when the fixture has the least-privilege roles (copy.sh needs no database) */
const ROLE_OF = { backup: BACKUP_ROLE, restore: RESTORE_ROLE, copy: BACKUP_ROLE, drill: RESTORE_ROLE } as const;
export type ScriptName = keyof typeof ROLE_OF;

export interface ScriptFixtureOptions {
    /** the database the scripts back up and restore (PGDATABASE) */
    database: string;
    bucket: string;
    sizeMb: number;
    /**
     * As in production: the database belongs to the application role `protheus`, the DBA has run the
     * role SQL of docs/backups.md (as written), and each script connects as its least-privilege role.
     * Otherwise the database and every connection are the server superuser's.
     */
    leastPrivilegeRoles: boolean;
    /** SQL run on the database before its fingerprint (`original`) is taken */
    prepare?: (pg: PgServer) => void;
    /** environment of every script run, under the test's own */
    env?: Record<string, string>;
}

export interface ScriptFixture {
    pg: PgServer;
    gcs: FakeGcs;
    tmp: string;
    /** the database's content after setup: table -> "rowcount|md5" */
    original: Record<string, string>;
    /** a fresh volume (BACKUP_DIR) and Rubrik dir */
    freshDirs(): { base: string; backupDir: string; rubrikDir: string; dbDir: string };
    /** connection of a role (never the superuser) */
    as(role: string): { PGUSER: string; PGPASSWORD: string };
    /** `opts.prefix`: a command the script runs under (e.g. in a read-only mount namespace). */
    script(name: ScriptName, env: Record<string, string | undefined>, args?: string[], opts?: RunOptions & { prefix?: string[] }): Promise<RunResult>;
    /** backup.sh, which must succeed; the new backup's name */
    backup(backupDir: string, env?: Record<string, string>): Promise<string>;
    /**
     * A complete backup for a test whose subject reads one (copy, restore, drill), not makes one: a
     * copy of the one backup.sh run of the file (made at the first call), under a fresh name in
     * `backupDir`, its MANIFEST.json "backup" set to that name, then changed by `edit`; the new name.
     */
    copyOfBackup(backupDir: string, edit?: (manifest: string) => string): Promise<string>;
    /** copy.sh shipping a volume's backups to Rubrik and GCS */
    copyToBoth(backupDir: string, rubrikDir: string): Promise<RunResult>;
}

/** Registers the before/after hooks of the enclosing describe; the fields are set once `before` ran. */
export function useScriptFixture(options: ScriptFixtureOptions): ScriptFixture {
    const DB = options.database;
    const passwords: Record<string, string> = {};
    let gcloud: Record<string, string> = {};
    let seq = 0;
    const fixture = {} as ScriptFixture;
    /** the backup.sh run copyOfBackup copies */
    let made: Promise<{ dir: string; name: string }> | undefined;
    /** the newest name copyOfBackup gave, epoch seconds */
    let lastCopy = 0;

    before(async function () {
        fixture.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${DB}-scripts-`));
        const pg = (fixture.pg = await startPostgres({ settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } }));
        if (options.leastPrivilegeRoles) {
            passwords[APP_ROLE] = `app-${Math.random().toString(36).slice(2)}`;
            pg.psql(`CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${passwords[APP_ROLE]}'`);
            createProtheusDatabase(pg, DB, options.sizeMb, APP_ROLE);
            const roleSql = roleSqlFromDocs();
            const blocks = [BACKUP_ROLE, RESTORE_ROLE].map((role) => {
                assert.ok(roleSql[role], `docs/backups.md has no role-sql block for ${role}`);
                passwords[role] = `pw '"$\\ ${role}`; // quotes, dollar, backslash: survive \password as typed
                return { sql: roleSql[role], password: passwords[role] };
            });
            await runRoleSql(pg, blocks);
        } else {
            createProtheusDatabase(pg, DB, options.sizeMb);
        }
        options.prepare?.(pg);
        fixture.original = fingerprint(pg, DB);
        ({ gcs: fixture.gcs, gcloud } = await startGcloudFixture([options.bucket], fixture.tmp));
    });

    after(async function () {
        await fixture.gcs?.close();
        fixture.pg?.stop();
        if (fixture.tmp) fs.rmSync(fixture.tmp, { recursive: true, force: true });
    });

    return Object.assign(fixture, {
        freshDirs() {
            const base = path.join(fixture.tmp, `t${++seq}`);
            const backupDir = path.join(base, "volume", "backups");
            const rubrikDir = path.join(base, "rubrik");
            fs.mkdirSync(backupDir, { recursive: true });
            fs.mkdirSync(rubrikDir, { recursive: true });
            return { base, backupDir, rubrikDir, dbDir: path.join(backupDir, DB) };
        },
        as(role: string) {
            return { PGUSER: role, PGPASSWORD: passwords[role] };
        },
        script(
            name: ScriptName,
            env: Record<string, string | undefined>,
            args: string[] = [],
            { prefix = [], ...opts }: RunOptions & { prefix?: string[] } = {},
        ) {
            const role = options.leastPrivilegeRoles ? fixture.as(ROLE_OF[name]) : {};
            const [cmd, ...before] = [...prefix, "bash"];
            return run(cmd, [...before, path.join(SCRIPTS, `${name}.sh`), ...args], {
                env: fixture.pg.env({ PGDATABASE: DB, ...role, ...options.env, ...gcloud, ...env }),
                ...opts,
            });
        },
        async backup(backupDir: string, env: Record<string, string> = {}) {
            const r = await fixture.script("backup", { BACKUP_DIR: backupDir, ...env });
            assert.equal(r.status, 0, `backup failed: ${r.stderr}`);
            const m = /complete: (\S+)/.exec(r.stdout);
            assert.ok(m, r.stdout);
            return path.basename(m[1]);
        },
        async copyOfBackup(backupDir: string, edit?: (manifest: string) => string) {
            made ??= (async () => {
                const { backupDir: dir } = fixture.freshDirs();
                return { dir: path.join(dir, DB), name: await fixture.backup(dir) };
            })();
            const source = await made;
            // a name as backup.sh gives one (its start time): never one already in the volume, never reused,
            // always after the source's own (a copy can be made in the second the source backup started)
            const dbDir = path.join(backupDir, DB);
            fs.mkdirSync(dbDir, { recursive: true });
            let at = Math.max(Math.floor(Date.now() / 1000), lastCopy + 1);
            const nameAt = (s: number) => backupName(new Date(s * 1000));
            while (nameAt(at) <= source.name || fs.existsSync(path.join(dbDir, nameAt(at)))) at++;
            lastCopy = at;
            const name = nameAt(at);
            fs.cpSync(path.join(source.dir, source.name), path.join(dbDir, name), { recursive: true });
            const manifest = path.join(dbDir, name, "MANIFEST.json");
            const original = fs.readFileSync(manifest, "utf8");
            let text = original.replace(`"backup": "${source.name}",`, `"backup": "${name}",`);
            assert.notEqual(text, original, `${manifest} names its backup as backup.sh writes it`);
            if (edit) {
                const edited = edit(text);
                assert.notEqual(edited, text, "the manifest edit changed something");
                text = edited;
            }
            fs.writeFileSync(manifest, text);
            return name;
        },
        copyToBoth(backupDir: string, rubrikDir: string) {
            return fixture.script("copy", {
                BACKUP_DIR: backupDir,
                BACKUP_TARGETS: "rubrik,gcs",
                BACKUP_NAMESPACE: NS,
                GCS_BUCKET: options.bucket,
                RUBRIK_DIR: rubrikDir,
            });
        },
    });
}

/** the complete backups (with MANIFEST.json) in a database's backup dir, oldest first */
export const completeBackups = (dbDir: string) =>
    fs.existsSync(dbDir)
        ? fs
              .readdirSync(dbDir)
              .filter((n) => TS_RE.test(n) && fs.existsSync(path.join(dbDir, n, "MANIFEST.json")))
              .sort()
        : [];

/** the one line a failing script printed on stderr */
export function oneLine(r: RunResult): string {
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `expected a one-line reason on stderr, got:\n${r.stderr}`);
    return lines[0];
}

export type Outcome = Record<string, unknown> & { event: string; status: string; environment: string; database: string; seconds: number };

/** The outcome line a robot prints: the last stdout line, which must be the only JSON line. */
export function outcome(r: RunResult): Outcome {
    const json = r.stdout.split("\n").filter((l) => l.startsWith("{"));
    assert.equal(json.length, 1, `expected exactly one outcome line on stdout, got:\n${r.stdout}`);
    assert.equal(r.stdout.trimEnd().split("\n").pop(), json[0], "the outcome line is the last line");
    const o = JSON.parse(json[0]) as Outcome;
    assert.equal(typeof o.seconds, "number");
    assert.ok(o.seconds >= 0);
    return o;
}

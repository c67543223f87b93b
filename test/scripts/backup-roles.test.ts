/**
 * The least-privilege roles of docs/backups.md: what they may and may not do
 * when backup.sh and restore.sh connect as them.
 *
 * Real parts: a throwaway PostgreSQL 15 with its pg_dump, pg_restore and psql,
 * and a temp dir standing in for the backup volume (no target: no gcloud).
 *
 * As in production, the Protheus database belongs to an application role
 * (`protheus`), and the scripts connect as the least-privilege roles that
 * docs/backups.md tells DBAs to create (created here by running that SQL):
 * backup.sh as protheus_backup, restore.sh as protheus_restore. The server's
 * superuser only builds the fixture and inspects the results.
 */
import { strict as assert } from "node:assert";
import { run } from "./support/run";
import { fingerprint, databaseOid, owners } from "./support/protheus-fixture";
import { useScriptFixture, oneLine, APP_ROLE, BACKUP_ROLE, RESTORE_ROLE } from "./support/script-fixture";
import { waitFor } from "../support/wait";

const DB = "p01";
const BUCKET = "protheus-backups-roles";

describe("backup scripts as least-privilege roles (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: BUCKET, sizeMb: 4, leastPrivilegeRoles: true });
    const { freshDirs, as, script, copyOfBackup } = fx;

    describe("least-privilege roles from docs/backups.md", function () {
        it("the roles the docs create are neither superusers nor more than the docs say", function () {
            const rows = fx.pg.psql(
                `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolbypassrls,
                coalesce((SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), '')
         FROM pg_roles r WHERE rolname IN ('${BACKUP_ROLE}', '${RESTORE_ROLE}') ORDER BY 1`,
            );
            assert.deepEqual(rows.trim().split("\n"), [`${BACKUP_ROLE}|f|f|f|t|f|pg_read_all_data`, `${RESTORE_ROLE}|f|t|f|t|f|${APP_ROLE}`]);
            // passwords were set by \password (SCRAM), not left empty
            assert.equal(
                fx.pg
                    .psql(`SELECT count(*) FROM pg_authid WHERE rolname IN ('${BACKUP_ROLE}', '${RESTORE_ROLE}') AND rolpassword LIKE 'SCRAM-SHA-256$%'`)
                    .trim(),
                "2",
            );
        });

        it("backup.sh as protheus_backup cannot write: the role is refused a CREATE TABLE", async function () {
            const r = await run("psql", ["-X", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c", "CREATE TABLE zz_nope (id int)"], { env: fx.pg.env(as(BACKUP_ROLE)) });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /permission denied for schema public/);
        });

        it("restore replaces the database while the application (role protheus) is connected: its sessions are ended", async function () {
            const { backupDir } = freshDirs();
            await copyOfBackup(backupDir);
            fx.pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE zz_after (id int)`, DB); // made after the backup: must be gone
            const oid = databaseOid(fx.pg, DB);
            const app = run("psql", ["-X", "-d", DB, "-c", "SELECT pg_sleep(600)"], { env: fx.pg.env({ ...as(APP_ROLE), PGAPPNAME: "dbaccess-standin" }) });
            await waitFor(
                () => fx.pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbaccess-standin' AND datname = '${DB}'`).trim() === "1",
                "the application session",
            );
            const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
            assert.equal(r.status, 0, r.stderr);
            const ended = await app;
            assert.notEqual(ended.status, 0, "the application session was ended");
            assert.match(ended.stderr, /terminat/i);
            assert.notEqual(databaseOid(fx.pg, DB), oid);
            assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_class WHERE relname = 'zz_after'`, DB).trim(), "0");
            assert.deepEqual(fingerprint(fx.pg, DB), fx.original);
            assert.deepEqual(owners(fx.pg, DB), { database: APP_ROLE, objects: [APP_ROLE] });
            // the application role can still create tables in the restored database (schema public is its)
            fx.pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE zz_app (id int); DROP TABLE zz_app`, DB);
        });

        it("a session of another role refuses the replacement before anything is created, naming it: exit 1, old database untouched", async function () {
            const { backupDir } = freshDirs();
            await copyOfBackup(backupDir);
            const oid = databaseOid(fx.pg, DB);
            let pid = 0;
            const other = run("psql", ["-X", "-d", DB, "-c", "SELECT pg_sleep(600)"], {
                env: fx.pg.env({ ...as(BACKUP_ROLE), PGAPPNAME: "other-role" }),
                onSpawn: (c) => (pid = c.pid ?? 0),
            });
            try {
                await waitFor(
                    () => fx.pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'other-role'`).trim() === "1",
                    "the other session",
                );
                const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_REPLACE: "yes" });
                assert.equal(r.status, 1, r.stderr);
                assert.match(
                    oneLine(r),
                    /^restore: database "p01" has sessions of roles protheus_restore cannot end: protheus_backup \(pid \d+, other-role\); they must disconnect first \(or a DBA ends them\); nothing done$/,
                );
                assert.equal(databaseOid(fx.pg, DB), oid);
                assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), "0", "temporary database dropped");
            } finally {
                fx.pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'other-role'`);
                if (pid) await other;
            }
        });

        it("RESTORE_NO_OWNER=yes: everything belongs to RESTORE_OWNER, else to the connecting role", async function () {
            const { backupDir } = freshDirs();
            await copyOfBackup(backupDir);
            const r1 = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_noowner", RESTORE_NO_OWNER: "yes" });
            assert.equal(r1.status, 0, r1.stderr);
            assert.deepEqual(owners(fx.pg, "p01_noowner"), { database: RESTORE_ROLE, objects: [RESTORE_ROLE] });
            assert.deepEqual(fingerprint(fx.pg, "p01_noowner"), fx.original);
            const r2 = await script("restore", {
                BACKUP_DIR: backupDir,
                RESTORE_DATABASE: "p01_noowner",
                RESTORE_NO_OWNER: "yes",
                RESTORE_OWNER: APP_ROLE,
                RESTORE_REPLACE: "yes",
            });
            assert.equal(r2.status, 0, r2.stderr);
            assert.deepEqual(owners(fx.pg, "p01_noowner"), { database: APP_ROLE, objects: [APP_ROLE] });
            fx.pg.psql("DROP DATABASE p01_noowner");
        });

        it("an owner the restore role cannot act as, or that does not exist: exit 1 before any database is created", async function () {
            const { backupDir } = freshDirs();
            await copyOfBackup(backupDir);
            const notMember = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_owner", RESTORE_OWNER: BACKUP_ROLE });
            assert.equal(notMember.status, 1);
            assert.equal(
                oneLine(notMember),
                `restore: role "${RESTORE_ROLE}" cannot act as owner "${BACKUP_ROLE}" (a DBA runs: GRANT "${BACKUP_ROLE}" TO "${RESTORE_ROLE}"; see docs/backups.md); database untouched`,
            );
            const missing = await script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: "p01_owner", RESTORE_OWNER: "nosuchrole" });
            assert.equal(missing.status, 1);
            assert.match(oneLine(missing), /^restore: owner role "nosuchrole" does not exist in this cluster/);
            assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_owner%'`).trim(), "0");
        });
    });
});

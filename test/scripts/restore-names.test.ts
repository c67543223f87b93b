/**
 * scripts/restore.sh's target names and the environment it trusts: the longest
 * target name is replaced whole, connection strings and over-long names are
 * refused before any connection, the restore request may set only its four keys,
 * and command overrides in the environment are not run.
 *
 * Real parts: a throwaway PostgreSQL 15 with its pg_restore and psql, the
 * least-privilege roles of docs/backups.md.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { RESTORE_TARGET_MAX } from "../../components/names";
import { fingerprint } from "./support/protheus-fixture";
import { useScriptFixture, oneLine, outcome } from "./support/script-fixture";
import { run } from "./support/run";

describe("restore.sh target names and the environment it trusts (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: "n01", bucket: "protheus-backups-names", sizeMb: 1, leastPrivilegeRoles: true });

    it(`a target of ${RESTORE_TARGET_MAX} bytes is replaced with its _prev_ name whole (63 bytes); one byte more or a non-identifier is refused (exit 2) before any connection`, async function () {
        const { backupDir } = fx.freshDirs();
        await fx.copyOfBackup(backupDir);
        const long = `n01_${"x".repeat(RESTORE_TARGET_MAX - 4)}`;
        assert.equal(long.length, RESTORE_TARGET_MAX);
        for (const replace of ["", "yes"]) {
            const r = await fx.script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: long, RESTORE_REPLACE: replace });
            assert.equal(r.status, 0, r.stderr);
        }
        assert.deepEqual(fingerprint(fx.pg, long), fx.original);
        assert.equal(fx.pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'n01_x%'`).trim(), "1");
        fx.pg.psql(`DROP DATABASE ${long}`);
        for (const [target, why] of [
            [`${long}y`, new RegExp(`RESTORE_DATABASE is too long \\(at most ${RESTORE_TARGET_MAX} bytes`)],
            ["host=127.0.0.1 dbname=postgres", /RESTORE_DATABASE must be a database name/],
            ["postgresql://127.0.0.1/postgres", /RESTORE_DATABASE must be a database name/],
            ["n01'; DROP", /RESTORE_DATABASE must be a database name/],
        ] as const) {
            // a server that would see the password is never asked: the port is closed
            const r = await fx.script("restore", { BACKUP_DIR: backupDir, RESTORE_DATABASE: target, PGPORT: "1" });
            assert.equal(r.status, 2, `${target}: ${r.stderr}`);
            assert.match(r.stderr, why);
        }
    });

    it("the restore request (REQUEST_ keys): only RESTORE_BACKUP, RESTORE_SOURCE, RESTORE_REPLACE, RESTORE_DATABASE are read; PGHOST or a command is refused (exit 2)", async function () {
        const { backupDir } = fx.freshDirs();
        const name = await fx.copyOfBackup(backupDir);
        const r = await fx.script("restore", {
            BACKUP_DIR: backupDir,
            REQUEST_RESTORE_BACKUP: name,
            REQUEST_RESTORE_DATABASE: "n01_request",
            REQUEST_RESTORE_SOURCE: "volume",
            REQUEST_RESTORE_REPLACE: "no",
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual([outcome(r).backup, outcome(r).target], [name, "n01_request"]);
        assert.deepEqual(fingerprint(fx.pg, "n01_request"), fx.original);
        fx.pg.psql("DROP DATABASE n01_request");
        for (const [extra, why] of [
            [
                { REQUEST_PGHOST: "evil.example.com" },
                /^restore: the restore request sets PGHOST; a request may set only RESTORE_BACKUP RESTORE_SOURCE RESTORE_REPLACE RESTORE_DATABASE$/,
            ],
            [{ REQUEST_PSQL: "/tmp/evil", REQUEST_GCLOUD: "/tmp/evil" }, /^restore: the restore request sets GCLOUD PSQL; a request may set only/],
            [{ REQUEST_RESTORE_DATABASE: "host=evil.example.com dbname=p01" }, /^restore: RESTORE_DATABASE must be a database name/],
        ] as const) {
            const bad = await fx.script("restore", { BACKUP_DIR: backupDir, PGPORT: "1", ...extra });
            assert.equal(bad.status, 2, bad.stderr);
            assert.match(oneLine(bad), why);
        }
    });

    it("command overrides in the environment (PSQL, PG_RESTORE, VACUUMDB, GCLOUD) are not run", async function () {
        const { base, backupDir } = fx.freshDirs();
        await fx.copyOfBackup(backupDir);
        const ran = path.join(base, "ran");
        const evil = path.join(base, "evil");
        fs.writeFileSync(evil, `#!/bin/bash\necho "$0 $*" >> '${ran}'\nexit 1\n`, { mode: 0o755 });
        const r = await fx.script("restore", {
            BACKUP_DIR: backupDir,
            RESTORE_DATABASE: "n01_override",
            PSQL: evil,
            PG_RESTORE: evil,
            VACUUMDB: evil,
            GCLOUD: evil,
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.existsSync(ran), false, "the override ran");
        assert.deepEqual(fingerprint(fx.pg, "n01_override"), fx.original);
        const b = await run("bash", [path.join(__dirname, "../../scripts/backup.sh")], {
            env: fx.pg.env({ PGDATABASE: "n01", BACKUP_DIR: backupDir, PSQL: evil, PG_DUMP: evil }),
        });
        assert.equal(b.status, 0, b.stderr);
        assert.equal(fs.existsSync(ran), false, "the override ran");
    });
});

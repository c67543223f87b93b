/**
 * The fixture of the drill test files: the script fixture (superuser, as the drill's own tests of
 * least privilege create their roles) with a database that also holds an empty table and one whose
 * name needs escaping, and the checks every drill outcome gets.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { PgServer } from "../../support/postgres";
import { RunResult } from "./run";
import { fingerprintWith, databaseOid } from "./protheus-fixture";
import { useScriptFixture, outcome, NS, ScriptFixture } from "./script-fixture";

export const DB = "d01";
/** A table name that needs JSON escaping and contains the count separator. */
export const ODD_TABLE = 'Odd "name" | x';
const quotedOddTable = `"${ODD_TABLE.replace(/"/g, '""')}"`;

export interface DrillFixture {
    fx: ScriptFixture;
    /** a fresh, empty volume (BACKUP_DIR) */
    freshDir(): string;
    /** rows of ODD_TABLE in the live database */
    liveOdd(): string;
    /** the drill's scratch databases on a server ("" when none) */
    scratchDatabases(server?: PgServer): string;
    /** the drill failed with exit `code`, one line on stderr matching `reason`, and left nothing behind */
    assertFailed(r: RunResult, code: number, reason: RegExp, staging?: string): void;
    assertLiveUntouched(): void;
}

/** Registers the before/after hooks of the enclosing describe. */
export function useDrillFixture(bucket: string): DrillFixture {
    const fx = useScriptFixture({
        database: DB,
        bucket,
        sizeMb: 3,
        leastPrivilegeRoles: false,
        // An empty table (no block: counted from the catalogue) and one whose name needs escaping.
        prepare: (pg) =>
            pg.psql(
                `CREATE TABLE zz9010 (r_e_c_n_o_ integer PRIMARY KEY); CREATE TABLE ${quotedOddTable} (id integer); INSERT INTO ${quotedOddTable} SELECT generate_series(1, 7);`,
                DB,
            ),
        env: { BACKUP_NAMESPACE: NS },
    });
    let liveOid = "";
    before(function () {
        liveOid = databaseOid(fx.pg, DB);
    });
    const scratchSql = `SELECT coalesce(string_agg(datname, ' ' ORDER BY datname), '') FROM pg_database WHERE datname LIKE '${DB}_drill%'`;
    /** asserts that the live database is the same one with the same content; the values of `queries`, asked in the same psql run */
    function liveUntouched(queries: string[]): string[] {
        const { content, values } = fingerprintWith(fx.pg, DB, [`SELECT oid FROM pg_database WHERE datname = '${DB}'`, ...queries]);
        assert.equal(values[0], liveOid, "the live database is the same database (OID)");
        assert.deepEqual(content, fx.original, "the live database content is unchanged");
        return values.slice(1);
    }
    const drill: DrillFixture = {
        fx,
        freshDir: () => fx.freshDirs().backupDir,
        liveOdd: () => fx.pg.psql(`SELECT count(*) FROM ${quotedOddTable}`, DB).trim(),
        scratchDatabases: (server = fx.pg) => server.psql(`SELECT datname FROM pg_database WHERE datname LIKE '${DB}_drill%' ORDER BY 1`).trim(),
        assertFailed(r, code, reason, staging) {
            assert.equal(r.status, code, `expected exit ${code}:\n${r.stdout}\n${r.stderr}`);
            const lines = r.stderr.trim().split("\n");
            assert.equal(lines.length, 1, `expected a one-line reason on stderr, got:\n${r.stderr}`);
            assert.match(lines[0], /^drill: /);
            assert.match(lines[0], reason);
            const o = outcome(r);
            assert.equal(o.event, "protheus.drill");
            assert.equal(o.status, "failed");
            assert.equal(o.exit_code, code);
            assert.equal(o.error, lines[0].replace(/^drill: /, ""));
            if (staging) assert.equal(fs.existsSync(staging), false, "drill staging dir removed");
            const [scratch] = liveUntouched([scratchSql]);
            assert.equal(scratch, "", "no scratch database left");
        },
        assertLiveUntouched() {
            liveUntouched([]);
        },
    };
    return drill;
}

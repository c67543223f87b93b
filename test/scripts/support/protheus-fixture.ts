/** Builds the Protheus-shaped database in a PgServer and fingerprints it. */
import { strict as assert } from "node:assert";
import { PgServer } from "../../support/postgres";
import { createProtheusDatabaseSql, dataSqlForSize, fingerprintSql, PROTHEUS_SCHEMA_SQL, PROTHEUS_TABLES } from "../../../bench/protheus-db";

/**
 * The database and its tables belong to `owner` when given (an application
 * role, as in production where DBAccess creates the tables), else to the
 * superuser. The role must exist.
 */
export function createProtheusDatabase(pg: PgServer, name: string, sizeMb: number, owner?: string): void {
    const asOwner = owner ? `SET ROLE "${owner}";\n` : "";
    pg.psql(`${createProtheusDatabaseSql(name)}${owner ? ` OWNER "${owner}"` : ""}`);
    // Schema, rows and statistics in one psql run: each run costs a client start and a backend.
    const data = dataSqlForSize(sizeMb);
    pg.psql(`${asOwner}${PROTHEUS_SCHEMA_SQL}\n${PROTHEUS_TABLES.map((t) => `${data[t].join(";\n")};\nANALYZE ${t};`).join("\n")}`, name);
}

/** The owner of a database and the distinct owners of its tables and indexes in schema public. */
export function owners(pg: PgServer, database: string): { database: string; objects: string[] } {
    return {
        database: pg.psql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${database}'`).trim(),
        objects: pg
            .psql(`SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`, database)
            .trim()
            .split("\n"),
    };
}

/** table -> "rowcount|md5 of all rows ordered by R_E_C_N_O_" */
export function fingerprint(pg: PgServer, database: string): Record<string, string> {
    return fingerprintWith(pg, database, []).content;
}

/**
 * fingerprint(), and the value of each of `queries` (one row, one column, one line), all in one psql
 * run: each run costs a client start and a backend.
 */
export function fingerprintWith(pg: PgServer, database: string, queries: string[]): { content: Record<string, string>; values: string[] } {
    const sql = [...queries, ...PROTHEUS_TABLES.map((t) => fingerprintSql(t))].map((q) => `${q};`).join("\n");
    const rows = pg.psql(sql, database).replace(/\n$/, "").split("\n");
    assert.equal(rows.length, queries.length + PROTHEUS_TABLES.length, `one row per query on ${database}: ${rows.join(" / ")}`);
    const content: Record<string, string> = {};
    for (const row of rows.slice(queries.length)) {
        const [name, count, md5] = row.split("|");
        content[name] = `${count}|${md5}`;
    }
    return { content, values: rows.slice(0, queries.length) };
}

export function databaseSettings(pg: PgServer, database: string): string {
    return pg.psql(`SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database WHERE datname = '${database}'`).trim();
}

export function databaseOid(pg: PgServer, database: string): string {
    return pg.psql(`SELECT oid FROM pg_database WHERE datname = '${database}'`).trim();
}

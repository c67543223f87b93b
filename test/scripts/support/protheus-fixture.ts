/** Builds the Protheus-shaped database in a PgServer and fingerprints it. */
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
    pg.psql(`${asOwner}${PROTHEUS_SCHEMA_SQL}`, name);
    const data = dataSqlForSize(sizeMb);
    for (const t of PROTHEUS_TABLES) pg.psql(`${asOwner}${data[t].join(";\n")};\nANALYZE ${t};`, name);
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
    const out: Record<string, string> = {};
    for (const t of PROTHEUS_TABLES) {
        const [name, count, md5] = pg.psql(fingerprintSql(t), database).trim().split("|");
        out[name] = `${count}|${md5}`;
    }
    return out;
}

export function databaseSettings(pg: PgServer, database: string): string {
    return pg.psql(`SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database WHERE datname = '${database}'`).trim();
}

export function databaseOid(pg: PgServer, database: string): string {
    return pg.psql(`SELECT oid FROM pg_database WHERE datname = '${database}'`).trim();
}

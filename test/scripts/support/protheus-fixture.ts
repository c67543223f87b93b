/** Builds the Protheus-shaped database in a PgServer and fingerprints it. */
import { PgServer } from '../../support/postgres';
import { createProtheusDatabaseSql, dataSqlForSize, fingerprintSql, PROTHEUS_SCHEMA_SQL, PROTHEUS_TABLES } from '../../../bench/protheus-db';

export function createProtheusDatabase(pg: PgServer, name: string, sizeMb: number): void {
  pg.psql(createProtheusDatabaseSql(name));
  pg.psql(PROTHEUS_SCHEMA_SQL, name);
  const data = dataSqlForSize(sizeMb);
  for (const t of PROTHEUS_TABLES) pg.psql(`${data[t].join(';\n')};\nANALYZE ${t};`, name);
}

/** table -> "rowcount|md5 of all rows ordered by R_E_C_N_O_" */
export function fingerprint(pg: PgServer, database: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of PROTHEUS_TABLES) {
    const [name, count, md5] = pg.psql(fingerprintSql(t), database).trim().split('|');
    out[name] = `${count}|${md5}`;
  }
  return out;
}

export function databaseSettings(pg: PgServer, database: string): string {
  return pg
    .psql(`SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype FROM pg_database WHERE datname = '${database}'`)
    .trim();
}

export function databaseOid(pg: PgServer, database: string): string {
  return pg.psql(`SELECT oid FROM pg_database WHERE datname = '${database}'`).trim();
}

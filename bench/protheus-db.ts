/**
 * One generator for a Protheus-shaped PostgreSQL database, shared by the
 * script tests (a few MB) and the backup benchmark (GBs).
 *
 * Shape: like a database created by TOTVS DBAccess for company 01:
 * tables SA1010 (customers), SB1010 (products), SC5010 (sales orders), with
 * fixed-width char fields defaulting to blanks, the control columns
 * D_E_L_E_T_ / R_E_C_N_O_ / R_E_C_D_E_L_, a primary key on R_E_C_N_O_ and a
 * Protheus-style unique index (<table>_UNQ). Identifiers are unquoted, so
 * PostgreSQL stores them lower case (sa1010.a1_cod), as DBAccess does.
 *
 * The database must be WIN1252 / C: text includes non-ASCII WIN1252
 * characters (ç, ã, é, õ, º) to prove the encoding survives a round trip.
 */

export const PROTHEUS_TABLES = ["sa1010", "sb1010", "sc5010"] as const;

/** CREATE DATABASE statement with the settings Protheus requires. */
export function createProtheusDatabaseSql(name: string): string {
    return `CREATE DATABASE "${name}" ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`;
}

/** DDL of the three tables (without data). */
export const PROTHEUS_SCHEMA_SQL = `
CREATE TABLE SA1010 (
  A1_FILIAL  char(2)   NOT NULL DEFAULT '  ',
  A1_COD     char(6)   NOT NULL DEFAULT '      ',
  A1_LOJA    char(2)   NOT NULL DEFAULT '  ',
  A1_NOME    varchar(60) NOT NULL DEFAULT ' ',
  A1_NREDUZ  varchar(40) NOT NULL DEFAULT ' ',
  A1_PESSOA  char(1)   NOT NULL DEFAULT ' ',
  A1_END     varchar(80) NOT NULL DEFAULT ' ',
  A1_BAIRRO  varchar(40) NOT NULL DEFAULT ' ',
  A1_MUN     varchar(60) NOT NULL DEFAULT ' ',
  A1_EST     char(2)   NOT NULL DEFAULT '  ',
  A1_CEP     char(8)   NOT NULL DEFAULT '        ',
  A1_CGC     char(14)  NOT NULL DEFAULT '              ',
  A1_TEL     varchar(15) NOT NULL DEFAULT ' ',
  A1_EMAIL   varchar(100) NOT NULL DEFAULT ' ',
  A1_LC      double precision NOT NULL DEFAULT 0,
  A1_DTCAD   char(8)   NOT NULL DEFAULT '        ',
  A1_MSBLQL  char(1)   NOT NULL DEFAULT ' ',
  D_E_L_E_T_ char(1)   NOT NULL DEFAULT ' ',
  R_E_C_N_O_ integer   NOT NULL,
  R_E_C_D_E_L_ integer NOT NULL DEFAULT 0,
  CONSTRAINT SA1010_PK PRIMARY KEY (R_E_C_N_O_)
);
CREATE UNIQUE INDEX SA1010_UNQ ON SA1010 (A1_FILIAL, A1_COD, A1_LOJA, R_E_C_D_E_L_);
CREATE INDEX SA10101 ON SA1010 (A1_FILIAL, A1_COD, A1_LOJA, R_E_C_N_O_, D_E_L_E_T_);
CREATE INDEX SA10102 ON SA1010 (A1_FILIAL, A1_NOME, A1_LOJA, R_E_C_N_O_, D_E_L_E_T_);

CREATE TABLE SB1010 (
  B1_FILIAL  char(2)   NOT NULL DEFAULT '  ',
  B1_COD     char(15)  NOT NULL DEFAULT '               ',
  B1_DESC    varchar(60) NOT NULL DEFAULT ' ',
  B1_TIPO    char(2)   NOT NULL DEFAULT '  ',
  B1_UM      char(2)   NOT NULL DEFAULT '  ',
  B1_LOCPAD  char(2)   NOT NULL DEFAULT '  ',
  B1_GRUPO   char(4)   NOT NULL DEFAULT '    ',
  B1_POSIPI  char(10)  NOT NULL DEFAULT '          ',
  B1_PRV1    double precision NOT NULL DEFAULT 0,
  B1_PESO    double precision NOT NULL DEFAULT 0,
  B1_CODBAR  varchar(15) NOT NULL DEFAULT ' ',
  B1_MSBLQL  char(1)   NOT NULL DEFAULT ' ',
  D_E_L_E_T_ char(1)   NOT NULL DEFAULT ' ',
  R_E_C_N_O_ integer   NOT NULL,
  R_E_C_D_E_L_ integer NOT NULL DEFAULT 0,
  CONSTRAINT SB1010_PK PRIMARY KEY (R_E_C_N_O_)
);
CREATE UNIQUE INDEX SB1010_UNQ ON SB1010 (B1_FILIAL, B1_COD, R_E_C_D_E_L_);
CREATE INDEX SB10101 ON SB1010 (B1_FILIAL, B1_COD, R_E_C_N_O_, D_E_L_E_T_);

CREATE TABLE SC5010 (
  C5_FILIAL  char(2)   NOT NULL DEFAULT '  ',
  C5_NUM     char(6)   NOT NULL DEFAULT '      ',
  C5_TIPO    char(1)   NOT NULL DEFAULT ' ',
  C5_CLIENTE char(6)   NOT NULL DEFAULT '      ',
  C5_LOJACLI char(2)   NOT NULL DEFAULT '  ',
  C5_CONDPAG char(3)   NOT NULL DEFAULT '   ',
  C5_TABELA  char(3)   NOT NULL DEFAULT '   ',
  C5_VEND1   char(6)   NOT NULL DEFAULT '      ',
  C5_EMISSAO char(8)   NOT NULL DEFAULT '        ',
  C5_MOEDA   double precision NOT NULL DEFAULT 0,
  C5_FRETE   double precision NOT NULL DEFAULT 0,
  C5_MENNOTA varchar(120) NOT NULL DEFAULT ' ',
  C5_NOTA    char(9)   NOT NULL DEFAULT '         ',
  C5_SERIE   char(3)   NOT NULL DEFAULT '   ',
  D_E_L_E_T_ char(1)   NOT NULL DEFAULT ' ',
  R_E_C_N_O_ integer   NOT NULL,
  R_E_C_D_E_L_ integer NOT NULL DEFAULT 0,
  CONSTRAINT SC5010_PK PRIMARY KEY (R_E_C_N_O_)
);
CREATE UNIQUE INDEX SC5010_UNQ ON SC5010 (C5_FILIAL, C5_NUM, R_E_C_D_E_L_);
CREATE INDEX SC50101 ON SC5010 (C5_FILIAL, C5_NUM, R_E_C_N_O_, D_E_L_E_T_);
CREATE INDEX SC50102 ON SC5010 (C5_FILIAL, C5_CLIENTE, C5_LOJACLI, R_E_C_N_O_, D_E_L_E_T_);
`;

/** Approximate on-disk bytes per row (heap + indexes), measured on PG 15. */
const BYTES_PER_ROW = { sa1010: 490, sb1010: 275, sc5010: 380 } as const;
/** Share of the requested size per table. */
const SHARE = { sa1010: 0.3, sb1010: 0.15, sc5010: 0.55 } as const;

export interface RowCounts {
    sa1010: number;
    sb1010: number;
    sc5010: number;
}

/** Row counts that give a database of roughly sizeMb megabytes. */
export function rowCountsForSize(sizeMb: number): RowCounts {
    const bytes = sizeMb * 1024 * 1024;
    const n = (t: keyof typeof SHARE) => Math.max(10, Math.round((bytes * SHARE[t]) / BYTES_PER_ROW[t]));
    return { sa1010: n("sa1010"), sb1010: n("sb1010"), sc5010: n("sc5010") };
}

/**
 * INSERT ... SELECT generate_series statements filling rows [from, to] of one
 * table (1-based R_E_C_N_O_). Deterministic: the same range always yields the
 * same rows. Every 50th row is logically deleted (D_E_L_E_T_ = '*',
 * R_E_C_D_E_L_ = R_E_C_N_O_), as Protheus does.
 */
export function insertRowsSql(table: (typeof PROTHEUS_TABLES)[number], from: number, to: number): string {
    const del = `CASE WHEN g % 50 = 0 THEN '*' ELSE ' ' END`;
    const recdel = `CASE WHEN g % 50 = 0 THEN g ELSE 0 END`;
    switch (table) {
        case "sa1010":
            return `INSERT INTO SA1010 (A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_NREDUZ, A1_PESSOA, A1_END, A1_BAIRRO, A1_MUN, A1_EST, A1_CEP, A1_CGC, A1_TEL, A1_EMAIL, A1_LC, A1_DTCAD, A1_MSBLQL, D_E_L_E_T_, R_E_C_N_O_, R_E_C_D_E_L_)
SELECT lpad((g % 4 + 1)::text, 2, '0'),
       lpad((g / 10)::text, 6, '0'),
       lpad((g % 10 + 1)::text, 2, '0'),
       (ARRAY['COMÉRCIO', 'INDÚSTRIA', 'AÇOUGUE', 'CONFECÇÕES', 'PADARIA SÃO JOÃO', 'DISTRIBUIÇÃO'])[g % 6 + 1] || ' ' || upper(substr(md5(g::text), 1, 12)) || ' LTDA',
       'CLIENTE ' || g,
       CASE WHEN g % 3 = 0 THEN 'F' ELSE 'J' END,
       'RUA DA CONCEIÇÃO, ' || (g % 2000) || ' - SALA ' || (g % 90),
       (ARRAY['CENTRO', 'JARDIM AMÉRICA', 'VILA MARIANA', 'BOA VISTA'])[g % 4 + 1],
       (ARRAY['SÃO PAULO', 'GOIÂNIA', 'MACEIÓ', 'FLORIANÓPOLIS', 'BELÉM'])[g % 5 + 1],
       (ARRAY['SP', 'GO', 'AL', 'SC', 'PA'])[g % 5 + 1],
       lpad((g * 7 % 100000000)::text, 8, '0'),
       lpad((g::bigint * 7919 % 100000000000000)::text, 14, '0'),
       '(11) 9' || lpad((g % 100000000)::text, 8, '0'),
       'contato' || g || '@cliente' || (g % 1000) || '.com.br',
       (g % 100000) * 1.5,
       to_char(date '2015-01-01' + (g % 3650), 'YYYYMMDD'),
       CASE WHEN g % 97 = 0 THEN '1' ELSE '2' END,
       ${del}, g, ${recdel}
FROM generate_series(${from}, ${to}) AS g`;
        case "sb1010":
            return `INSERT INTO SB1010 (B1_FILIAL, B1_COD, B1_DESC, B1_TIPO, B1_UM, B1_LOCPAD, B1_GRUPO, B1_POSIPI, B1_PRV1, B1_PESO, B1_CODBAR, B1_MSBLQL, D_E_L_E_T_, R_E_C_N_O_, R_E_C_D_E_L_)
SELECT '  ',
       rpad('PRD' || lpad(g::text, 10, '0'), 15),
       (ARRAY['PARAFUSO SEXTAVADO AÇO', 'CABO ELÉTRICO 2,5MM', 'TUBO PVC ÁGUA', 'LÂMPADA LED', 'PORCA Nº 8'])[g % 5 + 1] || ' ' || substr(md5(g::text), 1, 8),
       (ARRAY['PA', 'MP', 'PI', 'MC'])[g % 4 + 1],
       (ARRAY['UN', 'KG', 'MT', 'CX'])[g % 4 + 1],
       '01',
       lpad((g % 300)::text, 4, '0'),
       lpad((g * 13 % 10000000000)::text, 10, '0'),
       (g % 10000) / 7.0,
       (g % 500) / 3.0,
       lpad((g::bigint * 104729 % 10000000000000)::text, 13, '0'),
       '2',
       ${del}, g, ${recdel}
FROM generate_series(${from}, ${to}) AS g`;
        case "sc5010":
            return `INSERT INTO SC5010 (C5_FILIAL, C5_NUM, C5_TIPO, C5_CLIENTE, C5_LOJACLI, C5_CONDPAG, C5_TABELA, C5_VEND1, C5_EMISSAO, C5_MOEDA, C5_FRETE, C5_MENNOTA, C5_NOTA, C5_SERIE, D_E_L_E_T_, R_E_C_N_O_, R_E_C_D_E_L_)
SELECT lpad((g % 4 + 1)::text, 2, '0'),
       lpad((g / 4)::text, 6, '0'),
       'N',
       lpad((g * 31 % 100000)::text, 6, '0'),
       '01',
       lpad((g % 40)::text, 3, '0'),
       '001',
       lpad((g % 60)::text, 6, '0'),
       to_char(date '2020-01-01' + (g % 2000), 'YYYYMMDD'),
       1,
       (g % 3000) / 10.0,
       CASE WHEN g % 4 = 0 THEN 'ENTREGA NO PERÍODO DA MANHÃ - NÃO ACEITA DEVOLUÇÃO ' || substr(md5(g::text), 1, 10) ELSE ' ' END,
       CASE WHEN g % 3 = 0 THEN lpad(g::text, 9, '0') ELSE '         ' END,
       CASE WHEN g % 3 = 0 THEN '1  ' ELSE '   ' END,
       ${del}, g, ${recdel}
FROM generate_series(${from}, ${to}) AS g`;
    }
}

/**
 * SQL that fills all tables for a database of about sizeMb MB, in batches of
 * at most batchRows rows (one statement per batch, so a caller may run them
 * on several connections). Returns one list of statements per table.
 */
export function dataSqlForSize(sizeMb: number, batchRows = 500_000): Record<(typeof PROTHEUS_TABLES)[number], string[]> {
    const counts = rowCountsForSize(sizeMb);
    const out = { sa1010: [] as string[], sb1010: [] as string[], sc5010: [] as string[] };
    for (const t of PROTHEUS_TABLES) {
        for (let from = 1; from <= counts[t]; from += batchRows) {
            out[t].push(insertRowsSql(t, from, Math.min(counts[t], from + batchRows - 1)));
        }
    }
    return out;
}

/** Per-table row count and content checksum (ordered by R_E_C_N_O_). */
export function fingerprintSql(table: string): string {
    return `SELECT '${table}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.r_e_c_n_o_), '')) FROM ${table} t`;
}

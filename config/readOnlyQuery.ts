// A drill check is one read-only query, proved so by PostgreSQL's own parser (libpg-query) when the
// config is read: scripts/drill.sh then runs it server-side as a cursor in a read-only transaction
// of the scratch database, and psql never reads the check's text as a script.
import * as path from "path";
import { createSyncFn } from "synckit";

interface ParseOutcome {
    tree?: { stmts?: { stmt: Record<string, unknown> }[] };
    error?: string;
}

// The WebAssembly parser loads asynchronously: a worker thread runs it and synckit waits for it.
// The first call costs the worker's start and the module's load (about 0.2 to 0.5 s); later ones about 2 ms.
let parseInWorker: ((queries: string[]) => ParseOutcome[]) | undefined;
function parseQueries(queries: string[]): ParseOutcome[] {
    parseInWorker ??= createSyncFn<(queries: string[]) => Promise<ParseOutcome[]>>(path.join(__dirname, "sqlParser.worker.cjs"));
    return parseInWorker(queries);
}

/** Statements that change data, wherever they appear (a writable WITH is one). */
const DATA_MODIFYING = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

/**
 * Functions whose effect a read-only transaction does not stop: they reach other sessions (the live
 * database's, on the same server), the server's files or settings, or change this session's defaults.
 */
export const SIDE_EFFECT_FUNCTIONS = new Set([
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_notify",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_logical_emit_message",
    "pg_promote",
    "lo_import",
    "lo_export",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_send_query",
]);

/** The first problem found in a parse tree node, depth first. */
function treeProblem(node: unknown): string | undefined {
    if (Array.isArray(node)) {
        for (const item of node) {
            const p = treeProblem(item);
            if (p) return p;
        }
        return undefined;
    }
    if (node === null || typeof node !== "object") return undefined;
    const obj = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
        if (DATA_MODIFYING.has(key)) return `expected no data-modifying statement, found ${key.replace(/Stmt$/, "").toUpperCase()} (in a WITH or a subquery)`;
        if (key === "intoClause") return "expected no SELECT INTO (it creates a table)";
        if (key === "lockingClause") return "expected no FOR UPDATE/SHARE (it locks rows)";
        if (key === "FuncCall") {
            const names = ((value as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((n) => n.String?.sval ?? "");
            const fn = names[names.length - 1]?.toLowerCase();
            if (fn && SIDE_EFFECT_FUNCTIONS.has(fn))
                return `expected no call of ${fn}() (it acts outside the query, which a read-only transaction does not stop)`;
        }
        const p = treeProblem(value);
        if (p) return p;
    }
    return undefined;
}

/** Why each query is not exactly one read-only query (SELECT, VALUES, WITH … SELECT), or undefined. */
export function readOnlyQueryProblems(queries: string[]): (string | undefined)[] {
    // A backslash starts a psql meta-command (\! runs a shell, \c connects elsewhere); SQL needs none here.
    const parsed = parseQueries(queries.map((q) => (q.includes("\\") ? "" : q)));
    return queries.map((query, i) => {
        if (query.includes("\\")) return "expected no backslash (psql reads \\ as a meta-command: \\! runs a shell, \\c connects to another database)";
        const { tree, error } = parsed[i];
        if (error !== undefined) return `expected one SQL query PostgreSQL can parse: ${error}`;
        const stmts = tree?.stmts ?? [];
        if (stmts.length !== 1) return `expected exactly one SQL statement (found ${stmts.length})`;
        const [kind] = Object.keys(stmts[0].stmt);
        if (kind !== "SelectStmt") return `expected a read-only query (SELECT, VALUES or WITH … SELECT), found ${kind.replace(/Stmt$/, "")}`;
        return treeProblem(stmts[0].stmt);
    });
}

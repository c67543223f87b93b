/**
 * The least-privilege database roles, created by running the SQL blocks that
 * docs/backups.md gives the DBAs, exactly as written, so that the doc and the
 * tests cannot diverge.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PgServer } from "../../support/postgres";
import { run } from "./run";

export const DOCS = path.resolve(__dirname, "../../../docs/backups.md");

/** role name -> the ```sql block after `<!-- role-sql: <role> -->` in docs/backups.md */
export function roleSqlFromDocs(doc = fs.readFileSync(DOCS, "utf8")): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of doc.matchAll(/<!-- role-sql: ([a-z_]+) -->\n```sql\n([\s\S]*?)```/g)) out[m[1]] = m[2];
    return out;
}

/**
 * Runs role blocks, one after the other, in one psql as the server's superuser (the DBA), answering
 * each block's `\password` prompts (new password, then again) with its `password` on stdin. The psql
 * runs in its own session (no controlling terminal), so the prompt reads stdin instead of /dev/tty, as
 * when a DBA pastes the blocks and types.
 */
export async function runRoleSql(pg: PgServer, blocks: { sql: string; password: string }[]): Promise<void> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "role-sql-")), "role.sql");
    fs.writeFileSync(file, blocks.map((b) => b.sql).join("\n"));
    try {
        const r = await run("psql", ["-X", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f", file], {
            env: pg.env(),
            input: blocks.map((b) => `${b.password}\n`.repeat((b.sql.match(/^\\password\b/gm) ?? []).length * 2)).join(""),
            detached: true,
        });
        if (r.status !== 0) throw new Error(`role SQL from docs/backups.md failed (exit ${r.status}): ${r.stderr.trim()}`);
    } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
}

/**
 * Stand-ins for the programs a script runs, reached the way production reaches
 * the real ones: through PATH (the scripts read no command override from the
 * environment). Each stand-in is a bash script, usually wrapping the real
 * binary of the test's PostgreSQL.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PgServer } from "../../support/postgres";

/**
 * Writes `dir/<name>` for every entry (the body after `#!/bin/bash`) and returns a PATH that
 * finds them first, then the server's binaries, then the test's PATH.
 */
export function fakeCommands(pg: PgServer, dir: string, commands: Record<string, string>): string {
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, body] of Object.entries(commands)) fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    return `${dir}:${pg.binDir}:${process.env.PATH ?? ""}`;
}

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

/**
 * A PATH (the server's binaries, then the test's PATH) on which none of `names` is found, as in an
 * image without them: a directory holding one of them is replaced by a directory of links to the
 * rest of its entries.
 */
export function pathWithout(pg: PgServer, dir: string, names: string[]): string {
    const entries = [pg.binDir, ...(process.env.PATH ?? "").split(":")].filter(Boolean);
    return entries
        .map((entry, i) => {
            if (!names.some((n) => fs.existsSync(path.join(entry, n)))) return entry;
            const farm = path.join(dir, `path-${i}`);
            fs.mkdirSync(farm, { recursive: true });
            for (const f of fs.readdirSync(entry)) {
                if (!names.includes(f) && !fs.existsSync(path.join(farm, f))) fs.symlinkSync(path.join(entry, f), path.join(farm, f));
            }
            return farm;
        })
        .join(":");
}

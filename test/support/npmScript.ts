// The command `npm run <script> -- <args>` runs, read from package.json: the tests of a command run
// it without npm's own start-up (half a second of CPU each time). test/cliHelp.test.ts runs one
// through npm itself.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../lib/stackFiles";
import { tsNodeCommand } from "../../lib/tsNode";

/** The file package.json's `script` (a `ts-node --swc <file>` command) runs in the repository at `root` ("bin/plan.ts"). */
export function npmScriptFile(script: string, root = REPO_ROOT): string {
    const scripts = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const file = /^ts-node --swc (\S+\.ts)$/.exec(scripts[script] ?? "")?.[1];
    assert.ok(file, `npm script "${script}" is not a ts-node --swc command: ${scripts[script]}`);
    return file;
}

/** `[node, args]` of package.json's `script` in the repository at `root`, with `args` appended. */
export function npmScriptCommand(script: string, args: string[] = [], root = REPO_ROOT): [string, string[]] {
    return tsNodeCommand(npmScriptFile(script, root), args, root);
}

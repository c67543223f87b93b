// Whether a tree runs this process's program, so that its stacks can be planned here instead of by
// its own bin/plan.ts in a child process (a second TypeScript and Pulumi SDK load). The rule is the
// one a ref's side of the plan diff always used, applied to what the tree holds wherever it is: every
// file but the stack files (Pulumi.<stack>.yaml, which a render reads from the tree it is given) is
// byte for byte this repository's, and the tree's node_modules is this one's. No list of files the
// render "does not read" to keep true as the program grows: a changed doc or test means a child
// process, as any doubt does.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { workingTreeFiles } from "./git";
import { REPO_ROOT } from "./stackFiles";

const STACK_FILE = /^Pulumi\.[^/]+\.yaml$/;

/** A file's content, or a symbolic link's target, as a hash. */
function digest(file: string): string {
    const stat = fs.lstatSync(file);
    const content = stat.isSymbolicLink() ? `link:${fs.readlinkSync(file)}` : fs.readFileSync(file);
    return createHash("sha256").update(content).digest("hex");
}

/** What the tree at `dir` holds, file by file, but its stack files. */
function contents(dir: string): Map<string, string> {
    const files = workingTreeFiles(dir).filter((f) => !STACK_FILE.test(f));
    return new Map(files.map((f) => [f, digest(path.join(dir, f))]));
}

const realPath = (p: string) => (fs.existsSync(p) ? fs.realpathSync(p) : undefined);

let loaded: Map<string, string> | undefined;

/**
 * True when the tree at `dir` runs this process's program (see above). The repository's own contents
 * are read once, when first asked: a process that edits its own files after that must not ask.
 */
export function runsThisProgram(dir: string): boolean {
    if (path.resolve(dir) === REPO_ROOT) return true;
    try {
        const modules = realPath(path.join(REPO_ROOT, "node_modules"));
        if (modules === undefined || realPath(path.join(dir, "node_modules")) !== modules) return false;
        const own = (loaded ??= contents(REPO_ROOT));
        const tree = contents(dir);
        return tree.size === own.size && [...tree].every(([f, hash]) => own.get(f) === hash);
    } catch {
        // A tree that cannot be listed or read is not known to be this program.
        return false;
    }
}

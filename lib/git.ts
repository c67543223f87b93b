// The repository's history as the commands read it: git run once here for all of them, a ref
// checked the same way everywhere, and a commit's tree written out to render it with its own
// program (the plan diff).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** git refused, or a commit's tree could not be written out; the message says which and why. */
export class GitError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "GitError";
    }
}

/** Runs git in `cwd` and returns its stdout; a failure throws a GitError with git's own reason. */
export function git(args: string[], cwd: string): string {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
    } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new GitError(`git ${args.join(" ")}: ${(e.stderr || e.message).trim()}`);
    }
}

/** The commit `ref` names in `repo`, or a GitError naming the ref. `--end-of-options`: a ref that starts with "-" is not an option. */
export function resolveCommit(ref: string, repo: string): string {
    try {
        return git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], repo).trim();
    } catch {
        throw new GitError(`bad git ref "${ref}": not a commit in ${repo}`);
    }
}

/** How output names a commit reached through `ref`: the short hash, after the ref when the ref is not itself a hash. */
export function commitLabel(ref: string, commit: string): string {
    const short = commit.slice(0, 7);
    return commit.startsWith(ref.toLowerCase()) ? short : `${ref} (${short})`;
}

/**
 * Writes the tree of `commit` into `tmp`/tree (git archive | tar -x), with `repo`'s node_modules
 * linked in so its program runs, and returns that directory. The caller removes `tmp`.
 */
export function writeTree(commit: string, repo: string, tmp: string): string {
    const tarball = path.join(tmp, "tree.tar");
    const dir = path.join(tmp, "tree");
    fs.mkdirSync(dir);
    git(["archive", "--format=tar", "-o", tarball, commit], repo);
    try {
        execFileSync("tar", ["-xf", tarball, "-C", dir], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
        throw new GitError(`cannot unpack ${commit}: ${((err as { stderr?: Buffer }).stderr ?? "").toString().trim() || (err as Error).message}`);
    }
    fs.rmSync(tarball, { force: true });
    const modules = path.join(repo, "node_modules");
    if (!fs.existsSync(modules)) throw new GitError(`no node_modules in ${repo}: run npm ci first`);
    if (!fs.existsSync(path.join(dir, "node_modules"))) fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir");
    return dir;
}

/** The files changed on HEAD since it left `ref` (three dots: changes on `ref` since then do not count). */
export function changedSince(ref: string, repo: string): string[] {
    return git(["diff", "--name-only", `${resolveCommit(ref, repo)}...HEAD`], repo)
        .split("\n")
        .filter((f) => f !== "");
}

/**
 * The files of the working tree at `dir`, relative to it, as git sees them (tracked or untracked, not
 * ignored), or every file under it when it is not a repository (a commit's tree written out); never
 * node_modules, which is linked, not part of the tree.
 */
export function workingTreeFiles(dir: string): string[] {
    const files = fs.existsSync(path.join(dir, ".git"))
        ? git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], dir)
              .split("\0")
              .filter((f) => f !== "" && fs.existsSync(path.join(dir, f)))
        : walk(dir, "");
    return [...new Set(files)].filter((f) => f !== "node_modules" && !f.startsWith("node_modules/")).sort();
}

function walk(dir: string, prefix: string): string[] {
    return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
        const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
        if (rel === ".git" || rel === "node_modules") return [];
        return e.isDirectory() ? walk(dir, rel) : [rel];
    });
}

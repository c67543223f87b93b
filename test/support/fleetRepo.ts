// A throwaway git repository holding the committed Pulumi.yaml and stack files,
// for the commands that compare a change against a git ref.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { workingTreeFiles } from "../../lib/git";
import { REPO_ROOT } from "../../lib/stackFiles";

export interface FleetRepo {
    dir: string;
    git(...args: string[]): string;
    write(file: string, text: string): void;
    /** Replaces `protheus:updateDesiredVersion` of a stack file. */
    setVersion(stack: string, version: string): void;
    commit(message: string): string;
    remove(): void;
}

export function fleetRepo(files = ["Pulumi.yaml", "Pulumi.c2a7dv-hml.yaml", "Pulumi.c2a7dv-prod.yaml"]): FleetRepo {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-repo-"));
    const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], {
            cwd: dir,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    for (const f of files) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "base", "--allow-empty");
    const repo: FleetRepo = {
        dir,
        git,
        write: (file, text) => {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.writeFileSync(path.join(dir, file), text);
        },
        setVersion: (stack, version) => {
            const file = path.join(dir, `Pulumi.${stack}.yaml`);
            fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/protheus:updateDesiredVersion: .*/, `protheus:updateDesiredVersion: ${version}`));
        },
        commit: (message) => {
            git("add", "-A");
            git("commit", "-qm", message);
            return git("rev-parse", "HEAD").trim();
        },
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
    return repo;
}

/**
 * A throwaway git repository holding the whole program as it is in the working tree now (node_modules
 * linked), committed: byte for byte this repository's files, so plan runs it in the test's process.
 */
export function programRepo(): FleetRepo {
    const files = workingTreeFiles(REPO_ROOT).filter((f) => fs.statSync(path.join(REPO_ROOT, f)).isFile());
    const repo = fleetRepo([]);
    for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(repo.dir, f)), { recursive: true });
        fs.copyFileSync(path.join(REPO_ROOT, f), path.join(repo.dir, f));
    }
    // The link is not the directory the repository's own .gitignore names, and the .gitignore stays as it is (plan compares the trees).
    fs.appendFileSync(path.join(repo.dir, ".git", "info", "exclude"), "node_modules\n");
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(repo.dir, "node_modules"), "dir");
    repo.commit("program");
    return repo;
}

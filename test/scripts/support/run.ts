/** Async child process runner (never spawnSync: the fake GCS server runs in this process). */
import { spawn, ChildProcess } from "node:child_process";

export interface RunResult {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    env?: NodeJS.ProcessEnv;
    input?: string;
    cwd?: string;
    /** start in its own process group (so the test can kill the whole tree) */
    detached?: boolean;
    onSpawn?: (child: ChildProcess) => void;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, {
            env: opts.env,
            cwd: opts.cwd,
            detached: opts.detached,
            stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        child.on("error", reject);
        child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
        if (child.stdin) {
            // a child that exits without reading its input must not crash the runner (EPIPE)
            child.stdin.on("error", () => undefined);
            child.stdin.end(opts.input);
        }
        opts.onSpawn?.(child);
    });
}

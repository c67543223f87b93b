// A command of bin/ run in the test's own process through its `main(argv, io)`: a process of its own
// costs a second or two of CPU (ts-node, TypeScript, the Pulumi SDK). test/cliHelp.test.ts runs each
// command once as a process, so the command line's wiring to `main` stays covered.
import { strict as assert } from "assert";
import { Writable } from "stream";
import type { CommandIo } from "../../lib/commandLine";

/** A stream that keeps what is written to it. */
export class Capture extends Writable {
    text = "";
    override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
        this.text += chunk.toString();
        done();
    }
}

export interface CommandRun {
    status: number;
    stdout: string;
    stderr: string;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "exit", "beforeExit", "uncaughtException", "unhandledRejection"] as const;

/** What a command could leave behind in this process for the next test to trip on. */
function processState() {
    return {
        exitCode: process.exitCode,
        cwd: process.cwd(),
        env: { ...process.env },
        listeners: Object.fromEntries(SIGNALS.map((s) => [s, process.listenerCount(s)])),
    };
}

/**
 * Runs `main` with `argv`, streams that capture what it writes and `env` (default: this process's),
 * and fails the test when it calls process.exit or leaves the exit code, the working directory, the
 * environment or a process listener changed.
 */
export async function runMain(
    main: (argv: string[], io: CommandIo) => Promise<number>,
    argv: string[],
    env: NodeJS.ProcessEnv = process.env,
): Promise<CommandRun> {
    const stdout = new Capture();
    const stderr = new Capture();
    const before = processState();
    const exit = process.exit;
    process.exit = ((code?: number) => {
        throw new Error(`the command called process.exit(${code}) instead of returning its exit code`);
    }) as typeof process.exit;
    let status: number;
    try {
        status = await main(argv, { stdout, stderr, env });
    } finally {
        process.exit = exit;
    }
    const after = processState();
    // Put back what can be, so that only this test fails.
    process.exitCode = before.exitCode;
    process.chdir(before.cwd);
    assert.deepEqual(after, before, "the command left this process's state changed");
    return { status, stdout: stdout.text, stderr: stderr.text };
}

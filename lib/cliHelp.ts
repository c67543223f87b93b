// Every command answers `--help` (or `-h`) with its usage on stdout and exit 0,
// before it reads anything else, so a reader can always ask how to run it.

/** When `argv` asks for help: prints `usage` and ends the process with 0. */
export function answerHelp(argv: string[], usage: string): void {
    if (!argv.includes("--help") && !argv.includes("-h")) return;
    process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
    process.exit(0);
}

// The one command-line parser of every command in bin/ and bench/: node:util parseArgs in strict
// mode, plus the rules it leaves out. `--x=v` and `--x v` both work; a value that looks like an
// option is refused (written `--x=-v` it is taken), so a forgotten value never swallows the next
// option; an option that takes one value given twice is an error, where parseArgs silently keeps
// the last; `--help` or `-h` prints the usage and exits 0 before anything else is read; any other
// bad command line exits 2 with one line naming the option and what it expects.
import { parseArgs } from "node:util";

export interface OptionSpec {
    type: "string" | "boolean";
    short?: string;
    /** The option may be given more than once; its values come as a list. */
    multiple?: boolean;
    /** What its value is, for the error when it is missing ("a git ref"); default "a value". */
    value?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface CommandSpec<O extends OptionSpecs> {
    /** The command's name, the first word of its errors ("plan"). */
    name: string;
    /** Printed by --help. */
    usage: string;
    options: O;
    /** Whether arguments that are not options are taken (default: refused). */
    positionals?: boolean;
}

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean" ? boolean : string;

export type OptionValues<O extends OptionSpecs> = {
    [K in keyof O]?: O[K]["multiple"] extends true ? ValueOf<O[K]>[] : ValueOf<O[K]>;
};

export interface CommandLine<O extends OptionSpecs> {
    values: OptionValues<O>;
    positionals: string[];
}

/** A command line the command cannot take; the message names the argument and what is expected. */
export class CommandLineError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CommandLineError";
    }
}

/** Whether `argv` asks for help: `--help` or `-h` before any `--` that ends the options. */
export function asksForHelp(argv: string[]): boolean {
    const end = argv.indexOf("--");
    return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * Reads `argv` by `spec`: "help" when it asks for help, else the options and positionals.
 * Throws a CommandLineError for anything the command cannot take.
 */
export function readCommandLine<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[]): "help" | CommandLine<O> {
    if (asksForHelp(argv)) return "help";
    const options = Object.fromEntries(
        Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, multiple: o.multiple ?? false, ...(o.short ? { short: o.short } : {}) }]),
    );
    const config = { args: argv, options, allowPositionals: spec.positionals ?? false, tokens: true } as const;
    let parsed;
    try {
        parsed = parseArgs({ ...config, strict: true });
    } catch (err) {
        // The lenient parse takes every argument, so the first one the command cannot take is found and named.
        throw new CommandLineError(explain(spec, parseArgs({ ...config, strict: false, allowPositionals: true }).tokens) ?? firstLine(err));
    }
    const seen = new Set<string>();
    for (const t of parsed.tokens) {
        if (t.kind !== "option" || spec.options[t.name].multiple) continue;
        if (seen.has(t.name)) throw new CommandLineError(`--${t.name} is given twice; give it once`);
        seen.add(t.name);
    }
    return { values: parsed.values as OptionValues<O>, positionals: parsed.positionals };
}

type Token = ReturnType<typeof parseArgs>["tokens"] extends (infer T)[] | undefined ? T : never;

/** Why strict parsing refused the command line, from the lenient parse's tokens: the first argument it cannot take. */
function explain(spec: CommandSpec<OptionSpecs>, tokens: Token[] | undefined): string | undefined {
    for (const t of tokens ?? []) {
        if (t.kind === "positional" && !spec.positionals) return `unexpected argument ${JSON.stringify(t.value)}: this command takes options only`;
        if (t.kind !== "option") continue;
        const o = Object.hasOwn(spec.options, t.name) ? spec.options[t.name] : undefined;
        if (!o) return `unknown option ${t.rawName}`;
        const name = `--${t.name}`;
        const wanted = o.value ?? "a value";
        if (o.type === "boolean" && t.value !== undefined) return `${name} takes no value (given ${JSON.stringify(t.value)})`;
        if (o.type === "string" && t.value === undefined) return `${name} needs ${wanted}`;
        if (o.type === "string" && !t.inlineValue && t.value!.startsWith("-"))
            return `${name} needs ${wanted}, not the option-like ${JSON.stringify(t.value)} (write ${name}=${t.value} if that is the value)`;
    }
    return undefined;
}

function firstLine(err: unknown): string {
    return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}

/** The one line that refuses a command line: the command, what is wrong, and where the usage is. */
function commandLineRefusal(name: string, message: string): string {
    return `${name}: ${message} (try --help)\n`;
}

/** Where a command answers --help and a refused command line. */
export interface CommandStreams {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
}

/**
 * Reads `argv` by `spec` and answers what is not a command to run: on --help the usage goes to
 * `io.stdout` and the exit code is 0; a command line the command cannot take gets its refusal line on
 * `io.stderr` and exit code 2. Otherwise, the options and positionals.
 */
export function answerCommandLine<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[], io: CommandStreams): CommandLine<O> | number {
    let read: "help" | CommandLine<O>;
    try {
        read = readCommandLine(spec, argv);
    } catch (err) {
        return refuseCommandLine(spec.name, err, io);
    }
    if (read === "help") {
        io.stdout.write(spec.usage.endsWith("\n") ? spec.usage : `${spec.usage}\n`);
        return 0;
    }
    return read;
}

/**
 * Exit code 2 and the refusal line on `io.stderr` for a command line the command cannot take: `problem`
 * says what is wrong, or is the CommandLineError that does; anything else is rethrown.
 */
export function refuseCommandLine(name: string, problem: unknown, io: CommandStreams): number {
    if (typeof problem !== "string" && !(problem instanceof CommandLineError)) throw problem;
    io.stderr.write(commandLineRefusal(name, typeof problem === "string" ? problem : problem.message));
    return 2;
}

/** What a command's `main` writes to and the environment it reads: this process's own when it runs as its npm script. */
export interface CommandIo extends CommandStreams {
    env: NodeJS.ProcessEnv;
}

export const processIo = (): CommandIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/**
 * Runs `main` as this process's command (its arguments, streams and environment): the code it
 * resolves to is the exit code. `main` returns its code rather than exiting, so tests can run it in theirs.
 */
export function runAsProcess(main: (argv: string[], io: CommandIo) => Promise<number>): void {
    void main(process.argv.slice(2), processIo()).then((code) => {
        process.exitCode = code;
    });
}

/**
 * The command line of this process (or `argv`) read by `spec`: prints the usage and exits 0 on
 * --help, exits 2 with one line on anything the command cannot take. `fail` ends the command the
 * same way for a check of the values that only the command can make.
 */
export function commandLine<O extends OptionSpecs>(
    spec: CommandSpec<O>,
    argv: string[] = process.argv.slice(2),
): CommandLine<O> & { fail: (message: string) => never } {
    const read = answerCommandLine(spec, argv, process);
    if (typeof read === "number") process.exit(read);
    const fail = (message: string): never => {
        process.stderr.write(commandLineRefusal(spec.name, message));
        process.exit(2);
    };
    return { ...read, fail };
}

/** `text` as a whole number of at least `min`, or undefined. */
export function wholeNumber(text: string, min: number): number | undefined {
    const n = Number(text);
    return text.trim() !== "" && Number.isInteger(n) && n >= min ? n : undefined;
}

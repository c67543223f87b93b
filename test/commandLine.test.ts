// The one command-line parser (lib/commandLine.ts), in this process: what every command takes and
// refuses; and that every command in bin/ and bench/ reads its arguments through it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { commandLine, CommandLineError, CommandSpec, OptionSpecs, readCommandLine } from "../lib/commandLine";
import { REPO_ROOT } from "../lib/stackFiles";

const SPEC = {
    name: "example",
    usage: "usage: npm run example -- --stack <s> [--json]",
    options: {
        stack: { type: "string", short: "s", value: "a stack name" },
        json: { type: "boolean" },
        tag: { type: "string", multiple: true },
    },
} satisfies CommandSpec<OptionSpecs>;

const read = (argv: string[], spec: CommandSpec<OptionSpecs> = SPEC) => readCommandLine(spec, argv);

describe("command line (lib/commandLine.ts)", () => {
    const taken: [string, string[], object, string[]?][] = [
        ["a value after a space", ["--stack", "c2a7dv-hml"], { stack: "c2a7dv-hml" }],
        ["a value after =", ["--stack=c2a7dv-hml"], { stack: "c2a7dv-hml" }],
        ["the short form", ["-s", "c2a7dv-hml"], { stack: "c2a7dv-hml" }],
        ["a value that starts with - after =", ["--stack=-x"], { stack: "-x" }],
        ["an empty value", ["--stack", ""], { stack: "" }],
        ["a boolean", ["--json", "--stack", "a"], { json: true, stack: "a" }],
        ["an option that may repeat, repeated", ["--tag", "a", "--tag=b"], { tag: ["a", "b"] }],
        ["nothing", [], {}],
    ];
    for (const [what, argv, values] of taken)
        it(`takes ${what}: ${JSON.stringify(argv)}`, () => {
            const r = read(argv);
            assert.notEqual(r, "help");
            assert.deepEqual({ ...(r as { values: object }).values }, values);
        });

    const refused: [string, string[], RegExp][] = [
        ["an option given twice", ["--stack", "a", "--stack", "b"], /^--stack is given twice; give it once$/],
        ["an option given twice in both forms", ["--stack=a", "-s", "b"], /^--stack is given twice/],
        ["a boolean given twice", ["--json", "--json"], /^--json is given twice/],
        [
            "an option as another's value",
            ["--stack", "--json"],
            /^--stack needs a stack name, not the option-like "--json" \(write --stack=--json if that is the value\)$/,
        ],
        ["a value that starts with - after a space", ["--stack", "-x"], /^--stack needs a stack name, not the option-like "-x"/],
        ["a missing value", ["--json", "--stack"], /^--stack needs a stack name$/],
        ["a missing value of an option without a description", ["--tag"], /^--tag needs a value$/],
        ["an unknown option", ["--stak", "a"], /^unknown option --stak$/],
        ["an unknown short option", ["-x"], /^unknown option -x$/],
        ["a value for a boolean", ["--json=yes"], /^--json takes no value \(given "yes"\)$/],
        ["an argument that is not an option", ["c2a7dv-hml"], /^unexpected argument "c2a7dv-hml": this command takes options only$/],
        ["an argument after --", ["--", "--stack"], /^unexpected argument "--stack"/],
    ];
    for (const [what, argv, message] of refused)
        it(`refuses ${what}: ${JSON.stringify(argv)}`, () =>
            assert.throws(
                () => read(argv),
                (e: unknown) => e instanceof CommandLineError && message.test(e.message) && !e.message.includes("\n"),
            ));

    it("takes positionals only when the command takes them", () => {
        const r = read(["run", "--stack", "a", "up"], { ...SPEC, positionals: true });
        assert.ok(r !== "help");
        assert.deepEqual([{ ...r.values }, r.positionals], [{ stack: "a" }, ["run", "up"]]);
        assert.throws(() => read(["run"]), /unexpected argument "run"/);
    });

    for (const argv of [["--help"], ["-h"], ["--stack", "a", "--help"], ["--bogus", "--help"], ["--stack", "--help"]])
        it(`answers help first: ${JSON.stringify(argv)}`, () => assert.equal(read(argv), "help"));

    it("does not take --help after -- or as an = value for help", () => {
        assert.throws(() => read(["--", "--help"]), /unexpected argument "--help"/);
        assert.deepEqual({ ...(read(["--stack=--help"]) as { values: object }).values }, { stack: "--help" });
    });
});

describe("command line: how a command ends on --help and on a bad command line", () => {
    /** Runs commandLine() with process.exit and the output streams caught: the exit code and what was written. */
    function ended(argv: string[]): { code: number | undefined; stdout: string; stderr: string } {
        const out = { code: undefined as number | undefined, stdout: "", stderr: "" };
        const saved = { exit: process.exit, out: process.stdout.write, err: process.stderr.write };
        process.exit = ((code?: number) => {
            out.code = code;
            throw new Error("exit");
        }) as typeof process.exit;
        process.stdout.write = ((t: string) => ((out.stdout += t), true)) as typeof process.stdout.write;
        process.stderr.write = ((t: string) => ((out.stderr += t), true)) as typeof process.stderr.write;
        try {
            commandLine(SPEC, argv);
        } catch (err) {
            if ((err as Error).message !== "exit") throw err;
        } finally {
            Object.assign(process, { exit: saved.exit });
            process.stdout.write = saved.out;
            process.stderr.write = saved.err;
        }
        return out;
    }

    it("--help: the usage on stdout, exit 0", () => assert.deepEqual(ended(["--stack", "a", "--help"]), { code: 0, stdout: `${SPEC.usage}\n`, stderr: "" }));

    it("a bad command line: exit 2 and one line naming the option and what it expects", () =>
        assert.deepEqual(ended(["--stack", "--json"]), {
            code: 2,
            stdout: "",
            stderr: 'example: --stack needs a stack name, not the option-like "--json" (write --stack=--json if that is the value) (try --help)\n',
        }));

    it("a good command line: no exit, nothing written", () => assert.deepEqual(ended(["--stack", "a"]), { code: undefined, stdout: "", stderr: "" }));
});

describe("every command reads its command line through lib/commandLine.ts", () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const entries = Object.values(scripts)
        .map((s) => /^ts-node (?:--swc )?(\S+\.ts)$/.exec(s)?.[1])
        .filter((f): f is string => f !== undefined);

    it("every file in bin/ is an npm script, and the npm scripts name bin/ and bench/ files", () => {
        for (const f of fs.readdirSync(path.join(REPO_ROOT, "bin"))) assert.ok(entries.includes(`bin/${f}`), `bin/${f} has no npm script`);
        assert.ok(entries.filter((e) => e.startsWith("bench/")).length >= 2, entries.join(", "));
    });

    it("each entry calls commandLine(), and nothing else in bin/, bench/ or lib/ reads process.argv", () => {
        // commandLine(), or answerCommandLine() in a main(argv, io) that runAsProcess gives this process's arguments.
        const reads = (text: string) => /\bcommandLine\(/.test(text) || (/\brunAsProcess\(main\)/.test(text) && /\banswerCommandLine\(/.test(text));
        for (const e of entries)
            assert.ok(reads(fs.readFileSync(path.join(REPO_ROOT, e), "utf8")), `${e} does not read its command line through lib/commandLine.ts`);
        const readers = ["bin", "bench", "lib"]
            .flatMap((d) => fs.readdirSync(path.join(REPO_ROOT, d), { recursive: true, encoding: "utf8" }).map((f) => path.join(d, f)))
            .filter((f) => f.endsWith(".ts") && f !== path.join("lib", "commandLine.ts"))
            .filter((f) => /process\.argv|\bparseArgs\b/.test(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")));
        assert.deepEqual(readers, []);
    });
});

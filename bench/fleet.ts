/**
 * Fleet benchmark: what every fleet operation costs per stack, this tree's code side by side
 * with a baseline's (default: main) in the same run. Not a test:
 * `npm run bench:fleet -- [--sizes 200,1000] [--baseline <git-ref> | --no-baseline] [--commands plan,diff,threads,fleet] [--keep]`.
 *
 * --sizes counts environments (two stacks each). For each size N and each program (the
 * baseline's tree, exported with `git archive`, and this working tree) it copies the program
 * into a temporary git repository (node_modules linked), writes N environments with that
 * program's own new-environment template (c2a7dv plus N-1 generated; every other prod trails
 * its hml under an override), commits, and times, each in its own process:
 *   plan      plan --all --json            every stack rendered in one process, one thread
 *   threads   plan --all --json --threads 2  the same over two worker threads
 *   fleet     fleet --json                 the fleet view (config only)
 *   diff      plan --all --diff HEAD --json  every stack against the unchanged commit
 * Wall time, user+system CPU time and peak RSS (GNU time %M: the largest process of the tree)
 * of each, and the machine's load average before and after. CPU time is reported because the
 * machine is shared. It prints a markdown table (and writes bench/results-fleet.md) and removes
 * the temporary directories unless --keep.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandLine, wholeNumber } from "../lib/commandLine";
import { commitLabel, git, resolveCommit, workingTreeFiles, writeTree } from "../lib/git";
import { tsNodeCommand } from "../lib/tsNode";

const ROOT = path.resolve(__dirname, "..");
const { values, fail } = commandLine({
    name: "bench:fleet",
    usage: "usage: npm run bench:fleet -- [--sizes 200,1000] [--baseline <git-ref> | --no-baseline] [--commands plan,diff,threads,fleet] [--keep]",
    options: {
        sizes: { type: "string", value: "a comma-separated list of environment counts" },
        baseline: { type: "string", value: "a git ref" },
        "no-baseline": { type: "boolean" },
        commands: { type: "string", value: "a comma-separated list of plan, diff, threads, fleet" },
        keep: { type: "boolean" },
    },
});
if (values.baseline !== undefined && values["no-baseline"]) fail("--baseline and --no-baseline exclude each other");
const SIZES = (values.sizes ?? process.env.BENCH_FLEET_SIZES ?? "200,1000")
    .split(",")
    .map((n) => wholeNumber(n, 1) ?? fail(`--sizes needs environment counts of at least 1, not ${JSON.stringify(n)}`));
const BASELINE = values["no-baseline"] ? undefined : (values.baseline ?? "main");
const COMMANDS = (values.commands ?? "plan,diff").split(",");
const KEEP = values.keep ?? false;
const COMMAND_ARGS: Record<string, [string, string[]]> = {
    plan: ["plan --all --json", ["bin/plan.ts", "--all", "--json"]],
    threads: ["plan --all --json --threads 2", ["bin/plan.ts", "--all", "--json", "--threads", "2"]],
    fleet: ["fleet --json", ["bin/fleet.ts", "--json"]],
    diff: ["plan --all --diff HEAD --json", ["bin/plan.ts", "--all", "--diff", "HEAD", "--json"]],
};
for (const c of COMMANDS) if (!Object.hasOwn(COMMAND_ARGS, c)) fail(`--commands takes ${Object.keys(COMMAND_ARGS).join(", ")}, not ${JSON.stringify(c)}`);

interface Measure {
    program: string;
    environments: number;
    stacks: number;
    command: string;
    seconds: number;
    /** User + system CPU seconds of the process tree (less sensitive to other load than wall time). */
    cpuSeconds: number;
    peakMb: number;
    exit: number;
}

type EnvironmentFiles = (code: string, version: string, customerGroup: string) => Record<string, string>;

/** git in the benchmark's own repositories, committing as the benchmark. */
const benchGit = (dir: string, ...a: string[]) =>
    git(["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false", ...a], dir);

/** The files of the working tree `root` (for the baseline: everything, it has no .git). */
const programFiles = (root: string): string[] => workingTreeFiles(root).filter((f) => fs.statSync(path.join(root, f)).isFile());

/** The program in `root`, in a fresh git repository, with `n` environments written by its own template. */
function fleetCopy(root: string, n: number, environmentFiles: EnvironmentFiles): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `protheus-bench-fleet-${n}-`));
    for (const f of programFiles(root)) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(root, f), path.join(dir, f));
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules\n");
    for (let i = 1; i < n; i++) {
        const code = `e${String(i).padStart(4, "0")}`;
        const trailing = i % 2 === 1;
        const stacks = environmentFiles(code, trailing ? "12.1.2510" : "12.1.2410", `protheus-cliente-${code}@totvs.com.br`);
        fs.writeFileSync(path.join(dir, `Pulumi.${code}-hml.yaml`), stacks[`${code}-hml`]);
        let prod = stacks[`${code}-prod`];
        if (trailing) {
            prod = prod.replace("protheus:updateDesiredVersion: 12.1.2510", "protheus:updateDesiredVersion: 12.1.2410");
            prod += "  protheus:promotion:\n    override:\n      version: 12.1.2410\n      reason: prod ran 12.1.2410 before hml recorded its history\n";
        }
        fs.writeFileSync(path.join(dir, `Pulumi.${code}-prod.yaml`), prod);
    }
    benchGit(dir, "init", "-q");
    benchGit(dir, "add", "-A");
    benchGit(dir, "commit", "-qm", `fleet of ${n}`);
    return dir;
}

function measure(program: string, dir: string, n: number, label: string, cmdArgs: string[]): Measure {
    const [node, args] = tsNodeCommand(cmdArgs[0], cmdArgs.slice(1), ROOT);
    const res = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", node, ...args], {
        cwd: dir,
        encoding: "utf8",
        maxBuffer: 1 << 30,
        // The output is not kept: a pipe the benchmark holds would count against neither side.
        stdio: ["ignore", "ignore", "pipe"],
    });
    const last = res.stderr.trim().split("\n").pop() ?? "";
    const [seconds, kb, user, sys] = last.split(" ").map(Number);
    if (res.status !== 0 && res.status !== 1)
        process.stderr.write(`${label} (${program}, ${n} environments) exited ${res.status}:\n${res.stderr.slice(0, 2000)}\n`);
    return {
        program,
        environments: n,
        stacks: 2 * n,
        command: label,
        seconds,
        cpuSeconds: user + sys,
        peakMb: Math.round(kb / 1024),
        exit: res.status ?? -1,
    };
}

const loadAverage = () =>
    os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ");

function main(): void {
    const results: Measure[] = [];
    const dirs: string[] = [];
    const cleanup = () => {
        if (!KEEP) for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            cleanup();
            process.exit(signal === "SIGINT" ? 130 : 143);
        });
    }
    const loadBefore = loadAverage();
    const started = new Date().toISOString().slice(0, 16);
    try {
        const programs: { name: string; root: string }[] = [];
        if (BASELINE !== undefined) {
            const commit = resolveCommit(BASELINE, ROOT);
            const base = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-bench-baseline-"));
            dirs.push(base);
            programs.push({ name: commitLabel(BASELINE, commit), root: writeTree(commit, ROOT, base) });
        }
        programs.push({ name: "this tree", root: ROOT });
        for (const n of SIZES) {
            for (const program of programs) {
                // eslint-disable-next-line @typescript-eslint/no-require-imports -- each program writes its fleet with its own template
                const { environmentFiles } = require(path.join(program.root, "bin", "new-environment")) as { environmentFiles: EnvironmentFiles };
                const dir = fleetCopy(program.root, n, environmentFiles);
                dirs.push(dir);
                process.stderr.write(`${program.name}: fleet of ${n} environments (${2 * n} stacks) in ${dir}\n`);
                for (const c of COMMANDS) {
                    const [label, a] = COMMAND_ARGS[c];
                    const m = measure(program.name, dir, n, label, [...a]);
                    process.stderr.write(`  ${label}: ${m.seconds} s, ${m.cpuSeconds.toFixed(1)} s CPU, ${m.peakMb} MB, exit ${m.exit}\n`);
                    results.push(m);
                }
                if (!KEEP) {
                    fs.rmSync(dir, { recursive: true, force: true });
                    dirs.splice(dirs.indexOf(dir), 1);
                }
            }
        }
    } finally {
        cleanup();
    }
    const ms = (s: number, stacks: number) => ((1000 * s) / stacks).toFixed(0);
    const lines = [
        `Fleet benchmark, ${started}Z, ${os.cpus().length} cores, load average (1, 5, 15 min) before ${loadBefore}, after ${loadAverage()}`,
        "",
        "| command | program | stacks | wall s | wall ms per stack | CPU s | CPU ms per stack | peak RSS MB | exit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...results.map(
            (m) =>
                `| \`${m.command}\` | ${m.program} | ${m.stacks} | ${m.seconds.toFixed(1)} | ${ms(m.seconds, m.stacks)} | ${m.cpuSeconds.toFixed(1)} | ${ms(m.cpuSeconds, m.stacks)} | ${m.peakMb} | ${m.exit} |`,
        ),
    ];
    const small = Math.min(...SIZES);
    const large = Math.max(...SIZES);
    // Growth needs two fleet sizes: one size alone has none to report.
    if (large > small) lines.push("", "Growth from the smallest to the largest fleet, per added stack:", "");
    for (const key of large > small ? [...new Set(results.map((m) => `${m.command}\0${m.program}`))] : []) {
        const [command, program] = key.split("\0");
        const a = results.find((m) => m.command === command && m.program === program && m.environments === small)!;
        const b = results.find((m) => m.command === command && m.program === program && m.environments === large)!;
        const added = 2 * (large - small);
        lines.push(
            `- \`${command}\`, ${program}: CPU ${ms(b.cpuSeconds - a.cpuSeconds, added)} ms, wall ${ms(b.seconds - a.seconds, added)} ms, ` +
                `peak memory ${((1024 * (b.peakMb - a.peakMb)) / added).toFixed(0)} kB (${a.peakMb} → ${b.peakMb} MB)`,
        );
    }
    const table = lines.join("\n") + "\n";
    fs.writeFileSync(path.join(ROOT, "bench", "results-fleet.md"), table);
    process.stdout.write(table);
}

main();

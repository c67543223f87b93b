/**
 * Fleet benchmark: what every fleet operation costs per stack. Not a test:
 * `npm run bench:fleet -- [--sizes 10,50,100] [--keep]`.
 *
 * For each size N it copies the program into a temporary git repository
 * (node_modules linked), writes N environments (c2a7dv plus N-1 generated
 * with the new-environment template: 2N stacks; every other prod trails its hml
 * under an override), commits, and times, each in its own process:
 *   plan --all --json            every stack rendered in one process, one thread
 *   plan --all --json --threads 2  the same over two worker threads
 *   fleet --json                 the fleet view (config only)
 *   plan --all --diff HEAD --json  every stack against the unchanged commit (two child processes)
 * Wall time, user+system CPU time and peak RSS (GNU time %M: the largest
 * process of the tree) of each. CPU time is reported because the machine is shared.
 * It prints a markdown table (and writes bench/results-fleet.md) and removes the
 * temporary repositories unless --keep.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { environmentFiles } from "../bin/new-environment";
import { tsNodeCommand } from "../lib/tsNode";

const ROOT = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
};
const SIZES = opt("sizes", process.env.BENCH_FLEET_SIZES ?? "10,50,100")
    .split(",")
    .map(Number);
const KEEP = args.includes("--keep");

interface Measure {
    environments: number;
    stacks: number;
    command: string;
    seconds: number;
    /** User + system CPU seconds of the process tree (less sensitive to other load than wall time). */
    cpuSeconds: number;
    peakMb: number;
    exit: number;
}

function git(dir: string, ...a: string[]): string {
    return execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false", ...a], {
        cwd: dir,
        encoding: "utf8",
    });
}

/** The program as in the working tree now, in a fresh git repository, with `n` environments. */
function fleetCopy(n: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `protheus-bench-fleet-${n}-`));
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
        .split("\0")
        .filter((f) => f !== "" && !f.startsWith("node_modules") && fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile());
    for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
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
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", `fleet of ${n}`);
    return dir;
}

function measure(dir: string, n: number, label: string, cmdArgs: string[]): Measure {
    const [node, args] = tsNodeCommand(cmdArgs[0], cmdArgs.slice(1), ROOT);
    const res = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", node, ...args], {
        cwd: dir,
        encoding: "utf8",
        maxBuffer: 1 << 30,
    });
    const last = res.stderr.trim().split("\n").pop() ?? "";
    const [seconds, kb, user, sys] = last.split(" ").map(Number);
    if (res.status !== 0 && res.status !== 1) process.stderr.write(`${label} (${n} environments) exited ${res.status}:\n${res.stderr.slice(0, 2000)}\n`);
    return { environments: n, stacks: 2 * n, command: label, seconds, cpuSeconds: user + sys, peakMb: Math.round(kb / 1024), exit: res.status ?? -1 };
}

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
    try {
        for (const n of SIZES) {
            const dir = fleetCopy(n);
            dirs.push(dir);
            process.stderr.write(`fleet of ${n} environments (${2 * n} stacks) in ${dir}\n`);
            for (const [label, a] of [
                ["plan --all --json", ["bin/plan.ts", "--all", "--json"]],
                ["plan --all --json --threads 2", ["bin/plan.ts", "--all", "--json", "--threads", "2"]],
                ["fleet --json", ["bin/fleet.ts", "--json"]],
                ["plan --all --diff HEAD --json", ["bin/plan.ts", "--all", "--diff", "HEAD", "--json"]],
            ] as const) {
                const m = measure(dir, n, label, [...a]);
                process.stderr.write(`  ${label}: ${m.seconds} s, ${m.cpuSeconds.toFixed(1)} s CPU, ${m.peakMb} MB, exit ${m.exit}\n`);
                results.push(m);
            }
        }
    } finally {
        cleanup();
    }
    const lines = [
        `Fleet benchmark, ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, load average at the end ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")}`,
        "",
        "| command | environments | stacks | wall s | wall s per stack | CPU s | CPU s per stack | peak RSS MB | exit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...results.map(
            (m) =>
                `| \`${m.command}\` | ${m.environments} | ${m.stacks} | ${m.seconds.toFixed(1)} | ${(m.seconds / m.stacks).toFixed(3)} | ${m.cpuSeconds.toFixed(1)} | ${(m.cpuSeconds / m.stacks).toFixed(3)} | ${m.peakMb} | ${m.exit} |`,
        ),
    ];
    const small = Math.min(...SIZES);
    const large = Math.max(...SIZES);
    // Growth needs two fleet sizes: one size alone has none to report.
    if (large > small)
        lines.push(
            "",
            "Growth from the smallest to the largest fleet (linear growth: the ratio approaches the stack ratio; a constant start-up keeps it below):",
            "",
        );
    for (const command of large > small ? [...new Set(results.map((m) => m.command))] : []) {
        const a = results.find((m) => m.command === command && m.environments === small)!;
        const b = results.find((m) => m.command === command && m.environments === large)!;
        lines.push(
            `- \`${command}\`: wall ×${(b.seconds / a.seconds).toFixed(2)}, CPU ×${(b.cpuSeconds / a.cpuSeconds).toFixed(2)} for stacks ×${(large / small).toFixed(0)}; ` +
                `marginal CPU per added stack ${((b.cpuSeconds - a.cpuSeconds) / (2 * (large - small))).toFixed(3)} s; peak memory ×${(b.peakMb / a.peakMb).toFixed(2)}`,
        );
    }
    const table = lines.join("\n") + "\n";
    fs.writeFileSync(path.join(ROOT, "bench", "results-fleet.md"), table);
    process.stdout.write(table);
}

main();

// Fleet view: `npm run --silent fleet [-- --json | --markdown]`.
// One line per environment, from the stack files (Pulumi.yaml's config under
// each Pulumi.<environment>-<stage>.yaml), validated by the program's schema:
// versions of hml and prod, how far prod trails hml, updater switches on,
// backup targets, the deploy wave, the keys a stack file overrides of what
// Pulumi.yaml shares, and a promotion override in force. No render, no state.
// Exit 0: printed; 2: a stack file is invalid (every problem listed, nothing printed on stdout).
import { answerCommandLine, CommandIo, processIo, refuseCommandLine, runAsProcess } from "../lib/commandLine";
import * as fs from "fs";
import * as semver from "semver";
import { isDeepStrictEqual } from "util";
import { ConfigError, parseStackConfig, sharedLayers } from "../config/load";
import type { StackConfig } from "../config/schema";
import { FleetStage, listFleet, stackNameProblem, STAGES } from "../lib/fleet";
import { clusterLabel } from "../lib/clusterName";
import { isPlainObject } from "../lib/plainObject";
import { readProjectConfig, readStackFile, REPO_ROOT, stackConfigFromYaml, stackFilePath } from "../lib/stackFiles";

export interface StageView {
    stack: string;
    version: string;
    /** The GKE cluster the stack deploys to: project/location/name. */
    cluster: string;
    /** Updater switches that are on: "sleeper", "suspend". */
    switches: string[];
    backupTargets: string[];
    /** The deploy wave (protheus:rollout.wave). */
    wave: number;
    /** Key paths the stack file sets to a value other than the one Pulumi.yaml shares (protheus:defaults, stageDefaults). */
    overrides: string[];
    /** Key paths the stack file sets to the value Pulumi.yaml shares anyway: can go. */
    repeats: string[];
}

/** Who an environment is: the keys every stack file names, so not reported as its own. */
const IDENTITY_KEYS = new Set(["stage", "namespace", "updateDesiredVersion", "access.groups.cliente"]);

/** Leaf key paths of `value` (objects walked, lists and scalars are leaves), with their values. */
function leaves(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
    return Object.entries(value).flatMap(([k, v]) =>
        isPlainObject(v) && Object.keys(v).length > 0 ? leaves(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
    );
}

function valueAt(root: unknown, keyPath: string): unknown {
    return keyPath.split(".").reduce<unknown>((cur, k) => (isPlainObject(cur) ? cur[k] : undefined), root);
}

/** What the stack file of `stack` sets against what Pulumi.yaml shares with its stage: overridden and repeated key paths. */
export function stackOverrides(stack: string, dir = REPO_ROOT): { overrides: string[]; repeats: string[] } {
    const project = Object.fromEntries(
        Object.entries(readProjectConfig(dir))
            .filter(([k]) => k.startsWith("protheus:"))
            .map(([k, v]) => [k.slice("protheus:".length), v]),
    );
    const own = Object.fromEntries(
        Object.entries(stackConfigFromYaml(stack, fs.readFileSync(stackFilePath(stack, dir), "utf8")).config).map(([k, v]) => {
            const key = k.slice("protheus:".length);
            try {
                return [key, v.startsWith("{") || v.startsWith("[") ? JSON.parse(v) : v];
            } catch {
                return [key, v];
            }
        }),
    );
    const { shared } = sharedLayers(project, own.stage);
    const overrides: string[] = [];
    const repeats: string[] = [];
    for (const [keyPath, value] of leaves(own)) {
        if (IDENTITY_KEYS.has(keyPath)) continue;
        const sharedValue = valueAt(shared, keyPath);
        if (sharedValue === undefined) continue;
        (isDeepStrictEqual(sharedValue, value) ? repeats : overrides).push(keyPath);
    }
    return { overrides, repeats };
}

export interface EnvironmentView {
    environment: string;
    hml: StageView | null;
    prod: StageView | null;
    /**
     * How many releases prod trails hml: the versions named anywhere in the
     * fleet that are newer than prod's and at most hml's (0: same version;
     * negative: prod is ahead, through an override). null without both stages.
     */
    prodTrailsBy: number | null;
    override: { version: string; reason: string } | null;
}

function stageView(stack: string, cfg: StackConfig, dir: string): StageView {
    return {
        stack,
        version: cfg.updateDesiredVersion,
        cluster: clusterLabel(cfg.cluster),
        switches: (["sleeper", "suspend"] as const).filter((s) => cfg.updater[s]),
        backupTargets: cfg.backup ? [...cfg.backup.targets] : [],
        wave: cfg.rollout.wave,
        ...stackOverrides(stack, dir),
    };
}

/** Releases between `from` (exclusive) and `to` (inclusive) among `known`; negative when `from` is ahead. */
export function releasesBetween(from: string, to: string, known: string[]): number {
    if (semver.eq(from, to)) return 0;
    const [lo, hi, sign] = semver.lt(from, to) ? [from, to, 1] : [to, from, -1];
    const between = new Set(known.filter((v) => semver.gt(v, lo) && semver.lte(v, hi)));
    between.add(hi);
    return sign * between.size;
}

/** The fleet of the repository in `dir`, or a ConfigError listing every invalid stack's problems. */
export function fleetView(dir = REPO_ROOT): EnvironmentView[] {
    const problems: string[] = [];
    const configs = new Map<string, { stage: FleetStage; cfg: StackConfig }>();
    const stacks = listFleet(dir);
    for (const s of stacks) {
        const input = readStackFile(s.name, dir);
        try {
            const cfg = parseStackConfig(input.config, (k) => input.secretKeys.includes(k));
            const named = stackNameProblem(s.name, cfg.stage);
            if (named) problems.push(named);
            else configs.set(s.name, { stage: s.stage, cfg });
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            problems.push(...err.problems.map((p) => `${s.name}: ${p}`));
        }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    const known = [...configs.values()].map((c) => c.cfg.updateDesiredVersion);
    const environments = [...new Set(stacks.map((s) => s.environment))].sort();
    return environments.map((environment) => {
        const of = (stage: FleetStage) => {
            const name = `${environment}-${stage}`;
            const c = configs.get(name);
            return c ? { name, cfg: c.cfg } : undefined;
        };
        const [hml, prod] = STAGES.map(of);
        const override = prod?.cfg.promotion?.override;
        return {
            environment,
            hml: hml ? stageView(hml.name, hml.cfg, dir) : null,
            prod: prod ? stageView(prod.name, prod.cfg, dir) : null,
            prodTrailsBy: hml && prod ? releasesBetween(prod.cfg.updateDesiredVersion, hml.cfg.updateDesiredVersion, known) : null,
            override: override ? { version: override.version, reason: override.reason } : null,
        };
    });
}

const HEADER = ["environment", "hml", "prod", "prod trails by", "clusters", "switches on", "backup targets", "wave", "overrides", "override"];

function row(e: EnvironmentView): string[] {
    const perStage = (f: (v: StageView) => string) =>
        STAGES.map((st) => (e[st] ? `${st}: ${f(e[st]!)}` : null))
            .filter((x): x is string => x !== null && !x.endsWith(": "))
            .join("; ");
    return [
        e.environment,
        e.hml?.version ?? "-",
        e.prod?.version ?? "-",
        e.prodTrailsBy === null
            ? "-"
            : e.prodTrailsBy === 0
              ? "0"
              : e.prodTrailsBy > 0
                ? `${e.prodTrailsBy} release${e.prodTrailsBy === 1 ? "" : "s"}`
                : `ahead by ${-e.prodTrailsBy}`,
        perStage((v) => v.cluster),
        perStage((v) => v.switches.join(", ")) || "-",
        perStage((v) => v.backupTargets.join(", ") || "none"),
        perStage((v) => String(v.wave)),
        perStage((v) => [...v.overrides, ...v.repeats.map((r) => `${r} (= shared)`)].join(", ")) || "-",
        e.override ? `${e.override.version}: ${e.override.reason}` : "-",
    ];
}

export function formatText(view: EnvironmentView[]): string {
    const rows = [HEADER, ...view.map(row)];
    const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n") + "\n";
}

export function formatMarkdown(view: EnvironmentView[]): string {
    const cell = (s: string) => s.replace(/\|/g, "\\|");
    const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
    return [line(HEADER), line(HEADER.map(() => "---")), ...view.map((e) => line(row(e)))].join("\n") + "\n";
}

const FLEET_USAGE = "usage: npm run --silent fleet [-- --json | --markdown]";

const COMMAND_LINE = { name: "fleet", usage: FLEET_USAGE, options: { json: { type: "boolean" }, markdown: { type: "boolean" } } } as const;

/** The command: reads `argv` (the arguments after the script), writes to `io`'s streams, and resolves to the exit code. */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    if (typeof read === "number") return read;
    const { values } = read;
    if (values.json && values.markdown) {
        return refuseCommandLine(COMMAND_LINE.name, "--json and --markdown exclude each other", io);
    }
    let view: EnvironmentView[];
    try {
        view = fleetView();
    } catch (err) {
        io.stderr.write(`fleet: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
        return 2;
    }
    if (values.json) io.stdout.write(JSON.stringify(view) + "\n");
    else if (values.markdown) io.stdout.write(formatMarkdown(view));
    else io.stdout.write(formatText(view));
    return 0;
}

if (require.main === module) runAsProcess(main);

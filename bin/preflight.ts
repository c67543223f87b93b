// Preflight: `npm run --silent preflight -- --stack <stack> | --stacks a,b | --all`.
// Before a preview or an update, checks with the deploy's registry credentials that what the
// stack's update will pull exists: the chart version (oci:// chart repository) and the updater
// image tag. One line per check. Exit 0: all present; 1: something is missing; 2: something
// could not be checked (registry down, credentials refused, invalid stack file).
// `--chart-registry-host --stack <stack>` prints the host of the stack's oci:// chart repository
// (the host CI logs in to with `helm registry login`).
import { answerCommandLine, CommandIo, processIo, refuseCommandLine, runAsProcess } from "../lib/commandLine";
import { ConfigError, parseStackConfig } from "../config/load";
import type { StackConfig } from "../config/schema";
import { listStackNames } from "../lib/fleet";
import {
    chartManifest,
    checkManifest,
    deployCredentials,
    formatRef,
    imageManifest,
    ManifestRef,
    ociRegistryHost,
    RegistryCredentials,
    updaterImage,
} from "../lib/registry";
import { readStackFile, REPO_ROOT } from "../lib/stackFiles";

export interface PreflightOptions {
    dir?: string;
    env?: NodeJS.ProcessEnv;
}

export interface PreflightResult {
    lines: string[];
    code: 0 | 1 | 2;
}

function stackConfig(stack: string, dir: string): StackConfig {
    const input = readStackFile(stack, dir);
    return parseStackConfig(input.config, (k) => input.secretKeys.includes(k));
}

/** What an update of the stack pulls: the chart version and the updater image. */
export function stackArtifacts(cfg: StackConfig): { what: string; ref: ManifestRef | undefined; source: string }[] {
    const image = updaterImage({ image: cfg.updater.image, tag: cfg.updater.tag, updateDesiredVersion: cfg.updateDesiredVersion });
    const colon = image.lastIndexOf(":");
    return [
        {
            what: "chart",
            ref: chartManifest(cfg.chart.repo, cfg.chart.name, cfg.updateDesiredVersion),
            source: `${cfg.chart.repo}/${cfg.chart.name}:${cfg.updateDesiredVersion}`,
        },
        { what: "updater image", ref: imageManifest(image.slice(0, colon), image.slice(colon + 1)), source: image },
    ];
}

export async function preflight(stacks: string[], opts: PreflightOptions = {}): Promise<PreflightResult> {
    const dir = opts.dir ?? REPO_ROOT;
    const env = opts.env ?? process.env;
    const lines: string[] = [];
    let missing = false;
    let unchecked = false;
    let credentials: RegistryCredentials | { problem: string } | undefined;
    const plainHttpHosts = (env.PREFLIGHT_PLAIN_HTTP_HOSTS ?? "").split(",").filter(Boolean);
    for (const stack of stacks) {
        let cfg: StackConfig;
        try {
            cfg = stackConfig(stack, dir);
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            lines.push(`${stack}  config  could not check: ${err.problems.join("; ")}`);
            unchecked = true;
            continue;
        }
        for (const a of stackArtifacts(cfg)) {
            if (!a.ref) {
                lines.push(`${stack}  ${a.what}  ${a.source}  could not check: only oci:// chart repositories are checked`);
                unchecked = true;
                continue;
            }
            credentials ??= deployCredentials(env);
            const outcome =
                "problem" in credentials
                    ? { status: "unchecked" as const, detail: credentials.problem }
                    : await checkManifest(a.ref, { credentials, plainHttpHosts });
            if (outcome.status === "present") lines.push(`${stack}  ${a.what}  ${formatRef(a.ref)}  present`);
            else if (outcome.status === "missing") {
                lines.push(`${stack}  ${a.what}  ${formatRef(a.ref)}  MISSING: ${outcome.detail}`);
                missing = true;
            } else {
                lines.push(`${stack}  ${a.what}  ${formatRef(a.ref)}  could not check: ${outcome.detail}`);
                unchecked = true;
            }
        }
    }
    return { lines, code: missing ? 1 : unchecked ? 2 : 0 };
}

/** The host of the stack's oci:// chart repository, or an error naming the stack's value. */
export function chartRegistryHost(stack: string, dir = REPO_ROOT): string {
    const cfg = stackConfig(stack, dir);
    const host = ociRegistryHost(cfg.chart.repo);
    if (!host) throw new Error(`${stack}: protheus:chart.repo ${cfg.chart.repo} is not an oci:// repository; no registry login needed`);
    return host;
}

const USAGE = "usage: npm run --silent preflight -- --stack <stack> [--stack <stack>...] | --stacks a,b | --all  (or --chart-registry-host --stack <stack>)";

const COMMAND_LINE = {
    name: "preflight",
    usage: USAGE,
    options: {
        stack: { type: "string", multiple: true, value: "a stack name" },
        stacks: { type: "string", value: "a comma-separated list of stacks" },
        all: { type: "boolean" },
        "chart-registry-host": { type: "boolean" },
    },
} as const;

/**
 * The command: reads `argv` (the arguments after the script), checks with the registry credentials
 * of `io.env`, writes to `io`'s streams, and resolves to the exit code.
 */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    if (typeof read === "number") return read;
    const { values } = read;
    const refuse = (message: string) => refuseCommandLine(COMMAND_LINE.name, message, io);
    const stacks = [...(values.stack ?? []), ...(values.stacks ?? "").split(",").filter(Boolean)];
    const all = values.all ?? false;
    const hostOnly = values["chart-registry-host"] ?? false;
    const known = listStackNames(REPO_ROOT);
    const chosen = all ? known : stacks;
    const unknown = chosen.filter((s) => !known.includes(s));
    if (unknown.length > 0) return refuse(`no stack file for ${unknown.join(", ")} (stacks: ${known.join(", ")})`);
    if (hostOnly) {
        if (chosen.length !== 1) return refuse("--chart-registry-host takes exactly one --stack");
        try {
            io.stdout.write(`${chartRegistryHost(chosen[0])}\n`);
            return 0;
        } catch (err) {
            // The stack's config, not the command line: no usage hint.
            io.stderr.write(`preflight: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
            return 2;
        }
    }
    if (!all && values.stacks === undefined && chosen.length === 0) return refuse("name the stacks to check");
    const result = await preflight(chosen, { env: io.env });
    for (const l of result.lines) io.stdout.write(`${l}\n`);
    if (chosen.length === 0) io.stdout.write("preflight: no stacks to check\n");
    return result.code;
}

if (require.main === module) runAsProcess(main);

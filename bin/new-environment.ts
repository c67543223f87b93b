// New environment: `npm run new-environment -- <code> [--version <v>] [--customer-group <e-mail>]`.
// Writes Pulumi.<code>-hml.yaml and Pulumi.<code>-prod.yaml holding only what
// differs from Pulumi.yaml's shared config, after validating both with the
// program's schema and rendering both once offline (in a temporary copy).
// Exit 0: both written; 2: refused (bad or existing code, invalid config,
// render failure, usage), and nothing written.
import { answerCommandLine, CommandIo, processIo, refuseCommandLine, runAsProcess } from "../lib/commandLine";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as semver from "semver";
import { ConfigError, parseStackConfig } from "../config/load";
import { environmentCodeProblem, listFleet, stackFileOf, stackName, STAGES } from "../lib/fleet";
import { RenderError, renderProgram } from "../lib/render";
import { readStackFile, REPO_ROOT } from "../lib/stackFiles";

export interface NewEnvironmentOptions {
    code: string;
    /** The version both stages start at; default: the version most prod stacks run. */
    version?: string;
    /** The customer's Google Group; default protheus-cliente-<code>@totvs.com.br. */
    customerGroup?: string;
}

export class NewEnvironmentError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "NewEnvironmentError";
    }
}

/** The two stack files of a new environment: what is its own (what every stack of a stage shares is in Pulumi.yaml's protheus:stageDefaults). */
export function environmentFiles(code: string, version: string, customerGroup: string): Record<string, string> {
    const hml = `# Environment ${code}, homologation: a release is tried here before production.
# Everything not set here comes from protheus:stageDefaults.hml and
# protheus:defaults in Pulumi.yaml.
config:
  protheus:stage: hml
  protheus:namespace: ${code}-hml
  protheus:updateDesiredVersion: ${version}
  protheus:access:
    groups:
      cliente: ${customerGroup}
`;
    const prod = `# Environment ${code}, production. Everything not set here comes from
# protheus:stageDefaults.prod and protheus:defaults in Pulumi.yaml, laid under
# this file field by field.
config:
  protheus:stage: prod
  protheus:namespace: ${code}
  protheus:updateDesiredVersion: ${version}
  protheus:access:
    groups:
      cliente: ${customerGroup}
  protheus:backup:
    rubrik:
      exportPath: /export/protheus/${code}
`;
    return { [stackName(code, "hml")]: hml, [stackName(code, "prod")]: prod };
}

/** The version most prod stacks of the repository run (the newest on a tie); undefined in an empty fleet. */
export function fleetVersion(dir: string): string | undefined {
    const counts = new Map<string, number>();
    for (const s of listFleet(dir).filter((s) => s.stage === "prod")) {
        const v = readStackFile(s.name, dir).config["protheus:updateDesiredVersion"];
        if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1] || semver.rcompare(a[0], b[0]))[0]?.[0];
}

/** Validates and renders the new environment in a temporary copy; returns the files to write, or throws with every reason. */
export async function prepareEnvironment(opts: NewEnvironmentOptions, dir = REPO_ROOT): Promise<Record<string, string>> {
    const codeProblem = environmentCodeProblem(opts.code);
    if (codeProblem) throw new NewEnvironmentError(codeProblem);
    const existing = STAGES.map((st) => stackFileOf(dir, stackName(opts.code, st))).filter((f) => fs.existsSync(f));
    if (existing.length > 0) throw new NewEnvironmentError(`environment ${opts.code} exists already: ${existing.map((f) => path.basename(f)).join(", ")}`);
    const namespaces = new Map(listFleet(dir).map((s) => [readStackFile(s.name, dir).config["protheus:namespace"], s.name]));
    for (const ns of [opts.code, `${opts.code}-hml`]) {
        if (namespaces.has(ns)) throw new NewEnvironmentError(`namespace ${ns} is already used by stack ${namespaces.get(ns)}`);
    }
    const version = opts.version ?? fleetVersion(dir);
    if (!version) throw new NewEnvironmentError("no prod stack to take a version from: pass --version <version>");
    const files = environmentFiles(opts.code, version, opts.customerGroup ?? `protheus-cliente-${opts.code}@totvs.com.br`);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "protheus-new-environment-"));
    try {
        fs.copyFileSync(path.join(dir, "Pulumi.yaml"), path.join(tmp, "Pulumi.yaml"));
        for (const [stack, text] of Object.entries(files)) fs.writeFileSync(stackFileOf(tmp, stack), text);
        const problems: string[] = [];
        // The same schema first (every problem at once), then one offline render of each stack.
        for (const stack of Object.keys(files)) {
            const input = readStackFile(stack, tmp);
            try {
                parseStackConfig(input.config, (k) => input.secretKeys.includes(k));
            } catch (err) {
                if (!(err instanceof ConfigError)) throw err;
                problems.push(...err.problems.map((p) => `${stack}: ${p}`));
            }
        }
        if (problems.length === 0) {
            for (const stack of Object.keys(files)) {
                try {
                    await renderProgram(readStackFile(stack, tmp));
                } catch (err) {
                    problems.push(`${stack}: ${err instanceof RenderError ? err.message : (err as Error).message}`);
                }
            }
        }
        if (problems.length > 0)
            throw new NewEnvironmentError(`environment ${opts.code} is not valid; nothing was written:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return files;
}

/** Writes both files, or neither: each is written beside its target and renamed into place. */
export function writeEnvironment(files: Record<string, string>, dir = REPO_ROOT): string[] {
    const written: string[] = [];
    const staged: (readonly [string, string])[] = [];
    try {
        for (const [stack, text] of Object.entries(files)) {
            const target = stackFileOf(dir, stack);
            fs.writeFileSync(`${target}.partial`, text, { flag: "wx" });
            staged.push([`${target}.partial`, target]);
        }
    } catch (err) {
        for (const [partial] of staged) fs.rmSync(partial, { force: true });
        throw err;
    }
    for (const [partial, target] of staged) {
        fs.renameSync(partial, target);
        written.push(path.basename(target));
    }
    return written;
}

const USAGE = "usage: npm run new-environment -- <code> [--version <version>] [--customer-group <e-mail>]";

const COMMAND_LINE = {
    name: "new-environment",
    usage: USAGE,
    options: { version: { type: "string", value: "a version" }, "customer-group": { type: "string", value: "an e-mail address" } },
    positionals: true,
} as const;

/**
 * The command: reads `argv` (the arguments after the script), writes the environment's stack files
 * to the repository, its messages to `io`'s streams, and resolves to the exit code.
 */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    if (typeof read === "number") return read;
    const { values, positionals } = read;
    const refusal =
        positionals.length === 0
            ? "the environment code is required"
            : positionals.length > 1
              ? `unexpected argument ${positionals[1]}: give one environment code`
              : undefined;
    if (refusal) {
        return refuseCommandLine(COMMAND_LINE.name, refusal, io);
    }
    const opts: NewEnvironmentOptions = { code: positionals[0], version: values.version, customerGroup: values["customer-group"] };
    const dir = REPO_ROOT;
    try {
        const written = writeEnvironment(await prepareEnvironment(opts, dir), dir);
        io.stdout.write(
            `new-environment: wrote ${written.join(" and ")}\n` +
                `next: review them, open a pull request, then \`pulumi stack init ${stackName(opts.code, "hml")}\` and \`pulumi stack init ${stackName(opts.code, "prod")}\`\n`,
        );
        return 0;
    } catch (err) {
        io.stderr.write(`new-environment: ${err instanceof NewEnvironmentError ? err.message : ((err as Error).stack ?? err)}\n`);
        return 2;
    }
}

if (require.main === module) runAsProcess(main);

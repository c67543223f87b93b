// Reads the operations guide (docs/operacao.md) the way an operator does:
// every shell block, the team each block names (`# equipe: ...`), and the
// commands in it. The guide test checks each kubectl command against the
// rendered Role of each team named, and each `pulumi config` command against
// the config schema.
import { ApiRequest, kubectlInvocations, kubectlRequests, namespaceOf } from "./kubectlRequests";

export interface GuideCommand {
    /** 1-based line in the guide. */
    line: number;
    text: string;
    /** Display names from the block's `# equipe:` line. */
    teams: string[];
    /** Index of the shell block in the guide (commands of one block run in order). */
    block: number;
}

const TEAM_LINE = /^#\s*equipes?:\s*(.+)$/i;

/** The commands of every ```sh block, with the teams the block names. */
export function guideCommands(markdown: string): GuideCommand[] {
    const out: GuideCommand[] = [];
    let inBlock = false;
    let teams: string[] = [];
    let block = -1;
    markdown.split("\n").forEach((raw, i) => {
        const line = raw.trim();
        if (line.startsWith("```")) {
            inBlock = !inBlock && /^```(sh|bash|shell)\s*$/.test(line);
            if (inBlock) {
                block++;
                teams = [];
            }
            return;
        }
        if (!inBlock || line === "") return;
        const m = TEAM_LINE.exec(line);
        if (m) {
            teams = m[1]
                .split(",")
                .map((t) => t.trim())
                .filter(Boolean);
            return;
        }
        if (line.startsWith("#")) return;
        out.push({ line: i + 1, text: line, teams, block });
    });
    return out;
}

/** A Role rule as rendered (rbac.authorization.k8s.io/v1). */
export interface RoleRule {
    apiGroups?: string[];
    resources?: string[];
    verbs?: string[];
    resourceNames?: string[];
}

export function ruleAllows(rule: RoleRule, r: ApiRequest): boolean {
    if (!(rule.apiGroups ?? []).includes(r.apiGroup)) return false;
    if (!(rule.resources ?? []).includes(r.resource)) return false;
    if (!(rule.verbs ?? []).includes(r.verb)) return false;
    // resourceNames limit a rule to named requests: a list, a create or an unnamed delete never match.
    if (rule.resourceNames && rule.resourceNames.length > 0) return r.name !== undefined && rule.resourceNames.includes(r.name);
    return true;
}

/**
 * Shell variables the guide sets from kubectl output, and what kubectl then sees:
 * JOB holds `-o name` of a Job (job.batch/<name>), POD a pod name.
 */
const VARIABLES: Record<string, string> = { JOB: "job.batch/JOB", POD: "POD" };

function substitute(words: string[]): string[] {
    return words.map((w) => w.replace(/\$\{?([A-Z_]+)\}?/g, (all, v: string) => VARIABLES[v] ?? all));
}

export interface KubectlCheck {
    command: GuideCommand;
    namespace?: string;
    requests: ApiRequest[];
    words: string[];
}

/** Every kubectl invocation of the guide, with what it asks the API server. */
export function kubectlChecks(markdown: string): KubectlCheck[] {
    const out: KubectlCheck[] = [];
    for (const command of guideCommands(markdown)) {
        for (const raw of kubectlInvocations(command.text)) {
            const words = substitute(raw);
            out.push({ command, words, namespace: namespaceOf(words), requests: kubectlRequests(words) });
        }
    }
    return out;
}

/** Requests a team's rules do not allow, as readable lines. */
export function refusals(check: KubectlCheck, rules: RoleRule[]): string[] {
    return check.requests
        .filter((r) => !rules.some((rule) => ruleAllows(rule, r)))
        .map((r) => `${r.verb} ${r.apiGroup ? `${r.apiGroup}/` : ""}${r.resource}${r.name ? ` ${r.name}` : ""}`);
}

/** A `pulumi config set|rm` command of the guide, as Pulumi applies it to Pulumi.<stack>.yaml. */
export interface ConfigCommand {
    command: GuideCommand;
    stack: string;
    action: "set" | "rm";
    /** Full key, e.g. protheus:updater; with --path, the path under it. */
    key: string;
    path: string[];
    value?: unknown;
}

/**
 * Parses `pulumi config set [--path] KEY VALUE -s STACK` / `pulumi config rm [--path] KEY -s STACK`.
 * With --path, "true"/"false" become booleans and integers numbers, as `pulumi config set --path` documents.
 */
export function configCommand(command: GuideCommand, words: string[]): ConfigCommand {
    if (words[0] !== "pulumi" || words[1] !== "config" || (words[2] !== "set" && words[2] !== "rm"))
        throw new Error(`line ${command.line}: not a pulumi config set/rm command: ${command.text}`);
    const action = words[2];
    let stack: string | undefined;
    let usePath = false;
    const args: string[] = [];
    for (let i = 3; i < words.length; i++) {
        if (words[i] === "-s" || words[i] === "--stack") stack = words[++i];
        else if (words[i] === "--path") usePath = true;
        else if (words[i].startsWith("-")) throw new Error(`line ${command.line}: unexpected flag ${words[i]} (a secret is never set in the guide)`);
        else args.push(words[i]);
    }
    if (!stack) throw new Error(`line ${command.line}: every pulumi config command in the guide names its stack (-s)`);
    const [fullPath, raw] = args;
    const [key, ...path] = usePath ? fullPath.split(".") : [fullPath];
    let value: unknown = raw;
    if (usePath && raw !== undefined) value = raw === "true" ? true : raw === "false" ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (action === "set" && raw === undefined) throw new Error(`line ${command.line}: no value`);
    return { command, stack, action, key, path, value };
}

/** Applies a config command to a stack file's `config:` map (the YAML document's object). */
export function applyConfigCommand(config: Record<string, unknown>, c: ConfigCommand): void {
    if (c.path.length === 0) {
        if (c.action === "rm") delete config[c.key];
        else config[c.key] = c.value;
        return;
    }
    let cur = (config[c.key] ??= {}) as Record<string, unknown>;
    for (const k of c.path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    const last = c.path[c.path.length - 1];
    if (c.action === "rm") delete cur[last];
    else cur[last] = c.value;
}

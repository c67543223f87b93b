// Turns Pulumi's flat config map ("protheus:key" -> string) into a validated
// StackConfig, or a ConfigError listing every problem at once.
import { z } from "zod";
import { isPlainObject, overlay } from "../lib/plainObject";
import { SECRET_CAPABLE_KEYS, SECRET_KEYS, StackConfig, stackConfigKeys, stackConfigSchema } from "./schema";

export const CONFIG_NAMESPACE = "protheus";
const STAGE_NAMES: readonly string[] = ["prod", "hml"];
const TOP_LEVEL_KEYS = new Set(Object.keys(stackConfigKeys.shape));

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}); no resource was registered:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Structured config arrives JSON-encoded; plain scalars arrive as strings. */
function decode(value: string): unknown {
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
    let cur: unknown = root;
    for (const k of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<PropertyKey, unknown>)[k];
    }
    return cur;
}

function keyName(path: PropertyKey[]): string {
    const [head, ...rest] = path.map(String);
    return `${CONFIG_NAMESPACE}:${head ?? ""}` + rest.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join("");
}

function describe(path: PropertyKey[], value: unknown, secretKeys: Set<string>): string {
    if (value === undefined) return "is missing";
    if (secretKeys.has(String(path[0]))) return "= [secret]";
    return `= ${JSON.stringify(value)}`;
}

/** Keys that were renamed: a stack still setting one is told the key to set instead. */
const RENAMED_KEYS = new Map([["customerGroup", "access.groups.cliente"]]);

export function formatIssues(issues: z.core.$ZodIssue[], input: Record<string, unknown>, secretKeys: Set<string>): string[] {
    const problems: string[] = [];
    for (const issue of issues) {
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys) {
                const path = [...issue.path, k];
                const head = k.split(/[.[]/)[0] ?? k;
                const renamed = issue.path.length === 0 ? RENAMED_KEYS.get(k) : undefined;
                // `pulumi config set protheus:updater.sleeper true` (no --path) stores one flat key named "updater.sleeper".
                const why = renamed
                    ? `renamed: set it as ${CONFIG_NAMESPACE}:${renamed} (in the stack file, or \`pulumi config set --path '${CONFIG_NAMESPACE}:${renamed}' <value>\`), and remove this one (\`pulumi config rm '${CONFIG_NAMESPACE}:${k}'\`)`
                    : issue.path.length === 0 && head !== k && TOP_LEVEL_KEYS.has(head)
                      ? `a flat key: a nested key is set with --path, e.g. \`pulumi config set --path '${CONFIG_NAMESPACE}:${k}' <value>\` (and \`pulumi config rm '${CONFIG_NAMESPACE}:${k}'\` removes this one)`
                      : "unknown key (see the config reference in docs/config.md; a typo?)";
                problems.push(`${keyName(path)} ${describe(path, valueAt(input, path), secretKeys)}: ${why}`);
            }
            continue;
        }
        const value = valueAt(input, issue.path);
        const message = value === undefined && issue.code === "invalid_type" ? issue.message.replace(/^expected/, "required: expected") : issue.message;
        // A rule broken by a default (a key the stack does not set) names the default, not a missing key.
        const applied = issue.code === "custom" ? (issue.params as { default?: unknown } | undefined)?.default : undefined;
        const described =
            value === undefined && applied !== undefined
                ? `is not set, and its default ${JSON.stringify(applied)} no longer fits`
                : describe(issue.path, value, secretKeys);
        problems.push(`${keyName(issue.path)} ${described}: ${message}`);
    }
    return problems;
}

/**
 * The key in Pulumi.yaml's project config that holds what every environment
 * shares. Pulumi replaces a project value whole when a stack sets the same key,
 * so shared sections live under this key and each stack key is laid over them
 * field by field: `pulumi config set --path 'protheus:updater.sleeper' true`
 * then changes the sleeper and keeps the shared image and schedule.
 */
export const DEFAULTS_KEY = "defaults";

/** The top-level keys (without the namespace) set with --secret, wholly or at a --path inside them. */
export function secretConfigKeysOf(raw: Record<string, string>, isSecret: (fullKey: string) => boolean): Set<string> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return new Set(
        Object.keys(raw)
            .filter((k) => k.startsWith(prefix) && isSecret(k))
            .map((k) => k.slice(prefix.length)),
    );
}

/**
 * The key in Pulumi.yaml's project config that holds what every stack of one
 * stage shares (`stageDefaults.prod`, `stageDefaults.hml`): laid over
 * protheus:defaults and under the stack's own keys, so a new environment's
 * file names only what is its own.
 */
export const STAGE_DEFAULTS_KEY = "stageDefaults";

/** The shared layers (protheus:defaults, then protheus:stageDefaults.<stage>) out of decoded `protheus:*` values, with any problem of their shape. */
export function sharedLayers(own: Record<string, unknown>, stage: unknown): { shared: Record<string, unknown>; problems: string[] } {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const problems: string[] = [];
    const { [DEFAULTS_KEY]: defaults, [STAGE_DEFAULTS_KEY]: stageDefaults } = own;
    if (defaults !== undefined && !isPlainObject(defaults)) {
        problems.push(`${prefix}${DEFAULTS_KEY} = ${JSON.stringify(defaults)}: expected an object of shared values (Pulumi.yaml, under \`value:\`)`);
    }
    let forStage: unknown;
    if (stageDefaults !== undefined) {
        if (!isPlainObject(stageDefaults)) {
            problems.push(
                `${prefix}${STAGE_DEFAULTS_KEY} = ${JSON.stringify(stageDefaults)}: expected an object with a section per stage (prod, hml) (Pulumi.yaml, under \`value:\`)`,
            );
        } else {
            for (const [k, v] of Object.entries(stageDefaults)) {
                if (!STAGE_NAMES.includes(k)) problems.push(`${prefix}${STAGE_DEFAULTS_KEY}.${k}: unknown stage (expected prod or hml)`);
                else if (!isPlainObject(v))
                    problems.push(`${prefix}${STAGE_DEFAULTS_KEY}.${k} = ${JSON.stringify(v)}: expected an object of the values every ${k} stack shares`);
            }
            if (typeof stage === "string" && STAGE_NAMES.includes(stage) && isPlainObject(stageDefaults[stage])) forStage = stageDefaults[stage];
        }
    }
    const shared = overlay(isPlainObject(defaults) ? defaults : {}, forStage) as Record<string, unknown>;
    return { shared, problems };
}

/**
 * A stack's values as the program reads them: protheus:defaults, then the
 * protheus:stageDefaults section of the stack's stage, then the stack's own
 * keys, each laid over the one before field by field (`overlay`).
 */
export function layerStackValues(own: Record<string, unknown>): { input: Record<string, unknown>; problems: string[] } {
    const stackValues = Object.fromEntries(Object.entries(own).filter(([k]) => k !== DEFAULTS_KEY && k !== STAGE_DEFAULTS_KEY));
    const { shared, problems } = sharedLayers(own, stackValues.stage);
    return { input: overlay(shared, stackValues) as Record<string, unknown>, problems };
}

/** `protheus:*` keys of a flat engine config, decoded, without the namespace. */
export function decodedValues(raw: Record<string, string>): Record<string, unknown> {
    const own: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [k, v] of Object.entries(raw)) {
        if (k.startsWith(prefix)) own[k.slice(prefix.length)] = decode(v);
    }
    return own;
}

/**
 * Validates a raw config map. `isSecret` tells which keys were set with
 * `--secret`; a key that must be secret but is in plain text is an error.
 */
export function parseStackConfig(raw: Record<string, string>, isSecret: (fullKey: string) => boolean): StackConfig {
    const own = decodedValues(raw);
    const prefix = `${CONFIG_NAMESPACE}:`;
    // A key set with --secret (wholly or at a --path inside it) is shown as [secret] in every message.
    const secretInput = secretConfigKeysOf(raw, isSecret);
    const secretKeys = new Set<string>([...SECRET_KEYS, ...secretInput]);
    const problems: string[] = [];
    const mayHoldSecrets = new Set<string>([...SECRET_KEYS, ...SECRET_CAPABLE_KEYS]);
    for (const k of secretInput) {
        if (!mayHoldSecrets.has(k)) {
            problems.push(
                `${prefix}${k} = [secret]: expected plain config: its values go into object names, labels, ConfigMaps and the plan in clear; ` +
                    `only ${[...mayHoldSecrets].map((s) => prefix + s).join(", ")} may hold a secret (e.g. --secret --path '${prefix}chart.values.<key>')`,
            );
        }
    }
    const layered = layerStackValues(own);
    problems.push(...layered.problems);
    const input = layered.input;
    for (const k of SECRET_KEYS) {
        if (input[k] !== undefined && !isSecret(prefix + k)) {
            problems.push(`${prefix}${k} = [hidden]: must be set with \`pulumi config set --secret ${prefix}${k}\`, not in plain text`);
        }
    }
    const result = stackConfigSchema.safeParse(input);
    if (!result.success) problems.push(...formatIssues(result.error.issues, input, secretKeys));
    if (problems.length > 0 || !result.success) throw new ConfigError(problems);
    return result.data;
}

// The stack files as the Pulumi engine reads them: Pulumi.yaml's project config under each
// Pulumi.<stack>.yaml. Kept apart from the renderer so that the commands that only read stack
// files (stacks, review, fleet) do not load the Pulumi SDK (half a second each).
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { isPlainObject } from "./plainObject";

export const PROJECT = "protheus";
export const REPO_ROOT = path.resolve(__dirname, "..");
export const SECRET_MASK = "[secret]";

export interface StackConfigInput {
    stack: string;
    /** Flat config as the Pulumi engine hands it over: "protheus:key" -> string (objects JSON-encoded). */
    config: Record<string, string>;
    /** Full keys set with --secret. */
    secretKeys: string[];
    /** Where the other stacks' files are, to resolve StackReferences offline (default: the repository). */
    stackFileDir?: string;
    /**
     * The stack's own outputs from its last update, which the program reads through a
     * StackReference to itself (index.ts). Default: the stack runs the version and
     * the maintenance state its config names and made no version change the renderer knows of.
     */
    previousOutputs?: Record<string, unknown>;
}

/** A value of Pulumi.yaml's project-level `config:`, by full key ("protheus:chart"). */
export type ProjectConfig = Record<string, unknown>;

const PROJECT_CONFIG_ATTRIBUTES = new Set(["type", "description", "secret", "default", "value", "items"]);

/**
 * Reads Pulumi.yaml's `config:` the way the Pulumi CLI does: a key without a
 * namespace is the project's; a scalar or a list is the value itself; a mapping
 * is a declaration whose `value:` (or `default:`) is the value, so an object
 * value must be written under `value:`. Throws naming the key when it is not.
 */
export function projectConfigFromYaml(text: string, project = PROJECT): ProjectConfig {
    const doc = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
    const out: ProjectConfig = {};
    for (const [rawKey, entry] of Object.entries(doc.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            out[key] = entry;
            continue;
        }
        const attrs = Object.keys(entry);
        const unknown = attrs.filter((a) => !PROJECT_CONFIG_ATTRIBUTES.has(a));
        if (unknown.length > 0) {
            throw new Error(`Pulumi.yaml config ${rawKey}: ${unknown.join(", ")} is not a config attribute; write an object value under \`value:\``);
        }
        const declared = entry as { value?: unknown; default?: unknown };
        if (declared.value !== undefined && declared.default !== undefined)
            throw new Error(`Pulumi.yaml config ${rawKey}: cannot have both 'default' and 'value'`);
        const value = declared.value ?? declared.default;
        if (value !== undefined) out[key] = value;
    }
    return out;
}

/** Reads the project-level config of the Pulumi.yaml in `dir` ({} without one). */
export function readProjectConfig(dir = REPO_ROOT): ProjectConfig {
    const file = path.join(dir, "Pulumi.yaml");
    return fs.existsSync(file) ? projectConfigFromYaml(fs.readFileSync(file, "utf8")) : {};
}

function engineValue(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecureValue(value: unknown): boolean {
    return isPlainObject(value) && "secure" in value && Object.keys(value).length === 1;
}

/** A structured value with every `secure:` leaf (set with `--secret --path`) replaced by the placeholder; whether it had one. */
function maskSecureLeaves(value: unknown): { value: unknown; secret: boolean } {
    if (isSecureValue(value)) return { value: SECRET_MASK, secret: true };
    if (value === null || typeof value !== "object") return { value, secret: false };
    let secret = false;
    const masked = Object.entries(value).map(([k, v]) => {
        const m = maskSecureLeaves(v);
        secret ||= m.secret;
        return [k, m.value] as const;
    });
    return { value: Array.isArray(value) ? masked.map(([, v]) => v) : Object.fromEntries(masked), secret };
}

/**
 * Converts a Pulumi.<stack>.yaml text into the engine's flat config form, on
 * top of the project's config: a key the stack sets replaces the project's
 * value as a whole (Pulumi does not merge objects), a key it does not set
 * takes the project's value.
 */
export function stackConfigFromYaml(stack: string, text: string, project: ProjectConfig = {}): StackConfigInput {
    const doc = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(project)) config[key] = engineValue(value);
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        // Ciphertext cannot be decrypted offline: the program sees a placeholder, and the key is secret as
        // the engine marks it: wholly, also when the secret is one leaf set with --path.
        const masked = maskSecureLeaves(value);
        config[key] = engineValue(masked.value);
        if (masked.secret) secretKeys.push(key);
    }
    return { stack, config, secretKeys };
}

export function stackFilePath(stack: string, dir = REPO_ROOT): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** The stack's config as the engine would hand it over: Pulumi.yaml's config overridden by Pulumi.<stack>.yaml's. */
export function readStackFile(stack: string, dir = REPO_ROOT): StackConfigInput {
    const file = stackFilePath(stack, dir);
    if (!fs.existsSync(file)) throw new Error(`no stack file ${path.relative(process.cwd(), file) || file} for stack "${stack}"`);
    return { ...stackConfigFromYaml(stack, fs.readFileSync(file, "utf8"), readProjectConfig(dir)), stackFileDir: dir };
}

// Configuration reference: `npm run config-doc` writes docs/config.md.
// Generated from the one config schema (config/schema.ts) through zod's JSON Schema export and the
// schema's .describe() texts, so the reference names every key the program accepts, whoever adds it;
// test/config-doc.test.ts regenerates it and compares.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { CONFIG_NAMESPACE, DEFAULTS_KEY } from "../config/load";
import { SECRET_KEYS, stackConfigSchema } from "../config/schema";
import { headingAnchor } from "../lib/markdown";
import { commandLine } from "../lib/commandLine";
import { REPO_ROOT } from "../lib/stackFiles";

export const CONFIG_DOC = path.join(REPO_ROOT, "docs", "config.md");
export const CONFIG_DOC_COMMAND = "npm run config-doc";

/** The part of JSON Schema that z.toJSONSchema emits for this config. */
interface JsonSchema {
    type?: string;
    description?: string;
    default?: unknown;
    enum?: unknown[];
    const?: unknown;
    format?: string;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    minItems?: number;
    items?: JsonSchema;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    propertyNames?: JsonSchema;
    additionalProperties?: JsonSchema | boolean;
    anyOf?: JsonSchema[];
    oneOf?: JsonSchema[];
    allOf?: JsonSchema[];
}

/** One row of the reference: a key path such as `backup.gcs.project`. */
export interface ConfigKey {
    path: string[];
    type: string;
    default?: unknown;
    /** Must be set once its section is (no default). */
    required: boolean;
    description?: string;
}

const code = (v: unknown) => "`" + (typeof v === "string" ? v : JSON.stringify(v)) + "`";

const valuesOf = (n: JsonSchema) => n.enum ?? (n.const !== undefined ? [n.const] : undefined);

function typeOf(n: JsonSchema): string {
    const values = valuesOf(n);
    if (values) return values.map(code).join(" | ");
    const alternatives = n.anyOf ?? n.oneOf;
    if (alternatives) return alternatives.map(typeOf).join(" or ");
    switch (n.type) {
        case "boolean":
            return "boolean";
        case "integer":
        case "number": {
            const what = n.type === "integer" ? "whole number" : "number";
            // z.int() states the safe-integer range; only a narrower bound says something.
            const max = n.maximum !== undefined && n.maximum < Number.MAX_SAFE_INTEGER ? n.maximum : undefined;
            const min = n.minimum !== undefined && n.minimum > Number.MIN_SAFE_INTEGER ? n.minimum : undefined;
            if (min !== undefined && max !== undefined) return `${what}, ${min}–${max}`;
            if (min !== undefined) return `${what} ≥ ${min}`;
            if (max !== undefined) return `${what} ≤ ${max}`;
            return what;
        }
        case "string": {
            if (n.format === "email") return "e-mail address";
            const limits = [n.minLength !== undefined && n.minLength > 1 ? `≥ ${n.minLength}` : "", n.maxLength !== undefined ? `≤ ${n.maxLength}` : ""].filter(
                Boolean,
            );
            return limits.length > 0 ? `string of ${limits.join(", ")} characters` : n.minLength === 1 ? "non-empty string" : "string";
        }
        case "array":
            return `list of ${n.items ? typeOf(n.items) : "values"}` + (n.minItems ? `, at least ${n.minItems}` : "");
        case "object": {
            if (n.properties) return "object";
            const values = typeof n.additionalProperties === "object" ? n.additionalProperties : undefined;
            if (!values || Object.keys(values).length === 0) return "object of any values";
            const keys = n.propertyNames?.enum ? `keys ${n.propertyNames.enum.map(code).join(", ")}` : "named entries";
            return `object: ${keys}, each ${values.properties ? "an object" : typeOf(values)}`;
        }
        default:
            return "any value";
    }
}

/** One key as two branches of a union declare it: the values of both, or either type. */
function mergeKey(a: JsonSchema, b: JsonSchema): JsonSchema {
    const description = a.description ?? b.description;
    const [va, vb] = [valuesOf(a), valuesOf(b)];
    if (va && vb) return { ...a, const: undefined, enum: [...new Set([...va, ...vb])], description };
    if (typeOf(a) === typeOf(b)) return { ...a, description, default: JSON.stringify(a.default) === JSON.stringify(b.default) ? a.default : undefined };
    return { anyOf: [a, b], description };
}

/**
 * A union or intersection of objects (e.g. one object per stage) read as one object: every key of any
 * branch, required where every branch requires it (any branch, for an intersection).
 */
function asOneObject(n: JsonSchema): JsonSchema {
    const branches = (n.anyOf ?? n.oneOf ?? n.allOf)?.map(asOneObject);
    if (!branches || !branches.every((b) => b.type === "object" && b.properties)) return n;
    const properties: Record<string, JsonSchema> = {};
    for (const b of branches) for (const [k, v] of Object.entries(b.properties!)) properties[k] = properties[k] ? mergeKey(properties[k], v) : v;
    const requiredIn = (k: string) => branches.filter((b) => (b.required ?? []).includes(k)).length;
    const required = Object.keys(properties).filter((k) => (n.allOf ? requiredIn(k) > 0 : requiredIn(k) === branches.length));
    return { type: "object", description: n.description ?? branches.find((b) => b.description)?.description, default: n.default, properties, required };
}

function collect(node: JsonSchema, at: string[], out: ConfigKey[]): void {
    const children: [string, JsonSchema, boolean][] = node.properties
        ? Object.entries(node.properties).map(([k, child]) => [k, asOneObject(child), (node.required ?? []).includes(k) && child.default === undefined])
        : [];
    // An object of named entries whose values are objects (drill.checks.<name>.sql): its fields get rows too.
    const values = typeof node.additionalProperties === "object" ? node.additionalProperties : undefined;
    if (!node.properties && values?.properties) children.push(["<name>", { ...values, description: values.description ?? "" }, false]);
    for (const [key, child, required] of children) {
        const keyPath = [...at, key];
        if (key !== "<name>") out.push({ path: keyPath, type: typeOf(child), default: child.default, required, description: child.description });
        collect(child, keyPath, out);
        if (child.type === "array" && child.items?.properties) collect(child.items, [...keyPath, "[]"], out);
    }
}

/** Every key of the schema (nested keys after their section), with what JSON Schema and .describe() say of it. */
export function configKeys(schema: z.ZodType = stackConfigSchema): ConfigKey[] {
    const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    const out: ConfigKey[] = [];
    collect(asOneObject(json), [], out);
    return out;
}

/** A table cell: pipes escaped, one line, and outside code spans `<name>` kept as text rather than read as HTML. */
const cell = (s: string) =>
    s
        .replace(/\|/g, "\\|")
        .replace(/\n/g, " ")
        .split("`")
        .map((part, i) => (i % 2 === 0 ? part.replace(/</g, "&lt;") : part))
        .join("`");
const sentence = (s: string) => (s === "" ? s : s[0]!.toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : "."));
const row = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
const keyName = (p: string[]) => `${CONFIG_NAMESPACE}:${p.join(".")}`;

function table(keys: ConfigKey[]): string[] {
    return [
        "| key | type | default | required | meaning |",
        "| --- | --- | --- | --- | --- |",
        ...keys.map((k) =>
            row([
                code(k.path.join(".")),
                k.type,
                k.default === undefined ? "—" : code(k.default),
                k.required ? "yes" : "",
                (SECRET_KEYS as readonly string[]).includes(k.path.join(".")) ? `**secret**: ${k.description ?? ""}` : (k.description ?? ""),
            ]),
        ),
    ];
}

export function renderConfigDoc(schema: z.ZodType = stackConfigSchema): string {
    const keys = configKeys(schema);
    const sectionNames = keys.filter((k) => k.path.length === 1 && k.type === "object").map((k) => k.path[0]!);
    const topLevel = keys.filter((k) => k.path.length === 1 && !sectionNames.includes(k.path[0]!));
    const sections = sectionNames.map((name) => {
        const own = keys.find((k) => k.path.length === 1 && k.path[0] === name)!;
        return { name, heading: `\`${keyName([name])}\``, own, keys: keys.filter((k) => k.path.length > 1 && k.path[0] === name) };
    });
    const out: string[] = [
        "# Configuration reference",
        "",
        `<!-- Generated by \`${CONFIG_DOC_COMMAND}\` from config/schema.ts (its .describe() texts); do not edit by hand. -->`,
        "",
        `All keys are in the \`${CONFIG_NAMESPACE}\` namespace, in \`Pulumi.<stack>.yaml\`, or, for a value every`,
        `environment shares, in \`Pulumi.yaml\`'s \`${CONFIG_NAMESPACE}:${DEFAULTS_KEY}\`: an object with the sections every environment`,
        "shares (`chart`, `updater`, `backup`, `access`, ...), over which each stack key is laid field by field",
        "(objects merge key by key; lists and scalars replace). The whole config is validated by one schema",
        "(`config/schema.ts`) before any resource is declared; every problem is reported at once, naming the key,",
        "the value and what was expected. Unknown keys are errors (typos do not pass silently). Nested keys are set",
        `with \`--path\` (\`pulumi config set --path '${CONFIG_NAMESPACE}:updater.sleeper' true\`); the same key set without`,
        "`--path` is a flat key the error points out. Names derived from the config are checked at the same time:",
        "with a `gcs` target, the default bucket name and the copy job's Google service account id",
        "(`bkp-<namespace>`, 6–30 characters; a longer one keeps a prefix and ends in a hash of the namespace).",
        "",
        "Secrets go through `pulumi config set --secret` or Kubernetes Secrets only; a secret key set in plain text",
        "is a config error, and secret values never appear in the plan, errors or logs. Besides `databasePassword`,",
        "only `chart` and `maintenance` may hold a secret (e.g. a chart value set with `--secret --path`): the",
        "release's repository, chart and values are then Pulumi secrets. A secret in any other key is refused,",
        "since its values go into names, labels and ConfigMaps in clear.",
        "",
        "Each key's row gives its type, its default (— when none), whether it must be set once its section is",
        "(required: yes), and what it does. Rules that join keys (prod needs a backup, a restore in prod needs",
        "maintenance, ...) are in the meaning column and are checked with the rest.",
        "",
        "## Contents",
        "",
        "- [Top-level keys](#top-level-keys)",
        ...sections.map((s) => `- [${s.heading}](#${headingAnchor(s.heading)})`),
        "",
        "## Top-level keys",
        "",
        ...table(topLevel),
    ];
    for (const s of sections) {
        const presence = s.own.required ? "Required." : s.own.default !== undefined ? "Optional (its defaults apply)." : "Optional.";
        out.push("", `## ${s.heading}`, "", `${sentence(s.own.description ?? "")} ${presence}`.trim(), "", ...table(s.keys));
    }
    return out.join("\n") + "\n";
}

if (require.main === module) {
    commandLine({
        name: "config-doc",
        usage: `usage: ${CONFIG_DOC_COMMAND}\nwrites ${path.relative(REPO_ROOT, CONFIG_DOC)} from config/schema.ts`,
        options: {},
    });
    fs.writeFileSync(CONFIG_DOC, renderConfigDoc());
    process.stdout.write(`wrote ${path.relative(REPO_ROOT, CONFIG_DOC)}\n`);
}

// The plan diff's comparison: two lists of planned resources (as lib/render.ts
// produces them, secrets already masked) in, what changes out. Pure: no git,
// no processes, no Pulumi runtime; bin/plan.ts --diff does the rendering.
// A resource of the target is the base's resource the engine would take it for:
// the one under its URN, else under one of its aliases (lib/urns.ts).
import { diffArrays, structuredPatch } from "diff";
import { parse as parseYaml } from "yaml";
import { isPlainObject } from "./plainObject";
import type { PlannedResource } from "./render";
import { childTypeChain, childUrn, matchUrns, stackUrnPrefix, urnStackPrefix } from "./urns";

export type ChangeKind = "add" | "remove" | "change";

export interface FieldChange {
    /**
     * Path into the inputs, e.g. `spec.template.spec.containers[updater].env[BACKUP_JOBS].value`
     * (elements of named lists by name, other elements by index); "" for the whole value.
     */
    path: string;
    kind: ChangeKind;
    /** Absent for "add". */
    before?: unknown;
    /** Absent for "remove". */
    after?: unknown;
    /** "order": the elements (matched by name) are the same but in another order; before/after are the names. */
    note?: "order";
    /** For a multi-line string: its change as unified-diff lines (`@@` hunk headers, then ` `, `-`, `+` lines). */
    lines?: string[];
}

export interface ResourceDiff {
    /** "type::name", as lib/render.ts resourceKey. */
    key: string;
    type: string;
    name: string;
    action: ChangeKind;
    /** Parent on the base side (null: under the stack); absent for "add". */
    parentBefore?: string | null;
    /** Parent on the target side; absent for "remove". */
    parentAfter?: string | null;
    /** True when a changed resource moved to another parent. */
    parentChanged?: boolean;
    /** The base's key ("type::name") of a changed resource that took it over through an alias under another type or name. */
    renamedFrom?: string;
    /** Input fields: for "add"/"remove", one entry per top-level input. */
    changes: FieldChange[];
}

export interface PlanDiffSummary {
    add: number;
    change: number;
    remove: number;
}

export interface PlanDiff {
    /** Target order (registration order of the target side), then removed resources in base order. */
    resources: ResourceDiff[];
    summary: PlanDiffSummary;
}

/** Same key as lib/render.ts resourceKey (kept local so this module stays free of the Pulumi runtime). */
function keyOf(r: { type: string; name: string }): string {
    return `${r.type}::${r.name}`;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends an object key to a path: `a.b`, or `a["app.kubernetes.io/name"]` when the key needs quoting. */
export function joinKey(path: string, key: string): string {
    if (IDENT.test(key)) return path === "" ? key : `${path}.${key}`;
    return `${path}[${JSON.stringify(key)}]`;
}

function joinIndex(path: string, index: number): string {
    return `${path}[${index}]`;
}

/** Appends a list element's identity: `env[BACKUP_JOBS]`, or `env["odd name"]` when it could be misread (spaces, brackets, all digits). */
export function joinName(path: string, name: string): string {
    return /^(?!\d+$)[A-Za-z0-9_./-]+$/.test(name) ? `${path}[${name}]` : `${path}[${JSON.stringify(name)}]`;
}

/** Deep equality of JSON-like values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
        if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
        return a.every((x, i) => deepEqual(x, b[i]));
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const ka = Object.keys(a).filter((k) => a[k] !== undefined);
        const kb = Object.keys(b).filter((k) => b[k] !== undefined);
        if (ka.length !== kb.length) return false;
        return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
    }
    return false;
}

/**
 * Keys that identify an element of a list of objects, tried in order: `name`
 * (containers, env, volumes, ports...), then `mountPath` (volumeMounts that
 * mount one volume twice). A key identifies when every element on both sides
 * has it as a string, unique on each side.
 */
const IDENTITY_KEYS = ["name", "mountPath"] as const;

function identityKey(a: unknown[], b: unknown[]): string | undefined {
    const all = [...a, ...b];
    if (all.length === 0 || !all.every(isPlainObject)) return undefined;
    return IDENTITY_KEYS.find((key) => {
        if (!all.every((e) => typeof (e as Record<string, unknown>)[key] === "string")) return false;
        const unique = (xs: unknown[]) => new Set(xs.map((e) => (e as Record<string, string>)[key])).size === xs.length;
        return unique(a) && unique(b);
    });
}

/**
 * Field-by-field differences between two JSON-like values. Objects are
 * compared key by key. Lists of identified objects (see IDENTITY_KEYS) are
 * compared element by element by identity, and the path names the element
 * (`env[BACKUP_JOBS].value`). Other lists (RBAC rules, commands) are matched
 * by content: equal elements pair up wherever they are, so inserting one
 * element shows one addition; a run of removed elements followed by a run of
 * added ones is compared pairwise, as changes in place (the path shows the
 * index on the target side, or on the base side for a removal). A value only
 * on one side is reported whole, at the highest path; a changed multi-line
 * string also carries its unified diff.
 */
export function diffValues(before: unknown, after: unknown, path = ""): FieldChange[] {
    const out: FieldChange[] = [];
    walk(before, after, path, out);
    return out;
}

function walk(a: unknown, b: unknown, path: string, out: FieldChange[]): void {
    if (a === undefined && b === undefined) return;
    if (a === undefined) {
        out.push(withLines({ path, kind: "add", after: b }));
        return;
    }
    if (b === undefined) {
        out.push(withLines({ path, kind: "remove", before: a }));
        return;
    }
    if (isPlainObject(a) && isPlainObject(b)) {
        const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.prototype.hasOwnProperty.call(a, k))];
        for (const k of keys) walk(a[k], b[k], joinKey(path, k), out);
        return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        const key = identityKey(a, b);
        if (key !== undefined) walkIdentified(a as Record<string, unknown>[], b as Record<string, unknown>[], key, path, out);
        else walkByContent(a, b, path, out);
        return;
    }
    if (!deepEqual(a, b)) out.push(withLines({ path, kind: "change", before: a, after: b }));
}

function walkIdentified(a: Record<string, unknown>[], b: Record<string, unknown>[], key: string, path: string, out: FieldChange[]): void {
    const id = (e: Record<string, unknown>) => e[key] as string;
    const byIdA = new Map(a.map((e) => [id(e), e]));
    const idsB = new Set(b.map(id));
    for (const e of b) {
        const old = byIdA.get(id(e));
        if (old === undefined) out.push({ path: joinName(path, id(e)), kind: "add", after: e });
        else walk(old, e, joinName(path, id(e)), out);
    }
    for (const e of a) {
        if (!idsB.has(id(e))) out.push({ path: joinName(path, id(e)), kind: "remove", before: e });
    }
    // Same elements, another order: Kubernetes sees that as a change (env order matters for $(VAR) references).
    const commonA = a.map(id).filter((n) => idsB.has(n));
    const commonB = b.map(id).filter((n) => byIdA.has(n));
    if (commonA.some((n, k) => n !== commonB[k])) out.push({ path, kind: "change", before: commonA, after: commonB, note: "order" });
}

function walkByContent(a: unknown[], b: unknown[], path: string, out: FieldChange[]): void {
    let i = 0; // index in a
    let j = 0; // index in b
    let removed: unknown[] = [];
    const flushRemoved = () => {
        removed.forEach((e, k) => out.push({ path: joinIndex(path, i - removed.length + k), kind: "remove", before: e }));
        removed = [];
    };
    for (const part of diffArrays(a, b, { comparator: deepEqual })) {
        if (part.removed) {
            flushRemoved();
            removed = part.value;
            i += part.count;
        } else if (part.added) {
            // Removed then added: the first ones pair up as changes in place, the rest are added (or removed).
            const paired = Math.min(removed.length, part.count);
            for (let k = 0; k < paired; k++) walk(removed[k], part.value[k], joinIndex(path, j + k), out);
            removed.slice(paired).forEach((e, k) => out.push({ path: joinIndex(path, i - removed.length + paired + k), kind: "remove", before: e }));
            removed = [];
            part.value.slice(paired).forEach((e, k) => out.push({ path: joinIndex(path, j + paired + k), kind: "add", after: e }));
            j += part.count;
        } else {
            flushRemoved();
            i += part.count;
            j += part.count;
        }
    }
    flushRemoved();
}

function isMultiLine(v: unknown): v is string {
    return typeof v === "string" && v.includes("\n");
}

/** Adds the unified diff of a multi-line string (a script in a ConfigMap) to its change. */
function withLines(c: FieldChange): FieldChange {
    if (!isMultiLine(c.before) && !isMultiLine(c.after)) return c;
    if ((c.before !== undefined && typeof c.before !== "string") || (c.after !== undefined && typeof c.after !== "string")) return c;
    const patch = structuredPatch("", "", c.before ?? "", c.after ?? "", undefined, undefined, { context: 3 });
    const lines = patch.hunks.flatMap((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines]);
    return { ...c, lines };
}

/**
 * Each resource's URN by key: the one its render recorded, else the one the engine gives it from
 * its parent chain (a plan that predates recorded URNs). Both sides of a diff are one stack: a
 * side without recorded URNs takes `prefix` from the other.
 */
function urnsByKey(resources: PlannedResource[], prefix: string): Map<string, string> {
    const byKey = new Map(resources.map((r) => [keyOf(r), r]));
    const urns = new Map<string, string>();
    const urnOf = (r: PlannedResource): string => {
        const key = keyOf(r);
        let urn = urns.get(key) ?? r.urn;
        if (urn === undefined) {
            const parent = r.parent === null ? undefined : byKey.get(r.parent);
            // A parent outside the list (a partial render): its type, the last of its chain.
            const parentTypes = r.parent === null ? "" : parent ? childTypeChain(urnOf(parent)) : r.parent.slice(0, r.parent.indexOf("::"));
            urn = childUrn(prefix, parentTypes, r.type, r.name);
        }
        urns.set(key, urn);
        return urn;
    };
    resources.forEach(urnOf);
    return urns;
}

/**
 * Compares two rendered stacks resource by resource, as `pulumi preview` pairs them: a target
 * resource is the base's resource under its own URN, else under an alias (renamed, not deleted);
 * a base resource no target resource takes over is removed.
 */
export function diffResources(before: PlannedResource[], after: PlannedResource[]): PlanDiff {
    const recorded = [...after, ...before].find((r) => r.urn !== undefined)?.urn;
    const prefix = recorded !== undefined ? urnStackPrefix(recorded) : stackUrnPrefix("stack", "project");
    const baseUrns = urnsByKey(before, prefix);
    const targetUrns = urnsByKey(after, prefix);
    const base = new Map(before.map((r) => [baseUrns.get(keyOf(r))!, r]));
    const found = matchUrns(
        after.map((r) => ({ urn: targetUrns.get(keyOf(r))!, aliases: r.aliases ?? [], ...(r.parent !== null && { parent: targetUrns.get(r.parent) }) })),
        new Set(base.keys()),
    );
    // The engine refuses an update where two resources claim one old resource; here the first keeps it.
    const taken = new Set<string>();
    const resources: ResourceDiff[] = [];
    after.forEach((r, i) => {
        const key = keyOf(r);
        const urn = found[i];
        const old = urn !== undefined && !taken.has(urn) ? base.get(urn) : undefined;
        if (!old) {
            resources.push({ key, type: r.type, name: r.name, action: "add", parentAfter: r.parent, changes: diffValues({}, r.inputs) });
            return;
        }
        taken.add(urn!);
        const changes = diffValues(old.inputs, r.inputs);
        const parentChanged = (old.parent ?? null) !== (r.parent ?? null);
        const renamed = keyOf(old) !== key;
        if (changes.length > 0 || parentChanged || renamed) {
            const d: ResourceDiff = { key, type: r.type, name: r.name, action: "change", parentBefore: old.parent, parentAfter: r.parent, changes };
            if (parentChanged) d.parentChanged = true;
            if (renamed) d.renamedFrom = keyOf(old);
            resources.push(d);
        }
    });
    for (const r of before) {
        if (!taken.has(baseUrns.get(keyOf(r))!))
            resources.push({ key: keyOf(r), type: r.type, name: r.name, action: "remove", parentBefore: r.parent, changes: diffValues(r.inputs, {}) });
    }
    const count = (action: ChangeKind) => resources.filter((d) => d.action === action).length;
    return { resources, summary: { add: count("add"), change: count("change"), remove: count("remove") } };
}

export function hasChanges(diff: PlanDiff): boolean {
    return diff.resources.length > 0;
}

/** Compact JSON for one value; "[secret]" is just a string here, so it stays masked. */
export function formatValue(v: unknown): string {
    return v === undefined ? "(none)" : JSON.stringify(v);
}

const MARK: Record<ChangeKind, string> = { add: "+", remove: "-", change: "~" };

/** One field change as text; a multi-line string's change continues on the following lines, indented. */
export function formatFieldChange(c: FieldChange): string {
    const label = c.path === "" ? "(value)" : c.path;
    if (c.lines !== undefined) return [`${MARK[c.kind]} ${label}:`, ...c.lines.map((l) => `    ${l}`)].join("\n");
    if (c.kind === "add") return `+ ${label}: ${formatValue(c.after)}`;
    if (c.kind === "remove") return `- ${label}: ${formatValue(c.before)}`;
    return `~ ${label}${c.note === "order" ? " (order by name)" : ""}: ${formatValue(c.before)} → ${formatValue(c.after)}`;
}

export function formatSummary(stack: string, diff: PlanDiff): string {
    if (!hasChanges(diff)) return `${stack}: no changes`;
    const { add, change, remove } = diff.summary;
    const renamed = diff.resources.filter((d) => d.renamedFrom !== undefined).length;
    return `${stack}: ${change} to change, ${add} to add, ${remove} to remove${renamed > 0 ? ` (${renamed} renamed)` : ""}`;
}

export interface DiffLabels {
    /** The base side, e.g. `HEAD (e73a780)`. */
    base: string;
    /** The target side, e.g. `working tree`. */
    target: string;
}

/** A renamed resource's old name (its old key when its type changed too): an alias keeps the deployed resource. */
function renamedLine(d: ResourceDiff): string {
    const old = d.renamedFrom!;
    const oldName = old.startsWith(`${d.type}::`) ? old.slice(d.type.length + 2) : old;
    return `renamed from ${oldName}: an alias keeps it (no delete, no create)`;
}

/** The readable diff: one block per resource, `+`/`-`/`~` markers, compact JSON values, a summary line. */
export function formatDiffText(stack: string, diff: PlanDiff, labels: DiffLabels, notes: string[] = []): string {
    const lines: string[] = [`Plan diff for stack ${stack}: ${labels.base} → ${labels.target} (offline, Pulumi mock runtime)`];
    for (const n of notes) lines.push(`note: ${n}`);
    for (const d of diff.resources) {
        const parent = d.action === "remove" ? d.parentBefore : d.parentAfter;
        lines.push("", `${MARK[d.action]} ${d.type}  ${d.name}${parent ? `  (parent ${parent})` : ""}`);
        if (d.renamedFrom !== undefined) lines.push(`    ${renamedLine(d)}`);
        if (d.parentChanged) lines.push(`    ~ (parent): ${formatValue(d.parentBefore)} → ${formatValue(d.parentAfter)}`);
        for (const c of d.changes)
            lines.push(
                ...formatFieldChange(c)
                    .split("\n")
                    .map((l) => `    ${l}`),
            );
    }
    lines.push("", formatSummary(stack, diff));
    return lines.join("\n") + "\n";
}

/** The `--json` form of a diff. */
export function diffToJson(stack: string, diff: PlanDiff, base: { ref: string; commit: string }, notes: string[] = []): unknown {
    return { stack, base, target: "working tree", changed: hasChanges(diff), summary: diff.summary, notes, resources: diff.resources };
}

/**
 * Secret config keys (`secure:` values) added, removed or re-encrypted between
 * two stack files. Ciphertext cannot be decrypted offline, so the rendered
 * inputs show "[secret]" on both sides; this says where a secret may have
 * changed without showing anything of it. A re-encryption of the same value
 * also changes the ciphertext, so this is a hint, not a change.
 */
export function secretConfigNotes(baseYaml: string | null, targetYaml: string | null): string[] {
    const secrets = (text: string | null): Map<string, string> => {
        const m = new Map<string, string>();
        if (text === null) return m;
        let doc: { config?: Record<string, unknown> } | null;
        try {
            doc = parseYaml(text) as { config?: Record<string, unknown> } | null;
        } catch {
            return m;
        }
        for (const [k, v] of Object.entries(doc?.config ?? {})) {
            if (isPlainObject(v) && "secure" in v && Object.keys(v).length === 1) m.set(k, String(v.secure));
        }
        return m;
    };
    const a = secrets(baseYaml);
    const b = secrets(targetYaml);
    const notes: string[] = [];
    for (const [k, v] of b) {
        if (!a.has(k)) notes.push(`secret config ${k} added (value not shown)`);
        else if (a.get(k) !== v)
            notes.push(`secret config ${k} has new ciphertext: its value may have changed (not shown; inputs show "[secret]" on both sides)`);
    }
    for (const k of a.keys()) if (!b.has(k)) notes.push(`secret config ${k} removed`);
    return notes;
}

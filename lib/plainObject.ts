// Plain objects (decoded config, chart values, plan properties): one test for what an object of
// named values is, and one way to lay one such object over another.

/** An object of named values: not null, not a list. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * `over` laid on `base`, neither changed (merged objects are new, parts taken whole are shared;
 * ProtheusRelease copies before writing): objects merge key by key; anything else replaces,
 * lists whole (a stack's backup.targets replaces the shared list) and null too (Helm reads a
 * null value as "drop this chart default"); undefined, a key not given, keeps `base`.
 */
export function overlay(base: Record<string, unknown>, over: Record<string, unknown> | undefined): Record<string, unknown>;
export function overlay(base: unknown, over: unknown): unknown;
export function overlay(base: unknown, over: unknown): unknown {
    if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = overlay(base[k], v);
    return out;
}

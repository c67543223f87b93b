// URNs as the Pulumi engine forms and matches them. A URN is
// `urn:pulumi:<stack>::<project>::<type chain>::<name>`, the type chain being the types of the
// resource's ancestors (without the stack's) and its own, joined by `$`. A deployed stack keeps
// a resource (no delete and create) only when the program declares it under the URN in the
// state, or under one of its aliases. Pure string work: no Pulumi runtime.

/** `urn:pulumi:<stack>::<project>::`, what every URN of one stack starts with. */
export function stackUrnPrefix(stack: string, project: string): string {
    return `urn:pulumi:${stack}::${project}::`;
}

interface UrnParts {
    /** `urn:pulumi:<stack>::<project>::` */
    prefix: string;
    /** The type chain: ancestors' types and the resource's own, joined by `$`. */
    qualifiedType: string;
    /** The resource's own type, the last of the chain. */
    type: string;
    name: string;
}

function parseUrn(urn: string): UrnParts {
    const parts = urn.split("::");
    if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) throw new Error(`not a Pulumi URN: ${urn}`);
    const qualifiedType = parts[2];
    return {
        prefix: `${parts[0]}::${parts[1]}::`,
        qualifiedType,
        type: qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1),
        // A name may itself hold "::"; the engine takes everything after the type chain.
        name: parts.slice(3).join("::"),
    };
}

/** The `urn:pulumi:<stack>::<project>::` a URN starts with. */
export function urnStackPrefix(urn: string): string {
    return parseUrn(urn).prefix;
}

/** A URN with its stack and project cut off: `<type chain>::<name>`, what tells resources of one stack apart. */
export function urnPath(urn: string): string {
    const { qualifiedType, name } = parseUrn(urn);
    return `${qualifiedType}::${name}`;
}

/** The type chain the children of the resource with URN `parent` extend: its own, or "" for the stack (not part of any chain). */
export function childTypeChain(parent: string): string {
    const { qualifiedType } = parseUrn(parent);
    return qualifiedType === "pulumi:pulumi:Stack" ? "" : qualifiedType;
}

/** The URN of a resource of `type` named `name` under a parent whose type chain is `parentTypes` ("" under the stack). */
export function childUrn(prefix: string, parentTypes: string, type: string, name: string): string {
    return `${prefix}${parentTypes ? `${parentTypes}$` : ""}${type}::${name}`;
}

/**
 * The URN a child answers to when its parent was found under the old URN `parentAlias`: the
 * child's type and name under that URN, its name's leading `<parent name>` (the `{name}-role`
 * convention) replaced by the old parent's name. The engine's inheritedChildAlias
 * (pkg/resource/deploy/step_generator.go).
 */
function inheritedChildAlias(childType: string, childName: string, parentName: string, parentAlias: string): string {
    const old = parseUrn(parentAlias);
    const name = childName.startsWith(parentName) ? old.name + childName.slice(parentName.length) : childName;
    return childUrn(old.prefix, old.qualifiedType, childType, name);
}

/** A resource as the engine sees it when it looks for the resource's old state. */
export interface UrnClaim {
    urn: string;
    /** Its own aliases, as URNs. */
    aliases: readonly string[];
    /** Its parent's URN; absent under the stack. */
    parent?: string;
}

/**
 * The URN of `state` each resource takes over (undefined: none, a new resource), as the engine
 * finds it (generateAliases and generateSteps in pkg/resource/deploy/step_generator.go): its own
 * URN first, then its aliases; a child whose parent was found under an alias also answers to its
 * own type and name (and each alias's) under the parent's old URN. `declared` is in registration
 * order, every parent before its children. Two resources may claim one URN here; the engine
 * refuses that update, so callers decide what to make of it.
 */
export function matchUrns(declared: readonly UrnClaim[], state: ReadonlySet<string>): (string | undefined)[] {
    // The old URN a resource was found under, when that was an alias: its children inherit it.
    const foundViaAlias = new Map<string, string>();
    return declared.map((d) => {
        const candidates = [d.urn, ...d.aliases];
        const parentAlias = d.parent === undefined ? undefined : foundViaAlias.get(d.parent);
        if (d.parent !== undefined && parentAlias !== undefined) {
            const parentName = parseUrn(d.parent).name;
            const own = parseUrn(d.urn);
            candidates.push(inheritedChildAlias(own.type, own.name, parentName, parentAlias));
            for (const alias of d.aliases) {
                const a = parseUrn(alias);
                candidates.push(inheritedChildAlias(a.type, a.name, parentName, parentAlias));
            }
        }
        const found = candidates.find((urn) => state.has(urn));
        if (found !== undefined && found !== d.urn) foundViaAlias.set(d.urn, found);
        return found;
    });
}

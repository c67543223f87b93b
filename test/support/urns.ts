// The URNs the real program declares and the URNs of a stack's state each resource takes over
// through its aliases: a deployed stack keeps a resource (no delete and create) only if the
// resource takes over its URN.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { previousOutputs } from "../../lib/previousOutputs";
import { renderProgram } from "../../lib/render";
import type { StackConfigInput } from "../../lib/stackFiles";
import { declared } from "./declared";
import { configObject, Stage, stackWith } from "./stacks";

// SDK internals, for tests only: what a resource was declared with, and the SDK's rule for the
// aliases a child inherits from its parent's alias, the engine's (generateAliases in
// pkg/resource/deploy/step_generator.go, for the alias specs the SDK sends it).
interface Internals {
    __pulumiType: string;
    __name: string;
    /** Its own aliases, as URNs (an alias without a parent is under the resource's parent). */
    __aliases?: pulumi.Output<string>[];
    __parentResource?: pulumi.Resource;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an SDK-internal helper, not in the package's typings
const { allAliases } = require("@pulumi/pulumi/resource") as {
    allAliases: (
        aliases: pulumi.Input<string>[],
        name: string,
        type: string,
        parent: { __aliases: pulumi.Output<string>[] },
        parentName: string,
    ) => pulumi.Output<string>[];
};
const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => resolve(v)));
const internals = (r: pulumi.Resource) => r as unknown as Internals;

export function resourceType(r: pulumi.Resource): string {
    return internals(r).__pulumiType;
}

export interface DeclaredResource {
    resource: pulumi.Resource;
    urn: string;
    /** Its own aliases, as URNs. */
    aliases: string[];
}

/**
 * The URN of a stack's state each declared resource takes over (undefined: none, a new resource),
 * as the engine finds it: under its own URN, else under one of its aliases; a child whose parent
 * took over an old URN through an alias also answers to that old URN with its own name (or an
 * alias's) under it. `declared` is in declaration order, every parent before its children.
 */
export async function matchState(declared: DeclaredResource[], state: ReadonlySet<string>): Promise<Map<pulumi.Resource, string | undefined>> {
    const matched = new Map<pulumi.Resource, string | undefined>();
    const viaAlias = new Map<pulumi.Resource, string>();
    for (const d of declared) {
        const i = internals(d.resource);
        const parent = i.__parentResource;
        const parentAlias = parent && viaAlias.get(parent);
        const candidates = [d.urn, ...d.aliases];
        if (parentAlias) {
            const inherited = allAliases(i.__aliases ?? [], i.__name, i.__pulumiType, { __aliases: [pulumi.output(parentAlias)] }, internals(parent).__name);
            candidates.push(...(await Promise.all(inherited.map(value))));
        }
        const found = candidates.find((urn) => state.has(urn));
        matched.set(d.resource, found);
        if (found !== undefined && found !== d.urn) viaAlias.set(d.resource, found);
    }
    return matched;
}

// The mock monitor qualifies a child's type with its parent's last type only, and puts the stack's
// type before a top-level resource's; the engine (and the SDK's createUrn, which computes the
// aliases) qualifies it with the parent's whole type chain, without the stack's.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's mock monitor, not in the package's typings
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as {
    MockMonitor: { prototype: { newUrn(parent: string, type: string, name: string): string } };
};
function engineUrn(parent: string, type: string, name: string): string {
    const qualifiedType = parent ? parent.split("::")[2] : "";
    const chain = qualifiedType && qualifiedType !== "pulumi:pulumi:Stack" ? `${qualifiedType}$${type}` : type;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${chain}::${name}`;
}

/** Renders the real program (index.ts) for `input` and returns every resource it declared with the URNs the engine gives it. */
export async function declaredUrns(input: StackConfigInput): Promise<DeclaredResource[]> {
    const mockUrn = MockMonitor.prototype.newUrn;
    MockMonitor.prototype.newUrn = engineUrn;
    try {
        await renderProgram(input, path.join(__dirname, "aliases-program.ts"));
        return await Promise.all(
            declared.map(async (resource) => ({
                resource,
                urn: await value(resource.urn),
                aliases: await Promise.all((internals(resource).__aliases ?? []).map(value)),
            })),
        );
    } finally {
        MockMonitor.prototype.newUrn = mockUrn;
    }
}

/** A URN with its stack and project cut off: `<type chain>::<name>`, what tells resources of one stack apart. */
export function urnPath(urn: string): string {
    return urn.split("::").slice(2).join("::");
}

const EARLIER_VERSION = "12.1.2310";

/**
 * A committed stack with every optional part of the program switched on: both offsite targets, the
 * password as a Pulumi secret (its Secret), the drill with extra checks, alerts by e-mail and channel,
 * a pending restore request and a version change (its backup Job) in maintenance, the sleeper.
 */
export function everythingStack(stage: Stage): StackConfigInput {
    const backup = configObject(stage, "backup");
    const { passwordSecret: _secret, ...database } = backup.database;
    const updater = configObject(stage, "updater");
    const input = stackWith(
        stage,
        {
            backup: {
                ...backup,
                database,
                targets: ["gcs", "rubrik"],
                rubrik: { nfsServer: "rubrik-mv.totvs.internal", exportPath: `/export/protheus/${stage}`, ...backup.rubrik },
            },
            drill: { enabled: true, checks: { sa1010_ativos: { sql: "SELECT count(*) FROM sa1010 WHERE d_e_l_e_t_ = ' '", expected: "1027176" } } },
            alerts: { emails: ["plantao@totvs.com.br"], channelIds: [`projects/totvs-protheus-${stage}/notificationChannels/123`] },
            restore: { id: "2026-11-27-upd2510", backup: "before:12.1.2510", source: "volume", replace: true, reason: "UPDDISTR failed on SX3" },
            updater: { ...updater, sleeper: true },
            maintenance: { ...configObject(stage, "maintenance"), enabled: true },
        },
        { databasePassword: "pw-Very-Secret-42" },
    );
    return { ...input, previousOutputs: previousOutputs({ version: EARLIER_VERSION, maintenance: true }) };
}

/** The stacks whose URNs test/fixtures/urns.json records: the committed ones, and each stage with every optional part on. */
export function urnFixtureStacks(): Record<string, StackConfigInput> {
    return {
        "c2a7dv-hml": stackWith("hml"),
        "c2a7dv-prod": stackWith("prod"),
        "c2a7dv-hml, everything on": everythingStack("hml"),
        "c2a7dv-prod, everything on": everythingStack("prod"),
    };
}

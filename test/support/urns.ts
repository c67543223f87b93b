// The URNs the real program declares, and every URN each resource also answers to through its
// aliases: a deployed stack keeps a resource (no delete and create) only if the resource's URN in
// the stack's state is one of them.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { previousOutputs } from "../../lib/previousOutputs";
import { renderProgram } from "../../lib/render";
import type { StackConfigInput } from "../../lib/stackFiles";
import { declared } from "./declared";
import { configObject, Stage, stackWith } from "./stacks";

// SDK internals, for tests only: what a resource was declared with, and the SDK's own rule for
// the aliases a child inherits from its parent's (what the engine applies to alias specs).
interface Internals {
    __pulumiType: string;
    __name: string;
    __aliases?: pulumi.Output<string>[];
    __parentResource?: pulumi.Resource;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an SDK-internal helper, not in the package's typings
const { allAliases } = require("@pulumi/pulumi/resource") as {
    allAliases: (aliases: pulumi.Input<string>[], name: string, type: string, parent: pulumi.Resource, parentName: string) => pulumi.Output<string>[];
};
const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => resolve(v)));

export function resourceType(r: pulumi.Resource): string {
    return (r as unknown as Internals).__pulumiType;
}

/** Every URN a resource answers to: its own, its aliases and those inherited from its parent's aliases. */
export async function urnsOf(r: pulumi.Resource): Promise<string[]> {
    const i = r as unknown as Internals;
    const own = i.__aliases ?? [];
    const parent = i.__parentResource;
    const aliases =
        parent && (parent as unknown as Internals).__pulumiType !== "pulumi:pulumi:Stack"
            ? allAliases(own, i.__name, i.__pulumiType, parent, (parent as unknown as Internals).__name)
            : own;
    return [await value(r.urn), ...(await Promise.all(aliases.map(value)))];
}

export interface DeclaredResource {
    resource: pulumi.Resource;
    urn: string;
    /** The resource's own URN first, then its aliases'. */
    urns: string[];
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
            declared.map(async (resource) => {
                const urns = await urnsOf(resource);
                return { resource, urn: urns[0], urns };
            }),
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

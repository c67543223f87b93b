// The URNs the real program declares and the URNs of a stack's state each resource takes over
// through its aliases: a deployed stack keeps a resource (no delete and create) only if the
// resource takes over its URN.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { previousOutputs } from "../../lib/previousOutputs";
import { identityOf, renderProgram } from "../../lib/render";
import { matchUrns } from "../../lib/urns";
import type { StackConfigInput } from "../../lib/stackFiles";
import { declared } from "./declared";
import { configObject, Stage, stackWith } from "./stacks";

// An SDK internal, for tests only: the parent a resource was declared with.
interface Internals {
    __parentResource?: pulumi.Resource;
}

export interface DeclaredResource {
    resource: pulumi.Resource;
    urn: string;
    /** Its own aliases, as URNs. */
    aliases: string[];
}

/**
 * The URN of a stack's state each declared resource takes over (undefined: none, a new resource),
 * as the engine finds it (lib/urns.ts matchUrns). `declared` is in declaration order, every parent
 * before its children.
 */
export function matchState(declared: DeclaredResource[], state: ReadonlySet<string>): Map<pulumi.Resource, string | undefined> {
    const urnOf = new Map(declared.map((d) => [d.resource, d.urn]));
    const found = matchUrns(
        declared.map((d) => {
            const parent = (d.resource as unknown as Internals).__parentResource;
            return { urn: d.urn, aliases: d.aliases, ...(parent && urnOf.has(parent) && { parent: urnOf.get(parent) }) };
        }),
        state,
    );
    return new Map(declared.map((d, i) => [d.resource, found[i]]));
}

/** Renders the real program (index.ts) for `input` and returns every resource it declared with the URNs the engine gives it. */
export async function declaredUrns(input: StackConfigInput): Promise<DeclaredResource[]> {
    await renderProgram(input, path.join(__dirname, "aliases-program.ts"));
    return await Promise.all(
        declared.map(async (resource) => {
            const { urn, aliases = [] } = await identityOf(resource);
            return { resource, urn, aliases };
        }),
    );
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

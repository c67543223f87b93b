// Runs the real program under Pulumi's mock runtime (no CLI, no cluster, no
// credentials) and records what it declares. The offline plan, the plan diff
// and the tests all go through here.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { resourceAliases, resourceName, resourceType, RPC_SIGNATURES, runInPulumiStack, waitForRPCs, withEngineUrns } from "./pulumiInternals";
import { parseStackName } from "./fleet";
import { maintenanceEnabledIn, previousOutputs, ranVersionsOffline, versionsOnBranch } from "./previousOutputs";
import { RAN_VERSIONS_OUTPUT } from "./promotion";
import { PROJECT, REPO_ROOT, SECRET_MASK, StackConfigInput, readStackFile, stackFilePath } from "./stackFiles";

export const PROGRAM = path.join(REPO_ROOT, "index.ts");
/** The organization offline renders run in (the DIY backends' default name). */
export const OFFLINE_ORGANIZATION = "organization";

export interface PlannedResource {
    type: string;
    name: string;
    /** The parent as "type::name" (names are unique per type only), or null directly under the stack. */
    parent: string | null;
    inputs: Record<string, unknown>;
    /** The resource options that are set (see PlannedOptions); absent when none is. */
    options?: Partial<PlannedOptions>;
    /** The URN the engine gives it (absent in plans that predate it, and in what a failed render registered). */
    urn?: string;
    /** Its aliases as URNs: the earlier identities a deployed stack keeps it under; absent when it has none. */
    aliases?: string[];
}

/** Resource options that change what `pulumi up`/`destroy` may do, by resource key. */
export interface PlannedOptions {
    protect: boolean;
    retainOnDelete: boolean;
    /** Keys of the resources this one explicitly waits for. */
    dependsOn: string[];
    /** How long `pulumi up` waits for create/update/delete, e.g. "125m". */
    customTimeouts?: { create?: string; update?: string; delete?: string };
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    deleteBeforeReplace?: boolean;
}

/** The options that are set: dependsOn when non-empty, flags when true, the rest when given. */
export function setOptions(o: PlannedOptions): Partial<PlannedOptions> {
    const out: Partial<PlannedOptions> = {};
    if (o.dependsOn.length > 0) out.dependsOn = o.dependsOn;
    if (o.protect) out.protect = true;
    if (o.retainOnDelete) out.retainOnDelete = true;
    if (o.customTimeouts && Object.keys(o.customTimeouts).length > 0) out.customTimeouts = o.customTimeouts;
    if (o.ignoreChanges?.length) out.ignoreChanges = o.ignoreChanges;
    if (o.replaceOnChanges?.length) out.replaceOnChanges = o.replaceOnChanges;
    if (o.deleteBeforeReplace) out.deleteBeforeReplace = true;
    return out;
}

export interface RenderResult {
    resources: PlannedResource[];
    options: Record<string, PlannedOptions>;
    outputs: Record<string, unknown>;
    /** The provider reference each custom resource was registered with ("" or absent: the engine's default provider), by resource key. */
    providers?: Record<string, string>;
}

/** Replaces secret values by the mask (a resource passed as an input already arrives as its id or URN). */
export function maskSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(maskSecrets);
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[RPC_SIGNATURES.key] === RPC_SIGNATURES.secret) return SECRET_MASK;
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, maskSecrets(v)]));
    }
    return value;
}

/**
 * Offline, a StackReference resolves to what the referenced stack's file
 * declares (org/project/c2a7dv-hml -> Pulumi.c2a7dv-hml.yaml), as if that stack
 * were up to date: its environment code, its version, and the versions it ran:
 * those its file named on the main branch and the one it names now (the state
 * that holds the real history is not read offline).
 */
function referencedStackOutputs(stackName: string, dir: string): Record<string, unknown> {
    const stack = stackName.split("/").pop()!;
    const file = stackFilePath(stack, dir);
    if (!fs.existsSync(file)) return {};
    const { config } = readStackFile(stack, dir);
    const stage = config["protheus:stage"];
    const version = config["protheus:updateDesiredVersion"];
    return {
        stage,
        environment: parseStackName(stack)?.environment,
        updateDesiredVersion: version,
        ...(version !== undefined ? { [RAN_VERSIONS_OUTPUT]: ranVersionsOffline(dir, stack, config) } : {}),
    };
}

/** The name index.ts gives the StackReference to the stack itself. */
export function selfStackName(stack: string): string {
    return `${OFFLINE_ORGANIZATION}/${PROJECT}/${stack}`;
}

/**
 * What a stack exported when it is up to date with its config: its version and maintenance state,
 * no known version change, and (prod, where the promotion gate reads it) the versions its file
 * named on the main branch.
 */
function upToDateOutputs(input: StackConfigInput): Record<string, unknown> {
    const { config, stack } = input;
    const prod = config["protheus:stage"] === "prod";
    return previousOutputs({
        version: config["protheus:updateDesiredVersion"],
        maintenance: maintenanceEnabledIn(config),
        // Only what was merged: the version the file names now may be the change under review.
        ...(prod && { ranVersions: versionsOnBranch(input.stackFileDir ?? REPO_ROOT, stack) }),
    });
}

/** Output state a real provider would fill in, where the program reads it back. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mock receives any resource type's inputs, free-form
function mockState(type: string, name: string, inputs: any, input: StackConfigInput): Record<string, unknown> {
    const state: Record<string, unknown> = { ...inputs };
    const stackFileDir = input.stackFileDir ?? REPO_ROOT;
    if (type === "pulumi:pulumi:StackReference") {
        // The stack's reference to itself: what the caller says it exported last, by default "up to date, no known change".
        state.outputs =
            (inputs.name ?? name) === selfStackName(input.stack)
                ? (input.previousOutputs ?? upToDateOutputs(input))
                : referencedStackOutputs(inputs.name ?? name, stackFileDir);
    }
    if (type.startsWith("kubernetes:") && inputs.metadata && inputs.metadata.name === undefined) {
        state.metadata = { ...inputs.metadata, name };
    }
    if (type === "kubernetes:helm.sh/v3:Release") state.status = { status: "deployed", version: inputs.version, name: inputs.name };
    if (type === "gcp:storage/bucket:Bucket") state.url = `gs://${inputs.name ?? name}`;
    if (type === "gcp:serviceaccount/account:Account") {
        state.email = `${inputs.accountId}@${inputs.project ?? "offline-project"}.iam.gserviceaccount.com`;
        state.name = `projects/${inputs.project ?? "offline-project"}/serviceAccounts/${state.email}`;
    }
    return state;
}

const GKE_CLUSTER_INVOKE = "gcp:container/getCluster:getCluster";
/** Offline, GKE's answer for a cluster: a documentation address (RFC 5737) and a placeholder CA, the same for every cluster. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an invoke's arguments, free-form
function offlineCluster(inputs: any): Record<string, unknown> {
    return { ...inputs, endpoint: "192.0.2.1", masterAuths: [{ clusterCaCertificate: "b2ZmbGluZQ==" }] };
}

/** How a resource is named in a plan: unique within a stack. */
export function resourceKey(type: string, name: string): string {
    return `${type}::${name}`;
}

/** The program failed; `resources` is what it had registered before failing. */
export class RenderError extends Error {
    constructor(
        public readonly cause: unknown,
        public readonly resources: PlannedResource[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "RenderError";
    }
}

// A failing program also rejects the stack's own output promises, which nobody
// awaits; those rejections are the same error the render already reports.
const reportedFailures = new WeakSet<object>();
let rejectionFilterInstalled = false;
function installRejectionFilter(): void {
    if (rejectionFilterInstalled) return;
    rejectionFilterInstalled = true;
    process.on("unhandledRejection", (reason) => {
        if (reason !== null && typeof reason === "object" && reportedFailures.has(reason)) return;
        throw reason;
    });
}

/**
 * V8's own stack format without source maps; no frames at all for the bare
 * `new Error()` Pulumi takes source positions from (offline, no resource has one).
 */
function plainStackTrace(err: Error, frames: NodeJS.CallSite[]): string {
    if (err.name === "Error" && err.message === "") return "Error";
    return (
        `${err.name}: ${err.message}` +
        frames
            .slice(0, 12)
            .map((f) => `\n    at ${f}`)
            .join("")
    );
}

let renderQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs `program` for one stack config under mocks and returns every resource
 * it registered, in registration order. Renders are serialised: the Pulumi
 * runtime's state is process-global.
 */
export function renderProgram(input: StackConfigInput, program = PROGRAM): Promise<RenderResult> {
    const run = renderQueue.then(() => withEngineUrns(() => renderOnce(input, program)));
    renderQueue = run.catch(() => undefined);
    return run;
}

async function renderOnce(input: StackConfigInput, program: string): Promise<RenderResult> {
    const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
    const parents = new Map<string, string | null>();
    const options: Record<string, PlannedOptions> = {};
    const providers: Record<string, string> = {};
    const resources: pulumi.Resource[] = [];
    const identities = new Map<string, { urn: string; aliases?: string[] }>();

    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
                if (args.type !== "pulumi:pulumi:Stack") registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                if (args.custom) providers[resourceKey(args.type, args.name)] = args.provider ?? "";
                return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs, input) };
            },
            call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
                if (args.token === GKE_CLUSTER_INVOKE) return offlineCluster(args.inputs);
                return args.inputs;
            },
        },
        PROJECT,
        input.stack,
        false,
        OFFLINE_ORGANIZATION,
    );
    pulumi.runtime.setAllConfig(input.config, input.secretKeys);

    installRejectionFilter();
    const resolved = require.resolve(program);
    // A program that exports a function declares its resources when called: its
    // module (and its compilation by ts-node) is reused; any other is re-run.
    if (typeof require.cache[resolved]?.exports !== "function") delete require.cache[resolved];
    // Pulumi takes a stack trace for every promise it makes and every resource's
    // source position; captured and formatted through ts-node's source maps that
    // is most of a render's time, and offline nobody reads them. While the program
    // runs, errors keep their messages but carry no frames.
    const prepareStackTrace = Error.prepareStackTrace;
    const stackTraceLimit = Error.stackTraceLimit;
    Error.prepareStackTrace = plainStackTrace;
    Error.stackTraceLimit = 0;
    const planned = (): PlannedResource[] =>
        registered.map((r) => ({
            type: r.type,
            name: r.name,
            parent: parents.get(resourceKey(r.type, r.name)) ?? null,
            inputs: maskSecrets(r.inputs) as Record<string, unknown>,
            ...withOptions(options[resourceKey(r.type, r.name)]),
            ...identities.get(resourceKey(r.type, r.name)),
        }));
    let outputs: unknown;
    try {
        await runInPulumiStack(async () => {
            // A stack transformation, not registerResourceTransform: a transform runs in the engine, sees
            // no Resource object, and the mocks never call it (test/pulumiInternals.test.ts).
            pulumi.runtime.registerStackTransformation((args) => {
                const parent = args.opts.parent;
                const underStack = parent === undefined || resourceType(parent) === "pulumi:pulumi:Stack";
                const key = resourceKey(args.type, args.name);
                parents.set(key, underStack ? null : resourceKey(resourceType(parent), resourceName(parent)));
                const deps = ([] as unknown[]).concat(args.opts.dependsOn ?? []) as pulumi.Resource[];
                const custom = args.opts as pulumi.CustomResourceOptions;
                options[key] = {
                    protect: args.opts.protect === true,
                    retainOnDelete: args.opts.retainOnDelete === true,
                    dependsOn: [...new Set(deps.map((d) => resourceKey(resourceType(d), resourceName(d))))],
                    ...(args.opts.customTimeouts ? { customTimeouts: { ...args.opts.customTimeouts } } : {}),
                    ...(args.opts.ignoreChanges ? { ignoreChanges: [...args.opts.ignoreChanges] } : {}),
                    ...(args.opts.replaceOnChanges ? { replaceOnChanges: [...args.opts.replaceOnChanges] } : {}),
                    ...(custom.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: custom.deleteBeforeReplace } : {}),
                };
                resources.push(args.resource);
                return undefined;
            });
            // A program either exports its outputs or exports a function that returns them.
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program is loaded afresh per render (its cache entry was deleted above)
            const program = require(resolved);
            // Kept as Outputs: the stack's own resolved outputs have lost which values are secret.
            outputs = typeof program === "function" ? await program() : { ...program };
            return outputs;
        });
        // Registration is asynchronous: wait until every declared resource has its URN.
        let seen = -1;
        while (seen !== resources.length) {
            seen = resources.length;
            await Promise.all(resources.map((r) => outputValue(r.urn)));
        }
        for (const r of resources) identities.set(resourceKey(resourceType(r), resourceName(r)), await identityOf(r));
    } catch (err) {
        if (err !== null && typeof err === "object") reportedFailures.add(err);
        throw new RenderError(err, planned());
    } finally {
        // Let this run's last RPCs (the stack's outputs) reach its own mock monitor, not the next one's.
        await waitForRPCs();
        Error.prepareStackTrace = prepareStackTrace;
        Error.stackTraceLimit = stackTraceLimit;
    }
    const plain = (await resolveOutputs(outputs ?? {})) as Record<string, unknown>;
    return { resources: planned(), options, outputs: plain, providers };
}

/** The value an Output resolves to, under the mocks (where every Output resolves). */
export const outputValue = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

/** A resource's URN and the URNs of its aliases (none: no `aliases` key). */
export async function identityOf(r: pulumi.Resource): Promise<{ urn: string; aliases?: string[] }> {
    const aliases = await Promise.all(resourceAliases(r).map(outputValue));
    return { urn: await outputValue(r.urn), ...(aliases.length > 0 ? { aliases } : {}) };
}

function withOptions(o: PlannedOptions | undefined): { options?: Partial<PlannedOptions> } {
    const set = o ? setOptions(o) : {};
    return Object.keys(set).length > 0 ? { options: set } : {};
}

async function resolveOutputs(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const isSecret = await pulumi.isSecret(value);
        const v = await outputValue(value as pulumi.Output<unknown>);
        return isSecret ? SECRET_MASK : resolveOutputs(v);
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolveOutputs));
    if (value !== null && typeof value === "object" && !(value instanceof pulumi.Resource)) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveOutputs(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

/** Renders a stack from its Pulumi.<stack>.yaml in `dir`. */
export function renderStack(stack: string, dir = REPO_ROOT): Promise<RenderResult> {
    return renderProgram(readStackFile(stack, dir));
}

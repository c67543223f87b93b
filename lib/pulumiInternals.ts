// The parts of the Pulumi SDK's internals the offline plan relies on, in one place. None of
// them is public API: each is what the CLI's language host or the SDK itself uses, and a
// Pulumi upgrade may change it without notice. test/pulumiInternals.test.ts checks every one
// against the installed SDK and names what changed.
import * as pulumi from "@pulumi/pulumi";
import { childTypeChain, childUrn, stackUrnPrefix } from "./urns";

/** A resource's type token and logical name, as the SDK stores them on the object. */
interface ResourceInternals {
    __pulumiType?: string;
    __name?: string;
    /** Its own aliases as URNs, as the SDK collapses them in the resource's constructor. */
    __aliases?: pulumi.Output<string>[];
}

/** The modules and members used below, with what each is for (shown when one goes missing). */
export const INTERNALS = [
    { module: "@pulumi/pulumi/runtime/stack", member: "runInPulumiStack", why: "runs the program as the stack's body, as the language host does" },
    { module: "@pulumi/pulumi/runtime/settings", member: "waitForRPCs", why: "drains one render's RPCs before the next render replaces the mocks" },
    { module: "@pulumi/pulumi/runtime/config", member: "isConfigSecret", why: "tells which config keys were set with --secret" },
    { module: "@pulumi/pulumi/runtime/rpc", member: "specialSigKey", why: "marks secret values in registered inputs" },
    { module: "@pulumi/pulumi/runtime/rpc", member: "specialSecretSig", why: "the marker of a secret value" },
    {
        module: "@pulumi/pulumi/runtime/mocks",
        member: "MockMonitor",
        why: "gives resources the URNs the engine gives them, which their aliases are computed from",
    },
] as const;

type Member = (typeof INTERNALS)[number]["member"];

function internal<T>(member: Member): T {
    const entry = INTERNALS.find((i) => i.member === member)!;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is named by the table above: one place to check after an SDK upgrade
    const value = (require(entry.module) as Record<string, unknown>)[member];
    if (value === undefined) {
        throw new Error(`${entry.module} no longer exports ${member} (${entry.why}); see lib/pulumiInternals.ts`);
    }
    return value as T;
}

/** Runs `init` inside a new root Stack resource and returns what it exported. */
export function runInPulumiStack(init: () => Promise<unknown>): Promise<Record<string, unknown> | undefined> {
    return internal<(init: () => Promise<unknown>) => Promise<Record<string, unknown> | undefined>>("runInPulumiStack")(init);
}

/** Resolves once every RPC the program started (registrations, stack outputs) has reached the monitor. */
export function waitForRPCs(): Promise<void> {
    return internal<() => Promise<void>>("waitForRPCs")();
}

/** True when the full config key (`protheus:databasePassword`) was set with `--secret`. */
export function isConfigSecret(fullKey: string): boolean {
    return internal<(k: string) => boolean>("isConfigSecret")(fullKey);
}

/** The marker the SDK puts on a secret in a registered resource's inputs: `{[key]: secret, value}`. */
export const RPC_SIGNATURES = {
    get key(): string {
        return internal<string>("specialSigKey");
    },
    get secret(): string {
        return internal<string>("specialSecretSig");
    },
};

/** The type token of a resource object, e.g. `protheus:index:NightlyBackup`. */
export function resourceType(resource: pulumi.Resource): string {
    const type = (resource as ResourceInternals).__pulumiType;
    if (typeof type !== "string") throw new Error("a Pulumi resource has no __pulumiType; the SDK changed, see lib/pulumiInternals.ts");
    return type;
}

/** The logical name a resource object was registered with. */
export function resourceName(resource: pulumi.Resource): string {
    const name = (resource as ResourceInternals).__name;
    if (typeof name !== "string") throw new Error("a Pulumi resource has no __name; the SDK changed, see lib/pulumiInternals.ts");
    return name;
}

/** The aliases a resource was declared with, as URNs (an alias without a parent is under the resource's parent). */
export function resourceAliases(resource: pulumi.Resource): pulumi.Output<string>[] {
    const aliases = (resource as ResourceInternals).__aliases;
    if (aliases !== undefined && !Array.isArray(aliases))
        throw new Error("a Pulumi resource's __aliases is not a list; the SDK changed, see lib/pulumiInternals.ts");
    return aliases ?? [];
}

type NewUrn = (parent: string, type: string, name: string) => string;

/**
 * The URN the engine gives a resource. The mock monitor's own qualifies a child's type with its
 * parent's last type only and puts the stack's type before a top-level resource's; the engine
 * (and the SDK's createUrn, which computes aliases from the parent's URN) qualifies it with the
 * parent's whole type chain, without the stack's.
 */
function engineUrn(parent: string, type: string, name: string): string {
    return childUrn(stackUrnPrefix(pulumi.getStack(), pulumi.getProject()), parent ? childTypeChain(parent) : "", type, name);
}

/** Runs `run` with the mock monitor giving every resource the URN the engine would. */
export async function withEngineUrns<T>(run: () => Promise<T>): Promise<T> {
    const monitor = internal<{ prototype: { newUrn: NewUrn } }>("MockMonitor").prototype;
    if (typeof monitor.newUrn !== "function") throw new Error("the mock monitor has no newUrn; the SDK changed, see lib/pulumiInternals.ts");
    const mockUrn = monitor.newUrn;
    monitor.newUrn = engineUrn;
    try {
        return await run();
    } finally {
        monitor.newUrn = mockUrn;
    }
}

// The parts of the Pulumi SDK's internals the offline plan relies on, in one place. None of
// them is public API: each is what the CLI's language host or the SDK itself uses, and a
// Pulumi upgrade may change it without notice. test/pulumiInternals.test.ts checks every one
// against the installed SDK and names what changed.
import * as pulumi from "@pulumi/pulumi";

/** A resource's type token and logical name, as the SDK stores them on the object. */
interface ResourceInternals {
    __pulumiType?: string;
    __name?: string;
}

/** The modules and members used below, with what each is for (shown when one goes missing). */
export const INTERNALS = [
    { module: "@pulumi/pulumi/runtime/stack", member: "runInPulumiStack", why: "runs the program as the stack's body, as the language host does" },
    { module: "@pulumi/pulumi/runtime/settings", member: "waitForRPCs", why: "drains one render's RPCs before the next render replaces the mocks" },
    { module: "@pulumi/pulumi/runtime/config", member: "isConfigSecret", why: "tells which config keys were set with --secret" },
    { module: "@pulumi/pulumi/runtime/rpc", member: "specialSigKey", why: "marks secret values in registered inputs" },
    { module: "@pulumi/pulumi/runtime/rpc", member: "specialSecretSig", why: "the marker of a secret value" },
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

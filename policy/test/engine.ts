// A stand-in for the Pulumi policy engine, for tests only (the pack itself never loads it).
// It calls policies the way @pulumi/policy's server.js does: props wrapped in the engine's
// unknown-checking proxy, every required member of ResourceValidationArgs / StackValidationArgs
// filled in, and a policy that reads an unknown value or calls args.notApplicable() settled as
// the engine settles it (advisory "can't run policy during preview" / not applicable).
import type {
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { PROJECT } from "../../lib/stackFiles";
import { resourcePolicies, stackPolicies } from "../policies";

interface ProxyModule {
    unknownCheckingProxy<V>(v: V): V;
    UnknownValueError: new (...a: any[]) => Error;
    unknownStringValue: string;
}

// proxy.d.ts hides these (@internal), but they are exported at runtime; the engine uses them
// to wrap props. proxy.js has no dependencies, so loading it has no side effects.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the proxy module has no typings; its shape is declared above
const proxy = require("@pulumi/policy/proxy") as ProxyModule;

/** The engine's sentinel for a string not known during preview. */
export const UNKNOWN_STRING: string = proxy.unknownStringValue;

const noOpts: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

/** Thrown by `args.notApplicable()`, as the engine's NotApplicableError. */
class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason ?? "not applicable");
}

function typeMatcher(type: string) {
    return (cls: unknown) => (cls as { __pulumiType?: string } | undefined)?.__pulumiType === type;
}

/** The URN the engine gives a resource; the project is the one in Pulumi.yaml, as the offline plan uses. */
export function makeUrn(stack: string, type: string, name: string, project = PROJECT): string {
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

/** A resource as a policy sees it: props already wrapped in the engine's unknown-checking proxy. */
export interface PreparedResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, any>;
}

export function prepare(r: { type: string; name: string; props: Record<string, any> }, stack: string): PreparedResource {
    return { type: r.type, name: r.name, urn: makeUrn(stack, r.type, r.name), props: proxy.unknownCheckingProxy(r.props) };
}

function resourceValidationArgs(r: PreparedResource): ResourceValidationArgs {
    return {
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: noOpts,
        stackTags: new Map<string, string>(),
        isType: (cls) => typeMatcher(r.type)(cls),
        asType: ((cls: unknown) => (typeMatcher(r.type)(cls) ? r.props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <C extends object>() => ({}) as C,
        notApplicable,
    };
}

function stackValidationArgs(resources: PreparedResource[]): StackValidationArgs {
    const policyResources: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: noOpts,
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => typeMatcher(r.type)(cls),
        asType: ((cls: unknown) => (typeMatcher(r.type)(cls) ? r.props : undefined)) as PolicyResource["asType"],
    }));
    return { resources: policyResources, stackTags: new Map<string, string>(), getConfig: <C extends object>() => ({}) as C, notApplicable };
}

/** How one run of a policy ended when it did not simply return. */
export interface Settled {
    /** The policy read a value unknown during preview (the engine reports it as advisory). */
    unknown?: string;
    /** The policy called args.notApplicable(). */
    notApplicable?: string;
}

/** Runs one policy call and settles it as the engine does; any other error names the policy and resource. */
function settle(policy: string, on: string, run: () => unknown): Settled {
    try {
        const result = run();
        if (result && typeof (result as PromiseLike<unknown>).then === "function") {
            throw new Error("it returned a promise; this stand-in only runs synchronous policies");
        }
        return {};
    } catch (e) {
        if (e instanceof NotApplicable) return { notApplicable: e.message };
        if (e instanceof proxy.UnknownValueError) return { unknown: e.message };
        throw new Error(`policy ${policy} failed on ${on}: ${(e as Error).message}`, { cause: e });
    }
}

/** Runs every validation of a resource policy on one resource. */
export function runResourcePolicy(policy: ResourceValidationPolicy, r: PreparedResource, report: ReportViolation): Settled {
    const args = resourceValidationArgs(r);
    const validations = ([] as ResourceValidation[]).concat(policy.validateResource ?? []);
    const settled: Settled = {};
    for (const validate of validations) {
        Object.assign(
            settled,
            settle(policy.name, r.name, () => validate(args, report)),
        );
    }
    return settled;
}

/** Runs a stack policy over the resources of one stack. */
export function runStackPolicy(policy: StackValidationPolicy, resources: PreparedResource[], report: ReportViolation): Settled {
    const args = stackValidationArgs(resources);
    return settle(policy.name, "the stack", () => policy.validateStack(args, report));
}

export interface PlannedResource {
    type: string;
    name: string;
    inputs: any;
}

export interface CheckFinding {
    policy: string;
    /** Logical (Pulumi) name of the resource; absent for stack-wide findings. */
    resource?: string;
    message: string;
    /** "mandatory" for a violation; "advisory" when the policy could not run because a value is unknown. */
    level: "mandatory" | "advisory";
}

/**
 * Runs every policy of the pack over a list of planned resources (type, logical name, inputs),
 * as `pulumi preview --policy-pack policy` would on stack `stackName`. One finding per
 * violation (empty = compliant).
 */
export function checkResources(resources: PlannedResource[], stackName: string): CheckFinding[] {
    const findings: CheckFinding[] = [];
    const prepared = resources.map((r) => prepare({ type: r.type, name: r.name, props: (r.inputs ?? {}) as Record<string, any> }, stackName));
    const nameOfUrn = new Map(prepared.map((r) => [r.urn, r.name] as const));
    const advise = (policy: string, resource: string | undefined, settled: Settled) => {
        if (settled.unknown !== undefined) findings.push({ policy, resource, level: "advisory", message: `can't run policy: ${settled.unknown}` });
    };

    for (const p of resourcePolicies) {
        for (const r of prepared) {
            const report: ReportViolation = (message) => findings.push({ policy: p.name, resource: r.name, level: "mandatory", message });
            advise(p.name, r.name, runResourcePolicy(p, r, report));
        }
    }
    for (const p of stackPolicies) {
        const report: ReportViolation = (message, urn) =>
            findings.push({ policy: p.name, resource: urn === undefined ? undefined : (nameOfUrn.get(urn) ?? urn), level: "mandatory", message });
        advise(p.name, undefined, runStackPolicy(p, prepared, report));
    }
    return findings;
}

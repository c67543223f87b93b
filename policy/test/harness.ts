// Runs one policy on hand-made resources through the engine stand-in (./engine.ts), and builds
// those resources.
import type { ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { makeUrn, prepare, runResourcePolicy, runStackPolicy } from "./engine";

export { UNKNOWN_STRING } from "./engine";

export interface TestResource {
    type: string;
    name: string;
    props: Record<string, any>;
}

export interface Outcome {
    violations: string[];
    /** Set when the policy hit an unknown value (the engine reports it as advisory). */
    unknown?: string;
    /** Set when the policy called args.notApplicable(). */
    notApplicable?: string;
}

export interface StackOutcome {
    violations: { message: string; urn?: string }[];
    unknown?: string;
    notApplicable?: string;
}

export function urnOf(stack: string, type: string, name: string): string {
    return makeUrn(stack, type, name);
}

/** Runs a resource policy's validateResource on one resource of stack `stack` (default "hml"). */
export async function runResource(policy: ResourceValidationPolicy, r: TestResource, stack = "hml"): Promise<Outcome> {
    const violations: string[] = [];
    const report: ReportViolation = (message) => {
        violations.push(message);
    };
    return { violations, ...runResourcePolicy(policy, prepare(r, stack), report) };
}

/** Runs a stack policy's validateStack over resources of stack `stack`. */
export async function runStack(policy: StackValidationPolicy, resources: TestResource[], stack: string): Promise<StackOutcome> {
    const violations: StackOutcome["violations"] = [];
    const report: ReportViolation = (message, urn) => {
        violations.push(urn === undefined ? { message } : { message, urn });
    };
    return {
        violations,
        ...runStackPolicy(
            policy,
            resources.map((r) => prepare(r, stack)),
            report,
        ),
    };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

export interface ContainerSpec {
    name: string;
    image?: unknown;
    env?: { name: string; value?: string; valueFrom?: unknown }[];
}

export function podSpec(containers: ContainerSpec[], initContainers?: ContainerSpec[]): Record<string, any> {
    return initContainers === undefined ? { containers } : { containers, initContainers };
}

export function cronJob(
    name: string,
    opts: {
        metadataName?: string;
        namespace?: string;
        timeZone?: unknown;
        schedule?: string;
        containers?: ContainerSpec[];
        initContainers?: ContainerSpec[];
    } = {},
): TestResource {
    const spec: Record<string, any> = {
        schedule: opts.schedule ?? "0 21 * * *",
        jobTemplate: {
            spec: {
                template: { spec: podSpec(opts.containers ?? [{ name: "main", image: "ghcr.io/totvs/protheus-tools:1.4.2" }], opts.initContainers) },
            },
        },
    };
    if (opts.timeZone !== undefined) {
        spec["timeZone"] = opts.timeZone;
    }
    return {
        type: "kubernetes:batch/v1:CronJob",
        name,
        props: { metadata: { name: opts.metadataName ?? name, namespace: opts.namespace ?? "c2a7dv", labels: { app: name } }, spec },
    };
}

export function workload(type: string, name: string, spec: Record<string, any>): TestResource {
    const props =
        type === "kubernetes:core/v1:Pod"
            ? { metadata: { name, namespace: "c2a7dv" }, spec }
            : { metadata: { name, namespace: "c2a7dv" }, spec: { template: { metadata: { labels: { app: name } }, spec } } };
    return { type, name, props };
}

export function release(version: unknown): TestResource {
    const props: Record<string, any> = {
        name: "protheus",
        chart: "protheus",
        namespace: "c2a7dv",
        repositoryOpts: { repo: "https://charts.example.com" },
        values: {},
    };
    if (version !== undefined) {
        props["version"] = version;
    }
    return { type: "kubernetes:helm.sh/v3:Release", name: "protheus", props };
}

export function bucket(name: string, props: Record<string, any>): TestResource {
    return { type: "gcp:storage/bucket:Bucket", name, props: { name, location: "SOUTHAMERICA-EAST1", ...props } };
}

export function namespace(name: string, stage?: string): TestResource {
    const labels: Record<string, string> = {};
    if (stage !== undefined) {
        labels["protheus.totvs.com/stage"] = stage;
    }
    return { type: "kubernetes:core/v1:Namespace", name, props: { metadata: { name, labels } } };
}

export function backupCopy(namespaceName: string, env: ContainerSpec["env"]): TestResource {
    const c: ContainerSpec = { name: "copy", image: "ghcr.io/totvs/protheus-backup:2.0.1" };
    if (env !== undefined) {
        c.env = env;
    }
    return cronJob(`${namespaceName}-backup-copy`, {
        metadataName: "protheus-backup-copy",
        namespace: namespaceName,
        timeZone: "America/Sao_Paulo",
        schedule: "0 6 * * *",
        containers: [c],
    });
}

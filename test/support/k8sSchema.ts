// Validates rendered Kubernetes objects against the Kubernetes OpenAPI schemas
// shipped in kubernetes-models (generated from the upstream OpenAPI spec).
import { PlannedResource } from "../../lib/render";

/** Pulumi type token -> kubernetes-models module path, e.g. kubernetes:batch/v1:CronJob -> batch/v1. */
export function modelModule(type: string): { module: string; kind: string } | undefined {
    const m = /^kubernetes:([^:]+)\/([^:/]+):([A-Za-z]+)$/.exec(type);
    if (!m || m[1] === "helm.sh") return undefined; // a Helm release is not an API object
    const [, group, version, kind] = m;
    return { module: group === "core" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`, kind };
}

/** Returns one message per schema violation; throws if a type has no model. */
export async function schemaViolations(resource: PlannedResource): Promise<string[]> {
    const target = modelModule(resource.type);
    if (!target) return [];
    const mod = (await import(target.module)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = mod[target.kind];
    if (!Model) throw new Error(`kubernetes-models has no ${target.kind} in ${target.module}`);
    try {
        new Model(resource.inputs).validate();
        return [];
    } catch (err) {
        return [`${resource.type} ${resource.name}: ${(err as Error).message}`];
    }
}

export function isKubernetesObject(r: PlannedResource): boolean {
    return modelModule(r.type) !== undefined;
}

// Builds stack configs for tests from the committed stack files, so the tests
// exercise the same config the operators edit.
import { readStackFile, renderProgram, RenderError, RenderResult, PlannedResource, StackConfigInput } from "../../lib/render";

export type Stage = "prod" | "hml";

/** The committed Pulumi.<stage>.yaml with some top-level keys replaced (undefined removes a key). */
export function stackWith(stage: Stage, overrides: Record<string, unknown> = {}, secrets: Record<string, string> = {}): StackConfigInput {
    const base = readStackFile(stage);
    const config = { ...base.config };
    for (const [key, value] of Object.entries(overrides)) {
        const full = `protheus:${key}`;
        if (value === undefined) delete config[full];
        else config[full] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const secretKeys = [...base.secretKeys];
    for (const [key, value] of Object.entries(secrets)) {
        config[`protheus:${key}`] = value;
        secretKeys.push(`protheus:${key}`);
    }
    return { stack: stage, config, secretKeys };
}

/** A stack's object-valued key, decoded, for patching one field. */
export function configObject(stage: Stage, key: string): Record<string, any> {
    return JSON.parse(readStackFile(stage).config[`protheus:${key}`]);
}

export function render(input: StackConfigInput): Promise<RenderResult> {
    return renderProgram(input);
}

/** Renders a config expected to fail; returns the error. */
export async function renderFailure(input: StackConfigInput): Promise<RenderError> {
    try {
        await renderProgram(input);
    } catch (err) {
        if (err instanceof RenderError) return err;
        throw err;
    }
    throw new Error("expected the program to fail, but it rendered");
}

export function find(resources: PlannedResource[], type: string, name?: string): PlannedResource {
    const hits = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
    if (hits.length !== 1) throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${hits.length}`);
    return hits[0];
}

export function byK8sName(resources: PlannedResource[], kind: string, metadataName: string): PlannedResource {
    const hits = resources.filter((r) => r.type.endsWith(`:${kind}`) && (r.inputs as any).metadata?.name === metadataName);
    if (hits.length !== 1) throw new Error(`expected exactly one ${kind} ${metadataName}, found ${hits.length}`);
    return hits[0];
}

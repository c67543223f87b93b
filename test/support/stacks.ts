// Builds stack configs for tests from the committed stack files (Pulumi.yaml's
// project config overridden by the stack's file, as Pulumi resolves them), so
// the tests exercise the same config the operators edit.
import { DEFAULTS_KEY, decodedValues, sharedLayers, STAGE_DEFAULTS_KEY } from "../../config/load";
import { overlay } from "../../lib/plainObject";
import { EXAMPLE_ENVIRONMENT, stackName } from "../../lib/fleet";
import { renderProgram, RenderError, RenderResult, PlannedResource } from "../../lib/render";
import { readStackFile, StackConfigInput } from "../../lib/stackFiles";

export type Stage = "prod" | "hml";

/** The committed stack of `stage` for an environment (the example environment c2a7dv by default): "c2a7dv-hml". */
export function exampleStack(stage: Stage, environment = EXAMPLE_ENVIRONMENT): string {
    return stackName(environment, stage);
}

/**
 * A stack file as the engine hands it over, with protheus:defaults and the
 * stage's protheus:stageDefaults already laid under each section (what the
 * program does first): a test then replaces or removes a whole section as the
 * program will see it.
 */
export function resolvedStackFile(stack: string): StackConfigInput {
    const input = readStackFile(stack);
    const config = { ...input.config };
    const own = decodedValues(config);
    const { shared } = sharedLayers(own, own.stage);
    delete config[`protheus:${DEFAULTS_KEY}`];
    delete config[`protheus:${STAGE_DEFAULTS_KEY}`];
    for (const [section, value] of Object.entries(shared)) {
        const key = `protheus:${section}`;
        config[key] = JSON.stringify(overlay(value, config[key] === undefined ? undefined : JSON.parse(config[key])));
    }
    return { ...input, config };
}

/** The committed stack of `stage` (c2a7dv's by default), resolved, with some top-level keys replaced (undefined removes a key). */
export function stackWith(
    stage: Stage,
    overrides: Record<string, unknown> = {},
    secrets: Record<string, string> = {},
    environment = EXAMPLE_ENVIRONMENT,
): StackConfigInput {
    const base = resolvedStackFile(exampleStack(stage, environment));
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
    return { stack: base.stack, config, secretKeys, stackFileDir: base.stackFileDir };
}

/** A stack's object-valued key as the program sees it (project value unless the stack sets it), decoded, for patching one field. */
export function configObject(stage: Stage, key: string, environment = EXAMPLE_ENVIRONMENT): Record<string, any> {
    return JSON.parse(resolvedStackFile(exampleStack(stage, environment)).config[`protheus:${key}`]);
}

const committedRenders = new Map<string, Promise<RenderResult>>();

/**
 * Renders the committed stack of `stage` (c2a7dv's by default). The committed files do not change
 * during a run, so each stack is rendered once per process; every caller gets its own copy.
 */
export async function renderExample(stage: Stage, environment = EXAMPLE_ENVIRONMENT): Promise<RenderResult> {
    const input = readStackFile(exampleStack(stage, environment));
    const key = JSON.stringify(input);
    let rendered = committedRenders.get(key);
    if (!rendered) committedRenders.set(key, (rendered = renderProgram(input)));
    return structuredClone(await rendered);
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

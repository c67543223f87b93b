// The fleet's naming: one stack per environment and stage, named
// `<environment>-<stage>` (c2a7dv-hml, c2a7dv-prod), one Pulumi.<stack>.yaml
// file each. Pure functions and file listing; no Pulumi runtime.
import * as fs from "fs";
import * as path from "path";

export const STAGES = ["hml", "prod"] as const;
export type FleetStage = (typeof STAGES)[number];

/** The environment the repository's examples and tests use. */
export const EXAMPLE_ENVIRONMENT = "c2a7dv";

// An environment code is a DNS label (it names the prod namespace) short enough
// to leave room for "-hml" in the hml namespace.
const ENVIRONMENT_CODE = /^[a-z0-9]([a-z0-9-]{0,54}[a-z0-9])?$/;
const STACK_NAME = /^([a-z0-9](?:[a-z0-9-]{0,54}[a-z0-9])?)-(hml|prod)$/;

export interface FleetStack {
    /** The stack name as in Pulumi.<name>.yaml, e.g. c2a7dv-prod. */
    name: string;
    environment: string;
    stage: FleetStage;
}

/** Parses `c2a7dv-hml` (or a qualified `org/project/c2a7dv-hml`); undefined when it is not `<environment>-<stage>`. */
export function parseStackName(qualified: string): FleetStack | undefined {
    const name = qualified.split("/").pop() ?? "";
    const m = STACK_NAME.exec(name);
    return m ? { name, environment: m[1], stage: m[2] as FleetStage } : undefined;
}

export function stackName(environment: string, stage: FleetStage): string {
    return `${environment}-${stage}`;
}

/** Why stack `stack` cannot carry `protheus:stage = stage`, or undefined when name and stage agree. */
export function stackNameProblem(stack: string, stage: string): string | undefined {
    const parsed = parseStackName(stack);
    if (!parsed) return `stack name "${stack}" is not <environment>-<stage> (e.g. c2a7dv-hml, c2a7dv-prod); rename it with \`pulumi stack rename\``;
    if (parsed.stage !== stage)
        return `stack "${stack}" is named for stage ${parsed.stage} but its protheus:stage = "${stage}": the name and the stage must agree`;
    return undefined;
}

/** Why `code` cannot be an environment code, or undefined. */
export function environmentCodeProblem(code: string): string | undefined {
    if (!ENVIRONMENT_CODE.test(code))
        return `environment code "${code}" is not valid: expected lower-case letters, digits and inner '-', at most 56 characters (it is the prod namespace)`;
    if (parseStackName(code)) return `environment code "${code}" ends in -hml or -prod: that would read as a stack name`;
    return undefined;
}

/** The stack names of the repository, from its Pulumi.<stack>.yaml files, sorted. */
export function listStackNames(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The repository's stacks, each parsed; throws naming every file whose name is not `<environment>-<stage>`. */
export function listFleet(dir: string): FleetStack[] {
    const names = listStackNames(dir);
    const bad = names.filter((n) => !parseStackName(n));
    if (bad.length > 0) throw new Error(`stack files not named Pulumi.<environment>-<stage>.yaml: ${bad.map((n) => `Pulumi.${n}.yaml`).join(", ")}`);
    return names.map((n) => parseStackName(n)!);
}

/** hml before prod, then by environment: the order stacks are deployed in. */
export function deployOrder(stacks: FleetStack[]): FleetStack[] {
    return [...stacks].sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage) || a.environment.localeCompare(b.environment));
}

export function stackFileName(stack: string): string {
    return `Pulumi.${stack}.yaml`;
}

export function stackFileOf(dir: string, stack: string): string {
    return path.join(dir, stackFileName(stack));
}

// Offline plan: `npm run plan -- --stack hml [--json]`.
// Runs the real program under Pulumi's mock runtime with the stack file's
// config and prints what it declares. Exit 0: rendered; 2: bad config or usage.
import { stringify } from "yaml";
import { ConfigError } from "../config/load";
import { PlannedResource, RenderResult, renderStack, resourceKey } from "../lib/render";

interface PlanOptions {
    stack: string;
    json: boolean;
}

function usage(message: string): never {
    process.stderr.write(`plan: ${message}\nusage: npm run plan -- --stack <prod|hml> [--json]\n`);
    process.exit(2);
}

function parseArgs(argv: string[]): PlanOptions {
    const opts: Partial<PlanOptions> = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") opts.json = true;
        else if (a === "--stack" || a === "-s") opts.stack = argv[++i] ?? usage("--stack needs a value");
        else if (a.startsWith("--stack=")) opts.stack = a.slice("--stack=".length);
        else usage(`unknown argument ${a}`);
    }
    if (!opts.stack) usage("--stack is required");
    return opts as PlanOptions;
}

export function formatText(stack: string, result: RenderResult): string {
    const lines: string[] = [`Stack ${stack}: ${result.resources.length} resources (offline plan, Pulumi mock runtime)`, ""];
    const children = new Map<string | null, PlannedResource[]>();
    for (const r of result.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const walk = (parent: string | null, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            lines.push(`${"  ".repeat(depth)}${r.type}  ${r.name}`);
            walk(resourceKey(r.type, r.name), depth + 1);
        }
    };
    walk(null, 0);
    for (const r of result.resources) {
        if (r.type.startsWith("protheus:")) continue;
        lines.push("", `--- # ${r.type} ${r.name}${r.parent ? ` (parent ${r.parent})` : ""}`, stringify(r.inputs, { sortMapEntries: true }).trimEnd());
    }
    lines.push("", "--- # stack outputs", stringify(result.outputs, { sortMapEntries: true }).trimEnd());
    return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2));
    let result: RenderResult;
    try {
        result = await renderStack(opts.stack);
    } catch (err) {
        const message = err instanceof ConfigError ? err.message : `plan: ${(err as Error).message}`;
        process.stderr.write(`Stack ${opts.stack}: ${message}\n`);
        process.exit(2);
    }
    if (opts.json) process.stdout.write(JSON.stringify(result.resources, null, 2) + "\n");
    else process.stdout.write(formatText(opts.stack, result));
}

if (require.main === module) void main();

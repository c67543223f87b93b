/**
 * How this repository runs its own TypeScript commands (npm scripts, the plan of
 * a git ref, render threads, tests): ts-node with the SWC transpiler. It does not
 * type-check (`npm test` runs tsc for that) and starts a command in about half
 * the time of TypeScript's own transpiler. `pulumi up` is not affected: the
 * Pulumi runtime registers ts-node itself, from tsconfig.json, which sets no SWC.
 */
import { REPO_ROOT } from "./stackFiles";

/** The line of code that registers ts-node (with SWC) in a new thread or `node -e` process. */
export const TS_NODE_REGISTER = `require("ts-node").register({ swc: true });`;

/** `[node, ts-node, --swc, script, ...args]` split into a command and its arguments, run from `root`'s node_modules. */
export function tsNodeCommand(script: string, args: string[] = [], root = REPO_ROOT): [string, string[]] {
    const bin = require.resolve("ts-node/dist/bin.js", { paths: [root] });
    return [process.execPath, [bin, "--swc", script, ...args]];
}

// Mocha loads the TypeScript tests through ts-node with the SWC transpiler, as
// every command of the repository does (lib/tsNode.ts says why).
require("ts-node").register({ swc: true });

// The real program (index.ts), plus a stack transformation that keeps every resource object it
// declares, so test/aliases.test.ts can read the URNs and aliases the SDK computed for them
// (an engine-side registerResourceTransform sees no Resource object, and the mocks never run it).
import * as pulumi from "@pulumi/pulumi";
import { declared } from "./declared";

declared.length = 0;
pulumi.runtime.registerStackTransformation((args) => {
    declared.push(args.resource);
    return undefined;
});
// eslint-disable-next-line @typescript-eslint/no-require-imports -- index.ts is an `export =` module
import program = require("../../index");
export = program;

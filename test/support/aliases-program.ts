// The real program (index.ts), plus a stack transformation that keeps every resource object it
// declares, so the tests can read the URNs and aliases the SDK computed for them (an engine-side
// registerResourceTransform sees no Resource object, and the mocks never run it). A function, so
// each render runs it (and fills `declared`) again.
import * as pulumi from "@pulumi/pulumi";
import { declared } from "./declared";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- index.ts is an `export =` module
import program = require("../../index");

export = () => {
    declared.length = 0;
    pulumi.runtime.registerStackTransformation((args) => {
        declared.push(args.resource);
        return undefined;
    });
    return program();
};

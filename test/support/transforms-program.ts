// A program that registers an engine-side resource transform (registerResourceTransform) and
// declares one resource: test/pulumiInternals.test.ts checks whether the offline plan runs it.
import * as pulumi from "@pulumi/pulumi";

export const transformed: string[] = [];
pulumi.runtime.registerResourceTransform((args) => {
    transformed.push(`${args.type}::${args.name}`);
    return undefined;
});
new pulumi.ComponentResource("test:index:Group", "group");

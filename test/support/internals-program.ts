// A tiny Pulumi program for test/pulumiInternals.test.ts: one of each thing the offline plan
// reads through the SDK's internals (a parent, a dependency, a secret input, a secret
// output, secret config, an alias).
import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "../../lib/pulumiInternals";

class Thing extends pulumi.CustomResource {
    constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        super("test:index:Thing", name, props, opts);
    }
}

const parent = new pulumi.ComponentResource("test:index:Group", "group");
const other = new Thing("other", { plain: "value" }, { parent });
new Thing("child", { password: pulumi.secret("s3cr3t") }, { parent, dependsOn: [other] });
new Thing("renamed", {}, { parent, aliases: [{ name: "old-name" }] });

export const token = pulumi.secret("t0ken");
export const secretKeys = ["protheus:password", "protheus:plain"].filter(isConfigSecret);

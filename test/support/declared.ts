// The resources test/support/aliases-program.ts saw declared in the last render.
import type * as pulumi from "@pulumi/pulumi";

export const declared: pulumi.Resource[] = [];

// The running stack's config, read through the Pulumi runtime (index.ts). Apart from
// config/load.ts so that the commands that only parse stack files do not load the SDK.
import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "../lib/pulumiInternals";
import { parseStackConfig, secretConfigKeysOf } from "./load";
import type { StackConfig } from "./schema";

/** Reads the running stack's config through the Pulumi runtime. */
export function loadStackConfig(): StackConfig {
    return parseStackConfig(pulumi.runtime.allConfig(), isConfigSecret);
}

/** The running stack's top-level config keys that hold a secret (only those config/schema.ts SECRET_CAPABLE_KEYS allows pass validation). */
export function loadSecretConfigKeys(): ReadonlySet<string> {
    return secretConfigKeysOf(pulumi.runtime.allConfig(), isConfigSecret);
}

// The running stack's config, read through the Pulumi runtime (index.ts). Apart from
// config/load.ts so that the commands that only parse stack files do not load the SDK.
import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "../lib/pulumiInternals";
import { stackNameProblem } from "../lib/fleet";
import { CONFIG_NAMESPACE, ConfigError, parseStackConfig, secretConfigKeysOf } from "./load";
import type { StackConfig } from "./schema";

/**
 * Reads the running stack's config through the Pulumi runtime. The stack is
 * <environment>-<stage>: a name that disagrees with protheus:stage is reported
 * with every other config problem at once.
 */
export function loadStackConfig(): StackConfig {
    const raw = pulumi.runtime.allConfig();
    const nameProblem = stackNameProblem(pulumi.getStack(), raw[`${CONFIG_NAMESPACE}:stage`] ?? "");
    let config: StackConfig;
    try {
        config = parseStackConfig(raw, isConfigSecret);
    } catch (err) {
        if (nameProblem && err instanceof ConfigError) throw new ConfigError([nameProblem, ...err.problems]);
        throw err;
    }
    if (nameProblem) throw new ConfigError([nameProblem]);
    return config;
}

/** The running stack's top-level config keys that hold a secret (only those config/schema.ts SECRET_CAPABLE_KEYS allows pass validation). */
export function loadSecretConfigKeys(): ReadonlySet<string> {
    return secretConfigKeysOf(pulumi.runtime.allConfig(), isConfigSecret);
}

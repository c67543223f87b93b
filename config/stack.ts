// The running stack's config, read through the Pulumi runtime (index.ts). Apart from
// config/load.ts so that the commands that only parse stack files do not load the SDK.
import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "../lib/pulumiInternals";
import { parseStackName, stackNameProblem } from "../lib/fleet";
import { CONFIG_NAMESPACE, ConfigError, parseStackConfig, secretConfigKeysOf } from "./load";
import type { StackConfig } from "./schema";

/**
 * Reads the running stack's config through the Pulumi runtime, with the environment its name
 * gives. The stack is <environment>-<stage>: a name that disagrees with protheus:stage is
 * reported with every other config problem at once.
 */
export function loadStackConfig(): { environment: string; config: StackConfig } {
    const raw = pulumi.runtime.allConfig();
    const stack = pulumi.getStack();
    const named = parseStackName(stack);
    const nameProblem = stackNameProblem(stack, raw[`${CONFIG_NAMESPACE}:stage`] ?? "");
    let config: StackConfig;
    try {
        config = parseStackConfig(raw, isConfigSecret);
    } catch (err) {
        if (nameProblem && err instanceof ConfigError) throw new ConfigError([nameProblem, ...err.problems]);
        throw err;
    }
    // stackNameProblem reports every name parseStackName does not read.
    if (nameProblem || !named) throw new ConfigError([nameProblem ?? `stack name "${stack}" is not <environment>-<stage>`]);
    return { environment: named.environment, config };
}

/** The running stack's top-level config keys that hold a secret (only those config/schema.ts SECRET_CAPABLE_KEYS allows pass validation). */
export function loadSecretConfigKeys(): ReadonlySet<string> {
    return secretConfigKeysOf(pulumi.runtime.allConfig(), isConfigSecret);
}

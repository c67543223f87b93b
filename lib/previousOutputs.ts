// What the program reads back from its own last outputs (a StackReference to
// itself, index.ts), as an offline render supplies it: the version that runs,
// whether maintenance was applied, and the versions the stack ran. The real
// `pulumi up` reads them from the stack's state; offline they come from the
// stack files, and the histories from the versions the files named on the
// main branch of the repository.
import * as fs from "fs";
import * as path from "path";
import * as semver from "semver";
import { DEFAULTS_KEY } from "../config/load";
import { git } from "./git";
import { isPlainObject } from "./plainObject";
import { RAN_VERSIONS_OUTPUT } from "./promotion";
import { MAINTENANCE_OUTPUT, VERSION_OUTPUT } from "./versionChange";

/** The branch whose history of a stack file stands for the versions the stack ran. */
export const HISTORY_BRANCH = "main";

function jsonObject(text: string | undefined): Record<string, unknown> {
    if (text === undefined) return {};
    try {
        const v = JSON.parse(text) as unknown;
        return isPlainObject(v) ? v : {};
    } catch {
        return {};
    }
}

/** Whether a flat stack config (Pulumi.yaml's under the stack file's) enables maintenance: the stack's key over protheus:defaults. */
export function maintenanceEnabledIn(config: Record<string, string>): boolean {
    const own = jsonObject(config["protheus:maintenance"]).enabled;
    const sharedSection = jsonObject(config[`protheus:${DEFAULTS_KEY}`]).maintenance;
    const shared = sharedSection !== null && typeof sharedSection === "object" ? (sharedSection as { enabled?: unknown }).enabled : undefined;
    return (own ?? shared) === true;
}

/** The exact version a flat stack config names, or undefined. */
export function versionIn(config: Record<string, string>): string | undefined {
    const v = config[`protheus:${VERSION_OUTPUT}`];
    return v !== undefined && semver.valid(v) !== null ? v : undefined;
}

/**
 * Every version `Pulumi.<stack>.yaml` named on `branch` of the git repository at
 * `dir`, oldest first, no repeats; [] when `dir` is not a repository or has no such branch.
 */
export function versionsOnBranch(dir: string, stack: string, branch = HISTORY_BRANCH): string[] {
    if (!fs.existsSync(path.join(dir, ".git"))) return [];
    // A CI checkout may have the branch only as its remote's.
    const log = [branch, `origin/${branch}`].map((b) => gitLog(dir, b, `Pulumi.${stack}.yaml`)).find((l) => l !== undefined);
    if (log === undefined) return [];
    const seen = new Set<string>();
    for (const m of log.matchAll(/^\+\s*protheus:updateDesiredVersion:\s*["']?([^"'\s#]+)/gm)) if (semver.valid(m[1]) !== null) seen.add(m[1]!);
    return [...seen];
}

function gitLog(dir: string, branch: string, file: string): string | undefined {
    try {
        return git(["log", "--reverse", "-p", "--format=", "--no-color", "--no-ext-diff", branch, "--", file], dir);
    } catch {
        return undefined;
    }
}

/** The versions a stack ran, offline, when the file's config was applied: those its file named on the main branch, and the one it names in `config`. */
export function ranVersionsOffline(dir: string, stack: string, config: Record<string, string>): string[] {
    const now = versionIn(config);
    return [...new Set([...versionsOnBranch(dir, stack), ...(now ? [now] : [])])].sort(semver.compare);
}

/** The previous state a render can be given (plan --previous-version/--previous-maintenance, or the ref of a diff). */
export interface PreviousState {
    version?: string;
    maintenance?: boolean;
    ranVersions?: string[];
}

/** A previous state as the stack's own outputs: what index.ts reads back. */
export function previousOutputs(state: PreviousState): Record<string, unknown> {
    return {
        ...(state.version !== undefined && { [VERSION_OUTPUT]: state.version }),
        ...(state.maintenance !== undefined && { [MAINTENANCE_OUTPUT]: state.maintenance }),
        ...(state.ranVersions !== undefined && { [RAN_VERSIONS_OUTPUT]: state.ranVersions }),
    };
}

/**
 * The state a stack is left in when its file at a ref was applied: the version and maintenance
 * state that file names, and the versions it ran (those named on the main branch of `repo`, and the ref's).
 */
export function stateAfter(stack: string, configAtRef: Record<string, string>, repo: string): PreviousState {
    return { version: versionIn(configAtRef), maintenance: maintenanceEnabledIn(configAtRef), ranVersions: ranVersionsOffline(repo, stack, configAtRef) };
}

/**
 * The outputs a render of `input` reads back as the stack's own, given part of its previous
 * state: what is not given is as its config names (no change), and the versions it ran are
 * those its file named on the main branch plus the previous version.
 */
export function outputsBefore(
    input: { stack: string; config: Record<string, string>; stackFileDir?: string },
    given: PreviousState,
    repo: string,
): Record<string, unknown> {
    const version = given.version ?? versionIn(input.config);
    const ranVersions =
        given.ranVersions ?? [...new Set([...versionsOnBranch(input.stackFileDir ?? repo, input.stack), ...(version ? [version] : [])])].sort(semver.compare);
    return previousOutputs({ version, maintenance: given.maintenance ?? maintenanceEnabledIn(input.config), ranVersions });
}

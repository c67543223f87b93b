// Review rule: `npm run --silent review -- --base <git-ref>` (CI runs it on a pull request).
// A change must not move updateDesiredVersion of both stages of one environment:
// CI deploys hml minutes before prod, so prod's gate would pass on a version
// hml ran only moments earlier, untried. Promote prod in a second change once
// hml has run the version.
// Exit 0: fine; 1: the change moves both stages of an environment; 2: error.
// Compares the working tree with <git-ref>; versions are resolved with each
// side's Pulumi.yaml. A stack that did not exist at <git-ref> (a new
// environment) has nothing running to protect and does not count as moved.
import { answerCommandLine, CommandIo, processIo, refuseCommandLine, runAsProcess } from "../lib/commandLine";
import { git, resolveCommit } from "../lib/git";
import { listFleet, parseStackName, stackFileName, stackName } from "../lib/fleet";
import { projectConfigFromYaml, readStackFile, REPO_ROOT, stackConfigFromYaml } from "../lib/stackFiles";

/** updateDesiredVersion of every stack at `ref`, resolved with that commit's Pulumi.yaml. */
export function versionsAt(ref: string, repo: string): Map<string, string | undefined> {
    const commit = resolveCommit(ref, repo);
    const files = git(["ls-tree", "--name-only", commit], repo).split("\n");
    const project = files.includes("Pulumi.yaml") ? projectConfigFromYaml(git(["show", `${commit}:Pulumi.yaml`], repo)) : {};
    const out = new Map<string, string | undefined>();
    for (const f of files) {
        const stack = /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1];
        if (!stack) continue;
        out.set(stack, stackConfigFromYaml(stack, git(["show", `${commit}:${f}`], repo), project).config["protheus:updateDesiredVersion"]);
    }
    return out;
}

/** updateDesiredVersion of every stack in the working tree. */
export function versionsNow(repo: string): Map<string, string | undefined> {
    return new Map(listFleet(repo).map((s) => [s.name, readStackFile(s.name, repo).config["protheus:updateDesiredVersion"]]));
}

export interface BothMoved {
    environment: string;
    hml: { from: string | undefined; to: string | undefined };
    prod: { from: string | undefined; to: string | undefined };
}

/** The environments whose hml and prod versions both change between `base` and `now`. */
export function environmentsMovingBoth(base: Map<string, string | undefined>, now: Map<string, string | undefined>): BothMoved[] {
    const moved = (stack: string) => base.has(stack) && now.has(stack) && base.get(stack) !== now.get(stack);
    const environments = [...new Set([...now.keys()].map((s) => parseStackName(s)?.environment).filter((e): e is string => e !== undefined))].sort();
    return environments
        .filter((e) => moved(stackName(e, "hml")) && moved(stackName(e, "prod")))
        .map((e) => ({
            environment: e,
            hml: { from: base.get(stackName(e, "hml")), to: now.get(stackName(e, "hml")) },
            prod: { from: base.get(stackName(e, "prod")), to: now.get(stackName(e, "prod")) },
        }));
}

export function formatRefusal(m: BothMoved): string {
    return (
        `environment ${m.environment}: this change moves updateDesiredVersion of both ${stackFileName(stackName(m.environment, "hml"))} (${m.hml.from} → ${m.hml.to}) ` +
        `and ${stackFileName(stackName(m.environment, "prod"))} (${m.prod.from} → ${m.prod.to}); ` +
        `promote prod in a second change once ${stackName(m.environment, "hml")} has run ${m.prod.to}`
    );
}

export function review(base: string, repo = REPO_ROOT): { code: number; stdout: string; stderr: string } {
    try {
        const both = environmentsMovingBoth(versionsAt(base, repo), versionsNow(repo));
        if (both.length === 0) return { code: 0, stdout: `review: no environment moves hml and prod together (against ${base})\n`, stderr: "" };
        return { code: 1, stdout: "", stderr: both.map((m) => `review: ${formatRefusal(m)}\n`).join("") };
    } catch (err) {
        return { code: 2, stdout: "", stderr: `review: ${(err as Error).message.split("\n")[0]}\n` };
    }
}

const REVIEW_USAGE = "usage: npm run --silent review -- --base <git-ref>";

const COMMAND_LINE = {
    name: "review",
    usage: REVIEW_USAGE,
    // --repo: another checkout to review (the tests' temporary repositories).
    options: { base: { type: "string", value: "a git ref" }, repo: { type: "string", value: "a directory" } },
} as const;

/** The command: reads `argv` (the arguments after the script), writes to `io`'s streams, and resolves to the exit code. */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
    const read = answerCommandLine(COMMAND_LINE, argv, io);
    if (typeof read === "number") return read;
    const { values } = read;
    if (!values.base) {
        return refuseCommandLine(COMMAND_LINE.name, "--base <git-ref> is required", io);
    }
    const res = review(values.base, values.repo ?? REPO_ROOT);
    io.stdout.write(res.stdout);
    io.stderr.write(res.stderr);
    return res.code;
}

if (require.main === module) runAsProcess(main);

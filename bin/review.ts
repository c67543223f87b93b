// Review rule: `npm run --silent review -- --base <git-ref>` (CI runs it on a pull request).
// A change must not move updateDesiredVersion of both stages of one environment:
// CI deploys hml minutes before prod, so prod's gate would pass on a version
// hml ran only moments earlier, untried. Promote prod in a second change once
// hml has run the version.
// Exit 0: fine; 1: the change moves both stages of an environment; 2: error.
// Compares the working tree with <git-ref>; versions are resolved with each
// side's Pulumi.yaml. A stack that did not exist at <git-ref> (a new
// environment) has nothing running to protect and does not count as moved.
import { answerHelp } from "../lib/cliHelp";
import { execFileSync } from "child_process";
import { listFleet, parseStackName, stackFileName, stackName } from "../lib/fleet";
import { projectConfigFromYaml, readStackFile, REPO_ROOT, stackConfigFromYaml } from "../lib/stackFiles";

export class ReviewError extends Error {}

function git(args: string[], cwd: string): string {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
    } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new ReviewError(`git ${args.join(" ")}: ${(e.stderr || e.message).trim()}`);
    }
}

/** updateDesiredVersion of every stack at `ref`, resolved with that commit's Pulumi.yaml. */
export function versionsAt(ref: string, repo: string): Map<string, string | undefined> {
    let commit: string;
    try {
        commit = git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], repo).trim();
    } catch {
        throw new ReviewError(`bad git ref "${ref}": not a commit in ${repo}`);
    }
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

function main(): void {
    const argv = process.argv.slice(2);
    answerHelp(argv, REVIEW_USAGE);
    let base: string | undefined;
    let repo = REPO_ROOT;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--base") base = argv[++i];
        // Another checkout to review (the tests' temporary repositories).
        else if (argv[i] === "--repo") repo = argv[++i] ?? repo;
        else if (argv[i].startsWith("--base=")) base = argv[i].slice("--base=".length);
        else {
            process.stderr.write(`review: unknown argument ${argv[i]}\n${REVIEW_USAGE}\n`);
            process.exit(2);
        }
    }
    if (!base) {
        process.stderr.write(`review: --base <git-ref> is required\n${REVIEW_USAGE}\n`);
        process.exit(2);
    }
    const res = review(base, repo);
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    process.exitCode = res.code;
}

if (require.main === module) main();

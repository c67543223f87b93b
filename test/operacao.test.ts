// The operations guide (docs/operacao.md) tried as its readers would: every
// kubectl command names the team that runs it, and that team's rendered Role
// must allow every request the command makes; the objects it names exist.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { TEAM_IDS, TEAM_NAMES, TeamId } from "../lib/access/responsibilities";
import { PlannedResource } from "../lib/render";
import { REPO_ROOT } from "../lib/stackFiles";
import { stringify, parse as parseYaml } from "yaml";
import { ConfigError, parseStackConfig } from "../config/load";
import { readProjectConfig, stackConfigFromYaml, stackFilePath } from "../lib/stackFiles";
import { applyConfigCommand, configCommand, guideCommands, kubectlChecks, refusals, RoleRule } from "./support/guideCommands";
import { shellWords } from "./support/kubectlRequests";
import { render, stackWith } from "./support/stacks";

const GUIDE = fs.readFileSync(path.join(REPO_ROOT, "docs", "operacao.md"), "utf8");
const NAMESPACE = "c2a7dv";

/** "DBAs" in the guide is TEAM_NAMES' "DBAs (Engenharia/Cloud)". */
function teamId(display: string): TeamId | undefined {
    return TEAM_IDS.find((t) => TEAM_NAMES[t] === display || TEAM_NAMES[t].startsWith(`${display} (`));
}

function k8sObjects(resources: PlannedResource[], kind: string): { name: string; inputs: any }[] {
    return resources.filter((r) => r.type.endsWith(`:${kind}`)).map((r) => ({ name: (r.inputs as any).metadata?.name as string, inputs: r.inputs as any }));
}

describe("docs/operacao.md against the prod stack's RBAC", () => {
    let roles: Partial<Record<TeamId, RoleRule[]>>;
    let resources: PlannedResource[];
    before(async () => {
        resources = (await render(stackWith("prod"))).resources;
        roles = {};
        for (const role of k8sObjects(resources, "Role")) {
            const team = TEAM_IDS.find((t) => role.name === `protheus-${t}`);
            if (team) roles[team] = role.inputs.rules;
        }
    });

    const checks = kubectlChecks(GUIDE);

    it("has kubectl commands, and every one sits under a `# equipe:` line naming known teams", () => {
        assert.ok(checks.length >= 20, `expected the guide's kubectl commands, found ${checks.length}`);
        const problems = checks.flatMap((c) => {
            if (c.command.teams.length === 0) return [`line ${c.command.line}: no "# equipe:" line before "${c.command.text}"`];
            return c.command.teams.filter((t) => !teamId(t)).map((t) => `line ${c.command.line}: unknown team "${t}"`);
        });
        assert.deepStrictEqual(problems, []);
    });

    it(`names the environment's namespace (-n ${NAMESPACE}) in every kubectl command`, () => {
        const missing = checks.filter((c) => c.namespace !== NAMESPACE).map((c) => `line ${c.command.line}: ${c.command.text}`);
        assert.deepStrictEqual(missing, []);
    });

    it("every kubectl command is allowed by the Role of every team its block names", () => {
        const problems: string[] = [];
        for (const c of checks) {
            for (const display of c.command.teams) {
                const team = teamId(display)!;
                const rules = roles[team];
                if (!rules) {
                    problems.push(`line ${c.command.line}: ${display} has no Role in the prod stack`);
                    continue;
                }
                const refused = refusals(c, rules);
                if (refused.length > 0) problems.push(`line ${c.command.line}: ${display} may not ${refused.join(", ")} (kubectl ${c.words.join(" ")})`);
            }
        }
        assert.deepStrictEqual(problems, []);
    });

    it("names only objects the stack declares (CronJobs started or patched by name)", () => {
        const cronJobs = new Set(k8sObjects(resources, "CronJob").map((c) => c.name));
        const named = checks.flatMap((c) => c.requests.filter((r) => r.resource === "cronjobs" && r.name).map((r) => ({ c, name: r.name! })));
        assert.ok(named.length > 0);
        const unknown = named.filter(({ name }) => !cronJobs.has(name)).map(({ c, name }) => `line ${c.command.line}: no CronJob ${name}`);
        assert.deepStrictEqual(unknown, []);
    });

    it("names only StatefulSets the stack declares, and pods by name only as a StatefulSet's pod (<name>-<ordinal>)", () => {
        const statefulSets = new Set(k8sObjects(resources, "StatefulSet").map((s) => s.name));
        const requests = checks.flatMap((c) => c.requests.filter((r) => r.name).map((r) => ({ c, r })));
        const problems = requests.flatMap(({ c, r }) => {
            if (r.resource.startsWith("statefulsets") && !statefulSets.has(r.name!)) return [`line ${c.command.line}: no StatefulSet ${r.name}`];
            const pod = /^(.+)-\d+$/.exec(r.name!);
            if (r.resource.startsWith("pods") && !(pod && statefulSets.has(pod[1]))) return [`line ${c.command.line}: pod ${r.name} is no StatefulSet's`];
            return [];
        });
        assert.ok(
            requests.some(({ r }) => r.resource === "pods/exec"),
            "the guide execs into the toolbox and the sleeper",
        );
        assert.deepStrictEqual(problems, []);
    });

    it("every block's `pulumi config` commands, applied in order to the committed stack file as Pulumi writes them, leave a valid config", () => {
        const commands = guideCommands(GUIDE).filter((c) => c.text.startsWith("pulumi config"));
        assert.ok(commands.length >= 10, `expected the guide's config commands, found ${commands.length}`);
        const problems: string[] = [];
        const blocks = new Map<number, typeof commands>();
        for (const c of commands) blocks.set(c.block, [...(blocks.get(c.block) ?? []), c]);
        // Blocks build on each other as the guide is followed top to bottom (e.g. maintenance before a restore).
        const files = new Map<string, Record<string, unknown>>();
        // A block is one change (one pull request): the config must be valid once all of it ran.
        for (const block of blocks.values()) {
            const touched = new Set<string>();
            for (const c of block) {
                const cmd = configCommand(c, shellWords(c.text));
                if (!files.has(cmd.stack))
                    files.set(cmd.stack, (parseYaml(fs.readFileSync(stackFilePath(cmd.stack), "utf8")) as { config: Record<string, unknown> }).config);
                applyConfigCommand(files.get(cmd.stack)!, cmd);
                touched.add(cmd.stack);
            }
            for (const stack of touched) {
                const input = stackConfigFromYaml(stack, stringify({ config: files.get(stack) }), readProjectConfig());
                try {
                    parseStackConfig(input.config, (k) => input.secretKeys.includes(k));
                } catch (err) {
                    if (!(err instanceof ConfigError)) throw err;
                    problems.push(`line ${block[0].line}: after the block on ${stack}: ${err.problems.join("; ")}`);
                }
            }
        }
        assert.deepStrictEqual(problems, []);
    });

    it("the config check can fail: a sleeper set on the flat key is refused", () => {
        const [c] = guideCommands(["```sh", "# equipe: SmartSRE", "pulumi config set protheus:updater.sleeper true -s c2a7dv-prod", "```"].join("\n"));
        const file = (parseYaml(fs.readFileSync(stackFilePath("c2a7dv-prod"), "utf8")) as { config: Record<string, unknown> }).config;
        applyConfigCommand(file, configCommand(c, shellWords(c.text)));
        const input = stackConfigFromYaml("c2a7dv-prod", stringify({ config: file }), readProjectConfig());
        assert.throws(() => parseStackConfig(input.config, () => false), /--path/);
    });

    it("the manual backup template is the only CronJob the DBAs may start a Job from", () => {
        const doc = (cronJob: string) => ["```sh", "# equipe: DBAs", `kubectl -n ${NAMESPACE} create job --from=cronjob/${cronJob} b1`, "```"].join("\n");
        assert.deepStrictEqual(refusals(kubectlChecks(doc("protheus-backup-manual"))[0], roles.dbas!), []);
        assert.deepStrictEqual(refusals(kubectlChecks(doc("protheus-backup"))[0], roles.dbas!), ["get batch/cronjobs protheus-backup"]);
    });

    it("the check can fail: a command outside a team's Role is reported", () => {
        const doc = ["```sh", "# equipe: Cliente", `kubectl -n ${NAMESPACE} exec job/x -- sh`, "```"].join("\n");
        const [check] = kubectlChecks(doc);
        assert.deepStrictEqual(refusals(check, roles.cliente!), ["create pods/exec"]);
        assert.deepStrictEqual(guideCommands(doc)[0].teams, ["Cliente"]);
    });

    it("covers every situation of the runbook's update, backup and restore sections", () => {
        const runbook = [
            "delete job",
            "/volume/flags",
            "UPDDISTR.LOG",
            "usuário e senha",
            "FRAMEWORK",
            "campos/índices disponibilizados recentemente",
            "GCAD",
            "campos/índices já existentes",
            "banco de dados da engenharia",
            "infraestrutura",
            "RUP",
            "sleeper",
            "cp tttm120.rpo",
            "init-upddistr",
            "Retirar o RUP",
            "rollback",
            "gestão de dados",
            "Helm",
            "21:00",
            "06:00",
            "Rubrik",
            "dbaccess",
        ];
        const missing = runbook.filter((phrase) => !GUIDE.toLowerCase().includes(phrase.toLowerCase()));
        assert.deepStrictEqual(missing, []);
    });
});

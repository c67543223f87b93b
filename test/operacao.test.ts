// The operations guide (docs/operacao.md) tried as its readers would: every
// kubectl command names the team that runs it, and that team's rendered Role
// must allow every request the command makes; the objects it names exist.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
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
import { readLogCommand, writeFlagsCommand } from "../components/VolumeToolbox";

const GUIDE = fs.readFileSync(path.join(REPO_ROOT, "docs", "operacao.md"), "utf8");
const NAMESPACE = "c2a7dv";
/** Each stage's namespace, as the stack files name it: a kubectl line acts on the stage its -n names. */
const STAGE_OF_NAMESPACE: Record<string, "prod" | "hml"> = { c2a7dv: "prod", "c2a7dv-hml": "hml" };

/** "DBAs" in the guide is TEAM_NAMES' "DBAs (Engenharia/Cloud)". */
function teamId(display: string): TeamId | undefined {
    return TEAM_IDS.find((t) => TEAM_NAMES[t] === display || TEAM_NAMES[t].startsWith(`${display} (`));
}

function k8sObjects(resources: PlannedResource[], kind: string): { name: string; inputs: any }[] {
    return resources.filter((r) => r.type.endsWith(`:${kind}`)).map((r) => ({ name: (r.inputs as any).metadata?.name as string, inputs: r.inputs as any }));
}

describe("docs/operacao.md against each stage's RBAC", () => {
    let roles: Partial<Record<TeamId, RoleRule[]>>;
    let resources: PlannedResource[];
    const rolesByStage: Record<string, Partial<Record<TeamId, RoleRule[]>>> = {};
    before(async () => {
        for (const stage of ["hml", "prod"] as const) {
            const rendered = (await render(stackWith(stage))).resources;
            const stageRoles: Partial<Record<TeamId, RoleRule[]>> = {};
            for (const role of k8sObjects(rendered, "Role")) {
                const team = TEAM_IDS.find((t) => role.name === `protheus-${t}`);
                if (team) stageRoles[team] = role.inputs.rules;
            }
            rolesByStage[stage] = stageRoles;
            if (stage === "prod") resources = rendered;
        }
        roles = rolesByStage.prod;
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

    it(`names a stage's namespace (-n ${NAMESPACE} or -n ${NAMESPACE}-hml) in every kubectl command, and the hml one after the hml pull request`, () => {
        const missing = checks.filter((c) => !(c.namespace! in STAGE_OF_NAMESPACE)).map((c) => `line ${c.command.line}: ${c.command.text}`);
        assert.deepStrictEqual(missing, []);
        const hmlCheck = GUIDE.slice(GUIDE.indexOf("## 1."), GUIDE.indexOf("## 2."));
        assert.ok(
            kubectlChecks(hmlCheck).some((c) => c.namespace === `${NAMESPACE}-hml`),
            "section 1 checks hml in its own namespace",
        );
    });

    it("every kubectl command is allowed by the Role of every team its block names", () => {
        const problems: string[] = [];
        for (const c of checks) {
            for (const display of c.command.teams) {
                const team = teamId(display)!;
                const stage = STAGE_OF_NAMESPACE[c.namespace!] ?? "prod";
                const rules = rolesByStage[stage][team];
                if (!rules) {
                    problems.push(`line ${c.command.line}: ${display} has no Role in the ${stage} stack`);
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

describe("docs/operacao.md: the toolbox's read and write commands", () => {
    const write = writeFlagsCommand(NAMESPACE);
    /** The `sh -c` body of the write command, run here with a directory standing for /volume. */
    function runWrite(flags: string): { status: number | null; stderr: string; volume: string } {
        const volume = fs.mkdtempSync(path.join(os.tmpdir(), "toolbox-volume-"));
        const body = shellWords(write).slice(-1)[0].split("/volume/").join(`${volume}/`);
        const r = spawnSync("sh", ["-c", body], { env: { PATH: process.env.PATH, COMPLETION_FLAGS: flags }, encoding: "utf8" });
        return { status: r.status, stderr: r.stderr, volume };
    }

    it("writes the flags with exactly the command the toolbox defines, only in section 5, and reads the log elsewhere with a command that writes nothing", () => {
        assert.ok(GUIDE.includes(write), "section 5 step 4 is writeFlagsCommand()");
        assert.equal(GUIDE.split(write).length, 2, "the write command appears once");
        const section3 = GUIDE.slice(GUIDE.indexOf("## 3."), GUIDE.indexOf("## 4."));
        const commands = guideCommands(section3).map((c) => c.text);
        assert.deepEqual(
            commands.filter((c) => /touch|\/volume\/flags|COMPLETION_FLAGS/.test(c)),
            [],
            "reading the log never writes",
        );
        assert.ok(section3.includes(readLogCommand(NAMESPACE)));
    });

    it("refuses, non-zero with one line naming the key, to write flags when none is configured", () => {
        const r = runWrite("");
        assert.equal(r.status, 3);
        assert.equal(r.stderr.trim().split("\n").length, 1);
        assert.match(r.stderr, /protheus:updater\.completionFlags is empty/);
        assert.deepEqual(fs.readdirSync(r.volume), []);
    });

    it("writes exactly the configured flags", () => {
        const r = runWrite("upddistr.done dbaccess.ready");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(path.join(r.volume, "flags")).sort(), ["dbaccess.ready", "upddistr.done"]);
    });
});

describe("docs/operacao.md: labels and containers its kubectl lines name exist in the rendered stacks", () => {
    let resources: PlannedResource[];
    before(async () => {
        // With the guide's rollback request (section 6) applied after maintenance, so its restore Job exists too.
        const rollback = {
            restore: {
                id: "2026-11-27-upd2510",
                backup: "before:12.1.2510",
                source: "volume",
                replace: true,
                reason: "UPDDISTR 12.1.2510 quebrou campos existentes",
            },
            maintenance: { enabled: true, values: { appserver: { replicas: 0 } } },
        };
        const restoring = await render({ ...stackWith("prod", rollback), previousOutputs: { updateDesiredVersion: "12.1.2410", maintenanceEnabled: true } });
        resources = [...restoring.resources, ...(await render(stackWith("hml"))).resources];
    });
    const commands = guideCommands(GUIDE).filter((c) => c.text.startsWith("kubectl") || c.text.includes("$(kubectl"));

    /** The pod templates of Jobs by the name they are made under: Pulumi's Jobs by name, the guide's `create job --from=cronjob/X NAME` by NAME. */
    function podTemplates(): Map<string, any> {
        const out = new Map<string, any>();
        for (const j of k8sObjects(resources, "Job")) out.set(j.name, j.inputs.spec.template);
        const cronJobs = new Map(k8sObjects(resources, "CronJob").map((c) => [c.name, c.inputs.spec.jobTemplate.spec.template]));
        for (const c of commands) {
            const m = /create job --from=cronjob\/(\S+) (\S+)/.exec(c.text);
            if (m && cronJobs.has(m[1])) out.set(m[2], cronJobs.get(m[1]));
        }
        return out;
    }

    it("selects Jobs by a component label some rendered Job or CronJob's Jobs carry, one value per robot", () => {
        const jobLabels = [
            ...k8sObjects(resources, "Job").map((j) => j.inputs.metadata.labels),
            ...k8sObjects(resources, "CronJob").map((c) => c.inputs.spec.jobTemplate.metadata?.labels ?? {}),
        ];
        const components = new Set(jobLabels.map((l) => l["app.kubernetes.io/component"]));
        const selectors = commands.flatMap((c) => [...c.text.matchAll(/-l app\.kubernetes\.io\/component=(\S+)/g)].map((m) => ({ c, value: m[1] })));
        assert.ok(selectors.length > 5);
        assert.deepStrictEqual(
            selectors.filter((s) => !components.has(s.value)).map((s) => `line ${s.c.line}: ${s.value}`),
            [],
        );
        const of = (cronJob: string) =>
            k8sObjects(resources, "CronJob").find((c) => c.name === cronJob)!.inputs.spec.jobTemplate.metadata.labels["app.kubernetes.io/component"];
        assert.equal(of("protheus-backup"), "backup");
        assert.equal(of("protheus-backup-copy"), "backup-copy");
        assert.equal(of("protheus-restore"), "restore");
        assert.equal(of("protheus-restore-drill"), "restore-drill");
    });

    it("reads logs of containers the Job's pod template has (-c)", () => {
        const templates = podTemplates();
        const problems: string[] = [];
        for (const c of commands) {
            const m = /logs job\/(\S+) -c (\S+)/.exec(c.text);
            if (!m) continue;
            const template = templates.get(m[1]);
            if (!template) {
                problems.push(`line ${c.line}: no Job or template for job/${m[1]}`);
                continue;
            }
            const names = [...(template.spec.initContainers ?? []), ...template.spec.containers].map((x: any) => x.name);
            if (!names.includes(m[2])) problems.push(`line ${c.line}: job/${m[1]} has containers ${names.join(", ")}, not ${m[2]}`);
        }
        assert.deepStrictEqual(problems, []);
    });
});

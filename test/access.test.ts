// Team access: the responsibility table, its permissions, the
// rendered Roles/RoleBindings of both stacks, the bucket IAM and the config rules.
import * as assert from "node:assert/strict";
import { ConfigError } from "../config/load";
import { DEFAULT_INI_CONFIGMAPS, iniConfigMapProblem } from "../config/access";
import { BACKUP_READER_ROLE } from "../components/TeamAccess";
import { DUTY_ACCESS, GRANT_IDS, PolicyRule, grants, teamRules } from "../lib/access/permissions";
import { RESTORE_CRONJOB, ROBOT_CRONJOBS } from "../components/names";
import { DUTIES, DUTY_IDS, TEAM_IDS, TeamId, dutiesOf } from "../lib/access/responsibilities";
import { schemaViolations } from "./support/k8sSchema";
import { PlannedResource, RenderError, RenderResult, renderProgram } from "../lib/render";
import { StackConfigInput, readStackFile } from "../lib/stackFiles";
import { exampleStack, resolvedStackFile, Stage } from "./support/stacks";

const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember";
const STACKS = ["hml", "prod"] as const;

// The resources a Role in the environment namespace may name: all namespaced,
// none of them RBAC, service accounts, secrets or anything that grants more.
const NAMESPACED_RESOURCES = new Set([
    "pods",
    "pods/log",
    "pods/exec",
    "events",
    "services",
    "configmaps",
    "deployments",
    "statefulsets",
    "replicasets",
    "deployments/scale",
    "statefulsets/scale",
    "jobs",
    "cronjobs",
]);
const DANGEROUS_VERBS = new Set(["escalate", "bind", "impersonate", "deletecollection", "*"]);

// The dangerous-power sets, written out on purpose: changing who can exec or
// read Secrets must be a visible change to this test.
// devops-cloud: updating includes aborting an update, which writes /volume/flags from the toolbox pod.
// The DBAs restore through the restore template and enter no pod.
const EXEC_TEAMS: TeamId[] = ["smartsre", "devops-protheus", "devops-cloud"];
/** The only pods anyone may exec into: the toolbox and the sleeper, by name. */
const EXEC_PODS = ["protheus-toolbox-0", "protheus-updater-sleeper-0"];
const SECRET_TEAMS: TeamId[] = [];
const DB_TEAMS: TeamId[] = ["smartsre", "dbas"];

const ruleKey = (r: PolicyRule) =>
    JSON.stringify({
        apiGroups: [...r.apiGroups].sort(),
        resources: [...r.resources].sort(),
        verbs: [...r.verbs].sort(),
        resourceNames: r.resourceNames ? [...r.resourceNames].sort() : undefined,
    });
const canExec = (rules: PolicyRule[]) =>
    rules.some((r) => r.apiGroups.includes("") && r.resources.includes("pods/exec") && r.verbs.some((v) => v === "create" || v === "get"));
const canReadSecrets = (rules: PolicyRule[]) => rules.some((r) => r.resources.includes("secrets"));
const byType = (res: RenderResult, type: string) => res.resources.filter((r) => r.type === type);
const meta = (r: PlannedResource) => r.inputs.metadata as { name: string; namespace: string; labels: Record<string, string> };
const teamOf = (r: PlannedResource) => meta(r).labels["protheus.totvs.com/team"] as TeamId;

function accessOf(input: StackConfigInput): Record<string, any> {
    return JSON.parse(input.config["protheus:access"]!);
}
function withAccess(stack: Stage, edit: (access: Record<string, any>) => void, extra: Record<string, string> = {}): StackConfigInput {
    const input = resolvedStackFile(exampleStack(stack));
    const access = accessOf(input);
    edit(access);
    return { ...input, config: { ...input.config, "protheus:access": JSON.stringify(access), ...extra } };
}

/** Renders a config that must fail; returns the error and the resources registered before it. */
async function renderFailure(input: StackConfigInput): Promise<{ error: unknown; registered: PlannedResource[] }> {
    try {
        await renderProgram(input);
    } catch (err) {
        return err instanceof RenderError ? { error: err.cause, registered: err.resources } : { error: err, registered: [] };
    }
    assert.fail("expected the render to fail");
}

/** Asserts the render fails with a ConfigError and returns its problems. */
async function configProblems(input: StackConfigInput): Promise<string[]> {
    const { error, registered } = await renderFailure(input);
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.deepEqual(
        registered.map((r) => `${r.type} ${r.name}`),
        [],
        "no resource may be registered",
    );
    return error.problems;
}

describe("access: the responsibility table and its permissions", () => {
    it("gives every team at least one duty and every duty at least one team", () => {
        for (const t of TEAM_IDS) assert.ok(dutiesOf(t).length > 0, `${t} has no duty`);
        for (const d of DUTY_IDS) assert.ok(DUTIES[d].teams.length > 0, `${d} has no team`);
    });

    it("has no wildcard, no cluster-scoped or RBAC resource, no escalating verb, no Secrets in any grant", () => {
        for (const g of Object.values(grants({ iniConfigMaps: DEFAULT_INI_CONFIGMAPS }))) {
            const r = g.rule;
            for (const field of [r.apiGroups, r.resources, r.verbs, r.resourceNames ?? []]) assert.ok(!field.some((v) => v.includes("*")), `${g.id}: wildcard`);
            for (const res of r.resources) assert.ok(NAMESPACED_RESOURCES.has(res), `${g.id}: ${res} is not an allowed namespaced resource`);
            for (const v of r.verbs) assert.ok(!DANGEROUS_VERBS.has(v), `${g.id}: verb ${v}`);
            assert.ok(g.reason.trim().length > 20 && !g.reason.includes("\n"), `${g.id}: a one-line reason`);
        }
    });

    it("restricts by resourceNames only verbs Kubernetes can restrict (never list, watch, nor create of an object)", () => {
        for (const g of Object.values(grants({ iniConfigMaps: DEFAULT_INI_CONFIGMAPS }))) {
            if (!g.rule.resourceNames) continue;
            for (const v of ["list", "watch", "deletecollection"])
                assert.ok(!g.rule.verbs.includes(v), `${g.id}: ${v} with resourceNames is not enforced as intended`);
            // Creating an object has no name yet; creating a subresource (pods/exec) names its parent, which RBAC checks.
            if (g.rule.verbs.includes("create"))
                assert.ok(
                    g.rule.resources.every((r) => r.includes("/")),
                    `${g.id}: create with resourceNames on an object is not enforced as intended`,
                );
        }
    });

    it("names the pods of every exec and attach rule: the toolbox and the sleeper only", () => {
        for (const g of Object.values(grants({ iniConfigMaps: DEFAULT_INI_CONFIGMAPS }))) {
            if (!g.rule.resources.some((r) => r === "pods/exec" || r === "pods/attach")) continue;
            assert.ok(g.rule.resourceNames && g.rule.resourceNames.length > 0, `${g.id}: exec into any pod`);
            for (const pod of g.rule.resourceNames) assert.ok(EXEC_PODS.includes(pod), `${g.id}: exec into ${pod}`);
        }
    });

    it("limits writes on CronJobs and ConfigMaps to named objects", () => {
        const all = grants({ iniConfigMaps: ["appserver-ini"] });
        for (const g of Object.values(all)) {
            const writes = g.rule.verbs.some((v) => ["update", "patch", "delete"].includes(v));
            if (writes && (g.rule.resources.includes("cronjobs") || g.rule.resources.includes("configmaps")))
                assert.ok(g.rule.resourceNames?.length, `${g.id}: unrestricted write`);
        }
        assert.deepEqual(all["robot-cronjobs-edit"].rule.resourceNames, [...ROBOT_CRONJOBS]);
        assert.deepEqual(all["restore-cronjob-read"].rule.resourceNames, [RESTORE_CRONJOB]);
        assert.deepEqual(all["ini-configmaps-edit"].rule.resourceNames, ["appserver-ini"]);
    });

    it("gives the Configurador duty nothing in the cluster and uses every grant somewhere", () => {
        assert.deepEqual(DUTY_ACCESS.configurador.grants, []);
        for (const id of GRANT_IDS)
            assert.ok(
                DUTY_IDS.some((d) => DUTY_ACCESS[d].grants.includes(id)),
                `${id} unused`,
            );
    });
});

for (const stack of STACKS) {
    describe(`access: rendered plan of stack ${stack}`, () => {
        let res: RenderResult;
        let access: Record<string, any>;
        let namespace: string;
        before(async () => {
            res = await renderProgram(readStackFile(exampleStack(stack)));
            access = accessOf(resolvedStackFile(exampleStack(stack)));
            namespace = readStackFile(exampleStack(stack)).config["protheus:namespace"]!;
        });

        it("declares no ClusterRole or ClusterRoleBinding anywhere", () => {
            const cluster = res.resources.filter((r) => /:ClusterRole(Binding)?$/.test(r.type));
            assert.deepEqual(
                cluster.map((r) => `${r.type} ${r.name}`),
                [],
            );
        });

        it("declares one Role and one RoleBinding per team, in the environment namespace, named protheus-<team>", () => {
            const roles = byType(res, ROLE).filter((r) => r.parent === "protheus:index:TeamAccess::access");
            const bindings = byType(res, BINDING).filter((r) => r.parent === "protheus:index:TeamAccess::access");
            assert.deepEqual(roles.map(teamOf).sort(), [...TEAM_IDS].sort());
            assert.deepEqual(bindings.map(teamOf).sort(), [...TEAM_IDS].sort());
            for (const r of [...roles, ...bindings]) {
                assert.equal(meta(r).name, `protheus-${teamOf(r)}`);
                assert.equal(meta(r).namespace, namespace);
                assert.equal(meta(r).labels["app.kubernetes.io/part-of"], "protheus");
                assert.equal(meta(r).labels["protheus.totvs.com/stage"], stack);
            }
        });

        it("binds each team's Role to a Group with the configured e-mail, and nothing else", () => {
            for (const b of byType(res, BINDING)) {
                const team = teamOf(b);
                assert.deepEqual(b.inputs.subjects, [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: access.groups[team] }]);
                assert.deepEqual(b.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `protheus-${team}` });
            }
        });

        it("gives each team exactly the union of its duties' permissions", () => {
            const all = grants({ iniConfigMaps: access.iniConfigMaps ?? DEFAULT_INI_CONFIGMAPS });
            for (const role of byType(res, ROLE)) {
                const team = teamOf(role);
                const expected = new Set(dutiesOf(team).flatMap((d) => DUTY_ACCESS[d].grants.map((id) => ruleKey(all[id].rule))));
                const rendered = (role.inputs.rules as PolicyRule[]).map(ruleKey);
                assert.equal(new Set(rendered).size, rendered.length, `${team}: duplicate rules`);
                assert.deepEqual(new Set(rendered), expected, `${team}: rules differ from its duties' union`);
            }
        });

        it("grants only namespaced, non-wildcard, non-escalating rules", () => {
            for (const role of byType(res, ROLE)) {
                for (const r of role.inputs.rules as (PolicyRule & { nonResourceURLs?: string[] })[]) {
                    assert.equal(r.nonResourceURLs, undefined, `${role.name}: nonResourceURLs`);
                    for (const field of [r.apiGroups, r.resources, r.verbs, r.resourceNames ?? []])
                        assert.ok(!field.some((v) => v.includes("*")), `${role.name}: wildcard in ${JSON.stringify(r)}`);
                    for (const x of r.resources) assert.ok(NAMESPACED_RESOURCES.has(x), `${role.name}: ${x}`);
                    for (const v of r.verbs) assert.ok(!DANGEROUS_VERBS.has(v), `${role.name}: ${v}`);
                }
            }
        });

        it("lets exactly the robots and database teams exec, nobody read Secrets, and Cliente neither", () => {
            const roles = byType(res, ROLE);
            const rulesOf = (t: TeamId) => roles.find((r) => teamOf(r) === t)!.inputs.rules as PolicyRule[];
            assert.deepEqual(
                TEAM_IDS.filter((t) => canExec(rulesOf(t))),
                EXEC_TEAMS,
            );
            assert.deepEqual(
                TEAM_IDS.filter((t) => canReadSecrets(rulesOf(t))),
                SECRET_TEAMS,
            );
            assert.ok(!canExec(rulesOf("cliente")) && !canReadSecrets(rulesOf("cliente")), "Cliente must have no exec and no Secrets");
            for (const role of roles)
                for (const r of role.inputs.rules as PolicyRule[])
                    if (r.resources.some((x) => x === "pods/exec" || x === "pods/attach"))
                        assert.ok(r.resourceNames?.length && r.resourceNames.every((p) => EXEC_PODS.includes(p)), `${role.name}: exec into any pod`);
            assert.ok(
                !rulesOf("cliente").some((r) => r.resources.some((x) => x.startsWith("pods/") && x !== "pods/log")),
                "Cliente: no pod subresource but logs",
            );
        });

        it("could not be configured to let the ini duty edit any ConfigMap the stack declares", () => {
            const declared = byType(res, "kubernetes:core/v1:ConfigMap").map((c) => meta(c).name);
            assert.ok(declared.length >= 3, declared.join(", "));
            assert.deepEqual(
                declared.filter((name) => iniConfigMapProblem(name) === undefined),
                [],
            );
        });

        it("validates every Role and RoleBinding against the Kubernetes OpenAPI schema", async () => {
            const roles = byType(res, ROLE);
            const bindings = byType(res, BINDING);
            assert.ok(roles.length > 0 && bindings.length > 0);
            const violations = (await Promise.all([...roles, ...bindings].map(schemaViolations))).flat();
            assert.deepEqual(violations, []);
        });

        it("lets exactly the database-maintenance teams read the backup bucket, and groups nothing more", () => {
            const members = byType(res, BUCKET_MEMBER);
            for (const m of members.filter((m) => String(m.inputs.member).startsWith("group:"))) {
                assert.equal(m.inputs.role, BACKUP_READER_ROLE, `${m.name}: groups may only read`);
            }
            const fromAccess = members.filter((m) => m.parent === "protheus:index:TeamAccess::access");
            assert.deepEqual(
                fromAccess.map((m) => [m.inputs.role, m.inputs.member]).sort(),
                DB_TEAMS.map((t) => [BACKUP_READER_ROLE, `group:${access.groups[t]}`]).sort(),
            );
            const buckets = byType(res, "gcp:storage/bucket:Bucket");
            assert.equal(buckets.length, 1);
            for (const m of fromAccess) assert.equal(m.inputs.bucket, buckets[0]!.inputs.name);
        });
    });
}

/** Whether a team's rules allow `verb` on `resource` (named `name` when given). */
function teamCan(team: TeamId, verb: string, apiGroup: string, resource: string, name?: string): boolean {
    return teamRules(team, { iniConfigMaps: DEFAULT_INI_CONFIGMAPS }).some(
        (r) =>
            r.apiGroups.includes(apiGroup) &&
            r.resources.includes(resource) &&
            r.verbs.includes(verb) &&
            (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))),
    );
}

describe("access: the update failure path", () => {
    it("lets log collection, updating and the robots read pod logs (kubectl logs job/<name>: get job, list pods, get pods/log)", () => {
        for (const team of ["cliente", "smartsre", "devops-cloud", "devops-protheus"] as TeamId[]) {
            assert.ok(teamCan(team, "get", "batch", "jobs") && teamCan(team, "list", "", "pods") && teamCan(team, "get", "", "pods/log"), team);
        }
        for (const team of ["gcad", "tecnologia", "framework"] as TeamId[]) assert.ok(!teamCan(team, "get", "", "pods/log"), `${team} collects no logs`);
    });

    it("lets whoever aborts an update suspend the updater, delete its Jobs by label, open the toolbox and exec into its pod only", () => {
        for (const team of ["smartsre", "devops-cloud", "devops-protheus"] as TeamId[]) {
            assert.ok(teamCan(team, "patch", "batch", "cronjobs", "protheus-updater"), `${team}: kubectl patch cronjob protheus-updater`);
            assert.ok(teamCan(team, "list", "batch", "jobs") && teamCan(team, "delete", "batch", "jobs"), `${team}: kubectl delete job -l ...`);
            assert.ok(
                teamCan(team, "get", "apps", "statefulsets", "protheus-toolbox") && teamCan(team, "patch", "apps", "statefulsets/scale", "protheus-toolbox"),
                `${team}: kubectl scale statefulset protheus-toolbox --replicas=1`,
            );
            assert.ok(
                teamCan(team, "create", "", "pods/exec", "protheus-toolbox-0") && teamCan(team, "get", "", "pods"),
                `${team}: kubectl exec protheus-toolbox-0`,
            );
            assert.ok(!teamCan(team, "create", "", "pods/exec", "appserver-7d9f-abcde"), `${team}: exec into a release pod`);
        }
        for (const team of ["smartsre", "devops-protheus"] as TeamId[])
            assert.ok(teamCan(team, "create", "", "pods/exec", "protheus-updater-sleeper-0"), `${team}: kubectl cp <rpo> protheus-updater-sleeper-0:...`);
        assert.ok(!teamCan("devops-cloud", "create", "", "pods/exec", "protheus-updater-sleeper-0"), "Devops Cloud does not maintain the robots");
        assert.ok(
            !teamCan("cliente", "create", "", "pods/exec", "protheus-toolbox-0") && !teamCan("cliente", "create", "batch", "jobs"),
            "Cliente only reads logs",
        );
        assert.ok(!teamCan("dbas", "patch", "batch", "cronjobs", "protheus-updater"), "DBAs do not run updates");
    });
});

describe("access: backup bucket IAM", () => {
    it("follows the database-maintenance duty", () => {
        assert.deepEqual(
            DB_TEAMS,
            TEAM_IDS.filter((t) => dutiesOf(t).some((d) => DUTY_ACCESS[d].readsBackupBucket)),
        );
        assert.deepEqual(
            DUTY_IDS.filter((d) => DUTY_ACCESS[d].readsBackupBucket),
            ["maintain-database"],
        );
    });

    it("adds no bucket IAM when the stack has no GCS target", async () => {
        const input = resolvedStackFile(exampleStack("hml"));
        const backup = JSON.parse(input.config["protheus:backup"]!);
        backup.targets = [];
        const res = await renderProgram({ ...input, config: { ...input.config, "protheus:backup": JSON.stringify(backup) } });
        assert.deepEqual(
            byType(res, BUCKET_MEMBER).filter((r) => r.parent === "protheus:index:TeamAccess::access"),
            [],
        );
        assert.equal(byType(res, BINDING).length, TEAM_IDS.length);
    });
});

describe("access: stack config", () => {
    it("reports a missing group as a config error naming the key, and registers no resource", async () => {
        const problems = await configProblems(withAccess("hml", (a) => delete a.groups.dbas));
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0]!, /^protheus:access\.groups\.dbas is missing: required: expected the Google Group e-mail of DBAs/);
        assert.match(problems[0]!, /protheus:access\.optOut\.dbas/);
    });

    it("lists a missing group together with the other config errors", async () => {
        const input = withAccess("hml", (a) => delete a.groups.cliente, { "protheus:stage": "qa" });
        const problems = await configProblems(input);
        assert.ok(
            problems.some((p) => p.startsWith("protheus:stage ")),
            problems.join("\n"),
        );
        assert.ok(
            problems.some((p) => p.startsWith("protheus:access.groups.cliente is missing")),
            problems.join("\n"),
        );
    });

    it("lets a stack opt a team out with a reason: no Role, no binding, no bucket access for it", async () => {
        const input = withAccess("prod", (a) => {
            delete a.groups.dbas;
            a.optOut = { dbas: "restores are done by SmartSRE in this environment" };
        });
        const res = await renderProgram(input);
        const others = TEAM_IDS.filter((t) => t !== "dbas").sort();
        assert.deepEqual(byType(res, ROLE).map(teamOf).sort(), others);
        assert.deepEqual(byType(res, BINDING).map(teamOf).sort(), others);
        const readers = byType(res, BUCKET_MEMBER).filter((m) => m.parent === "protheus:index:TeamAccess::access");
        assert.deepEqual(
            readers.map((m) => m.inputs.member),
            [`group:${accessOf(input).groups.smartsre}`],
        );
    });

    it("rejects a team that has both a group and an opt-out, and an opt-out without a reason", async () => {
        const both = await configProblems(withAccess("hml", (a) => (a.optOut = { gcad: "not needed in homologation" })));
        assert.equal(both.length, 1, both.join("\n"));
        assert.match(
            both[0]!,
            /^protheus:access\.optOut\.gcad = "not needed in homologation": GCAD has both a group \(protheus:access\.groups\.gcad\) and an opt-out/,
        );
        const noReason = await configProblems(
            withAccess("hml", (a) => {
                delete a.groups.gcad;
                a.optOut = { gcad: "no" };
            }),
        );
        assert.ok(
            noReason.some((p) => /^protheus:access\.optOut\.gcad = "no": .*written reason/.test(p)),
            noReason.join("\n"),
        );
    });

    it("rejects an unknown team and a bad e-mail", async () => {
        const problems = await configProblems(
            withAccess("hml", (a) => {
                a.groups.marketing = "mkt@totvs.com.br";
                a.groups.gcad = "not-an-email";
            }),
        );
        assert.ok(
            problems.some((p) => p.startsWith('protheus:access.groups.gcad = "not-an-email"')),
            problems.join("\n"),
        );
        assert.ok(
            problems.some((p) => p.includes("marketing")),
            problems.join("\n"),
        );
    });

    it("restricts the ini rule to the ConfigMaps the stack names", async () => {
        const res = await renderProgram(withAccess("hml", (a) => (a.iniConfigMaps = ["appserver-ini", "dbaccess-ini"])));
        for (const team of ["cliente", "devops-cloud"] as const) {
            const role = byType(res, ROLE).find((r) => teamOf(r) === team)!;
            const ini = (role.inputs.rules as PolicyRule[]).filter((r) => r.resources.includes("configmaps"));
            assert.deepEqual(ini, [
                { apiGroups: [""], resources: ["configmaps"], resourceNames: ["appserver-ini", "dbaccess-ini"], verbs: ["get", "patch", "update"] },
            ]);
        }
        // A ConfigMap a robot reads, or a name the program reserves, is not an ini file: editing it would change what the robot runs.
        const taken = await configProblems(
            withAccess(
                "hml",
                (a) => (a.iniConfigMaps = ["appserver-ini", "protheus-backup-settings", "protheus-restore-request", "protheus-toolbox-x", "protheus-updater"]),
            ),
        );
        assert.deepEqual(taken, [
            'protheus:access.iniConfigMaps[1] = "protheus-backup-settings": protheus-backup-settings is a ConfigMap the program declares and its robots read; expected the name of an ini ConfigMap',
            'protheus:access.iniConfigMaps[2] = "protheus-restore-request": protheus-restore-request is a ConfigMap the program declares and its robots read; expected the name of an ini ConfigMap',
            'protheus:access.iniConfigMaps[3] = "protheus-toolbox-x": names protheus-toolbox and protheus-toolbox-* are reserved for the program\'s own objects; expected the name of an ini ConfigMap',
            'protheus:access.iniConfigMaps[4] = "protheus-updater": names protheus-updater and protheus-updater-* are reserved for the program\'s own objects; expected the name of an ini ConfigMap',
        ]);
        const bad = await configProblems(withAccess("hml", (a) => (a.iniConfigMaps = [])));
        assert.ok(
            bad.some((p) => p.startsWith("protheus:access.iniConfigMaps = []")),
            bad.join("\n"),
        );
    });
});

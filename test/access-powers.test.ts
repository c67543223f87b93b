// Effective powers (lib/access/powers.ts) from the rendered prod plan: what each
// team reaches, and that the derivation does find Secrets and accounts when the
// rules or the plan would let a team reach them.
import * as assert from "node:assert/strict";
import { MATRIX_STACK, planAccess } from "../bin/access-matrix";
import { PolicyRule } from "../lib/access/permissions";
import { PlanFacts, effectivePowers } from "../lib/access/powers";
import { TEAM_IDS, TeamId } from "../lib/access/responsibilities";
import { RenderResult, renderProgram } from "../lib/render";
import { readStackFile } from "../lib/stackFiles";

const powersOf = (rules: PolicyRule[], facts: PlanFacts) => effectivePowers(rules, facts).map((p) => p.power);
const holders = (roles: Partial<Record<TeamId, PolicyRule[]>>, facts: PlanFacts, pred: (power: string) => boolean) =>
    TEAM_IDS.filter((t) => powersOf(roles[t]!, facts).some(pred));

describe("access: effective powers in the rendered plan", () => {
    let plan: RenderResult;
    let roles: Partial<Record<TeamId, PolicyRule[]>>;
    let facts: PlanFacts;
    before(async () => {
        plan = await renderProgram(readStackFile(MATRIX_STACK));
        ({ roles, facts } = planAccess(plan));
    });

    it("lets nobody read Secrets, act as an account or run a pod spec of its own", () => {
        assert.equal(facts.guarded, true);
        assert.deepEqual(Object.keys(roles).sort(), [...TEAM_IDS].sort());
        assert.deepEqual(
            holders(
                roles,
                facts,
                (p) => p === "read Secrets" || p.startsWith("act as") || p.startsWith("use a service account") || p.startsWith("run a pod spec"),
            ),
            [],
        );
    });

    it("gives the volume (the database's backups) to the teams that exec, and the restore's choice to the database teams", () => {
        assert.deepEqual(
            holders(roles, facts, (p) => p.startsWith("read and write the volume protheus-volume")),
            ["smartsre", "devops-protheus", "devops-cloud"],
        );
        assert.deepEqual(
            holders(roles, facts, (p) => p === "change what protheus-restore runs"),
            ["smartsre", "dbas"],
        );
        assert.deepEqual(powersOf(roles.gcad!, facts), ["see the environment"]);
    });

    it("finds Secrets and accounts when nothing holds what a person creates: every team that may create Jobs or patch CronJobs", () => {
        const unguarded = { ...facts, guarded: false };
        assert.deepEqual(
            holders(roles, unguarded, (p) => p === "read Secrets"),
            ["smartsre", "devops-protheus", "devops-cloud", "dbas"],
        );
        assert.deepEqual(
            holders(roles, unguarded, (p) => p.startsWith("act as any service account")),
            ["smartsre", "devops-protheus", "devops-cloud", "dbas"],
        );
        // The guard is read from the plan: without the policies, the plan is unguarded.
        const withoutPolicies = { ...plan, resources: plan.resources.filter((r) => !r.type.endsWith(":ValidatingAdmissionPolicy")) };
        assert.equal(planAccess(withoutPolicies).facts.guarded, false);
    });

    it("finds Secrets and accounts behind exec: into any pod, or into a pod that mounts a Secret and runs as the backup's account", () => {
        const anyPod: PolicyRule = { apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] };
        assert.ok(powersOf([anyPod], facts).includes("read Secrets"));
        const copyLike = {
            type: "kubernetes:apps/v1:StatefulSet",
            inputs: {
                metadata: { name: "shell", namespace: "c2a7dv" },
                spec: {
                    template: {
                        spec: {
                            serviceAccountName: "protheus-backup",
                            containers: [
                                { name: "c", image: "x:1", env: [{ name: "P", valueFrom: { secretKeyRef: { name: "protheus-backup-database", key: "p" } } }] },
                            ],
                        },
                    },
                },
            },
        };
        const into = (pod: string): PolicyRule => ({ apiGroups: [""], resources: ["pods/exec"], resourceNames: [pod], verbs: ["create"] });
        const powers = powersOf([into("shell-0")], { ...facts, objects: [...facts.objects, copyLike] });
        assert.ok(powers.includes("read Secrets"), powers.join("; "));
        assert.ok(powers.includes("act as the Google account bkp-c2a7dv@totvs-protheus-prod.iam.gserviceaccount.com"), powers.join("; "));
        assert.deepEqual(powersOf([into("shell-0")], facts), ["exec into shell-0"], "a pod the plan does not declare is named as unknown");
    });

    it("finds a changed robot behind a writable ConfigMap the robot reads", () => {
        const settings: PolicyRule = { apiGroups: [""], resources: ["configmaps"], resourceNames: ["protheus-backup-settings"], verbs: ["patch"] };
        const changes = powersOf([settings], facts).filter((p) => p.startsWith("change what"));
        assert.equal(changes.length, 1);
        for (const robot of ["protheus-backup", "protheus-backup-manual", "protheus-restore"]) assert.ok(changes[0].includes(robot), changes[0]);
    });
});

import * as assert from "node:assert/strict";
import { rbacNoWildcards } from "../rbac-no-wildcards";
import { runResource, type TestResource } from "./harness";

function role(kind: "Role" | "ClusterRole", rules: Record<string, string[]>[]): TestResource {
    return {
        type: `kubernetes:rbac.authorization.k8s.io/v1:${kind}`,
        name: "protheus-updater",
        props: { metadata: { name: "protheus-updater", namespace: "c2a7dv" }, rules },
    };
}

describe("policy rbac-no-wildcards", () => {
    it("accepts explicit rules", async () => {
        const out = await runResource(
            rbacNoWildcards,
            role("Role", [
                { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ["get", "list", "create", "delete"] },
                { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "patch"], resourceNames: ["c2a7dv"] },
            ]),
        );
        assert.deepEqual(out.violations, []);
    });

    for (const field of ["verbs", "resources", "apiGroups", "resourceNames"] as const) {
        for (const kind of ["Role", "ClusterRole"] as const) {
            it(`reports "*" in ${field} of a ${kind}`, async () => {
                const rule: Record<string, string[]> = { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] };
                rule[field] = ["get", "*"];
                const out = await runResource(rbacNoWildcards, role(kind, [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }, rule]));
                assert.equal(out.violations.length, 1, out.violations.join("\n"));
                assert.match(
                    out.violations[0]!,
                    new RegExp(`^${kind} "protheus-updater" \\(c2a7dv/protheus-updater\\): rules\\[1\\]\\.${field} contains wildcard "\\*"`),
                );
            });
        }
    }

    it("reports each wildcard field of a rule and subresource wildcards", async () => {
        const out = await runResource(rbacNoWildcards, role("ClusterRole", [{ apiGroups: ["*"], resources: ["*/scale"], verbs: ["*"] }]));
        assert.equal(out.violations.length, 3, out.violations.join("\n"));
        assert.match(out.violations[1]!, /rules\[0\]\.resources contains wildcard "\*\/scale"/);
    });

    it("tolerates a role without rules", async () => {
        const out = await runResource(rbacNoWildcards, { type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", name: "agg", props: { metadata: {} } });
        assert.deepEqual(out.violations, []);
    });
});

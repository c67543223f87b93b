// One rule for the Pulumi logical names (components/names.ts childName): what the program
// declares follows it, and the rule itself rejects the names it is meant to keep out.
import { strict as assert } from "assert";
import { childName, logicalNameProblem } from "../components/names";
import { renderProgram } from "../lib/render";
import { everythingStack } from "./support/urns";

describe("logical names: <component> or <component>-<role>", () => {
    const cases: [component: string, name: string, problem: RegExp | undefined][] = [
        ["backup", "backup", undefined],
        ["backup", "backup-scripts", undefined],
        ["backup-storage", "backup-storage-reader-workload-identity", undefined],
        ["access", "access-devops-cloud-backup-read", undefined],
        ["alerts", "alerts-email-0", undefined],
        ["backup", "backup-backup", /repeats "backup"/],
        ["backup-copy", "backup-copy-backup-read", /repeats "backup"/],
        ["restore-drill", "restore-drill-cronjob", /names a kind \("cronjob"\)/],
        ["backup-copy", "backup-copy-sa", /names a kind \("sa"\)/],
        ["backup-copy", "backup-copy-account", /names a kind \("account"\)/],
        ["backup", "restore-template", /expected backup or backup-<role>/],
        ["backup", "backup_scripts", /kebab case/],
        ["backup", "backup-Scripts", /kebab case/],
        ["backup", "backup-", /kebab case/],
    ];
    for (const [component, name, problem] of cases) {
        it(`${name} in ${component}: ${problem ?? "follows the rule"}`, () => {
            const found = logicalNameProblem(component, name);
            if (problem === undefined) assert.equal(found, undefined);
            else assert.match(found ?? "", problem);
        });
    }

    it("childName builds the name, and refuses one against the rule", () => {
        assert.equal(childName("restore-drill"), "restore-drill");
        assert.equal(childName("restore-drill", "checks"), "restore-drill-checks");
        assert.throws(() => childName("backup", "backup"), /repeats "backup"/);
    });

    // With every optional part on, a stage declares every resource its committed stack does, and more.
    for (const stage of ["hml", "prod"] as const) {
        it(`${stage} with every optional part on: every component is named in kebab case, every other resource after its component`, async () => {
            const { resources } = await renderProgram(everythingStack(stage));
            const problems = resources.flatMap((r) => {
                // index.ts's own resources and its components (children of the namespace only for the provider and the order).
                const topLevel = r.parent === null || r.type.startsWith("protheus:index:");
                const component = topLevel ? r.name : r.parent!.slice(r.parent!.lastIndexOf("::") + 2);
                const problem = logicalNameProblem(component, r.name);
                return problem ? [`${r.type}: ${problem}`] : [];
            });
            assert.deepEqual(problems, []);
        });
    }
});

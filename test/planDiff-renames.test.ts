// The plan diff pairs resources as `pulumi preview` does: a resource renamed with an alias to its
// old name is the same resource (an update), never a removal plus an addition; a resource no
// new one answers to, by URN or alias, is a delete. In process: the diff is pure, the renders run
// the real program under mocks.
import * as assert from "assert";
import * as fs from "fs";
import { diffResources, formatDiffText, formatSummary, PlanDiff } from "../lib/planDiff";
import { PlannedResource, renderProgram, resourceKey } from "../lib/render";
import { URN_FIXTURE } from "./support/write-urn-fixture";
import { urnFixtureStacks } from "./support/urns";

const PREFIX = "urn:pulumi:c2a7dv-prod::protheus::";
const NS_TYPE = "protheus:index:EnvironmentNamespace";
const CRONJOB = "kubernetes:batch/v1:CronJob";

/** A resource as a render records it: its URN from its parent chain, its aliases when given. */
function res(type: string, name: string, inputs: Record<string, unknown>, parent?: PlannedResource, aliases?: string[]): PlannedResource {
    const chain = parent ? `${parent.urn!.slice(PREFIX.length, parent.urn!.lastIndexOf("::"))}$${type}` : type;
    return {
        type,
        name,
        parent: parent ? resourceKey(parent.type, parent.name) : null,
        inputs,
        urn: `${PREFIX}${chain}::${name}`,
        ...(aliases && { aliases }),
    };
}

/** A resource as a plan that predates recorded URNs printed it. */
const unrecorded = ({ urn: _urn, aliases: _aliases, ...r }: PlannedResource): PlannedResource => r;

const actions = (diff: PlanDiff) => diff.resources.map((d) => `${d.action} ${d.key}${d.renamedFrom ? ` from ${d.renamedFrom}` : ""}`);
const text = (diff: PlanDiff) => formatDiffText("c2a7dv-prod", diff, { base: "main", target: "working tree" });

describe("plan diff: renames through aliases (lib/planDiff.ts)", () => {
    const ns = res(NS_TYPE, "namespace", {});
    const backup = res("protheus:index:NightlyBackup", "backup", {}, ns);
    const job = (name: string, schedule: string, aliases?: string[]) => res(CRONJOB, name, { spec: { schedule } }, backup, aliases);
    const oldJobUrn = `${PREFIX}${NS_TYPE}$protheus:index:NightlyBackup$${CRONJOB}::backup-backup`;

    it("shows a resource renamed with an alias as one change, renamed from its old name, with its input changes", () => {
        const diff = diffResources([ns, backup, job("backup-backup", "0 21 * * *")], [ns, backup, job("backup", "0 22 * * *", [oldJobUrn])]);
        assert.deepStrictEqual(actions(diff), [`change ${CRONJOB}::backup from ${CRONJOB}::backup-backup`]);
        assert.deepStrictEqual(diff.summary, { add: 0, change: 1, remove: 0 });
        assert.deepStrictEqual(diff.resources[0].changes, [{ path: "spec.schedule", kind: "change", before: "0 21 * * *", after: "0 22 * * *" }]);
        const out = text(diff);
        assert.ok(
            out.includes(
                `~ ${CRONJOB}  backup  (parent protheus:index:NightlyBackup::backup)\n` +
                    `    renamed from backup-backup: an alias keeps it (no delete, no create)\n` +
                    `    ~ spec.schedule: "0 21 * * *" → "0 22 * * *"\n`,
            ),
            out,
        );
        assert.match(out, /^c2a7dv-prod: 1 to change, 0 to add, 0 to remove \(1 renamed\)$/m);
    });

    it("shows a rename with no other change, and names the old type when the alias changes it", () => {
        const before = res("protheus:index:BackupSchedule", "backup", {}, ns);
        const after = res("protheus:index:NightlyBackup", "backup", {}, ns, [before.urn!]);
        const diff = diffResources([ns, before], [ns, after]);
        assert.deepStrictEqual(actions(diff), ["change protheus:index:NightlyBackup::backup from protheus:index:BackupSchedule::backup"]);
        assert.deepStrictEqual(diff.resources[0].changes, []);
        assert.match(text(diff), /^ {4}renamed from protheus:index:BackupSchedule::backup: an alias keeps it/m);
    });

    it("pairs the old side by the URN its parent chain gives it when its plan recorded none", () => {
        const diff = diffResources([ns, backup, job("backup-backup", "0 21 * * *")].map(unrecorded), [ns, backup, job("backup", "0 21 * * *", [oldJobUrn])]);
        assert.deepStrictEqual(actions(diff), [`change ${CRONJOB}::backup from ${CRONJOB}::backup-backup`]);
    });

    it("takes a child over under its renamed parent's old URN, as the engine's inherited aliases do", () => {
        const oldParent = res("protheus:index:BackupSchedule", "schedule", {}, ns);
        const oldChild = res(CRONJOB, "schedule-nightly", {}, oldParent);
        const parent = res("protheus:index:NightlyBackup", "backup", {}, ns, [oldParent.urn!]);
        // No alias of its own: `<parent name>-nightly` under the parent's old URN is `schedule-nightly`.
        const child = res(CRONJOB, "backup-nightly", {}, parent);
        const diff = diffResources([ns, oldParent, oldChild], [ns, parent, child]);
        assert.deepStrictEqual(actions(diff), [
            "change protheus:index:NightlyBackup::backup from protheus:index:BackupSchedule::schedule",
            `change ${CRONJOB}::backup-nightly from ${CRONJOB}::schedule-nightly`,
        ]);
        // A parent matched under its own URN passes nothing on: the child is new, the old one deleted.
        const diffWithoutParentAlias = diffResources([ns, oldParent, oldChild], [ns, res("protheus:index:NightlyBackup", "backup", {}, ns), child]);
        assert.deepStrictEqual(actions(diffWithoutParentAlias), [
            "add protheus:index:NightlyBackup::backup",
            `add ${CRONJOB}::backup-nightly`,
            "remove protheus:index:BackupSchedule::schedule",
            `remove ${CRONJOB}::schedule-nightly`,
        ]);
    });

    it("shows a resource whose alias matches nothing as new, and a resource nobody answers to as removed", () => {
        const diff = diffResources([ns, backup, job("nightly", "0 21 * * *")], [ns, backup, job("backup", "0 21 * * *", [oldJobUrn])]);
        assert.deepStrictEqual(actions(diff), [`add ${CRONJOB}::backup`, `remove ${CRONJOB}::nightly`]);
        assert.deepStrictEqual(diff.summary, { add: 1, change: 0, remove: 1 });
        assert.match(formatSummary("c2a7dv-prod", diff), /^c2a7dv-prod: 0 to change, 1 to add, 1 to remove$/);
    });

    it("lets one resource only take an old resource over: a second claim is a new resource", () => {
        const diff = diffResources(
            [ns, backup, job("backup-backup", "0 21 * * *")],
            [ns, backup, job("backup", "0 21 * * *", [oldJobUrn]), job("backup-copy", "0 6 * * *", [oldJobUrn])],
        );
        assert.deepStrictEqual(actions(diff), [`change ${CRONJOB}::backup from ${CRONJOB}::backup-backup`, `add ${CRONJOB}::backup-copy`]);
    });
});

describe("plan diff: the program's renamed logical names against stacks deployed with the old ones", () => {
    const recorded = JSON.parse(fs.readFileSync(URN_FIXTURE, "utf8")) as Record<string, string[]>;
    // The resources the program renamed, by their key now, with the name deployed stacks hold them under.
    const OLD_NAMES: Record<string, string> = {
        [`${CRONJOB}::backup`]: "backup-backup",
        [`${CRONJOB}::restore-drill`]: "restore-drill-cronjob",
        "gcp:serviceaccount/account:Account::backup-copy": "backup-copy-account",
        "kubernetes:core/v1:ServiceAccount::backup-copy": "backup-copy-sa",
    };
    const oldKey = (key: string) => (OLD_NAMES[key] ? `${key.slice(0, key.indexOf("::"))}::${OLD_NAMES[key]}` : key);
    /** The program's render with the old names, as a plan from before the rename prints it (no URNs, no aliases). */
    const withOldNames = (resources: PlannedResource[]): PlannedResource[] =>
        resources.map((r) => {
            const key = resourceKey(r.type, r.name);
            return { ...unrecorded(r), name: OLD_NAMES[key] ?? r.name, parent: r.parent === null ? null : oldKey(r.parent) };
        });

    for (const [label, input] of Object.entries(urnFixtureStacks())) {
        describe(label, () => {
            let now: PlannedResource[];
            before(async () => {
                now = (await renderProgram(input)).resources;
            });
            const renamedHere = () => now.map((r) => resourceKey(r.type, r.name)).filter((k) => OLD_NAMES[k]);

            it("the old names are the URNs the deployed stack holds: with them the program declares the recorded URNs exactly", () => {
                const oldUrns = now.map((r) =>
                    OLD_NAMES[resourceKey(r.type, r.name)] ? r.urn!.replace(/::[^:]+$/, `::${OLD_NAMES[resourceKey(r.type, r.name)]}`) : r.urn!,
                );
                assert.deepStrictEqual(oldUrns.sort(), [...recorded[label]].sort());
            });

            it("shows each renamed resource as renamed from its old name: no removal, no addition", () => {
                const diff = diffResources(withOldNames(now), now);
                assert.ok(renamedHere().length > 0, "the stack declares a renamed resource");
                assert.deepStrictEqual(
                    actions(diff),
                    renamedHere().map((k) => `change ${k} from ${oldKey(k)}`),
                );
                assert.deepStrictEqual(diff.summary, { add: 0, change: renamedHere().length, remove: 0 });
                assert.ok(diff.resources.every((d) => d.changes.length === 0 && !d.parentChanged));
                const out = text(diff);
                for (const k of renamedHere()) assert.ok(out.includes(`    renamed from ${OLD_NAMES[k]}: an alias keeps it (no delete, no create)\n`), out);
                assert.ok(!/^[-+] /m.test(out), out);
            });

            it("without the aliases the same renames are deletes and creates (the aliases are what keeps them)", () => {
                const diff = diffResources(
                    withOldNames(now),
                    now.map(({ aliases: _aliases, ...r }) => r),
                );
                assert.deepStrictEqual(diff.summary, { add: renamedHere().length, change: 0, remove: renamedHere().length });
            });

            it("still shows a real delete: a resource gone with no alias pointing at it", () => {
                const gone = now.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!;
                const diff = diffResources(
                    withOldNames(now),
                    now.filter((r) => r !== gone),
                );
                assert.deepStrictEqual(actions(diff), [
                    ...renamedHere().map((k) => `change ${k} from ${oldKey(k)}`),
                    `remove ${resourceKey(gone.type, gone.name)}`,
                ]);
                assert.match(text(diff), new RegExp(`^- kubernetes:core/v1:ConfigMap {2}${gone.name}`, "m"));
            });

            it("pairs every resource with itself by the URN its parent chain gives it, as with a plan that recorded none", () => {
                assert.ok(now.every((r) => r.urn?.startsWith(`urn:pulumi:${input.stack}::protheus::`)));
                assert.deepStrictEqual(diffResources(now.map(unrecorded), now).resources, []);
            });
        });
    }
});

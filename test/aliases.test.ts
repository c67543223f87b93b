// Stacks deployed with one BackupSchedule component hold what NightlyBackup, OffsiteCopy and
// RestoreTemplate declare, and the copy's Google service account and its grants under BackupStorage.
// Such a stack must see each of its resources again under an alias (a move, not a replacement).
import { strict as assert } from "assert";
import { resourceType } from "../lib/pulumiInternals";
import { declaredUrns, matchState } from "./support/urns";
import { stackWith } from "./support/stacks";

// The resources of the backup cycle as a stack deployed before the split has them: parent chain and name.
const BEFORE_SPLIT = [
    "protheus:index:BackupSchedule::backup",
    "protheus:index:BackupSchedule$kubernetes:core/v1:ConfigMap::backup-scripts",
    "protheus:index:BackupSchedule$kubernetes:core/v1:ConfigMap::backup-settings",
    "protheus:index:BackupSchedule$kubernetes:batch/v1:CronJob::backup-backup",
    "protheus:index:BackupSchedule$kubernetes:batch/v1:CronJob::backup-copy",
    "protheus:index:BackupSchedule$kubernetes:batch/v1:CronJob::backup-restore",
    "protheus:index:BackupSchedule$kubernetes:core/v1:ServiceAccount::backup-sa",
    "protheus:index:BackupStorage$gcp:serviceaccount/account:Account::backup-storage-copy",
    "protheus:index:BackupStorage$gcp:serviceaccount/iAMMember:IAMMember::backup-storage-workload-identity",
    "protheus:index:BackupStorage$gcp:storage/bucketIAMMember:BucketIAMMember::backup-storage-copy-create",
    "protheus:index:BackupStorage$gcp:storage/bucketIAMMember:BucketIAMMember::backup-storage-copy-read",
];

describe("resources moved by the split of the backup components keep their identity", () => {
    for (const stage of ["prod", "hml"] as const) {
        it(`${stage}: every resource of the old layout is one resource's URN or alias`, async () => {
            const all = await declaredUrns(stackWith(stage));
            const namespaceUrn = all.find(({ resource }) => resourceType(resource) === "protheus:index:EnvironmentNamespace")!.urn;
            const prefix = `${namespaceUrn.slice(0, namespaceUrn.lastIndexOf("::"))}$`;
            // The check can fail: a URN nobody answers to is reported.
            const nobodys = `${prefix}protheus:index:BackupSchedule$kubernetes:batch/v1:CronJob::backup-nightly`;
            const state = [...BEFORE_SPLIT.map((s) => prefix + s), nobodys];
            const taken = new Set(matchState(all, new Set(state)).values());
            assert.deepEqual(
                state.filter((old) => !taken.has(old)),
                [nobodys],
            );
        });
    }
});

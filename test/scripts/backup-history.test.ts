/**
 * scripts/backup.sh and restore.sh: why a backup was taken (BACKUP_REASON and
 * versions in MANIFEST.json) and which backup a restore picks (latest,
 * before:<version>, a name) from the volume and from GCS.
 *
 * Real parts: a throwaway PostgreSQL 15, the gcloud CLI pointed at an
 * in-process fake GCS JSON API, and a temp dir standing in for the backup
 * volume. The offsite copy is put into the fake bucket directly (putBackup):
 * here it is only where restore.sh chooses from.
 *
 * As in production, the Protheus database belongs to an application role
 * (`protheus`), and the scripts connect as the least-privilege roles that
 * docs/backups.md tells DBAs to create (created here by running that SQL):
 * backup.sh as protheus_backup, restore.sh as protheus_restore. The server's
 * superuser only builds the fixture and inspects the results.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { fakeCommands, pathWithout } from "./support/fake-commands";
import { putBackup } from "./support/fake-gcs";
import { RunResult } from "./support/run";
import { fingerprint, owners } from "./support/protheus-fixture";
import { useScriptFixture, completeBackups, oneLine, NS, APP_ROLE } from "./support/script-fixture";

const DB = "p01";
const BUCKET = "protheus-backups-history";

describe("backup reasons and restore selection (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: BUCKET, sizeMb: 4, leastPrivilegeRoles: true });
    const { freshDirs, script, backup } = fx;

    describe("why a backup was taken (BACKUP_REASON) and which one a restore picks", function () {
        const FROM = "12.1.2410";
        const TO = "12.1.2510";
        const upgrade = { BACKUP_REASON: "pre-upgrade", BACKUP_FROM_VERSION: FROM, BACKUP_TO_VERSION: TO };
        const rollback = { BACKUP_REASON: "pre-rollback", BACKUP_FROM_VERSION: TO, BACKUP_TO_VERSION: FROM };
        const readManifest = (dbDir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dbDir, name, "MANIFEST.json"), "utf8"));
        /**
         * A copy of the file's backup (reason manual, no versions) recording `reason` and versions as
         * backup.sh writes them (the test above checks that it does): where restore.sh chooses from.
         */
        const copyWithReason = (backupDir: string, env: Record<string, string>) =>
            fx.copyOfBackup(backupDir, (m) =>
                m.replace(
                    '  "reason": "manual",\n  "from_version": null,\n  "to_version": null,\n',
                    [
                        `  "reason": "${env.BACKUP_REASON}",`,
                        `  "from_version": ${env.BACKUP_FROM_VERSION ? `"${env.BACKUP_FROM_VERSION}"` : "null"},`,
                        `  "to_version": ${env.BACKUP_TO_VERSION ? `"${env.BACKUP_TO_VERSION}"` : "null"},`,
                        "",
                    ].join("\n"),
                ),
            );

        it("backup.sh refuses a bad reason, a missing or malformed version (exit 2, nothing written)", async function () {
            const { backupDir, dbDir } = freshDirs();
            const cases: [Record<string, string>, RegExp][] = [
                [{ BACKUP_REASON: "weekly" }, /^backup: BACKUP_REASON must be nightly, pre-upgrade, pre-rollback or manual: weekly$/],
                [{ BACKUP_REASON: "Nightly" }, /BACKUP_REASON must be/],
                [{ BACKUP_REASON: "pre-upgrade", BACKUP_TO_VERSION: TO }, /^backup: BACKUP_FROM_VERSION is required when BACKUP_REASON is pre-upgrade$/],
                [{ BACKUP_REASON: "pre-upgrade", BACKUP_FROM_VERSION: FROM }, /^backup: BACKUP_TO_VERSION is required when BACKUP_REASON is pre-upgrade$/],
                [
                    { BACKUP_REASON: "pre-rollback", BACKUP_FROM_VERSION: TO, BACKUP_TO_VERSION: "" },
                    /BACKUP_TO_VERSION is required when BACKUP_REASON is pre-rollback/,
                ],
                [{ ...upgrade, BACKUP_TO_VERSION: "12.1" }, /^backup: BACKUP_TO_VERSION must be a version like 12.1.2510 or 12.1.2510-3: 12.1$/],
                [{ ...upgrade, BACKUP_FROM_VERSION: "v12.1.2410" }, /BACKUP_FROM_VERSION must be a version/],
                [{ BACKUP_REASON: "nightly", BACKUP_TO_VERSION: "12.1.2510 " }, /BACKUP_TO_VERSION must be a version/],
            ];
            for (const [env, reason] of cases) {
                const r = await script("backup", { BACKUP_DIR: backupDir, ...env });
                assert.equal(r.status, 2, `${JSON.stringify(env)}: ${r.stderr}`);
                assert.match(oneLine(r), reason);
            }
            assert.equal(fs.existsSync(dbDir), false, "nothing written");
        });

        it("MANIFEST.json records reason, from_version and to_version (JSON and the bash readers)", async function () {
            const { backupDir, dbDir } = freshDirs();
            const up = await backup(backupDir, upgrade);
            const nightly = await backup(backupDir, { BACKUP_REASON: "nightly" });
            assert.deepEqual(
                [readManifest(dbDir, up), readManifest(dbDir, nightly)].map((m) => [m.reason, m.from_version, m.to_version]),
                [
                    ["pre-upgrade", FROM, TO],
                    ["nightly", null, null],
                ],
            );
            // the new fields do not disturb verification and shipping
            const v = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: up }, ["--verify-only"]);
            assert.equal(v.status, 0, v.stderr);
        });

        describe("a history of backups around an upgrade and its rollback", function () {
            // oldest to newest: nightly, pre-upgrade to 2510, a second pre-upgrade to 2510
            // (the upgrade retried), nightly, pre-rollback from 2510 (the broken state)
            let backupDir: string;
            let dbDir: string;
            let names: { nightly1: string; up1: string; up2: string; nightly2: string; rollback: string };
            let marker: string;
            before(async function () {
                ({ backupDir, dbDir } = freshDirs());
                const nightly1 = await copyWithReason(backupDir, { BACKUP_REASON: "nightly" });
                const up1 = await copyWithReason(backupDir, upgrade);
                // the data changes between the two pre-upgrade backups: tells them apart after a restore
                marker = `m${Date.now()}`;
                fx.pg.psql(`SET ROLE ${APP_ROLE}; CREATE TABLE zz_marker (v text); INSERT INTO zz_marker VALUES ('${marker}')`, DB);
                const up2 = await backup(backupDir, upgrade);
                fx.pg.psql("DROP TABLE zz_marker", DB);
                const nightly2 = await copyWithReason(backupDir, { BACKUP_REASON: "nightly" });
                const rollback2 = await copyWithReason(backupDir, rollback);
                names = { nightly1, up1, up2, nightly2, rollback: rollback2 };
                assert.deepEqual(completeBackups(dbDir), [nightly1, up1, up2, nightly2, rollback2]);
                // the offsite copy, as copy.sh leaves it (copy.sh itself is tested in backup-copy.test.ts)
                for (const name of Object.values(names)) putBackup(fx.gcs, BUCKET, `${NS}-history/${name}`, path.join(dbDir, name));
            });

            const verified = (r: RunResult) => {
                assert.equal(r.status, 0, r.stderr);
                const m = /^restore: verified .*\/(\d{8}T\d{6}Z)$/m.exec(r.stdout);
                assert.ok(m, r.stdout);
                return m[1];
            };
            const fromVolume = (sel: string) => script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: sel }, ["--verify-only"]);
            const gcsEnv = () => ({
                BACKUP_DIR: backupDir,
                RESTORE_SOURCE: "gcs",
                GCS_BUCKET: BUCKET,
                BACKUP_NAMESPACE: `${NS}-history`,
                RESTORE_STAGING_DIR: path.join(backupDir, ".staging-history"),
            });

            it("volume: latest skips the pre-rollback backup; before:<version> is the newest pre-upgrade to it; a name is taken as named", async function () {
                assert.equal(verified(await fromVolume("latest")), names.nightly2);
                assert.equal(verified(await fromVolume(`before:${TO}`)), names.up2);
                assert.equal(verified(await fromVolume(names.rollback)), names.rollback);
                assert.equal(verified(await fromVolume(names.up1)), names.up1);
            });

            it("volume: a before:/latest that matches nothing is exit 4 with a one-line reason; a bad version is exit 2", async function () {
                const none = await fromVolume(`before:${FROM}`); // the rollback went TO 2410, but that is not a pre-upgrade backup
                assert.equal(none.status, 4);
                assert.equal(oneLine(none), `restore: no complete pre-upgrade backup to version ${FROM} in ${dbDir}`);
                const onlyRollback = freshDirs();
                await copyWithReason(onlyRollback.backupDir, rollback);
                const latest = await script("restore", { BACKUP_DIR: onlyRollback.backupDir }, ["--verify-only"]);
                assert.equal(latest.status, 4);
                assert.match(oneLine(latest), /^restore: no complete backup \(other than pre-rollback ones, which are restored only by name\) in /);
                for (const bad of ["before:", "before:12.1", "before:latest", "before: 12.1.2510", "after:12.1.2510", "Latest"]) {
                    const r = await fromVolume(bad);
                    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
                    assert.match(oneLine(r), /^restore: RESTORE_BACKUP /);
                }
            });

            /** Verified copies in `stagingDir`, as an earlier download leaves them: a choice is then read from the bucket, not downloaded again. */
            const stage = (stagingDir: string, ...backups: string[]) => {
                for (const name of backups) fs.cpSync(path.join(dbDir, name), path.join(stagingDir, name), { recursive: true });
            };

            it("gcs: the same choices, read from the manifests in the bucket", async function () {
                // The downloads themselves are tested in backup-scripts and drill; here gcloud only lists and reads manifests.
                stage(gcsEnv().RESTORE_STAGING_DIR, ...Object.values(names));
                const r = await script("restore", { ...gcsEnv(), RESTORE_BACKUP: "latest" }, ["--verify-only"]);
                assert.match(r.stdout, new RegExp(`^restore: using staged copy .*/${names.nightly2}$`, "m"));
                assert.equal(verified(r), names.nightly2);
                assert.match(r.stdout, new RegExp(`^restore: latest is ${names.nightly2}$`, "m"));
                assert.equal(verified(await script("restore", { ...gcsEnv(), RESTORE_BACKUP: `before:${TO}` }, ["--verify-only"])), names.up2);
                const none = await script("restore", { ...gcsEnv(), RESTORE_BACKUP: "before:12.1.2610" }, ["--verify-only"]);
                assert.equal(none.status, 4);
                assert.equal(oneLine(none), `restore: no complete pre-upgrade backup to version 12.1.2610 under gs://${BUCKET}/${NS}-history/`);
            });

            it("gcs: manifests are read five per gcloud call, newest first; a choice further back is found in a later call", async function () {
                // the pre-upgrade backup, then six newer nightlies (copies of one under later names)
                const prefix = `${NS}-many`;
                putBackup(fx.gcs, BUCKET, `${prefix}/${names.up2}`, path.join(dbDir, names.up2));
                for (let d = 1; d <= 6; d++) putBackup(fx.gcs, BUCKET, `${prefix}/2099010${d}T000000Z`, path.join(dbDir, names.nightly2));
                // gcloud, through a wrapper that notes each command
                const calls = path.join(fx.tmp, "gcloud-calls");
                const realGcloud = execFileSync("bash", ["-c", "command -v gcloud"], { encoding: "utf8" }).trim();
                const PATH = fakeCommands(fx.pg, path.join(fx.tmp, "gcloud-noting"), { gcloud: `echo "$2" >> "${calls}"\nexec "${realGcloud}" "$@"` });
                const staging = path.join(backupDir, ".staging-many");
                stage(staging, names.up2);
                const r = await script(
                    "restore",
                    {
                        ...gcsEnv(),
                        BACKUP_NAMESPACE: prefix,
                        RESTORE_STAGING_DIR: staging,
                        RESTORE_BACKUP: `before:${TO}`,
                        PATH,
                    },
                    ["--verify-only"],
                );
                assert.equal(verified(r), names.up2);
                assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), ["ls", "cat", "cat"]);
            });

            it("gcs without gcloud (postgres container): before:/latest are chosen from the staged manifests", async function () {
                const env = { ...gcsEnv(), RESTORE_STAGING_DIR: path.join(backupDir, ".staging-nogcloud") };
                // the cloud-sdk init container fetched before:<TO> (for real, through gcloud) and, earlier, the
                // pre-rollback backup by name (staged here as --fetch-only leaves it: a copy under its name)
                const fetched = await script("restore", { ...env, RESTORE_BACKUP: `before:${TO}` }, ["--fetch-only"]);
                assert.equal(fetched.status, 0, fetched.stderr);
                assert.ok(fs.existsSync(path.join(env.RESTORE_STAGING_DIR, names.up2, "MANIFEST.json")), "before:<TO> staged under its name");
                stage(env.RESTORE_STAGING_DIR, names.rollback);
                const noGcloud = { ...env, PATH: pathWithout(fx.pg, path.join(fx.tmp, "no-gcloud"), ["gcloud"]) };
                assert.equal(
                    verified(await script("restore", { ...noGcloud, RESTORE_BACKUP: "latest" }, ["--verify-only"])),
                    names.up2,
                    "latest is not the staged pre-rollback backup",
                );
                assert.equal(verified(await script("restore", { ...noGcloud, RESTORE_BACKUP: `before:${TO}` }, ["--verify-only"])), names.up2);
                const none = await script("restore", { ...noGcloud, RESTORE_BACKUP: "before:12.1.2610" }, ["--verify-only"]);
                assert.equal(none.status, 2);
                assert.match(oneLine(none), /no staged copy of before:12\.1\.2610 .*--fetch-only/);
            });

            it("restore before:<version> (as protheus_restore) brings back the data of the newest pre-upgrade backup", async function () {
                const target = "p01_before";
                const r = await script("restore", { BACKUP_DIR: backupDir, RESTORE_BACKUP: `before:${TO}`, RESTORE_DATABASE: target });
                assert.equal(r.status, 0, r.stderr);
                assert.match(r.stdout, new RegExp(`restored backup ${names.up2} into database "${target}"`));
                assert.equal(fx.pg.psql("SELECT v FROM zz_marker", target).trim(), marker, "the second pre-upgrade backup, not the first");
                assert.deepEqual(fingerprint(fx.pg, target), fx.original);
                assert.deepEqual(owners(fx.pg, target), { database: APP_ROLE, objects: [APP_ROLE] });
                fx.pg.psql(`DROP DATABASE ${target}`);
            });
        });
    });
});

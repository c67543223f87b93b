/**
 * The robots' scripts with a read-only root filesystem, as their pods run them: every mount
 * read-only (test/scripts/support/readOnlyRoot.ts) except a scratch dir standing for the /tmp
 * emptyDir, the environment volume and the Rubrik dir; HOME, TMPDIR, CLOUDSDK_CONFIG and
 * PSQL_HISTORY set as the pods set them (components/podSecurity.ts, scratchEnv), moved to
 * the scratch dir. Real PostgreSQL 15, the real gcloud against the fake GCS.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { SCRATCH_MOUNT, scratchEnv } from "../../components/podSecurity";
import { fingerprint } from "./support/protheus-fixture";
import { readOnlyRoot } from "./support/readOnlyRoot";
import { run } from "./support/run";
import { NS, useScriptFixture } from "./support/script-fixture";

const DB = "p09";
const BUCKET = "protheus-backups-readonly";

describe("backup scripts with a read-only root filesystem (real PostgreSQL 15)", function () {
    this.timeout(240_000);
    const fx = useScriptFixture({ database: DB, bucket: BUCKET, sizeMb: 2, leastPrivilegeRoles: true });

    /** A pod's writable places, and the scratch variables pointing into its scratch dir. */
    function pod() {
        const { base, backupDir, rubrikDir } = fx.freshDirs();
        const scratch = path.join(base, "scratch");
        fs.mkdirSync(scratch);
        const env = Object.fromEntries(scratchEnv().map((e) => [e.name, String(e.value).replace(SCRATCH_MOUNT, scratch)]));
        const volume = path.dirname(backupDir);
        return { scratch, backupDir, rubrikDir, env, prefix: readOnlyRoot([scratch, volume, rubrikDir]) };
    }

    it("the namespace is read-only but for the pod's volumes", async function () {
        const p = pod();
        const [cmd, ...args] = [
            ...p.prefix,
            "sh",
            "-c",
            `touch "${p.scratch}/ok" "${p.backupDir}/ok" && ! touch "${fx.tmp}/no" 2>/dev/null && ! touch /no 2>/dev/null`,
        ];
        const r = await run(cmd, args);
        assert.equal(r.status, 0, r.stderr);
        assert.ok(fs.existsSync(path.join(p.scratch, "ok")) && !fs.existsSync(path.join(fx.tmp, "no")));
    });

    it("backup.sh, copy.sh to Rubrik and GCS, restore.sh from GCS and from the volume all run, writing only there", async function () {
        const p = pod();
        const backup = await fx.script("backup", { ...p.env, BACKUP_DIR: p.backupDir }, [], { prefix: p.prefix });
        assert.equal(backup.status, 0, backup.stderr);
        const name = /complete: (\S+)/.exec(backup.stdout)![1].split("/").pop()!;

        const copy = await fx.script(
            "copy",
            { ...p.env, BACKUP_DIR: p.backupDir, BACKUP_TARGETS: "rubrik,gcs", BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: p.rubrikDir },
            [],
            { prefix: p.prefix },
        );
        assert.equal(copy.status, 0, copy.stderr);
        assert.ok(fx.gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`));
        // gcloud kept its configuration on the scratch volume.
        assert.ok(fs.existsSync(path.join(p.scratch, "gcloud")));

        fs.rmSync(path.join(p.backupDir, DB), { recursive: true });
        const gcs = { ...p.env, BACKUP_DIR: p.backupDir, RESTORE_SOURCE: "gcs", GCS_BUCKET: BUCKET, BACKUP_NAMESPACE: NS, RESTORE_BACKUP: name };
        const fetch = await fx.script("restore", gcs, ["--fetch-only"], { prefix: p.prefix });
        assert.equal(fetch.status, 0, fetch.stderr);
        fx.pg.psql(`DROP DATABASE ${DB}`);
        const restore = await fx.script("restore", { ...gcs, GCLOUD: "/nonexistent/gcloud" }, [], { prefix: p.prefix });
        assert.equal(restore.status, 0, restore.stderr);
        assert.deepEqual(fingerprint(fx.pg, DB), fx.original);
    });

    it("fails loudly when the scratch variables point at the read-only root", async function () {
        const p = pod();
        const r = await fx.script("backup", { ...p.env, TMPDIR: fx.tmp, BACKUP_DIR: p.backupDir }, [], { prefix: p.prefix });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /Read-only file system/);
    });
});

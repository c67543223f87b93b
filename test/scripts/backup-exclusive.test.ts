/**
 * scripts/backup.sh when backups of one database overlap (the nightly and a
 * manual or pre-upgrade run started in the same second) or one is killed:
 * every run either yields a complete backup that verifies, or exits non-zero
 * saying another backup of the database is running; a killed run's remains
 * are named in the next run's outcome line and removed.
 *
 * Real parts: a throwaway PostgreSQL 15 with its pg_dump and psql, a temp dir
 * standing in for the backup volume.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fakeCommands } from "./support/fake-commands";
import { useScriptFixture, completeBackups, oneLine, outcome } from "./support/script-fixture";
import { waitFor } from "../support/wait";

const DB = "p01";

/** Every file MANIFEST.json lists is there with its size and SHA-256; returns how many. */
function verifyBackup(dir: string): number {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "MANIFEST.json"), "utf8")) as {
        files: { name: string; size: number; sha256: string }[];
        file_count: number;
    };
    assert.equal(manifest.files.length, manifest.file_count);
    assert.ok(manifest.files.some((f) => f.name === "toc.dat"));
    for (const f of manifest.files) {
        const file = path.join(dir, f.name);
        assert.ok(fs.existsSync(file), `${f.name} listed in ${dir}/MANIFEST.json is missing`);
        const data = fs.readFileSync(file);
        assert.equal(data.length, f.size, `${f.name}: size`);
        assert.equal(createHash("sha256").update(data).digest("hex"), f.sha256, `${f.name}: SHA-256`);
    }
    return manifest.files.length;
}

describe("backup.sh owns its backup directory (real PostgreSQL 15)", function () {
    this.timeout(600_000);
    const fx = useScriptFixture({ database: DB, bucket: "protheus-backups-exclusive", sizeMb: 2, leastPrivilegeRoles: true });
    const { freshDirs, script } = fx;

    for (const [together, rounds] of [
        [2, 5],
        [3, 3],
    ] as const) {
        it(`${together} backups started at the same instant, ${rounds} times: each one complete and verifiable, or exit 1 "another backup of p01 is running"`, async function () {
            let ok = 0;
            for (let round = 0; round < rounds; round++) {
                const { backupDir, dbDir } = freshDirs();
                const runs = await Promise.all(Array.from({ length: together }, () => script("backup", { BACKUP_DIR: backupDir })));
                const published: string[] = [];
                for (const r of runs) {
                    const o = outcome(r);
                    if (r.status === 0) {
                        assert.equal(o.status, "ok");
                        const name = String(o.backup);
                        assert.ok(
                            fs.existsSync(path.join(dbDir, name, "MANIFEST.json")),
                            `round ${round}: "ok" for ${name} without its MANIFEST.json:\n${r.stdout}${r.stderr}`,
                        );
                        verifyBackup(path.join(dbDir, name));
                        const manifest = JSON.parse(fs.readFileSync(path.join(dbDir, name, "MANIFEST.json"), "utf8"));
                        assert.equal(o.bytes, manifest.total_bytes);
                        published.push(name);
                    } else {
                        assert.equal(r.status, 1, r.stderr);
                        assert.equal(o.status, "failed");
                        assert.match(oneLine(r), /^backup: another backup of p01 is running/);
                    }
                }
                assert.ok(published.length >= 1, `round ${round}: no run succeeded:\n${runs.map((r) => r.stderr).join("")}`);
                assert.equal(new Set(published).size, published.length, "two runs reported the same backup");
                assert.deepEqual(completeBackups(dbDir), [...published].sort(), "exactly the backups reported ok are complete");
                assert.deepEqual(
                    fs.readdirSync(dbDir).filter((n) => n.endsWith(".partial")),
                    [],
                    "no .partial left",
                );
                ok += published.length;
            }
            assert.ok(ok >= rounds);
        });
    }

    it("a backup killed (SIGKILL) midway: the next backup names its .partial in its outcome line and removes it", async function () {
        const { base, backupDir, dbDir } = freshDirs();
        // pg_dump that finishes writing, then hangs: the .partial dir looks complete except for the manifest.
        const PATH = fakeCommands(fx.pg, path.join(base, "bin"), {
            pg_dump: `[ "$1" = --version ] && exec "${fx.pg.binDir}/pg_dump" --version\n"${fx.pg.binDir}/pg_dump" "$@" || exit $?\nexec sleep 600`,
        });
        let pid = 0;
        const running = script("backup", { BACKUP_DIR: backupDir, PATH }, [], { detached: true, onSpawn: (c) => (pid = c.pid ?? 0) });
        let partial = "";
        await waitFor(() => {
            partial = fs.existsSync(dbDir) ? (fs.readdirSync(dbDir).find((n) => n.endsWith(".partial")) ?? "") : "";
            return partial !== "" && fs.existsSync(path.join(dbDir, partial, "toc.dat"));
        }, "the dump to be written");
        process.kill(-pid, "SIGKILL");
        const killed = await running;
        assert.equal(killed.signal, "SIGKILL");
        assert.equal(killed.stdout.split("\n").filter((l) => l.startsWith("{")).length, 0, "a killed run prints no outcome line");

        const next = await script("backup", { BACKUP_DIR: backupDir });
        assert.equal(next.status, 0, next.stderr);
        const o = outcome(next);
        assert.equal(o.status, "ok");
        assert.equal(o.interrupted, `${partial} removed (an interrupted backup's .partial)`);
        assert.match(next.stdout, new RegExp(`removed ${partial.replace(".", "\\.")}: left by an interrupted backup`));
        assert.equal(fs.existsSync(path.join(dbDir, partial)), false);
        assert.deepEqual(completeBackups(dbDir), [o.backup]);
        verifyBackup(path.join(dbDir, String(o.backup)));
    });
});

/**
 * scripts/backup.sh, copy.sh, restore.sh against a real throwaway PostgreSQL
 * 15, the real gcloud CLI pointed at an in-process fake GCS JSON API, and a
 * temp dir standing in for the Rubrik Managed Volume.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPostgres, PgServer } from '../support/postgres';
import { startFakeGcs, gcloudEnv, FakeGcs } from './support/fake-gcs';
import { run, RunOptions, RunResult } from './support/run';
import { createProtheusDatabase, fingerprint, databaseSettings, databaseOid } from './support/protheus-fixture';

const SCRIPTS = path.resolve(__dirname, '../../scripts');
const DB = 'p01';
const NS = 'c2a7dv';
const BUCKET = 'protheus-backups-test';
const TS_RE = /^\d{8}T\d{6}Z$/;

describe('backup scripts (real PostgreSQL 15)', function () {
  this.timeout(240_000);
  let pg: PgServer;
  let gcs: FakeGcs;
  let tmp: string;
  let gcloud: Record<string, string>;
  let original: Record<string, string>;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-scripts-'));
    pg = await startPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
    createProtheusDatabase(pg, DB, 4);
    original = fingerprint(pg, DB);
    gcs = await startFakeGcs([BUCKET]);
    fs.mkdirSync(path.join(tmp, 'gcloud-config'));
    fs.writeFileSync(path.join(tmp, 'token'), 'fake-token\n');
    gcloud = gcloudEnv(gcs, path.join(tmp, 'gcloud-config'), path.join(tmp, 'token'));
  });

  after(async function () {
    await gcs?.close();
    pg?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  let seq = 0;
  /** a fresh volume (BACKUP_DIR) and Rubrik dir per test */
  function freshDirs() {
    const base = path.join(tmp, `t${++seq}`);
    const backupDir = path.join(base, 'volume', 'backups');
    const rubrikDir = path.join(base, 'rubrik');
    fs.mkdirSync(backupDir, { recursive: true });
    fs.mkdirSync(rubrikDir, { recursive: true });
    return { base, backupDir, rubrikDir, dbDir: path.join(backupDir, DB) };
  }

  function script(name: 'backup' | 'copy' | 'restore', env: Record<string, string | undefined>, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return run('bash', [path.join(SCRIPTS, `${name}.sh`), ...args], { env: pg.env({ PGDATABASE: DB, ...gcloud, ...env }), ...opts });
  }

  const completeBackups = (dbDir: string) =>
    fs.existsSync(dbDir) ? fs.readdirSync(dbDir).filter((n) => TS_RE.test(n) && fs.existsSync(path.join(dbDir, n, 'MANIFEST.json'))).sort() : [];

  async function backup(backupDir: string, env: Record<string, string> = {}): Promise<string> {
    const r = await script('backup', { BACKUP_DIR: backupDir, ...env });
    assert.equal(r.status, 0, `backup failed: ${r.stderr}`);
    const m = /complete: (\S+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return path.basename(m[1]);
  }

  const oneLine = (r: RunResult) => {
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `expected a one-line reason on stderr, got:\n${r.stderr}`);
    return lines[0];
  };

  describe('usage', function () {
    for (const name of ['backup', 'copy', 'restore'] as const) {
      it(`${name}.sh --help lists its variables and exit codes`, async function () {
        const r = await script(name, {}, ['--help']);
        assert.equal(r.status, 0);
        for (const v of { backup: ['BACKUP_DIR', 'PGDATABASE', 'BACKUP_JOBS', 'BACKUP_COMPRESS', 'BACKUP_RETENTION_DAYS', 'BACKUP_KEEP_MIN'], copy: ['BACKUP_TARGETS', 'GCS_BUCKET', 'BACKUP_NAMESPACE', 'RUBRIK_DIR'], restore: ['RESTORE_BACKUP', 'RESTORE_SOURCE', 'RESTORE_JOBS', 'RESTORE_REPLACE'] }[name]) {
          assert.match(r.stdout, new RegExp(`\\b${v}\\b`));
        }
        assert.match(r.stdout, /Exit codes/);
      });
      it(`${name}.sh rejects an unknown argument and a missing PGDATABASE with exit 2`, async function () {
        const r = await script(name, { BACKUP_TARGETS: 'rubrik' }, ['--bogus']);
        assert.equal(r.status, 2);
        const r2 = await script(name, { PGDATABASE: undefined, BACKUP_TARGETS: 'rubrik', BACKUP_NAMESPACE: NS, RUBRIK_DIR: tmp });
        assert.equal(r2.status, 2);
        assert.match(oneLine(r2), new RegExp(`^${name}: PGDATABASE is required`));
      });
    }
    it('copy.sh requires BACKUP_TARGETS and valid targets (exit 2)', async function () {
      const { backupDir } = freshDirs();
      for (const targets of [undefined, '', ' , ', 'gcs,s3']) {
        const r = await script('copy', { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, BACKUP_TARGETS: targets });
        assert.equal(r.status, 2, `BACKUP_TARGETS=${targets}: ${r.stderr}`);
        assert.match(oneLine(r), /^copy: BACKUP_TARGETS/);
      }
      const r = await script('copy', { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, BACKUP_TARGETS: 'gcs' });
      assert.equal(r.status, 2);
      assert.match(oneLine(r), /GCS_BUCKET is required/);
    });
  });

  it('full cycle: backup -> copy (rubrik + gcs) -> drop -> restore from volume, and from gcs: same rows, same content, WIN1252/C', async function () {
    const { backupDir, rubrikDir, dbDir } = freshDirs();
    const name = await backup(backupDir);
    assert.deepEqual(fs.readdirSync(dbDir), [name]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dbDir, name, 'MANIFEST.json'), 'utf8'));
    assert.equal(manifest.database, DB);
    assert.match(manifest.server_version, /^15\./);
    assert.match(manifest.pg_dump_version, /pg_dump \(PostgreSQL\) 15/);
    assert.ok(manifest.started_at && manifest.finished_at);
    const files = fs.readdirSync(path.join(dbDir, name)).filter((f) => f !== 'MANIFEST.json').sort();
    assert.deepEqual(manifest.files.map((f: { name: string }) => f.name).sort(), files);
    assert.ok(files.includes('toc.dat'));

    const copy = await script('copy', { BACKUP_DIR: backupDir, BACKUP_TARGETS: 'rubrik,gcs', BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir });
    assert.equal(copy.status, 0, copy.stderr);
    assert.match(copy.stdout, /gcs: shipped/);
    assert.match(copy.stdout, /rubrik: shipped/);
    assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [name]);
    assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS, name)).sort(), [...files, 'MANIFEST.json'].sort());
    assert.deepEqual(gcs.list(BUCKET, `${NS}/${name}/`), [...files, 'MANIFEST.json'].map((f) => `${NS}/${name}/${f}`).sort());
    assert.equal(gcs.uploads[gcs.uploads.length - 1], `${BUCKET}/${NS}/${name}/MANIFEST.json`, 'manifest is uploaded last');
    for (const f of files) assert.deepEqual(gcs.get(BUCKET, `${NS}/${name}/${f}`), fs.readFileSync(path.join(dbDir, name, f)));
    // the Rubrik copy itself verifies as a backup
    const rv = await script('restore', { BACKUP_DIR: rubrikDir, PGDATABASE: NS, RESTORE_BACKUP: name }, ['--verify-only']);
    assert.equal(rv.status, 0, rv.stderr);

    pg.psql(`DROP DATABASE ${DB}`);
    const restore = await script('restore', { BACKUP_DIR: backupDir });
    assert.equal(restore.status, 0, restore.stderr);
    assert.match(restore.stdout, new RegExp(`restored backup ${name} into database "${DB}"`));
    assert.deepEqual(fingerprint(pg, DB), original);
    assert.equal(databaseSettings(pg, DB), 'WIN1252 C C');
    assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), '0');
    // indexes and statistics came back
    assert.equal(pg.psql(`SELECT count(*) FROM pg_indexes WHERE indexname IN ('sa1010_unq', 'sa1010_pk', 'sc5010_unq')`, DB).trim(), '3');
    assert.ok(Number(pg.psql(`SELECT count(*) FROM pg_stats WHERE tablename = 'sa1010'`, DB).trim()) > 0, 'ANALYZE ran');
    assert.equal(pg.psql(`SELECT a1_mun FROM sa1010 WHERE r_e_c_n_o_ = 1`, DB).trim(), 'GOIÂNIA');

    // From GCS (latest), replacing the database.
    const oidBefore = databaseOid(pg, DB);
    const staging = path.join(backupDir, '.restore-staging');
    const fromGcs = await script('restore', { BACKUP_DIR: backupDir, RESTORE_SOURCE: 'gcs', GCS_BUCKET: BUCKET, BACKUP_NAMESPACE: NS, RESTORE_REPLACE: 'yes', RESTORE_STAGING_DIR: staging });
    assert.equal(fromGcs.status, 0, fromGcs.stderr);
    assert.match(fromGcs.stdout, /fetched and verified/);
    assert.notEqual(databaseOid(pg, DB), oidBefore, 'database was replaced');
    assert.deepEqual(fingerprint(pg, DB), original);
    assert.equal(databaseSettings(pg, DB), 'WIN1252 C C');
    assert.deepEqual(fs.readdirSync(staging), [], 'staged copy removed after restore');
  });

  it('gcs: --fetch-only (cloud-sdk container) then restore without gcloud (postgres container) uses the staged copy', async function () {
    const { backupDir, rubrikDir } = freshDirs();
    const name = await backup(backupDir);
    const env = { BACKUP_DIR: backupDir, BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET };
    assert.equal((await script('copy', { ...env, BACKUP_TARGETS: 'gcs', RUBRIK_DIR: rubrikDir })).status, 0);
    fs.rmSync(path.join(backupDir, DB), { recursive: true }); // the volume lost its backups
    const fetch = await script('restore', { ...env, RESTORE_SOURCE: 'gcs', RESTORE_BACKUP: name }, ['--fetch-only']);
    assert.equal(fetch.status, 0, fetch.stderr);
    const staged = path.join(backupDir, '.restore-staging', DB, name);
    assert.ok(fs.existsSync(path.join(staged, 'MANIFEST.json')));
    const r = await script('restore', { ...env, RESTORE_SOURCE: 'gcs', RESTORE_BACKUP: name, RESTORE_REPLACE: 'yes', GCLOUD: '/nonexistent/gcloud' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /using staged copy/);
    assert.deepEqual(fingerprint(pg, DB), original);
    assert.equal(fs.existsSync(staged), false);
    // without a staged copy and without gcloud: a config error, not a crash
    const r2 = await script('restore', { ...env, RESTORE_SOURCE: 'gcs', RESTORE_BACKUP: name, RESTORE_REPLACE: 'yes', GCLOUD: '/nonexistent/gcloud' });
    assert.equal(r2.status, 2);
    assert.match(oneLine(r2), /--fetch-only/);
  });

  it('copy is idempotent: a second run ships nothing', async function () {
    const { backupDir, rubrikDir } = freshDirs();
    const name = await backup(backupDir);
    const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: 'gcs,rubrik', BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
    const first = await script('copy', env);
    assert.equal(first.status, 0, first.stderr);
    const uploads = gcs.uploads.length;
    const rubrikStat = fs.statSync(path.join(rubrikDir, NS, name, 'MANIFEST.json'));
    const second = await script('copy', env);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /done: 0 shipment\(s\), 1 backup\(s\) already at every target/);
    assert.equal(gcs.uploads.length, uploads, 'no object uploaded on the second run');
    assert.deepEqual(gcs.rejectedOverwrites, []);
    assert.equal(fs.statSync(path.join(rubrikDir, NS, name, 'MANIFEST.json')).ino, rubrikStat.ino, 'rubrik copy untouched');
  });

  it('copy resumes a half-finished gcs upload without overwriting (retention policy) and uploads the manifest last', async function () {
    const { backupDir, dbDir, rubrikDir } = freshDirs();
    const name = await backup(backupDir);
    const files = fs.readdirSync(path.join(dbDir, name)).filter((f) => f !== 'MANIFEST.json').sort();
    const env = { BACKUP_DIR: backupDir, BACKUP_TARGETS: 'gcs', BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir };
    // An earlier run got one data file up, then died.
    gcs.put(BUCKET, `${NS}/${name}/${files[0]}`, fs.readFileSync(path.join(dbDir, name, files[0])));
    // This run fails on the manifest (simulated outage).
    gcs.failUploadsMatching = /MANIFEST\.json$/;
    const failed = await script('copy', env);
    gcs.failUploadsMatching = undefined;
    assert.equal(failed.status, 1, failed.stdout + failed.stderr);
    assert.match(failed.stderr, /upload of MANIFEST.json failed/);
    assert.equal(gcs.get(BUCKET, `${NS}/${name}/MANIFEST.json`), undefined, 'target does not "have" the backup');
    const before = gcs.uploads.length;
    const retry = await script('copy', env);
    assert.equal(retry.status, 0, retry.stderr);
    assert.match(retry.stdout, /gcs: shipped .*\(0 of \d+ data files uploaded/);
    assert.deepEqual(gcs.uploads.slice(before), [`${BUCKET}/${NS}/${name}/MANIFEST.json`]);
    assert.deepEqual(gcs.rejectedOverwrites, [], 'never tried to overwrite an object');
  });

  it('a backup killed midway (SIGKILL) leaves no complete backup; copy and restore skip it', async function () {
    const { base, backupDir, dbDir, rubrikDir } = freshDirs();
    const good = await backup(backupDir);
    // pg_dump that finishes writing, then hangs: the .partial dir looks complete except for the manifest.
    const slow = path.join(base, 'slow-pg_dump');
    fs.writeFileSync(slow, `#!/bin/bash\n[ "$1" = --version ] && exec "${pg.binDir}/pg_dump" --version\n"${pg.binDir}/pg_dump" "$@" || exit $?\nexec sleep 600\n`, { mode: 0o755 });
    let pid = 0;
    const running = script('backup', { BACKUP_DIR: backupDir, PG_DUMP: slow }, [], { detached: true, onSpawn: (c) => (pid = c.pid ?? 0) });
    // wait for the dump to be written
    const deadline = Date.now() + 60_000;
    let partial = '';
    while (Date.now() < deadline) {
      partial = fs.existsSync(dbDir) ? (fs.readdirSync(dbDir).find((n) => n.endsWith('.partial')) ?? '') : '';
      if (partial && fs.existsSync(path.join(dbDir, partial, 'toc.dat'))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(partial, 'backup started');
    assert.ok(pid > 0, 'backup.sh pid known');
    process.kill(-pid, 'SIGKILL'); // the whole process group: script, pg_dump wrapper, sleep
    const killed = await running;
    assert.equal(killed.signal, 'SIGKILL');

    assert.deepEqual(completeBackups(dbDir), [good], 'the killed backup is not complete');
    assert.ok(fs.existsSync(path.join(dbDir, partial, 'toc.dat')));
    assert.equal(fs.existsSync(path.join(dbDir, partial, 'MANIFEST.json')), false);

    const copy = await script('copy', { BACKUP_DIR: backupDir, BACKUP_TARGETS: 'rubrik,gcs', BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir });
    assert.equal(copy.status, 0, copy.stderr);
    assert.match(copy.stdout, new RegExp(`skip ${partial}`));
    assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), [good]);
    assert.deepEqual(gcs.list(BUCKET, `${NS}/${partial.replace('.partial', '')}`), []);

    const latest = await script('restore', { BACKUP_DIR: backupDir }, ['--verify-only']);
    assert.equal(latest.status, 0, latest.stderr);
    assert.match(latest.stdout, new RegExp(`verified .*/${good}$`, 'm'), 'latest = newest COMPLETE backup');
    const named = await script('restore', { BACKUP_DIR: backupDir, RESTORE_BACKUP: partial.replace('.partial', ''), RESTORE_DATABASE: 'p01_never' });
    assert.equal(named.status, 4);
    assert.match(oneLine(named), /not found|incomplete/);
    assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_never%'`).trim(), '0');
  });

  it('copy never ships a .partial, even one that carries a manifest', async function () {
    const { backupDir, dbDir, rubrikDir } = freshDirs();
    const name = await backup(backupDir);
    const fakePartial = '20991231T235959Z.partial';
    fs.cpSync(path.join(dbDir, name), path.join(dbDir, fakePartial), { recursive: true });
    fs.renameSync(path.join(dbDir, name), path.join(dbDir, '20991231T235958Z')); // keep one real complete backup
    const r = await script('copy', { BACKUP_DIR: backupDir, BACKUP_TARGETS: 'rubrik,gcs', BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(rubrikDir, NS)), ['20991231T235958Z']);
    assert.deepEqual(gcs.list(BUCKET, `${NS}/20991231T235959Z`), []);
  });

  it('a corrupted backup file: restore refuses before touching the database; copy does not ship it', async function () {
    const { backupDir, dbDir, rubrikDir } = freshDirs();
    const name = await backup(backupDir);
    const dat = fs.readdirSync(path.join(dbDir, name)).filter((f) => f.endsWith('.dat.gz')).sort()[0];
    const file = path.join(dbDir, name, dat);
    const buf = fs.readFileSync(file);
    buf[Math.floor(buf.length / 2)] ^= 0xff; // same size, different content
    fs.writeFileSync(file, buf);
    pg.psql(`CREATE TABLE zz_marker (id int); INSERT INTO zz_marker VALUES (42)`, DB);
    const oid = databaseOid(pg, DB);

    const r = await script('restore', { BACKUP_DIR: backupDir, RESTORE_REPLACE: 'yes' });
    assert.equal(r.status, 4);
    assert.match(oneLine(r), new RegExp(`^restore: backup ${name} failed verification: ${dat.replace('.', '\\.')}: SHA-256 differs`));
    assert.equal(databaseOid(pg, DB), oid, 'database not replaced');
    assert.equal(pg.psql('SELECT id FROM zz_marker', DB).trim(), '42', 'database untouched');
    assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%restore_tmp%'`).trim(), '0', 'no temp database created');

    const c = await script('copy', { BACKUP_DIR: backupDir, BACKUP_TARGETS: 'rubrik,gcs', BACKUP_NAMESPACE: NS, GCS_BUCKET: BUCKET, RUBRIK_DIR: rubrikDir });
    assert.equal(c.status, 3, c.stderr);
    assert.match(c.stderr, new RegExp(`backup ${name} failed local verification`));
    assert.deepEqual(fs.existsSync(path.join(rubrikDir, NS)) ? fs.readdirSync(path.join(rubrikDir, NS)) : [], []);
    assert.deepEqual(gcs.list(BUCKET, `${NS}/${name}/`), []);

    // a missing file is refused as well
    fs.rmSync(file);
    const r2 = await script('restore', { BACKUP_DIR: backupDir, RESTORE_REPLACE: 'yes' });
    assert.equal(r2.status, 4);
    assert.match(oneLine(r2), new RegExp(`${dat.replace('.', '\\.')}: missing`));
    assert.equal(databaseOid(pg, DB), oid);
    pg.psql('DROP TABLE zz_marker', DB);
  });

  it('restore over an existing database without RESTORE_REPLACE=yes refuses (exit 3)', async function () {
    const { backupDir } = freshDirs();
    await backup(backupDir);
    const oid = databaseOid(pg, DB);
    for (const replace of [undefined, '', 'YES', 'true', 'y']) {
      const r = await script('restore', { BACKUP_DIR: backupDir, RESTORE_REPLACE: replace });
      assert.equal(r.status, 3, `RESTORE_REPLACE=${replace}: ${r.stderr}`);
      assert.match(oneLine(r), /database "p01" exists; refusing/);
    }
    assert.equal(databaseOid(pg, DB), oid);
  });

  it('a failed restore leaves nothing under the target name (temp database dropped)', async function () {
    const { base, backupDir } = freshDirs();
    await backup(backupDir);
    const failing = path.join(base, 'failing-pg_restore');
    fs.writeFileSync(failing, `#!/bin/bash\n"${pg.binDir}/pg_restore" "$@" || exit $?\necho 'pg_restore: error: simulated failure at the end' >&2\nexit 1\n`, { mode: 0o755 });
    const r = await script('restore', { BACKUP_DIR: backupDir, RESTORE_DATABASE: 'p01_copy', PG_RESTORE: failing });
    assert.equal(r.status, 1);
    assert.match(oneLine(r), /^restore: pg_restore failed: simulated failure at the end; database "p01_copy" untouched$/);
    assert.equal(pg.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE 'p01_copy%'`).trim(), '0');
  });

  it('a wrong password fails with a clear one-line reason and leaves no backup dir at all', async function () {
    const { backupDir, dbDir } = freshDirs();
    const r = await script('backup', { BACKUP_DIR: backupDir, PGPASSWORD: 'wrong-password' });
    assert.equal(r.status, 1);
    assert.match(oneLine(r), /^backup: cannot connect to database "p01": password authentication failed for user "protheus_admin"$/);
    assert.equal(fs.existsSync(dbDir), false, 'nothing written, not even a .partial');
  });

  it('pg_dump failing midway removes its own .partial', async function () {
    const { base, backupDir, dbDir } = freshDirs();
    const failing = path.join(base, 'failing-pg_dump');
    fs.writeFileSync(failing, `#!/bin/bash\n[ "$1" = --version ] && exec "${pg.binDir}/pg_dump" --version\n"${pg.binDir}/pg_dump" "$@" || exit $?\necho 'pg_dump: error: could not write to file: No space left on device' >&2\nexit 1\n`, { mode: 0o755 });
    const r = await script('backup', { BACKUP_DIR: backupDir, PG_DUMP: failing });
    assert.equal(r.status, 1);
    assert.match(oneLine(r), /^backup: pg_dump failed: could not write to file: No space left on device$/);
    assert.deepEqual(fs.readdirSync(dbDir), []);
  });

  it('pruning keeps the newest BACKUP_KEEP_MIN complete backups and removes old and stale ones', async function () {
    const { backupDir, dbDir } = freshDirs();
    fs.mkdirSync(dbDir, { recursive: true });
    const stamp = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const fakeBackup = (name: string, manifest = true) => {
      fs.mkdirSync(path.join(dbDir, name));
      fs.writeFileSync(path.join(dbDir, name, 'toc.dat'), 'x');
      if (manifest) fs.writeFileSync(path.join(dbDir, name, 'MANIFEST.json'), '{}\n');
    };
    const d1 = stamp(1);
    const d10 = stamp(10);
    const d11 = stamp(11);
    const d12 = stamp(12);
    for (const n of [d1, d10, d11, d12]) fakeBackup(n);
    const stalePartial = `${stamp(2)}.partial`;
    const freshPartial = `${stamp(1 / 24)}.partial`;
    const oldNoManifest = stamp(3);
    fakeBackup(stalePartial, false);
    fakeBackup(freshPartial, false);
    fakeBackup(oldNoManifest, false);
    fs.mkdirSync(path.join(dbDir, 'not-a-backup'));

    const now = await backup(backupDir, { BACKUP_KEEP_MIN: '3', BACKUP_RETENTION_DAYS: '7' });
    // newest 3 complete: now, d1, d10 (d10 is older than 7 days but kept by BACKUP_KEEP_MIN)
    assert.deepEqual(completeBackups(dbDir), [d10, d1, now].sort());
    const left = fs.readdirSync(dbDir).sort();
    assert.ok(left.includes(freshPartial), 'a recent .partial (maybe a running backup) is kept');
    assert.ok(!left.includes(stalePartial), 'stale .partial removed');
    assert.ok(!left.includes(oldNoManifest), 'old dir without manifest removed');
    assert.ok(left.includes('not-a-backup'), 'foreign entries are left alone');

    // Within retention nothing is removed beyond the minimum.
    const now2 = await backup(backupDir, { BACKUP_KEEP_MIN: '1', BACKUP_RETENTION_DAYS: '30' });
    assert.deepEqual(completeBackups(dbDir), [d10, d1, now, now2].sort());
    // Retention 0 with keep-min 2: only the two newest remain.
    await backup(backupDir, { BACKUP_KEEP_MIN: '2', BACKUP_RETENTION_DAYS: '0' });
    assert.equal(completeBackups(dbDir).length, 2);
    assert.equal(completeBackups(dbDir)[0], now2);
  });
});

/**
 * PostgreSQL on a real cluster with the backup folder on a small disk (a 2 MiB tmpfs, mounted as CI's root can):
 * pg_dump writes its dump directory in the backup folder's staging, and a restore writes a dump's table of contents
 * and small table files whole in its scratch. A dump that fills that disk is said of the backup folder (not of the
 * database server); a restore short of room there feeds every file through a named pipe instead, and completes.
 * With the disk full to the last byte (a 4 MiB tmpfs of its own): a restore in place is refused, its hint a command
 * that restores into a new database and works as written; a drill passes.
 * Elsewhere the test skips with one loud line.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, plainDump, writePgConfig } from './helpers/pg-cli.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `full-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work = '';
let mnt = '';
let mounted = false;

describe.skipIf(!available)('PostgreSQL restore with the backup folder on a full disk (live)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-pg-full-'));
    mnt = mkdtempSync(join(tmpdir(), 'respaldo-pg-tiny-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      if (process.env['CI']) throw new Error('CI must be able to mount a tmpfs (it runs as root).');
      console.log(`SKIPPED PostgreSQL disk-full test: cannot mount a tmpfs here (${(err as Error).message}).`);
      return;
    }
    cluster = await startPgCluster({ password: PASSWORD });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    if (mounted) execFileSync('umount', [mnt]);
    for (const d of [work, mnt]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('a pg_dump that fills the backup folder is said of it; a restore short of room there pipes every file', (ctx) => {
    if (!mounted) return ctx.skip();
    cluster.createDatabase('erp_full');
    // Tables of about 3 MiB and 1 MiB of dump text, stored in a few KiB: the set fits, its dump files do not.
    // respaldo deletes each data file once stored, so only a file larger than the whole disk (t_a) fills it
    // whatever the pace of pg_dump and of the reader behind it (1 MiB files alone fill it only when the reader lags).
    for (const [t, n] of [
      ['a', 30000],
      ['b', 10000],
      ['c', 10000],
    ] as const)
      cluster.psql(
        `CREATE TABLE t_${t} AS SELECT i, repeat('x', 100) AS body FROM generate_series(1, ${n}) i;`,
        'erp_full',
      );
    const dir = join(work, 'erp_full');
    mkdirSync(dir);
    const cli = (args: string[]) => pgCli(join(dir, 'backup_config.json'), PASSWORD, args, { cwd: dir });
    const small = join(mnt, 'backups');

    // A backup: pg_dump writes the dump directory in the backup folder's staging, and that disk fills.
    writePgConfig(cluster, dir, ['erp_full'], { backupDir: small });
    const failed = cli(['create']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(7);
    expect(failed.stderr).toContain('pg_dump could not write the dump: no space left on device');
    expect(failed.stderr).toMatch(/hint: The disk pg_dump writes the dump to is full: the backup folder's/);
    expect(failed.stderr).not.toContain('The database server ran out of disk space');
    expect(readdirSync(small).filter((n) => n !== 'logs')).toEqual([]);

    // A restore of a set made on a bigger disk, then moved there: its small table files would fill it if written
    // whole, so every file goes through a named pipe, and the restore completes.
    writePgConfig(cluster, dir, ['erp_full'], { backupDir: './backups' });
    const made = cli(['create', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const m = made.json as Manifest;
    cpSync(join(dir, 'backups', m.id), join(small, m.id), { recursive: true });
    writePgConfig(cluster, dir, ['erp_full'], { backupDir: small });
    const before = plainDump(cluster, 'erp_full');
    const r = cli(['restore', m.id, '--to', 'erp_full_side', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(plainDump(cluster, 'erp_full_side')).toBe(before);
    const logs = readdirSync(join(small, 'logs')).map((f) => readFileSync(join(small, 'logs', f), 'utf8'));
    expect(logs.join('')).toContain(
      'no room to write the small dump files whole; every file goes through a named pipe',
    );
    expect(readdirSync(small).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  test('a full backup disk: in place is refused naming a --to command that then works, and a drill passes', (ctx) => {
    if (!mounted) return ctx.skip();
    cluster.createDatabase('erp_inplace');
    cluster.psql(
      `CREATE TABLE orders AS SELECT i, md5(i::text) AS ref FROM generate_series(1, 2000) i;`,
      'erp_inplace',
    );
    const dir = join(work, 'erp_inplace');
    mkdirSync(dir);
    const disk = mkdtempSync(join(tmpdir(), 'respaldo-pg-filled-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk], { stdio: 'pipe' });
    try {
      const tmp = join(dir, 'tmp');
      mkdirSync(tmp);
      const cli = (args: string[]) =>
        pgCli(join(dir, 'backup_config.json'), PASSWORD, args, { cwd: dir, env: { TMPDIR: tmp } });
      writePgConfig(cluster, dir, ['erp_inplace'], { backupDir: join(disk, 'backups') });
      const made = cli(['create', '--json']);
      expect(made.code, made.stderr).toBe(0);
      const id = (made.json as Manifest).id;
      const st = statfsSync(disk);
      writeFileSync(join(disk, 'fill'), Buffer.alloc(st.bavail * st.bsize));
      expect(statfsSync(disk).bavail).toBe(0);
      cluster.psql('DELETE FROM orders WHERE i > 1000;', 'erp_inplace');
      const live = plainDump(cluster, 'erp_inplace');

      const refused = cli(['restore', id, '--db', 'erp_inplace', '--yes']);
      expect(refused.code, refused.stdout + refused.stderr).toBe(7);
      expect(refused.stderr).toContain('restoring erp_inplace in place would keep what it replaces there first');
      // The hint is a command to run as it is: a new database beside the live one, not "another disk".
      const command = `respaldo restore ${id} --db erp_inplace --to erp_inplace_restored --yes`;
      expect(refused.stderr).toContain(`into a new one (that needs no room in the backup folder): ${command};`);
      expect(refused.stderr).not.toContain('another disk');
      expect(plainDump(cluster, 'erp_inplace')).toBe(live);
      expect(cluster.databases().filter((d) => d.startsWith('erp_inplace'))).toEqual(['erp_inplace']);

      const followed = cli(command.split(' ').slice(1));
      expect(followed.code, followed.stdout + followed.stderr).toBe(0);
      expect(cluster.psql('SELECT count(*) FROM orders', 'erp_inplace_restored').trim()).toBe('2000');
      expect(plainDump(cluster, 'erp_inplace')).toBe(live);

      const drill = cli(['drill', id]);
      expect(drill.code, drill.stdout + drill.stderr).toBe(0);
      expect(drill.stdout).toContain('passed  erp_inplace (postgres)');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      execFileSync('umount', [disk]);
      rmSync(disk, { recursive: true, force: true });
    }
  });
});

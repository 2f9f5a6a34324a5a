/**
 * The backup folder's disk full to the last byte and the last inode (the operator's worst day): a restore beside the
 * live database onto another disk, a drill, verify, list and show still run (their scratch files elsewhere, a record
 * that cannot be written said as a warning), the lock taken in its spare place and still excluding a concurrent
 * writer both ways; a restore in place is refused before anything, naming --to. Needs a tmpfs (root, as CI runs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { childEnv, collect, describeResult, parseJsonOutput, REPO_ROOT, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(unmountAllSmallDisks);

const skip = tmpfsProblem();
if (skip && process.env['CI']) throw new Error(`CI must run the full backup folder tests: ${skip}`);
if (skip) console.log(`SKIPPED full backup folder test: ${skip}`);

/**
 * The demo setup with its backup folder on a small disk holding one set of users and inventario, then filled: no
 * byte, no inode.
 */
async function onFullDisk(): Promise<{ s: DemoSetup; m: Manifest; disk: string; backupDir: string; fill: string }> {
  const s = demoSetup();
  const disk = mountSmallDisk(join(s.dir, 'disk'), 8 * 1024 * 1024, 64).dir;
  const backupDir = join(disk, 'backups');
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir }));
  const made = await runCli([
    'create',
    '--json',
    '--db',
    'users',
    '--db',
    'inventario',
    '--no-files',
    '--config',
    s.configFile,
  ]);
  expect(made.code, describeResult(made)).toBe(0);
  const m = parseJsonOutput<Manifest>(made.stdout);
  const fill = join(disk, 'fill');
  mkdirSync(fill);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(fill, String(i)), '');
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      break;
    }
  }
  const st = statfsSync(disk);
  writeFileSync(join(fill, '0'), Buffer.alloc(st.bavail * st.bsize));
  expect(statfsSync(disk).bavail).toBe(0);
  expect(() => writeFileSync(join(disk, 'one-more'), 'x')).toThrow(/ENOSPC/);
  return { s, m, disk, backupDir, fill };
}

/** A real process holding the backup folder's lock (acquireLock of the build) until its stdin closes. */
async function holdLock(backupDir: string) {
  const code = `import { acquireLock } from ${JSON.stringify(join(REPO_ROOT, 'dist/engine/lock.js'))};
    const release = await acquireLock(${JSON.stringify(backupDir)}, 'prune');
    process.stdout.write('held\\n');
    process.stdin.resume();
    process.stdin.on('end', async () => { await release(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: childEnv() });
  const done = collect(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => (b.toString().includes('held') ? resolve() : undefined));
    child.on('exit', () => reject(new Error('the lock holder exited before holding the lock')));
  });
  return { child, done };
}

describe.skipIf(skip !== null)('a backup folder whose disk is full', () => {
  it('restore --to, drill, verify, list and show run; a restore in place is refused before anything', async () => {
    const { s, m, backupDir } = await onFullDisk();
    const tmp = join(s.dir, 'tmp');
    mkdirSync(tmp);
    const env = { TMPDIR: tmp };
    const cfg = ['--config', s.configFile];

    const target = join(s.dir, 'users-check.db');
    const beside = await runCli(['restore', 'latest', '--db', 'users', '--to', target, '--yes', ...cfg], { env });
    expect(beside.code, describeResult(beside)).toBe(0);
    expect(beside.stderr).toContain(`warning: the disk of the backup folder ${backupDir} is full (0 B free)`);
    expect(dbDigest(target)).toEqual(dbDigest(s.dbs.users));

    const drill = await runCli(['drill', '--db', 'users', ...cfg], { env });
    expect(drill.code, describeResult(drill)).toBe(0);
    expect(drill.stderr).toMatch(/could not write drilled\.json of set \S+ in the backup folder \(ENOSPC/);
    // …and it does not then claim the record was written.
    expect(drill.stdout).not.toContain('recorded in');
    expect(drill.stdout).toContain(`not recorded: ${m.id}/drilled.json could not be written (see the warning above)`);
    const drillJson = await runCli(['drill', '--db', 'users', '--json', ...cfg], { env });
    expect(drillJson.code, describeResult(drillJson)).toBe(0);
    expect(parseJsonOutput<{ recorded: boolean }>(drillJson.stdout).recorded).toBe(false);
    // Every database of the set drilled: the full disk is said once, not once per database restored.
    const all = await runCli(['drill', '--db', 'users', '--db', 'inventario', ...cfg], { env });
    expect(all.code, describeResult(all)).toBe(0);
    expect(all.stderr.match(/is full \([^)]*\): restoring from it/g) ?? []).toHaveLength(1);

    for (const args of [
      ['verify', m.id],
      ['verify', m.id, '--read-data'],
    ]) {
      const r = await runCli([...args, ...cfg], { env });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toContain(`${m.id}: OK`);
      expect(r.stderr).toMatch(/could not write verified\.json of set \S+ in the backup folder \(ENOSPC/);
    }
    for (const args of [['list'], ['show', m.id]]) {
      const r = await runCli([...args, ...cfg], { env });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toContain(m.id);
    }
    // nothing left behind: no scratch folder in TMPDIR, no lock in the folder
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(backupDir).sort()).toEqual([m.id, 'logs']);

    const live = dbDigest(s.dbs.users);
    const inPlace = await runCli(['restore', 'latest', '--db', 'users', '--yes', ...cfg], { env });
    expect(inPlace.code, describeResult(inPlace)).toBe(7);
    expect(inPlace.stderr).toContain(
      `The disk of the backup folder ${backupDir} is full (0 B free): restoring users in place would keep what it replaces there first, so nothing was restored.`,
    );
    expect(inPlace.stderr).toMatch(/hint: Restore beside it onto another disk with --to/);
    expect(dbDigest(s.dbs.users)).toEqual(live);
    expect(readdirSync(backupDir).sort()).toEqual([m.id, 'logs']);
  });

  it('the lock taken outside the full folder still excludes a writer, and one taken inside excludes it on a full disk', async () => {
    const { s, m, backupDir, fill } = await onFullDisk();
    const cfg = ['--config', s.configFile];
    const target = join(s.dir, 'users-check.db');

    // A holder that took it with the disk full: a restore is refused; so is a delete once there is room again.
    const outside = await holdLock(backupDir);
    const restore = await runCli(['restore', m.id, '--db', 'users', '--to', target, '--yes', ...cfg]);
    expect(restore.code, describeResult(restore)).toBe(6);
    expect(restore.stderr).toContain('Another respaldo process is working on this backup folder (prune, pid');
    rmSync(fill, { recursive: true });
    const del = await runCli(['delete', m.id, '--yes', ...cfg]);
    expect(del.code, describeResult(del)).toBe(6);
    expect(readdirSync(backupDir)).toContain(m.id);
    outside.child.stdin!.end();
    expect((await outside.done).code).toBe(0);

    // A holder that took it in the folder, then the disk filled: a restore (its lock outside then) is refused.
    const inside = await holdLock(backupDir);
    expect(readdirSync(backupDir)).toContain('.respaldo.lock');
    const st = statfsSync(backupDir);
    writeFileSync(join(s.dir, 'disk', 'filler'), Buffer.alloc(st.bavail * st.bsize));
    const again = await runCli(['restore', m.id, '--db', 'users', '--to', target, '--yes', ...cfg]);
    expect(again.code, describeResult(again)).toBe(6);
    inside.child.stdin!.end();
    expect((await inside.done).code).toBe(0);

    // Released, it runs (its lock outside, removed after).
    const ok = await runCli(['restore', m.id, '--db', 'users', '--to', target, '--yes', ...cfg]);
    expect(ok.code, describeResult(ok)).toBe(0);
    expect(dbDigest(target)).toEqual(dbDigest(s.dbs.users));
    expect(spawnSync('ls', ['-A', backupDir], { encoding: 'utf8' }).stdout).not.toContain('lock');
  });

  it('the scratch a killed restore or drill kept in TMPDIR is listed by status and removed by the next run', async () => {
    const { s, m } = await onFullDisk();
    const tmp = join(s.dir, 'tmp');
    mkdirSync(tmp);
    const env = { TMPDIR: tmp };
    const cfg = ['--config', s.configFile];
    // The pid of a run that is gone (killed: its finally never ran), and what it left: a decompressed dump, and a
    // process waiting on a file in it (pg_restore on a named pipe nobody will feed).
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    const leftBy = (kind: 'restore' | 'drill', pid: number) => {
      const root = join(tmp, `respaldo-${kind}-${kind === 'restore' ? 'Ab12Cd' : 'Ef34Gh'}`);
      const scratch = join(root, `.tmp-${kind}-${pid}`, 'pg-directory-users');
      mkdirSync(scratch, { recursive: true });
      writeFileSync(join(scratch, 'toc.dat'), Buffer.alloc(64 * 1024, 1));
      return { root, scratch };
    };
    const killedRestore = leftBy('restore', deadPid);
    const waiting = spawn(process.execPath, [
      '-e',
      'setInterval(() => {}, 1000)',
      join(killedRestore.scratch, 'x.dat'),
    ]);
    const waitingExit = new Promise<void>((resolve) => waiting.on('exit', () => resolve()));
    // A run that is still going (its pid alive, this test's): never touched.
    const live = join(tmp, 'respaldo-drill-Live00', `.tmp-drill-${process.pid}`);
    mkdirSync(live, { recursive: true });

    const status = await runCli(['status', ...cfg], { env });
    expect(status.code, describeResult(status)).toBe(0);
    expect(status.stdout).toContain(killedRestore.root);
    expect(status.stdout).not.toContain('respaldo-drill-Live00');

    const target = join(s.dir, 'users-check.db');
    const beside = await runCli(['restore', m.id, '--db', 'users', '--to', target, '--yes', ...cfg], { env });
    expect(beside.code, describeResult(beside)).toBe(0);
    expect(beside.stdout).toContain(`removed ${killedRestore.root}, left by an interrupted run`);
    await waitingExit;
    expect(waiting.signalCode).toBe('SIGKILL');
    expect(readdirSync(tmp).sort()).toEqual(['respaldo-drill-Live00']);

    const killedDrill = leftBy('drill', deadPid);
    const drill = await runCli(['drill', m.id, '--db', 'users', ...cfg], { env });
    expect(drill.code, describeResult(drill)).toBe(0);
    expect(drill.stdout).toContain(`removed ${killedDrill.root}, left by an interrupted run`);
    expect(readdirSync(tmp).sort()).toEqual(['respaldo-drill-Live00']);
    expect(readdirSync(live)).toEqual([]);
  });
});

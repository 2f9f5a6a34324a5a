/**
 * The backup folder's disk remounted read-only (as a file system does after I/O errors): a restore from it as it
 * is fails with the reason and the way round it, and that way (the folder read as a folder destination from a config
 * whose backupDir is writable) restores without writing there. Needs a tmpfs (root, as CI runs).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';
import { demoSetup } from './helpers/tmp.js';

afterEach(unmountAllSmallDisks);

const skip = tmpfsProblem();
if (skip) console.log(`SKIPPED read-only backup folder test: ${skip}`);

describe.skipIf(skip !== null)('a backup folder on a disk mounted read-only', () => {
  it('a restore from it says why and how; read as a folder destination it restores, writing nothing there', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'disk'), 16 * 1024 * 1024);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir: join(disk.dir, 'backups') }));
    const made = await runCli(['create', '--json', '--db', 'users', '--no-files', '--config', s.configFile]);
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);

    const target = join(s.dir, 'users-check.db');
    const asIs = await runCli([
      'restore',
      'latest',
      '--db',
      'users',
      '--to',
      target,
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(asIs.code, describeResult(asIs)).toBe(7);
    expect(asIs.stderr).toMatch(/Read-only file system on .*backups/);
    expect(asIs.stderr).toMatch(/hint: That disk is mounted read-only .*read it as a folder destination/);

    // the README's way: another config, its backupDir writable, the old folder as a destination
    const other = join(s.dir, 'other_config.json');
    const old = { name: 'old', type: 'folder', path: disk.dir, source: 'backups', copyAfterBackup: false };
    writeFileSync(other, JSON.stringify({ ...doc, backupDir: join(s.dir, 'scratch'), destinations: [old] }));
    const listed = await runCli(['list', '--from', 'old', '--json', '--config', other]);
    expect(listed.code, describeResult(listed)).toBe(0);
    expect(parseJsonOutput<{ id: string }[]>(listed.stdout).map((x) => x.id)).toEqual([m.id]);
    const restored = await runCli(
      ['restore', 'latest', '--from', 'old', '--db', 'users', '--to', target, '--yes', '--config', other],
      { cwd: s.dir },
    );
    expect(restored.code, describeResult(restored)).toBe(0);
    expect(dbDigest(target)).toEqual(dbDigest(s.dbs.users));
  });
});

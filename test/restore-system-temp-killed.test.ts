/**
 * A restore whose backup folder cannot be written (its disk remounted read-only) keeps its scratch folder, and the
 * journal of the temporary paths it makes outside the backup folder, in the system's temporary folder. Killed there
 * (SIGKILL) while a files restore writes its partial folder beside `--to`, under folders it made: `status` names that
 * partial folder and those folders with the scratch folder, and the next run removes them all; it removed only the
 * scratch folder, its journal with it, and the partial folder stayed, unknown. Needs a tmpfs (root, as CI runs).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';
import { demoSetup } from './helpers/tmp.js';

afterEach(unmountAllSmallDisks);

const skip = tmpfsProblem();
if (skip) console.log(`SKIPPED system-temp restore test: ${skip}`);

function writeRandom(file: string, mib: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1 << 20));
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(skip !== null)('a files restore in the system temporary folder, killed', () => {
  it('status names its partial folder and the folders it made; the next run removes them', async () => {
    const s = demoSetup();
    writeRandom(join(s.appDir, 'big.bin'), 64);
    const disk = mountSmallDisk(join(s.dir, 'disk'), 160 * 1024 * 1024);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir: join(disk.dir, 'backups') }));
    const tmp = join(s.dir, 'tmp');
    mkdirSync(tmp);
    const cli = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir, env: { TMPDIR: tmp } });
    const made = await cli(['create', '--json']);
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);

    const folder = join(s.dir, 'new');
    const to = join(folder, 'restored');
    const partial = join(folder, `.restored.respaldo-partial-${m.id}`);
    const big = join(partial, 'application', 'app', 'big.bin');
    const child = startCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], {
      cwd: s.dir,
      env: { TMPDIR: tmp },
    });
    const done = collect(child);
    await waitFor(() => existsSync(big) && statSync(big).size > 4 * 1024 * 1024, 'restore writing big.bin', 120_000, 2);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    const scratch = readdirSync(tmp).map((n) => join(tmp, n));
    expect(scratch).toHaveLength(1);

    const status = parseJsonOutput<{ leftovers: string[] }>((await cli(['status', '--json'])).stdout);
    expect(status.leftovers).toEqual(expect.arrayContaining([partial, folder, scratch[0]]));

    // The next run (a restore beside, the folder still read-only) removes them all.
    const next = await cli(['restore', m.id, '--db', 'users', '--to', join(s.dir, 'users-check.db'), '--yes']);
    expect(next.code, describeResult(next)).toBe(0);
    expect(next.stdout + next.stderr).toContain(partial);
    expect(existsSync(folder), describeResult(next)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);
});

/**
 * `restore --files --to DIR` onto a disk too small for them: the error names that disk, `DIR` is not made and nothing
 * written stays. It said the disk of the backup folder was full and to free it with prune or delete, sending the
 * operator to delete backups on the day they were needed. A small disk is a tmpfs (root only; CI runs as root).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';

afterEach(unmountAllSmallDisks);

const problem = tmpfsProblem();
if (problem) console.log(`SKIPPED files-restore-disk-full: ${problem}.`);

describe.skipIf(problem !== null)('restoring files onto a full disk', () => {
  it('names the disk of --to, leaves nothing there, and does not send the operator to the backup folder', async () => {
    const s = demoSetup();
    writeFileSync(join(s.appDir, 'upload.bin'), randomBytes(3 << 20)); // does not compress
    const made = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const disk = mountSmallDisk(join(s.dir, 'small'), 1 << 20);
    const to = join(disk.dir, 'restored');
    const r = await runCli(['restore', 'latest', '--files', '--to', to, '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stderr).toContain(`No space left on the disk of ${to}`);
    expect(r.stderr).not.toMatch(/backup folder|prune|delete/);
    expect(readdirSync(disk.dir)).toEqual([]);
  });
});

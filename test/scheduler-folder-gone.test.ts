import { existsSync, readdirSync, renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

const sets = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => /^\d{8}_\d{6}/.test(n)) : []);

/**
 * The backup disk unmounted while the scheduler runs (a USB disk pulled, a NAS mount dropped): its backup folder is
 * gone, and the scheduler's next log line makes it again on the mount point. The next backups went there, on the
 * disk under it, COMPLETED, unseen (and retention ran on that folder). Here the folder is moved away, as an unmount
 * leaves it: the next job fails, says why, and writes no set.
 */
describe('the backup folder gone while the scheduler runs', () => {
  it('the next backup fails naming it and writes no set where it was', async () => {
    const s = demoSetup((c) => ({
      ...c,
      schedule: { jobs: [{ name: 'often', when: '*/2 * * * * *', type: 'full', databases: ['*'], files: false }] },
    }));
    const child = startCli(['scheduler', '--no-catch-up', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitFor(() => /often: COMPLETED/.test(out), 'a first backup of the job', 60_000, 20);
      const unmounted = `${s.backupDir}-unmounted`;
      await waitFor(() => /retention:/.test(out), 'its retention', 30_000, 20);
      renameSync(s.backupDir, unmounted);
      await waitFor(() => /often: FAILED/.test(out), 'the next run to fail', 30_000, 20);
      expect(out).toMatch(/The backup folder \S+ is not the one the scheduler started on/);
      expect(sets(s.backupDir)).toEqual([]);
      expect(sets(unmounted).length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);
  });
});

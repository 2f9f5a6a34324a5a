import { existsSync, readdirSync, renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { english } from '../src/core/phrases.js';
import { folderReplaced } from '../src/engine/create-plan.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';

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

  it("says it in the menu's Spanish too: the error carries its phrases", () => {
    const err = folderReplaced('/no/such/backups', { dev: 0, ino: 0 })!;
    expect(english(err.phrases!.message!)).toBe(err.message);
    expect(PHRASES_ES[err.phrases!.message!.id](err.phrases!.message!.params)).toBe(
      'La carpeta de copias /no/such/backups no es la que había cuando arrancó el programador: ya no está, o se creó de nuevo en el punto de montaje de un disco desmontado entretanto. No se escribió nada.',
    );
    expect(PHRASES_ES[err.phrases!.hint!.id](err.phrases!.hint!.params)).toMatch(/^Vuelva a montar el disco/);
  });
});

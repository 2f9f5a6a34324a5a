import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * backupDir inside an application folder (or that folder itself): a set never stores the backup folder. It stored
 * the lock, its own half-written staging folder, the logs and every earlier set (each set growing by them all).
 */
describe('the backup folder inside an application folder', () => {
  it.each([
    ['inside it', './data/app/backups'],
    ['the folder itself', './data/app'],
    // The same folders named through a symlink (a deploy's `current`, a mount): compared by their real paths.
    ['inside it, the application folder named by a symlink', './data/app/backups', './applink'],
    ['inside it, the backup folder named by a symlink', './bk', './data/app', './data/app/backups'],
  ])('%s: not stored, said once; the next set stores the same files', async (_what, backupDir, app?, real?) => {
    const s = demoSetup((base) => {
      const files = base['files'] as { application: { path: string }[] };
      return {
        ...base,
        backupDir,
        files: { ...files, application: [{ ...files.application[0], path: app ?? './data/app' }] },
      };
    });
    if (app === './applink') symlinkSync(join(s.dir, 'data', 'app'), join(s.dir, 'applink'));
    if (real) {
      mkdirSync(join(s.dir, real), { recursive: true, mode: 0o700 });
      symlinkSync(join(s.dir, real), join(s.dir, backupDir));
    }
    const create = async () => {
      const r = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
      expect(r.code, describeResult(r)).toBe(0);
      return parseJsonOutput<Manifest>(r.stdout);
    };
    const first = await create();
    const second = await create();
    for (const m of [first, second]) {
      const stored = m.files.map((f) => f.relative);
      expect(stored.filter((p) => /\.respaldo\.lock|\.tmp-|manifest\.json|\/logs\/|\d{8}_\d{6}/.test(p))).toEqual([]);
      expect(
        m.warnings.filter((w) => w.includes('the backup folder (backupDir), inside an application folder')),
      ).toHaveLength(1);
    }
    expect(second.files.map((f) => f.relative).sort()).toEqual(first.files.map((f) => f.relative).sort());
    expect(second.files.length).toBeGreaterThan(0);
  });
});

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
  ])('%s: not stored, said once; the next set stores the same files', async (_what, backupDir) => {
    const s = demoSetup({ backupDir });
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

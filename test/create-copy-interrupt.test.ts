import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SetSummary } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/** Files below `dir` being written by a folder destination's copy (`.respaldo-part-…`), with their sizes. */
function partsBelow(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.startsWith('.respaldo-part-'))
    .map((e) => {
      try {
        return statSync(join(e.parentPath, e.name)).size;
      } catch {
        return 0; // renamed into place meanwhile
      }
    });
}

describe('create stopped by a signal while it copies the new set off-site', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s: exit 130 (not 12), the set kept locally, said not copied',
    async (sig) => {
      const nas = makeTmpDir();
      const s = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] });
      const fd = openSync(join(s.appDir, 'big.bin'), 'w');
      for (let i = 0; i < 96; i++) writeSync(fd, randomBytes(1 << 20));
      closeSync(fd);

      const child = startCli(['create', '--config', s.configFile], { cwd: s.dir });
      const done = collect(child);
      await waitFor(
        () => partsBelow(nas).some((n) => n > 4 * 1024 * 1024),
        'the copy to be sending big.bin',
        120_000,
        2,
      );
      expect(child.exitCode, 'create finished before it could be stopped').toBeNull();
      child.kill(sig);
      const r = await done;
      // Before, an interrupted copy after the backup exited 12, "copying it to a destination failed".
      expect(r.code, describeResult(r)).toBe(130);
      expect(r.stderr).toContain('NOT copied to nas: The copy was interrupted');
      expect(r.stderr).toContain('`respaldo copy`');
      const sets = parseJsonOutput<SetSummary[]>(
        (await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
      );
      expect(sets.map((x) => [x.status, x.notCopiedTo])).toEqual([['completed', ['nas']]]);
    },
  );
});

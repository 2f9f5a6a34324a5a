import { randomBytes } from 'node:crypto';
import { existsSync, openSync, readdirSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/** A file no codec shrinks, big enough that restoring it takes a while. */
function writeRandom(file: string, mib: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1 << 20));
  } finally {
    closeSync(fd);
  }
}

describe('a files restore stopped by a signal', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s while a file is written: exit 130, --to not made, the partial folder removed; the next run completes',
    async (sig) => {
      const s = demoSetup();
      writeRandom(join(s.appDir, 'big.bin'), 96);
      const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
      expect(made.code, describeResult(made)).toBe(0);
      const m = parseJsonOutput<Manifest>(made.stdout);
      const to = join(s.dir, 'restored');
      const partial = join(s.dir, `.restored.respaldo-partial-${m.id}`);
      const big = join(partial, 'application', 'app', 'big.bin');

      const child = startCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], {
        cwd: s.dir,
      });
      const done = collect(child);
      await waitFor(
        () => existsSync(big) && statSync(big).size > 4 * 1024 * 1024,
        'the restore to be writing big.bin',
        120_000,
        2,
      );
      expect(child.exitCode, 'the restore finished before it could be stopped').toBeNull();
      child.kill(sig);
      const r = await done;
      // It stopped: before, a files restore ignored the signal, ran to its end and exited 0.
      expect(r.code, describeResult(r)).toBe(130);
      expect(r.stderr).toContain('Interrupted');
      expect(existsSync(to)).toBe(false);
      expect(readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'))).toEqual([]);
      expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
      const logs = join(s.backupDir, 'logs');
      const log = readdirSync(logs)
        .map((f) => readFileSync(join(logs, f), 'utf8'))
        .join('');
      expect(log).toContain('"outcome":"interrupted"');

      const again = await runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], {
        cwd: s.dir,
      });
      expect(again.code, describeResult(again)).toBe(0);
      expect(statSync(join(to, 'application', 'app', 'big.bin')).size).toBe(96 * 1024 * 1024);
    },
  );
});

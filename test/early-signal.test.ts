import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BIN, REPO_ROOT, collect, describeResult, startNode } from './helpers/cli.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

const TRACE_HOOK = join(REPO_ROOT, 'test', 'helpers', 'module-trace.mjs');

/** Resolves once `file` names a module ending in `tail` (polled: the child appends as it loads). */
async function loaded(file: string, tail: string): Promise<void> {
  for (;;) {
    if (
      existsSync(file) &&
      readFileSync(file, 'utf8')
        .split('\n')
        .some((u) => u.endsWith(tail))
    )
      return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('a signal while the command is still loading', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s as soon as the command modules start to load: exit 130, no set (it was status 143 or the signal lost)',
    async (sig) => {
      const s = demoSetup();
      const trace = join(makeTmpDir(), 'modules.txt');
      const child = startNode(['--import', TRACE_HOOK, CLI_BIN, 'create', '--config', s.configFile], {
        cwd: s.dir,
        env: { RESPALDO_MODULE_TRACE: trace },
      });
      const done = collect(child);
      // program.js is where the command's modules start loading: the signal comes before any of them ran.
      await loaded(trace, '/dist/cli/program.js');
      child.kill(sig);
      const r = await done;
      expect(r.signal, describeResult(r)).toBeNull();
      expect(r.code, describeResult(r)).toBe(130);
      // Taken before the command started (nothing done), or by the command as it started (it stops at once).
      expect(r.stderr).toMatch(new RegExp(`respaldo: ${sig} received( before the command started|, stopping safely)`));
      // No set was written.
      expect(existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n)) : []).toEqual([]);
    },
  );
});

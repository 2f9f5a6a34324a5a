/**
 * "Times are shown in local time" (README): text output of `status`, `restore --at` and chain refusals says
 * times in the machine's zone (here TZ=Europe/Madrid, UTC+1 in December, +2 in summer), never ISO UTC;
 * `--json` keeps ISO.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const TZ = 'Europe/Madrid';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir, env: { TZ } });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('times in local time (TZ=Europe/Madrid)', () => {
  it("status: the scheduler table's last and next runs; --json stays ISO", async () => {
    const s = demoSetup();
    mkdirSync(s.backupDir, { recursive: true });
    const job = { lastRun: '2026-12-01T21:40:28.703Z', nextRun: '2027-01-01T00:00:00.000Z' };
    writeFileSync(
      join(s.backupDir, '.scheduler-state.json'),
      JSON.stringify({
        version: 1,
        updatedAt: job.lastRun,
        scheduler: null,
        // A run that ended, as the scheduler records it (lastEnd): one without it is a run that did not end.
        jobs: {
          nightly: {
            ...job,
            lastEnd: '2026-12-01T21:40:33.703Z',
            lastOutcome: 'completed',
            lastDurationMs: 5000,
            successes: 1,
          },
        },
      }),
    );
    const text = (await cli(s, ['status'])).stdout;
    expect(text).toMatch(/nightly\s+2026-12-01 22:40\s+completed\s+5 s\s+2027-01-01 01:00/);
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    const json = parseJsonOutput<{ scheduler: { jobs: Record<string, typeof job> } }>(
      (await cli(s, ['status', '--json'])).stdout,
    );
    expect(json.scheduler.jobs['nightly']).toMatchObject(job);
  });

  it('restore --at with no set that early says the time asked for in local time', async () => {
    const s = demoSetup();
    const r = await cli(s, ['restore', '--at', '2020-06-01 10:00', '--db', 'users', '--dry-run'], 8);
    expect(r.stderr).toContain('No backup set of users ends at or before 2020-06-01 10:00:00.');
    expect(r.stderr).not.toMatch(/08:00/);
  });

  it('a chain refused because a member failed verification says when in local time', async () => {
    const s = demoSetup();
    const create = async (type: string) =>
      parseJsonOutput<Manifest>(
        (await cli(s, ['create', '--type', type, '--db', 'users', '--no-files', '--json'])).stdout,
      );
    const full = await create('full');
    const inc = await create('incremental');
    expect(inc.databases[0]!.base).toBe(full.id);
    writeFileSync(
      join(s.backupDir, full.id, 'verified.json'),
      JSON.stringify({ at: '2026-12-01T21:37:38.140Z', ok: false }),
    );
    const r = await cli(s, ['restore', inc.id, '--to', join(s.dir, 'x.db'), '--dry-run'], 5);
    expect(r.stdout).toContain(
      `users in set ${full.id} (needed by ${inc.id}): the set failed verification on 2026-12-01 22:37.`,
    );
    expect(r.stdout).not.toContain('21:37:38');
  });
});

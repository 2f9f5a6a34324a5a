/**
 * Safety copies of earlier in-place restores are never pruned, so a bad day's restores of the same database stack
 * them up (a whole database each on a PostgreSQL server: postgres-cli.test.ts). The plan of the next in-place
 * restore names them with the command that removes them; once removed it says nothing of them. SQLite keeps them as
 * pre_restore sets in the backup folder: the warning gives their size there.
 */
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../src/core/format.js';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expected = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(expected);
  return r;
}

describe('the plan of an in-place restore names the safety copies earlier restores keep', () => {
  it('SQLite: two pre_restore sets of users, their size and `respaldo delete`; none once deleted', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
    const first = await cli(s, ['restore', m.id, '--db', 'users', '--dry-run']);
    expect(first.stdout).not.toContain('earlier restores');
    await cli(s, ['restore', m.id, '--db', 'users', '--yes']);
    await cli(s, ['restore', m.id, '--db', 'users', '--yes']);
    const sets = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    const safety = sets.filter((x) => x.type === 'pre_restore').reverse(); // oldest first
    expect(safety).toHaveLength(2);
    const size = formatBytes(safety.reduce((n, x) => n + x.storedBytes, 0));

    const plan = (await cli(s, ['restore', m.id, '--db', 'users', '--dry-run'])).stdout.replace(/\s+/g, ' ');
    expect(plan).toContain(
      `users: 2 pre_restore sets of earlier restores stay in the backup folder (${size}); this restore adds one. ` +
        `Once you no longer need them: ${safety.map((x) => `respaldo delete ${x.id}`).join(' && ')}`,
    );
    // Only the database replaced: inventario has none, and a restore beside the live one keeps nothing.
    expect(plan).not.toContain('inventario: 2 pre_restore');
    const beside = (await cli(s, ['restore', m.id, '--db', 'users', '--to', 'beside.db', '--dry-run'])).stdout;
    expect(beside).not.toContain('earlier restores');

    for (const x of safety) await cli(s, ['delete', x.id, '--yes']);
    expect((await cli(s, ['restore', m.id, '--db', 'users', '--dry-run'])).stdout).not.toContain('earlier restores');
  });
});

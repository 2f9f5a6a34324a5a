/**
 * A leftover of a killed or cut-short run that cannot be removed (here a file made immutable with `chattr +i`, as an
 * operator may do to protect a set; on a share, a file of another user) is said and left: it never stops the backup,
 * restore or drill that finds it. A prune that could not finish removing a set left `.deleting-<id>-<pid>`, and from
 * then on every `create` (the scheduler's too), `restore` and `drill` failed with an internal error (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const chattr = (flag: '+i' | '-i', path: string) => spawnSync('chattr', [flag, path], { encoding: 'utf8' });

/** Whether this machine lets a file be made immutable here (root with CAP_LINUX_IMMUTABLE, a file system with it). */
function canMakeImmutable(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'respaldo-chattr-'));
  const file = join(dir, 'f');
  writeFileSync(file, '');
  const ok = chattr('+i', file).status === 0;
  if (ok) chattr('-i', file);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}

const run = (s: DemoSetup, args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });

describe('a leftover that cannot be removed', () => {
  it.skipIf(!canMakeImmutable())('is said and left: create, restore and drill still run', async () => {
    const s = demoSetup({
      databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
      files: undefined,
      retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } },
    });
    const made: Manifest[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await run(s, ['create', '--json']);
      expect(c.code, describeResult(c)).toBe(0);
      made.push(parseJsonOutput<Manifest>(c.stdout));
    }
    const old = made[0]!;
    const stuck = join(s.backupDir, old.id, old.databases[0]!.file!);
    expect(chattr('+i', stuck).status).toBe(0);
    try {
      const pruned = await run(s, ['prune']);
      expect(pruned.code, describeResult(pruned)).toBe(7);
      // Out of sight already: said as partly removed, not as a set left as it was.
      expect(pruned.stderr).toContain(`Set ${old.id} is no longer listed but was only partly removed`);
      const left = readdirSync(s.backupDir).find((n) => n.startsWith(`.deleting-${old.id}-`));
      expect(left).toBeDefined();
      const st = await run(s, ['status']);
      expect(st.stdout).toMatch(new RegExp(`Leftovers: +.*\\${left}`));

      const c = await run(s, ['create']);
      expect(c.code, describeResult(c)).toBe(0);
      expect(c.stderr).toContain(`could not remove ${join(s.backupDir, left!)}, left by an interrupted run`);
      const r = await run(s, ['restore', 'latest', '--db', 'users', '--to', join(s.dir, 'r.db'), '--yes']);
      expect(r.code, describeResult(r)).toBe(0);
      expect(existsSync(join(s.dir, 'r.db'))).toBe(true);
      const d = await run(s, ['drill', 'latest']);
      expect(d.code, describeResult(d)).toBe(0);
    } finally {
      const left = readdirSync(s.backupDir).find((n) => n.startsWith(`.deleting-${old.id}-`));
      chattr('-i', left ? join(s.backupDir, left, old.databases[0]!.file!) : stuck);
    }
    // Once it can be, the next run removes it.
    const c = await run(s, ['create']);
    expect(c.code, describeResult(c)).toBe(0);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.deleting-'))).toEqual([]);
  });
});

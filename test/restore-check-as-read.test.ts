/**
 * A restore of one database from a local set checks each stored file's size first and its SHA-256 as the restore
 * reads it (RestoreOptions.checkAsRead), instead of hashing it in a pass of its own before: the plan says so, an
 * intact set restores as before, and damage (changed bytes, a cut file) stops the restore before its swap with
 * exit 5, the live database as it was and nothing of the restore left. Two databases keep the check first.
 */
import { readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expected: number) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(expected);
  return r;
}

async function setOf(s: DemoSetup, dbs: string[]): Promise<Manifest> {
  const made = await cli(s, ['create', '--json', '--no-files', ...dbs.flatMap((d) => ['--db', d])], 0);
  return parseJsonOutput<Manifest>(made.stdout);
}

const leftovers = (s: DemoSetup) => readdirSync(s.dataDir).filter((n) => n.includes('.respaldo-'));

describe('a restore of one database checks its stored files as it reads them', () => {
  it('the plan says so; an intact set restores in place as before', async () => {
    const s = demoSetup();
    const m = await setOf(s, ['users']);
    const plan = await cli(s, ['restore', m.id, '--db', 'users', '--dry-run'], 0);
    expect(plan.stdout).toContain(
      '1. check the stored files are there with their sizes; each is checked against the manifest (sha256) as the restore reads it',
    );
    expect(plan.stdout).toMatch(/check databases\/users_\S+ against the manifest as it is read/);
    expect(plan.stdout).not.toContain('(md5 + sha256)');
    const json = parseJsonOutput<{ options: { checkAsRead: boolean } }>(
      (await cli(s, ['restore', m.id, '--db', 'users', '--dry-run', '--json'], 0)).stdout,
    );
    expect(json.options.checkAsRead).toBe(true);

    const before = dbDigest(s.dbs.users);
    await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 0);
    expect(dbDigest(s.dbs.users)).toEqual(before);
    expect(leftovers(s)).toEqual([]);
  });

  it.each([
    ['bytes changed in place (same size)', 'changed'],
    ['the file cut short', 'cut'],
  ] as const)(
    '%s: exit 5 before the swap, the live database as it was, nothing of the restore left',
    async (_t, how) => {
      const s = demoSetup();
      const m = await setOf(s, ['users']);
      const stored = join(s.backupDir, m.id, m.databases.find((d) => d.name === 'users')!.file!);
      const bytes = readFileSync(stored);
      if (how === 'changed') {
        bytes[bytes.length >> 1]! ^= 0xff;
        writeFileSync(stored, bytes);
      } else truncateSync(stored, bytes.length >> 1);
      const live = dbDigest(s.dbs.users);
      const r = await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 5);
      expect(r.stdout + r.stderr).toMatch(
        how === 'changed' ? /does not match its manifest|damaged/ : /failed verification, nothing was restored/,
      );
      expect(dbDigest(s.dbs.users)).toEqual(live);
      expect(leftovers(s)).toEqual([]);
      // No safety copy kept of a restore that replaced nothing; the damage found is recorded for list and status.
      const sets = parseJsonOutput<{ id: string; type: string; lastVerified: { ok: boolean } | null }[]>(
        (await cli(s, ['list', '--json'], 0)).stdout,
      );
      expect(sets.filter((x) => x.type === 'pre_restore')).toEqual([]);
      expect(sets.find((x) => x.id === m.id)?.lastVerified?.ok).toBe(false);
      const health = await cli(s, ['status', '--check'], 10);
      expect(health.stdout + health.stderr).toContain(
        `users: the newest backup (set ${m.id}) failed its verification on`,
      );
    },
  );

  it('two databases: every stored file is verified before anything (a damaged second one restores neither)', async () => {
    const s = demoSetup();
    const m = await setOf(s, ['users', 'inventario']);
    const plan = await cli(s, ['restore', m.id, '--dry-run'], 0);
    expect(plan.stdout).toContain('1. verify the stored files against the manifest (md5 + sha256)');
    const stored = join(s.backupDir, m.id, m.databases.find((d) => d.name === 'inventario')!.file!);
    const bytes = readFileSync(stored);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(stored, bytes);
    const users = dbDigest(s.dbs.users);
    const r = await cli(s, ['restore', m.id, '--yes'], 5);
    expect(r.stderr).toContain(`Set ${m.id} failed verification, nothing was restored`);
    expect(dbDigest(s.dbs.users)).toEqual(users);
    const listed = await cli(s, ['list'], 0);
    expect(listed.stdout).toMatch(/FAILED \d{4}-\d\d-\d\d/);
  });
});

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * Retention and delete never leave nothing to restore: a set whose manifest is damaged still has its chain kept,
 * nothing is pruned after a backup that failed outright, and the newest set that did not fail its verification
 * is kept beside a newer one that did.
 */

/** One SQLite database, sets made by hand kept as little as retention allows. */
function lean(): DemoSetup {
  return demoSetup({
    databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
    files: undefined,
    retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } },
  });
}

const run = (s: DemoSetup, args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });

async function create(s: DemoSetup, args: string[] = []): Promise<Manifest> {
  const r = await run(s, ['create', '--json', ...args]);
  expect(r.code, describeResult(r)).toBe(0);
  return parseJsonOutput<Manifest>(r.stdout);
}

describe('retention and delete around damage and failure', () => {
  it("a damaged incremental's base is kept by prune and refused by delete (its manifest still names it)", async () => {
    const s = lean();
    const full = await create(s);
    const i1 = await create(s, ['--type', 'incremental']);
    await create(s, ['--type', 'incremental']);
    await create(s); // a newer full: the first is no longer the newest of users
    const file = join(s.backupDir, i1.id, 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"schemaVersion": 1', '"schemaVersion": 1,,'));

    const refused = await run(s, ['delete', full.id, '--yes']);
    expect(refused.code, describeResult(refused)).toBe(9);
    expect(refused.stderr).toContain(i1.id);
    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(0);
    expect(pruned.stdout + pruned.stderr).toMatch(
      new RegExp(`${full.id} .* keep +may be needed by ${i1.id} \\(damaged manifest; chain\\)`),
    );
    expect(existsSync(join(s.backupDir, full.id))).toBe(true);
    expect(existsSync(join(s.backupDir, i1.id))).toBe(true);
  });

  it('nothing is pruned after a backup that failed and wrote no set (exit 9), the sets as they were', async () => {
    const s = lean();
    const a = await create(s);
    const b = await create(s);
    renameSync(s.dbs.users, `${s.dbs.users}.away`);
    const failed = await run(s, ['create', '--no-files']);
    expect(failed.code, describeResult(failed)).toBe(7);
    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(9);
    expect(pruned.stderr).toMatch(/Nothing pruned: the last backup \(\S+\) failed and wrote no set/);
    for (const id of [a.id, b.id]) expect(existsSync(join(s.backupDir, id))).toBe(true);
    // a backup that works again lets retention run
    renameSync(`${s.dbs.users}.away`, s.dbs.users);
    await create(s);
    expect((await run(s, ['prune'])).code).toBe(0);
  });

  it('the newest set failed its verification: the newest that did not is kept too, and restore latest uses it', async () => {
    const s = lean();
    const good = await create(s);
    const bad = await create(s);
    appendFileSync(join(s.backupDir, bad.id, bad.databases[0]!.file!), 'damage');
    expect((await run(s, ['verify', bad.id])).code).toBe(5);
    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(0);
    expect(pruned.stdout + pruned.stderr).toMatch(
      new RegExp(`${good.id} .* keep +(by hand, newest 1 of 1; )?newest of users that did not fail verification`),
    );
    const restored = await run(s, ['restore', 'latest', '--db', 'users', '--to', join(s.dir, 'r.db'), '--yes']);
    expect(restored.code, describeResult(restored)).toBe(0);
    expect(restored.stdout + restored.stderr).toContain(good.id);
  });

  it('the newest set failed its restore drill: the newest whose drill did not fail is kept too', async () => {
    const s = lean();
    const good = await create(s);
    const bad = await create(s);
    // Its files match their hashes (verify passes) but it does not restore as recorded: the drill fails (exit 11).
    const file = join(s.backupDir, bad.id, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    const users = m.databases[0]!;
    users.tables = { ...users.tables, users: (users.tables?.['users'] ?? 0) + 1 };
    writeFileSync(file, JSON.stringify(m, null, 2));
    expect((await run(s, ['verify', bad.id])).code).toBe(0);
    expect((await run(s, ['drill', bad.id])).code).toBe(11);
    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(0);
    expect(pruned.stdout).toMatch(
      new RegExp(`${good.id} .* keep +(by hand, newest 1 of 1; )?newest of users whose restore drill did not fail`),
    );
    expect(existsSync(join(s.backupDir, good.id))).toBe(true);
    expect(existsSync(join(s.backupDir, bad.id))).toBe(true);
  });

  it('delete says what a set is before it goes: the only or newest backup, a safety copy; not "latest"; a chain base refused first', async () => {
    const s = lean();
    const only = await create(s);
    const del = (id: string) => run(s, ['delete', id, '--yes']);
    const alone = await run(s, ['delete', 'latest', '--yes']);
    expect(alone.code, describeResult(alone)).toBe(2);
    expect(alone.stderr).toContain('delete takes a set id');
    expect(existsSync(join(s.backupDir, only.id))).toBe(true);

    const newer = await create(s);
    const restored = await run(s, ['restore', newer.id, '--db', 'users', '--yes', '--json']);
    expect(restored.code, describeResult(restored)).toBe(0);
    const safety = parseJsonOutput<{ safetySetIds: string[] }>(restored.stdout).safetySetIds[0]!;
    const goneSafety = await del(safety);
    expect(goneSafety.code, describeResult(goneSafety)).toBe(0);
    expect(goneSafety.stderr).toContain(`Set ${safety} is a safety copy: what restoring set ${newer.id} replaced`);
    const goneNewest = await del(newer.id);
    expect(goneNewest.stderr).toContain(
      `Set ${newer.id} is the newest backup of users (the next newest is ${only.id}).`,
    );
    const goneOnly = await del(only.id);
    expect(goneOnly.stderr).toContain(`Set ${only.id} is the only backup of users: after it, users has none.`);

    const full = await create(s);
    await create(s, ['--type', 'incremental']);
    const base = await run(s, ['delete', full.id]); // no --yes, no terminal: refused for the chain, not for the prompt
    expect(base.code, describeResult(base)).toBe(9);
    expect(base.stderr).toContain(`Set ${full.id} is the base of`);
  });

  it("files an operator put in a set's folder: prune keeps that set and its chain, delete names them first", async () => {
    const s = lean();
    const older = await create(s);
    const full = await create(s);
    const inc = await create(s, ['--type', 'incremental']);
    await create(s);
    await create(s, ['--type', 'incremental']); // the newest incremental of users is kept anyway
    // respaldo's own files beside a set are not an operator's: verified.json, an atomic write a killed run left
    expect((await run(s, ['verify', older.id])).code).toBe(0);
    expect((await run(s, ['drill', older.id])).code).toBe(0);
    expect((await run(s, ['keep', older.id])).code).toBe(0);
    expect((await run(s, ['keep', older.id, '--unset'])).code).toBe(0);
    writeFileSync(join(s.backupDir, older.id, '.4242.1764000000000.k3j4h5.tmp'), '');
    mkdirSync(join(s.backupDir, inc.id, 'notas'));
    writeFileSync(join(s.backupDir, inc.id, 'notas', 'incidente.txt'), 'what happened on monday');

    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(0);
    const said = pruned.stdout + pruned.stderr;
    expect(said).toMatch(
      new RegExp(
        `${inc.id} .* keep +its folder also holds 1 file\\(s\\) respaldo did not write \\(notas/incidente.txt\\)`,
      ),
    );
    expect(said).toMatch(new RegExp(`${full.id} .* keep +needed by ${inc.id} \\(kept; chain\\)`));
    expect(existsSync(join(s.backupDir, older.id))).toBe(false);
    expect(readFileSync(join(s.backupDir, inc.id, 'notas', 'incidente.txt'), 'utf8')).toBe('what happened on monday');
    expect(existsSync(join(s.backupDir, full.id))).toBe(true);

    const gone = await run(s, ['delete', inc.id, '--yes']);
    expect(gone.code, describeResult(gone)).toBe(0);
    expect(gone.stderr).toContain(
      `The folder of set ${inc.id} also holds 1 file(s) respaldo did not write (notas/incidente.txt): deleting the set deletes it too.`,
    );
  });

  it('a set that stored files: prune and delete name the file put by hand alone, never a file the set stored', async () => {
    // lean(), with the demo's application files: each set stores some (their entries read as the folder is compared)
    const s = demoSetup({
      databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
      retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } },
    });
    const older = await create(s);
    expect(older.files.filter((f) => f.stored).length).toBeGreaterThan(1);
    await create(s);
    writeFileSync(join(s.backupDir, older.id, 'notas.txt'), 'restored from this one on monday');
    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(0);
    expect(pruned.stdout + pruned.stderr).toMatch(
      new RegExp(`${older.id} .* keep +its folder also holds 1 file\\(s\\) respaldo did not write \\(notas.txt\\)`),
    );
    const gone = await run(s, ['delete', older.id, '--yes']);
    expect(gone.code, describeResult(gone)).toBe(0);
    expect(gone.stderr).toContain(
      `The folder of set ${older.id} also holds 1 file(s) respaldo did not write (notas.txt): deleting the set deletes it too.`,
    );
  });

  it('a set dated ahead of the clock: nothing pruned (exit 9), said with the clock to check; status --check unhealthy', async () => {
    const s = lean();
    const a = await create(s);
    const b = await create(s);
    const file = join(s.backupDir, b.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    writeFileSync(
      file,
      JSON.stringify({ ...doc, startedAt: '2099-01-01T00:00:00.000Z', completedAt: '2099-01-01T00:00:01.000Z' }),
    );
    const pruned = await run(s, ['prune']);
    expect(pruned.code, describeResult(pruned)).toBe(9);
    expect(pruned.stderr).toContain(`set ${b.id} is dated 2099-01-01T00:00:00.000Z, ahead of this machine's clock`);
    expect(pruned.stderr).toContain("Check this machine's clock");
    expect(existsSync(join(s.backupDir, a.id))).toBe(true);
    // monitoring says so too (the set hid the age of the newest real backup)
    const check = await run(s, ['status', '--check']);
    expect(check.code, describeResult(check)).toBe(10);
    expect(check.stdout).toContain(`backup set ${b.id}: dated 2099-01-01T00:00:00.000Z, ahead of this machine's clock`);
  });
});

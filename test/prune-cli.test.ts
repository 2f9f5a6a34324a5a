import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

const setIds = (backupDir: string): string[] =>
  readdirSync(backupDir)
    .filter((n) => /^\d{8}_\d{6}(_\d+)?$/.test(n))
    .sort()
    .reverse();

describe('respaldo prune / keep (built CLI)', () => {
  it('prune --dry-run explains each decision, prune removes, keep protects, --json is one document', async () => {
    // Sets made by hand follow retention.manual: here none kept for its age, only the newest one.
    const manual = { days: 0, keepLast: 1 };
    const setup = demoSetup({ retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual } });
    for (let i = 0; i < 3; i++) {
      const c = await runCli(['create', '--no-files', '--config', setup.configFile]);
      expect(c.code, describeResult(c)).toBe(0);
    }
    const [newest, middle, oldest] = setIds(setup.backupDir);

    const k = await runCli(['keep', oldest!, '--config', setup.configFile]);
    expect(k.code, describeResult(k)).toBe(0);
    expect(k.stdout).toContain(`Set ${oldest} is marked keep`);

    const dry = await runCli(['prune', '--dry-run', '--config', setup.configFile]);
    expect(dry.code, describeResult(dry)).toBe(0);
    expect(dry.stdout).toMatch(
      /Retention: keepLast 1, daily 0, weekly 0, monthly 0, yearly 0 {2}\(dry run: nothing is removed\)/,
    );
    const rule = "Each job's sets are kept by these rules; sets made by hand: 0 days, and at least the newest 1.";
    expect(dry.stdout).toContain(rule);
    const row = (id: string | undefined, rest: string) =>
      new RegExp(`${id}\\s+full\\s+completed\\s+by hand\\s+.*${rest}`);
    expect(dry.stdout).toMatch(row(newest, 'keep\\s+by hand, newest 1 of 1; newest of users'));
    expect(dry.stdout).toMatch(row(middle, 'would remove\\s+by hand, older than 0 days and not among the newest 1'));
    expect(dry.stdout).toMatch(new RegExp(`${oldest}\\s+full\\s+completed\\s+by hand\\s+.*keep\\s+keep mark`));
    expect(dry.stdout).toContain('1 set(s) would be removed, 2 kept.');
    expect(setIds(setup.backupDir)).toHaveLength(3);

    const real = await runCli(['prune', '--json', '--config', setup.configFile]);
    expect(real.code, describeResult(real)).toBe(0);
    type Row = { id: string; action: string; job: string | null; reasons: string[]; keep: boolean };
    const doc = parseJsonOutput<{ dryRun: boolean; removed: string[]; sets: Row[] }>(real.stdout);
    expect(doc.dryRun).toBe(false);
    expect(doc.sets.map((s) => s.job)).toEqual([null, null, null]);
    expect(doc.removed).toEqual([middle]);
    // Each set's keep mark, as prune --from says it of the sets at a destination.
    expect(doc.sets.map((s) => [s.id, s.action, s.keep])).toEqual([
      [newest, 'keep', false],
      [middle, 'remove', false],
      [oldest, 'keep', true],
    ]);
    expect(setIds(setup.backupDir)).toEqual([newest, oldest]);

    const unset = await runCli(['keep', oldest!, '--unset', '--config', setup.configFile]);
    expect(unset.code, describeResult(unset)).toBe(0);
    const again = await runCli(['prune', '--config', setup.configFile]);
    expect(again.code, describeResult(again)).toBe(0);
    expect(setIds(setup.backupDir)).toEqual([newest]);
  });

  it("a job's daily periods are the days of its timezone, not the machine's", async () => {
    const retention = { keepLast: 0, daily: 5, weekly: 0, monthly: 0, yearly: 0 };
    const jobs = [{ name: 'ny', when: 'daily at 23:30', type: 'full', timezone: 'America/New_York' }];
    const setup = demoSetup({ retention, schedule: { jobs } });
    for (let i = 0; i < 3; i++) {
      const c = await runCli(['create', '--no-files', '--config', setup.configFile]);
      expect(c.code, describeResult(c)).toBe(0);
    }
    const [newest, mon, sunLate] = setIds(setup.backupDir);
    // Made by the job: the newest now, the others 23:30 on the Sunday clocks went forward there and 00:30 after it
    const made = (id: string | undefined, at: string | null) => {
      const file = join(setup.backupDir, id!, 'manifest.json');
      const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      m['job'] = 'ny';
      if (at) [m['startedAt'], m['completedAt']] = [at, at];
      writeFileSync(file, JSON.stringify(m, null, 2), { mode: 0o600 });
    };
    made(newest, null);
    made(mon, '2026-03-09T04:30:00.000Z'); // 2026-03-09 00:30 EDT, 04:30 UTC
    made(sunLate, '2026-03-09T03:30:00.000Z'); // 2026-03-08 23:30 EDT, 03:30 UTC: the same UTC day
    const dry = await runCli(['prune', '--dry-run', '--json', '--config', setup.configFile], { env: { TZ: 'UTC' } });
    expect(dry.code, describeResult(dry)).toBe(0);
    type Row = { id: string; action: string; job: string | null; reasons: string[] };
    const rows = parseJsonOutput<{ sets: Row[] }>(dry.stdout).sets;
    expect(rows.find((r) => r.id === mon)).toMatchObject({ action: 'keep', job: 'ny', reasons: ['daily 2026-03-09'] });
    expect(rows.find((r) => r.id === sunLate)).toMatchObject({ action: 'keep', reasons: ['daily 2026-03-08'] });
  });

  it('prune refuses with exit 9 after a partial backup; keep of an unknown set is exit 8', async () => {
    const setup = demoSetup({
      databases: [
        { name: 'users', engine: 'sqlite', path: './data/users.db' },
        { name: 'ghost', engine: 'sqlite', path: './data/ghost.db' },
      ],
    });
    const c = await runCli(['create', '--no-files', '--config', setup.configFile]);
    expect(c.code, describeResult(c)).toBe(4);
    const p = await runCli(['prune', '--config', setup.configFile]);
    expect(p.code, describeResult(p)).toBe(9);
    expect(p.stderr).toMatch(/Nothing pruned: the newest backup set \d{8}_\d{6} is partial \(ghost failed\)/);
    const k = await runCli(['keep', '20200101_000000', '--config', setup.configFile]);
    expect(k.code, describeResult(k)).toBe(8);
  });

  it('its hint names what retention would remove, for a backup that fails because the disk is full', async () => {
    const setup = demoSetup({
      databases: [
        { name: 'users', engine: 'sqlite', path: './data/users.db' },
        { name: 'ghost', engine: 'sqlite', path: './data/ghost.db' },
      ],
      retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } },
    });
    for (let i = 0; i < 3; i++) {
      const done = await runCli(['create', '--db', 'users', '--no-files', '--config', setup.configFile]);
      expect(done.code, describeResult(done)).toBe(0);
    }
    // The newest completed set is always kept: the two before it would go.
    const [old] = setIds(setup.backupDir).sort();
    const c = await runCli(['create', '--no-files', '--config', setup.configFile]);
    expect(c.code, describeResult(c)).toBe(4);
    const p = await runCli(['prune', '--config', setup.configFile]);
    expect(p.code, describeResult(p)).toBe(9);
    expect(p.stderr).toContain(`retention would remove 2 set(s), the oldest ${old} (\`respaldo delete ${old}\``);
    expect(setIds(setup.backupDir)).toContain(old);
  });
  it('keeps the newest set holding the files when newer ones were made without them (create --no-files, keepLast 1)', async () => {
    const manual = { days: 0, keepLast: 1 };
    const setup = demoSetup({ retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual } });
    for (const files of [true, true, false, false]) {
      const c = await runCli(['create', ...(files ? [] : ['--no-files']), '--config', setup.configFile]);
      expect(c.code, describeResult(c)).toBe(0);
    }
    const [newest, noFiles, withFiles, oldestFiles] = setIds(setup.backupDir);
    type Row = { id: string; action: string; reasons: string[] };
    const dry = await runCli(['prune', '--dry-run', '--json', '--config', setup.configFile]);
    expect(dry.code, describeResult(dry)).toBe(0);
    const plan = parseJsonOutput<{ sets: Row[] }>(dry.stdout).sets;
    expect(plan.map((s) => [s.id, s.action])).toEqual([
      [newest, 'keep'],
      [noFiles, 'remove'],
      [withFiles, 'keep'],
      [oldestFiles, 'remove'],
    ]);
    expect(plan.find((s) => s.id === withFiles)!.reasons).toEqual(['newest of files']);
    expect(setIds(setup.backupDir)).toHaveLength(4);

    const real = await runCli(['prune', '--json', '--config', setup.configFile]);
    expect(real.code, describeResult(real)).toBe(0);
    expect(parseJsonOutput<{ removed: string[] }>(real.stdout).removed.sort()).toEqual([oldestFiles, noFiles].sort());
    expect(setIds(setup.backupDir)).toEqual([newest, withFiles]);
    const files = JSON.parse(readFileSync(join(setup.backupDir, withFiles!, 'manifest.json'), 'utf8')) as {
      files: unknown[];
    };
    expect(files.files.length).toBeGreaterThan(0);
  });
});

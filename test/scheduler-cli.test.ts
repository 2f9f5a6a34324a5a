import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

describe('respaldo schedule (built CLI)', () => {
  it('set adds and changes jobs, --preset tiered replaces them, schedule lists next runs (text and --json)', async () => {
    const setup = demoSetup();
    const add = await runCli([
      'schedule',
      'set',
      'nightly',
      '--when',
      'daily at 02:30',
      '--db',
      'users',
      '--no-files',
      '--timezone',
      'Asia/Kolkata',
      '--config',
      setup.configFile,
    ]);
    expect(add.code, describeResult(add)).toBe(0);
    expect(add.stdout).toContain('Job nightly added');
    const change = await runCli(['schedule', 'set', 'nightly', '--type', 'schema', '--config', setup.configFile]);
    expect(change.code, describeResult(change)).toBe(0);
    const doc = JSON.parse(readFileSync(setup.configFile, 'utf8')) as {
      schedule: { jobs: unknown[] };
      retention: unknown;
    };
    expect(doc.schedule.jobs).toEqual([
      {
        name: 'nightly',
        when: 'daily at 02:30',
        type: 'schema',
        databases: ['users'],
        files: false,
        timezone: 'Asia/Kolkata',
      },
    ]);

    const list = await runCli(['schedule', '--json', '-n', '3', '--config', setup.configFile]);
    expect(list.code, describeResult(list)).toBe(0);
    const l = parseJsonOutput<{ jobs: Array<{ name: string; cron: string; nextRuns: string[] }> }>(list.stdout);
    expect(l.jobs[0]).toMatchObject({ name: 'nightly', cron: '30 2 * * *' });
    expect(l.jobs[0]!.nextRuns).toHaveLength(3);
    for (const t of l.jobs[0]!.nextRuns) {
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Kolkata',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(t));
      expect(local).toBe('02:30');
    }

    const preset = await runCli(['schedule', 'set', '--preset', 'tiered', '--config', setup.configFile]);
    expect(preset.code, describeResult(preset)).toBe(0);
    expect(preset.stdout).toContain('Removed: nightly (daily at 02:30)');
    // one column per field, as wide as its longest word
    expect(preset.stdout).toContain('  weekly   differential  weekly on sunday at 23:30\n');
    expect(preset.stdout).toContain('  monthly  full          monthly on day 1 at 00:00\n');
    const text = await runCli(['schedule', '--config', setup.configFile]);
    expect(text.code, describeResult(text)).toBe(0);
    expect(text.stdout).toMatch(
      /monthly: full backup of all databases \(users, inventario, auditoria\) \+ files\n {2}when: monthly on day 1 at 00:00 {2}\(cron 0 0 1 \* \*\)/,
    );
    expect(text.stdout).toMatch(/verify: verify the newest set of all databases/);
    expect(text.stdout).toMatch(/drill: restore drill of the newest set of all databases/);
    expect(text.stdout.match(/^\s+(next:|\s{6})\s*\w{3} \d{4}-\d{2}-\d{2} \d{2}:\d{2}/gm)?.length).toBe(25);

    const rm = await runCli(['schedule', 'remove', 'verify', '--config', setup.configFile]);
    expect(rm.code, describeResult(rm)).toBe(0);
    expect(
      (
        JSON.parse(readFileSync(setup.configFile, 'utf8')) as { schedule: { jobs: Array<{ name: string }> } }
      ).schedule.jobs.map((j) => j.name),
    ).toEqual(['monthly', 'weekly', 'daily', 'drill']);
  });

  it('bad input is exit 2 and changes nothing; the scheduler refuses an empty schedule (exit 3)', async () => {
    const setup = demoSetup();
    const before = readFileSync(setup.configFile, 'utf8');
    const bad = await runCli([
      'schedule',
      'set',
      'x',
      '--when',
      'weekly on funday at 01:00',
      '--config',
      setup.configFile,
    ]);
    expect(bad.code, describeResult(bad)).toBe(2);
    expect(bad.stderr).toMatch(/schedule\.jobs\[0\]\.when: .*"funday" is not a day of the week/);
    const tz = await runCli([
      'schedule',
      'set',
      'x',
      '--when',
      'daily at 01:00',
      '--timezone',
      'Mars/Base',
      '--config',
      setup.configFile,
    ]);
    expect(tz.code, describeResult(tz)).toBe(2);
    expect(tz.stderr).toMatch(/unknown time zone "Mars\/Base"/);
    expect(readFileSync(setup.configFile, 'utf8')).toBe(before);
    const s = await runCli(['scheduler', '--config', setup.configFile]);
    expect(s.code, describeResult(s)).toBe(3);
    expect(s.stderr).toMatch(/schedule\.jobs: no jobs to run/);
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { listSets, readManifest } from '../src/engine/catalog.js';
import { readSchedulerState } from '../src/scheduler/state.js';
import { tieredPreset } from '../src/scheduler/when.js';
import { collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { makeBigDb } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';
import { type LogLine, logLines } from './helpers/logs.js';

const schedulerLines = (backupDir: string): LogLine[] =>
  logLines(backupDir).filter((l) =>
    [
      'scheduler-start',
      'catch-up',
      'job-start',
      'job-end',
      'job-skipped',
      'retention',
      'retention-skipped',
      'scheduler-stopping',
      'scheduler-aborting',
      'scheduler-stop',
    ].includes(l.event),
  );

/** The log of a scheduler stopped while its catch-up job ran, that let the job finish, then stopped. */
const FINISHED_THEN_STOPPED = [
  'scheduler-start',
  'catch-up',
  'job-start',
  'scheduler-stopping',
  'job-end',
  'retention',
  'scheduler-stop',
];

/** A job that runs once a year, so only its catch-up at start runs, on a 300 MB database (a backup that lasts). */
function yearlyBigJob(): ReturnType<typeof demoSetup> {
  const setup = demoSetup({
    retention: { keepLast: 10, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
    schedule: { jobs: [{ name: 'big', when: '0 0 1 1 *', type: 'full', databases: ['*'], files: false }] },
  });
  makeBigDb(setup.dbs.inventario, 300);
  return setup;
}

describe('respaldo scheduler (real process, real SQLite databases)', () => {
  it('runs a job every 3 seconds, applies retention after each success, and stops cleanly on SIGTERM', async () => {
    const setup = demoSetup({
      retention: { keepLast: 2, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
      schedule: {
        jobs: [
          { name: 'often', when: '*/3 * * * * *', type: 'full', databases: ['users', 'inventario'], files: false },
        ],
      },
    });
    const child = startCli(['scheduler', '--config', setup.configFile]);
    const done = collect(child, 60_000);
    await waitFor(
      () => schedulerLines(setup.backupDir).filter((l) => l.event === 'job-end').length >= 3,
      'three finished runs',
      30_000,
    );
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/scheduler started with 1 job/);
    expect(r.stdout).toMatch(/often: COMPLETED set \d{8}_\d{6}/);
    expect(r.stdout).toMatch(/scheduler stopped \(exit 0\)/);

    const lines = schedulerLines(setup.backupDir);
    expect(lines[0]!.event).toBe('scheduler-start');
    expect(lines.at(-1)).toMatchObject({ event: 'scheduler-stop', exitCode: 0 });
    const ends = lines.filter((l) => l.event === 'job-end');
    for (const e of ends) {
      expect(e).toMatchObject({ job: 'often', outcome: 'completed' });
      expect(e.setId).toMatch(/^\d{8}_\d{6}(_\d+)?$/);
      expect(e.bytes as number).toBeGreaterThan(0);
      expect(typeof e.durationMs).toBe('number');
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
    // Starts and ends alternate: never two jobs at once.
    const seq = lines.filter((l) => l.event === 'job-start' || l.event === 'job-end').map((l) => l.event);
    for (let i = 0; i < seq.length; i++) expect(seq[i]).toBe(i % 2 === 0 ? 'job-start' : 'job-end');
    expect(lines.filter((l) => l.event === 'retention').length).toBe(ends.length);

    const cfg = await loadConfig({ configPath: setup.configFile });
    const sets = await listSets(cfg);
    // keepLast 2 (the newest set of each database is among them).
    expect(sets.length).toBe(2);
    for (const s of sets) {
      expect(s).toMatchObject({ status: 'completed', job: 'often', databases: ['users', 'inventario'], files: 0 });
      expect((await readManifest(cfg, s.id)).job).toBe('often');
    }
    const removed = lines.filter((l) => l.event === 'retention').flatMap((l) => l.removed as string[]);
    expect(removed.length).toBe(ends.length - 2);

    const state = readSchedulerState(setup.backupDir);
    expect(state.scheduler).toMatchObject({ pid: child.pid, running: false });
    expect(state.jobs.often).toMatchObject({ lastOutcome: 'completed', successes: ends.length, failures: 0 });
    expect(state.jobs.often!.lastSetId).toBe(ends.at(-1)!.setId);
    expect(existsSync(join(setup.backupDir, '.scheduler', '.respaldo.lock'))).toBe(false);
  });

  it('a hang-up (SSH dropped; it often comes twice) finishes the running backup and stops: the lock is free again', async () => {
    const setup = yearlyBigJob();
    const a = startCli(['scheduler', '--config', setup.configFile]);
    const aDone = collect(a, 120_000);
    await waitFor(
      () => logLines(setup.backupDir).some((l) => l.event === 'create-start' && l.job === 'big'),
      'the catch-up backup under way',
      30_000,
    );
    a.kill('SIGHUP');
    a.kill('SIGHUP');
    const ra = await aDone;
    // It went on running jobs for good, holding the lock, after saying it was stopping.
    expect(ra.code, describeResult(ra)).toBe(130);
    const lines = schedulerLines(setup.backupDir);
    expect(lines.map((l) => l.event)).toEqual(FINISHED_THEN_STOPPED);
    expect(lines.find((l) => l.event === 'job-end')).toMatchObject({ outcome: 'completed' }); // never aborted
    expect(existsSync(join(setup.backupDir, '.scheduler', '.respaldo.lock'))).toBe(false);
    expect(ra.stderr).not.toMatch(/had passed the point where it can stop/);
    // The stop line says the code it exits with (it said 0), and no Ctrl-C advice: the terminal is gone.
    expect(lines.at(-1)).toMatchObject({ event: 'scheduler-stop', exitCode: 130 });
    expect(ra.stdout).toMatch(/scheduler stopped \(exit 130\)/);
    expect(ra.stderr).not.toMatch(/Ctrl-C/);
  });

  it('first SIGTERM lets the running backup finish (exit 0); a second aborts it (exit 130) leaving no visible set', async () => {
    const setup = yearlyBigJob();

    // Graceful: SIGTERM while the catch-up backup runs → it completes, exit 0.
    const a = startCli(['scheduler', '--config', setup.configFile]);
    const aDone = collect(a, 120_000);
    await waitFor(
      () => schedulerLines(setup.backupDir).some((l) => l.event === 'job-start'),
      'the catch-up job to start',
      30_000,
    );
    a.kill('SIGTERM');
    const ra = await aDone;
    expect(ra.code, describeResult(ra)).toBe(0);
    expect(ra.stderr).toMatch(/finishing the running job/);
    let lines = schedulerLines(setup.backupDir);
    expect(lines.map((l) => l.event)).toEqual(FINISHED_THEN_STOPPED);
    expect(lines.find((l) => l.event === 'job-end')).toMatchObject({ outcome: 'completed', reason: 'catch-up' });
    const cfg = await loadConfig({ configPath: setup.configFile });
    expect((await listSets(cfg)).map((s) => s.status)).toEqual(['completed']);

    // Abort: the job was done, so a restart catches nothing up; force one with a new job name.
    const { upsertJob } = await import('../src/scheduler/edit.js');
    await upsertJob(setup.configFile, 'big2', { when: '0 0 1 1 *', files: false });
    const b = startCli(['scheduler', '--config', setup.configFile]);
    const bDone = collect(b, 120_000);
    const before = lines.length;
    await waitFor(
      () =>
        schedulerLines(setup.backupDir)
          .slice(before)
          .some((l) => l.event === 'job-start'),
      'the second catch-up job to start',
      30_000,
    );
    b.kill('SIGTERM');
    // Abort once the engine has the backup under way (its own `create-start` line).
    await waitFor(
      () => logLines(setup.backupDir).some((l) => l.event === 'create-start' && l.job === 'big2'),
      'the backup of big2 under way',
      10_000,
    );
    await waitFor(
      () =>
        schedulerLines(setup.backupDir)
          .slice(before)
          .some((l) => l.event === 'scheduler-stopping'),
      'stopping logged',
      10_000,
    );
    b.kill('SIGTERM');
    const rb = await bDone;
    expect(rb.code, describeResult(rb)).toBe(130);
    lines = schedulerLines(setup.backupDir).slice(before);
    expect(lines.map((l) => l.event)).toEqual([
      'scheduler-start',
      'catch-up',
      'job-start',
      'scheduler-stopping',
      'scheduler-aborting',
      'job-end',
      'retention-skipped',
      'scheduler-stop',
    ]);
    expect(lines.find((l) => l.event === 'job-end')).toMatchObject({ job: 'big2', outcome: 'interrupted' });
    expect(lines.at(-1)).toMatchObject({ exitCode: 130 });
    // Still exactly the one completed set: nothing partial is visible.
    expect((await listSets(cfg)).map((s) => s.status)).toEqual(['completed']);
    expect(readSchedulerState(setup.backupDir).jobs.big2).toMatchObject({ lastOutcome: 'interrupted', failures: 1 });
  });

  it('tiered preset, first start: one full backup (monthly covers weekly, daily), then verify, then drill', async () => {
    const setup = demoSetup({ schedule: { jobs: tieredPreset() } });
    const child = startCli(['scheduler', '--config', setup.configFile]);
    const done = collect(child, 120_000);
    const ends = () => schedulerLines(setup.backupDir).filter((l) => l.event === 'job-end');
    await waitFor(() => ends().length >= 3, 'the catch-up runs', 60_000);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/catch-up: running monthly \(covers weekly, daily\), verify, drill once now/);
    const lines = schedulerLines(setup.backupDir);
    expect(lines.find((l) => l.event === 'catch-up')).toMatchObject({
      jobs: ['monthly', 'verify', 'drill'],
      satisfied: [
        { job: 'weekly', by: 'monthly' },
        { job: 'daily', by: 'monthly' },
      ],
    });
    const outcomes = [
      ['monthly', 'completed'],
      ['verify', 'verified'],
      ['drill', 'drilled'],
    ];
    expect(ends().map((l) => [l.job, l.outcome])).toEqual(outcomes);
    const cfg = await loadConfig({ configPath: setup.configFile });
    const sets = await listSets(cfg);
    expect(sets.map((s) => [s.job, s.status])).toEqual([['monthly', 'completed']]);
    expect(sets[0]?.lastDrill).toMatchObject({ ok: true, failed: [] });
  });

  it('--no-catch-up runs no missed job: only the jobs whose time comes', async () => {
    const often = { name: 'often', when: '*/2 * * * * *', type: 'full', databases: ['users'], files: false };
    const setup = demoSetup({ schedule: { jobs: [...tieredPreset(), often] } });
    const child = startCli(['scheduler', '--no-catch-up', '--config', setup.configFile]);
    const done = collect(child, 60_000);
    // A scheduled run of `often` ended: the catch-up decision (made before any timer is armed) is long past.
    await waitFor(() => schedulerLines(setup.backupDir).some((l) => l.event === 'job-end'), 'a scheduled run', 30_000);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);
    const lines = schedulerLines(setup.backupDir);
    expect(lines.some((l) => l.event === 'catch-up')).toBe(false);
    const starts = lines.filter((l) => l.event === 'job-start');
    expect(starts.length).toBeGreaterThan(0);
    for (const l of starts) expect(l).toMatchObject({ job: 'often', reason: 'scheduled' });
  });
});

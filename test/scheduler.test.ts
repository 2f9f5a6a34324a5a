import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, LockHeldError } from '../src/core/errors.js';
import type { ScheduleJob, SetSummary } from '../src/core/types.js';
import {
  LOCK_POLL_MS,
  LOCK_WAIT_MS,
  Scheduler,
  catchUpOrder,
  type JobEndEvent,
  type JobRunResult,
  type RunJobContext,
  type SchedulerLogEntry,
} from '../src/scheduler/scheduler.js';
import { readSchedulerState } from '../src/scheduler/state.js';
import { tieredPreset } from '../src/scheduler/when.js';
import { FakeClock, untilIdle, waitFor } from './helpers/fake-clock.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'respaldo-sched-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const utc = (jobs: ScheduleJob[]): ScheduleJob[] => jobs.map((j) => ({ ...j, timezone: 'UTC' }));
const job = (name: string, when: string, type: ScheduleJob['type'] = 'full'): ScheduleJob => ({
  name,
  when,
  type,
  databases: ['*'],
  files: true,
  timezone: 'UTC',
});

interface Call {
  job: string;
  reason: string;
  at: string;
  signal: AbortSignal;
}

function harness(o: {
  dir?: string;
  start: string;
  jobs: ScheduleJob[];
  /** Fake job duration (fake ms) and outcome. */
  run?: (job: ScheduleJob, ctx: RunJobContext, clock: FakeClock) => Promise<JobRunResult>;
  sets?: SetSummary[];
  catchUp?: boolean;
  fileLog?: boolean;
}) {
  const dir = o.dir ?? tempDir();
  const clock = new FakeClock(o.start);
  const logs: SchedulerLogEntry[] = [];
  const calls: Call[] = [];
  const ends: JobEndEvent[] = [];
  const retention: Array<{ job: string; setId: string | null }> = [];
  let n = 0;
  const run =
    o.run ??
    (async (j: ScheduleJob, ctx: RunJobContext, c: FakeClock): Promise<JobRunResult> => {
      await c.sleep(10_000, ctx.signal);
      return j.type === 'verify'
        ? { outcome: 'verified', setIds: ['x'] }
        : { outcome: 'completed', setId: `set-${++n}`, bytes: 1234 };
    });
  const scheduler = new Scheduler({
    backupDir: dir,
    jobs: o.jobs,
    clock,
    catchUp: o.catchUp,
    runJob: (j, ctx) => {
      calls.push({ job: j.name, reason: ctx.reason, at: clock.now().toISOString(), signal: ctx.signal });
      return run(j, ctx, clock);
    },
    applyRetention: async ({ job: j, setId }) => {
      retention.push({ job: j.name, setId });
      return { removed: [], kept: 1 };
    },
    listSets: async () => o.sets ?? [],
    ...(o.fileLog ? {} : { writeLogLine: (e: SchedulerLogEntry) => logs.push(e) }),
  });
  scheduler.on('job-end', (e: JobEndEvent) => ends.push(e));
  if (o.fileLog) scheduler.on('log', (e: SchedulerLogEntry) => logs.push(e));
  return { dir, clock, logs, calls, ends, retention, scheduler };
}

/** Resolves with the first log entry that matches, logged already or on its `log` event (no polling, no settle). */
function untilLog(
  h: { scheduler: Scheduler; logs: SchedulerLogEntry[] },
  pred: (l: SchedulerLogEntry) => boolean,
): Promise<SchedulerLogEntry> {
  const s = h.scheduler;
  const seen = h.logs.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const on = (l: SchedulerLogEntry): void => {
      if (!pred(l)) return;
      s.off('log', on);
      resolve(l);
    };
    s.on('log', on);
  });
}

function summary(
  id: string,
  jobName: string,
  startedAt: string,
  status: SetSummary['status'] = 'completed',
): SetSummary {
  return {
    id,
    type: 'full',
    status,
    description: null,
    startedAt,
    completedAt: startedAt,
    databases: ['users'],
    failedDatabases: [],
    files: 0,
    storedBytes: 1,
    job: jobName,
    keep: false,
    lastVerified: null,
    path: '/x',
  };
}

describe('Scheduler', () => {
  it('catches up the tiered preset with one full backup (monthly covers weekly, daily), then the verify and the drill', async () => {
    // Sunday 2026-11-22 12:00 UTC: monthly (Nov 1), weekly (Sun Nov 15 23:30), daily (Nov 21 23:00), verify (Nov 22
    // 01:00)
    // and drill (Sat Nov 21 03:00) all missed.
    const h = harness({ start: '2026-11-22T12:00:00Z', jobs: utc(tieredPreset()).reverse() });
    await h.scheduler.start();
    const catchUp = h.logs.find((l) => l.event === 'catch-up');
    expect(catchUp?.jobs).toEqual(['monthly', 'verify', 'drill']);
    expect(catchUp?.satisfied).toEqual([
      { job: 'weekly', missedAt: '2026-11-15T23:30:00.000Z', by: 'monthly', byRun: 'catch-up' },
      { job: 'daily', missedAt: '2026-11-21T23:00:00.000Z', by: 'monthly', byRun: 'catch-up' },
    ]);
    expect(String(catchUp?.message)).toBe('catch-up: running monthly (covers weekly, daily), verify, drill once now');
    expect(h.scheduler.status().running).toBe('monthly'); // started synchronously by start()
    await h.clock.advanceJob(10_000); // monthly
    await h.clock.advanceJob(10_000); // verify (advanceJob waits until it runs)
    await h.clock.advanceJob(10_000); // drill
    await untilIdle(h.scheduler);
    expect(h.calls.map((c) => [c.job, c.reason])).toEqual([
      ['monthly', 'catch-up'],
      ['verify', 'catch-up'],
      ['drill', 'catch-up'],
    ]);
    // One at a time: the verify started after the backup ended, the drill after the verify (10 s fake each).
    expect(h.calls.map((c) => c.at)).toEqual([
      '2026-11-22T12:00:00.000Z',
      '2026-11-22T12:00:10.000Z',
      '2026-11-22T12:00:20.000Z',
    ]);
    expect(h.retention.map((r) => r.job)).toEqual(['monthly']);
    h.scheduler.stop();
    expect(await h.scheduler.done).toBe(0);

    // Restarted the same day: weekly and daily are satisfied by monthly's run, nothing is caught up again.
    const again = harness({ dir: h.dir, start: '2026-11-22T13:00:00Z', jobs: utc(tieredPreset()) });
    await again.scheduler.start();
    expect(again.logs.some((l) => l.event === 'catch-up')).toBe(false);
    expect(again.scheduler.status().running).toBeNull();
    again.scheduler.stop();
    expect(await again.scheduler.done).toBe(0);
    expect(again.calls).toEqual([]);
  });

  it('when the covering catch-up run does not complete, the jobs it covered are caught up in its place', async () => {
    const h = harness({
      start: '2026-11-22T12:00:00Z',
      jobs: utc(tieredPreset()).filter((j) => j.type !== 'verify' && j.type !== 'drill'),
      run: async (j, ctx, c) => {
        await c.sleep(10_000, ctx.signal);
        if (j.name === 'monthly') return { outcome: 'partial', setId: 'p', error: 'users: unreachable' };
        return { outcome: 'completed', setId: `set-${j.name}` };
      },
    });
    await h.scheduler.start();
    await h.clock.advanceJob(10_000);
    await untilLog(h, (l) => l.event === 'catch-up' && l.after === 'monthly');
    expect(h.logs.filter((l) => l.event === 'catch-up').map((l) => l.message)).toEqual([
      'catch-up: running monthly (covers weekly, daily) once now',
      'catch-up: monthly did not complete; running weekly instead',
    ]);
    await h.clock.advanceJob(10_000);
    await untilIdle(h.scheduler);
    expect(h.calls.map((c) => c.job)).toEqual(['monthly', 'weekly']);
    expect(h.retention.map((r) => r.job)).toEqual(['weekly']);
    h.scheduler.stop();
    expect(await h.scheduler.done).toBe(0);
  });

  it('a stop with an exit code (a hang-up: 130) finishes the job and says that code in its scheduler-stop line', async () => {
    const h = harness({ start: '2026-11-22T12:00:00Z', jobs: utc(tieredPreset()) });
    await h.scheduler.start();
    await h.clock.untilSleeping();
    expect(h.scheduler.stop(130)).toBe('finishing');
    await h.clock.advanceJob(10_000);
    expect(await h.scheduler.done).toBe(130);
    expect(h.ends.map((e) => e.outcome)).toEqual(['completed']);
    expect(h.logs.find((l) => l.event === 'scheduler-stop')).toMatchObject({ exitCode: 130 });
  });

  it('a job due while a live process holds the backup folder lock waits for it, then runs (it failed at once)', async () => {
    const dir = tempDir();
    const lockFile = join(dir, '.respaldo.lock');
    const holder = { pid: process.pid, host: hostname(), purpose: 'create', startedAt: '2026-11-22T11:59:00Z' };
    writeFileSync(lockFile, JSON.stringify(holder)); // as lock.ts writes it: this live test process holds it
    const { acquireLock } = await import('../src/engine/lock.js');
    let took = false;
    const h = harness({
      dir,
      start: '2026-11-22T12:00:00Z',
      jobs: utc([job('daily', 'daily at 02:00')]),
      run: async (_j, ctx, c) => {
        const release = await acquireLock(dir, 'create', { wait: ctx.lockWait }); // what createBackup does first
        took = true;
        await c.sleep(10_000, ctx.signal);
        await release();
        return { outcome: 'completed', setId: 'set-1' };
      },
    });
    await h.scheduler.start();
    const waiting = await untilLog(h, (l) => l.event === 'job-waiting');
    expect(waiting.message).toMatch(/^daily waits for the backup folder: .*\(create, pid \d+ on .* since/);
    await h.clock.advance(LOCK_POLL_MS * 3);
    expect(took).toBe(false); // still held: not taken, not failed
    expect(h.ends).toEqual([]);
    rmSync(lockFile); // the manual create ends
    await h.clock.advance(LOCK_POLL_MS);
    await untilLog(h, (l) => l.event === 'job-lock-free');
    await h.clock.advanceJob(10_000);
    await untilIdle(h.scheduler);
    expect(h.ends.map((e) => e.outcome)).toEqual(['completed']);
    h.scheduler.stop();
    expect(await h.scheduler.done).toBe(0);
  });

  it('a lock held past the wait: the job fails on it; the hint says to wait, never to remove a live lock', async () => {
    const dir = tempDir();
    const lockFile = join(dir, '.respaldo.lock');
    const holder = { pid: process.pid, host: hostname(), purpose: 'restore', startedAt: '2026-11-22T11:59:00Z' };
    writeFileSync(lockFile, JSON.stringify(holder));
    const { acquireLock } = await import('../src/engine/lock.js');
    const h = harness({
      dir,
      start: '2026-11-22T12:00:00Z',
      jobs: utc([job('daily', 'daily at 02:00')]),
      run: async (_j, ctx) => {
        await acquireLock(dir, 'create', { wait: ctx.lockWait }); // what createBackup does first
        return { outcome: 'completed', setId: 'never' };
      },
    });
    await h.scheduler.start();
    await untilLog(h, (l) => l.event === 'job-waiting');
    await h.clock.advance(LOCK_WAIT_MS + LOCK_POLL_MS, { untilTimer: true }); // 1441 looks at the lock
    await untilIdle(h.scheduler);
    expect(h.logs.some((l) => l.event === 'job-wait-over')).toBe(true);
    expect(h.ends.map((e) => e.outcome)).toEqual(['failed']);
    const err = await acquireLock(dir, 'create').catch((e: unknown) => e as LockHeldError);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).hint).toMatch(/Wait for it to finish \(pid \d+ runs\)/);
    expect((err as LockHeldError).hint).toMatch(/do not remove its lock \/.*\.respaldo\.lock while it runs/);
    h.scheduler.stop();
    await h.scheduler.done;
  });

  it('--no-catch-up (catchUp: false) runs nothing at start', async () => {
    const h = harness({ start: '2026-11-22T12:00:00Z', jobs: utc(tieredPreset()), catchUp: false });
    await h.scheduler.start();
    expect(h.logs.map((l) => l.event)).toEqual(['scheduler-start']);
    expect(h.scheduler.status().running).toBeNull();
    h.scheduler.stop();
    expect(await h.scheduler.done).toBe(0);
    expect(h.calls).toEqual([]);
  });

  it('planCatchUp before start shows what start will run', async () => {
    const h = harness({ start: '2026-11-22T12:00:00Z', jobs: utc(tieredPreset()) });
    const plan = await h.scheduler.planCatchUp();
    const runs = [
      ['monthly', ['weekly', 'daily']],
      ['verify', []],
      ['drill', []],
    ];
    expect(plan.runs.map((r) => [r.job, r.satisfies])).toEqual(runs);
    expect(h.logs).toEqual([]);
  });

  it('does not catch up a job that succeeded since its last scheduled time (state file or set manifest)', async () => {
    const dir = tempDir();
    // First run: daily at 23:00 ran on Nov 21 and succeeded (recorded in the state file).
    const first = harness({
      dir,
      start: '2026-11-21T22:59:00Z',
      jobs: [job('daily', 'daily at 23:00'), job('weekly', 'weekly on sunday at 23:30')],
      catchUp: false,
    });
    await first.scheduler.start();
    await first.clock.advance(60_000);
    expect(first.scheduler.status().running).toBe('daily');
    await first.clock.advanceJob(10_000);
    await untilIdle(first.scheduler);
    expect(first.ends).toEqual([expect.objectContaining({ job: 'daily', outcome: 'completed' })]);
    first.scheduler.stop();
    expect(await first.scheduler.done).toBe(0);

    // Restart on Nov 22 at 12:00: daily is up to date by state; weekly (Nov 15 23:30) has a set of its job.
    const second = harness({
      dir,
      start: '2026-11-22T12:00:00Z',
      jobs: [job('daily', 'daily at 23:00'), job('weekly', 'weekly on sunday at 23:30')],
      sets: [summary('20261116_000000', 'weekly', '2026-11-15T23:30:05Z')],
    });
    await second.scheduler.start();
    // start() decides catch-up and starts its first run before it returns: nothing was started.
    expect(second.logs.find((l) => l.event === 'catch-up')).toBeUndefined();
    expect(second.scheduler.status().running).toBeNull();
    second.scheduler.stop();
    expect(await second.scheduler.done).toBe(0);
    expect(second.calls).toEqual([]);
  });

  it('catches up when the only set of the job since then is partial', async () => {
    const h = harness({
      start: '2026-11-22T12:00:00Z',
      jobs: [job('daily', 'daily at 23:00')],
      sets: [summary('20261121_230000', 'daily', '2026-11-21T23:00:01Z', 'partial')],
    });
    await h.scheduler.start();
    expect(h.scheduler.status().running).toBe('daily');
    await h.clock.untilSleeping();
    expect(h.calls.map((c) => [c.job, c.reason])).toEqual([['daily', 'catch-up']]);
    h.scheduler.stop();
    await h.clock.advanceJob(10_000);
    expect(await h.scheduler.done).toBe(0);
  });

  /** A long backup at 10:01 (150 s) and a verify due every minute (1 s each). */
  const longAndVerify = () =>
    harness({
      start: '2026-11-22T10:00:30Z',
      jobs: [job('long', '1 10 * * *'), job('verify', '* * * * *', 'verify')],
      catchUp: false,
      run: async (j, ctx, c) => {
        await c.sleep(j.name === 'long' ? 150_000 : 1_000, ctx.signal);
        return { outcome: j.name === 'long' ? 'completed' : 'verified', setId: 's' };
      },
    });

  it('runs jobs due at the same minute one after the other (a quick failure no longer skips the other)', async () => {
    const h = harness({
      start: '2026-11-22T10:00:30Z',
      jobs: [job('minutely', '* * * * *', 'incremental'), job('badjob', '*/2 * * * *')],
      catchUp: false,
      run: async (j, ctx, c) => {
        await c.sleep(j.name === 'badjob' ? 20 : 5_000, ctx.signal);
        return j.name === 'badjob' ? { outcome: 'failed', error: 'no server' } : { outcome: 'completed', setId: 's' };
      },
    });
    await h.scheduler.start();
    await h.clock.advanceTo('2026-11-22T10:01:00Z'); // minutely alone
    await h.clock.advanceJob(5_000);
    await untilIdle(h.scheduler);
    await h.clock.advanceTo('2026-11-22T10:02:00Z'); // both due: badjob (the longer period) first, then minutely
    expect(h.scheduler.status()).toMatchObject({ running: 'badjob', waiting: ['minutely'] });
    expect(h.logs.filter((l) => l.event === 'job-queued')).toEqual([
      expect.objectContaining({ job: 'minutely', running: 'badjob', message: 'minutely waits for badjob to finish' }),
    ]);
    await h.clock.advanceJob(20);
    await waitFor(() => h.calls.length === 3, 'minutely to start after badjob');
    await h.clock.advanceJob(5_000);
    await untilIdle(h.scheduler);
    expect(h.calls.map((c) => `${c.job}@${c.at}`)).toEqual([
      'minutely@2026-11-22T10:01:00.000Z',
      'badjob@2026-11-22T10:02:00.000Z',
      'minutely@2026-11-22T10:02:00.020Z',
    ]);
    expect(h.ends.map((e) => `${e.job} ${e.outcome}`)).toEqual([
      'minutely completed',
      'badjob failed',
      'minutely completed',
    ]);
    expect(h.logs.some((l) => l.event === 'job-skipped')).toBe(false);
    expect(h.scheduler.status().totals.skipped).toBe(0);
    h.scheduler.stop();
    expect(await h.scheduler.done).toBe(0);
  });

  it('a job that comes due while another runs waits for it and runs right after, once', async () => {
    const h = longAndVerify();
    await h.scheduler.start();
    await h.clock.advanceTo('2026-11-22T10:01:00Z'); // long starts; verify is due too and waits
    await h.clock.untilSleeping();
    await h.clock.advanceTo('2026-11-22T10:02:00Z'); // verify due again while it already waits: skipped
    await h.clock.advanceTo('2026-11-22T10:03:00Z');
    expect(h.scheduler.status()).toMatchObject({ running: 'long', waiting: ['verify'], totals: { skipped: 2 } });
    expect(h.logs.filter((l) => l.event === 'job-skipped').map((l) => l.why)).toEqual(['waiting', 'waiting']);
    await h.clock.advanceTo('2026-11-22T10:03:30Z'); // long ends at 10:03:30; verify runs right after
    await waitFor(() => h.calls.length === 2, 'verify to start after long');
    expect(h.calls.map((c) => `${c.job}@${c.at}`)).toEqual([
      'long@2026-11-22T10:01:00.000Z',
      'verify@2026-11-22T10:03:30.000Z',
    ]);
    await h.clock.advanceJob(1_000);
    await untilIdle(h.scheduler);
    h.scheduler.stop();
    expect(await h.scheduler.done).toBe(0);
  });

  it('stopping drops the jobs that wait (the next start catches them up), and logs each', async () => {
    const h = longAndVerify();
    await h.scheduler.start();
    await h.clock.advanceTo('2026-11-22T10:01:00Z');
    await h.clock.untilSleeping();
    expect(h.scheduler.status()).toMatchObject({ running: 'long', waiting: ['verify'] });
    h.scheduler.stop();
    expect(h.scheduler.status().waiting).toEqual([]);
    expect(h.logs.filter((l) => l.event === 'job-skipped')).toEqual([
      expect.objectContaining({ job: 'verify', why: 'stopping', running: 'long' }),
    ]);
    await h.clock.advanceJob(150_000);
    expect(await h.scheduler.done).toBe(0);
    expect(h.calls.map((c) => c.job)).toEqual(['long']);
  });

  it('skips a tick that arrives while a job is running, and logs it', async () => {
    const h = harness({
      start: '2026-11-22T10:00:30Z',
      jobs: [job('often', '* * * * *')],
      catchUp: false,
      run: async (_j, ctx, c) => {
        await c.sleep(90_000, ctx.signal);
        return { outcome: 'completed', setId: 's', bytes: 1 };
      },
    });
    await h.scheduler.start();
    await h.clock.advanceTo('2026-11-22T10:01:00Z'); // tick → starts (synchronously), runs until 10:02:30
    expect(h.scheduler.status().running).toBe('often');
    await h.clock.untilSleeping(); // the job is under way: its 90 s of fake time start at 10:01:00
    await h.clock.advanceTo('2026-11-22T10:02:00Z'); // tick while busy → skipped (synchronously, in the tick)
    const skips = h.logs.filter((l) => l.event === 'job-skipped');
    const skip = { time: '2026-11-22T10:02:00.000Z', job: 'often', running: 'often' };
    expect(skips).toEqual([expect.objectContaining(skip)]);
    expect(h.scheduler.status()).toMatchObject({ running: 'often', totals: { skipped: 1 } });
    await h.clock.advanceTo('2026-11-22T10:02:30Z'); // the job's time is up
    await untilIdle(h.scheduler); // job-end, state write and retention done, however slow the disk
    expect(h.ends).toEqual([expect.objectContaining({ job: 'often', outcome: 'completed', durationMs: 90_000 })]);
    await h.clock.advanceTo('2026-11-22T10:03:00Z'); // next tick runs again
    expect(h.scheduler.status().running).toBe('often');
    await h.clock.untilSleeping();
    expect(h.calls.map((c) => c.at)).toEqual(['2026-11-22T10:01:00.000Z', '2026-11-22T10:03:00.000Z']);
    expect(h.scheduler.status().totals.skipped).toBe(1);
    h.scheduler.stop();
    await h.clock.advanceJob(90_000);
    expect(await h.scheduler.done).toBe(0);
  });

  it('first stop finishes the running job and exits 0', async () => {
    const h = harness({ start: '2026-11-22T01:59:59Z', jobs: [job('daily', 'daily at 02:00')], catchUp: false });
    await h.scheduler.start();
    await h.clock.advance(1000);
    await h.clock.untilSleeping();
    expect(h.scheduler.stop()).toBe('finishing');
    expect(h.scheduler.status()).toMatchObject({ running: 'daily', stopping: 'finishing' });
    expect(h.clock.pending).toBe(1); // only the job's own fake time: no tick armed any more
    // `done` resolves only after the job ended: the number of job ends seen when it resolves.
    const endsWhenDone = h.scheduler.done.then(() => h.ends.length);
    await h.clock.advanceJob(10_000);
    expect(await h.scheduler.done).toBe(0);
    expect(await endsWhenDone).toBe(1);
    expect(h.calls[0]!.signal.aborted).toBe(false);
    expect(h.ends).toEqual([
      expect.objectContaining({ job: 'daily', outcome: 'completed', setId: 'set-1', bytes: 1234, durationMs: 10_000 }),
    ]);
    expect(h.retention).toEqual([{ job: 'daily', setId: 'set-1' }]);
    expect(h.logs.map((l) => l.event)).toEqual([
      'scheduler-start',
      'job-start',
      'scheduler-stopping',
      'job-end',
      'retention',
      'scheduler-stop',
    ]);
    expect(h.logs.at(-1)).toMatchObject({ event: 'scheduler-stop', exitCode: 0 });
    // No further runs after the stop.
    expect(h.clock.pending).toBe(0);
    await h.clock.advance(2 * 86_400_000);
    expect(h.calls.length).toBe(1);
  });

  it('second stop aborts the running job (AbortSignal), exits 130 and prunes nothing', async () => {
    const h = harness({
      start: '2026-11-22T01:59:59Z',
      jobs: [job('daily', 'daily at 02:00')],
      catchUp: false,
      run: async (_j, ctx, c) => {
        await c.sleep(60_000, ctx.signal); // rejects with the abort reason
        return { outcome: 'completed', setId: 'never' };
      },
    });
    await h.scheduler.start();
    await h.clock.advance(1000);
    await waitFor(() => h.calls.length === 1 && h.clock.sleepers === 1, 'job started');
    expect(h.scheduler.stop()).toBe('finishing');
    await h.clock.advance(5000);
    expect(h.scheduler.stop()).toBe('aborting');
    expect(h.calls[0]!.signal.aborted).toBe(true);
    expect(h.calls[0]!.signal.reason).toBeInstanceOf(InterruptedError);
    expect(await h.scheduler.done).toBe(130);
    expect(h.ends[0]).toMatchObject({ outcome: 'interrupted', setId: null });
    expect(h.retention).toEqual([]);
    const state = readSchedulerState(h.dir);
    expect(state.jobs.daily).toMatchObject({ lastOutcome: 'interrupted', failures: 1, lastSuccess: null });
    expect(state.scheduler?.running).toBe(false);
  });

  it('an abort that arrives before the job really starts never runs it', async () => {
    const h = harness({ start: '2026-11-22T01:59:59Z', jobs: [job('daily', 'daily at 02:00')], catchUp: false });
    h.scheduler.on('job-start', () => {
      h.scheduler.stop();
      h.scheduler.stop();
    });
    await h.scheduler.start();
    await h.clock.advance(1000);
    expect(await h.scheduler.done).toBe(130);
    expect(h.calls).toEqual([]);
    expect(h.ends).toEqual([expect.objectContaining({ outcome: 'interrupted' })]);
    expect(h.logs.some((l) => l.event === 'retention-skipped')).toBe(true);
  });

  it('stop while idle resolves at once with 0', async () => {
    const h = harness({ start: '2026-11-22T12:00:00Z', jobs: [job('daily', 'daily at 02:00')], catchUp: false });
    await h.scheduler.start();
    expect(h.scheduler.stop()).toBe('stopped');
    expect(await h.scheduler.done).toBe(0);
    expect(h.clock.pending).toBe(0);
  });

  it('persists last run, next run, outcome and duration across restarts', async () => {
    const dir = tempDir();
    const a = harness({ dir, start: '2026-11-22T01:59:00Z', jobs: [job('daily', 'daily at 02:00')], catchUp: false });
    await a.scheduler.start();
    expect(readSchedulerState(dir).jobs.daily?.nextRun).toBe('2026-11-22T02:00:00.000Z');
    await a.clock.advance(60_000);
    await waitFor(() => a.calls.length === 1, 'run');
    await a.clock.advanceJob(10_000);
    await waitFor(() => a.ends.length === 1, 'end');
    a.scheduler.stop();
    await a.scheduler.done;
    const saved = readSchedulerState(dir);
    expect(saved.jobs.daily).toMatchObject({
      lastRun: '2026-11-22T02:00:00.000Z',
      lastEnd: '2026-11-22T02:00:10.000Z',
      lastOutcome: 'completed',
      lastDurationMs: 10_000,
      lastSetId: 'set-1',
      lastBytes: 1234,
      lastSuccess: '2026-11-22T02:00:00.000Z',
      nextRun: '2026-11-23T02:00:00.000Z',
      successes: 1,
      failures: 0,
    });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // Restarted later the same day: the state is read back, nothing is caught up, counts continue.
    const b = harness({ dir, start: '2026-11-22T15:00:00Z', jobs: [job('daily', 'daily at 02:00')] });
    await b.scheduler.start();
    expect(b.logs.some((l) => l.event === 'catch-up')).toBe(false);
    expect(b.scheduler.status().running).toBeNull();
    expect(b.scheduler.status().jobs[0]).toMatchObject({
      name: 'daily',
      lastOutcome: 'completed',
      successes: 1,
      nextRun: '2026-11-23T02:00:00.000Z',
    });
    await b.clock.advanceTo('2026-11-23T02:00:00Z');
    await waitFor(() => b.calls.length === 1, 'next day run');
    await b.clock.advanceJob(10_000);
    await waitFor(() => b.ends.length === 1, 'next day end');
    b.scheduler.stop();
    await b.scheduler.done;
    expect(readSchedulerState(dir).jobs.daily).toMatchObject({ successes: 2, lastRun: '2026-11-23T02:00:00.000Z' });
  });

  it.each([
    ['completed', true],
    ['partial', false],
    ['failed', false],
  ] as const)('retention after a %s backup: %s', async (outcome, pruned) => {
    const h = harness({
      start: '2026-11-22T01:59:59Z',
      jobs: [job('daily', 'daily at 02:00')],
      catchUp: false,
      run: async () => ({
        outcome,
        setId: outcome === 'failed' ? null : 'set-x',
        ...(outcome !== 'completed' ? { error: 'users: unreachable' } : {}),
      }),
    });
    await h.scheduler.start();
    await h.clock.advance(1000);
    await waitFor(() => h.ends.length === 1, 'end');
    // The job is done (state saved, retention run or skipped) once nothing is running any more.
    await waitFor(() => h.scheduler.status().running === null, 'the job and its retention to finish');
    expect(h.retention.length > 0).toBe(pruned);
    expect(h.logs.some((l) => l.event === (pruned ? 'retention' : 'retention-skipped'))).toBe(true);
    h.scheduler.stop();
    await h.scheduler.done;
  });

  it('a job that throws is logged as failed, counts a failure, and the scheduler keeps running', async () => {
    let fail = true;
    const h = harness({
      start: '2026-11-22T01:59:59Z',
      jobs: [job('daily', 'daily at 02:00')],
      catchUp: false,
      run: async () => {
        if (fail) {
          fail = false;
          throw new LockHeldError('/b/.respaldo.lock', 'create, pid 1');
        }
        return { outcome: 'completed', setId: 'ok' };
      },
    });
    await h.scheduler.start();
    await h.clock.advance(1000);
    await untilIdle(h.scheduler); // the failed run is over (state written, retention skipped)
    expect(h.ends[0]).toMatchObject({ outcome: 'failed', error: expect.stringContaining('Another respaldo process') });
    expect(h.retention).toEqual([]);
    expect(h.logs.filter((l) => l.event.startsWith('retention')).map((l) => l.event)).toEqual(['retention-skipped']);
    await h.clock.advance(86_400_000); // next day's tick: nothing is running, so it runs
    await untilIdle(h.scheduler);
    expect(h.ends).toHaveLength(2);
    expect(h.ends[1]).toMatchObject({ outcome: 'completed' });
    expect(h.scheduler.status().jobs[0]).toMatchObject({ successes: 1, failures: 1 });
    h.scheduler.stop();
    await h.scheduler.done;
  });

  it('verify jobs never trigger retention', async () => {
    const h = harness({
      start: '2026-11-22T00:59:59Z',
      jobs: [job('verify', 'daily at 01:00', 'verify')],
      catchUp: false,
    });
    await h.scheduler.start();
    await h.clock.advance(1000);
    await h.clock.advanceJob(10_000);
    await untilIdle(h.scheduler); // the verify run is over: anything it would do after its end is done
    expect(h.ends.map((e) => e.outcome)).toEqual(['verified']);
    expect(h.retention).toEqual([]);
    expect(h.logs.some((l) => l.event.startsWith('retention'))).toBe(false);
    h.scheduler.stop();
    await h.scheduler.done;
  });

  it('writes JSON lines to backupDir/logs/backup_YYYY-MM-DD.log', async () => {
    const h = harness({
      start: '2026-11-22T01:59:59Z',
      jobs: [job('daily', 'daily at 02:00')],
      catchUp: false,
      fileLog: true,
    });
    await h.scheduler.start();
    await h.clock.advance(1000);
    await h.clock.advanceJob(10_000);
    await waitFor(() => h.ends.length === 1 && h.scheduler.status().running === null, 'end and retention');
    h.scheduler.stop();
    await h.scheduler.done;
    const files = readdirSync(join(h.dir, 'logs'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^backup_\d{4}-\d{2}-\d{2}\.log$/);
    const lines = readFileSync(join(h.dir, 'logs', files[0]!), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual([
      'scheduler-start',
      'job-start',
      'job-end',
      'retention',
      'scheduler-stopping',
      'scheduler-stop',
    ]);
    expect(lines.find((l) => l.event === 'job-end')).toMatchObject({
      time: '2026-11-22T02:00:10.000Z',
      job: 'daily',
      outcome: 'completed',
      setId: 'set-1',
      bytes: 1234,
      durationMs: 10_000,
    });
  });

  it('refuses a second scheduler on the same backup folder', async () => {
    const dir = tempDir();
    const a = harness({ dir, start: '2026-11-22T12:00:00Z', jobs: [job('daily', 'daily at 02:00')], catchUp: false });
    await a.scheduler.start();
    const b = harness({ dir, start: '2026-11-22T12:00:00Z', jobs: [job('daily', 'daily at 02:00')], catchUp: false });
    await expect(b.scheduler.start()).rejects.toBeInstanceOf(LockHeldError);
    a.scheduler.stop();
    await a.scheduler.done;
    expect(existsSync(join(dir, '.scheduler', '.respaldo.lock'))).toBe(false);
  });
});

describe('catchUpOrder', () => {
  it('puts longer periods first and verify jobs last, whatever the config order', () => {
    const jobs = [
      job('verify', 'daily at 01:00', 'verify'),
      job('daily', 'daily at 23:00'),
      job('weekly', 'weekly on sunday at 23:30'),
      job('monthly', 'monthly on day 1 at 00:00'),
      job('yearly', '0 0 1 1 *'),
    ];
    expect(catchUpOrder(jobs, new Date('2026-11-22T12:00:00Z')).map((j) => j.name)).toEqual([
      'yearly',
      'monthly',
      'weekly',
      'daily',
      'verify',
    ]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleJob } from '../src/core/types.js';
import { Scheduler, systemClock, type SchedulerLogEntry } from '../src/scheduler/scheduler.js';

/**
 * The real clock (`systemClock`) against a wall clock that jumps while no monotonic time passes: what Node's timers see
 * when NTP steps the clock (a board without RTC that boots with its last saved date, a VM resumed after hours).
 * Vitest's fake timers model exactly that: `setSystemTime` moves `Date` and fires no timer.
 */

const dirs: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const nightly: ScheduleJob = {
  name: 'nightly',
  when: 'daily at 02:00',
  type: 'full',
  databases: ['*'],
  files: true,
  timezone: 'UTC',
};

describe('the scheduler follows the wall clock', () => {
  it('a timer fires within a minute once the clock is stepped past its time, not as many hours later', () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T22:00:00Z') });
    let fired = 0;
    systemClock.setTimeout(() => fired++, 4 * 3_600_000); // 02:00
    vi.advanceTimersByTime(3_600_000); // 23:00, then the clock is stepped to 07:00 (nothing of the monotonic time)
    vi.setSystemTime(new Date('2026-12-02T07:00:00Z'));
    vi.advanceTimersByTime(61_000);
    expect(fired).toBe(1);
  });

  it('a job due while the clock was behind runs once the clock is set right (it ran hours late)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respaldo-clock-'));
    dirs.push(dir);
    // Only Date and the timers are fake: the state file and the log are real writes (their promises need no timer).
    vi.useFakeTimers({ now: new Date('2026-12-01T10:00:00Z'), toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const runs: string[] = [];
    const logs: SchedulerLogEntry[] = [];
    const scheduler = new Scheduler({
      backupDir: dir,
      jobs: [nightly],
      clock: systemClock,
      catchUp: false,
      singleInstance: false,
      runJob: async () => {
        runs.push(new Date().toISOString());
        return { outcome: 'completed', setId: 'x', bytes: 1 };
      },
      applyRetention: async () => ({ removed: [], kept: 1 }),
      listSets: async () => [],
      writeLogLine: (e: SchedulerLogEntry) => logs.push(e),
    });
    await scheduler.start(); // next run: 2026-12-02 02:00, 16 h of timer away
    vi.setSystemTime(new Date('2026-12-04T09:00:00Z')); // NTP: it was days behind
    await vi.advanceTimersByTimeAsync(61_000);
    await vi.waitFor(() => expect(runs).toHaveLength(1), { timeout: 5000, interval: 10 });
    expect(Date.parse(runs[0]!)).toBeLessThanOrEqual(Date.parse('2026-12-04T09:02:00Z'));
    scheduler.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await scheduler.done).toBe(0);
  });
});

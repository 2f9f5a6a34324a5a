import type { ScheduleJob } from '../core/types.js';

/** Hours of grace on top of the schedule's interval before a backup counts as late. */
export const GRACE_HOURS = 2;
/** Without a schedule that covers a database, a daily backup is expected: 24 h + grace. */
export const DEFAULT_LIMIT_HOURS = 24 + GRACE_HOURS;

export interface StaleDatabase {
  database: string;
  /** When its newest good backup started; null when there is none. */
  lastGood: Date | null;
  limitHours: number;
}

/**
 * The promise a schedule makes for one database: the longest gap between two of the next runs of
 * the `full` jobs that cover it, plus grace. `nextRuns` throws on an invalid `when`: such jobs
 * promise nothing. Returns DEFAULT_LIMIT_HOURS when no job covers the database.
 */
export function promisedHours(
  database: string,
  jobs: ScheduleJob[],
  nextRuns: (when: string, tz: string | undefined, n: number, from: Date) => Date[],
  now: Date,
): number {
  let best: number | undefined;
  for (const job of jobs) {
    if (job.type !== 'full') continue;
    const dbs = job.databases ?? ['*'];
    if (!(dbs.length === 0 || dbs.includes('*') || dbs.includes(database))) continue;
    let runs: Date[];
    try {
      runs = nextRuns(job.when, job.timezone, 8, now);
    } catch {
      continue;
    }
    let gap = 0;
    for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i]!.getTime() - runs[i - 1]!.getTime());
    if (gap <= 0) continue;
    const hours = gap / 3_600_000 + GRACE_HOURS;
    best = best === undefined ? hours : Math.min(best, hours);
  }
  return best ?? DEFAULT_LIMIT_HOURS;
}

/** Databases whose newest good backup is older than promised (or missing), in config order. */
export function staleDatabases(
  lastGood: { database: string; at: string | null }[],
  jobs: ScheduleJob[],
  nextRuns: (when: string, tz: string | undefined, n: number, from: Date) => Date[],
  now: Date,
): StaleDatabase[] {
  const out: StaleDatabase[] = [];
  for (const { database, at } of lastGood) {
    const limitHours = promisedHours(database, jobs, nextRuns, now);
    const last = at ? new Date(at) : null;
    if (!last || now.getTime() - last.getTime() > limitHours * 3_600_000)
      out.push({ database, lastGood: last, limitHours });
  }
  return out;
}

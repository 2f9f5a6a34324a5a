import type { ScheduleJob, SetSummary } from '../core/types.js';
import type { SchedulerState } from './state.js';
import { periodMs, previousRun } from './when.js';

/**
 * Catch-up planning (pure): which missed jobs run once when the scheduler starts, and which missed
 * runs are already satisfied by another job's run.
 *
 * - A job has missed a run when its latest scheduled time at or before `now` is later than the
 *   start of its last successful run.
 * - Backup jobs are taken longest period first (monthly → weekly → daily), verify jobs last.
 * - A backup run *covers* another backup job when it holds at least its databases (`*` holds all;
 *   an explicit list never covers `*`) and its files (files, or the other job has none), with the
 *   same or a stronger type (full ⊇ schema). A missed run of a job is satisfied, instead of run,
 *   by a covering job with a longer period: either by that job's successful run started at or
 *   after the missed time, or by that job's catch-up run now. Jobs with the same period never
 *   satisfy each other (each keeps its own series of sets for its retention).
 * - Verify jobs neither satisfy nor are satisfied: a missed verify always runs, after the backups.
 */

/** What catch-up needs to know: the jobs, the start of each job's last successful run, and now. */
export interface CatchUpInput {
  jobs: ScheduleJob[];
  /** Start (ISO) of each job's latest successful run, by job name; absent or null: never. */
  lastSuccess: Record<string, string | null | undefined>;
  now: Date;
}

/** One catch-up run, with the jobs whose missed runs it satisfies. */
export interface CatchUpRun {
  job: string;
  /** The scheduled time that was missed (ISO). */
  missedAt: string;
  /** Jobs whose missed runs this run satisfies (they do not run). */
  satisfies: string[];
}

/** A missed run that does not run: `by` job's catch-up run (`byRun` `catch-up`) or its past run (ISO start). */
export interface CatchUpSatisfied {
  job: string;
  missedAt: string;
  by: string;
  byRun: 'catch-up' | string;
}

/** The plan: runs in order, and the missed runs they or earlier runs satisfy. */
export interface CatchUpPlan {
  runs: CatchUpRun[];
  satisfied: CatchUpSatisfied[];
}

const STRENGTH: Record<ScheduleJob['type'], number> = {
  verify: 0,
  drill: 0,
  schema: 1,
  incremental: 2,
  differential: 3,
  full: 4,
};

/** Orders jobs for catch-up and simultaneous ticks: backups with the longest period first, then verify, drills last. */
export function catchUpOrder(jobs: ScheduleJob[], from: Date): ScheduleJob[] {
  const checks = (job: ScheduleJob) => (job.type === 'verify' ? 1 : job.type === 'drill' ? 2 : 0); // after the backups
  const rank = jobs.map((job, i) => ({ job, i, verify: checks(job), period: periodMs(job, from) }));
  rank.sort((a, b) => a.verify - b.verify || b.period - a.period || a.i - b.i);
  return rank.map((r) => r.job);
}

/** Whether a run of `by` holds everything a run of `job` would (databases, files, type). */
export function covers(by: ScheduleJob, job: ScheduleJob): boolean {
  if (by.type === 'verify' || job.type === 'verify' || by.type === 'drill' || job.type === 'drill') return false;
  if (STRENGTH[by.type] < STRENGTH[job.type]) return false;
  if (job.files && !by.files) return false;
  if (by.databases.includes('*')) return true;
  return !job.databases.includes('*') && job.databases.every((d) => by.databases.includes(d));
}

/** Plans catch-up. Pure: depends only on its input. */
export function planCatchUp(input: CatchUpInput): CatchUpPlan {
  const { now } = input;
  const ordered = catchUpOrder(input.jobs, now);
  const period = new Map(ordered.map((j) => [j.name, periodMs(j, now)]));
  const success = (name: string): number => {
    const s = input.lastSuccess[name];
    const t = s ? Date.parse(s) : NaN;
    return Number.isNaN(t) ? -Infinity : t;
  };
  const runs: CatchUpRun[] = [];
  const satisfied: CatchUpSatisfied[] = [];
  ordered.forEach((job, i) => {
    const at = previousRun(job, now);
    if (!at || success(job.name) >= at.getTime()) return;
    const missedAt = at.toISOString();
    const earlier = ordered.slice(0, i).filter((k) => covers(k, job) && period.get(k.name)! > period.get(job.name)!);
    const past = earlier.find((k) => success(k.name) >= at.getTime());
    if (past) {
      satisfied.push({ job: job.name, missedAt, by: past.name, byRun: input.lastSuccess[past.name]! });
      return;
    }
    const run = runs.find((r) => earlier.some((k) => k.name === r.job));
    if (run) {
      run.satisfies.push(job.name);
      satisfied.push({ job: job.name, missedAt, by: run.job, byRun: 'catch-up' });
      return;
    }
    runs.push({ job: job.name, missedAt, satisfies: [] });
  });
  return { runs, satisfied };
}

/**
 * The start of each job's last successful run: the later of the state file's `lastSuccess` and
 * the newest completed set whose manifest names the job (backup jobs).
 */
export function lastSuccesses(
  jobs: ScheduleJob[],
  state: SchedulerState,
  sets: SetSummary[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const job of jobs) {
    let best = state.jobs[job.name]?.lastSuccess ?? null;
    if (job.type !== 'verify' && job.type !== 'drill') {
      for (const s of sets) {
        if (s.job !== job.name || s.status !== 'completed') continue;
        if (!best || Date.parse(s.startedAt) > Date.parse(best)) best = s.startedAt;
      }
    }
    out[job.name] = best;
  }
  return out;
}

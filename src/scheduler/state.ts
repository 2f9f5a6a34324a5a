import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '../engine/fs-util.js';

/**
 * The scheduler's memory across restarts: `backupDir/.scheduler-state.json`, written atomically
 * (temp file, fsync, rename, fsync of the folder). Read by `respaldo status`, the menu and the
 * scheduler's catch-up. A missing or unreadable file is an empty state, never an error.
 */

/** The folder of the scheduler's lock in the backup folder (one scheduler per folder). */
export const SCHEDULER_LOCK_DIR = '.scheduler';

export const STATE_FILE = '.scheduler-state.json';

/** How a job's run ended (`verified` / `verify-failed` for verify jobs, `drilled` / `drill-failed` for drills). */
export type JobOutcome =
  'completed' | 'partial' | 'failed' | 'interrupted' | 'verified' | 'verify-failed' | 'drilled' | 'drill-failed';

/** The outcomes of a job that did what it was for (a backup completed, a verification or a drill passed). */
export const JOB_SUCCEEDED: readonly JobOutcome[] = ['completed', 'verified', 'drilled'];

export interface JobState {
  /** When the last run started (ISO). */
  lastRun: string | null;
  /** When the last run ended (ISO). */
  lastEnd: string | null;
  lastOutcome: JobOutcome | null;
  lastDurationMs: number | null;
  /** Set produced (backup jobs) or verified (verify jobs) by the last run. */
  lastSetId: string | null;
  lastBytes: number | null;
  lastError: string | null;
  /** Start of the last successful run (ISO): catch-up compares it with the last scheduled time. */
  lastSuccess: string | null;
  /** Next scheduled time (ISO) as of the last time the scheduler looked. */
  nextRun: string | null;
  successes: number;
  failures: number;
  /** Ticks skipped because another job was running. */
  skipped: number;
  /**
   * Status only (see withUnfinishedRun): the last run started after the last recorded end, and its scheduler still
   * runs it (`running`) or is gone or stopped (`interrupted`: killed mid-run, its end unknown).
   */
  unfinished?: 'running' | 'interrupted';
}

export interface SchedulerState {
  version: 1;
  updatedAt: string | null;
  /**
   * Pid and host of the scheduler that wrote it last, and whether it is running; `gone` (status only): the state
   * says running but its process is not there (killed), so it is said stopped.
   */
  scheduler: { pid: number; host: string; startedAt: string; running: boolean; gone?: boolean } | null;
  jobs: Record<string, JobState>;
}

export function emptyJobState(): JobState {
  return {
    lastRun: null,
    lastEnd: null,
    lastOutcome: null,
    lastDurationMs: null,
    lastSetId: null,
    lastBytes: null,
    lastError: null,
    lastSuccess: null,
    nextRun: null,
    successes: 0,
    failures: 0,
    skipped: 0,
  };
}

/** Whether the last run started after the last recorded end: still running, or killed before it ended. */
export function lastRunUnfinished(s: Pick<JobState, 'lastRun' | 'lastEnd'>): boolean {
  return s.lastRun !== null && (s.lastEnd === null || Date.parse(s.lastEnd) < Date.parse(s.lastRun));
}

/**
 * The job as `status` shows it: a last run that did not end carries no outcome or figures of the run before it (a
 * scheduler SIGKILLed mid-job showed the run "completed" with the previous run's duration); `unfinished` says why.
 */
export function withUnfinishedRun(s: JobState, schedulerRunning: boolean): JobState {
  if (!lastRunUnfinished(s)) return s;
  return {
    ...s,
    lastOutcome: schedulerRunning ? null : 'interrupted',
    lastDurationMs: null,
    lastSetId: null,
    lastBytes: null,
    lastError: null,
    unfinished: schedulerRunning ? 'running' : 'interrupted',
  };
}

export function emptyState(): SchedulerState {
  return { version: 1, updatedAt: null, scheduler: null, jobs: {} };
}

export function stateFile(backupDir: string): string {
  return join(backupDir, STATE_FILE);
}

/** Reads the state; an absent or damaged file gives an empty state. */
export function readSchedulerState(backupDir: string): SchedulerState {
  const file = stateFile(backupDir);
  if (!existsSync(file)) return emptyState();
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<SchedulerState>;
    if (doc.version !== 1 || typeof doc.jobs !== 'object' || doc.jobs === null) return emptyState();
    const jobs: Record<string, JobState> = {};
    for (const [name, j] of Object.entries(doc.jobs)) jobs[name] = { ...emptyJobState(), ...j };
    return { version: 1, updatedAt: doc.updatedAt ?? null, scheduler: doc.scheduler ?? null, jobs };
  } catch {
    return emptyState();
  }
}

/** Writes the state atomically (0600, folder 0700). */
export async function writeSchedulerState(backupDir: string, state: SchedulerState): Promise<void> {
  await ensurePrivateDir(backupDir);
  await writeFileAtomic(stateFile(backupDir), JSON.stringify(state, null, 2) + '\n');
}

import type { SetSummary } from '../core/types.js';
import { logFile, readDailyLog } from './log.js';

/**
 * Which scheduler job made a set whose manifest names none, according to the daily JSON-lines logs
 * (`backupDir/logs/backup_YYYY-MM-DD.log`): a `job-end` line of the scheduler or a `create-start`
 * line of the engine carrying both the set id and a job name. Only the logs of the day a set
 * started and the day after are read. Sets the logs say nothing about are absent from the result
 * (retention treats them as made by hand). Unreadable files and lines are skipped.
 */
export function jobsFromLog(backupDir: string, sets: readonly SetSummary[]): Record<string, string> {
  const wanted = new Set(sets.filter((s) => !s.job && s.type !== 'pre_restore').map((s) => s.id));
  const out: Record<string, string> = {};
  if (wanted.size === 0) return out;
  const days = new Map<string, Date>();
  for (const s of sets) {
    const t = Date.parse(s.startedAt);
    if (!wanted.has(s.id) || Number.isNaN(t)) continue;
    for (const day of [new Date(t), new Date(t + 86_400_000)]) days.set(logFile(backupDir, day), day);
  }
  for (const day of days.values()) {
    const text = readDailyLog(backupDir, day);
    for (const line of text.split('\n')) {
      if (!line.includes('"setId"') || !line.includes('"job"')) continue;
      try {
        const e = JSON.parse(line) as { event?: unknown; setId?: unknown; job?: unknown };
        const made = e.event === 'job-end' || e.event === 'create-start';
        if (made && typeof e.setId === 'string' && typeof e.job === 'string' && e.job && wanted.has(e.setId)) {
          out[e.setId] = e.job;
        }
      } catch {
        continue;
      }
    }
  }
  return out;
}

/** The newest restore of the last two days' logs, when it was interrupted: what it restored before it stopped. */
export interface StoppedRestore {
  setId: string;
  at: string;
  restored: string[];
}

/**
 * The newest `restore-end` line of the daily logs of `now` and the day before, when it says `interrupted` (Ctrl-C,
 * the terminal closed): the next run says so, since whoever lost the terminal saw nothing of the end. Null when
 * the newest restore ended otherwise, or none is logged. Unreadable files and lines are skipped.
 */
export function stoppedRestore(backupDir: string, now: Date): StoppedRestore | null {
  type End = { event?: unknown; setId?: unknown; time?: unknown; outcome?: unknown; restored?: unknown };
  let last: End | null = null;
  for (const day of [new Date(now.getTime() - 86_400_000), now]) {
    for (const line of readDailyLog(backupDir, day).split('\n')) {
      if (!line.includes('"restore-end"')) continue;
      try {
        const e = JSON.parse(line) as End;
        if (e.event === 'restore-end') last = e;
      } catch {
        continue;
      }
    }
  }
  if (!last || last.outcome !== 'interrupted' || typeof last.setId !== 'string' || typeof last.time !== 'string')
    return null;
  const restored = Array.isArray(last.restored) ? last.restored.filter((x): x is string => typeof x === 'string') : [];
  return { setId: last.setId, at: last.time, restored };
}

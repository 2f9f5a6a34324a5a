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

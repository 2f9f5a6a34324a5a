import { linesWindow } from './components/Table.js';
import type { ScheduleJob } from '../core/types.js';

/** The job editor's fields. `when` is built from them (simple forms) or typed (cron / other). */
export interface JobForm {
  name: string;
  frequency: 'daily' | 'weekly' | 'monthly' | 'cron';
  time: string;
  /** 0 = sunday … 6 = saturday. */
  weekday: number;
  /** `1`…`28` or `last`. */
  monthday: string;
  /** Free `when` text for the `cron` frequency (any cron expression or form the scheduler accepts). */
  expression: string;
  timezone: string;
  type: ScheduleJob['type'];
  /** Database names; every configured one checked means `*`. */
  databases: string[];
  files: boolean;
}

export const FREQUENCIES: JobForm['frequency'][] = ['daily', 'weekly', 'monthly', 'cron'];
export const JOB_TYPES: ScheduleJob['type'][] = ['full', 'schema', 'differential', 'incremental', 'verify', 'drill'];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** Day-of-month choices: the scheduler refuses 29–31 (not in every month); `last` is the month's last day. */
export const MONTHDAYS = [...Array.from({ length: 28 }, (_, i) => String(i + 1)), 'last'];

function normTime(t: string): string {
  const m = /^(\d{1,2}):(\d{2})$/.exec(t);
  return m ? `${m[1]!.padStart(2, '0')}:${m[2]}` : t;
}

/** Fills the editor from a job; `when`s that are not one of the simple single-day forms stay as free text. */
export function jobToForm(job: ScheduleJob, allDatabases: string[]): JobForm {
  const base: JobForm = {
    name: job.name,
    frequency: 'cron',
    time: '02:00',
    weekday: 0,
    monthday: '1',
    expression: job.when,
    timezone: job.timezone ?? '',
    type: job.type,
    databases:
      !job.databases?.length || job.databases.includes('*')
        ? [...allDatabases]
        : job.databases.filter((d) => allDatabases.includes(d)),
    files: job.files,
  };
  const w = job.when.trim().replace(/\s+/g, ' ').toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^daily at (\d{1,2}:\d{2})$/.exec(w))) return { ...base, frequency: 'daily', time: normTime(m[1]!) };
  if ((m = /^weekly on ([a-z]+) at (\d{1,2}:\d{2})$/.exec(w)) && WEEKDAYS.includes(m[1]!))
    return { ...base, frequency: 'weekly', weekday: WEEKDAYS.indexOf(m[1]!), time: normTime(m[2]!) };
  if ((m = /^monthly on day (\d{1,2}) at (\d{1,2}:\d{2})$/.exec(w)) && MONTHDAYS.includes(String(Number(m[1]))))
    return { ...base, frequency: 'monthly', monthday: String(Number(m[1])), time: normTime(m[2]!) };
  if ((m = /^monthly on last day at (\d{1,2}:\d{2})$/.exec(w)))
    return { ...base, frequency: 'monthly', monthday: 'last', time: normTime(m[1]!) };
  return base;
}

/** A new job's editor: daily at 02:00, full, all databases, files. */
export function newJobForm(existingNames: string[], allDatabases: string[]): JobForm {
  let name = 'daily';
  for (let i = 2; existingNames.includes(name); i++) name = `job${i}`;
  return {
    name,
    frequency: 'daily',
    time: '02:00',
    weekday: 0,
    monthday: '1',
    expression: '0 2 * * *',
    timezone: '',
    type: 'full',
    databases: [...allDatabases],
    files: true,
  };
}

/** The `when` text the editor stands for. */
export function formToWhen(f: JobForm): string {
  switch (f.frequency) {
    case 'daily':
      return `daily at ${f.time.trim()}`;
    case 'weekly':
      return `weekly on ${WEEKDAYS[f.weekday] ?? 'sunday'} at ${f.time.trim()}`;
    case 'monthly':
      return f.monthday === 'last'
        ? `monthly on last day at ${f.time.trim()}`
        : `monthly on day ${f.monthday} at ${f.time.trim()}`;
    case 'cron':
      return f.expression.trim();
  }
}

/** The job as saved. All databases checked is written as `["*"]` so new databases are included. */
export function formToJob(f: JobForm, allDatabases: string[]): ScheduleJob {
  const all = allDatabases.length > 0 && allDatabases.every((d) => f.databases.includes(d));
  return {
    name: f.name.trim(),
    when: formToWhen(f),
    type: f.type,
    databases: all ? ['*'] : allDatabases.filter((d) => f.databases.includes(d)),
    files: f.files,
    ...(f.timezone.trim() ? { timezone: f.timezone.trim() } : {}),
  };
}

export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const TIME = /^([01]?\d|2[0-3]):[0-5]\d$/;

/**
 * The rows `[top, end)` of a form whose rows take `heights` lines that fit `room` lines with the row `at` among
 * them, as centred as the ends allow; a line is kept for each of the ↑ and ↓ marks of rows left out above and below.
 */
export function formWindow(heights: number[], at: number, room: number): [number, number] {
  const total = heights.reduce((a, b) => a + b, 0);
  if (total <= room) return [0, heights.length];
  return linesWindow(heights, at, Math.max(1, room - 2));
}

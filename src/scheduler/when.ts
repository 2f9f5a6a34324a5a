import { Cron } from 'croner';
import { UsageError } from '../core/errors.js';
import { english, phrase, type PhraseId, type PhraseParams } from '../core/phrases.js';
import type { ScheduleJob } from '../core/types.js';

/**
 * Schedule expressions. A job's `when` is either a cron expression (5 fields, or 6 with seconds
 * first; croner syntax incl. `L`, names, and `@daily`-style nicknames) or a simple form:
 *   `daily at 02:00`
 *   `weekly on sunday at 23:30`        (several days: `weekly on monday,thursday at 01:00`)
 *   `monthly on day 1 at 00:00`        (`monthly on last day at 23:00` for the month's last day)
 *   `hourly at :15`
 * Times are 24-hour `H:MM` or `HH:MM`, in the job's `timezone` (default: the machine's).
 */

export const JOB_TYPES = ['full', 'differential', 'incremental', 'schema', 'verify', 'drill'] as const;

const DAYS: Record<string, number> = {
  sunday: 0,
  sun: 0,
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thu: 4,
  thur: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
};

/**
 * A `when` that could not be understood: a usage error whose message says why in the operator's
 * words, with its phrases for the menu (the hint: how to write a schedule, or a time zone).
 */
export class WhenError extends UsageError {
  constructor(id: Extract<PhraseId, `when.${string}`>, params: PhraseParams) {
    const message = phrase(id, params);
    const hint = phrase(id === 'when.timezone' ? 'when.timezoneHint' : 'when.hint');
    super(english(message), english(hint));
    this.name = 'WhenError';
    this.withPhrases(message, hint);
  }
}

function parseTime(text: string, when: string): { h: number; m: number } {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) throw new WhenError('when.time', { when, text });
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) throw new WhenError('when.timeRange', { when, text });
  return { h, m: min };
}

/**
 * Turns a `when` into a croner pattern. Simple forms become cron; anything else is taken as a
 * cron expression and checked by croner. Throws WhenError with an operator message.
 */
export function toCronPattern(when: string): string {
  const text = when.trim().replace(/\s+/g, ' ');
  if (text === '') throw new WhenError('when.empty', {});
  const lower = text.toLowerCase();
  let m: RegExpExecArray | null;
  let pattern: string;
  if ((m = /^daily at (\S+)$/.exec(lower))) {
    const t = parseTime(m[1]!, when);
    pattern = `${t.m} ${t.h} * * *`;
  } else if ((m = /^weekly on ([a-z, ]+?) at (\S+)$/.exec(lower))) {
    const names = m[1]!.split(/\s*(?:,|\band\b)\s*/).filter(Boolean);
    const days = names.map((n) => {
      const d = DAYS[n.replace(/s$/, '')] ?? DAYS[n];
      if (d === undefined) throw new WhenError('when.weekday', { when, day: n });
      return d;
    });
    const t = parseTime(m[2]!, when);
    pattern = `${t.m} ${t.h} * * ${[...new Set(days)].sort((a, b) => a - b).join(',')}`;
  } else if ((m = /^monthly on (?:day (\d{1,2})|(last) day) at (\S+)$/.exec(lower))) {
    const day = m[2] ? 'L' : Number(m[1]);
    if (typeof day === 'number' && (day < 1 || day > 31))
      throw new WhenError('when.monthDay', { when, day: String(day) });
    if (typeof day === 'number' && day > 28) throw new WhenError('when.monthDayRare', { when, day: String(day) });
    const t = parseTime(m[3]!, when);
    pattern = `${t.m} ${t.h} ${day} * *`;
  } else if ((m = /^hourly at :(\d{2})$/.exec(lower))) {
    const min = Number(m[1]);
    if (min > 59) throw new WhenError('when.minute', { when, minute: String(min) });
    pattern = `${min} * * * *`;
  } else if (/^(daily|weekly|monthly|hourly)\b/.test(lower)) {
    throw new WhenError('when.unknown', { when });
  } else {
    pattern = text;
  }
  try {
    new Cron(pattern, { paused: true });
  } catch (err) {
    throw new WhenError('when.cron', { when, detail: (err as Error).message.replace(/^CronPattern: /, '') });
  }
  return pattern;
}

/**
 * The run times of a job in real time. croner matches wall-clock times of the zone and, when the
 * clocks go back, gives one of the repeated hour's times only (the second with a `timezone`; the
 * first without, and from the second hour it gives a time already past): a job every hour went
 * two hours without a run. Here the pattern is matched against wall-clock times while real time
 * is walked, as cron(8) does: jobs that run every hour (`15 * * * *`, `*\/30 * * * *`,
 * `hourly at :15`) run in both of the repeated hours; a job at a set hour (`30 2 * * *`) runs at
 * the first only. When the clocks go forward, a set time that does not exist runs an hour later
 * (02:30 at 03:30), as croner has it.
 */
export interface JobRuns {
  /** The first run strictly after `from`, or null when the pattern never fires again. */
  after(from: Date): Date | null;
}

export function runsOf(job: Pick<ScheduleJob, 'when' | 'timezone'>): JobRuns {
  const pattern = toCronPattern(job.when);
  // The pattern matched against wall-clock times written as UTC (utcOffset, not timezone: croner's
  // zones go through the machine's local time and lose its skipped hour).
  const wall = new Cron(pattern, { paused: true, utcOffset: 0 });
  const offset = offsetIn(job.timezone);
  const repeats = everyHour(pattern);
  return { after: (from) => wallRun(wall, offset, from.getTime(), repeats) };
}

/** Whether a cron pattern's hour field is every hour (jobs that run again when an hour repeats). */
function everyHour(pattern: string): boolean {
  if (pattern.trim().toLowerCase() === '@hourly') return true;
  const fields = pattern.trim().split(/\s+/);
  const hour = fields.length === 6 ? fields[2] : fields.length === 5 ? fields[1] : undefined;
  return hour === '*' || hour === '*/1';
}

/** The zone's offset from UTC at a time, in ms (the machine's when no zone is named). */
function offsetIn(zone: string | undefined): (t: number) => number {
  if (!zone) return (t) => -new Date(t).getTimezoneOffset() * 60_000;
  // Throws RangeError for a zone Intl does not know.
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (t) => {
    const p = Object.fromEntries(format.formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]));
    const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    return asUtc - (t - (((t % 1000) + 1000) % 1000));
  };
}

/**
 * The first time after `from` whose wall-clock time matches `wall`, walking real time: within one
 * offset the next wall match is the next run; when the offset changes before it, the walk goes on
 * from the change. Clocks back: jobs every hour go on from the wall time after the change (the
 * repeated hour runs again), the others from the wall time already reached (no second run).
 * Clocks forward: jobs every hour go on after the gap; the others run a time the gap skipped as
 * if the change had not happened yet (02:30 at 03:30).
 */
function wallRun(wall: Cron, offset: (t: number) => number, from: number, repeats: boolean): Date | null {
  let t = from;
  let wallFrom = from + offset(from);
  let inclusive = false;
  if (!repeats) {
    // From inside a repeated hour, its first pass is behind: go on from the wall time it reached.
    const change = lastChange(offset, from);
    if (change && change.before > change.after && wallFrom < change.at + change.before) {
      wallFrom = change.at + change.before;
      inclusive = true;
    }
  }
  let gapEnd = Number.NEGATIVE_INFINITY;
  let gapOffset = 0;
  for (let i = 0; i < 8; i++) {
    const off = offset(t);
    const m = wall.nextRun(new Date(wallFrom - (inclusive ? 1 : 0)));
    if (!m) return null;
    if (m.getTime() < gapEnd) return new Date(m.getTime() - gapOffset);
    const r = m.getTime() - off;
    if (offset(r) === off) return new Date(r);
    // The offset changes between t and r.
    const hi = firstChange(offset, t, r);
    const after = offset(hi);
    if (repeats || after < off) wallFrom = hi + (repeats ? after : off);
    else {
      wallFrom = hi + off;
      gapEnd = hi + after;
      gapOffset = off;
    }
    t = hi;
    inclusive = true;
  }
  return null;
}

/** The last change of offset in the 3 hours before `t` (clocks going back repeat at most that). */
function lastChange(offset: (t: number) => number, t: number): { at: number; before: number; after: number } | null {
  const after = offset(t);
  const before = offset(t - 3 * 3_600_000);
  return before === after ? null : { at: firstChange(offset, t - 3 * 3_600_000, t), before, after };
}

/** The first instant in (lo, hi] whose offset is not lo's (one change between them). */
function firstChange(offset: (t: number) => number, lo: number, hi: number): number {
  const before = offset(lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The next `n` run times of a job strictly after `from` (fewer if the pattern stops). */
export function nextRuns(job: Pick<ScheduleJob, 'when' | 'timezone'>, n: number, from: Date = new Date()): Date[] {
  let runs: JobRuns;
  try {
    runs = runsOf(job);
  } catch (err) {
    // Intl rejects a zone it does not know.
    if (job.timezone && err instanceof RangeError) throw new WhenError('when.timezone', { timezone: job.timezone });
    throw err;
  }
  const out: Date[] = [];
  let prev: Date = from;
  while (out.length < n) {
    const next = runs.after(prev);
    if (!next) break;
    out.push(next);
    prev = next;
  }
  return out;
}

/** The next run of a job strictly after `from`, or null when the pattern never fires again. */
export function nextRun(job: Pick<ScheduleJob, 'when' | 'timezone'>, from: Date): Date | null {
  return runsOf(job).after(from);
}

const WINDOWS_MS = [
  60_000,
  3_600_000,
  86_400_000,
  8 * 86_400_000,
  32 * 86_400_000,
  367 * 86_400_000,
  5 * 367 * 86_400_000,
];

/** The latest scheduled time of a job at or before `at`, or null (none in the last five years). */
export function previousRun(job: Pick<ScheduleJob, 'when' | 'timezone'>, at: Date): Date | null {
  const runs = runsOf(job);
  for (const w of WINDOWS_MS) {
    let t = runs.after(new Date(at.getTime() - w - 1));
    if (!t || t.getTime() > at.getTime()) continue;
    let last = t;
    while ((t = runs.after(t)) && t.getTime() <= at.getTime()) last = t;
    return last;
  }
  return null;
}

/** Typical time between two runs (ms), used to order catch-up: longer periods first. */
export function periodMs(job: Pick<ScheduleJob, 'when' | 'timezone'>, from: Date = new Date()): number {
  const runs = nextRuns(job, 2, from);
  if (runs.length < 2) return Number.POSITIVE_INFINITY;
  return runs[1]!.getTime() - runs[0]!.getTime();
}

/** A problem in the schedule section of a config, named by its JSON path. */
export interface JobProblem {
  path: string;
  problem: string;
  hint: string;
}

const WHEN_HINT =
  'Use a cron expression ("0 2 * * *", or six fields with seconds first) or a simple form: "daily at 02:00", "weekly on sunday at 23:30", "monthly on day 1 at 00:00".';

/**
 * Validates schedule jobs as they appear in the config (any shape). Returns every problem with
 * its JSON path (`schedule.jobs[1].when`), empty when all is well. Checks: name (non-empty,
 * unique), when (simple form or cron, fires at least once), type, databases (strings; `*` for
 * all; names must exist when `knownDatabases` is given), files (boolean), timezone (computed
 * through croner, which rejects an unknown zone only then).
 */
export function validateJobs(jobs: unknown, pathPrefix: string, knownDatabases?: string[]): JobProblem[] {
  const problems: JobProblem[] = [];
  if (!Array.isArray(jobs)) {
    return [
      {
        path: pathPrefix,
        problem: 'must be a list of jobs',
        hint: 'Write "jobs": [ { "name": "daily", "when": "daily at 02:00", "type": "full", "databases": ["*"], "files": true } ].',
      },
    ];
  }
  const seen = new Map<string, number>();
  jobs.forEach((raw, i) => {
    const at = `${pathPrefix}[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push({
        path: at,
        problem: 'must be an object',
        hint: 'Each job needs name, when, type, databases and files.',
      });
      return;
    }
    const job = raw as Record<string, unknown>;
    const allowed = new Set(['name', 'when', 'type', 'databases', 'files', 'timezone']);
    for (const key of Object.keys(job)) {
      if (!allowed.has(key))
        problems.push({
          path: `${at}.${key}`,
          problem: 'is not a job field',
          hint: 'Job fields are name, when, type, databases, files and timezone.',
        });
    }
    if (typeof job.name !== 'string' || job.name.trim() === '') {
      problems.push({ path: `${at}.name`, problem: 'must be a non-empty name', hint: 'Name each job, e.g. "daily".' });
    } else if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(job.name)) {
      problems.push({
        path: `${at}.name`,
        problem: `"${job.name}" is not a valid job name`,
        hint: 'Use letters, digits, ".", "_" and "-" (it appears in logs and set manifests).',
      });
    } else if (seen.has(job.name)) {
      problems.push({
        path: `${at}.name`,
        problem: `duplicate job name "${job.name}" (also ${pathPrefix}[${seen.get(job.name)}])`,
        hint: 'Give every job its own name.',
      });
    } else {
      seen.set(job.name, i);
    }
    if (typeof job.type !== 'string' || !(JOB_TYPES as readonly string[]).includes(job.type)) {
      problems.push({
        path: `${at}.type`,
        problem: `unknown job type ${JSON.stringify(job.type ?? null)}`,
        hint: `Use one of: ${JOB_TYPES.join(', ')}.`,
      });
    }
    if (
      !Array.isArray(job.databases) ||
      job.databases.length === 0 ||
      job.databases.some((d) => typeof d !== 'string' || d === '')
    ) {
      problems.push({
        path: `${at}.databases`,
        problem: 'must be a non-empty list of database names',
        hint: 'Use ["*"] for all databases of the config.',
      });
    } else if (knownDatabases) {
      job.databases.forEach((d: string, j: number) => {
        if (d !== '*' && !knownDatabases.includes(d)) {
          problems.push({
            path: `${at}.databases[${j}]`,
            problem: `no database named "${d}" in the config`,
            hint: `Known databases: ${knownDatabases.join(', ') || '(none)'}; or "*" for all.`,
          });
        }
      });
    }
    if (typeof job.files !== 'boolean') {
      problems.push({
        path: `${at}.files`,
        problem: 'must be true or false',
        hint: 'true also stores the config and application files.',
      });
    }
    if (job.timezone !== undefined && (typeof job.timezone !== 'string' || job.timezone === '')) {
      problems.push({
        path: `${at}.timezone`,
        problem: 'must be an IANA time zone name',
        hint: 'For example "Europe/Madrid" or "America/Mexico_City"; leave it out for the machine\'s zone.',
      });
      return;
    }
    if (typeof job.when !== 'string') {
      problems.push({ path: `${at}.when`, problem: 'must be a schedule expression', hint: WHEN_HINT });
      return;
    }
    let pattern: string;
    try {
      pattern = toCronPattern(job.when);
    } catch (err) {
      problems.push({ path: `${at}.when`, problem: (err as Error).message, hint: WHEN_HINT });
      return;
    }
    let cron: Cron;
    try {
      cron = new Cron(pattern, { paused: true, ...(job.timezone ? { timezone: job.timezone as string } : {}) });
      if (cron.nextRun() === null) {
        problems.push({ path: `${at}.when`, problem: `"${job.when}" never runs (no such date)`, hint: WHEN_HINT });
      }
    } catch (err) {
      if (job.timezone !== undefined) {
        problems.push({
          path: `${at}.timezone`,
          problem: `unknown time zone "${String(job.timezone)}"`,
          hint: 'Use an IANA zone name such as "Europe/Madrid" (see `timedatectl list-timezones`).',
        });
      } else {
        problems.push({ path: `${at}.when`, problem: (err as Error).message, hint: WHEN_HINT });
      }
    }
  });
  return problems;
}

/** The shipped default: one daily full backup of all databases and files at 02:00. */
export function defaultJobs(): ScheduleJob[] {
  return [{ name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true }];
}

/** Presets `respaldo schedule set --preset` knows. */
export const PRESETS = ['tiered'] as const;
export type PresetName = (typeof PRESETS)[number];

/**
 * The tiered plan: full on day 1 of each month at 00:00, differential weekly on Sunday 23:30,
 * incremental daily at 23:00 (engines without chains store fulls, saying why), a verification of the newest set of each
 * database daily at 01:00, and a restore drill of
 * the newest set of each database weekly on Saturday at 03:00.
 */
export function tieredPreset(opts: { databases?: string[]; files?: boolean; timezone?: string } = {}): ScheduleJob[] {
  const databases = opts.databases ?? ['*'];
  const files = opts.files ?? true;
  const tz = opts.timezone ? { timezone: opts.timezone } : {};
  return [
    { name: 'monthly', when: 'monthly on day 1 at 00:00', type: 'full', databases, files, ...tz },
    { name: 'weekly', when: 'weekly on sunday at 23:30', type: 'differential', databases, files, ...tz },
    { name: 'daily', when: 'daily at 23:00', type: 'incremental', databases, files, ...tz },
    { name: 'verify', when: 'daily at 01:00', type: 'verify', databases, files: false, ...tz },
    { name: 'drill', when: 'weekly on saturday at 03:00', type: 'drill', databases, files: false, ...tz },
  ];
}

import type { ManualRetention, RetentionConfig, SetSummary } from '../core/types.js';
import { neededByKept } from './chain.js';
import { english, phrase } from '../core/phrases.js';

/**
 * Retention: the pure decision of which backup sets to keep. No I/O; `prune.ts` executes it.
 *
 * Semantics (restic's `forget --keep-*`, grouped like restic's `--group-by paths`):
 * - Each scheduler job's retention considers only the sets that job made (the manifest's `job`,
 *   or for a set without one, the job the daily log says made it: `opts.logJobs`). Within a job,
 *   sets are grouped by what they hold: type (`full`/`schema`), the sorted list of databases and
 *   whether files were stored. Each group keeps its own history, so a daily job of `users` never
 *   pushes out the monthly job of all databases.
 * - Sets made by hand (no job) belong to no job's group: they follow `policy.manual` (default 30
 *   days, 5): kept while younger than `days` (`by hand, 3 days old (kept 30 days)`, any status), and
 *   the `keepLast` newest completed ones are kept whatever their age (`by hand, newest 2 of 5`).
 * - Only `completed` sets count for the rules. In each group, each rule walks calendar periods
 *   (in the zone of the job that made the group's sets, `jobTimeZones`, as the scheduler runs it; else
 *   `timeZone`, default the machine's) from the newest set to the oldest and keeps the newest
 *   completed set of each period that has one, up to its count. Periods without sets do not use
 *   up the count. Rules are independent: a set kept by several rules lists every reason.
 *   `keepLast` keeps the N newest completed sets (`last 1`, `last 2`, …); `daily` keys by the
 *   local date (`daily 2026-11-21`), `weekly` by ISO week, Monday to Sunday (`weekly 2026-W47`),
 *   `monthly` by `2026-10`, `yearly` by `2025`.
 * - Never removed automatically, whatever the counts: `pre_restore` safety sets, sets marked
 *   `keep`, the newest completed set holding each database (per type: `newest of users`,
 *   `newest schema of users`; a full that newer differentials or incrementals apply on: `newest full of users, the
 *   base of the chain of the newer sets …`), the newest completed set holding the files (per group, config and
 *   application: `newest of files`, any type and job), and sets dated after `now` (clock skew; kept with a reason).
 *   When the newest of a database (or of the files) failed its verification, or its restore drill of a database,
 *   the newest that did not is kept too.
 * - A set whose last verification failed, or whose last restore drill of a database failed, counts for no rule
 *   (keepLast, a period, manual.keepLast): kept where a rule reached it (`daily 2026-11-21, not counted (failed
 *   verification)`, `… not counted (failed drill)`), the rule going on to the next good set.
 * - Partial and failed sets never count for the rules. Such a set is removed only once every
 *   database it stored has a newer completed set of the same type (and its files, of any type), and at least one newer
 *   completed set of that type exists (reason `partial, superseded by <id>`). Until then it is
 *   kept (`partial, no newer completed set of users`, `failed, no newer completed full set`),
 *   because it may hold the newest good copy of some database and tells why the run failed.
 * - Chains: a set that a kept differential or incremental needs (its base, the base's base, … down
 *   to the full, `SetSummary.needs`) is kept whatever the rules say (`needed by <id> (chain)`), and a
 *   kept set that needs others lists them all in `needs`, oldest first.
 * A set's date is its `startedAt`.
 * Why one file of about 485 lines: every rule that keeps a set is one pass of `planPrune` over the same ordered sets,
 * and the keeps that prune and `prune --from` add after it (damaged manifests, files not ours) share its reasons.
 */

export type PruneAction = 'keep' | 'remove';

/** The decision for one set, with every reason; `reasons` is never empty. */
export interface PruneDecision {
  id: string;
  action: PruneAction;
  reasons: string[];
  /** A kept differential or incremental: every set its chains need, oldest first (all kept too). */
  needs?: string[];
}

export interface PlanPruneOptions {
  /** IANA zone for calendar periods; default the process's local zone. */
  timeZone?: string;
  /**
   * Job name → its IANA `timezone` (jobTimeZonesOf): a job's sets are put in that zone's days, weeks, months and
   * years (a 23:30 and a 00:30 run there are two days), over `timeZone`.
   */
  jobTimeZones?: Readonly<Record<string, string>>;
  /** For sets whose manifest names no job: set id → the job the daily log says made it. */
  logJobs?: Readonly<Record<string, string>>;
}

/** Used when a config has no `retention.manual`. */
export const DEFAULT_MANUAL_RETENTION: ManualRetention = { days: 30, keepLast: 5 };

/** The job that made a set (manifest, else the log), or null when it was made by hand. */
export function jobOf(s: SetSummary, logJobs: Readonly<Record<string, string>> = {}): string | null {
  return s.job ?? logJobs[s.id] ?? null;
}

/**
 * Pure: the zones of the scheduler jobs that have one (`schedule.jobs[].timezone`), by job name, for planPrune's
 * `jobTimeZones`. A zone this Node does not know is left out (the machine's zone then, as the rules had it).
 */
export function jobTimeZonesOf(jobs: readonly { name: string; timezone?: string }[]): Record<string, string> {
  const known = (zone: string): boolean => {
    try {
      formatterFor(zone);
      return true;
    } catch {
      return false;
    }
  };
  return Object.fromEntries(jobs.flatMap((j) => (j.timezone && known(j.timezone) ? [[j.name, j.timezone]] : [])));
}

type Rule = 'daily' | 'weekly' | 'monthly' | 'yearly';
const RULES: readonly Rule[] = ['daily', 'weekly', 'monthly', 'yearly'];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  return f;
}

/** Local calendar date of an instant in a time zone. */
export function localDate(at: Date, timeZone?: string): { year: number; month: number; day: number } {
  const parts = formatterFor(timeZone).formatToParts(at);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}

/** ISO-8601 week (weeks run Monday to Sunday; week 1 holds the year's first Thursday). */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(Date.UTC(year, month - 1, day));
  const dow = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - dow);
  const weekYear = date.getUTCFullYear();
  const dayOfYear = Math.floor((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000) + 1;
  return { year: weekYear, week: Math.floor((dayOfYear - 1) / 7) + 1 };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The period label of an instant for a rule, e.g. `2026-11-21`, `2026-W47`, `2026-10`, `2025`. */
export function periodKey(rule: Rule, at: Date, timeZone?: string): string {
  const { year, month, day } = localDate(at, timeZone);
  switch (rule) {
    case 'daily':
      return `${year}-${pad(month)}-${pad(day)}`;
    case 'weekly': {
      const w = isoWeek(year, month, day);
      return `${w.year}-W${pad(w.week)}`;
    }
    case 'monthly':
      return `${year}-${pad(month)}`;
    case 'yearly':
      return String(year);
  }
}

/**
 * Why a set counts for no rule, or null when it counts: its last verification failed (DAMAGED in list), or its last
 * restore drill of a database failed (drilled.json; it did not restore). Kept as a rule would keep it, said so.
 */
function notCounted(s: SetSummary): string | null {
  if (s.lastVerified?.ok === false) return 'not counted (failed verification)';
  if (s.lastDrill && (!s.lastDrill.ok || s.lastDrill.failed.length > 0)) return 'not counted (failed drill)';
  return null;
}

/** Databases a set stored successfully. */
function storedDatabases(s: SetSummary): string[] {
  const failed = new Set(s.failedDatabases);
  return s.databases.filter((d) => !failed.has(d));
}

type FileGroup = 'config' | 'application';
const FILE_GROUPS: readonly FileGroup[] = ['config', 'application'];

function groupKey(s: SetSummary, job: string): string {
  return JSON.stringify([job, s.type, [...s.databases].sort(), s.files > 0]);
}

function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/**
 * Decides, for every set, keep or remove, with reasons. Pure: depends only on its arguments.
 * Returns one decision per input set, newest first.
 */
export function planPrune(
  sets: SetSummary[],
  policy: RetentionConfig,
  now: Date,
  opts: PlanPruneOptions = {},
): PruneDecision[] {
  const { timeZone } = opts;
  const manual = { ...DEFAULT_MANUAL_RETENTION, ...policy.manual };
  const job = (s: SetSummary): string | null => jobOf(s, opts.logJobs);
  const time = (s: SetSummary): number => Date.parse(s.startedAt);
  const ordered = [...sets].sort((a, b) => time(b) - time(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const reasons = new Map<string, string[]>(ordered.map((s) => [s.id, []]));
  const add = (id: string, reason: string): void => {
    const r = reasons.get(id)!;
    if (!r.includes(reason)) r.push(reason);
  };

  const completed = ordered.filter((s) => s.status === 'completed' && s.type !== 'pre_restore');

  for (const s of ordered) {
    if (s.type === 'pre_restore') add(s.id, 'pre_restore safety copy');
    if (s.keep) add(s.id, 'keep mark');
    if (time(s) > now.getTime()) add(s.id, 'dated after now (clock skew)');
    if (Number.isNaN(time(s))) add(s.id, 'unreadable start time');
  }

  const byHand = ordered.filter((s) => s.type !== 'pre_restore' && job(s) === null);
  const maxAge = count(manual.days) * 86_400_000;
  for (const s of byHand) {
    const age = now.getTime() - time(s);
    const days = Math.max(0, Math.floor(age / 86_400_000));
    if (age <= maxAge) add(s.id, `by hand, ${days} days old (kept ${count(manual.days)} days)`);
  }
  const lastByHand = count(manual.keepLast);
  const byHandRemoved = `by hand, older than ${count(manual.days)} days and not among the newest ${lastByHand}`;
  let byHandKept = 0;
  for (const s of byHand.filter((c) => c.status === 'completed')) {
    if (byHandKept >= lastByHand) break;
    const not = notCounted(s);
    if (not) add(s.id, `by hand, among the newest ${lastByHand}, ${not}`);
    else add(s.id, `by hand, newest ${++byHandKept} of ${lastByHand}`);
  }

  const groups = new Map<string, { job: string; sets: SetSummary[] }>();
  for (const s of completed) {
    const j = job(s);
    if (j === null) continue;
    const k = groupKey(s, j);
    const g = groups.get(k);
    if (g) g.sets.push(s);
    else groups.set(k, { job: j, sets: [s] });
  }
  for (const { job: made, sets: group } of groups.values()) {
    const zone = opts.jobTimeZones && Object.hasOwn(opts.jobTimeZones, made) ? opts.jobTimeZones[made] : timeZone;
    let lastKept = 0;
    for (const s of group) {
      if (lastKept >= count(policy.keepLast)) break;
      const not = notCounted(s);
      if (not) add(s.id, `among the last ${count(policy.keepLast)}, ${not}`);
      else add(s.id, `last ${++lastKept}`);
    }
    for (const rule of RULES) {
      const n = count(policy[rule]);
      if (n === 0) continue;
      let last: string | null = null;
      let kept = 0;
      for (const s of group) {
        if (Number.isNaN(time(s))) continue;
        const key = periodKey(rule, new Date(time(s)), zone);
        if (key === last) continue;
        // A damaged set (or one whose drill failed) stays as it was kept, but its period is held by the newest set
        // of it that counts
        const not = notCounted(s);
        if (not) {
          add(s.id, `${rule} ${key}, ${not}`);
          continue;
        }
        last = key;
        add(s.id, `${rule} ${key}`);
        if (++kept >= n) break;
      }
    }
  }

  const newestOf = new Map<string, SetSummary>();
  for (const s of completed) {
    for (const db of storedDatabases(s)) {
      const k = `${s.type}\u0000${db}`;
      if (!newestOf.has(k)) newestOf.set(k, s);
    }
  }
  for (const [k, s] of newestOf) {
    const db = k.split('\u0000')[1]!;
    // The newest full under newer differentials and incrementals is not "the newest of" the database: it is kept as
    // the base their chains need (named, so that an operator does not read it as the newest backup).
    const chainedOn =
      s.type === 'full'
        ? sets
            .filter((c) => c.status !== 'failed' && time(c) > time(s) && storedDatabases(c).includes(db))
            .filter((c) => transitive(sets, c.id).includes(s.id))
            .map((c) => c.id)
            .sort()
        : [];
    if (chainedOn.length)
      add(
        s.id,
        english(
          phrase('prune.chainBase', {
            db,
            sets: chainedOn.slice(0, 3).join(', '),
            more: Math.max(0, chainedOn.length - 3),
            count: chainedOn.length,
          }),
        ),
      );
    else add(s.id, s.type === 'full' ? `newest of ${db}` : `newest ${s.type} of ${db}`);
  }
  // The config and application files are a backup of their own: the newest completed set holding them (per group)
  // is kept as a database's newest is, whatever the job or the rules (a `create --no-files`, or a job without files,
  // with `keepLast 1`, would else remove the only set holding them). When it failed its verification, the newest that
  // did not is kept too.
  const groupsHeld = (s: SetSummary): FileGroup[] =>
    s.files > 0 ? (s.fileGroups?.length ? s.fileGroups : [...FILE_GROUPS]) : [];
  const filesKept = new Map<string, FileGroup[]>();
  const filesGood = new Map<string, FileGroup[]>();
  const allGroups = FILE_GROUPS.filter((g) => completed.some((c) => groupsHeld(c).includes(g)));
  for (const g of allGroups) {
    const holding = completed.filter((c) => groupsHeld(c).includes(g));
    const newest = holding[0]!;
    filesKept.set(newest.id, [...(filesKept.get(newest.id) ?? []), g]);
    const good = newest.lastVerified?.ok === false ? holding.find((c) => c.lastVerified?.ok !== false) : undefined;
    if (good) filesGood.set(good.id, [...(filesGood.get(good.id) ?? []), g]);
  }
  const filesLabel = (groups: FileGroup[]): string =>
    groups.length === allGroups.length ? 'files' : `${groups.join(' and ')} files`;
  for (const [id, groups] of filesKept) add(id, `newest of ${filesLabel(groups)}`);
  for (const [id, groups] of filesGood) add(id, `newest of ${filesLabel(groups)} that did not fail verification`);
  // A newest set that failed its verification is no backup to fall back on: the newest one that did not fail
  // is kept too (restore latest passes over the damaged one to it).
  for (const [k, s] of newestOf) {
    if (s.lastVerified?.ok !== false) continue;
    const db = k.split('\u0000')[1]!;
    const good = completed.find(
      (c) => c.type === s.type && c.lastVerified?.ok !== false && storedDatabases(c).includes(db),
    );
    if (good) add(good.id, `newest ${s.type === 'full' ? '' : `${s.type} `}of ${db} that did not fail verification`);
  }
  // Nor is a newest set whose restore drill of that database failed (its files match, but it did not restore): the
  // newest one whose drill of it did not fail is kept too. Else a backup drilled after it is made (drillAfterBackup)
  // that fails its drill had the retention right after it remove the last set known to restore.
  const drillFailed = (c: SetSummary, db: string): boolean => c.lastDrill?.failed.includes(db) === true;
  for (const [k, s] of newestOf) {
    const db = k.split('\u0000')[1]!;
    if (!drillFailed(s, db)) continue;
    const good = completed.find(
      (c) =>
        c.type === s.type && c.lastVerified?.ok !== false && !drillFailed(c, db) && storedDatabases(c).includes(db),
    );
    if (good) add(good.id, `newest ${s.type === 'full' ? '' : `${s.type} `}of ${db} whose restore drill did not fail`);
  }
  // A newest set whose chain cannot be restored (a set it applies on deleted, failed, or failed its verification)
  // is no backup to fall back on either: the newest set of that database whose chain is whole is kept too (the
  // rules above, by type, would keep the broken differential and incrementals and remove it).
  const byId = new Map(sets.map((s) => [s.id, s]));
  const restorable = (s: SetSummary): boolean => {
    if (s.lastVerified?.ok === false) return false;
    const stack = [...(s.needs ?? [])];
    const seen = new Set<string>();
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const base = byId.get(n);
      if (!base || base.status === 'failed' || base.lastVerified?.ok === false) return false;
      stack.push(...(base.needs ?? []));
    }
    return true;
  };
  for (const db of new Set(completed.flatMap(storedDatabases))) {
    const holding = completed.filter((c) => c.type !== 'schema' && storedDatabases(c).includes(db));
    if (!holding[0] || restorable(holding[0])) continue;
    const good = holding.find(restorable);
    if (good) add(good.id, `newest of ${db} whose chain can be restored`);
  }

  const decisions: PruneDecision[] = [];
  for (const s of ordered) {
    const r = reasons.get(s.id)!;
    if (s.status !== 'completed' && s.type !== 'pre_restore' && r.length === 0) {
      const stored = storedDatabases(s);
      const uncovered: string[] = [];
      let supersededBy: SetSummary | null = null;
      for (const db of stored) {
        const newer = completed.find((c) => c.type === s.type && time(c) > time(s) && storedDatabases(c).includes(db));
        if (!newer) uncovered.push(db);
        else if (!supersededBy || time(newer) < time(supersededBy)) supersededBy = newer;
      }
      // Its files too (any type: every set stores them whole), group by group.
      for (const g of groupsHeld(s)) {
        const newer = completed.find((c) => time(c) > time(s) && groupsHeld(c).includes(g));
        if (!newer) uncovered.push(`${g} files`);
        else if (!supersededBy || time(newer) < time(supersededBy)) supersededBy = newer;
      }
      const by = supersededBy ?? [...completed].reverse().find((c) => c.type === s.type && time(c) > time(s));
      if (uncovered.length > 0) {
        r.push(`${s.status}, no newer completed set of ${uncovered.join(', ')}`);
      } else if (!by) {
        r.push(`${s.status}, no newer completed ${s.type} set`);
      } else {
        decisions.push({ id: s.id, action: 'remove', reasons: [`${s.status}, superseded by ${by.id}`] });
        continue;
      }
    }
    if (r.length > 0) decisions.push({ id: s.id, action: 'keep', reasons: r });
    else if (job(s) === null) decisions.push({ id: s.id, action: 'remove', reasons: [byHandRemoved] });
    else decisions.push({ id: s.id, action: 'remove', reasons: ['not kept by any rule'] });
  }
  return protectChains(decisions, sets);
}

/** Keeps every set a kept set needs through its chains (see the module comment); pure. */
function protectChains(decisions: PruneDecision[], sets: readonly SetSummary[]): PruneDecision[] {
  if (!sets.some((s) => s.needs?.length)) return decisions;
  const kept = new Set(decisions.filter((d) => d.action === 'keep').map((d) => d.id));
  const needed = neededByKept(sets, kept);
  return decisions.map((d) => {
    const by = needed.get(d.id);
    const next: PruneDecision = by ? { id: d.id, action: 'keep', reasons: [`needed by ${by.join(', ')} (chain)`] } : d;
    const needs = next.action === 'keep' ? transitive(sets, d.id) : [];
    return needs.length ? { ...next, needs } : next;
  });
}

/** Every set `id` needs, transitively, oldest first. */
export function transitive(sets: readonly SetSummary[], id: string): string[] {
  const byId = new Map(sets.map((s) => [s.id, s]));
  const out = new Set<string>();
  const stack = [...(byId.get(id)?.needs ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...(byId.get(n)?.needs ?? []));
  }
  return [...out].sort();
}

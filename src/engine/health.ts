import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { english, nestedPhrase, phrase, type Phrase } from '../core/phrases.js';
import type { BackupType, LoadedConfig, ScheduleJob, SetSummary } from '../core/types.js';
import { formatAge, formatBytes, formatDuration } from '../core/format.js';
import { periodMs, previousRun } from '../scheduler/when.js';
import { lastDrills, listDamagedSets, listSets, readManifestHead, type LastDrill } from './catalog.js';
import { freeBytesAt } from './fs-util.js';
import { chainOf } from './chain.js';
import { readChainSets } from './chain-sets.js';
import { notCopiedOf } from './offsite-state.js';
import { readDailyLog } from './log.js';

/**
 * Whether each database can be brought back today, in figures an operator and a monitoring system can
 * act on: age of the last good backup against what the schedule promises, duration and size against
 * their history, success rate over 30 days, free space. `assessHealth` is pure (tested as tables);
 * `getHealth` gathers its input from the sets, their manifests and the daily logs. Why one file of about 580
 * lines: every problem is one rule of the one pure assessment over the same input, and the input's gathering is
 * what those rules read; split, a rule and what it reads would sit apart.
 */

/** Free space below this in the backup folder is a problem (`health.minFreeBytes`; the documents ask 20 GB). */
export const DEFAULT_MIN_FREE_BYTES = 20_000_000_000;
/** How long after a scheduled time its backup may still be running before it counts as missed. */
export const DEFAULT_GRACE_MINUTES = 60;
/** A backup this much slower than the median of the previous ten is an alert (+50 %). */
export const SLOW_FACTOR = 1.5;
/**
 * ... and at least this much longer too: a backup of seconds doubles with the load of the moment (305 ms against a
 * median of 100 ms made status --check exit 10 and sent alerts).
 */
export const SLOW_MIN_EXTRA_MS = 60_000;
/** A stored size that shrank by more than 30 % or grew by more than 100 % against the previous one. */
export const SHRINK_FACTOR = 0.7;
export const GROW_FACTOR = 2;
/**
 * ... and, for growth, by at least this much too (16 MiB): a small database doubles with a few rows (128 B to 300 B
 * was "more than doubled"). A shrink has no floor: it is how lost rows show, in a small database too.
 */
export const GROW_MIN_BYTES = 16 * 1024 * 1024;
const DAY_MS = 86_400_000;

/** One backup of one database, from a set's manifest. */
export interface BackupRecord {
  setId: string;
  completedAt: string;
  durationMs: number;
  storedBytes: number;
  /**
   * `differential` or `incremental` when the entry stores changes on a base; absent for a full. Sizes and durations are
   * compared within a type.
   */
  type?: string;
  /** When the set's last verification (`verify`, or the check before a restore) found it damaged; absent: not so. */
  verifyFailedAt?: string;
}

/** One attempt to back up one database, from the logs: stored, or not. */
export interface RunRecord {
  at: string;
  ok: boolean;
  /** Why it failed, as its log line says (a database that failed; absent for a run that failed as a whole). */
  error?: string;
}

export interface HealthInput {
  now: Date;
  databases: string[];
  jobs: Pick<ScheduleJob, 'name' | 'when' | 'timezone' | 'type' | 'databases'>[];
  /** Every configured database name (for jobs with `*`). */
  allDatabases: string[];
  /** Successful backups per database, newest first (at least the newest eleven). */
  backups: Record<string, BackupRecord[]>;
  /** Attempts per database in the last 30 days. */
  runs: Record<string, RunRecord[]>;
  freeBytes: number | null;
  minFreeBytes: number;
  graceMinutes: number;
  /** The newest restore drill of each database (`drilled.json` of the sets); absent: none known. */
  drills?: Record<string, LastDrill>;
  /** The newest completed set and the destinations (copyAfterBackup) it is not copied to; absent: none. */
  notCopied?: { setId: string; destinations: string[] };
  /** Set folders whose manifest fails its checks (`list` shows them DAMAGED); absent: none. */
  damagedSets?: { id: string; problem: string }[];
  /**
   * Sets dated more than an hour ahead of `now` (a clock that was wrong here or where they were made): they count as
   * the newest backup and hide an overdue one; absent: none.
   */
  aheadSets?: { id: string; startedAt: string }[];
  /**
   * Databases whose newest backup cannot be restored: its chain is broken (a set it applies on deleted, damaged or
   * failed its verification, a stored file missing). `restore latest` passes over it to `fallback`, the newest older
   * set that restores the database (null: none does); absent: none.
   */
  unrestorable?: {
    database: string;
    setId: string;
    problem: string;
    /** `problem` as a phrase (chain.ts chainOf), for the menu's and the alerts' language. */
    problemPhrase?: Phrase;
    fallback?: string | null;
  }[];
  /**
   * The newest set that stores files, when it is partial because files could not be stored (its databases all
   * stored): counted per database, the runs looked successful and health said healthy; absent: none.
   */
  filesNotStored?: { setId: string; count: number };
  /**
   * The backup folder exists and cannot be written (a disk remounted read-only after I/O errors, its permissions
   * changed), and why: every backup will fail while `status --check` said healthy; absent: it can (or is not made yet).
   */
  backupDirUnwritable?: { dir: string; why: string; whyPhrase?: Phrase };
  /** `metrics.textfile` cannot be written there, and why (its folder is missing, not writable, …); absent: it can. */
  metricsUnwritable?: { file: string; why: string; whyPhrase?: Phrase };
}

export interface DatabaseHealth {
  database: string;
  lastSuccessAt: string | null;
  ageSeconds: number | null;
  /** The shortest period of the scheduled backup jobs covering it; null without a schedule. */
  promisedEverySeconds: number | null;
  /** The scheduled time whose backup is missing, when overdue. */
  missedRunAt: string | null;
  overdue: boolean;
  lastDurationMs: number | null;
  medianDurationMs: number | null;
  lastStoredBytes: number | null;
  previousStoredBytes: number | null;
  successes30d: number;
  attempts30d: number;
  /** successes / attempts over 30 days; null when nothing was attempted. */
  successRate30d: number | null;
  /** The newest restore drill of the database (any set); null when it was never drilled. */
  lastDrill: LastDrill | null;
  problems: string[];
}

/** One problem, with a key that stays the same while the problem lasts (alerts are sent when keys appear). */
export interface HealthIssue {
  code:
    | 'overdue'
    | 'never'
    | 'failures'
    | 'slow'
    | 'shrank'
    | 'grew'
    | 'low-disk'
    | 'drill-failed'
    | 'verify-failed'
    | 'not-copied'
    | 'damaged-set'
    | 'ahead-set'
    | 'chain-broken'
    | 'files-partial'
    | 'backup-dir-unwritable'
    | 'metrics-unwritable';
  database: string | null;
  /** Stable identity: code, database and, for overdue, the missed scheduled time. */
  key: string;
  /** In English (status --check, JSON, logs); `phrase` says it in the language of the alerts. */
  text: string;
  phrase: Phrase;
}

export interface HealthReport {
  at: string;
  healthy: boolean;
  issues: HealthIssue[];
  databases: DatabaseHealth[];
  freeBytes: number | null;
  minFreeBytes: number;
  /** Every problem, one line each, database first: what `status --check` prints. */
  problems: string[];
}

const BACKUP_TYPES: readonly (BackupType | 'verify' | 'drill')[] = ['full', 'schema', 'differential', 'incremental'];

function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Whether a backup that took `ms` is slow against the median: by the ratio and by the floor, both. */
function isSlow(ms: number, medianMs: number): boolean {
  return ms > medianMs * SLOW_FACTOR && ms - medianMs >= SLOW_MIN_EXTRA_MS;
}

/** Whether a stored size grew too much against the previous one: by the ratio and by the floor, both. */
function grewTooMuch(bytes: number, previous: number): boolean {
  return bytes > previous * GROW_FACTOR && bytes - previous >= GROW_MIN_BYTES;
}

/** Pure: the health of every database and of the backup folder. */
export function assessHealth(input: HealthInput): HealthReport {
  const now = input.now.getTime();
  const graceMs = input.graceMinutes * 60_000;
  const issues: HealthIssue[] = [];
  const databases = input.databases.map((database): DatabaseHealth => {
    const problems: string[] = [];
    const issue = (code: HealthIssue['code'], p: Phrase, extra = '') => {
      const text = english(p);
      problems.push(text);
      issues.push({ code, database, key: `${code}:${database}${extra ? `:${extra}` : ''}`, text, phrase: p });
    };
    // Schema-only sets hold no rows: they count only for the schema jobs they answer, never as the data's backup.
    const all = input.backups[database] ?? [];
    const backups = all.filter((b) => b.type !== 'schema');
    const last = backups[0];
    const lastAt = last ? new Date(last.completedAt).getTime() : null;
    const lastAnyAt = all[0] ? new Date(all[0].completedAt).getTime() : null;
    const covers = (j: HealthInput['jobs'][number]) =>
      (j.databases.includes('*') ? input.allDatabases : j.databases).includes(database);
    const jobs = input.jobs.filter((j) => BACKUP_TYPES.includes(j.type) && covers(j));
    let promised: number | null = null;
    let missed: Date | null = null;
    for (const job of jobs) {
      const period = periodMs(job, input.now);
      if (Number.isFinite(period)) promised = promised === null ? period : Math.min(promised, period);
      const due = previousRun(job, new Date(now - graceMs));
      const answered = job.type === 'schema' ? lastAnyAt : lastAt; // a full holds the schema too
      if (due && (answered === null || answered < due.getTime()) && (!missed || due > missed)) missed = due;
    }
    if (missed)
      issue(
        'overdue',
        last
          ? phrase('health.overdue', {
              db: database,
              due: localTime(missed),
              age: formatAge(now - lastAt!),
              set: last.setId,
            })
          : phrase('health.overdueNever', { db: database, due: localTime(missed) }),
        missed.toISOString(),
      );
    else if (!all.length) issue('never', phrase('health.never', { db: database }));
    const sameType = backups.filter((b) => (b.type ?? 'full') === (last?.type ?? 'full'));
    const previous = sameType.slice(1, 11).map((b) => b.durationMs);
    const med = median(previous);
    if (last && med !== null && previous.length >= 3 && isSlow(last.durationMs, med)) {
      issue(
        'slow',
        phrase('health.slow', {
          db: database,
          took: formatDuration(last.durationMs),
          median: formatDuration(med),
          count: previous.length,
        }),
        last.setId,
      );
    }
    // A differential or incremental is as large as the day's changes (a differential grows through its cycle): its
    // size says nothing of lost data, so only whole copies (full, schema) are compared with the one before.
    const whole = last?.type === undefined || last.type === 'full' || last.type === 'schema';
    const prevSize = whole ? (sameType[1]?.storedBytes ?? null) : null;
    if (last && prevSize) {
      if (last.storedBytes < prevSize * SHRINK_FACTOR)
        issue(
          'shrank',
          phrase('health.shrank', {
            db: database,
            size: formatBytes(last.storedBytes),
            previous: formatBytes(prevSize),
          }),
          last.setId,
        );
      else if (grewTooMuch(last.storedBytes, prevSize))
        issue(
          'grew',
          phrase('health.grew', { db: database, size: formatBytes(last.storedBytes), previous: formatBytes(prevSize) }),
          last.setId,
        );
    }
    // The newest backup found damaged: the one a restore would take does not restore.
    if (last?.verifyFailedAt)
      issue(
        'verify-failed',
        phrase('health.verifyFailed', {
          db: database,
          set: last.setId,
          when: localTime(new Date(last.verifyFailedAt)),
        }),
        last.setId,
      );
    const runs = (input.runs[database] ?? []).filter((r) => now - new Date(r.at).getTime() <= 30 * DAY_MS);
    const successes = runs.filter((r) => r.ok).length;
    const drill = input.drills?.[database] ?? null;
    if (drill && !drill.ok) {
      const when = localTime(new Date(drill.at));
      issue(
        'drill-failed',
        drill.error
          ? phrase('health.drillFailedWhy', {
              db: database,
              set: drill.setId,
              when,
              error: drill.error,
              ...nestedPhrase(drill.errorPhrase),
            })
          : phrase('health.drillFailed', { db: database, set: drill.setId, when }),
        drill.at,
      );
    }
    if (runs.length && successes < runs.length) {
      const failures = { db: database, failed: runs.length - successes, count: runs.length };
      // The newest run failed: the problem is now, and its reason (a damaged database, say) is what to act on
      const newest = runs.reduce((a, b) => (b.at > a.at ? b : a));
      issue(
        'failures',
        !newest.ok && newest.error
          ? phrase('health.failuresLast', { ...failures, when: localTime(new Date(newest.at)), error: newest.error })
          : phrase('health.failures', failures),
      );
    }
    return {
      database,
      lastSuccessAt: last?.completedAt ?? null,
      ageSeconds: lastAt === null ? null : Math.round((now - lastAt) / 1000),
      promisedEverySeconds: promised === null ? null : Math.round(promised / 1000),
      missedRunAt: missed?.toISOString() ?? null,
      overdue: missed !== null,
      lastDurationMs: last?.durationMs ?? null,
      medianDurationMs: med,
      lastStoredBytes: last?.storedBytes ?? null,
      previousStoredBytes: prevSize,
      successes30d: successes,
      attempts30d: runs.length,
      successRate30d: runs.length ? successes / runs.length : null,
      lastDrill: drill,
      problems,
    };
  });
  if (input.freeBytes !== null && input.freeBytes < input.minFreeBytes) {
    // The configured figure as it is written (20000000000), beside the size as respaldo shows sizes (1024 to a KB:
    // 19 GB), so the operator finds the setting's value in the message.
    const p = phrase('health.lowDisk', {
      free: formatBytes(input.freeBytes),
      needed: formatBytes(input.minFreeBytes),
      bytes: input.minFreeBytes,
    });
    issues.push({ code: 'low-disk', database: null, key: 'low-disk', text: english(p), phrase: p });
  }
  // A set is not safe until it exists somewhere else: the newest one missing at a destination is a problem.
  for (const dest of input.notCopied?.destinations ?? []) {
    const p = phrase('health.notCopied', { set: input.notCopied!.setId, dest });
    issues.push({ code: 'not-copied', database: null, key: `not-copied:${dest}`, text: english(p), phrase: p });
  }
  // A damaged manifest is never restored or pruned, and the sets around it hide it from the checks above.
  for (const d of input.damagedSets ?? []) {
    const p = phrase('health.damagedSet', { set: d.id, problem: d.problem });
    issues.push({ code: 'damaged-set', database: null, key: `damaged-set:${d.id}`, text: english(p), phrase: p });
  }
  for (const a of input.aheadSets ?? []) {
    const p = phrase('health.aheadSet', { set: a.id, at: a.startedAt });
    issues.push({ code: 'ahead-set', database: null, key: `ahead-set:${a.id}`, text: english(p), phrase: p });
  }
  if (input.filesNotStored) {
    const { setId, count } = input.filesNotStored;
    const p = phrase('health.filesPartial', { set: setId, count });
    issues.push({ code: 'files-partial', database: null, key: 'files-partial', text: english(p), phrase: p });
  }
  for (const u of input.unrestorable ?? []) {
    const params = { db: u.database, set: u.setId, problem: u.problem, ...nestedPhrase(u.problemPhrase) };
    const p = phrase(u.fallback === null ? 'health.chainBrokenNoFallback' : 'health.chainBroken', params);
    const key = `chain-broken:${u.database}:${u.setId}`;
    issues.push({ code: 'chain-broken', database: u.database, key, text: english(p), phrase: p });
  }
  if (input.backupDirUnwritable) {
    const { dir, why, whyPhrase } = input.backupDirUnwritable;
    const p = phrase('health.backupDirUnwritable', { dir, reason: why, ...nestedPhrase(whyPhrase) });
    const key = 'backup-dir-unwritable';
    issues.push({ code: 'backup-dir-unwritable', database: null, key, text: english(p), phrase: p });
  }
  if (input.metricsUnwritable) {
    const { file, why, whyPhrase } = input.metricsUnwritable;
    const p = phrase('health.metricsUnwritable', { file, reason: why, ...nestedPhrase(whyPhrase) });
    issues.push({ code: 'metrics-unwritable', database: null, key: 'metrics-unwritable', text: english(p), phrase: p });
  }
  const problems = issues.map((i) => i.text);
  return {
    at: input.now.toISOString(),
    healthy: problems.length === 0,
    issues,
    databases,
    freeBytes: input.freeBytes,
    minFreeBytes: input.minFreeBytes,
    problems,
  };
}

/** Reads the sets, their manifests and 30 days of logs, and assesses them. Reads only. */
export async function getHealth(cfg: LoadedConfig, now = new Date()): Promise<HealthReport> {
  const names = cfg.databases.map((d) => d.name);
  const listed = await listSets(cfg);
  const sets = listed.filter((s) => s.type === 'full' || s.type === 'differential' || s.type === 'incremental');
  const withSchema = listed.filter((s) => sets.includes(s) || s.type === 'schema');
  const backups: Record<string, BackupRecord[]> = {};
  for (const name of names) {
    const mine = withSchema.filter((s) => s.databases.includes(name)).slice(0, 40); // chains: enough of each type
    const records: BackupRecord[] = [];
    for (const s of mine) {
      try {
        const entry = (await readManifestHead(cfg, s.id, { shared: true })).databases.find(
          (d) => d.name === name && !d.error,
        );
        if (entry)
          records.push({
            setId: s.id,
            completedAt: s.completedAt,
            durationMs: entry.durationMs,
            storedBytes: entry.storedBytes + (entry.extras ?? []).reduce((sum, x) => sum + x.storedBytes, 0),
            ...(entry.base || s.type === 'schema' ? { type: s.type } : {}),
            ...(s.lastVerified && !s.lastVerified.ok ? { verifyFailedAt: s.lastVerified.at } : {}),
          });
      } catch {
        /* a damaged set is verify's business */
      }
    }
    backups[name] = records;
  }
  // A backup folder not made yet: the disk it will be on (its nearest existing parent), not the config's.
  const freeBytes = await freeBytesAt(cfg.backupDir);
  return assessHealth({
    now,
    databases: names,
    allDatabases: names,
    jobs: cfg.schedule.jobs,
    backups,
    runs: readRuns(cfg.backupDir, now, names),
    freeBytes,
    minFreeBytes: cfg.health?.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    graceMinutes: cfg.health?.graceMinutes ?? DEFAULT_GRACE_MINUTES,
    drills: await lastDrills(cfg),
    ...notCopiedInput(cfg, sets),
    damagedSets: (await listDamagedSets(cfg)).map((d) => ({ id: d.id, problem: d.problem })),
    aheadSets: sets
      .filter((s) => Date.parse(s.startedAt) > now.getTime() + 3_600_000)
      .map((s) => ({ id: s.id, startedAt: s.startedAt })),
    unrestorable: unrestorableNewest(cfg, names, sets),
    ...(await filesNotStoredInput(cfg, sets)),
    ...backupDirInput(cfg),
    ...metricsInput(cfg),
  });
}

/** Whether the backup folder, when it exists, can be written: the next backup needs to (see backupDirUnwritable). */
function backupDirInput(cfg: LoadedConfig): Pick<HealthInput, 'backupDirUnwritable'> {
  const dir = cfg.backupDir;
  if (!existsSync(dir)) return {};
  const problem = folderProblem(dir);
  return problem ? { backupDirUnwritable: { dir, ...problem } } : {};
}

/** Why a folder cannot be written (a phrase where respaldo has the words), or null when it can. */
function folderProblem(dir: string): { why: string; whyPhrase?: Phrase } | null {
  const said = (whyPhrase: Phrase) => ({ why: english(whyPhrase), whyPhrase });
  try {
    if (!statSync(dir).isDirectory()) return said(phrase('folder.notAFolder', { dir }));
    accessSync(dir, constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return said(phrase('folder.none', { dir }));
    if (code === 'EACCES' || code === 'EPERM') return said(phrase('folder.notWritable', { dir }));
    if (code === 'EROFS') return said(phrase('folder.readOnly', { dir }));
    return { why: errorMessage(err) };
  }
}

/**
 * Whether the folder of `metrics.textfile` takes the file (it is written under a temporary name there, then
 * renamed): a wrong path was only logged, and Prometheus saw no figures or old ones while everything looked fine.
 */
function metricsInput(cfg: LoadedConfig): Pick<HealthInput, 'metricsUnwritable'> {
  const file = cfg.metrics?.textfile;
  if (!file) return {};
  const problem = folderProblem(dirname(file));
  return problem ? { metricsUnwritable: { file, ...problem } } : {};
}

/** The newest set with files, when files of it could not be stored (its warnings) though every database was. */
async function filesNotStoredInput(
  cfg: LoadedConfig,
  sets: SetSummary[],
): Promise<Pick<HealthInput, 'filesNotStored'>> {
  const newest = sets.find((s) => s.files > 0 || s.status === 'partial');
  if (!newest || newest.status !== 'partial' || newest.failedDatabases.length) return {};
  try {
    const m = await readManifestHead(cfg, newest.id, { shared: true });
    return m.warnings.length ? { filesNotStored: { setId: m.id, count: m.warnings.length } } : {};
  } catch {
    return {};
  }
}

/** The databases whose newest set (full, differential, incremental) has a broken chain (manifests and a stat). */
function unrestorableNewest(cfg: LoadedConfig, names: string[], sets: SetSummary[]): HealthInput['unrestorable'] {
  const chainSets = readChainSets(cfg);
  const out: NonNullable<HealthInput['unrestorable']> = [];
  for (const name of names) {
    const newest = sets.find((s) => s.databases.includes(name));
    if (!newest) continue;
    const { problem, problemPhrase } = chainOf(chainSets, newest.id, name);
    if (!problem) continue;
    const older = sets.filter((s) => s.id < newest.id && s.databases.includes(name));
    const fallback = older.find((s) => !chainOf(chainSets, s.id, name).problem)?.id ?? null;
    out.push({ database: name, setId: newest.id, problem, ...(problemPhrase ? { problemPhrase } : {}), fallback });
  }
  return out;
}

/** The newest completed set's missing off-site copies (read from its copies.json, never the network). */
function notCopiedInput(cfg: LoadedConfig, sets: SetSummary[]): Pick<HealthInput, 'notCopied'> {
  const newest = sets.find((s) => s.status === 'completed');
  if (!newest || !cfg.destinations?.length) return {};
  const destinations = notCopiedOf(cfg, newest);
  return destinations.length ? { notCopied: { setId: newest.id, destinations } } : {};
}

interface LogLine {
  time?: string;
  event?: string;
  setId?: string;
  db?: string;
  databases?: string[];
  outcome?: string;
  type?: string;
  error?: unknown;
}

/**
 * Pure over the log files: each backup run of the last 30 days (a `create-start` line and what followed)
 * as one attempt per database, stored or not. Interrupted runs (an operator's Ctrl-C) are not attempts;
 * safety copies taken by restores are not either.
 */
export function readRuns(backupDir: string, now: Date, databases: string[]): Record<string, RunRecord[]> {
  const starts = new Map<string, { at: string; databases: string[] }>();
  const dbOutcome = new Map<string, { ok: boolean; error?: string }>();
  const ends = new Map<string, string>();
  for (let d = 0; d <= 30; d++) {
    for (const raw of readDailyLog(backupDir, new Date(now.getTime() - d * DAY_MS)).split('\n')) {
      if (!raw) continue;
      let l: LogLine;
      try {
        l = JSON.parse(raw) as LogLine;
      } catch {
        continue;
      }
      if (!l.setId || !l.time) continue;
      if (l.event === 'create-start' && l.type !== 'pre_restore')
        starts.set(l.setId, { at: l.time, databases: l.databases ?? [] });
      else if (l.event === 'database' && l.db)
        dbOutcome.set(`${l.setId}\0${l.db}`, {
          ok: l.outcome === 'ok',
          ...(typeof l.error === 'string' ? { error: l.error } : {}),
        });
      else if (l.event === 'create-end' && l.outcome) ends.set(l.setId, l.outcome);
    }
  }
  const out: Record<string, RunRecord[]> = Object.fromEntries(databases.map((n) => [n, []]));
  for (const [setId, start] of starts) {
    const end = ends.get(setId);
    if (end === 'interrupted' || end === undefined) continue; // stopped by the operator, or still running
    for (const db of start.databases) {
      if (!out[db]) continue;
      const outcome = dbOutcome.get(`${setId}\0${db}`);
      const ok = end !== 'failed' && outcome?.ok === true;
      out[db].push({ at: start.at, ok, ...(!ok && outcome?.error ? { error: outcome.error } : {}) });
    }
  }
  for (const list of Object.values(out)) list.sort((a, b) => (a.at < b.at ? 1 : -1));
  return out;
}

function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

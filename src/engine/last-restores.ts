import { formatLocal } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';
import { processAlive } from './lock.js';
import { readDailyLog } from './log.js';

/** How far back `status` looks for the last restore of each database (the days of logs it reads). */
export const LAST_RESTORE_DAYS = 30;

/**
 * How the last restore of a database ended, from the daily logs (`restore-start`, `restore-database` and
 * `restore-end` lines of one run, matched by its pid): what `status` says, so that an operator whose SSH session
 * dropped under a restore need not read the log.
 * - `completed`: the database was restored (the restore may have stopped later, on another database or the files);
 * - `interrupted`: stopped (Ctrl-C, a hang-up, SIGTERM) while restoring it or before it (`reached` false): the target
 *   was left as it was;
 * - `failed`: its restore failed (`error`), or the restore failed before it (`reached` false);
 * - `refused`: refused before anything was changed (the set failed its verification, a check before);
 * - `killed`: a restore-start with no end, its process gone (SIGKILL, a power cut): it may have left a swap mid-way
 *   or a temporary database, which status lists and the next create or restore finishes or removes;
 * - `running`: a restore-start with no end yet, its process alive.
 */
export interface LastRestore {
  database: string;
  setId: string;
  outcome: 'completed' | 'interrupted' | 'failed' | 'refused' | 'killed' | 'running';
  startedAt: string;
  /** When it ended for this database (its restore-database line, else the restore-end); startedAt when none. */
  at: string;
  /** `--to`: where it was restored beside; null: in place. */
  to: string | null;
  /** False when the run stopped before this database was restored (nothing of it was touched). */
  reached: boolean;
  /**
   * Completed, its run interrupted later (on another database, or the files): when it was stopped. The menu's header
   * warns of that run (what it had not reached was left as it was).
   */
  stoppedAt?: string;
  /** The signal that stopped an interrupted restore (SIGHUP: the terminal closed), when the log says it. */
  signal?: string;
  error?: string;
  pid: number;
  /** The line status prints, after `DATABASE: `. */
  said: Phrase;
}

interface Line {
  time?: unknown;
  event?: unknown;
  pid?: unknown;
  setId?: unknown;
  databases?: unknown;
  to?: unknown;
  db?: unknown;
  outcome?: unknown;
  restoredTo?: unknown;
  error?: unknown;
  signal?: unknown;
  reason?: unknown;
  drill?: unknown;
}

interface Run {
  pid: number;
  setId: string;
  startedAt: string;
  databases: string[];
  to: string | null;
  perDb: Map<string, Line>;
  end: Line | null;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The last restore of each database named in `databases` over the last LAST_RESTORE_DAYS days of logs (absent: none
 * logged). Reads only; unreadable files and lines are skipped. `alive` is for tests.
 */
export function lastRestores(
  backupDir: string,
  databases: readonly string[],
  now = new Date(),
  alive: (pid: number) => boolean = processAlive,
): LastRestore[] {
  const runs: Run[] = [];
  const open = new Map<number, Run>();
  // Processes in a drill (its drill-start logged, not yet its drill-end): the restores they log beside (`to`) are the
  // drill's, into scratch targets, not restores of the databases (logs written before a drill's restore said `drill`;
  // a restore in place is never a drill's, should a killed drill's pid come again).
  const drilling = new Set<number>();
  for (let d = LAST_RESTORE_DAYS; d >= 0; d--) {
    const text = readDailyLog(backupDir, new Date(now.getTime() - d * 86_400_000));
    for (const raw of text.split('\n')) {
      if (!raw.includes('"restore-') && !raw.includes('"drill-')) continue;
      let e: Line;
      try {
        e = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      const pid = typeof e.pid === 'number' ? e.pid : NaN;
      const setId = str(e.setId);
      if (Number.isNaN(pid) || !setId || !str(e.time)) continue;
      if (e.event === 'drill-start' || e.event === 'drill-end') {
        if (e.event === 'drill-start') drilling.add(pid);
        else drilling.delete(pid);
        continue;
      }
      if (e.event === 'restore-start' && (e.drill === true || (drilling.has(pid) && str(e.to)))) {
        open.delete(pid); // what it logs until its restore-end is the drill's too
        continue;
      }
      if (e.event === 'restore-start') {
        const dbs = Array.isArray(e.databases) ? e.databases.filter((x): x is string => typeof x === 'string') : [];
        const run: Run = {
          pid,
          setId,
          startedAt: str(e.time)!,
          databases: dbs,
          to: str(e.to) ?? null,
          perDb: new Map(),
          end: null,
        };
        runs.push(run);
        open.set(pid, run);
        continue;
      }
      const run = open.get(pid);
      if (!run || run.setId !== setId) continue;
      if (e.event === 'restore-database' && str(e.db)) run.perDb.set(str(e.db)!, e);
      else if (e.event === 'restore-end') {
        run.end = e;
        open.delete(pid);
      }
    }
  }
  const out: LastRestore[] = [];
  for (const database of databases) {
    const run = runs.findLast((r) => r.databases.includes(database));
    if (run) out.push(outcomeOf(run, database, alive));
  }
  return out;
}

function outcomeOf(run: Run, database: string, alive: (pid: number) => boolean): LastRestore {
  const base = { database, setId: run.setId, startedAt: run.startedAt, to: run.to, pid: run.pid };
  const mine = run.perDb.get(database);
  const end = run.end;
  const signal = str(end?.signal);
  let r: Omit<LastRestore, 'said'>;
  if (mine?.outcome === 'ok') {
    const stoppedAt = end?.outcome === 'interrupted' ? str(end.time) : undefined;
    r = { ...base, outcome: 'completed', at: str(mine.time)!, reached: true, ...(stoppedAt ? { stoppedAt } : {}) };
  } else if (!end)
    r = {
      ...base,
      outcome: alive(run.pid) ? 'running' : 'killed',
      at: str(mine?.time) ?? run.startedAt,
      reached: !!mine,
    };
  else if (end.outcome === 'ok') r = { ...base, outcome: 'completed', at: str(end.time)!, reached: true };
  else if (end.outcome === 'refused')
    r = { ...base, outcome: 'refused', at: str(end.time)!, reached: false, error: str(end.error) ?? str(end.reason) };
  else {
    const outcome = mine?.outcome === 'failed' || (!mine && end.outcome === 'failed') ? 'failed' : 'interrupted';
    const error = outcome === 'failed' ? (str(mine?.error) ?? str(end.error)) : undefined;
    r = {
      ...base,
      outcome,
      at: str(mine?.time) ?? str(end.time)!,
      reached: !!mine,
      ...(signal ? { signal } : {}),
      ...(error ? { error } : {}),
    };
  }
  return { ...r, said: saidOf(r) };
}

function saidOf(r: Omit<LastRestore, 'said'>): Phrase {
  const p = {
    set: r.setId,
    at: formatLocal(r.at),
    started: formatLocal(r.startedAt),
    to: r.to ?? '',
    signal: r.signal ?? '',
    error: r.error ?? '',
    pid: r.pid,
    db: r.database,
  };
  switch (r.outcome) {
    case 'completed':
      return r.stoppedAt
        ? phrase('status.restoreCompletedThenInterrupted', { ...p, stopped: formatLocal(r.stoppedAt) })
        : phrase('status.restoreCompleted', p);
    case 'running':
      return phrase('status.restoreRunning', p);
    case 'killed':
      return phrase('status.restoreKilled', p);
    case 'refused':
      return phrase('status.restoreRefused', p);
    case 'failed':
      return phrase(r.reached ? 'status.restoreFailed' : 'status.restoreFailedBefore', p);
    case 'interrupted':
      return phrase(r.reached ? 'status.restoreInterrupted' : 'status.restoreInterruptedBefore', p);
  }
}

/** How long the menu's header warns of a restore that did not end (status says it for LAST_RESTORE_DAYS). */
export const UNFINISHED_RESTORE_DAYS = 2;

/**
 * A restore run that is the last restore of at least one database and did not end for it: stopped (`interrupted`:
 * Ctrl-C, the terminal closed; the target left as it was) or `killed` (no end logged, its process gone: status
 * lists what it left). What the menu's header warns of, from the same lines as status's "Last restores".
 */
export interface UnfinishedRestore {
  setId: string;
  pid: number;
  outcome: 'interrupted' | 'killed';
  /** When it stopped (interrupted), or started (killed: nothing later was logged). */
  at: string;
  /** The databases this run restored before it stopped, whose last restore it still is. */
  restored: string[];
}

/**
 * The runs of `last` (status's last restore of each database) that were interrupted (also after restoring the
 * databases, on the files) or killed within
 * UNFINISHED_RESTORE_DAYS of `now`, newest first: a database restored again since is no longer warned of, and a
 * killed run is warned of even when an earlier one was interrupted (each database says its latest state).
 */
export function unfinishedRestores(last: readonly LastRestore[], now: Date): UnfinishedRestore[] {
  const since = now.getTime() - UNFINISHED_RESTORE_DAYS * 86_400_000;
  const runOf = (r: LastRestore) => `${r.pid}@${r.startedAt}`;
  const runs = new Map<string, UnfinishedRestore>();
  for (const r of last) {
    const outcome =
      r.outcome === 'killed' ? 'killed' : r.outcome === 'interrupted' || r.stoppedAt ? 'interrupted' : null;
    if (!outcome) continue;
    const at = outcome === 'killed' ? r.startedAt : (r.stoppedAt ?? r.at);
    if (!(Date.parse(at) >= since)) continue;
    const run = runs.get(runOf(r));
    if (!run) runs.set(runOf(r), { setId: r.setId, pid: r.pid, outcome, at, restored: [] });
    else if (at > run.at) run.at = at;
  }
  for (const r of last) if (r.outcome === 'completed') runs.get(runOf(r))?.restored.push(r.database);
  return [...runs.values()].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import type { PageRowCounter } from './page-rows.js';

const require = createRequire(import.meta.url);

/**
 * The first `n` problems integrity_check reported, on one line: a row may hold many problems on lines of their own,
 * after a "*** in database main ***" header (a damaged page gave a warning of 50 lines in the menu). Says how many
 * more there are.
 */
export function integritySummary(rows: readonly string[], n: number): string {
  const lines = rows
    .flatMap((r) => r.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l && !/^\*\*\* in database \S+ \*\*\*$/.test(l));
  const more = lines.length - n;
  return lines.slice(0, n).join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** Result of checking a SQLite file: `integrity_check` outcome and exact rows per table. */
export interface SqliteInspection {
  integrity: string[];
  /** Null only when the file fails integrity_check and its rows could not even be counted. */
  tables: Record<string, number> | null;
  pageCount: number;
  pageSize: number;
  sqliteVersion: string;
  /** How long each check took, for the log (they run at once). */
  ms: { integrity: number; counts: number };
}

interface Counts {
  tables: Record<string, number>;
  pageCount: number;
  pageSize: number;
  sqliteVersion: string;
}

export const TABLES_SQL =
  "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";

// A worker opens its own read-only connection and runs its jobs on it one after the other, posting each job's
// outcome as it ends. better-sqlite3's default page cache is 16 MiB; the checks read each page about once: with
// 2 MiB a 393 MiB create peaked ~18 MiB lower at the same speed.
// SQLite's errors are sent as { failed } (an error thrown out of a worker reaches the main thread as a plain
// object without its message: better-sqlite3's SqliteError is not cloned as an Error).
const JOB = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.mod);
const failure = (err) => ({ message: String((err && err.message) || err), code: err && err.code });
const run = {
  integrity: (db) => db.prepare('PRAGMA integrity_check').pluck().all(),
  counts: (db) => {
    const q = (n) => '"' + n.replace(/"/g, '""') + '"';
    const names = db.prepare(${JSON.stringify(TABLES_SQL)}).pluck().all();
    const tables = {};
    for (const n of names) tables[n] = db.prepare('SELECT count(*) FROM ' + q(n)).pluck().get();
    const pageCount = db.pragma('page_count', { simple: true });
    const pageSize = db.pragma('page_size', { simple: true });
    const sqliteVersion = db.prepare('SELECT sqlite_version()').pluck().get();
    return { tables, pageCount, pageSize, sqliteVersion };
  },
};
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma('cache_size = -2000');
} catch (err) {
  for (const job of workerData.jobs) parentPort.postMessage({ job, failed: failure(err) });
}
try {
  if (db) for (const job of workerData.jobs) {
    const started = Date.now();
    try {
      const done = run[job](db);
      parentPort.postMessage({ job, done, ms: Date.now() - started });
    } catch (err) {
      parentPort.postMessage({ job, failed: failure(err), ms: Date.now() - started });
    }
  }
} finally { if (db) db.close(); }
`;

type Job = 'integrity' | 'counts';
type JobMessage = { job: Job; ms?: number } & ({ done: unknown } | { failed: { message: string; code?: string } });

/**
 * Runs read-only jobs on `file` in one worker thread, one after the other; each job's outcome and how long it
 * took (ms, 0 until it ends). There is deliberately no way to stop them early: `worker.terminate()` while
 * better-sqlite3 is inside SQLite aborts the whole process when SQLite then reports an error (the addon builds
 * the error object with `ToLocalChecked` while V8 is terminating: "FATAL ERROR: v8::ToLocalChecked Empty
 * MaybeLocal"), which a damaged file makes likely. The jobs end on their own.
 */
function runJobs(file: string, jobs: Job[]): Map<Job, { result: Promise<unknown>; ms: () => number }> {
  const worker = new Worker(JOB, {
    eval: true,
    workerData: { mod: require.resolve('better-sqlite3'), file, jobs },
    // Small heaps: the jobs hold a few rows at a time (each isolate otherwise reserves tens of MiB).
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
  });
  const out = new Map<Job, { result: Promise<unknown>; ms: () => number }>();
  const pending = new Map<Job, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const took = new Map<Job, number>();
  for (const job of jobs) {
    const result = new Promise<unknown>((resolve, reject) => pending.set(job, { resolve, reject }));
    result.catch(() => undefined);
    out.set(job, { result, ms: () => took.get(job) ?? 0 });
  }
  worker.on('message', (m: JobMessage) => {
    const p = pending.get(m.job);
    if (!p) return;
    pending.delete(m.job);
    took.set(m.job, m.ms ?? 0);
    if ('done' in m) p.resolve(m.done);
    else p.reject(Object.assign(new Error(m.failed.message), m.failed.code ? { code: m.failed.code } : {}));
  });
  const failAll = (err: unknown) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.once('error', failAll);
  worker.once('exit', (code) =>
    failAll(new Error(`SQLite check worker (${jobs.join(', ')}) exited with code ${code}`)),
  );
  return out;
}

/**
 * Runs `PRAGMA integrity_check` and counts rows on a SQLite file off the main thread, overlapping the caller's
 * work (compressing the same snapshot, fsyncing a restored copy). `alongside` says what that work is: `io` (a copy
 * being fsynced) leaves the cores free, and the two checks run at once, each on a worker thread and connection of
 * its own; `cpu` (compression, on every core) runs them one after the other on one worker thread and connection.
 * Measured on creates of a 788 MiB database on 2 cores (before a full's rows were read from its pages, see
 * inspectWithPageRows), five alternating runs each: 3.36–3.87 s (median 3.49) one after the other against
 * 3.74–5.05 (3.80) at once, peak RSS 111 MiB against 121: three threads compressing and two checking slowed each
 * other more than they gained, and a second worker costs ~150 ms of CPU. `counts: false` runs integrity_check alone.
 * A file of INLINE_BYTES or less is checked on this thread instead, one check after the other (`inline` chooses
 * either way, for tests).
 * A failed integrity_check is the outcome even when counting failed on the same damage; a counting error
 * on a sound file is thrown.
 * An integrity_check that SQLite stops with a corruption error (a damaged page it cannot even walk) is a
 * failed one: its one line is SQLite's message and code. Other errors (not a database: SQLITE_NOTADB) are
 * thrown with SQLite's code.
 */
export async function inspectSqliteFile(
  file: string,
  opts: { integrity?: boolean; counts?: boolean; inline?: boolean; alongside?: 'io' | 'cpu' } = {},
): Promise<SqliteInspection> {
  if (opts.inline ?? statSync(file).size <= INLINE_BYTES) return inspectInline(file, opts.integrity !== false);
  if (opts.counts === false) {
    const integrity = runJobs(file, ['integrity']).get('integrity')!;
    const problems = await integrity.result.then(
      (v) => v as string[],
      (err: unknown) => [corruption(err)],
    );
    const ms = { integrity: integrity.ms(), counts: 0 };
    return { integrity: problems, tables: null, pageCount: 0, pageSize: 0, sqliteVersion: '', ms };
  }
  const jobs: Job[] = opts.integrity === false ? ['counts'] : ['integrity', 'counts'];
  const started =
    opts.alongside === 'cpu' ? runJobs(file, jobs) : new Map(jobs.map((j) => [j, runJobs(file, [j]).get(j)!]));
  const counts = started.get('counts')!;
  if (opts.integrity === false) {
    const counted = (await counts.result) as Counts;
    return { integrity: ['ok'], ...counted, ms: { integrity: 0, counts: counts.ms() } };
  }
  const integrity = started.get('integrity')!;
  // Both jobs are awaited whatever happens to the other (see runJobs): none outlives this call.
  const [checked, counted] = await Promise.allSettled([integrity.result, counts.result]);
  const problems = checked.status === 'fulfilled' ? (checked.value as string[]) : [corruption(checked.reason)];
  const damaged = problems.length !== 1 || problems[0] !== 'ok';
  const ms = { integrity: integrity.ms(), counts: counts.ms() };
  if (counted.status === 'rejected') {
    if (!damaged) throw counted.reason;
    return { integrity: problems, tables: null, pageCount: 0, pageSize: 0, sqliteVersion: '', ms };
  }
  return { integrity: problems, ...(counted.value as Counts), ms };
}

/**
 * Files up to this size are checked on the calling thread: a worker thread costs about 70 ms to start and
 * 150 ms of CPU (its isolate and better-sqlite3 loaded again), more than both checks of a 16 MiB file
 * (about 60 ms), and most databases of line-of-business applications are that small.
 */
export const INLINE_BYTES = 16 * 1024 * 1024;

/** inspectSqliteFile's checks, one after the other on this thread, with the same outcomes. */
function inspectInline(file: string, integrity: boolean): SqliteInspection {
  const started = Date.now();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    let problems = ['ok'];
    if (integrity)
      try {
        problems = db.prepare('PRAGMA integrity_check').pluck().all() as string[];
      } catch (err) {
        problems = [corruption(err)];
      }
    const checked = Date.now();
    const damaged = problems.length !== 1 || problems[0] !== 'ok';
    const ms = () => ({ integrity: checked - started, counts: Date.now() - checked });
    let counted: Counts;
    try {
      counted = countRows(db);
    } catch (err) {
      if (!damaged) throw err;
      return { integrity: problems, tables: null, pageCount: 0, pageSize: 0, sqliteVersion: '', ms: ms() };
    }
    return { integrity: problems, ...counted, ms: ms() };
  } finally {
    db.close();
  }
}

/** The worker's `counts` job on an open connection. */
function countRows(db: Database.Database): Counts {
  const q = (n: string) => '"' + n.replace(/"/g, '""') + '"';
  const names = db.prepare(TABLES_SQL).pluck().all() as string[];
  const tables: Record<string, number> = {};
  for (const n of names)
    tables[n] = db
      .prepare(`SELECT count(*) FROM ${q(n)}`)
      .pluck()
      .get() as number;
  return {
    tables,
    pageCount: db.pragma('page_count', { simple: true }) as number,
    pageSize: db.pragma('page_size', { simple: true }) as number,
    sqliteVersion: db.prepare('SELECT sqlite_version()').pluck().get() as string,
  };
}

/** The outcome line of an integrity_check that SQLite stopped on a damaged page; any other error is thrown. */
function corruption(err: unknown): string {
  const { message, code } = err as { message?: unknown; code?: unknown };
  if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))
    return `integrity_check stopped: ${typeof message === 'string' && message ? message : 'damaged'} (${code})`;
  throw err;
}

/**
 * inspectSqliteFile of a snapshot the compressor reads while a PageRowCounter notes its pages (page-rows.ts):
 * integrity_check on a worker thread, the rows from the pages once `passed` says the whole file went by, counted
 * with SQL instead where the pages cannot say (a virtual table, a tree that does not add up, a file not read to
 * its end). A file of INLINE_BYTES or less is inspected as before (both checks on this thread).
 */
export async function inspectWithPageRows(
  file: string,
  counter: PageRowCounter,
  passed: Promise<boolean>,
): Promise<SqliteInspection & { rowsFrom: 'pages' | 'sql' }> {
  if (statSync(file).size <= INLINE_BYTES) return { ...(await inspectSqliteFile(file)), rowsFrom: 'sql' };
  const checking = inspectSqliteFile(file, { alongside: 'cpu', counts: false });
  checking.catch(() => undefined);
  const started = Date.now();
  const schema = (await passed) ? tableRoots(file) : undefined;
  const tables = schema ? counter.rows(schema.roots) : undefined;
  const checked = await checking;
  if (!tables || !schema) {
    const damaged = checked.integrity.length !== 1 || checked.integrity[0] !== 'ok';
    const counted = await inspectSqliteFile(file, { integrity: false }).catch((err: unknown) => {
      if (damaged) return undefined;
      throw err;
    });
    if (!counted) return { ...checked, rowsFrom: 'sql' };
    return {
      ...counted,
      integrity: checked.integrity,
      ms: { ...checked.ms, counts: counted.ms.counts },
      rowsFrom: 'sql',
    };
  }
  const { pageSize, pageCount } = counter.pages;
  const ms = { integrity: checked.ms.integrity, counts: Date.now() - started };
  return { ...checked, tables, pageSize, pageCount, sqliteVersion: schema.sqliteVersion, ms, rowsFrom: 'pages' };
}

/** The tables inspectSqliteFile counts (TABLES_SQL) and their root pages; undefined when one has none (virtual). */
function tableRoots(file: string): { roots: [string, number][]; sqliteVersion: string } | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const names = db.prepare(TABLES_SQL).pluck().all() as string[];
    const root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
    const roots = names.map((n) => [n, Number(root.get(n) ?? 0)] as [string, number]);
    if (roots.some(([, r]) => !(r > 0))) return undefined;
    return { roots, sqliteVersion: db.prepare('SELECT sqlite_version()').pluck().get() as string };
  } catch {
    return undefined; // SQL counts, which say what is wrong
  } finally {
    db?.close();
  }
}

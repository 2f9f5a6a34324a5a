import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';

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

const TABLES_SQL = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

// Each job opens its own read-only connection. better-sqlite3's default page cache is 16 MiB; the checks read
// each page about once: with 2 MiB a 393 MiB create peaked ~18 MiB lower at the same speed.
// SQLite's errors are sent as { failed } (an error thrown out of a worker reaches the main thread as a plain
// object without its message: better-sqlite3's SqliteError is not cloned as an Error).
const JOB = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.mod);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma('cache_size = -2000');
  if (workerData.job === 'integrity') {
    parentPort.postMessage({ done: db.prepare('PRAGMA integrity_check').pluck().all() });
  } else {
    const q = (n) => '"' + n.replace(/"/g, '""') + '"';
    const names = db.prepare(${JSON.stringify(TABLES_SQL)}).pluck().all();
    const tables = {};
    for (const n of names) tables[n] = db.prepare('SELECT count(*) FROM ' + q(n)).pluck().get();
    const pageCount = db.pragma('page_count', { simple: true });
    const pageSize = db.pragma('page_size', { simple: true });
    const sqliteVersion = db.prepare('SELECT sqlite_version()').pluck().get();
    parentPort.postMessage({ done: { tables, pageCount, pageSize, sqliteVersion } });
  }
} catch (err) {
  parentPort.postMessage({ failed: { message: String((err && err.message) || err), code: err && err.code } });
} finally { if (db) db.close(); }
`;

/**
 * Runs one read-only job on `file` in a worker thread. There is deliberately no way to stop it early:
 * `worker.terminate()` while better-sqlite3 is inside SQLite aborts the whole process when SQLite then
 * reports an error (the addon builds the error object with `ToLocalChecked` while V8 is terminating: "FATAL
 * ERROR: v8::ToLocalChecked Empty MaybeLocal"), which a damaged file makes likely. A job ends on its own.
 */
function runJob<T>(file: string, job: 'integrity' | 'counts'): { result: Promise<T>; ms: () => number } {
  const started = Date.now();
  let ended = 0;
  const worker = new Worker(JOB, {
    eval: true,
    workerData: { mod: require.resolve('better-sqlite3'), file, job },
    // Small heaps: the jobs hold a few rows at a time (each isolate otherwise reserves tens of MiB).
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
  });
  const result = new Promise<T>((resolve, reject) => {
    let settled = false;
    worker.once('message', (m: { done: T } | { failed: { message: string; code?: string } }) => {
      settled = true;
      if ('done' in m) resolve(m.done);
      else reject(Object.assign(new Error(m.failed.message), m.failed.code ? { code: m.failed.code } : {}));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`SQLite ${job} worker exited with code ${code}`));
    });
  });
  result.then(
    () => void (ended = Date.now()),
    () => undefined,
  );
  return { result, ms: () => (ended || Date.now()) - started };
}

/**
 * Runs `PRAGMA integrity_check` and counts rows on a SQLite file, each in its own worker thread with
 * its own read-only connection: the two run at once, and both overlap the caller's work on the main
 * thread (compressing the same snapshot, fsyncing a restored copy). A file of INLINE_BYTES or less is
 * checked on this thread instead, one check after the other (`inline` chooses either way, for tests).
 * A failed integrity_check is the outcome even when counting failed on the same damage; a counting error
 * on a sound file is thrown.
 * An integrity_check that SQLite stops with a corruption error (a damaged page it cannot even walk) is a
 * failed one: its one line is SQLite's message and code. Other errors (not a database: SQLITE_NOTADB) are
 * thrown with SQLite's code.
 */
export async function inspectSqliteFile(
  file: string,
  opts: { integrity?: boolean; inline?: boolean } = {},
): Promise<SqliteInspection> {
  if (opts.inline ?? statSync(file).size <= INLINE_BYTES) return inspectInline(file, opts.integrity !== false);
  const counts = runJob<Counts>(file, 'counts');
  if (opts.integrity === false) {
    const counted = await counts.result;
    return { integrity: ['ok'], ...counted, ms: { integrity: 0, counts: counts.ms() } };
  }
  const integrity = runJob<string[]>(file, 'integrity');
  // Both jobs are awaited whatever happens to the other (see runJob): none outlives this call.
  const [checked, counted] = await Promise.allSettled([integrity.result, counts.result]);
  const problems = checked.status === 'fulfilled' ? checked.value : [corruption(checked.reason)];
  const damaged = problems.length !== 1 || problems[0] !== 'ok';
  const ms = { integrity: integrity.ms(), counts: counts.ms() };
  if (counted.status === 'rejected') {
    if (!damaged) throw counted.reason;
    return { integrity: problems, tables: null, pageCount: 0, pageSize: 0, sqliteVersion: '', ms };
  }
  return { integrity: problems, ...counted.value, ms };
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

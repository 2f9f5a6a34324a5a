import Database from 'better-sqlite3';
import { promises as fsp } from 'node:fs';
import { integritySummary } from './inspect.js';

/**
 * A consistent copy of a SQLite database found among the config and application files of a backup (not a
 * `databases` entry): taken with SQLite's online backup API from a read-only connection, in one step (one read
 * transaction, so writers neither tear it nor restart it), with every commit still in the -wal. The engine loads
 * this module only when such a file is found (list, show and verify load no driver). The snapshot is checked with
 * `PRAGMA quick_check`, not integrity_check: on a 123 MB database with two indexes quick_check took 0.28–0.45 s and
 * integrity_check 2.3–3.0 s (2026-12-04, this project's 2-core machine), for every such file of every backup; what
 * integrity_check adds (index entries matching their rows) a `databases` entry gets, with its own checks.
 */

/** How long the snapshot waits for a writer's lock before it gives up (the caller then copies the bytes). */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Writes the snapshot of `file` to `snapshot` (made 0600; it must not exist) and returns what `PRAGMA quick_check`
 * says of it: null when ok, else its first problems on one line (the snapshot is still what the operator has, and is
 * stored). Throws SQLite's error when `file` cannot be read as a database (damaged, locked past the timeout, a hot
 * journal a read-only reader cannot roll back); the caller removes `snapshot` and whatever SQLite left beside it.
 */
export async function snapshotSqliteFile(file: string, snapshot: string): Promise<string | null> {
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  try {
    conn.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    conn.prepare('SELECT count(*) FROM sqlite_schema').get();
    // SQLite would create the copy 0644 (less the umask): an empty 0600 file made first keeps it private.
    await (await fsp.open(snapshot, 'wx', 0o600)).close();
    await conn.backup(snapshot, { progress: ({ remainingPages }) => Math.max(remainingPages, 100) });
  } finally {
    conn.close();
  }
  return quickCheck(snapshot);
}

/** `PRAGMA quick_check` of `file`: null when ok, else its first problems (or SQLite's error when it cannot run). */
function quickCheck(file: string): string | null {
  let check: Database.Database | undefined;
  try {
    check = new Database(file, { readonly: true, fileMustExist: true });
    const rows = check.prepare('PRAGMA quick_check').pluck().all() as string[];
    return rows.length === 1 && rows[0] === 'ok' ? null : integritySummary(rows, 3);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    check?.close();
  }
}

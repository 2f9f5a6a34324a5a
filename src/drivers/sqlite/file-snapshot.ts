import Database from 'better-sqlite3';
import { promises as fsp } from 'node:fs';

/**
 * A consistent copy of a SQLite database found among the config and application files of a backup (not a
 * `databases` entry): taken with SQLite's online backup API from a read-only connection, in one step (one read
 * transaction, so writers neither tear it nor restart it), with every commit still in the -wal. The engine loads
 * this module only when such a file is found (list, show and verify load no driver).
 */

/** How long the snapshot waits for a writer's lock before it gives up (the caller then copies the bytes). */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Writes the snapshot of `file` to `snapshot` (made 0600; it must not exist). Throws SQLite's error when `file`
 * cannot be read as a database (damaged, locked past the timeout, a hot journal a read-only reader cannot roll
 * back); the caller removes `snapshot` and whatever SQLite left beside it.
 */
export async function snapshotSqliteFile(file: string, snapshot: string): Promise<void> {
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
}

import Database from 'better-sqlite3';
import {
  closeSync,
  existsSync,
  openSync,
  promises as fsp,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RespaldoError } from '../../core/errors.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';
import { ranBy } from '../../core/who.js';
import type { DatabaseConfig } from '../../core/types.js';
import type { RestoreTarget } from '../driver.js';
import { FILE_ASIDE_MARK, FILE_STAGING_MARK, fileNamedBy } from '../shared/names.js';

/** The SQLite file: its paths (staging, set aside), opening it, its errors, the files SQLite leaves beside it. */

/** Suffix of the file a restore is built in, beside its target. */
export const STAGING_MARK = FILE_STAGING_MARK;
export const ASIDE_MARK = FILE_ASIDE_MARK;

export function dbPath(db: DatabaseConfig): string {
  if (!db.path) throw new Error(`sqlite database ${db.name} has no path (config validation should have caught this)`);
  return db.path;
}

/**
 * The file SQLite opens for the database: its path with symlinks followed. An in-place restore replaces that file
 * (the link stays a link) and sets aside the -wal and -journal beside it, where SQLite keeps them.
 */
export function livePath(db: DatabaseConfig): string {
  return fileNamedBy(dbPath(db));
}

export function targetPath(db: DatabaseConfig, target: RestoreTarget): string {
  return target.kind === 'in-place' ? livePath(db) : target.name;
}

export function stagingPath(target: string, setId: string): string {
  return join(dirname(target), `.${basename(target)}${STAGING_MARK}${setId}.tmp`);
}

/** Processes (other than this one) holding the file or its -wal/-shm open, read from /proc. */
export function processesUsing(file: string): string[] {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return [];
  }
  const wanted = new Set([real, `${real}-wal`, `${real}-shm`, `${real}-journal`]);
  const users: string[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) {
          let cmd = '';
          try {
            cmd = readlinkSync(`/proc/${pid}/exe`);
          } catch {
            /* process gone */
          }
          users.push(`pid ${pid}${cmd ? ` (${basename(cmd)})` : ''}`);
          break;
        }
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return users;
}

export function openSource(db: DatabaseConfig): Database.Database {
  const file = dbPath(db);
  if (!existsSync(file)) {
    throw saidError(phrase('sqlite.notFound', { db: db.name, file }), phrase('sqlite.notFoundHint', { db: db.name }));
  }
  try {
    const conn = new Database(file, { readonly: true, fileMustExist: true });
    conn.pragma('busy_timeout = 10000');
    conn.prepare('SELECT count(*) FROM sqlite_schema').get();
    return conn;
  } catch (err) {
    throw sqliteError(db, file, err);
  }
}

/** SQLite failures as operator errors; anything else (a bug) is returned unchanged, to show its stack. */
export function sqliteError(db: DatabaseConfig, file: string, err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code === 'SQLITE_NOTADB')
    return saidError(phrase('sqlite.notADb', { db: db.name, file }), phrase('sqlite.notADbHint'));
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    const by = processesUsing(file).join(', ');
    return walMode(file)
      ? saidError(phrase('sqlite.lockedWal', { db: db.name, by }), phrase('sqlite.lockedWalHint'))
      : saidError(phrase('sqlite.locked', { db: db.name, by }), phrase('sqlite.lockedHint'));
  }
  // SQLite found a hot journal (a writer died mid-transaction) and, read-only, cannot roll it back.
  if (code === 'SQLITE_READONLY_ROLLBACK')
    return saidError(
      phrase('sqlite.hotJournal', { db: db.name, file, journal: `${basename(file)}-journal` }),
      phrase('sqlite.hotJournalHint', { file }),
    );
  // Reading a WAL-mode file needs its -shm (and -wal) beside it, made or written by the reader.
  if (code.startsWith('SQLITE_READONLY_') || (code === 'SQLITE_CANTOPEN' && walMode(file)))
    return saidError(
      phrase('sqlite.walSideFiles', { db: db.name, file, user: ranBy().user, dir: dirname(file), code }),
      phrase('sqlite.walSideFilesHint'),
    );
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY')
    return saidError(
      phrase('sqlite.cantOpen', { db: db.name, file, error: e.message ?? code }),
      phrase('sqlite.cantOpenHint'),
    );
  if (code === 'SQLITE_CORRUPT')
    return saidError(
      phrase('sqlite.corrupt', { db: db.name, file, error: e.message ?? code }),
      phrase('sqlite.corruptHint', { db: db.name }),
    );
  // Full disk where the copy is written (not a problem of the database): the engine says which disk.
  if (code === 'SQLITE_FULL') return err;
  if (code.startsWith('SQLITE_'))
    return saidError(
      phrase('sqlite.failed', { db: db.name, error: e.message ?? code, code }),
      phrase('sqlite.failedHint', { file }),
    );
  return err;
}

/** An operator error said by phrases (the CLI prints their English; the menu says them in its language). */
export const saidError = (message: Phrase, hint: Phrase): RespaldoError =>
  new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);

/** Whether the file's header says WAL mode (its read and write versions 2); false when it cannot be read. */
function walMode(file: string): boolean {
  const head = Buffer.alloc(20);
  try {
    const fd = openSync(file, 'r');
    try {
      return readSync(fd, head, 0, 20, 0) === 20 && head[18] === 2 && head[19] === 2;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** A restored copy SQLite cannot read (a damaged stored file) as an operator error; other errors stay bugs. */
export function unreadableCopy(name: string, err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (!code.startsWith('SQLITE_') || code === 'SQLITE_FULL') return err;
  const why = typeof e.message === 'string' && e.message ? `${e.message} (${code})` : code;
  return saidError(phrase('sqlite.copyUnreadable', { db: name, why }), phrase('sqlite.copyUnreadableHint'));
}

/** Schema-only SQL of a database: tables first, then indexes, views and triggers. */
export function schemaSql(conn: Database.Database): string[] {
  const rows = conn
    .prepare(
      `SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid`,
    )
    .pluck()
    .all() as string[];
  return ['PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n', ...rows.map((s) => `${s};\n`), 'COMMIT;\n'];
}

export async function removeQuietly(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

/** Removes the -wal/-shm/-journal SQLite may leave beside a closed file. */
export async function removeSideFiles(file: string): Promise<void> {
  for (const suffix of ['-wal', '-shm', '-journal']) await removeQuietly(`${file}${suffix}`);
}

import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync, lstatSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

const q = (n: string) => `"${n.replace(/"/g, '""')}"`;

/** User tables of a SQLite file, sorted. */
export function tableNames(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

/**
 * Per table: row count and a SHA-256 of every row (all columns, ordered by rowid), plus the
 * schema SQL. Two files with equal digests hold the same data.
 */
export function dbDigest(file: string): { schema: string[]; tables: Record<string, { rows: number; sha256: string }> } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const schema = db
      .prepare(
        "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
      )
      .pluck()
      .all() as string[];
    const tables: Record<string, { rows: number; sha256: string }> = {};
    const names = db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    for (const t of names) {
      const h = createHash('sha256');
      let rows = 0;
      const withoutRowid = /WITHOUT\s+ROWID/i.test(
        (db.prepare('SELECT sql FROM sqlite_schema WHERE name = ?').pluck().get(t) as string) ?? '',
      );
      const order = withoutRowid ? '1' : 'rowid';
      for (const row of db
        .prepare(`SELECT * FROM ${q(t)} ORDER BY ${order}`)
        .raw()
        .iterate() as Iterable<unknown[]>) {
        rows++;
        h.update(
          JSON.stringify(row, (_k, v: unknown) =>
            typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v,
          ),
        );
        h.update('\n');
      }
      tables[t] = { rows, sha256: h.digest('hex') };
    }
    return { schema, tables };
  } finally {
    db.close();
  }
}

/** Exact row count per table. */
export function rowCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, number> = {};
    for (const t of db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .pluck()
      .all() as string[]) {
      out[t] = db
        .prepare(`SELECT count(*) FROM ${q(t)}`)
        .pluck()
        .get() as number;
    }
    return out;
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` rows (['ok'] when sound). */
export function integrityCheck(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('PRAGMA integrity_check').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** Runs SQL on a database file (read-write) and closes it. */
export function execSql(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/**
 * Creates a SQLite database of about `mb` MiB of random blobs (table `blobs`), fast: the blobs
 * come from SQLite's randomblob(), so no data crosses into JS, and they are written once, without
 * a journal or fsync (a fixture, not data to keep through a crash); the file is left in WAL mode.
 */
export function makeBigDb(file: string, mb: number): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
    const rows = Math.ceil((mb * 1024 * 1024) / 65536);
    db.prepare(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) INSERT INTO blobs (data) SELECT randomblob(65536) FROM n',
    ).run(rows);
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

/** Every path below `dir` (relative), with kind, size, mode and mtime: to compare a tree before/after. */
export function treeSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`;
        walk(p);
      } else out[rel] = `file ${st.size} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`;
    }
  };
  if (statSync(dir).isDirectory()) walk(dir);
  return out;
}

/**
 * A writer killed in the middle of a transaction in rollback-journal mode: with a small cache its changes (`sql`)
 * spill into the file before any commit, and the `-journal` beside the file `path` names is left hot.
 */
export function leaveHotJournal(path: string, sql: string): void {
  const dies = `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
    db.pragma('journal_mode = DELETE'); db.pragma('cache_size = 5'); db.exec('BEGIN'); db.exec(process.argv[2]);
    process.kill(process.pid, 'SIGKILL');`;
  const cwd = join(__dirname, '..', '..'); // where better-sqlite3 is found
  const r = spawnSync(process.execPath, ['-e', dies, path, sql], { cwd, encoding: 'utf8' });
  if (r.signal !== 'SIGKILL') throw new Error(`the writer was not killed mid-transaction: ${r.status} ${r.stderr}`);
}

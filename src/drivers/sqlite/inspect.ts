import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Result of checking a SQLite file: `integrity_check` outcome and exact rows per table. */
export interface SqliteInspection {
  integrity: string[];
  tables: Record<string, number>;
  pageCount: number;
  pageSize: number;
  sqliteVersion: string;
}

/**
 * Runs `PRAGMA integrity_check` and counts rows on a SQLite file in a worker thread, so the
 * check of a snapshot overlaps its compression on the main thread.
 */
export function inspectSqliteFile(file: string, opts: { integrity?: boolean } = {}): Promise<SqliteInspection> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.mod);
    const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
    // better-sqlite3's default page cache is 16 MiB; the checks read each page about once: with 2 MiB a
    // 393 MiB create peaked ~18 MiB lower (4 runs each, 162–177 against 178–199 MiB) at the same speed.
    db.pragma('cache_size = -2000');
    try {
      const q = (n) => '"' + n.replace(/"/g, '""') + '"';
      const integrity = workerData.integrity
        ? db.prepare('PRAGMA integrity_check').all().map((r) => Object.values(r)[0])
        : ['ok'];
      const names = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      const tables = {};
      for (const n of names) tables[n] = db.prepare('SELECT count(*) FROM ' + q(n)).pluck().get();
      const pageCount = db.pragma('page_count', { simple: true });
      const pageSize = db.pragma('page_size', { simple: true });
      const sqliteVersion = db.prepare('SELECT sqlite_version()').pluck().get();
      parentPort.postMessage({ integrity, tables, pageCount, pageSize, sqliteVersion });
    } finally { db.close(); }
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, {
      eval: true,
      workerData: { mod: require.resolve('better-sqlite3'), file, integrity: opts.integrity !== false },
    });
    let settled = false;
    worker.once('message', (m: SqliteInspection) => {
      settled = true;
      resolve(m);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`SQLite inspection worker exited with code ${code}`));
    });
  });
}

import Database from 'better-sqlite3';
import { createReadStream, existsSync, promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isDiskFull, isRespaldoError, RespaldoError } from '../../core/errors.js';
import type { BlockReader, DatabaseConfig } from '../../core/types.js';
import { phrase, said, sayingWithin, type Phrase } from '../../core/phrases.js';
import { fellBackOf, type BackupSession, type DriverContext, type DumpPart } from '../driver.js';
import { inspectSqliteFile, inspectWithPageRows, integritySummary } from './inspect.js';
import { PageRowCounter } from './page-rows.js';
import { fileBlockReader } from '../../core/block-reader.js';
import { deltaOf, encodePageMap, pageMapOfImage, pageSizeOf, readPageMap, type PageMap } from './pages.js';
import type { BackupRequest, DumpFacts } from '../driver.js';
import {
  dbPath,
  livePath,
  openSource,
  saidError,
  sqliteError,
  schemaSql,
  removeQuietly,
  removeSideFiles,
} from './connection.js';
import { copySnapshot } from './snapshot.js';

/**
 * SQLite backup: a snapshot in the scratch folder (the file copied under a read transaction, snapshot.ts, or the
 * online backup API where that copy cannot be made), checked, stored whole or as the pages changed since a base.
 */

/** A consistent copy of the file (taken under a read transaction, then checked), its schema, or the pages changed since
 * a base. */
export async function backupSqlite(req: BackupRequest, ctx: DriverContext): Promise<BackupSession> {
  const { db, type } = req;
  let conn: Database.Database;
  try {
    conn = openSource(db);
  } catch (err) {
    // A restore is often needed because the live file is damaged: keep its bytes as they are (SQLite could not
    // read it; not when SQLite itself could not be loaded, see nativeModuleError).
    if (req.purpose === 'safety' && err instanceof RespaldoError && existsSync(dbPath(db)))
      return rawCopySession(db, err, ctx);
    throw err;
  }
  const snapshot = join(ctx.scratchDir, `${db.name}.snapshot.sqlite`);
  const started = Date.now();
  let method = '';
  try {
    if (type === 'schema') {
      const lines = schemaSql(conn);
      const sqliteVersion = conn.prepare('SELECT sqlite_version()').pluck().get() as string;
      return {
        parts: [
          {
            role: 'main',
            format: 'sqlite-sql',
            extension: 'sql',
            compress: true,
            open: async () => ({
              stream: Readable.from(lines),
              finished: Promise.resolve({ tables: null, details: { sqliteVersion, source: db.path } }),
            }),
          },
        ],
        cleanup: async () => undefined,
      };
    }
    // SQLite creates a new file 0644 (less the umask) and gives its -journal/-wal the file's mode:
    // an empty 0600 file made first keeps the snapshot and its journal 0600 from the first byte.
    await removeQuietly(snapshot);
    await (await fsp.open(snapshot, 'wx', 0o600)).close();
    const totalPages = conn.pragma('page_count', { simple: true }) as number;
    // Said once: the copy is one step, so no count of pages done would move.
    ctx.reporter.emit({
      type: 'item-progress',
      item: db.name,
      bytes: 0,
      ...said('step.snapshot', { total: totalPages }),
    });
    method = 'copy';
    const copied = await copySnapshot(conn, dbPath(db), snapshot).catch((err: unknown) => {
      // SQLite's own errors (a lock held too long, a damaged file) and a full disk would be the backup API's too.
      const code = (err as { code?: unknown }).code;
      if (isDiskFull(err) || (typeof code === 'string' && code.startsWith('SQLITE_'))) throw err;
      ctx.log('sqlite snapshot by copy failed, using the backup API', { db: db.name, error: String(err) });
      return undefined;
    });
    if (!copied) {
      ctx.log('sqlite snapshot by copy did not come out as SQLite sees the database, using the backup API', {
        db: db.name,
      });
      method = 'backup API';
      await removeSideFiles(snapshot);
      await removeQuietly(snapshot);
      await (await fsp.open(snapshot, 'wx', 0o600)).close();
      conn.pragma('cache_size = -2000'); // each page is copied once: a small cache is as fast, and 14 MiB smaller
      // Copy it all in one step: one read transaction, so concurrent writers cannot restart it.
      await conn.backup(snapshot, { progress: ({ remainingPages }) => Math.max(remainingPages, 100) });
    }
  } catch (err) {
    await removeSideFiles(snapshot);
    await removeQuietly(snapshot);
    // A snapshot that did not fit the backup folder says nothing about the database: its bytes are not copied
    // instead (they would not fit either, and the warning would call a sound database unreadable).
    if (req.purpose === 'safety' && !isDiskFull(err)) {
      conn.close();
      return rawCopySession(db, err, ctx);
    }
    throw sqliteError(db, dbPath(db), err);
  } finally {
    if (conn.open) conn.close();
  }
  await fsp.chmod(snapshot, 0o600);
  const size = statSync(snapshot).size;
  ctx.log('sqlite snapshot taken', { db: db.name, bytes: size, ms: Date.now() - started, method });
  ctx.reporter.emit({ type: 'item-progress', item: db.name, bytes: 0, ...said('step.snapshotStoring') });
  // A full's rows are counted from the pages as the compressor reads them (page-rows.ts); a delta's with SQL.
  const check = (pages?: { counter: PageRowCounter; passed: Promise<boolean> }) =>
    (pages
      ? inspectWithPageRows(snapshot, pages.counter, pages.passed)
      : inspectSqliteFile(snapshot, { alongside: 'cpu' }).then((info) => ({ ...info, rowsFrom: 'sql' as const }))
    ).then((info) => {
      const { integrity: integrityMs, counts: countsMs } = info.ms;
      ctx.log('sqlite snapshot checked', { db: db.name, integrityMs, countsMs, rowsFrom: info.rowsFrom });
      const damaged = info.integrity.length !== 1 || info.integrity[0] !== 'ok';
      if (damaged && req.purpose === 'safety') {
        const problems = integritySummary(info.integrity, 2);
        ctx.reporter.emit({ type: 'warning', item: db.name, ...said('note.replacedDamaged', { problems }) });
        return {
          tables: info.tables,
          details: {
            ...(info.sqliteVersion ? { sqliteVersion: info.sqliteVersion } : {}),
            source: db.path,
            integrityCheck: info.integrity.slice(0, 20),
          },
        };
      }
      if (damaged) {
        throw saidError(
          phrase('sqlite.snapshotDamaged', { db: db.name, problems: integritySummary(info.integrity, 3) }),
          phrase('sqlite.snapshotDamagedHint'),
        );
      }
      return {
        tables: info.tables,
        details: {
          sqliteVersion: info.sqliteVersion,
          pageSize: info.pageSize,
          pageCount: info.pageCount,
          source: db.path,
          integrityCheck: 'ok',
        },
      };
    });
  let fellBack: { fellBack: string; fellBackPhrase: Phrase } | undefined;
  if (req.base && (type === 'differential' || type === 'incremental')) {
    const delta = await deltaSession(snapshot, req.base, check, ctx);
    if ('parts' in delta) return delta;
    fellBack = delta;
    ctx.log('sqlite delta not possible, storing a full', { db: db.name, reason: fellBack.fellBack });
  }
  return {
    ...(fellBack ? { fellBack: fellBack.fellBack, fellBackPhrase: fellBack.fellBackPhrase } : {}),
    parts: [
      {
        role: 'main',
        format: 'sqlite-db',
        extension: 'sqlite',
        compress: true,
        open: async () => {
          const counter = new PageRowCounter(size);
          let counting = false;
          let passed!: (whole: boolean) => void;
          const whole = new Promise<boolean>((resolve) => (passed = resolve));
          const checked = check({ counter, passed: whole });
          checked.catch(() => undefined);
          return {
            // Read as a stream instead (never, as the engine compresses every SQLite file), no pages are noted.
            stream: createReadStream(snapshot, { highWaterMark: 1 << 20 }).once('close', () => {
              if (!counting) passed(false);
            }),
            file: snapshot,
            reader: () => {
              counting = true;
              return countingReader(snapshot, counter, passed);
            },
            totalBytes: size,
            finished: checked,
          };
        },
      },
    ],
    cleanup: () => removeQuietly(snapshot),
  };
}

/**
 * Reads `file` from its start into the engine's buffers, each block noted by `counter` before the compressor has
 * it; `passed(true)` once read to its end, `passed(false)` if closed before (the rows are then counted with SQL).
 */
function countingReader(file: string, counter: PageRowCounter, passed: (whole: boolean) => void): BlockReader {
  const reader = fileBlockReader(file);
  let ended = false;
  return {
    async read(into) {
      const filled = await reader.read(into);
      if (filled > 0) counter.observe(into.subarray(0, filled));
      if (filled < into.length) ended = true; // the compressor reads no further after a short block
      return filled;
    },
    async close() {
      try {
        await reader.close();
      } finally {
        passed(ended);
      }
    },
  };
}

/**
 * The safety copy of a database SQLite cannot read: the file and its -wal or -journal stored byte for byte
 * (format `sqlite-raw`), so what a restore replaces is never lost, even when it is damaged.
 */
function rawCopySession(db: DatabaseConfig, cause: unknown, ctx: DriverContext): BackupSession {
  const file = livePath(db); // SQLite keeps the -wal and -journal beside the file a symlink names
  const reason = cause instanceof Error ? cause.message : String(cause);
  // The driver's own error (a hot journal, say) is said within the warning, in the menu's language too.
  const inner = isRespaldoError(cause) ? cause.phrases?.message : undefined;
  const note = inner
    ? sayingWithin('note.replacedUnreadable', inner, { file })
    : said('note.replacedUnreadable', { file, reason });
  ctx.reporter.emit({ type: 'warning', item: db.name, ...note });
  const part = (role: string, path: string, size: number): DumpPart => ({
    role,
    format: 'sqlite-raw',
    extension: role === 'main' ? 'sqlite' : role,
    compress: true,
    open: async () => ({
      stream: createReadStream(path, { highWaterMark: 1 << 20 }),
      totalBytes: size,
      finished: Promise.resolve({ tables: null, details: { source: file, copiedRaw: true, reason } }),
    }),
  });
  const sources = [{ role: 'main', path: file }];
  if (existsSync(`${file}-wal`)) sources.push({ role: 'wal', path: `${file}-wal` });
  // A writer that died mid-transaction left a hot journal: the file alone is half a transaction, and the restore
  // removes the journal beside it, so the only way back to the last commit is this copy of it.
  if (existsSync(`${file}-journal`)) sources.push({ role: 'journal', path: `${file}-journal` });
  const sized = sources.map((x) => ({ ...x, size: statSync(x.path).size }));
  return {
    parts: sized.map((x) => part(x.role, x.path, x.size)),
    // Counted against the file and its -wal or -journal from the start: the percentage never falls at the second part.
    totalBytes: sized.reduce((t, x) => t + x.size, 0),
    cleanup: async () => undefined,
  };
}

/**
 * A differential or incremental of the snapshot: only the pages that differ from `base` (its image
 * hashed from the stored full, or its stored page map), and the snapshot's page map for the next one.
 * Returns `fellBack` (store a full) when the base cannot be compared: another page size, another format.
 */
async function deltaSession(
  snapshot: string,
  base: NonNullable<BackupRequest['base']>,
  check: () => Promise<DumpFacts>,
  ctx: DriverContext,
): Promise<BackupSession | { fellBack: string; fellBackPhrase: Phrase }> {
  const t0 = Date.now();
  let baseMap: PageMap;
  try {
    if (base.entry.format === 'sqlite-db') baseMap = await pageMapOfImage(base.openPart('main'));
    else if (base.entry.format === 'sqlite-pages')
      // Read by the plan already (hashed against the manifest on the way), as a rule: not read twice.
      baseMap = (base.read?.('pagemap') as PageMap | undefined) ?? (await readPageMap(base.openPart('pagemap')));
    else
      return fellBackOf(
        phrase('fallback.baseFormat', { set: base.setId, db: base.entry.name, format: base.entry.format, as: 'pages' }),
      );
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return fellBackOf(phrase('fallback.baseUnreadable', { set: base.setId, error }));
  }
  const fh = await fsp.open(snapshot, 'r');
  const head = Buffer.alloc(100);
  try {
    await fh.read(head, 0, 100, 0);
  } finally {
    await fh.close();
  }
  const pageSize = pageSizeOf(head);
  if (pageSize !== baseMap.pageSize) {
    return fellBackOf(phrase('fallback.pageSize', { set: base.setId, from: baseMap.pageSize, to: pageSize }));
  }
  ctx.log('sqlite base pages read', { base: base.setId, pages: baseMap.pageCount, ms: Date.now() - t0 });
  const delta = deltaOf(snapshot, baseMap);
  const main = {
    role: 'main',
    format: 'sqlite-pages',
    extension: 'pages',
    compress: true,
    open: async () => {
      const finished = Promise.all([check(), delta.done]).then(([facts, stats]) => {
        const bytes = stats.pageCount * stats.pageSize;
        const counts = { pageSize: stats.pageSize, pageCount: stats.pageCount, changedPages: stats.changedPages };
        return {
          tables: facts.tables,
          details: { ...facts.details, ...counts, databaseSizeBytes: bytes, base: base.setId },
        };
      });
      finished.catch(() => undefined);
      return {
        stream: Readable.from(delta.chunks, { objectMode: false }),
        totalBytes: statSync(snapshot).size,
        finished,
      };
    },
  };
  const pagemap = {
    role: 'pagemap',
    format: 'sqlite-pagemap',
    extension: 'bin',
    compress: true,
    open: async () => {
      const stats = await delta.done;
      return {
        stream: Readable.from(encodePageMap(stats.map), { objectMode: false }),
        finished: Promise.resolve({ tables: null, details: {} }),
      };
    },
  };
  return { parts: [main, pagemap], cleanup: () => removeQuietly(snapshot) };
}

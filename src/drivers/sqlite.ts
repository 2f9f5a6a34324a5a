import Database from 'better-sqlite3';
import {
  createReadStream,
  existsSync,
  promises as fsp,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { InterruptedError, RefusedError, RespaldoError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { DatabaseConfig } from '../core/types.js';
import type {
  BackupSession,
  ConfigProblem,
  Driver,
  DriverContext,
  RestoreRequest,
  RestoreResult,
  RestoreStepPlan,
  RestoreTarget,
  TargetState,
} from './driver.js';
import { CAPABILITIES } from './capabilities.js';
import { fsyncPath, pipeToNewFile } from '../core/durable-fs.js';
import { inspectSqliteFile } from './sqlite-inspect.js';
import {
  applyDelta,
  deltaOf,
  encodePageMap,
  pageMapOfImage,
  pageSizeOf,
  readPageMap,
  type PageMap,
} from './sqlite-pages.js';

/** Suffix of the file a restore is built in, beside its target. */
const STAGING_MARK = '.respaldo-restore-';
const ASIDE_MARK = '.respaldo-aside-';

function dbPath(db: DatabaseConfig): string {
  if (!db.path) throw new Error(`sqlite database ${db.name} has no path (config validation should have caught this)`);
  return db.path;
}

function targetPath(db: DatabaseConfig, target: RestoreTarget): string {
  return target.kind === 'in-place' ? dbPath(db) : target.name;
}

function stagingPath(target: string, setId: string): string {
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

function openSource(db: DatabaseConfig): Database.Database {
  const file = dbPath(db);
  if (!existsSync(file)) {
    throw new RespaldoError(
      'failed',
      `SQLite database ${db.name}: file not found: ${file}`,
      `Check databases[].path for "${db.name}" in the config, or restore it from a set.`,
    );
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
function sqliteError(db: DatabaseConfig, file: string, err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code === 'SQLITE_NOTADB')
    return new RespaldoError(
      'failed',
      `SQLite database ${db.name}: ${file} is not a SQLite database.`,
      'Check databases[].path in the config; the file may be damaged (restore it from a set).',
    );
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return new RespaldoError(
      'failed',
      `SQLite database ${db.name} is locked by another process.`,
      'Try again when the writer has finished; in WAL mode (PRAGMA journal_mode=WAL) backups do not wait for writers.',
    );
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY')
    return new RespaldoError(
      'failed',
      `SQLite database ${db.name}: cannot open ${file} (${e.message ?? code}).`,
      'Check that the file and its folder are readable by the user running respaldo.',
    );
  if (code === 'SQLITE_CORRUPT')
    return new RespaldoError(
      'failed',
      `SQLite database ${db.name}: ${file} is corrupt (${e.message ?? code}).`,
      'Restore the database from the newest good set (`respaldo list --db ' + db.name + '`).',
    );
  // Full disk where the copy is written (not a problem of the database): the engine says which disk.
  if (code === 'SQLITE_FULL') return err;
  if (code.startsWith('SQLITE_'))
    return new RespaldoError(
      'failed',
      `SQLite database ${db.name}: ${e.message ?? code} (${code})`,
      `Run PRAGMA integrity_check on ${file} with sqlite3; nothing was changed.`,
    );
  return err;
}

/** A restored copy SQLite cannot read (a damaged stored file) as an operator error; other errors stay bugs. */
function unreadableCopy(name: string, err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (!code.startsWith('SQLITE_') || code === 'SQLITE_FULL') return err;
  const why = typeof e.message === 'string' && e.message ? `${e.message} (${code})` : code;
  return new RespaldoError(
    'failed',
    `The restored copy of ${name} cannot be read as a SQLite database: ${why}.`,
    'The target was not touched. Verify the set (respaldo verify) and try another set.',
  );
}

/** Schema-only SQL of a database: tables first, then indexes, views and triggers. */
function schemaSql(conn: Database.Database): string[] {
  const rows = conn
    .prepare(
      `SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid`,
    )
    .pluck()
    .all() as string[];
  return ['PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n', ...rows.map((s) => `${s};\n`), 'COMMIT;\n'];
}

async function removeQuietly(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

/** Removes the -wal/-shm/-journal SQLite may leave beside a closed file. */
async function removeSideFiles(file: string): Promise<void> {
  for (const suffix of ['-wal', '-shm', '-journal']) await removeQuietly(`${file}${suffix}`);
}

export const sqliteDriver = {
  engine: 'sqlite',
  types: ['full', 'schema'],
  chains: ['differential', 'incremental'],
  safety: 'pre-restore-set',
  capabilities: CAPABILITIES.sqlite,

  validateConfig(db: DatabaseConfig): ConfigProblem[] {
    if (!db.path)
      return [
        {
          path: 'path',
          problem: 'required for sqlite databases',
          hint: 'Set "path" to the database file, e.g. "./data/users.db".',
        },
      ];
    return [];
  },

  describe(db: DatabaseConfig): string {
    return `SQLite file ${db.path ?? '(no path)'}`;
  },

  async backup(req, ctx: DriverContext): Promise<BackupSession> {
    const { db, type } = req;
    let conn: Database.Database;
    try {
      conn = openSource(db);
    } catch (err) {
      // A restore is often needed because the live file is damaged: keep its bytes as they are.
      if (req.purpose === 'safety' && existsSync(dbPath(db))) return rawCopySession(db, err, ctx);
      throw err;
    }
    const snapshot = join(ctx.scratchDir, `${db.name}.snapshot.sqlite`);
    const started = Date.now();
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
      await conn.backup(snapshot, {
        progress: ({ totalPages, remainingPages }) => {
          ctx.reporter.emit({
            type: 'item-progress',
            item: db.name,
            bytes: 0,
            message: `snapshot ${totalPages - remainingPages}/${totalPages} pages`,
          });
          // Copy the rest in one step: one read transaction, so concurrent writers cannot restart it.
          return Math.max(remainingPages, 100);
        },
      });
    } catch (err) {
      await removeQuietly(snapshot);
      if (req.purpose === 'safety') {
        conn.close();
        return rawCopySession(db, err, ctx);
      }
      throw sqliteError(db, dbPath(db), err);
    } finally {
      if (conn.open) conn.close();
    }
    await fsp.chmod(snapshot, 0o600);
    const size = statSync(snapshot).size;
    ctx.log('sqlite snapshot taken', { db: db.name, bytes: size, ms: Date.now() - started });
    const check = () =>
      inspectSqliteFile(snapshot).then((info) => {
        const damaged = info.integrity.length !== 1 || info.integrity[0] !== 'ok';
        if (damaged && req.purpose === 'safety') {
          ctx.reporter.emit({
            type: 'warning',
            item: db.name,
            message: `the database being replaced fails integrity_check; it is kept as it is (${info.integrity.slice(0, 2).join('; ')})`,
          });
          return {
            tables: info.tables,
            details: {
              sqliteVersion: info.sqliteVersion,
              source: db.path,
              integrityCheck: info.integrity.slice(0, 20),
            },
          };
        }
        if (damaged) {
          throw new RespaldoError(
            'failed',
            `SQLite database ${db.name}: the snapshot failed integrity_check: ${info.integrity.slice(0, 3).join('; ')}`,
            'The live database is damaged. Run PRAGMA integrity_check on it and restore from the newest good set.',
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
    let fellBack: string | undefined;
    if (req.base && (type === 'differential' || type === 'incremental')) {
      const delta = await deltaSession(snapshot, req.base, check, ctx);
      if ('parts' in delta) return delta;
      fellBack = delta.fellBack;
      ctx.log('sqlite delta not possible, storing a full', { db: db.name, reason: fellBack });
    }
    return {
      ...(fellBack ? { fellBack } : {}),
      parts: [
        {
          role: 'main',
          format: 'sqlite-db',
          extension: 'sqlite',
          compress: true,
          open: async () => {
            const checked = check();
            checked.catch(() => undefined);
            return {
              stream: createReadStream(snapshot, { highWaterMark: 1 << 20 }),
              totalBytes: size,
              finished: checked,
            };
          },
        },
      ],
      cleanup: () => removeQuietly(snapshot),
    };
  },

  planRestore(req): RestoreStepPlan {
    const target = targetPath(req.db, req.target);
    const staging = stagingPath(target, req.setId);
    const inPlace = req.target.kind === 'in-place';
    const steps = [
      phrase('sqlite.verify', { file: req.entry.file ?? '(no file)' }),
      phrase('sqlite.write', { staging }),
      req.entry.format === 'sqlite-sql' ? phrase('sqlite.applySchema') : phrase('sqlite.check'),
      inPlace
        ? phrase('sqlite.swapInPlace', { target, base: basename(target) })
        : phrase('sqlite.renameSide', { target }),
    ];
    const rollback = inPlace
      ? phrase('sqlite.rollbackInPlace', { db: req.db.name })
      : phrase('sqlite.rollbackSide', { target });
    return {
      database: req.db.name,
      target,
      replaces: inPlace,
      staging,
      safety: inPlace ? { kind: 'pre-restore-set' } : { kind: 'none', reason: 'side-by-side restore replaces nothing' },
      steps: steps.map(english),
      stepPhrases: steps,
      rollback: english(rollback),
      rollbackPhrase: rollback,
    };
  },

  async inspectTarget(db, target): Promise<TargetState> {
    const file = targetPath(db, target);
    if (!existsSync(file)) return { exists: false, sizeBytes: null, inUseBy: [] };
    return { exists: true, sizeBytes: statSync(file).size, inUseBy: processesUsing(file) };
  },

  async restore(req: RestoreRequest, ctx: DriverContext): Promise<RestoreResult> {
    const target = targetPath(req.db, req.target);
    const staging = stagingPath(target, req.setId);
    const dir = dirname(target);
    if (!existsSync(dir)) {
      if (req.target.kind === 'in-place')
        throw new RespaldoError(
          'failed',
          `Folder ${dir} does not exist.`,
          `Create it (the database ${req.db.name} lives there), then run the restore again.`,
        );
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    }
    if (req.target.kind === 'side-by-side' && existsSync(target)) {
      throw new RefusedError(
        `${target} already exists; a side-by-side restore never overwrites a file.`,
        'Choose a new path with --to, or remove the file first.',
      );
    }
    // Beside the configured database recover() finds a killed run's staging file; elsewhere the journal does.
    const untrack = req.target.kind === 'side-by-side' && ctx.trackTemp ? await ctx.trackTemp(staging) : undefined;
    try {
      if (req.entry.format === 'sqlite-sql') {
        const sql = await text(req.openPart()); // decodes across chunk boundaries; a schema is small
        const conn = new Database(staging);
        try {
          conn.exec(sql);
        } finally {
          conn.close();
        }
      } else if (req.entry.format === 'sqlite-pages') {
        await assembleChain(req, staging, ctx.signal);
      } else {
        await pipeToNewFile(req.openPart(), staging, { mode: 0o600, highWaterMark: 1 << 20, signal: ctx.signal });
      }
      // A drill's scratch copy is removed right after its checks: it needs no fsync.
      const scratch = req.target.kind === 'side-by-side' && req.target.scratch === true;
      if (!scratch) await fsyncPath(staging);
      const info = await inspectSqliteFile(staging).catch((err: unknown) => {
        throw unreadableCopy(req.db.name, err);
      });
      // The read-only check of a WAL-mode file leaves an empty -wal and a -shm beside it.
      await removeSideFiles(staging);
      if (info.integrity[0] !== 'ok') {
        throw new RespaldoError(
          'failed',
          `The restored copy of ${req.db.name} failed integrity_check: ${info.integrity.slice(0, 3).join('; ')}`,
          'The target was not touched. Try another set.',
        );
      }
      if (req.entry.tables && (req.entry.format === 'sqlite-db' || req.entry.format === 'sqlite-pages')) {
        for (const [table, rows] of Object.entries(req.entry.tables)) {
          if (info.tables[table] !== rows) {
            throw new RespaldoError(
              'failed',
              `The restored copy of ${req.db.name} has ${info.tables[table] ?? 'no'} rows in ${table}; the manifest says ${rows}.`,
              'The target was not touched. Try another set.',
            );
          }
        }
      }
      // Interrupted before the swap: the target stays as it was (the staging copy is removed below).
      if (ctx.signal.aborted)
        throw new InterruptedError('Restore interrupted before the swap; the target was not changed.');
      if (req.target.kind === 'in-place') {
        const users = existsSync(target) ? processesUsing(target) : [];
        if (users.length) {
          throw new RefusedError(
            `${target} is open in another process (${users.join(', ')}).`,
            'Stop the application that uses this database, then run the restore again.',
          );
        }
        await swapInto(staging, target);
      } else {
        await fsp.link(staging, target).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST')
            throw new RefusedError(`${target} already exists.`, 'Choose a new path with --to.');
          throw err;
        });
        await fsp.rm(staging);
      }
      if (!scratch) await fsyncPath(dir);
      ctx.log('sqlite restore finished', { db: req.db.name, target });
      // The integrity_check and row counts above are the drill's checks too: they are not run twice.
      const checks = scratch ? [{ name: 'integrity_check', ok: true, detail: 'ok' }] : [];
      return { tables: info.tables, restoredTo: target, ...(checks.length ? { checks } : {}) };
    } catch (err) {
      await removeQuietly(staging);
      await removeSideFiles(staging);
      throw err;
    } finally {
      await untrack?.();
    }
  },

  async recover(db, ctx): Promise<string[]> {
    const file = dbPath(db);
    const dir = dirname(file);
    if (!existsSync(dir)) return [];
    const actions: string[] = [];
    const prefix = `.${basename(file)}${STAGING_MARK}`;
    const names = readdirSync(dir);
    // Journals set aside just before the swap: if the staging file is still there, the swap never
    // happened and they belong to the live database (committed data not yet checkpointed): put them
    // back. Otherwise they belong to the replaced database, which the pre_restore set holds.
    const swapped = !names.some((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
    for (const name of names) {
      if (!(name.startsWith(`${basename(file)}-`) && name.includes(ASIDE_MARK))) continue;
      const original = join(dir, name.slice(0, name.indexOf(ASIDE_MARK)));
      if (!swapped && !existsSync(original)) {
        await fsp.rename(join(dir, name), original);
        actions.push(`put back ${original}, set aside by a restore interrupted before its swap`);
      } else if (swapped) {
        await removeQuietly(join(dir, name));
        actions.push(`removed a stale journal set aside by an interrupted restore: ${join(dir, name)}`);
      } else {
        actions.push(
          `kept ${join(dir, name)}: set aside by a restore interrupted before its swap, but ${original} exists again; check it by hand`,
        );
      }
    }
    for (const name of names) {
      if (name.startsWith(prefix) && /\.tmp(-wal|-shm|-journal)?$/.test(name)) {
        await removeQuietly(join(dir, name));
        actions.push(`removed an unfinished restore file ${join(dir, name)}`);
      }
    }
    actions.forEach((a) => ctx.log(a));
    return actions;
  },
} satisfies Driver;

/**
 * The safety copy of a database SQLite cannot read: the file and its -wal stored byte for byte
 * (format `sqlite-raw`), so what a restore replaces is never lost, even when it is damaged.
 */
function rawCopySession(db: DatabaseConfig, cause: unknown, ctx: DriverContext): BackupSession {
  const file = dbPath(db);
  const reason = cause instanceof Error ? cause.message : String(cause);
  ctx.reporter.emit({
    type: 'warning',
    item: db.name,
    message: `${file} cannot be read as a SQLite database (${reason}); its bytes are kept as they are`,
  });
  const part = (role: string, path: string) => ({
    role,
    format: 'sqlite-raw',
    extension: role === 'main' ? 'sqlite' : role,
    compress: true,
    open: async () => ({
      stream: createReadStream(path, { highWaterMark: 1 << 20 }),
      totalBytes: statSync(path).size,
      finished: Promise.resolve({ tables: null, details: { source: file, copiedRaw: true, reason } }),
    }),
  });
  const parts = [part('main', file)];
  if (existsSync(`${file}-wal`)) parts.push(part('wal', `${file}-wal`));
  return { parts, cleanup: async () => undefined };
}

/**
 * Moves the restored file over the target. Stale -wal/-shm of the old database are set aside
 * first (the pre_restore set already holds their content) and removed after the rename, so they
 * can never be replayed into the new file.
 */
async function swapInto(staging: string, target: string): Promise<void> {
  // The restored file takes the place of the live one: keep its mode and owner (the application's user).
  const live = await fsp.stat(target).catch(() => null);
  if (live) {
    await fsp.chmod(staging, live.mode & 0o7777);
    await fsp.chown(staging, live.uid, live.gid).catch(() => undefined);
  }
  const aside: [string, string][] = [];
  const stamp = `${ASIDE_MARK}${process.pid}`;
  for (const suffix of ['-wal', '-shm', '-journal']) {
    const f = `${target}${suffix}`;
    if (existsSync(f)) {
      await fsp.rename(f, `${f}${stamp}`);
      aside.push([f, `${f}${stamp}`]);
    }
  }
  try {
    await fsp.rename(staging, target);
  } catch (err) {
    for (const [orig, moved] of aside) await fsp.rename(moved, orig).catch(() => undefined);
    throw err;
  }
  for (const [, moved] of aside) await removeQuietly(moved);
}

/**
 * A differential or incremental of the snapshot: only the pages that differ from `base` (its image
 * hashed from the stored full, or its stored page map), and the snapshot's page map for the next one.
 * Returns `fellBack` (store a full) when the base cannot be compared: another page size, another format.
 */
async function deltaSession(
  snapshot: string,
  base: NonNullable<import('./driver.js').BackupRequest['base']>,
  check: () => Promise<import('./driver.js').DumpFacts>,
  ctx: DriverContext,
): Promise<BackupSession | { fellBack: string }> {
  const t0 = Date.now();
  let baseMap: PageMap;
  try {
    if (base.entry.format === 'sqlite-db') baseMap = await pageMapOfImage(base.openPart('main'));
    else if (base.entry.format === 'sqlite-pages') baseMap = await readPageMap(base.openPart('pagemap'));
    else
      return { fellBack: `the base set ${base.setId} stores ${base.entry.name} as ${base.entry.format}, not as pages` };
  } catch (err) {
    return {
      fellBack: `the base set ${base.setId} could not be read (${err instanceof Error ? err.message : String(err)})`,
    };
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
    return {
      fellBack: `the page size changed since set ${base.setId} (${baseMap.pageSize} → ${pageSize} bytes, after a VACUUM)`,
    };
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

/**
 * Rebuilds a SQLite file from its chain into `staging` (a new file): the full first, then every
 * delta in order, the restored entry last. The engine verified every stored file beforehand.
 */
async function assembleChain(req: RestoreRequest, staging: string, signal: AbortSignal): Promise<void> {
  const chain = req.chain ?? [];
  const full = chain[0];
  if (!full || full.entry.format !== 'sqlite-db') {
    throw new RespaldoError(
      'failed',
      `Set ${req.setId} stores only the pages of ${req.db.name} that changed since set ${req.entry.base ?? '?'}; the full set its chain starts from was not given.`,
      `Restore it with respaldo restore ${req.setId} (which applies the whole chain), or check it with respaldo verify --chain ${req.setId}.`,
    );
  }
  // Each delta holds the pages changed since its base: applied on another set, it gives another database.
  const deltas = [...chain.slice(1), { setId: req.setId, entry: req.entry, openPart: req.openPart }];
  deltas.forEach((step, i) => {
    const before = i === 0 ? full.setId : deltas[i - 1]!.setId;
    if (step.entry.base !== undefined && step.entry.base !== before)
      throw new RespaldoError(
        'failed',
        `Set ${step.setId} in the chain of ${req.db.name} applies on set ${step.entry.base}, not on set ${before}: ` +
          'the chain has a gap. Nothing was replaced.',
        `Restore it with respaldo restore ${req.setId} (which applies the whole chain), or check it with ` +
          `respaldo verify --chain ${req.setId}.`,
      );
  });
  await pipeToNewFile(full.openPart(), staging, { mode: 0o600, highWaterMark: 1 << 20, signal });
  const fh = await fsp.open(staging, 'r+');
  try {
    const head = Buffer.alloc(100);
    await fh.read(head, 0, 100, 0);
    const pageSize = pageSizeOf(head);
    for (const step of deltas) {
      if (signal.aborted)
        throw new InterruptedError('Restore interrupted before the swap; the target was not changed.');
      if (step.entry.format !== 'sqlite-pages')
        throw new RespaldoError(
          'failed',
          `Set ${step.setId} in the chain of ${req.db.name} is not a page delta (${step.entry.format}).`,
          'Restore that set by itself, or an older one.',
        );
      await applyDelta(step.openPart(), fh, pageSize);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, promises as fsp, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { InterruptedError, RefusedError, RespaldoError } from '../../core/errors.js';
import { english, phrase, said, type Said } from '../../core/phrases.js';
import type { DatabaseConfig } from '../../core/types.js';
import type {
  DriverContext,
  RestoreRequest,
  RestoreResult,
  RestoreStepPlan,
  RestoreTarget,
  TargetState,
  PlanRestoreInput,
} from '../driver.js';
import { fsyncPath, makeDirs, pipeToNewFile, removeEmptyDirs } from '../../core/durable-fs.js';
import { diskAt } from '../shared/disk.js';
import { inspectSqliteFile, integritySummary } from './inspect.js';
import { rowCountDifferences } from '../shared/row-counts.js';
import { applyDelta, pageSizeOf } from './pages.js';
import {
  ASIDE_MARK,
  targetPath,
  stagingPath,
  processesUsing,
  unreadableCopy,
  saidError,
  removeQuietly,
  removeSideFiles,
} from './connection.js';

/** SQLite restore: the file built beside its target (a chain assembled page by page), checked, then swapped in. */

/** The steps, target and rollback of a restore, for the confirmation screen (nothing is done). */
export function planSqliteRestore(req: PlanRestoreInput): RestoreStepPlan {
  const target = targetPath(req.db, req.target);
  const staging = stagingPath(target, req.setId);
  // An in-place restore onto a file that is not there (a new server) replaces nothing and keeps nothing.
  const inPlace = req.target.kind === 'in-place' && req.targetExists !== false;
  const nothingThere = req.target.kind === 'in-place' && !inPlace;
  const steps = [
    phrase('sqlite.verify', { file: req.entry.file ?? '(no file)' }),
    phrase('sqlite.write', { staging }),
    req.entry.format === 'sqlite-sql' ? phrase('sqlite.applySchema') : phrase('sqlite.check'),
    inPlace
      ? phrase('sqlite.swapInPlace', { target, base: basename(target) })
      : nothingThere
        ? phrase('sqlite.renameNew', { target })
        : phrase('sqlite.renameSide', { target }),
  ];
  const rollback = inPlace
    ? phrase(req.targetHotJournal ? 'sqlite.rollbackRaw' : 'sqlite.rollbackInPlace', { db: req.db.name })
    : phrase('sqlite.rollbackSide', { target });
  // The safety copy of a database already damaged when a restore replaced it: it is put back damaged.
  const damagedThen = req.entry.details['integrityCheck'];
  const warnings = Array.isArray(damagedThen)
    ? [
        phrase('sqlite.restoresDamaged', {
          db: req.db.name,
          set: req.setId,
          problems: integritySummary(damagedThen.map(String), 2),
        }),
      ]
    : [];
  return {
    database: req.db.name,
    target,
    replaces: req.target.kind === 'in-place',
    staging,
    safety: inPlace
      ? { kind: 'pre-restore-set' }
      : {
          kind: 'none',
          reason: nothingThere ? `${target} does not exist now` : 'side-by-side restore replaces nothing',
        },
    steps: steps.map(english),
    stepPhrases: steps,
    rollback: english(rollback),
    rollbackPhrase: rollback,
    ...(warnings.length ? { warnings } : {}),
  };
}

/** The 8 bytes a rollback journal starts with while it holds a transaction (PERSIST mode zeroes them once done). */
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/** Whether `journal` holds an unfinished transaction: there, and starting with JOURNAL_MAGIC. */
function journalIsHot(journal: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(journal, 'r');
    const head = Buffer.alloc(8);
    return readSync(fd, head, 0, 8, 0) === 8 && head.equals(JOURNAL_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file a symlink names (where SQLite keeps its `-journal`), or `file` when it cannot be resolved. */
function realFile(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** The size of `file`, 0 when it is not there (or not readable). */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What the target of a restore looks like now: exists, its size, which processes have it open. */
export async function inspectSqliteTarget(db: DatabaseConfig, target: RestoreTarget): Promise<TargetState> {
  const file = targetPath(db, target);
  // The restored file is written beside the target, then renamed over it.
  const disk = await diskAt(dirname(file));
  const onDisk = disk ? { disk } : {};
  // In place, restoreSqlite refuses a folder that is not there: said by the plan, before a set is fetched for it.
  const noFolder = target.kind === 'in-place' && !existsSync(dirname(file)) ? { missingFolder: dirname(file) } : {};
  if (!existsSync(file)) {
    // A -wal or -journal with content and no database: the last commits of a file moved or deleted, which the restore
    // would remove (in place) or SQLite would apply to the restored file (side by side)
    const sides = ['-wal', '-journal'].map((x) => `${file}${x}`).filter((f) => sizeOf(f) > 0);
    const orphans = sides.length
      ? {
          replaceRefusal: {
            message: phrase('sqlite.orphanSides', { file, sides: sides.map((f) => basename(f)).join(', ') }),
            hint: phrase('sqlite.orphanSidesHint', { dir: dirname(file) }),
          },
        }
      : {};
    return { exists: false, sizeBytes: null, inUseBy: [], ...onDisk, ...noFolder, ...orphans };
  }
  const st = statSync(file);
  const inUseBy = processesUsing(file);
  const hotJournal = !inUseBy.length && journalIsHot(`${realFile(file)}-journal`);
  return {
    exists: true,
    sizeBytes: st.size,
    inUseBy,
    identity: `${st.dev}:${st.ino}`,
    ...onDisk,
    ...(hotJournal ? { hotJournal: true } : {}),
  };
}

/** A restore into a staging file beside the target, checked, then renamed over it. */
export async function restoreSqlite(req: RestoreRequest, ctx: DriverContext): Promise<RestoreResult> {
  const target = targetPath(req.db, req.target);
  const staging = stagingPath(target, req.setId);
  const dir = dirname(target);
  // The folders this restore made for `--to` (deepest first): removed when it fails or is stopped and they are empty
  // (another database of the restore may have put its file there), never a folder that was there before.
  const madeDirs: string[] = [];
  if (!existsSync(dir)) {
    if (req.target.kind === 'in-place')
      throw saidError(phrase('sqlite.noFolder', { dir }), phrase('sqlite.noFolderHint', { db: req.db.name }));
    const first = await makeDirs(dir, 0o700);
    if (first)
      for (let d = resolve(dir); ; d = dirname(d)) {
        madeDirs.push(d);
        if (d === resolve(first) || dirname(d) === d) break;
      }
  }
  if (req.target.kind === 'side-by-side' && existsSync(target)) {
    const message = phrase('refuse.targetExists', { target });
    const hint = phrase('refuse.targetExistsHint');
    throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
  }
  // Beside the configured database recover() finds a killed run's staging file; elsewhere the journal does.
  // Killed (SIGKILL) before its catch below ran: the next restore or create sweeps the staging file and those folders.
  const untrack =
    req.target.kind === 'side-by-side' && ctx.trackTemp
      ? await ctx.trackTemp(staging, { madeDirs }).catch(async (err: unknown) => {
          await removeEmptyDirs(madeDirs);
          throw err;
        })
      : undefined;
  // A chain writes its full, then every delta: its bytes are theirs, not the last delta's alone.
  const total =
    req.entry.format === 'sqlite-pages' && req.chain?.length
      ? req.chain.reduce((n, c) => n + c.entry.rawBytes, req.entry.rawBytes)
      : req.entry.rawBytes;
  const progress = (step: Said, bytes: number): void =>
    ctx.reporter.emit({
      type: 'item-progress',
      item: req.db.name,
      bytes,
      ...(total ? { totalBytes: total } : {}),
      ...step,
    });
  try {
    const t0 = Date.now();
    if (req.entry.format === 'sqlite-sql') {
      const sql = await text(req.openPart()); // decodes across chunk boundaries; a schema is small
      const conn = new Database(staging);
      try {
        conn.exec(sql);
      } finally {
        conn.close();
      }
    } else if (req.entry.format === 'sqlite-pages') {
      await assembleChain(req, staging, ctx.signal, (bytes) => progress(said('step.writingCopy'), bytes));
    } else {
      // Its bytes as they are written (a restore of gigabytes showed 0 % until its end, as if hung).
      // pipeline, not pipe: a read that fails (a damaged file, a dropped destination) fails the write with its error.
      const counted = pipeline(
        req.openPart(),
        writtenBytes((bytes) => progress(said('step.writingCopy'), bytes)),
        () => undefined,
      );
      await pipeToNewFile(counted, staging, { mode: 0o600, highWaterMark: 1 << 20, signal: ctx.signal });
    }
    progress(said('step.checkingCopy'), total ?? 0);
    // A drill's scratch copy is removed right after its checks: it needs no fsync. The copy is checked
    // (integrity_check and row counts, in worker threads) while the kernel writes it out: both end before the swap.
    const scratch = req.target.kind === 'side-by-side' && req.target.scratch === true;
    const written = Date.now();
    let syncMs = 0;
    const [synced, inspected] = await Promise.allSettled([
      scratch ? Promise.resolve() : fsyncPath(staging).then(() => void (syncMs = Date.now() - written)),
      inspectSqliteFile(staging),
    ]);
    if (inspected.status === 'rejected') throw unreadableCopy(req.db.name, inspected.reason);
    if (synced.status === 'rejected') throw synced.reason;
    const info = inspected.value;
    const took = { integrityMs: info.ms.integrity, countsMs: info.ms.counts, fsyncMs: syncMs };
    ctx.log('sqlite restore copy written and checked', { db: req.db.name, writeMs: written - t0, ...took });
    // The read-only check of a WAL-mode file leaves an empty -wal and a -shm beside it.
    await removeSideFiles(staging);
    // A safety copy of a database that was already damaged when a restore replaced it records that damage: the
    // rollback respaldo printed then puts it back as it was (its bytes matched the set's hashes), saying so.
    // Anything else that fails integrity_check, and any drill, is refused.
    const damagedThen = Array.isArray(req.entry.details['integrityCheck']) && !scratch;
    if (info.integrity[0] !== 'ok') {
      if (!damagedThen)
        throw saidError(
          phrase('sqlite.copyDamaged', { db: req.db.name, problems: integritySummary(info.integrity, 3) }),
          phrase('sqlite.copyDamagedHint'),
        );
      ctx.reporter.emit({
        type: 'warning',
        item: req.db.name,
        ...said('note.restoredDamaged', { problems: integritySummary(info.integrity, 2) }),
      });
    }
    const tables = info.tables ?? {}; // counted: the copy passed integrity_check, or was damaged when stored
    if (
      req.entry.tables &&
      (info.tables || !damagedThen) &&
      (req.entry.format === 'sqlite-db' || req.entry.format === 'sqlite-pages')
    ) {
      const diffs = rowCountDifferences(req.entry.tables, tables);
      if (diffs.length > 0) {
        const message = phrase('sqlite.countsDiffer', { db: req.db.name, diffs: JSON.stringify(diffs) });
        const hint = phrase('sqlite.countsDifferHint');
        throw new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
      }
    }
    // Interrupted before the swap: the target stays as it was (the staging copy is removed below).
    if (ctx.signal.aborted) throw new InterruptedError(phrase('error.interruptedBeforeSwap'));
    if (req.target.kind === 'in-place') {
      const users = existsSync(target) ? processesUsing(target) : [];
      if (users.length) {
        const message = phrase('refuse.inUse', { target, users: users.join(', ') });
        const hint = phrase('refuse.inUseHint');
        throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
      }
      await swapInto(staging, target);
    } else {
      await fsp.link(staging, target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        const message = phrase('refuse.targetExists', { target });
        const hint = phrase('refuse.targetExistsHint');
        throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
        throw err;
      });
      await fsp.rm(staging);
    }
    if (!scratch) await fsyncPath(dir);
    ctx.log('sqlite restore finished', { db: req.db.name, target });
    // The integrity_check and row counts above are the drill's checks too: they are not run twice.
    const checks = scratch ? [{ name: 'integrity_check', ok: true, detail: 'ok' }] : [];
    return { tables, restoredTo: target, ...(checks.length ? { checks } : {}) };
  } catch (err) {
    await removeQuietly(staging);
    await removeSideFiles(staging);
    await removeEmptyDirs(madeDirs);
    throw err;
  } finally {
    await untrack?.();
  }
}

/**
 * Moves the restored file over the target. Stale -wal/-shm of the old database are set aside
 * first (the pre_restore set already holds their content) and removed after the rename, so they
 * can never be replayed into the new file.
 */
async function swapInto(staging: string, target: string): Promise<void> {
  // The restored file takes the place of the live one: keep its mode and owner (the application's user). With none
  // there (a new server), it takes the owner of its folder, which the application's user must own or share to
  // write SQLite's journals there: a database left root's there could not be written by that user (mode stays 0600).
  const live = await fsp.stat(target).catch(() => null);
  if (live) {
    await fsp.chmod(staging, live.mode & 0o7777);
    await fsp.chown(staging, live.uid, live.gid).catch(() => undefined);
  } else {
    const folder = await fsp.stat(dirname(target));
    await fsp.chown(staging, folder.uid, folder.gid).catch(() => undefined);
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
 * Rebuilds a SQLite file from its chain into `staging` (a new file): the full first, then every
 * delta in order, the restored entry last. The engine verified every stored file beforehand. `report`: the
 * bytes read so far of the full and the deltas (a chain of gigabytes showed 0 % until its end, as if hung).
 */
async function assembleChain(
  req: RestoreRequest,
  staging: string,
  signal: AbortSignal,
  report: (bytes: number) => void,
): Promise<void> {
  const chain = req.chain ?? [];
  const full = chain[0];
  if (!full || full.entry.format !== 'sqlite-db') {
    throw saidError(
      phrase('sqlite.chainNoFull', { set: req.setId, db: req.db.name, base: req.entry.base ?? '?' }),
      phrase('sqlite.chainHint', { set: req.setId }),
    );
  }
  // Each delta holds the pages changed since its base: applied on another set, it gives another database.
  const deltas = [...chain.slice(1), { setId: req.setId, entry: req.entry, openPart: req.openPart }];
  deltas.forEach((step, i) => {
    const before = i === 0 ? full.setId : deltas[i - 1]!.setId;
    if (step.entry.base !== undefined && step.entry.base !== before)
      throw saidError(
        phrase('sqlite.chainGap', { set: step.setId, db: req.db.name, base: step.entry.base, before }),
        phrase('sqlite.chainHint', { set: req.setId }),
      );
  });
  let done = 0;
  const counted = (part: Readable): Readable =>
    pipeline(
      part,
      writtenBytes((bytes) => report(done + bytes)),
      () => undefined,
    );
  await pipeToNewFile(counted(full.openPart()), staging, { mode: 0o600, highWaterMark: 1 << 20, signal });
  done += full.entry.rawBytes;
  const fh = await fsp.open(staging, 'r+');
  try {
    const head = Buffer.alloc(100);
    await fh.read(head, 0, 100, 0);
    const pageSize = pageSizeOf(head);
    for (const step of deltas) {
      if (signal.aborted) throw new InterruptedError(phrase('error.interruptedBeforeSwap'));
      if (step.entry.format !== 'sqlite-pages')
        throw saidError(
          phrase('sqlite.chainNotDelta', { set: step.setId, db: req.db.name, format: step.entry.format }),
          phrase('sqlite.chainNotDeltaHint'),
        );
      await applyDelta(counted(step.openPart()), fh, pageSize);
      done += step.entry.rawBytes;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A pass-through that reports the bytes through it so far: every 250 ms, and every 16 MiB on a fast disk. */
function writtenBytes(report: (bytes: number) => void): Transform {
  let bytes = 0;
  let lastBytes = 0;
  let last = Date.now();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      const now = Date.now();
      if (now - last >= 250 || bytes - lastBytes >= 16 << 20) {
        last = now;
        lastBytes = bytes;
        report(bytes);
      }
      cb(null, chunk);
    },
  });
}

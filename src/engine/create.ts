/**
 * A backup run: `createBackup` plans it on the sets there (create-plan.ts), takes the lock, runs `executeBackup` (each
 * database through its driver, the files through files.ts, their entries spilled as they are stored, the set
 * published whole or not at all), then tells the channels. Why one file of about 460 lines: the run's order (lock,
 * staging, databases at once, files, manifest, publish, copy, alerts) and what each failure leaves are read here
 * in one place; the parts that stand alone are already their own modules (plan, recover, publish, spill).
 */
import { entryRawBytes } from './manifest.js';
import { hostname } from 'node:os';
import { CORES } from '../core/cores.js';
import { join } from 'node:path';
import { DiskFullError, InterruptedError, RespaldoError, asOperatorError, errorMessage } from '../core/errors.js';
import { type Reporter } from '../core/events.js';
import {
  CHAIN_TYPES,
  type DatabaseEntry,
  type ErrorPhrases,
  type FolderEntry,
  type LoadedConfig,
  type Manifest,
  type NotifyEventKind,
  type SetStatus,
} from '../core/types.js';
import { VERSION } from '../version.js';
import { folderEntries, scanFiles, storeFiles } from './files.js';
import { FileEntrySpill } from './file-spill.js';
import { ensurePrivateDir, removeTree } from './fs-util.js';
import { encryptsLocally, sealerFor } from './crypt.js';
import { copyAfterBackup } from './copy.js';
import { withLock, type LockWait } from './lock.js';
import { writeLog } from './log.js';
import { ranBy } from '../core/who.js';
import { writeMetrics } from './metrics.js';
import { newSetId } from './set-id.js';
import { publishSet, publishedFiles, stagingDir, takenSetIds } from './publish-set.js';
import { planNextReads, readChainSets, withNextFilesHashed, type NextReads } from './chain-sets.js';

import { chainFacts, planBackup, type BackupPlan, type CreateOptions, folderReplaced } from './create-plan.js';
import { backupDatabase, errorPhrases, freeSpace, runFailed } from './create-database.js';
import { cleanLeftovers, recoverInterrupted } from './create-recover.js';
import { lowSpace, refuseFillingDatabaseDisk } from './create-room.js';
import { phrase, said, saidOf } from '../core/phrases.js';

export {
  DEFAULT_GZIP_LEVEL,
  chainFacts,
  codecFor,
  gzipLevelFor,
  levelFor,
  planBackup,
  type BackupPlan,
  type CreateOptions,
} from './create-plan.js';
export { cleanLeftovers, recoverInterrupted } from './create-recover.js';
export { fileGroupCounts, publishedManifestPath } from './publish-set.js';

/**
 * The plan of a differential or incremental on the published sets: planBackup on readChainSets, made again when a
 * file of a chosen base that only the next backup reads (SQLite's page map) does not match its manifest (that base is
 * then not read: withNextFilesHashed). The run, `create --dry-run` and the menu's preview plan with it.
 */
export async function planOnSets(cfg: LoadedConfig, opts: CreateOptions): Promise<BackupPlan> {
  const sets = readChainSets(cfg);
  const plan = planBackup(cfg, { ...opts, chainSets: sets });
  // What it read of those files is kept with the plan: the run's backups on those bases do not read them again.
  const reads: NextReads = new Map();
  const hashed = await withNextFilesHashed(cfg, sets, plan.databases, reads);
  const planned = hashed ? planBackup(cfg, { ...opts, chainSets: hashed }) : plan;
  if (reads.size) planNextReads.set(planned, reads);
  return planned;
}

/**
 * Backs up per the options, holding the backup folder lock. Returns the published manifest. A run that waited for the
 * lock (`lockWait`) plans again once it holds it: meanwhile a prune may have removed the base it chose, or a create
 * made a newer one.
 */
export async function createBackup(cfg: LoadedConfig, opts: CreateOptions, reporter: Reporter): Promise<Manifest> {
  const moved = opts.backupDirIs && folderReplaced(cfg.backupDir, opts.backupDirIs);
  if (moved) {
    await notifyOutcome(cfg, opts, reporter, null, moved);
    throw moved;
  }
  const chained = (CHAIN_TYPES as readonly (string | undefined)[]).includes(opts.type) && !opts.chainSets;
  const planNow = (): Promise<BackupPlan> | BackupPlan => (chained ? planOnSets(cfg, opts) : planBackup(cfg, opts));
  let plan = await planNow();
  let waited = false;
  const { lockWait } = opts;
  const wait: LockWait | undefined = lockWait && {
    held: (held) => {
      waited = true;
      return lockWait.held(held);
    },
    free: () => lockWait.free?.(),
  };
  let manifest: Manifest;
  try {
    manifest = await withLock(
      cfg.backupDir,
      'create',
      async () => {
        if (waited) plan = await planNow();
        await recoverInterrupted(
          cfg,
          plan.databases.map((d) => d.name),
          reporter,
          opts.signal,
        );
        return executeBackup(cfg, plan, reporter, opts.signal, 'backup', {
          ...(opts.ignoreFreeSpace ? { ignoreFreeSpace: true } : {}),
        });
      },
      // A backup needs room there: a disk with none for the lock refuses it at once.
      { needsRoom: true, wait },
    );
  } catch (err) {
    if (!(err instanceof InterruptedError)) await notifyOutcome(cfg, opts, reporter, null, err);
    await writeMetrics(cfg);
    throw err;
  }
  // off-site copies (engine/copy.ts); failures are marked, never thrown
  const copies = await copyAfterBackup(cfg, manifest, reporter, opts.signal);
  opts.onCopied?.(copies);
  const notCopied = copies
    .filter((c) => !c.ok)
    .map((c) => ({
      destination: c.destination,
      error: c.error ?? '',
      ...(c.errorPhrase ? { phrases: { message: c.errorPhrase } } : {}),
    }));
  await notifyOutcome(cfg, opts, reporter, manifest, null, notCopied);
  await writeMetrics(cfg);
  return manifest;
}

/** Tells the configured channels how a backup ended (never throws; see notify()). */
async function notifyOutcome(
  cfg: LoadedConfig,
  opts: CreateOptions,
  reporter: Reporter,
  m: Manifest | null,
  err: unknown,
  notCopied: { destination: string; error: string; phrases?: ErrorPhrases }[] = [],
): Promise<void> {
  if (!cfg.notifications?.length) return;
  const { notify, channelName } = await import('../notify/notify.js');
  const { wants } = await import('../notify/message.js');
  // A mail server that never answers holds the end of the run for up to its timeouts and retries: said first, so
  // the operator at the terminal knows the backup is done and what is being waited on.
  const telling = (kind: NotifyEventKind) => {
    const names = (cfg.notifications ?? []).flatMap((c, i) => (wants(c, kind) ? [channelName(c, i)] : []));
    if (names.length)
      reporter.emit({ type: 'info', ...said('note.notifying', { name: names.join(', '), count: names.length }) });
  };
  const operation = opts.job ? 'scheduled backup' : 'create';
  // Stopped as it tells them (the scheduler's abort, Ctrl-C): a channel that does not answer is given up at once.
  const stop = opts.signal ? { signal: opts.signal } : {};
  if (!m) {
    const e = asOperatorError(err);
    const hint = e instanceof RespaldoError ? e.hint : undefined;
    telling('failure');
    await notify(
      cfg,
      {
        kind: 'failure',
        operation,
        host: hostname(),
        at: new Date(),
        job: opts.job ?? null,
        error: {
          message: errorMessage(e),
          ...(hint ? { hint } : {}),
          ...(e instanceof RespaldoError && e.phrases ? { phrases: e.phrases } : {}),
        },
      },
      stop,
    );
    return;
  }
  // A set that is not off-site where the config wants it is not a success to report: those who follow partial
  // backups are told (a copy failure was mailed as "backup succeeded").
  const kind =
    m.status === 'completed' && !notCopied.length ? 'success' : m.status === 'failed' ? 'failure' : 'partial';
  const databases = m.databases.map((d) => ({
    name: d.name,
    ok: !d.error,
    ...(d.error ? { error: d.error.message } : {}),
    ...(d.error?.hint ? { hint: d.error.hint } : {}),
    ...(d.error && errorPhrases(d.error) ? { phrases: errorPhrases(d.error) } : {}),
  }));
  const fileProblems = m.warnings.length;
  telling(kind);
  await notify(
    cfg,
    {
      kind,
      operation,
      host: m.host,
      at: new Date(m.completedAt),
      setId: m.id,
      job: m.job,
      databases,
      ...(kind !== 'success' && fileProblems ? { fileProblems, fileNotes: m.warnings.slice(0, 5) } : {}),
      ...(notCopied.length ? { notCopied } : {}),
    },
    stop,
  );
}

/**
 * Runs up to `limit` tasks at a time. After a failure no new task starts, and it waits for the
 * running ones to settle before rethrowing, so no task outlives the run (and its staging folder).
 */
async function runPool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined && !failed; item = queue.shift()) {
      try {
        await task(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const results = await Promise.allSettled(workers);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * Carries a plan out while the caller holds the lock: writes the set under `.tmp-<id>`, fsyncs every
 * file and folder, then renames it into place. On interruption the staging folder is removed. A backup short of
 * room on the data disk of a PostgreSQL server it backs up is refused first (create-room.ts), unless
 * `ignoreFreeSpace`.
 */
export async function executeBackup(
  cfg: LoadedConfig,
  plan: BackupPlan,
  reporter: Reporter,
  signal: AbortSignal | undefined,
  purpose: 'backup' | 'safety',
  opts: { ignoreFreeSpace?: boolean } = {},
): Promise<Manifest> {
  await ensurePrivateDir(cfg.backupDir);
  // What killed runs left, said: a safety set among it (a restore killed before it replaced anything) is a set.
  for (const s of await cleanLeftovers(cfg)) reporter.emit({ type: 'warning', ...s });
  // After that cleanup: judged with a killed backup's staging folder still there, the room it holds would refuse
  // every backup after it, and none would remove it.
  if (purpose === 'backup' && !opts.ignoreFreeSpace) await refuseFillingDatabaseDisk(cfg, plan);
  const started = new Date();
  const id = newSetId(started, takenSetIds(cfg.backupDir));
  const staging = stagingDir(cfg.backupDir, id);
  const abort = new AbortController();
  const onAbort = () => abort.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const items = [...plan.databases.map((d) => d.name), ...(plan.files ? ['files'] : [])];
  reporter.emit({ type: 'run-start', operation: 'create', setId: id, items });
  writeLog(
    cfg.backupDir,
    'create-start',
    {
      setId: id,
      type: plan.setType,
      databases: plan.databases.map((d) => d.name),
      files: plan.files,
      job: plan.job,
      ranBy: ranBy(),
    },
    cfg.secrets,
  );
  const spaceWarning = purpose === 'backup' ? await lowSpace(cfg, plan) : null;
  if (spaceWarning) reporter.emit({ type: 'warning', ...spaceWarning });
  let spill: FileEntrySpill | undefined;
  try {
    await ensurePrivateDir(staging);
    await ensurePrivateDir(join(staging, 'databases'));
    const entries = new Map<string, DatabaseEntry>();
    const dbConfigs = plan.databases.map((p) => cfg.databases.find((d) => d.name === p.name)!);
    const parallel = Math.max(1, Math.min(CORES, 4));
    const sealer = encryptsLocally(cfg.encryption) ? sealerFor(cfg.encryption) : undefined;
    await runPool(dbConfigs, parallel, async (db) => {
      entries.set(db.name, await backupDatabase(cfg, db, plan, id, staging, reporter, abort.signal, purpose, sealer));
    });
    if (abort.signal.aborted) throw new InterruptedError();

    const warnings: string[] = spaceWarning ? [spaceWarning.message] : [];
    let fileProblems: string[] = [];
    let folders: FolderEntry[] = [];
    let storedFileBytes = 0;
    if (plan.files) {
      const t0 = Date.now();
      reporter.emit({ type: 'item-start', item: 'files', kind: 'files' });
      const scan = await scanFiles(cfg);
      warnings.push(...scan.warnings.map((w) => w.message));
      scan.warnings.forEach((w) => reporter.emit({ type: 'warning', item: 'files', ...w }));
      const total = scan.items.totalSize;
      let done = 0;
      spill = new FileEntrySpill(join(staging, SPILL_NAME));
      const stored = await storeFiles(
        scan.items,
        staging,
        { codec: plan.codec, level: plan.compressionLevel, sealer },
        abort.signal,
        (item) => {
          done += item.size;
          reporter.emit({ type: 'item-progress', item: 'files', bytes: done, totalBytes: total });
        },
        undefined,
        spill,
      );
      if (abort.signal.aborted) throw new InterruptedError();
      warnings.push(...stored.warnings.map((w) => w.message));
      stored.warnings.forEach((w) => reporter.emit({ type: 'warning', item: 'files', ...w }));
      folders = folderEntries(scan.folders, spill.holding);
      const problems = [...scan.problems, ...stored.problems];
      problems.forEach((p) => reporter.emit({ type: 'warning', item: 'files', ...p }));
      fileProblems = problems.map((p) => p.message);
      storedFileBytes = stored.storedBytes;
      const storedBytes = storedFileBytes;
      const full = stored.diskFull
        ? new DiskFullError(cfg.backupDir, 'storing the files', await freeSpace(cfg.backupDir))
        : null;
      reporter.emit({
        type: 'item-end',
        item: 'files',
        ok: fileProblems.length === 0,
        bytes: storedBytes,
        durationMs: Date.now() - t0,
        ...(fileProblems.length
          ? { error: full ? full.message : `${fileProblems.length} file(s) could not be stored: ${fileProblems[0]}` }
          : {}),
        ...(full?.hint ? { hint: full.hint } : {}),
      });
      writeLog(
        cfg.backupDir,
        'files',
        {
          setId: id,
          files: spill.count,
          bytes: storedBytes,
          problems: fileProblems,
          outcome: fileProblems.length ? 'partial' : 'ok',
        },
        cfg.secrets,
      );
    }

    const dbEntries = plan.databases.map((p) => entries.get(p.name)!);
    const failedDbs = dbEntries.filter((e) => e.error);
    const chain = chainFacts(plan, dbEntries);
    chain.chainNotePhrases?.forEach((n) => reporter.emit({ type: 'info', ...saidOf(n) }));
    if (chain.chainNotes)
      writeLog(
        cfg.backupDir,
        'chain-fallback',
        { setId: id, requested: plan.type, type: chain.type, notes: chain.chainNotes },
        cfg.secrets,
      );
    const fileCount = spill?.count ?? 0;
    const nothingStored = dbEntries.length === failedDbs.length && fileCount === 0;
    const status: SetStatus = nothingStored
      ? 'failed'
      : failedDbs.length || fileProblems.length
        ? 'partial'
        : 'completed';
    const manifest: Manifest = {
      schemaVersion: 1,
      id,
      type: chain.type ?? plan.setType,
      description: plan.description,
      startedAt: started.toISOString(),
      completedAt: new Date().toISOString(),
      status,
      tool: { name: 'respaldo', version: VERSION },
      host: hostname(),
      job: plan.job,
      ranBy: ranBy(),
      restoreOf: plan.restoreOf,
      compressionLevel: plan.compressionLevel,
      codec: plan.codec,
      ...(sealer ? { encryption: sealer.describe } : {}),
      databases: dbEntries,
      files: [], // written from the spill, read back from the manifest (publishedFiles)
      ...(folders.length ? { folders } : {}),
      warnings: [...warnings, ...fileProblems],
      totals: {
        storedBytes:
          dbEntries.reduce((s, e) => s + e.storedBytes + (e.extras ?? []).reduce((x, f) => x + f.storedBytes, 0), 0) +
          storedFileBytes,
        // as storedBytes: every stored file of a database (its page map, its globals), before compression
        rawBytes: dbEntries.reduce((s, e) => s + entryRawBytes(e), 0) + (spill?.rawBytes ?? 0),
        files: fileCount,
      },
      ...(chain.type ? { base: chain.base, ...(chain.type !== plan.type ? { requestedType: plan.type } : {}) } : {}),
      ...(chain.chainNotes ? { chainNotes: chain.chainNotes } : {}),
    };
    if (status === 'failed') {
      const hint = phrase(purpose === 'safety' ? 'restore.safetyNotTakenHint' : 'create.checkErrorsHint');
      throw runFailed(purpose, failedDbs, hint, { setId: id });
    }
    await publishSet(cfg.backupDir, manifest, abort.signal, spill);
    publishedFiles(manifest, join(cfg.backupDir, id), spill?.groups);
    writeLog(
      cfg.backupDir,
      'create-end',
      {
        setId: id,
        type: plan.setType,
        status,
        bytes: manifest.totals.storedBytes,
        durationMs: Date.now() - started.getTime(),
        outcome: status,
      },
      cfg.secrets,
    );
    reporter.emit({
      type: 'run-end',
      ok: status === 'completed',
      setId: id,
      status,
      durationMs: Date.now() - started.getTime(),
    });
    return manifest;
  } catch (err) {
    spill?.remove();
    await removeTree(staging);
    const interrupted = abort.signal.aborted || err instanceof InterruptedError;
    writeLog(
      cfg.backupDir,
      'create-end',
      {
        setId: id,
        type: plan.setType,
        outcome: interrupted ? 'interrupted' : 'failed',
        error: errorMessage(err),
        durationMs: Date.now() - started.getTime(),
      },
      cfg.secrets,
    );
    reporter.emit({
      type: 'run-end',
      ok: false,
      setId: id,
      status: 'failed',
      durationMs: Date.now() - started.getTime(),
    });
    if (interrupted && !(err instanceof InterruptedError)) throw new InterruptedError();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The spill of a create's file entries in its staging folder (removed once the manifest is written). */
const SPILL_NAME = '.spill~files';

import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import {
  DiskFullError,
  InterruptedError,
  RespaldoError,
  UsageError,
  asOperatorError,
  errorMessage,
  isDiskFull,
  isRespaldoError,
} from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import { throttled, type Reporter } from '../core/events.js';
import {
  CHAIN_TYPES,
  type BackupType,
  type ChainType,
  type CodecName,
  type DatabaseConfig,
  type DatabaseEntry,
  type LoadedConfig,
  type Manifest,
  type SetStatus,
  type SetType,
  type StoredFile,
} from '../core/types.js';
import { configuredDatabase } from '../config/lookup.js';
import type { DriverContext, DumpMember } from '../drivers/driver.js';
import { capabilitiesOf } from '../drivers/capabilities.js';
import { driverFor } from '../drivers/registry.js';
import { VERSION } from '../version.js';
import { scanFiles, storeFiles } from './files.js';
import { ensurePrivateDir, freeBytesAt } from './fs-util.js';
import { storeStream } from './store.js';
import { AGE_EXTENSION, encryptsLocally, sealerFor, type Sealer } from './crypt.js';
import { listSets, readManifest } from './catalog.js';
import { copyAfterBackup } from './copy.js';
import { processAlive, withLock } from './lock.js';
import { sweepTemps } from './temp-journal.js';
import { writeLog } from './log.js';
import { codec, defaultCodecName } from './codec.js';
import { ranBy } from '../core/who.js';
import { writeMetrics } from './metrics.js';
import { isSetId, newSetId } from './set-id.js';
import { publishSet, stagingDir, takenSetIds } from './publish-set.js';
import { chooseBase, type ChainSet } from './chain.js';
import { readChainSets } from './chain-sets.js';
import { openStoredPart } from './stored-part.js';

export interface CreateOptions {
  /** Database names (default: all in the config). */
  databases?: string[];
  type?: BackupType;
  /** Include config and application files (default true). */
  files?: boolean;
  description?: string;
  /** Scheduler job name, recorded in the manifest. */
  job?: string;
  signal?: AbortSignal;
  /** Differential and incremental: the published sets bases are chosen from (createBackup reads them). */
  chainSets?: readonly ChainSet[];
}

/** A printable plan of one backup run. Pure data. */
export interface BackupPlan {
  setType: SetType;
  type: BackupType;
  /**
   * `compressionLevel`: the level of this database's dump in `codec` (see levelFor). Differential and
   * incremental runs: `type` is what this database gets, `base` the set it applies on, `fallback` why
   * it is stored as a full instead.
   */
  databases: {
    name: string;
    engine: string;
    location: string;
    compressionLevel: number;
    type?: BackupType;
    base?: string;
    fallback?: string;
  }[];
  files: boolean;
  /** Codec of every compressed file of the set (see codecFor). */
  codec: CodecName;
  /** Level of the copied files in `codec`. */
  compressionLevel: number;
  description: string | null;
  job: string | null;
  restoreOf: string | null;
  /** The type asked for when no database could be stored as it (every one fell back to a full). */
  requestedType?: BackupType;
}

/** gzip level when neither the config nor the engine says otherwise. */
export const DEFAULT_GZIP_LEVEL = 6;

/**
 * The codec of new sets: `compression.codec`, else zstd where this Node has it (22.15+), else gzip.
 * A configured zstd on a Node without it is an operator error naming the Node to use.
 */
export function codecFor(cfg: Pick<LoadedConfig, 'compression' | 'file'>): CodecName {
  const name = cfg.compression.codec ?? defaultCodecName();
  if (!codec(name).available()) {
    throw new UsageError(
      `${cfg.file}: compression.codec is "${name}", which Node ${process.versions.node} does not have.`,
      'Run respaldo on Node 22.15 or later (24 LTS recommended), or set compression.codec to "gzip".',
    );
  }
  return name;
}

/**
 * Pure: the level of one database's dump in `codecName`: `databases[].compressionLevel`, else
 * `compression.level`, else for gzip the engine's default (PostgreSQL 1: pg_dump streams faster than
 * gzip -6 compresses on a small machine) or DEFAULT_GZIP_LEVEL, for zstd the codec's default (3).
 */
export function levelFor(cfg: Pick<LoadedConfig, 'compression'>, db: DatabaseConfig, codecName: CodecName): number {
  const configured = db.compressionLevel ?? cfg.compression.level;
  if (configured !== undefined) return configured;
  if (codecName === 'zstd') return codec('zstd').defaultLevel;
  return driverFor(db.engine).defaultCompressionLevel ?? DEFAULT_GZIP_LEVEL;
}

/** Pure: the gzip level of one database's dump (levelFor with gzip). */
export function gzipLevelFor(cfg: Pick<LoadedConfig, 'compression'>, db: DatabaseConfig): number {
  return levelFor(cfg, db, 'gzip');
}

/**
 * Pure: what a `create` with these options will do. Unknown names are not found (exit 8), unsupported
 * types usage errors.
 */
export function planBackup(
  cfg: LoadedConfig,
  opts: CreateOptions & { setType?: SetType; restoreOf?: string },
): BackupPlan {
  const type = opts.type ?? 'full';
  const codecName = codecFor(cfg);
  const wanted = opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  const chainType = (CHAIN_TYPES as readonly string[]).includes(type) ? (type as ChainType) : null;
  const dbs = wanted.map((name) => {
    const db = configuredDatabase(cfg, name);
    const driver = driverFor(db.engine);
    if (chainType) {
      const where = {
        name: db.name,
        engine: db.engine,
        location: driver.describe(db),
        compressionLevel: levelFor(cfg, db, codecName),
      };
      if (!driver.chains?.includes(chainType))
        return { ...where, type: 'full' as const, fallback: `${db.engine} has no ${chainType} backups yet` };
      const optedOut = driver.chainFallback?.(db, chainType);
      if (optedOut) return { ...where, type: 'full' as const, fallback: optedOut };
      // A delta is made and restored against its base's stored files, which are ciphertext in an encrypted set.
      if (encryptsLocally(cfg.encryption)) {
        return {
          ...where,
          type: 'full' as const,
          fallback: `chains of encrypted sets are not built yet: ${db.name} is stored full`,
        };
      }
      const choice = chooseBase(opts.chainSets ?? [], chainType, db.name);
      return 'base' in choice
        ? { ...where, type: chainType, base: choice.base }
        : { ...where, type: 'full' as const, fallback: choice.fallback };
    }
    if (!driver.types.includes(type)) {
      throw new UsageError(
        `${db.engine} cannot make a "${type}" backup of ${db.name}.`,
        `Use --type ${driver.types.join(' or ')}, or leave ${db.name} out with --db.`,
      );
    }
    return {
      name: db.name,
      engine: db.engine,
      location: driver.describe(db),
      compressionLevel: levelFor(cfg, db, codecName),
    };
  });
  const files = opts.files !== false && (opts.setType ?? type) !== 'pre_restore';
  if (!dbs.length && !(files && (cfg.files.config.length || cfg.files.application.length))) {
    throw new UsageError(
      'Nothing to back up: no databases and no files are configured.',
      `Add databases or files to ${cfg.file}.`,
    );
  }
  const allFull = chainType !== null && !dbs.some((d) => 'base' in d && d.base);
  return {
    setType: opts.setType ?? (allFull ? 'full' : type),
    type,
    ...(allFull ? { requestedType: type } : {}),
    databases: dbs,
    files,
    codec: codecName,
    compressionLevel: cfg.compression.level ?? codec(codecName).defaultLevel,
    description: opts.description ?? null,
    job: opts.job ?? null,
    restoreOf: opts.restoreOf ?? null,
  };
}

/** Backs up per the options, holding the backup folder lock. Returns the published manifest. */
export async function createBackup(cfg: LoadedConfig, opts: CreateOptions, reporter: Reporter): Promise<Manifest> {
  const chained = (CHAIN_TYPES as readonly (string | undefined)[]).includes(opts.type) && !opts.chainSets;
  const plan = planBackup(cfg, chained ? { ...opts, chainSets: readChainSets(cfg) } : opts);
  let manifest: Manifest;
  try {
    manifest = await withLock(cfg.backupDir, 'create', async () => {
      await recoverInterrupted(
        cfg,
        plan.databases.map((d) => d.name),
        reporter,
        opts.signal,
      );
      return executeBackup(cfg, plan, reporter, opts.signal, 'backup');
    });
  } catch (err) {
    if (!(err instanceof InterruptedError)) await notifyOutcome(cfg, opts, null, err);
    await writeMetrics(cfg);
    throw err;
  }
  // off-site copies (engine/copy.ts); failures are marked, never thrown
  await copyAfterBackup(cfg, manifest, reporter, opts.signal);
  await notifyOutcome(cfg, opts, manifest, null);
  await writeMetrics(cfg);
  return manifest;
}

/** Tells the configured channels how a backup ended (never throws; see notify()). */
async function notifyOutcome(cfg: LoadedConfig, opts: CreateOptions, m: Manifest | null, err: unknown): Promise<void> {
  if (!cfg.notifications?.length) return;
  const { notify } = await import('../notify/notify.js');
  const operation = opts.job ? 'scheduled backup' : 'create';
  if (!m) {
    const e = asOperatorError(err);
    const hint = e instanceof RespaldoError ? e.hint : undefined;
    await notify(cfg, {
      kind: 'failure',
      operation,
      host: hostname(),
      at: new Date(),
      job: opts.job ?? null,
      error: { message: errorMessage(e), ...(hint ? { hint } : {}) },
    });
    return;
  }
  const kind = m.status === 'completed' ? 'success' : m.status === 'partial' ? 'partial' : 'failure';
  const databases = m.databases.map((d) => ({
    name: d.name,
    ok: !d.error,
    ...(d.error ? { error: d.error.message } : {}),
    ...(d.error?.hint ? { hint: d.error.hint } : {}),
  }));
  const fileProblems = m.warnings.length;
  await notify(cfg, {
    kind,
    operation,
    host: m.host,
    at: new Date(m.completedAt),
    setId: m.id,
    job: m.job,
    databases,
    ...(kind !== 'success' && fileProblems ? { fileProblems } : {}),
  });
}

/**
 * Finishes what killed restores left for these databases (each driver's `recover`: a temporary
 * `__restore_` database dropped, a swap cut in the middle completed or undone), while the caller
 * holds the lock, so never while a restore runs. Each action is reported as a warning and logged;
 * a database that cannot be reached is left to the backup itself to report. Returns the actions.
 */
export async function recoverInterrupted(
  cfg: LoadedConfig,
  databases: string[],
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<string[]> {
  const done: string[] = [];
  const scratchDir = join(cfg.backupDir, `.tmp-restore-${process.pid}`);
  // Loaded here: restore.ts imports this module.
  const { finishInterruptedSwapBacks } = await import('./restore.js');
  for (const a of await finishInterruptedSwapBacks(cfg, reporter)) {
    reporter.emit({ type: 'warning', message: a });
    done.push(a);
  }
  try {
    for (const name of databases) {
      const db = cfg.databases.find((d) => d.name === name);
      if (!db || signal?.aborted) continue;
      const ctx: DriverContext = {
        reporter,
        signal: signal ?? new AbortController().signal,
        scratchDir,
        log: (message, fields) => writeLog(cfg.backupDir, 'driver', { db: db.name, message, ...fields }, cfg.secrets),
      };
      let actions: string[];
      try {
        await ensurePrivateDir(cfg.backupDir);
        actions = await driverFor(db.engine).recover(db, ctx);
      } catch (err) {
        writeLog(cfg.backupDir, 'recover', { db: db.name, outcome: 'failed', error: errorMessage(err) }, cfg.secrets);
        continue;
      }
      for (const a of actions) {
        reporter.emit({ type: 'warning', item: db.name, message: `finished an interrupted restore: ${a}` });
      }
      if (actions.length) {
        writeLog(cfg.backupDir, 'recover', { db: db.name, actions, outcome: 'ok', by: 'create' }, cfg.secrets);
      }
      done.push(...actions.map((a) => `${db.name}: ${a}`));
    }
  } finally {
    await fsp.rm(scratchDir, { recursive: true, force: true });
  }
  return done;
}

/**
 * Removes staging folders (and journaled temporary paths elsewhere) left by killed runs. Only called while holding the
 * lock.
 */
export async function cleanLeftovers(cfg: LoadedConfig): Promise<string[]> {
  const removed: string[] = [];
  const ours = `.tmp-restore-${process.pid}`; // the scratch of a restore in this process (safety copies run inside it)
  for (const name of readdirSync(cfg.backupDir)) {
    if (name === ours) continue;
    const restoreScratch = /^\.tmp-(?:restore|drill)-(\d+)$/.exec(name); // a restore's or a drill's scratch folder
    const mine =
      (name.startsWith('.tmp-') && isSetId(name.slice(5))) ||
      /^\.deleting-\d{8}_\d{6}\S*-\d+$/.test(name) ||
      (restoreScratch && !processAlive(Number(restoreScratch[1])));
    if (mine) {
      await fsp.rm(join(cfg.backupDir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  removed.push(...(await sweepTemps(cfg.backupDir)));
  if (removed.length)
    writeLog(cfg.backupDir, 'cleanup', { removed, reason: 'left by an interrupted run' }, cfg.secrets);
  return removed;
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
 * file and folder, then renames it into place. On interruption the staging folder is removed.
 */
export async function executeBackup(
  cfg: LoadedConfig,
  plan: BackupPlan,
  reporter: Reporter,
  signal: AbortSignal | undefined,
  purpose: 'backup' | 'safety',
): Promise<Manifest> {
  await ensurePrivateDir(cfg.backupDir);
  await cleanLeftovers(cfg);
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
  if (spaceWarning) reporter.emit({ type: 'warning', message: spaceWarning });
  try {
    await ensurePrivateDir(staging);
    await ensurePrivateDir(join(staging, 'databases'));
    const entries = new Map<string, DatabaseEntry>();
    const dbConfigs = plan.databases.map((p) => cfg.databases.find((d) => d.name === p.name)!);
    const parallel = Math.max(1, Math.min(availableParallelism(), 4));
    const sealer = encryptsLocally(cfg.encryption) ? sealerFor(cfg.encryption) : undefined;
    await runPool(dbConfigs, parallel, async (db) => {
      entries.set(db.name, await backupDatabase(cfg, db, plan, id, staging, reporter, abort.signal, purpose, sealer));
    });
    if (abort.signal.aborted) throw new InterruptedError();

    const warnings: string[] = spaceWarning ? [spaceWarning] : [];
    let fileProblems: string[] = [];
    let fileEntries: Manifest['files'] = [];
    if (plan.files) {
      const t0 = Date.now();
      reporter.emit({ type: 'item-start', item: 'files', kind: 'files' });
      const scan = await scanFiles(cfg);
      warnings.push(...scan.warnings);
      scan.warnings.forEach((w) => reporter.emit({ type: 'warning', item: 'files', message: w }));
      const total = scan.items.reduce((s, i) => s + i.size, 0);
      let done = 0;
      const stored = await storeFiles(
        scan.items,
        staging,
        { codec: plan.codec, level: plan.compressionLevel, sealer },
        abort.signal,
        (item) => {
          done += item.size;
          reporter.emit({ type: 'item-progress', item: 'files', bytes: done, totalBytes: total });
        },
      );
      if (abort.signal.aborted) throw new InterruptedError();
      fileEntries = stored.entries;
      fileProblems = [...scan.problems, ...stored.problems];
      fileProblems.forEach((p) => reporter.emit({ type: 'warning', item: 'files', message: p }));
      const storedBytes = await sumStored(staging, fileEntries);
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
          files: fileEntries.length,
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
    chain.chainNotes?.forEach((n) => reporter.emit({ type: 'info', message: n }));
    if (chain.chainNotes)
      writeLog(
        cfg.backupDir,
        'chain-fallback',
        { setId: id, requested: plan.type, type: chain.type, notes: chain.chainNotes },
        cfg.secrets,
      );
    const nothingStored = dbEntries.length === failedDbs.length && fileEntries.length === 0;
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
      files: fileEntries,
      warnings: [...warnings, ...fileProblems],
      totals: {
        storedBytes:
          dbEntries.reduce((s, e) => s + e.storedBytes + (e.extras ?? []).reduce((x, f) => x + f.storedBytes, 0), 0) +
          (await sumStored(staging, fileEntries)),
        rawBytes: dbEntries.reduce((s, e) => s + e.rawBytes, 0) + fileEntries.reduce((s, f) => s + f.size, 0),
        files: fileEntries.length,
      },
      ...(chain.type ? { base: chain.base, ...(chain.type !== plan.type ? { requestedType: plan.type } : {}) } : {}),
      ...(chain.chainNotes ? { chainNotes: chain.chainNotes } : {}),
    };
    if (status === 'failed') {
      const first = failedDbs[0]?.error;
      throw new RespaldoError(
        'failed',
        `Nothing could be backed up${first ? `: ${first.message}` : ''}. No set was written.`,
        first?.hint ?? 'Check the errors above and the config.',
        { setId: id },
      );
    }
    await publishSet(cfg.backupDir, manifest, abort.signal);
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
    await fsp.rm(staging, { recursive: true, force: true });
    const interrupted = abort.signal.aborted || err instanceof InterruptedError;
    writeLog(
      cfg.backupDir,
      'create-end',
      {
        setId: id,
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

async function sumStored(staging: string, files: Manifest['files']): Promise<number> {
  let total = 0;
  for (const f of files) {
    if (!f.stored) continue;
    const p = join(staging, f.stored);
    if (existsSync(p)) total += (await fsp.stat(p)).size;
  }
  return total;
}

/** Backs up one database into the staging folder; failures become the entry's `error`, not exceptions. */
async function backupDatabase(
  cfg: LoadedConfig,
  db: DatabaseConfig,
  plan: BackupPlan,
  setId: string,
  staging: string,
  reporter: Reporter,
  signal: AbortSignal,
  purpose: 'backup' | 'safety',
  sealer?: Sealer,
): Promise<DatabaseEntry> {
  if (signal.aborted) throw new InterruptedError();
  const driver = driverFor(db.engine);
  const t0 = Date.now();
  const entry: DatabaseEntry = {
    name: db.name,
    engine: db.engine,
    file: null,
    format: '',
    compressed: false,
    rawBytes: 0,
    storedBytes: 0,
    md5: null,
    sha256: null,
    tables: null,
    durationMs: 0,
    error: null,
    details: {},
  };
  const scratchDir = join(staging, `.scratch-${db.name}`);
  reporter.emit({ type: 'item-start', item: db.name, kind: 'database' });
  const ctx: DriverContext = {
    reporter,
    signal,
    scratchDir,
    log: (message, fields) =>
      writeLog(cfg.backupDir, 'driver', { setId, db: db.name, message, ...fields }, cfg.secrets),
  };
  let cleanup: (() => Promise<void>) | undefined;
  try {
    await ensurePrivateDir(scratchDir);
    const planned = plan.databases.find((d) => d.name === db.name);
    // The base was chosen before the lock was taken: a delete in between makes this database a full.
    let baseGone: string | undefined;
    const base = planned?.base
      ? await baseFor(cfg, planned.base, db.name).catch(
          (e: unknown) => void (baseGone = `the base set ${planned.base} is gone (${errorMessage(e)})`),
        )
      : undefined;
    const session = await driver.backup(
      { db, type: planned?.type ?? plan.type, purpose, ...(base ? { base } : {}) },
      ctx,
    );
    cleanup = session.cleanup;
    const fellBack = baseGone ?? session.fellBack;
    if (planned?.base && !fellBack) entry.base = planned.base;
    if (planned?.base && fellBack) entry.details = { chainFallback: fellBack };
    const extras: StoredFile[] = [];
    const level = plan.databases.find((d) => d.name === db.name)?.compressionLevel ?? levelFor(cfg, db, plan.codec);
    const ext = codec(plan.codec).extension;
    for (const part of session.parts) {
      if (signal.aborted) throw new InterruptedError();
      const role = part.role === 'main' ? '' : `.${part.role}`;
      const file = `databases/${db.name}_${setId}${role}.${part.extension}${part.compress ? ext : ''}${sealer ? AGE_EXTENSION : ''}`;
      const seal = sealer ? (await sealer.seal()).stream : undefined;
      const opened = await part.open();
      const progress = throttled((bytes) =>
        reporter.emit({
          type: 'item-progress',
          item: db.name,
          bytes,
          ...(opened.totalBytes !== undefined ? { totalBytes: opened.totalBytes } : {}),
        }),
      );
      // Members of a multi-file dump are stored one after another (each on all cores) as the producer
      // finishes them; their raw bytes count in the progress and in the entry's rawBytes. Each is sealed
      // (encrypted) on its own, like every stored file.
      let membersRaw = 0;
      const storeMembers = async (members: AsyncIterable<DumpMember>): Promise<void> => {
        for await (const member of members) {
          if (!/^[A-Za-z0-9_][A-Za-z0-9_.]*$/.test(member.name))
            throw new Error(`unexpected dump file name ${JSON.stringify(member.name)}`);
          const memberFile = `databases/${db.name}_${setId}.${member.name}${part.compress ? ext : ''}${sealer ? AGE_EXTENSION : ''}`;
          const memberSeal = sealer ? (await sealer.seal()).stream : undefined;
          const base = membersRaw;
          const stored = await storeStream(member.open(), join(staging, memberFile), {
            compress: part.compress,
            codec: plan.codec,
            level,
            signal,
            onProgress: (n) => progress(base + n),
            ...(memberSeal ? { seal: memberSeal } : {}),
          });
          membersRaw += stored.rawBytes;
          extras.push({
            file: memberFile,
            compressed: part.compress,
            ...(part.compress ? { codec: plan.codec } : {}),
            rawBytes: stored.rawBytes,
            storedBytes: stored.storedBytes,
            md5: stored.md5,
            sha256: stored.sha256,
            role: member.role,
            ...(stored.plain ? { plain: stored.plain } : {}),
          });
          await member.stored();
        }
      };
      const [storing, finishing, membering] = await Promise.allSettled([
        storeStream(opened.stream, join(staging, file), {
          compress: part.compress,
          codec: plan.codec,
          level,
          signal,
          onProgress: (n) => progress(membersRaw + n),
          ...(seal ? { seal } : {}),
        }),
        opened.finished,
        opened.members ? storeMembers(opened.members) : Promise.resolve(),
      ]);
      // The producer's own failure explains more than the broken pipe it caused.
      if (finishing.status === 'rejected') throw finishing.reason;
      if (membering.status === 'rejected') throw membering.reason;
      if (storing.status === 'rejected') throw storing.reason;
      const stored = storing.value;
      const facts = finishing.value;
      if (part.role === 'main') {
        Object.assign(entry, {
          file,
          format: part.format,
          compressed: part.compress,
          ...(part.compress ? { codec: plan.codec } : {}),
          rawBytes: stored.rawBytes + membersRaw,
          storedBytes: stored.storedBytes,
          md5: stored.md5,
          sha256: stored.sha256,
          tables: facts.tables,
          details: { ...entry.details, ...facts.details, ...(part.compress ? { [`${plan.codec}Level`]: level } : {}) },
          ...(stored.plain ? { plain: stored.plain } : {}),
        });
      } else {
        extras.push({
          file,
          compressed: part.compress,
          ...(part.compress ? { codec: plan.codec } : {}),
          rawBytes: stored.rawBytes,
          storedBytes: stored.storedBytes,
          md5: stored.md5,
          sha256: stored.sha256,
          role: part.role,
          ...(stored.plain ? { plain: stored.plain } : {}),
        });
      }
    }
    if (extras.length) entry.extras = extras;
    entry.durationMs = Date.now() - t0;
    reporter.emit({
      type: 'item-end',
      item: db.name,
      ok: true,
      bytes: entry.storedBytes,
      durationMs: entry.durationMs,
    });
    writeLog(
      cfg.backupDir,
      'database',
      {
        setId,
        db: db.name,
        engine: db.engine,
        bytes: entry.storedBytes,
        rawBytes: entry.rawBytes,
        durationMs: entry.durationMs,
        outcome: 'ok',
      },
      cfg.secrets,
    );
  } catch (caught) {
    if (signal.aborted) throw new InterruptedError();
    const err = isDiskFull(caught)
      ? new DiskFullError(cfg.backupDir, `storing ${db.name}`, await freeSpace(cfg.backupDir))
      : caught;
    if (!isRespaldoError(err) && !(err instanceof Error && 'code' in err)) throw err;
    const hint = isRespaldoError(err) ? (err.hint ?? null) : null;
    entry.error = { message: errorMessage(err), hint };
    entry.durationMs = Date.now() - t0;
    for (const f of [entry.file].filter(Boolean)) await fsp.rm(join(staging, f!), { force: true });
    Object.assign(entry, { file: null, md5: null, sha256: null, rawBytes: 0, storedBytes: 0 });
    await removePartFiles(staging, db.name, setId);
    reporter.emit({
      type: 'item-end',
      item: db.name,
      ok: false,
      durationMs: entry.durationMs,
      error: entry.error.message,
      ...(hint ? { hint } : {}),
    });
    writeLog(
      cfg.backupDir,
      'database',
      {
        setId,
        db: db.name,
        engine: db.engine,
        durationMs: entry.durationMs,
        outcome: 'failed',
        error: entry.error.message,
      },
      cfg.secrets,
    );
  } finally {
    await cleanup?.().catch((e: unknown) =>
      reporter.emit({ type: 'warning', item: db.name, message: `cleanup failed: ${errorMessage(e)}` }),
    );
    await fsp.rm(scratchDir, { recursive: true, force: true });
  }
  return entry;
}

/**
 * A warning when the disk of the backup folder has less free space than the newest set of the same
 * type needed (its stored size, plus the uncompressed SQLite snapshots made beside it while it was
 * written, with a fifth to spare): said before the run starts, not after it fails.
 */
async function lowSpace(cfg: LoadedConfig, plan: BackupPlan): Promise<string | null> {
  try {
    const previous = (await listSets(cfg, { type: plan.setType })).find((s) => s.status !== 'failed');
    if (!previous) return null;
    const m = await readManifest(cfg, previous.id);
    const snapshots = m.databases
      .filter((d) => capabilitiesOf(d.engine).localSnapshot)
      .reduce((sum, d) => sum + d.rawBytes, 0);
    const needed = (m.totals.storedBytes + snapshots) * 1.2;
    const st = await fsp.statfs(cfg.backupDir);
    const free = st.bavail * st.bsize;
    if (free >= needed) return null;
    return `The disk of the backup folder ${cfg.backupDir} has ${formatBytes(free)} free; the last ${plan.setType} set (${previous.id}) needed about ${formatBytes(needed)} while it was written (${formatBytes(m.totals.storedBytes)} stored). This backup may not fit: free space (respaldo prune --dry-run) or move backupDir to a bigger disk.`;
  } catch {
    return null;
  }
}

/** Free space on the disk of `dir`, for messages (null when it cannot be read). */
async function freeSpace(dir: string): Promise<string | null> {
  const free = await freeBytesAt(dir);
  return free === null ? null : formatBytes(free);
}

async function removePartFiles(staging: string, name: string, setId: string): Promise<void> {
  const dir = join(staging, 'databases');
  for (const f of readdirSync(dir))
    if (f.startsWith(`${name}_${setId}`)) await fsp.rm(join(dir, f), { force: true, recursive: true });
}

/**
 * Pure: what a differential or incremental run became: its type (the one asked for when some database
 * was stored as a delta, else `full`), the newest base its entries apply on, and one note per database
 * stored whole with the reason (the plan's, or the driver's own: `details.chainFallback`). Empty for
 * other types.
 */
export function chainFacts(
  plan: BackupPlan,
  entries: readonly DatabaseEntry[],
): { type?: SetType; base?: string | null; chainNotes?: string[] } {
  if (!(CHAIN_TYPES as readonly string[]).includes(plan.type) || plan.setType === 'pre_restore') return {};
  const bases = entries.flatMap((e) => (e.base && !e.error ? [e.base] : [])).sort();
  const notes: string[] = [];
  for (const p of plan.databases) {
    const e = entries.find((x) => x.name === p.name);
    const why =
      p.fallback ?? (typeof e?.details['chainFallback'] === 'string' ? (e.details['chainFallback'] as string) : null);
    if (why && e && !e.error)
      notes.push(`${p.name}: stored as a full, not ${plan.type === 'differential' ? 'a' : 'an'} ${plan.type}: ${why}`);
  }
  return {
    type: bases.length ? plan.type : 'full',
    base: bases.at(-1) ?? null,
    ...(notes.length ? { chainNotes: notes } : {}),
  };
}

/** What a driver gets of the base a database's delta applies on: the base set's entry and its stored parts. */
async function baseFor(
  cfg: LoadedConfig,
  baseId: string,
  name: string,
): Promise<NonNullable<import('../drivers/driver.js').BackupRequest['base']>> {
  const m = await readManifest(cfg, baseId);
  const entry = m.databases.find((d) => d.name === name);
  if (!entry?.file)
    throw new RespaldoError(
      'failed',
      `Set ${baseId}, the base of this ${name} backup, holds no stored copy of ${name}.`,
      'Run a full backup: respaldo create --type full',
    );
  const dir = join(cfg.backupDir, baseId);
  return { setId: baseId, entry, openPart: (role) => openStoredPart(dir, entry, role) };
}

import { createReadStream, createWriteStream, existsSync, promises as fsp, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InterruptedError, NotFoundError, RefusedError, RespaldoError, UsageError, VerifyError, asOperatorError, errorMessage, isDiskFull } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { english, phrase, type Phrase } from '../core/phrases.js';
import type { CodecName, DatabaseConfig, DatabaseEntry, FileEntry, LoadedConfig, Manifest } from '../core/types.js';
import type { DriverContext, RestoreStepPlan, RestoreTarget, TargetState } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { VERSION } from '../version.js';
import { latestSetId, readManifest, setDir } from './catalog.js';
import { codecOfEntry, decompressorFor } from './codec.js';
import { DEFAULT_GZIP_LEVEL, executeBackup, planBackup } from './create.js';
import { ensurePrivateDir, fsyncPath, fsyncTree, writeFileAtomic } from './fs-util.js';
import { withLock } from './lock.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME, isSafeRelative, readManifestFile } from './manifest.js';
import { newSetId, isSetId } from './set-id.js';
import { checkFiles, expectedFiles } from './verify.js';
import { sweepTemps, trackTemp } from './temp-journal.js';

export interface RestoreOptions {
  /** Databases to restore (default: all of the set, unless only `files` is asked for). */
  databases?: string[];
  /** Restore config and application files (into `to`, or a new folder). */
  files?: boolean;
  /** Side by side: a path (SQLite, files) or a database name (server engines). */
  to?: string;
  /** PostgreSQL: only these tables, side by side. */
  tables?: string[];
  terminateConnections?: boolean;
  /** PostgreSQL: first create the roles stored with the set (`globals: true`) that the server lacks. */
  createRoles?: boolean;
  /** Folder `to` is resolved against (default: process.cwd()). */
  cwd?: string;
  /** Folder holding the set when it is not `<backupDir>/<id>` (a set fetched from a destination). */
  setFolder?: string;
}

export interface DatabaseRestorePlan extends RestoreStepPlan {
  engine: string;
  restoreTarget: RestoreTarget;
  state: TargetState;
  storedBytes: number;
  rawBytes: number;
  format: string;
}

export interface FilesRestorePlan {
  to: string;
  count: number;
  bytes: number;
  symlinks: number;
}

/**
 * Why a restore cannot go on. `sessions` is the only kind an operator can lift at once, by
 * confirming that connected sessions may be closed (`--terminate-connections`, the menu's prompt).
 */
export interface RestoreRefusal {
  kind: 'failed-entry' | 'schema-in-place' | 'target-exists' | 'in-use' | 'sessions' | 'files-target';
  database: string | null;
  message: string;
  hint: string;
  /** `message` and `hint` as phrases, for the menu's languages. */
  phrases?: { message: Phrase; hint: Phrase };
}

/** Everything a restore will do, printable before anything happens. */
export interface RestorePlan {
  setId: string;
  setType: string;
  setStartedAt: string;
  setStatus: string;
  databases: DatabaseRestorePlan[];
  files: FilesRestorePlan | null;
  /** How what is replaced will be kept (`safetyPhrases` joined with "; "). */
  safety: string;
  safetyPhrases?: Phrase[];
  /** Problems that stop the restore; empty when it can go on. */
  refusals: RestoreRefusal[];
  warnings: string[];
  /** `warnings` as phrases, in the same order. */
  warningPhrases?: Phrase[];
  options: RestoreOptions;
}

export interface RestoreOutcome {
  setId: string;
  ok: boolean;
  safetySetIds: string[];
  databases: { name: string; ok: boolean; restoredTo?: string; safetyDatabase?: string; error?: string; hint?: string }[];
  filesRestoredTo: string | null;
  recovered: string[];
}

function dbConfig(cfg: LoadedConfig, name: string): DatabaseConfig {
  const db = cfg.databases.find((d) => d.name === name);
  if (!db) throw new NotFoundError(`Database "${name}" is in the set but not in ${cfg.file}; respaldo does not know where to restore it.`, `Add it under "databases" (with its connection), or restore the file by hand (see README: restoring without respaldo).`);
  return db;
}

function targetFor(db: DatabaseConfig, count: number, to: string | undefined, cwd: string, withFiles: boolean): RestoreTarget {
  if (!to) return { kind: 'in-place' };
  if (driverFor(db.engine).safety === 'renamed-database') {
    if (count > 1) throw new UsageError('--to names one database; it cannot take several.', 'Restore one database at a time with --db NAME --to NEWNAME.');
    return { kind: 'side-by-side', name: to };
  }
  const abs = resolve(cwd, to);
  const isDir = to.endsWith('/') || count > 1 || withFiles || (existsSync(abs) && statSync(abs).isDirectory());
  return { kind: 'side-by-side', name: isDir ? join(abs, basename(db.path ?? `${db.name}.db`)) : abs };
}

/** Pure: how what a plan replaces is kept, one phrase per replaced database (or that nothing is replaced). */
export function safetyOf(databases: readonly Pick<DatabaseRestorePlan, 'database' | 'replaces' | 'safety'>[]): Phrase[] {
  const replaced = databases.filter((d) => d.replaces);
  if (!replaced.length) return [phrase('plan.safetyNone')];
  return replaced.map((d) => (d.safety.kind === 'renamed-database' ? phrase('plan.safetyRenamed', { db: d.database, name: d.safety.name }) : phrase('plan.safetySet', { db: d.database })));
}

/** Reads the set and the targets and says what a restore would do. Changes nothing. */
export async function planRestore(cfg: LoadedConfig, id: string, opts: RestoreOptions): Promise<RestorePlan> {
  const cwd = opts.cwd ?? process.cwd();
  const realId = id === 'latest' ? await latestSetId(cfg, opts.databases ?? []) : id;
  const m = opts.setFolder ? readManifestFile(opts.setFolder) : await readManifest(cfg, realId);
  const onlyFiles = opts.files && !opts.databases?.length;
  const names = onlyFiles ? [] : opts.databases?.length ? opts.databases : m.databases.filter((d) => !d.error).map((d) => d.name);
  const refusals: RestorePlan['refusals'] = [];
  const warningPhrases: Phrase[] = [];
  const databases: DatabaseRestorePlan[] = [];
  const refuse = (kind: RestoreRefusal['kind'], database: string | null, message: Phrase, hint: Phrase): void => {
    refusals.push({ kind, database, message: english(message), hint: english(hint), phrases: { message, hint } });
  };
  for (const name of names) {
    const entry = m.databases.find((d) => d.name === name);
    if (!entry) throw new NotFoundError(`Set ${m.id} holds no database "${name}".`, `It holds: ${m.databases.map((d) => d.name).join(', ') || 'no databases'}.`);
    if (entry.error || !entry.file) {
      refuse('failed-entry', name, phrase('refuse.failedEntry', { db: name, set: m.id, reason: entry.error?.message ?? 'no stored file' }), phrase('refuse.failedEntryHint', { db: name }));
      continue;
    }
    if (entry.format.endsWith('-raw')) {
      refuse('failed-entry', name, phrase('refuse.raw', { set: m.id, db: name, file: entry.file }), phrase('refuse.rawHint', { path: join(setDir(cfg, m.id), entry.file), db: name, cmd: entry.codec === 'zstd' ? 'zstd -dc' : 'gunzip -c' }));
      continue;
    }
    const db = dbConfig(cfg, name);
    const driver = driverFor(db.engine);
    const target = targetFor(db, names.length, opts.to, cwd, Boolean(opts.files));
    if (opts.tables?.length && target.kind === 'in-place') {
      throw new UsageError('--table restores selected tables side by side only.', 'Add --to NEWNAME.');
    }
    if (opts.createRoles && db.engine === 'postgres' && !entry.extras?.some((x) => x.role === 'globals')) {
      throw new UsageError(`Set ${m.id} stored no roles for ${name} ("globals" was not enabled when it was made), so --create-roles has nothing to create.`, 'Create the roles by hand (CREATE ROLE …), then restore without --create-roles.');
    }
    const step = driver.planRestore({ db, entry, setId: m.id, target, ...(opts.tables ? { tables: opts.tables } : {}), ...(opts.createRoles && db.engine === 'postgres' ? { createRoles: true } : {}) });
    const state = await driver.inspectTarget(db, target);
    if (target.kind === 'in-place' && (m.type === 'schema' || entry.format.endsWith('-sql'))) {
      refuse('schema-in-place', name, phrase('refuse.schemaInPlace', { set: m.id, db: name }), phrase('refuse.schemaInPlaceHint'));
    }
    if (target.kind === 'side-by-side' && state.exists) {
      refuse('target-exists', name, phrase('refuse.targetExists', { target: step.target }), phrase('refuse.targetExistsHint'));
    }
    if (target.kind === 'in-place' && state.inUseBy.length) {
      if (driver.safety === 'pre-restore-set') {
        refuse('in-use', name, phrase('refuse.inUse', { target: step.target, users: state.inUseBy.join(', ') }), phrase('refuse.inUseHint'));
      } else if (!opts.terminateConnections) {
        refuse('sessions', name, phrase('refuse.sessions', { count: state.inUseBy.length, db: name, sessions: state.inUseBy.slice(0, 5).join(', ') }), phrase('refuse.sessionsHint'));
      } else {
        warningPhrases.push(phrase('plan.willTerminate', { count: state.inUseBy.length, db: name }));
      }
    }
    databases.push({ ...step, engine: db.engine, restoreTarget: target, state, storedBytes: entry.storedBytes, rawBytes: entry.rawBytes, format: entry.format });
  }
  let files: FilesRestorePlan | null = null;
  if (opts.files) {
    // --to is a folder for files; shared with SQLite databases it holds them beside a files/ folder.
    const sharesFolder = databases.length > 0 && databases.every((d) => driverFor(d.engine as DatabaseConfig['engine']).safety === 'pre-restore-set');
    const to = !opts.to ? join(cfg.baseDir, 'restored', m.id) : onlyFiles ? resolve(cwd, opts.to) : sharesFolder ? join(resolve(cwd, opts.to), 'files') : join(cfg.baseDir, 'restored', m.id);
    if (existsSync(to) && readdirSync(to).length) refuse('files-target', null, phrase('refuse.filesTarget', { to }), phrase('refuse.filesTargetHint'));
    files = { to, count: m.files.filter((f) => f.kind === 'file').length, bytes: m.files.reduce((s, f) => s + f.size, 0), symlinks: m.files.filter((f) => f.kind === 'symlink').length };
    if (!m.files.length) warningPhrases.push(phrase('plan.noFiles', { set: m.id }));
  }
  if (!databases.length && !files && !refusals.length) throw new UsageError('Nothing to restore.', 'Name databases with --db, or add --files.');
  const safetyPhrases = safetyOf(databases);
  return {
    setId: m.id,
    setType: m.type,
    setStartedAt: m.startedAt,
    setStatus: m.status,
    databases,
    files,
    safety: safetyPhrases.map(english).join('; '),
    safetyPhrases,
    refusals,
    warnings: warningPhrases.map(english),
    warningPhrases,
    options: opts,
  };
}

/**
 * Carries out a restore plan: verifies the stored files, keeps a safety copy of what is replaced,
 * restores each database beside its target and swaps it in, then restores files into a new folder.
 * Stops at the first database that fails; what was restored before it is reported.
 */
export async function executeRestore(cfg: LoadedConfig, plan: RestorePlan, reporter: Reporter, opts: { signal?: AbortSignal } = {}): Promise<RestoreOutcome> {
  const first = plan.refusals[0];
  if (first) throw new RefusedError(first.message, first.hint);
  return withLock(cfg.backupDir, `restore ${plan.setId}`, async () => {
    const signal = opts.signal ?? new AbortController().signal;
    const t0 = Date.now();
    const m = plan.options.setFolder ? readManifestFile(plan.options.setFolder) : await readManifest(cfg, plan.setId);
    const dir = plan.options.setFolder ?? setDir(cfg, m.id);
    reporter.emit({ type: 'run-start', operation: 'restore', setId: m.id, items: [...plan.databases.map((d) => d.database), ...(plan.files ? ['files'] : [])] });
    writeLog(cfg.backupDir, 'restore-start', { setId: m.id, databases: plan.databases.map((d) => d.database), files: Boolean(plan.files), to: plan.options.to ?? null }, cfg.secrets);

    reporter.emit({ type: 'item-start', item: 'verify', kind: 'verify' });
    const checks = await checkFiles(dir, expectedFiles(m, plan.databases.map((d) => d.database), Boolean(plan.files)), reporter);
    const bad = checks.filter((c) => !c.ok);
    reporter.emit({ type: 'item-end', item: 'verify', ok: !bad.length, ...(bad.length ? { error: bad.map((b) => `${b.path}: ${b.problem}`).join('; ') } : {}) });
    if (bad.length) {
      writeLog(cfg.backupDir, 'restore-end', { setId: m.id, outcome: 'refused', reason: 'verify failed', problems: bad.map((b) => `${b.path}: ${b.problem}`) }, cfg.secrets);
      const message = phrase('error.restoreVerify', { set: m.id, problems: bad.map((b) => `${b.path}: ${b.problem}`).join('; ') });
      const hint = phrase('error.restoreVerifyHint');
      throw new VerifyError(english(message), english(hint), { files: bad }).withPhrases(message, hint);
    }

    const outcome: RestoreOutcome = { setId: m.id, ok: true, safetySetIds: [], databases: [], filesRestoredTo: null, recovered: [] };
    const ctxFor = (db: DatabaseConfig, scratchDir: string): DriverContext => ({
      reporter,
      signal,
      scratchDir,
      log: (message, fields) => writeLog(cfg.backupDir, 'driver', { setId: m.id, db: db.name, message, ...fields }, cfg.secrets),
      trackTemp: (path) => trackTemp(cfg.backupDir, path),
    });
    const scratchRoot = join(cfg.backupDir, `.tmp-restore-${process.pid}`);
    await ensurePrivateDir(scratchRoot);
    try {
      outcome.recovered.push(...(await sweepTemps(cfg.backupDir)));
      for (const d of plan.databases) {
        const db = dbConfig(cfg, d.database);
        outcome.recovered.push(...(await driverFor(db.engine).recover(db, ctxFor(db, scratchRoot))));
      }
      const needSet = plan.databases.filter((d) => d.replaces && d.safety.kind === 'pre-restore-set');
      const stillThere: string[] = [];
      for (const d of needSet) {
        const db = dbConfig(cfg, d.database);
        const state = await driverFor(db.engine).inspectTarget(db, d.restoreTarget);
        if (state.inUseBy.length) throw new RefusedError(`${d.target} is open in another process (${state.inUseBy.join(', ')}).`, 'Stop the application that uses it, then run the restore again.');
        if (state.exists) stillThere.push(d.database);
      }
      if (stillThere.length) {
        reporter.emit({ type: 'info', message: `Taking a safety copy of ${stillThere.join(', ')} before replacing it` });
        const safetyPlan = planBackup(cfg, { databases: stillThere, files: false, setType: 'pre_restore', restoreOf: m.id, description: `safety copy before restoring set ${m.id}` });
        const safety = await executeBackup(cfg, safetyPlan, reporter, signal, 'safety');
        if (safety.status !== 'completed') {
          const failed = safety.databases.find((x) => x.error);
          throw new RespaldoError('failed', `The safety copy of ${failed?.name ?? 'a database'} failed (${failed?.error?.message ?? safety.status}); nothing was restored.`, failed?.error?.hint ?? 'Fix the problem above, or restore side by side with --to.');
        }
        outcome.safetySetIds.push(safety.id);
      }
      const renamed: DatabaseEntry[] = [];
      try {
        for (const d of plan.databases) {
          if (signal.aborted) throw new InterruptedError();
          const db = dbConfig(cfg, d.database);
          const entry = m.databases.find((x) => x.name === d.database)!;
          const driver = driverFor(db.engine);
          const started = Date.now();
          reporter.emit({ type: 'item-start', item: d.database, kind: 'restore', totalBytes: entry.rawBytes });
          try {
            const partFile = (role = 'main') => (role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role));
            const result = await driver.restore(
              {
                db,
                entry,
                setId: m.id,
                target: d.restoreTarget,
                terminateConnections: Boolean(plan.options.terminateConnections),
                ...(plan.options.createRoles ? { createRoles: true } : {}),
                ...(plan.options.tables ? { tables: plan.options.tables } : {}),
                storedPath: (role) => join(dir, partFile(role)?.file ?? ''),
                openPart: (role) => {
                  const part = partFile(role);
                  if (!part?.file) throw new NotFoundError(`Set ${m.id} has no ${role ?? 'main'} file for ${d.database}.`);
                  const raw = createReadStream(join(dir, part.file), { highWaterMark: 1 << 20 });
                  // pipeline (not pipe): a read error reaches the consumer, and a consumer that stops closes the file.
                  const codec = codecOfEntry(part);
                  return codec ? streamPipeline(raw, codec.decompressor(), () => undefined) : raw;
                },
              },
              ctxFor(db, scratchRoot),
            );
            outcome.databases.push({ name: d.database, ok: true, restoredTo: result.restoredTo, ...(result.safetyDatabase ? { safetyDatabase: result.safetyDatabase } : {}) });
            if (result.safetyDatabase) renamed.push({ ...entry, file: null, md5: null, sha256: null, storedBytes: 0, extras: [], safetyDatabase: result.safetyDatabase, details: { note: `the live database before restoring set ${m.id}, renamed on the server` } });
            reporter.emit({ type: 'item-end', item: d.database, ok: true, durationMs: Date.now() - started });
            writeLog(cfg.backupDir, 'restore-database', { setId: m.id, db: d.database, restoredTo: result.restoredTo, safetyDatabase: result.safetyDatabase ?? null, outcome: 'ok', durationMs: Date.now() - started }, cfg.secrets);
          } catch (caught) {
            if (signal.aborted || caught instanceof InterruptedError) {
              writeLog(cfg.backupDir, 'restore-database', { setId: m.id, db: d.database, outcome: 'interrupted' }, cfg.secrets);
              throw caught instanceof InterruptedError ? caught : new InterruptedError(`Restore of ${d.database} interrupted; the target was left as it was.`);
            }
            const err = isDiskFull(caught)
              ? new RespaldoError('failed', `No space left on the disk where ${d.database} is restored (${d.target}): ${errorMessage(caught)}.`, 'The target was not changed and the partial copy was removed. Free space on that disk, or restore side by side onto another disk with --to.')
              : caught;
            const hint = err instanceof RespaldoError ? err.hint : undefined;
            outcome.ok = false;
            outcome.databases.push({ name: d.database, ok: false, error: errorMessage(err), ...(hint ? { hint } : {}) });
            reporter.emit({ type: 'item-end', item: d.database, ok: false, error: errorMessage(err), ...(hint ? { hint } : {}) });
            writeLog(cfg.backupDir, 'restore-database', { setId: m.id, db: d.database, outcome: 'failed', error: errorMessage(err) }, cfg.secrets);
            if (!(err instanceof RespaldoError) && !(err instanceof Error && 'code' in err)) throw err;
            break;
          }
        }
      } finally {
        // Swapped databases are listed whatever happens next (an interruption, a later failure):
        // their safety copies must stay findable by `list`, `status` and `delete`.
        if (renamed.length) {
          try {
            outcome.safetySetIds.push(await publishReferenceSet(cfg, m.id, renamed));
          } catch (err) {
            const kept = renamed.map((r) => `${r.name} as "${r.safetyDatabase}"`).join(', ');
            throw new RespaldoError('failed', `The replaced databases are kept on their servers (${kept}), but listing them in a pre_restore set failed: ${errorMessage(asOperatorError(err))}.`, 'Nothing is lost: those databases are the rollback. Fix the backup folder (space, permissions), then rename them back by hand if needed or drop them once you are sure.');
          }
        }
      }
      if (plan.files && outcome.ok) {
        reporter.emit({ type: 'item-start', item: 'files', kind: 'restore' });
        await restoreFiles(dir, m.files, plan.files.to, { setId: m.id, codec: m.codec ?? 'gzip', track: (path) => trackTemp(cfg.backupDir, path) });
        outcome.filesRestoredTo = plan.files.to;
        reporter.emit({ type: 'item-end', item: 'files', ok: true });
      }
    } finally {
      await fsp.rm(scratchRoot, { recursive: true, force: true });
    }
    writeLog(cfg.backupDir, 'restore-end', { setId: m.id, outcome: outcome.ok ? 'ok' : 'failed', safetySets: outcome.safetySetIds, durationMs: Date.now() - t0 }, cfg.secrets);
    reporter.emit({ type: 'run-end', ok: outcome.ok, setId: m.id, durationMs: Date.now() - t0 });
    return outcome;
  });
}

/** A pre_restore set whose entries point at live databases renamed on their server. */
async function publishReferenceSet(cfg: LoadedConfig, restoreOf: string, entries: DatabaseEntry[]): Promise<string> {
  const taken = new Set(readdirSync(cfg.backupDir).map((n) => (n.startsWith('.tmp-') ? n.slice(5) : n)).filter(isSetId));
  const now = new Date();
  const id = newSetId(now, taken);
  const staging = join(cfg.backupDir, `.tmp-${id}`);
  await ensurePrivateDir(staging);
  const manifest: Manifest = {
    schemaVersion: 1,
    id,
    type: 'pre_restore',
    description: `safety copies (renamed databases) from restoring set ${restoreOf}`,
    startedAt: now.toISOString(),
    completedAt: now.toISOString(),
    status: 'completed',
    tool: { name: 'respaldo', version: VERSION },
    host: hostname(),
    job: null,
    restoreOf,
    compressionLevel: cfg.compression.level ?? DEFAULT_GZIP_LEVEL,
    databases: entries,
    files: [],
    warnings: [],
    totals: { storedBytes: 0, rawBytes: 0, files: 0 },
  };
  await writeFileAtomic(join(staging, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n');
  await fsyncTree(staging);
  await fsp.rename(staging, join(cfg.backupDir, id));
  await fsyncPath(cfg.backupDir);
  return id;
}

/** Creates `rel`'s parent folders under `root`, refusing to pass through a symlink or a file. */
async function safeParent(root: string, rel: string): Promise<string> {
  const parts = rel.split('/');
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    cur = join(cur, part);
    try {
      const st = await fsp.lstat(cur);
      if (!st.isDirectory()) throw new VerifyError(`Restoring ${rel}: ${cur} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}; refusing to write through it.`, 'The set contains conflicting entries; restore the files by hand.');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await fsp.mkdir(cur, { mode: 0o700 });
    }
  }
  const dest = join(root, rel);
  if (!resolve(dest).startsWith(resolve(root) + sep)) throw new VerifyError(`Entry ${rel} would be written outside ${root}.`, 'This set was tampered with; do not use it.');
  return dest;
}

/** Refuses, before anything is written, entries that repeat a path or sit below a symlink or file entry. */
function checkFileEntries(entries: FileEntry[]): void {
  const kinds = new Map<string, FileEntry['kind']>();
  for (const e of entries) {
    const p = `${e.group}/${e.relative}`;
    if (kinds.has(p)) throw new VerifyError(`The manifest lists ${JSON.stringify(p)} twice.`, 'This set was tampered with; do not use it.');
    kinds.set(p, e.kind);
  }
  for (const p of kinds.keys()) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const kind = kinds.get(parent);
      if (kind) throw new VerifyError(`The manifest puts ${JSON.stringify(p)} below ${JSON.stringify(parent)}, which is a ${kind === 'symlink' ? 'symlink' : 'file'}; refusing to restore through it.`, 'This set was tampered with; do not use it.');
    }
  }
}

/** Restores files into `to` (new or empty): regular files first, symlinks last, never following any. */
/**
 * Writes the files of a set into a hidden `.<to>.respaldo-partial-<set>` folder beside `to` and
 * renames it to `to` once complete, so `to` never holds half a restore. `to` may exist if empty.
 */
export async function restoreFiles(setRoot: string, entries: FileEntry[], to: string, opts: { setId: string; codec?: CodecName; track?: (path: string) => Promise<() => Promise<void>> }): Promise<void> {
  checkFileEntries(entries);
  const partial = join(dirname(to), `.${basename(to)}.respaldo-partial-${opts.setId}`);
  await fsp.mkdir(dirname(to), { recursive: true, mode: 0o700 });
  await fsp.rm(partial, { recursive: true, force: true });
  const untrack = opts.track ? await opts.track(partial) : undefined;
  try {
    await fsp.mkdir(partial, { mode: 0o700 });
    const ordered = [...entries.filter((e) => e.kind === 'file'), ...entries.filter((e) => e.kind === 'symlink')];
    for (const e of ordered) {
      if (!isSafeRelative(e.relative) || (e.stored && !isSafeRelative(e.stored))) throw new VerifyError(`Unsafe path in the manifest: ${JSON.stringify(e.relative)}`, 'This set was tampered with; do not use it.');
      const dest = await safeParent(partial, `${e.group}/${e.relative}`);
      if (e.kind === 'symlink') {
        await fsp.symlink(e.linkTarget ?? '', dest);
        continue;
      }
      const src = createReadStream(join(setRoot, e.stored!), { highWaterMark: 1 << 20 });
      await pipeline(src, decompressorFor(opts.codec ?? 'gzip'), createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
      await fsp.chmod(dest, e.mode & 0o777);
      await fsp.utimes(dest, new Date(e.mtime), new Date(e.mtime));
    }
    await fsyncTree(partial);
    if (existsSync(to)) await fsp.rmdir(to); // empty (the plan refuses a folder with anything in it)
    await fsp.rename(partial, to);
    await fsyncPath(dirname(to));
  } catch (err) {
    await fsp.rm(partial, { recursive: true, force: true });
    throw err;
  } finally {
    await untrack?.();
  }
}


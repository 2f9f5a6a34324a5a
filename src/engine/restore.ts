import { createReadStream, createWriteStream, existsSync, promises as fsp, readdirSync, statSync } from 'node:fs';
import { lstatSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  InterruptedError,
  NotFoundError,
  RefusedError,
  RespaldoError,
  UsageError,
  VerifyError,
  asOperatorError,
  errorMessage,
  isDiskFull,
} from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { english, phrase, type Phrase } from '../core/phrases.js';
import type { CodecName, DatabaseConfig, DatabaseEntry, FileEntry, LoadedConfig, Manifest } from '../core/types.js';
import { checkConfiguredDatabases } from '../config/lookup.js';
import type { DrillCheck, DriverContext, RestoreStepPlan, RestoreTarget, TargetState } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { VERSION } from '../version.js';
import { readManifest, selectLatest, setDir, type SetSelection } from './catalog.js';
import { codecOfEntry, decompressorFor } from './codec.js';
import { DEFAULT_GZIP_LEVEL, executeBackup, planBackup } from './create.js';
import { ensurePrivateDir, fsyncPath, fsyncTree, writeFileAtomic } from './fs-util.js';
import { withLock } from './lock.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME, isSafeRelative, readManifestFile } from './manifest.js';
import { newSetId, isSetId } from './set-id.js';
import { checkFiles, expectedFiles } from './verify.js';
import { ranBy } from '../core/who.js';
import { sweepTemps, trackTemp } from './temp-journal.js';
import { decryptSet } from './decrypt-set.js';
import { chainOf, planAt, type AtPlan, type Chain } from './chain.js';
import { readChainSets } from './chain-sets.js';
import { openStoredPart } from './stored-part.js';

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
  /** About how large the database will be once restored (an estimate; null when unknown). Always set by planRestore. */
  estimatedRestoredBytes?: number | null;
  /**
   * Where the estimate comes from: the database's size recorded at backup time; the stored copy is
   * the database file itself (SQLite: the size is exact); the size of the
   * dump (sets made before sizes were recorded; can be far below the real size); or the size of
   * the kept database a rollback swaps back in.
   */
  estimateSource?: 'recorded-database-size' | 'database-file' | 'dump-size' | 'kept-database';
  /** A rollback: the kept safety database (`safetyDatabase` of the entry) swapped back in as the live one. */
  swapsBack?: string;
  /** An entry with a base: the sets applied in order (the full first, this set last). */
  chain?: Chain['members'];
}

/** Pure: the restored-size estimate of an entry, from the database size its driver recorded at backup time. */
export function restoredSizeEstimate(
  entry: Pick<DatabaseEntry, 'rawBytes' | 'details'> & { format?: string },
): Required<Pick<DatabaseRestorePlan, 'estimatedRestoredBytes' | 'estimateSource'>> {
  const d = entry.details ?? {};
  // PostgreSQL records `databaseSizeBytes`, SQL Server `sizeBytes`.
  const recorded = [d['databaseSizeBytes'], d['sizeBytes']].find((v): v is number => typeof v === 'number' && v > 0);
  if (recorded !== undefined) return { estimatedRestoredBytes: recorded, estimateSource: 'recorded-database-size' };
  // A SQLite copy is the database file: it restores to exactly its size.
  if (entry.format === 'sqlite-db' || entry.format === 'sqlite-raw')
    return { estimatedRestoredBytes: entry.rawBytes, estimateSource: 'database-file' };
  return { estimatedRestoredBytes: entry.rawBytes, estimateSource: 'dump-size' };
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
  /**
   * Which set was chosen and what it holds (for `latest`: the newest holding everything asked for).
   * Always set by planRestore.
   */
  selection?: SetSelection;
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
  /** `restore --at`: the point in time asked for, the set reached and the chains applied. */
  at?: AtPlan;
}

export interface RestoreOutcome {
  setId: string;
  ok: boolean;
  safetySetIds: string[];
  databases: {
    name: string;
    ok: boolean;
    restoredTo?: string;
    safetyDatabase?: string;
    /** Checks the driver made of the backup before restoring it (a drill's RESTORE VERIFYONLY). */
    preChecks?: DrillCheck[];
    /** Checks the driver made of the restored copy (SQLite's integrity_check). */
    checks?: DrillCheck[];
    error?: string;
    hint?: string;
  }[];
  filesRestoredTo: string | null;
  recovered: string[];
}

function dbConfig(cfg: LoadedConfig, name: string): DatabaseConfig {
  const db = cfg.databases.find((d) => d.name === name);
  if (!db)
    throw new NotFoundError(
      `Database "${name}" is in the set but not in ${cfg.file}; respaldo does not know where to restore it.`,
      `Add it under "databases" (with its connection), or restore the file by hand (see README: restoring without respaldo).`,
    );
  return db;
}

function targetFor(
  db: DatabaseConfig,
  count: number,
  to: string | undefined,
  cwd: string,
  withFiles: boolean,
): RestoreTarget {
  if (!to) return { kind: 'in-place' };
  if (driverFor(db.engine).safety === 'renamed-database') {
    if (count > 1)
      throw new UsageError(
        '--to names one database; it cannot take several.',
        'Restore one database at a time with --db NAME --to NEWNAME.',
      );
    return { kind: 'side-by-side', name: to };
  }
  const abs = resolve(cwd, to);
  const isDir = to.endsWith('/') || count > 1 || withFiles || (existsSync(abs) && statSync(abs).isDirectory());
  return { kind: 'side-by-side', name: isDir ? join(abs, basename(db.path ?? `${db.name}.db`)) : abs };
}

/**
 * The folder files are restored into must be new, or an empty folder, below folders: `--to` (as
 * given) being a file or a symlink, or a file in the way, is an operator error (UsageError, exit 2),
 * found before anything is written.
 */
function checkFilesFolder(to: string, given: string | undefined, cwd: string): void {
  const top = given ? resolve(cwd, given) : to;
  // --to may name a server database (files then go to the default folder): quote it only when it is the folder.
  const said = given && (to === top || to.startsWith(top + sep)) ? `--to ${given}: ` : '';
  const hint = 'Give a new folder (or an empty one) for the restored files with --to; not a file or a symlink.';
  for (let p = to; ; p = dirname(p)) {
    let st;
    try {
      st = lstatSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(p) !== p) continue;
      throw err;
    }
    const below = p === to ? '' : ` (files would go into ${to})`;
    if (st.isSymbolicLink() && (p === to || p === top)) {
      const link = `${p} is a symlink (to ${readlinkSync(p)})`;
      throw new UsageError(`${said}${link}; restored files go into a real folder${below}.`, hint);
    }
    if (!(st.isDirectory() || (st.isSymbolicLink() && existsSync(p) && statSync(p).isDirectory()))) {
      const what = st.isFile() ? 'a file' : st.isSymbolicLink() ? 'a symlink that leads to no folder' : 'not a folder';
      throw new UsageError(`${said}${p} is ${what}; restored files go into a new or empty folder${below}.`, hint);
    }
    return;
  }
}

/**
 * Pure: which set a restore uses and what it holds, then (for `latest`) the newer sets passed over with
 * what each lacks (`files`, `an intact manifest`, or database names). Said before the plan.
 */
export function selectionPhrases(sel: SetSelection): Phrase[] {
  const h = sel.holds;
  const params = { set: sel.setId, dbs: h.databases.join(', '), failed: h.failedDatabases.join(', '), files: h.files };
  const out = [phrase(sel.asked === 'latest' ? 'plan.latestChosen' : 'plan.setChosen', params)];
  if (sel.skipped.length) {
    const shown = sel.skipped.slice(0, 5).map((s) => `${s.id} (${s.lacks.join(', ')})`);
    const more = sel.skipped.length > 5 ? ` … +${sel.skipped.length - 5}` : '';
    out.push(phrase('plan.passedOver', { sets: shown.join(', ') + more }));
  }
  return out;
}

/** Pure: what a set holds, as a selection shows it. */
function holdsOf(m: Manifest): SetSelection['holds'] {
  const ok = m.databases.filter((d) => !d.error);
  const failed = m.databases.filter((d) => d.error).map((d) => d.name);
  return { databases: ok.map((d) => d.name), failedDatabases: failed, files: m.files.length };
}

/** Pure: how what a plan replaces is kept, one phrase per replaced database (or that nothing is replaced). */
export function safetyOf(
  databases: readonly Pick<DatabaseRestorePlan, 'database' | 'replaces' | 'safety'>[],
): Phrase[] {
  const replaced = databases.filter((d) => d.replaces);
  if (!replaced.length) return [phrase('plan.safetyNone')];
  return replaced.map((d) =>
    d.safety.kind === 'renamed-database'
      ? phrase('plan.safetyRenamed', { db: d.database, name: d.safety.name })
      : phrase('plan.safetySet', { db: d.database }),
  );
}

/** Reads the set and the targets and says what a restore would do. Changes nothing. */
export async function planRestore(cfg: LoadedConfig, id: string, opts: RestoreOptions): Promise<RestorePlan> {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.databases?.length) checkConfiguredDatabases(cfg, opts.databases);
  const onlyFiles = opts.files && !opts.databases?.length;
  // `latest` without --db means every configured database; a set lacking one is never latest.
  const wanted = onlyFiles ? [] : opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  // A set fetched from a destination (restore --from) is read from its folder; the id is its own.
  const picked =
    id === 'latest' && !opts.setFolder
      ? await selectLatest(cfg, { databases: wanted, files: Boolean(opts.files) })
      : null;
  const m = opts.setFolder ? readManifestFile(opts.setFolder) : await readManifest(cfg, picked?.setId ?? id);
  const inSet = m.databases.filter((d) => !d.error).map((d) => d.name);
  const names = onlyFiles ? [] : opts.databases?.length ? opts.databases : picked ? wanted : inSet;
  const selection: SetSelection = picked ?? { asked: id, setId: m.id, holds: holdsOf(m), skipped: [] };
  const refusals: RestorePlan['refusals'] = [];
  const warningPhrases: Phrase[] = [];
  const databases: DatabaseRestorePlan[] = [];
  const refuse = (kind: RestoreRefusal['kind'], database: string | null, message: Phrase, hint: Phrase): void => {
    refusals.push({ kind, database, message: english(message), hint: english(hint), phrases: { message, hint } });
  };
  let chainSets: ReturnType<typeof readChainSets> | null = null;
  for (const name of names) {
    const entry = m.databases.find((d) => d.name === name);
    if (!entry)
      throw new NotFoundError(
        `Set ${m.id} holds no database "${name}".`,
        `It holds: ${m.databases.map((d) => d.name).join(', ') || 'no databases'}.`,
      );
    const kept = !entry.error && !entry.file && entry.safetyDatabase ? entry.safetyDatabase : null;
    if (kept) {
      const plan = await planSwapBack(cfg, m, entry, kept, opts, refuse, warningPhrases);
      if (plan) databases.push(plan);
      continue;
    }
    if (entry.error || !entry.file) {
      refuse(
        'failed-entry',
        name,
        phrase('refuse.failedEntry', { db: name, set: m.id, reason: entry.error?.message ?? 'no stored file' }),
        phrase('refuse.failedEntryHint', { db: name }),
      );
      continue;
    }
    if (entry.format.endsWith('-raw')) {
      refuse(
        'failed-entry',
        name,
        phrase('refuse.raw', { set: m.id, db: name, file: entry.file }),
        phrase('refuse.rawHint', {
          path: join(setDir(cfg, m.id), entry.file),
          db: name,
          cmd: entry.codec === 'zstd' ? 'zstd -dc' : 'gunzip -c',
        }),
      );
      continue;
    }
    let chain: Chain | null = null;
    if (entry.base) {
      chain = opts.setFolder
        ? {
            database: name,
            members: [],
            problem:
              'restoring a chain from a destination (--from) is not supported yet; restore the full set there, or copy the chain into the backup folder',
          }
        : chainOf((chainSets ??= readChainSets(cfg)), m.id, name);
      if (chain.problem) {
        refuse(
          'failed-entry',
          name,
          phrase('refuse.brokenChain', { set: m.id, db: name, reason: chain.problem }),
          phrase('refuse.brokenChainHint', { set: m.id, db: name }),
        );
        continue;
      }
    }
    const db = dbConfig(cfg, name);
    const driver = driverFor(db.engine);
    const target = targetFor(db, names.length, opts.to, cwd, Boolean(opts.files));
    if (opts.tables?.length && target.kind === 'in-place') {
      throw new UsageError('--table restores selected tables side by side only.', 'Add --to NEWNAME.');
    }
    if (opts.createRoles && db.engine === 'postgres' && !entry.extras?.some((x) => x.role === 'globals')) {
      throw new UsageError(
        `Set ${m.id} stored no roles for ${name} ("globals" was not enabled when it was made), so --create-roles has nothing to create.`,
        'Create the roles by hand (CREATE ROLE …), then restore without --create-roles.',
      );
    }
    const step = driver.planRestore({
      db,
      entry,
      setId: m.id,
      target,
      ...(opts.tables ? { tables: opts.tables } : {}),
      ...(opts.createRoles && db.engine === 'postgres' ? { createRoles: true } : {}),
    });
    const state = await driver.inspectTarget(db, target);
    if (target.kind === 'in-place' && (m.type === 'schema' || entry.format.endsWith('-sql'))) {
      refuse(
        'schema-in-place',
        name,
        phrase('refuse.schemaInPlace', { set: m.id, db: name }),
        phrase('refuse.schemaInPlaceHint'),
      );
    }
    if (target.kind === 'side-by-side' && state.exists) {
      refuse(
        'target-exists',
        name,
        phrase('refuse.targetExists', { target: step.target }),
        phrase('refuse.targetExistsHint'),
      );
    }
    if (target.kind === 'in-place' && state.inUseBy.length) {
      if (driver.safety === 'pre-restore-set') {
        refuse(
          'in-use',
          name,
          phrase('refuse.inUse', { target: step.target, users: state.inUseBy.join(', ') }),
          phrase('refuse.inUseHint'),
        );
      } else if (!opts.terminateConnections) {
        refuse(
          'sessions',
          name,
          phrase('refuse.sessions', {
            count: state.inUseBy.length,
            db: name,
            sessions: state.inUseBy.slice(0, 5).join(', '),
          }),
          phrase('refuse.sessionsHint'),
        );
      } else {
        warningPhrases.push(phrase('plan.willTerminate', { count: state.inUseBy.length, db: name }));
      }
    }
    databases.push({
      ...step,
      engine: db.engine,
      restoreTarget: target,
      state,
      storedBytes: entry.storedBytes,
      rawBytes: entry.rawBytes,
      format: entry.format,
      ...restoredSizeEstimate(entry),
      ...(chain ? { chain: chain.members } : {}),
    });
  }
  let files: FilesRestorePlan | null = null;
  if (opts.files) {
    // --to is a folder for files; shared with SQLite databases it holds them beside a files/ folder.
    const sharesFolder =
      databases.length > 0 &&
      databases.every((d) => driverFor(d.engine as DatabaseConfig['engine']).safety === 'pre-restore-set');
    const to = !opts.to
      ? join(cfg.baseDir, 'restored', m.id)
      : onlyFiles
        ? resolve(cwd, opts.to)
        : sharesFolder
          ? join(resolve(cwd, opts.to), 'files')
          : join(cfg.baseDir, 'restored', m.id);
    checkFileEntries(m.files);
    checkFilesFolder(to, opts.to, cwd);
    if (existsSync(to) && readdirSync(to).length)
      refuse('files-target', null, phrase('refuse.filesTarget', { to }), phrase('refuse.filesTargetHint'));
    files = {
      to,
      count: m.files.filter((f) => f.kind === 'file').length,
      bytes: m.files.reduce((s, f) => s + f.size, 0),
      symlinks: m.files.filter((f) => f.kind === 'symlink').length,
    };
    if (!m.files.length) warningPhrases.push(phrase('plan.noFiles', { set: m.id }));
  }
  if (!databases.length && !files && !refusals.length)
    throw new UsageError('Nothing to restore.', 'Name databases with --db, or add --files.');
  const safetyPhrases = safetyOf(databases);
  return {
    setId: m.id,
    selection,
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
 * `restore --at`: the plan of the restore of the newest set ending at or before `at` that holds every
 * database asked for (all configured ones without --db) with usable chains (chain.ts planAt), carrying
 * the preview (`at`): the sets applied in order, their stored size, the exact point reached. Changes nothing.
 */
export async function planRestoreAt(cfg: LoadedConfig, at: Date, opts: RestoreOptions): Promise<RestorePlan> {
  if (opts.setFolder)
    throw new UsageError(
      '--at chooses among the sets in the backup folder; it cannot be used with --from.',
      'Name the set to fetch instead: respaldo restore ID --from DEST.',
    );
  if (opts.databases?.length) checkConfiguredDatabases(cfg, opts.databases);
  const wanted = opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  const found = planAt(readChainSets(cfg), at, wanted);
  if ('none' in found) {
    const passed = found.skipped
      .slice(0, 3)
      .map((s) => `${s.id}: ${s.reason}`)
      .join('; ');
    throw new NotFoundError(
      `No backup set of ${wanted.join(', ')} ends at or before ${at.toISOString()}${passed ? ` with a usable chain (passed over: ${passed})` : ''}.`,
      'Pick a later time, name fewer databases with --db, or see the sets with respaldo list.',
    );
  }
  const plan = await planRestore(cfg, found.setId, { ...opts, databases: wanted });
  return { ...plan, at: found };
}

/**
 * The plan of a rollback: `entry` of a pre_restore set keeps the replaced database on its server
 * as `kept`; restoring it swaps that database back in (drivers with `swapBack`). Refusals go
 * through `refuse`; returns null when the database cannot be planned at all.
 */
async function planSwapBack(
  cfg: LoadedConfig,
  m: Manifest,
  entry: DatabaseEntry,
  kept: string,
  opts: RestoreOptions,
  refuse: (kind: RestoreRefusal['kind'], database: string | null, message: Phrase, hint: Phrase) => void,
  warningPhrases: Phrase[],
): Promise<DatabaseRestorePlan | null> {
  const name = entry.name;
  const db = dbConfig(cfg, name);
  const driver = driverFor(db.engine);
  if (!driver.swapBack) {
    const why = phrase('refuse.noSwapBack', { set: m.id, db: name, safety: kept, engine: db.engine });
    refuse('failed-entry', name, why, phrase('refuse.noSwapBackHint', { safety: kept }));
    return null;
  }
  if (opts.to || opts.tables?.length) {
    throw new UsageError(
      `Set ${m.id} keeps ${name} as the database "${kept}" on its server: restoring it swaps that database ` +
        'back in place, so --to and --table do not apply.',
      `Roll back with: respaldo restore ${m.id} --db ${name} --yes`,
    );
  }
  const target: RestoreTarget = { kind: 'in-place' };
  const step = driver.planRestore({ db, entry, setId: m.id, target });
  const state = await driver.inspectTarget(db, target);
  const keptState = await driver.inspectTarget(db, { kind: 'side-by-side', name: kept });
  if (!keptState.exists) {
    const gone = phrase('refuse.safetyGone', { db: name, safety: kept, set: m.id });
    refuse('failed-entry', name, gone, phrase('refuse.safetyGoneHint', { db: name }));
  }
  const sessions = [...(state.exists ? state.inUseBy : []), ...keptState.inUseBy];
  if (sessions.length && !opts.terminateConnections) {
    const listed = sessions.slice(0, 5).join(', ');
    const refusal = phrase('refuse.sessions', { count: sessions.length, db: name, sessions: listed });
    refuse('sessions', name, refusal, phrase('refuse.sessionsHint'));
  } else if (sessions.length) {
    warningPhrases.push(phrase('plan.willTerminate', { count: sessions.length, db: name }));
  }
  return {
    ...step,
    engine: db.engine,
    restoreTarget: target,
    state,
    storedBytes: 0,
    rawBytes: entry.rawBytes,
    format: entry.format,
    ...(keptState.sizeBytes !== null
      ? { estimatedRestoredBytes: keptState.sizeBytes, estimateSource: 'kept-database' as const }
      : restoredSizeEstimate(entry)),
    swapsBack: kept,
  };
}

/**
 * Carries out a restore plan: verifies the stored files, keeps a safety copy of what is replaced,
 * restores each database beside its target and swaps it in, then restores files into a new folder.
 * Stops at the first database that fails; what was restored before it is reported.
 */
export async function executeRestore(
  cfg: LoadedConfig,
  plan: RestorePlan,
  reporter: Reporter,
  opts: { signal?: AbortSignal; underLock?: boolean } = {},
): Promise<RestoreOutcome> {
  const first = plan.refusals[0];
  if (first) throw new RefusedError(first.message, first.hint);
  // `underLock`: the caller (a drill) already holds the folder lock.
  const locked = opts.underLock ? <T>(_d: string, _p: string, fn: () => Promise<T>): Promise<T> => fn() : withLock;
  return locked(cfg.backupDir, `restore ${plan.setId}`, async () => {
    const signal = opts.signal ?? new AbortController().signal;
    const t0 = Date.now();
    let m = plan.options.setFolder ? readManifestFile(plan.options.setFolder) : await readManifest(cfg, plan.setId);
    let dir = plan.options.setFolder ?? setDir(cfg, m.id);
    reporter.emit({
      type: 'run-start',
      operation: 'restore',
      setId: m.id,
      items: [...plan.databases.map((d) => d.database), ...(plan.files ? ['files'] : [])],
    });
    writeLog(
      cfg.backupDir,
      'restore-start',
      {
        setId: m.id,
        databases: plan.databases.map((d) => d.database),
        files: Boolean(plan.files),
        to: plan.options.to ?? null,
        ranBy: ranBy(),
      },
      cfg.secrets,
    );

    reporter.emit({ type: 'item-start', item: 'verify', kind: 'verify' });
    const checks = await checkFiles(
      dir,
      expectedFiles(
        m,
        plan.databases.map((d) => d.database),
        Boolean(plan.files),
      ),
      reporter,
    );
    const bad = checks.filter((c) => !c.ok);
    const chains = new Map<string, NonNullable<import('../drivers/driver.js').RestoreRequest['chain']>>();
    for (const d of plan.databases.filter((x) => x.chain)) {
      const steps: NonNullable<import('../drivers/driver.js').RestoreRequest['chain']> = [];
      for (const member of d.chain!.slice(0, -1)) {
        const mm = await readManifest(cfg, member.id);
        const memberEntry = mm.databases.find((x) => x.name === d.database);
        const memberDir = setDir(cfg, mm.id);
        if (!memberEntry?.file) {
          bad.push({
            path: `${mm.id}: ${d.database}`,
            ok: false,
            problem: 'no stored copy (the chain changed since the plan)',
            bytes: 0,
          });
          continue;
        }
        const found = await checkFiles(memberDir, expectedFiles(mm, [d.database], false), reporter);
        bad.push(...found.filter((c) => !c.ok).map((c) => ({ ...c, path: `${mm.id}/${c.path}` })));
        steps.push({
          setId: mm.id,
          entry: memberEntry,
          openPart: (role) => openStoredPart(memberDir, memberEntry, role),
        });
      }
      chains.set(d.database, steps);
    }
    reporter.emit({
      type: 'item-end',
      item: 'verify',
      ok: !bad.length,
      ...(bad.length ? { error: bad.map((b) => `${b.path}: ${b.problem}`).join('; ') } : {}),
    });
    if (bad.length) {
      writeLog(
        cfg.backupDir,
        'restore-end',
        {
          setId: m.id,
          outcome: 'refused',
          reason: 'verify failed',
          problems: bad.map((b) => `${b.path}: ${b.problem}`),
        },
        cfg.secrets,
      );
      const message = phrase('error.restoreVerify', {
        set: m.id,
        problems: bad.map((b) => `${b.path}: ${b.problem}`).join('; '),
      });
      const hint = phrase('error.restoreVerifyHint');
      throw new VerifyError(english(message), english(hint), { files: bad }).withPhrases(message, hint);
    }

    const outcome: RestoreOutcome = {
      setId: m.id,
      ok: true,
      safetySetIds: [],
      databases: [],
      filesRestoredTo: null,
      recovered: [],
    };
    const ctxFor = (db: DatabaseConfig, scratchDir: string): DriverContext => ({
      reporter,
      signal,
      scratchDir,
      log: (message, fields) =>
        writeLog(cfg.backupDir, 'driver', { setId: m.id, db: db.name, message, ...fields }, cfg.secrets),
      trackTemp: (path) => trackTemp(cfg.backupDir, path),
    });
    const scratchRoot = join(cfg.backupDir, `.tmp-restore-${process.pid}`);
    await ensurePrivateDir(scratchRoot);
    try {
      if (m.encryption) {
        // Decrypted whole into the scratch folder, each file authenticated, before anything is touched.
        const sel = { databases: plan.databases.map((d) => d.database), files: Boolean(plan.files) };
        try {
          ({ manifest: m, dir } = await decryptSet(cfg, m, dir, join(scratchRoot, 'decrypted'), sel, reporter));
        } catch (err) {
          const reason = err instanceof RespaldoError ? err.kind : 'failed';
          writeLog(
            cfg.backupDir,
            'restore-end',
            { setId: m.id, outcome: 'refused', reason, error: errorMessage(err) },
            cfg.secrets,
          );
          throw err;
        }
      }
      outcome.recovered.push(...(await sweepTemps(cfg.backupDir)));
      outcome.recovered.push(...(await finishInterruptedSwapBacks(cfg, reporter)));
      for (const d of plan.databases) {
        const db = dbConfig(cfg, d.database);
        outcome.recovered.push(...(await driverFor(db.engine).recover(db, ctxFor(db, scratchRoot))));
      }
      const needSet = plan.databases.filter((d) => d.replaces && d.safety.kind === 'pre-restore-set');
      const stillThere: string[] = [];
      for (const d of needSet) {
        const db = dbConfig(cfg, d.database);
        const state = await driverFor(db.engine).inspectTarget(db, d.restoreTarget);
        if (state.inUseBy.length)
          throw new RefusedError(
            `${d.target} is open in another process (${state.inUseBy.join(', ')}).`,
            'Stop the application that uses it, then run the restore again.',
          );
        if (state.exists) stillThere.push(d.database);
      }
      if (stillThere.length) {
        reporter.emit({
          type: 'info',
          message: `Taking a safety copy of ${stillThere.join(', ')} before replacing it`,
        });
        const safetyPlan = planBackup(cfg, {
          databases: stillThere,
          files: false,
          setType: 'pre_restore',
          restoreOf: m.id,
          description: `safety copy before restoring set ${m.id}`,
        });
        const safety = await executeBackup(cfg, safetyPlan, reporter, signal, 'safety');
        if (safety.status !== 'completed') {
          const failed = safety.databases.find((x) => x.error);
          throw new RespaldoError(
            'failed',
            `The safety copy of ${failed?.name ?? 'a database'} failed (${failed?.error?.message ?? safety.status}); nothing was restored.`,
            failed?.error?.hint ?? 'Fix the problem above, or restore side by side with --to.',
          );
        }
        outcome.safetySetIds.push(safety.id);
      }
      const renamed: DatabaseEntry[] = [];
      const swappedBack: string[] = [];
      // Swap backs in flight, so that a run killed between a swap and the sets below is finished later.
      const journal: SwapBackJournal['entries'] = [];
      const journalPath = join(cfg.backupDir, `${SWAP_JOURNAL_PREFIX}${m.id}.json`);
      let journalDone = true;
      try {
        for (const d of plan.databases) {
          if (signal.aborted) throw new InterruptedError();
          const db = dbConfig(cfg, d.database);
          const entry = m.databases.find((x) => x.name === d.database)!;
          const driver = driverFor(db.engine);
          const started = Date.now();
          reporter.emit({ type: 'item-start', item: d.database, kind: 'restore', totalBytes: entry.rawBytes });
          try {
            const partFile = (role = 'main') =>
              role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role);
            const swapBack = d.swapsBack && driver.swapBack ? driver.swapBack.bind(driver) : null;
            if (swapBack) {
              const newSafety = d.safety.kind === 'renamed-database' ? d.safety.name : null;
              const listed = newSafety ? referenceEntry(entry, newSafety, m.id) : null;
              journal.push({ database: d.database, kept: d.swapsBack!, newSafety, entry: listed });
              await writeFileAtomic(journalPath, JSON.stringify({ setId: m.id, entries: journal }) + '\n');
            }
            const result = swapBack
              ? await swapBack(
                  {
                    db,
                    safetyName: d.swapsBack!,
                    setId: m.id,
                    terminateConnections: Boolean(plan.options.terminateConnections),
                  },
                  ctxFor(db, scratchRoot),
                )
              : await driver.restore(
                  {
                    db,
                    entry,
                    setId: m.id,
                    target: d.restoreTarget,
                    terminateConnections: Boolean(plan.options.terminateConnections),
                    ...(plan.options.createRoles ? { createRoles: true } : {}),
                    ...(plan.options.tables ? { tables: plan.options.tables } : {}),
                    ...(chains.has(d.database) ? { chain: chains.get(d.database)! } : {}),
                    ...(plan.at?.stopAt && chains.has(d.database) ? { stopAt: plan.at.stopAt } : {}),
                    storedPath: (role) => join(dir, partFile(role)?.file ?? ''),
                    openPart: (role) => {
                      const part = partFile(role);
                      if (!part?.file)
                        throw new NotFoundError(`Set ${m.id} has no ${role ?? 'main'} file for ${d.database}.`);
                      const raw = createReadStream(join(dir, part.file), { highWaterMark: 1 << 20 });
                      // pipeline (not pipe): a read error reaches the consumer, and a consumer that stops closes the file.
                      const codec = codecOfEntry(part);
                      return codec ? streamPipeline(raw, codec.decompressor(), () => undefined) : raw;
                    },
                  },
                  ctxFor(db, scratchRoot),
                );
            outcome.databases.push({
              name: d.database,
              ok: true,
              restoredTo: result.restoredTo,
              ...(result.safetyDatabase ? { safetyDatabase: result.safetyDatabase } : {}),
              ...(result.preChecks?.length ? { preChecks: result.preChecks } : {}),
              ...(result.checks?.length ? { checks: result.checks } : {}),
            });
            if (result.safetyDatabase) renamed.push(referenceEntry(entry, result.safetyDatabase, m.id));
            if (swapBack) swappedBack.push(d.database);
            reporter.emit({ type: 'item-end', item: d.database, ok: true, durationMs: Date.now() - started });
            writeLog(
              cfg.backupDir,
              'restore-database',
              {
                setId: m.id,
                db: d.database,
                restoredTo: result.restoredTo,
                safetyDatabase: result.safetyDatabase ?? null,
                outcome: 'ok',
                durationMs: Date.now() - started,
              },
              cfg.secrets,
            );
          } catch (caught) {
            if (signal.aborted || caught instanceof InterruptedError) {
              writeLog(
                cfg.backupDir,
                'restore-database',
                { setId: m.id, db: d.database, outcome: 'interrupted' },
                cfg.secrets,
              );
              throw caught instanceof InterruptedError
                ? caught
                : new InterruptedError(`Restore of ${d.database} interrupted; the target was left as it was.`);
            }
            const err = isDiskFull(caught)
              ? new RespaldoError(
                  'failed',
                  `No space left on the disk where ${d.database} is restored (${d.target}): ${errorMessage(caught)}.`,
                  'The target was not changed and the partial copy was removed. Free space on that disk, or restore side by side onto another disk with --to.',
                )
              : caught;
            const hint = err instanceof RespaldoError ? err.hint : undefined;
            outcome.ok = false;
            outcome.databases.push({
              name: d.database,
              ok: false,
              error: errorMessage(err),
              ...(hint ? { hint } : {}),
            });
            reporter.emit({
              type: 'item-end',
              item: d.database,
              ok: false,
              error: errorMessage(err),
              ...(hint ? { hint } : {}),
            });
            writeLog(
              cfg.backupDir,
              'restore-database',
              { setId: m.id, db: d.database, outcome: 'failed', error: errorMessage(err) },
              cfg.secrets,
            );
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
            journalDone = false;
            const kept = renamed.map((r) => `${r.name} as "${r.safetyDatabase}"`).join(', ');
            // eslint-disable-next-line no-unsafe-finally -- deliberate: databases kept renamed but unlisted outweigh any other error
            throw new RespaldoError(
              'failed',
              `The replaced databases are kept on their servers (${kept}), but listing them in a pre_restore set failed: ${errorMessage(asOperatorError(err))}.`,
              'Nothing is lost: those databases are the rollback. Fix the backup folder (space, permissions), then rename them back by hand if needed or drop them once you are sure.',
            );
          }
        }
        // A swapped-back database is live again: this set must no longer list it (deleting the set would drop it).
        if (swappedBack.length) {
          await retireSwappedBack(cfg, m.id, swappedBack).catch((err: unknown) => {
            const which = `${swappedBack.join(', ')}, which ${swappedBack.length > 1 ? 'are' : 'is'} live again`;
            const message =
              `set ${m.id} still lists ${which}: ${errorMessage(err)}; ` + 'the next create or restore retries';
            reporter.emit({ type: 'warning', message });
            journalDone = false;
          });
        }
        if (journal.length && journalDone) await fsp.rm(journalPath, { force: true });
      }
      if (plan.files && outcome.ok) {
        const total = plan.files.bytes;
        const t0 = Date.now();
        let done = 0;
        reporter.emit({ type: 'item-start', item: 'files', kind: 'restore', totalBytes: total });
        const onFile = (bytes: number): void =>
          void reporter.emit({ type: 'item-progress', item: 'files', bytes: (done += bytes), totalBytes: total });
        const track = (path: string): Promise<() => Promise<void>> => trackTemp(cfg.backupDir, path);
        await restoreFiles(dir, m.files, plan.files.to, { setId: m.id, codec: m.codec ?? 'gzip', track, onFile });
        outcome.filesRestoredTo = plan.files.to;
        reporter.emit({ type: 'item-end', item: 'files', ok: true, bytes: done, durationMs: Date.now() - t0 });
      }
    } finally {
      await fsp.rm(scratchRoot, { recursive: true, force: true });
    }
    writeLog(
      cfg.backupDir,
      'restore-end',
      {
        setId: m.id,
        outcome: outcome.ok ? 'ok' : 'failed',
        safetySets: outcome.safetySetIds,
        durationMs: Date.now() - t0,
      },
      cfg.secrets,
    );
    reporter.emit({ type: 'run-end', ok: outcome.ok, setId: m.id, durationMs: Date.now() - t0 });
    return outcome;
  });
}

/** The entry of a pre_restore set listing a live database renamed on its server as `safetyDatabase`. */
function referenceEntry(entry: DatabaseEntry, safetyDatabase: string, setId: string): DatabaseEntry {
  const note = `the live database before restoring set ${setId}, renamed on the server`;
  const stored = { file: null, md5: null, sha256: null, storedBytes: 0, extras: [] };
  return { ...entry, ...stored, safetyDatabase, details: { note } };
}

/** Names the journals of swap backs in flight (`.swapback-<set id>.json` in the backup folder). */
export const SWAP_JOURNAL_PREFIX = '.swapback-';

/** Written before each swap back, removed once the sets say where everything is. */
interface SwapBackJournal {
  setId: string;
  entries: { database: string; kept: string; newSafety: string | null; entry: DatabaseEntry | null }[];
}

/**
 * Finishes rollbacks cut between their swap and the sets that record it (a killed run): for each
 * journaled swap back that happened (the kept database is gone), lists the database it replaced
 * in a new pre_restore set (unless a set already lists it) and removes the swapped-back entry from
 * the set that listed it. A swap that never happened needs nothing. Call under the lock. Returns
 * one line per action; a server that cannot be reached leaves its journal for the next run.
 */
export async function finishInterruptedSwapBacks(cfg: LoadedConfig, reporter: Reporter): Promise<string[]> {
  if (!existsSync(cfg.backupDir)) return [];
  const actions: string[] = [];
  const journals = readdirSync(cfg.backupDir).filter((n) => n.startsWith(SWAP_JOURNAL_PREFIX) && n.endsWith('.json'));
  for (const name of journals) {
    const file = join(cfg.backupDir, name);
    try {
      const j = JSON.parse(await fsp.readFile(file, 'utf8')) as SwapBackJournal;
      const publish: DatabaseEntry[] = [];
      const retire: string[] = [];
      for (const e of j.entries) {
        const db = dbConfig(cfg, e.database);
        const driver = driverFor(db.engine);
        if ((await driver.inspectTarget(db, { kind: 'side-by-side', name: e.kept })).exists) continue; // never swapped
        retire.push(e.database);
        const fresh = e.newSafety ? await driver.inspectTarget(db, { kind: 'side-by-side', name: e.newSafety }) : null;
        const unlisted = e.newSafety && fresh?.exists && !(await listsSafetyDatabase(cfg, e.newSafety));
        if (unlisted && e.entry) publish.push(e.entry);
        actions.push(`${e.database}: finished a rollback cut short ("${e.kept}" is the live database again)`);
      }
      if (publish.length) {
        const id = await publishReferenceSet(cfg, j.setId, publish);
        actions.push(`listed ${publish.map((p) => `"${p.safetyDatabase}"`).join(', ')} in pre_restore set ${id}`);
      }
      if (retire.length && existsSync(join(setDir(cfg, j.setId), MANIFEST_NAME))) {
        await retireSwappedBack(cfg, j.setId, retire);
      }
      await fsp.rm(file, { force: true });
    } catch (err) {
      const message = `could not finish the interrupted rollback recorded in ${file}: ${errorMessage(err)}`;
      reporter.emit({ type: 'warning', message });
    }
  }
  if (actions.length) writeLog(cfg.backupDir, 'recover', { actions, reason: 'rollback interrupted' }, cfg.secrets);
  return actions;
}

async function listsSafetyDatabase(cfg: LoadedConfig, name: string): Promise<boolean> {
  for (const id of readdirSync(cfg.backupDir).filter(isSetId)) {
    try {
      if ((await readManifest(cfg, id)).databases.some((d) => d.safetyDatabase === name)) return true;
    } catch {
      /* a damaged set lists nothing */
    }
  }
  return false;
}

/**
 * After a rollback: removes the swapped-back entries from the pre_restore set that listed them (the
 * databases are live again), and the set itself when nothing is left in it. Runs under the lock.
 */
async function retireSwappedBack(cfg: LoadedConfig, id: string, names: string[]): Promise<void> {
  const m = await readManifest(cfg, id);
  const rest = m.databases.filter((d) => !names.includes(d.name));
  const dir = setDir(cfg, id);
  if (!rest.length && !m.files.length) {
    const trash = join(cfg.backupDir, `.deleting-${id}-${process.pid}`);
    await fsp.rename(dir, trash);
    await fsp.rm(trash, { recursive: true, force: true });
  } else {
    await writeFileAtomic(join(dir, MANIFEST_NAME), JSON.stringify({ ...m, databases: rest }, null, 2) + '\n');
  }
  await fsyncPath(cfg.backupDir);
  const setRemoved = !rest.length && !m.files.length;
  writeLog(cfg.backupDir, 'rollback-retired', { setId: id, databases: names, setRemoved }, cfg.secrets);
}

/** A pre_restore set whose entries point at live databases renamed on their server. */
async function publishReferenceSet(cfg: LoadedConfig, restoreOf: string, entries: DatabaseEntry[]): Promise<string> {
  const taken = new Set(
    readdirSync(cfg.backupDir)
      .map((n) => (n.startsWith('.tmp-') ? n.slice(5) : n))
      .filter(isSetId),
  );
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

/**
 * Creates `rel`'s parent folders under `root`, refusing to pass through a symlink or a file. Nothing
 * is created unless the whole final path is a safe relative path inside `root`.
 */
async function safeParent(root: string, rel: string): Promise<string> {
  const dest = join(root, rel);
  if (!isSafeRelative(rel) || !resolve(dest).startsWith(resolve(root) + sep)) {
    const where = `Entry ${JSON.stringify(rel)} would be written outside ${root}.`;
    throw new VerifyError(where, 'This set was tampered with; do not use it.');
  }
  const parts = rel.split('/');
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    cur = join(cur, part);
    try {
      const st = await fsp.lstat(cur);
      if (!st.isDirectory())
        throw new VerifyError(
          `Restoring ${rel}: ${cur} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}; refusing to write through it.`,
          'The set contains conflicting entries; restore the files by hand.',
        );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await fsp.mkdir(cur, { mode: 0o700 });
    }
  }
  return dest;
}

/** Refuses, before anything is written, entries that repeat a path or sit below a symlink or file entry. */
function checkFileEntries(entries: FileEntry[]): void {
  const kinds = new Map<string, FileEntry['kind']>();
  for (const e of entries) {
    const p = `${e.group}/${e.relative}`;
    if (kinds.has(p))
      throw new VerifyError(
        `The manifest lists ${JSON.stringify(p)} twice.`,
        'This set was tampered with; do not use it.',
      );
    kinds.set(p, e.kind);
  }
  for (const p of kinds.keys()) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const kind = kinds.get(parent);
      if (kind)
        throw new VerifyError(
          `The manifest puts ${JSON.stringify(p)} below ${JSON.stringify(parent)}, which is a ${kind === 'symlink' ? 'symlink' : 'file'}; refusing to restore through it.`,
          'This set was tampered with; do not use it.',
        );
    }
  }
}

/** Restores files into `to` (new or empty): regular files first, symlinks last, never following any. */
/**
 * Writes the files of a set into a hidden `.<to>.respaldo-partial-<set>` folder beside `to` and
 * renames it to `to` once complete, so `to` never holds half a restore. `to` may exist if empty.
 * `onFile` gets the size of each regular file once it is written.
 */
export async function restoreFiles(
  setRoot: string,
  entries: FileEntry[],
  to: string,
  opts: {
    setId: string;
    codec?: CodecName;
    track?: (path: string) => Promise<() => Promise<void>>;
    onFile?: (bytes: number) => void;
  },
): Promise<void> {
  checkFileEntries(entries);
  const partial = join(dirname(to), `.${basename(to)}.respaldo-partial-${opts.setId}`);
  await fsp.mkdir(dirname(to), { recursive: true, mode: 0o700 });
  await fsp.rm(partial, { recursive: true, force: true });
  const untrack = opts.track ? await opts.track(partial) : undefined;
  try {
    await fsp.mkdir(partial, { mode: 0o700 });
    const ordered = [...entries.filter((e) => e.kind === 'file'), ...entries.filter((e) => e.kind === 'symlink')];
    for (const e of ordered) {
      if (!isSafeRelative(e.relative) || (e.stored && !isSafeRelative(e.stored)))
        throw new VerifyError(
          `Unsafe path in the manifest: ${JSON.stringify(e.relative)}`,
          'This set was tampered with; do not use it.',
        );
      const dest = await safeParent(partial, `${e.group}/${e.relative}`);
      if (e.kind === 'symlink') {
        await fsp.symlink(e.linkTarget ?? '', dest);
        continue;
      }
      const src = createReadStream(join(setRoot, e.stored!), { highWaterMark: 1 << 20 });
      await pipeline(src, decompressorFor(opts.codec ?? 'gzip'), createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
      await fsp.chmod(dest, e.mode & 0o777);
      await fsp.utimes(dest, new Date(e.mtime), new Date(e.mtime));
      opts.onFile?.(e.size);
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

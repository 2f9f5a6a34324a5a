/**
 * The plan of a restore, before anything is changed: the set (or the chain, for `--at`), each database's target and
 * its driver's steps, the files' target, and every refusal (a target that exists or is in use, damage, no room,
 * roles missing). Why one file of about 940 lines: `planRestore` and `planRestoreAt` build the same plan and share
 * its refusals and targets; the restore, the drill and the menu all read it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { lstatSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { NotFoundError, RefusedError, RespaldoError, UsageError, VerifyError } from '../core/errors.js';
import { english, phrase, type Phrase } from '../core/phrases.js';
import type { DatabaseConfig, DatabaseEntry, FileEntry, LoadedConfig, Manifest } from '../core/types.js';
import { checkConfiguredDatabases } from '../config/lookup.js';
import type { Driver, RestoreStepPlan, RestoreTarget, TargetState } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { readManifestLeanOf, setDir, type SetSelection } from './catalog.js';
import { entryStoredBytes, readManifestLean } from './manifest.js';
import { chainOf, noSetAt, planAt, startedThenPhrases, type AtPlan, type Chain } from './chain.js';
import { readChainSets, selectUsableLatest } from './chain-sets.js';
import { checkFileEntries, choosingPath, normalStoredPath, shownPath } from './restore-files.js';
import { editDistance } from '../core/edit-distance.js';
import type { ManifestFiles } from './manifest.js';
import { earlierSafetyWarnings } from './earlier-safety.js';
import { shortDiskPhrases, shortDisks } from './restore-room.js';

/**
 * Planning a restore (pure but for reading the set and inspecting the targets): which set, which
 * databases and files, where each goes, how what is replaced is kept, and what refuses the restore.
 * Changes nothing; `executeRestore` (restore.ts) carries a plan out. About 940 lines as one file: the
 * plan's printable types and the one pass over the set's entries that fills them belong together.
 */

export interface RestoreOptions {
  /** Databases to restore (default: all of the set, unless only `files` is asked for). */
  databases?: string[];
  /** Restore config and application files (into `to`, or a new folder). */
  files?: boolean;
  /** Side by side: a path (SQLite, files) or a database name (server engines). */
  to?: string;
  /**
   * With `files`: only the stored files at these paths (`group/relative`, as `show` lists them), or below them (a
   * folder); one that chooses nothing is a NotFoundError naming it, with the closest stored paths.
   */
  paths?: string[];
  /** PostgreSQL: only these tables, side by side. */
  tables?: string[];
  terminateConnections?: boolean;
  /** Restore even onto a database server's disk with less room than the restore needs (refused otherwise). */
  ignoreFreeSpace?: boolean;
  /** PostgreSQL: first create the roles stored with the set (`globals: true`) that the server lacks. */
  createRoles?: boolean;
  /** Folder `to` is resolved against (default: process.cwd()). */
  cwd?: string;
  /**
   * Folder holding the set when it is not `<backupDir>/<id>` (a set fetched from a destination); the
   * earlier sets its chains need are read from beside it (`<parent>/<id>`), not from backupDir.
   */
  setFolder?: string;
  /**
   * Set when the set folder holds only the manifests and the stored files are at destination `name`
   * (their presence and sizes checked there): `streamed`, a run streams them into the restore, each checked
   * as it is read (`restore --from NAME --stream`, or no room to fetch them); false for a dry run that
   * read only the manifests of a set a run would fetch.
   */
  filesAt?: { name: string; streamed: boolean };
  /**
   * Set when the set folder's files (and its chains') were fetched from destination `name` a moment ago, each
   * checked against its manifest's size and SHA-256 as it arrived (remote-fetch.ts): the restore checks them to
   * be there with their sizes and does not hash them a second time.
   */
  fetchedFrom?: string;
  /**
   * `--path` at a destination: the stored files a run fetches (or streams) of those the set stores there, said in
   * the plan (remote-fetch.ts FetchPart).
   */
  fetchPart?: { count: number; bytes: number; storedCount: number; storedBytes: number };
  /**
   * Asked by `restore` and the menu: a restore of one database from a local, unencrypted set, or of the files alone
   * from a local set (encrypted too: each file decrypted as it is read), checks each stored file's presence and size
   * first and its SHA-256 as the restore reads it, instead of hashing it in a pass of its own before (a mismatch
   * stops a database's restore before its swap, and removes the partial folder the files were written in: the target
   * is left as it was). The plan keeps it only when it holds (`planRestore`); false otherwise.
   */
  checkAsRead?: boolean;
  /**
   * `latest` at a destination (remote-fetch.ts): the set folder holds the set chosen there, and these newer sets
   * there were passed over, so the plan says `latest` and them as a local one does.
   */
  latestSkipped?: SetSelection['skipped'];
  /** `--at` at a destination: the sets there ending by then that were passed over (planAt's, said as a local one). */
  atSkipped?: AtPlan['skipped'];
  /** `--at`: how much of the time was written (chain.ts atWithin): a set that started within it is named by it. */
  atWithin?: number;
  /** `--at` at a destination: the set there was named by the time (planAt's `startedThen`, with the one before). */
  atStartedThen?: AtPlan['startedThen'];
}

/**
 * Pure: a driver's steps when the stored files stream from destination `name` (`how` streamCheck), were
 * fetched from it and checked as they arrived (fetchedCheck), or are checked as the restore reads them here
 * (localCheck): a step that verifies the stored file first says instead when it is checked.
 */
function checkedElsewhere(
  step: RestoreStepPlan,
  name: string,
  how: 'restore.streamCheck' | 'restore.fetchCheck' | 'restore.fetchedCheck' | 'restore.localCheck',
): RestoreStepPlan {
  if (!step.stepPhrases) return step;
  const phrases = step.stepPhrases.map((p) =>
    p.id === 'sqlite.verify' ? phrase(how, { file: p.params['file'] ?? '', from: name }) : p,
  );
  return { ...step, steps: phrases.map(english), stepPhrases: phrases };
}

/** Where the sets a restore's chains read live: beside a fetched set, else the backup folder. */
export function setsRoot(cfg: Pick<LoadedConfig, 'backupDir'>, opts: Pick<RestoreOptions, 'setFolder'>): string {
  return opts.setFolder ? dirname(opts.setFolder) : cfg.backupDir;
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
  /** The files, symlinks and bytes restored: with `paths`, those they choose. */
  count: number;
  bytes: number;
  symlinks: number;
  /** `--path`: each path asked (as compared: no leading `./` nor trailing `/`) and what it chose. */
  paths?: { path: string; count: number; symlinks: number }[];
  /** `--path`: what the set holds in all, of which `count`/`symlinks`/`bytes` are restored. */
  ofSet?: { count: number; symlinks: number; bytes: number };
}

/**
 * Why a restore cannot go on. `sessions` is the only kind an operator can lift at once, by
 * confirming that connected sessions may be closed (`--terminate-connections`, the menu's prompt).
 */
export interface RestoreRefusal {
  /** `damaged-chain`: a set the chain needs has a damaged stored file (exit 5, as for the set itself). */
  /** `no-room`: a database server's disk (on this machine) has less room than the restore needs there. */
  /** `missing-roles`: the server lacks roles the dump names (exit 7, as when pg_restore stopped at one). */
  /** `no-folder`: in place, the folder a SQLite database lives in is not there (exit 7, as the restore itself said). */
  /** `target-state`: in place, the live target cannot be replaced as it is now (TargetState.replaceRefusal; exit 9). */
  kind:
    | 'failed-entry'
    | 'damaged-chain'
    | 'schema-in-place'
    | 'target-exists'
    | 'in-use'
    | 'sessions'
    | 'files-target'
    | 'no-room'
    | 'missing-roles'
    | 'no-folder'
    | 'target-state';
  database: string | null;
  message: string;
  hint: string;
  /** `message` and `hint` as phrases, for the menu's languages. */
  phrases?: { message: Phrase; hint: Phrase };
}

/**
 * The error a plan's first refusal stops a restore with: a damaged set its chain needs is damage (exit 5, as for that
 * set itself), others are refusals (9); null when nothing refuses it.
 */
export function refusalError(plan: Pick<RestorePlan, 'refusals'>): RespaldoError | null {
  const r = plan.refusals[0];
  if (!r) return null;
  const err =
    r.kind === 'damaged-chain'
      ? new VerifyError(r.message, r.hint)
      : r.kind === 'missing-roles' || r.kind === 'no-folder'
        ? new RespaldoError('failed', r.message, r.hint)
        : new RefusedError(r.message, r.hint);
  return r.phrases ? err.withPhrases(r.phrases.message, r.phrases.hint) : err;
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
  /** The set is encrypted (age): its stored files are decrypted to be restored. */
  encrypted?: boolean;
}

export function dbConfig(cfg: LoadedConfig, name: string): DatabaseConfig {
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

/** Prefix of a drill's private scratch folder in the backup folder (`.tmp-drill-<pid>`; drill.ts). */
export const DRILL_SCRATCH_PREFIX = '.tmp-drill-';

/**
 * A `--to` that is a path (files, a database kept in a file) must be outside the backup folder: restored there, it
 * would sit in a set's folder as a file respaldo did not write (prune then keeps that set), or be taken for a set.
 */
function checkNotInBackups(cfg: LoadedConfig, opts: RestoreOptions, names: string[], cwd: string): void {
  if (!opts.to) return;
  const isPath =
    opts.files ||
    names.some((n) => cfg.databases.find((d) => d.name === n && driverFor(d.engine).safety !== 'renamed-database'));
  const abs = resolve(cwd, opts.to);
  const root = resolve(cfg.backupDir);
  // A drill restores into a scratch folder of its own there (drill.ts), removed when it ends.
  const drill = abs.slice(root.length + 1).startsWith(DRILL_SCRATCH_PREFIX);
  if (isPath && !drill && (abs === root || abs.startsWith(root + sep)))
    throw new UsageError(
      `--to ${opts.to} is inside the backup folder ${root}; nothing was restored.`,
      'Restore into a folder outside it (a file there would be taken for part of a backup set).',
    );
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
  // Those that do not store a `--path` asked for are said apart: "2 newer sets do not store config/app.conf".
  const lacking = sel.skipped.filter((s) => s.paths);
  const others = sel.skipped.filter((s) => !s.paths);
  if (lacking.length) {
    const paths = [...new Set(lacking.flatMap((s) => s.lacks))];
    const ids = lacking.slice(0, 5).map((s) => s.id);
    const sets = ids.join(', ') + (lacking.length > 5 ? ` … +${lacking.length - 5}` : '');
    out.push(phrase('plan.passedOverPaths', { count: String(lacking.length), paths: paths.join(', '), sets }));
  }
  if (others.length) {
    const shown = others.slice(0, 5).map((s) => `${s.id} (${s.lacks.join(', ')})`);
    const more = others.length > 5 ? ` … +${others.length - 5}` : '';
    out.push(phrase('plan.passedOver', { sets: shown.join(', ') + more }));
  }
  return out;
}

/** Pure: what a set holds, as a selection shows it. */
function holdsOf(m: Manifest, files: number): SetSelection['holds'] {
  const ok = m.databases.filter((d) => !d.error);
  const failed = m.databases.filter((d) => d.error).map((d) => d.name);
  return { databases: ok.map((d) => d.name), failedDatabases: failed, files };
}

/** A database refused before it was planned whose restore would have replaced it in place, and how it is kept. */
export interface RefusedInPlace {
  database: string;
  safety: Driver['safety'];
}

/**
 * Pure: how what a plan replaces is kept, one phrase per replaced database (or that nothing is
 * replaced). `refused` are in-place databases refused before they were planned: the plan still says
 * how they would be kept, never that the restore is side by side.
 */
export function safetyOf(
  databases: readonly (Pick<DatabaseRestorePlan, 'database' | 'replaces' | 'safety'> & {
    state: Pick<DatabaseRestorePlan['state'], 'exists'>;
  })[],
  refused: readonly RefusedInPlace[] = [],
): Phrase[] {
  const replaced = databases.filter((d) => d.replaces);
  if (!replaced.length && !refused.length) return [phrase('plan.safetyNone')];
  // A database that does not exist now has nothing to keep (the restore takes no copy of it; the plan said one).
  return [
    ...replaced.map((d) =>
      !d.state.exists
        ? phrase('plan.safetyNothingThere', { db: d.database })
        : d.safety.kind === 'renamed-database'
          ? phrase('plan.safetyRenamed', { db: d.database, name: d.safety.name })
          : phrase('plan.safetySet', { db: d.database }),
    ),
    ...refused.map((r) =>
      r.safety === 'renamed-database'
        ? phrase('plan.safetyRenamedRefused', { db: r.database })
        : phrase('plan.safetySet', { db: r.database }),
    ),
  ];
}

/** Reads the set and the targets and says what a restore would do. Changes nothing. */
export async function planRestore(cfg: LoadedConfig, id: string, opts: RestoreOptions): Promise<RestorePlan> {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.databases?.length) checkConfiguredDatabases(cfg, opts.databases);
  const onlyFiles = opts.files && !opts.databases?.length;
  // `latest` without --db means every configured database; a set lacking one is never latest.
  const wanted = onlyFiles ? [] : opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  // A set fetched from a destination (restore --from) is read from its folder; the id is its own.
  // `latest --files --path P` is the newest set that stores every P: the sets before it are read one at a time.
  const asked = opts.files && opts.paths?.length ? [...new Set(opts.paths.map(normalStoredPath))] : null;
  const holdsPaths = asked
    ? {
        lacking: (sid: string) => pathsNotStored(readManifestLean(setDir(cfg, sid)), asked),
        noneHolds: (looked: string[]) =>
          notInSets(
            looked.map((sid) => readManifestLean(setDir(cfg, sid))),
            asked,
          ),
      }
    : undefined;
  const picked =
    id === 'latest' && !opts.setFolder
      ? await selectUsableLatest(cfg, { databases: wanted, files: Boolean(opts.files) }, holdsPaths)
      : null;
  // The entries of its files gone through as they are checked, none held (a set of 100 000 files held about 40 MiB).
  const { head: m, files: entries } = opts.setFolder
    ? readManifestLean(opts.setFolder)
    : await readManifestLeanOf(cfg, picked?.setId ?? id);
  const inSet = m.databases.filter((d) => !d.error).map((d) => d.name);
  const names = onlyFiles ? [] : opts.databases?.length ? opts.databases : picked ? wanted : inSet;
  checkNotInBackups(cfg, opts, names, cwd);
  const selection: SetSelection =
    picked ??
    (opts.latestSkipped
      ? { asked: 'latest', setId: m.id, holds: holdsOf(m, entries.count), skipped: opts.latestSkipped }
      : { asked: id, setId: m.id, holds: holdsOf(m, entries.count), skipped: [] });
  // One database, nothing else: a stored file that fails its check as it is read stops the restore before any swap.
  // Files alone: they are written into a partial folder, which a file that fails its check removes, all of it; an
  // encrypted set's decrypted on the way (age authenticates every chunk), that folder renamed into place only after.
  const checkAsRead =
    opts.checkAsRead === true &&
    !opts.setFolder &&
    !opts.filesAt &&
    !opts.fetchedFrom &&
    ((!opts.files && names.length === 1 && !m.encryption) || (Boolean(opts.files) && names.length === 0));
  const refusals: RestorePlan['refusals'] = [];
  const warningPhrases: Phrase[] = [];
  const databases: DatabaseRestorePlan[] = [];
  const refuse = (kind: RestoreRefusal['kind'], database: string | null, message: Phrase, hint: Phrase): void => {
    refusals.push({ kind, database, message: english(message), hint: english(hint), phrases: { message, hint } });
  };
  const refusedInPlace: RefusedInPlace[] = [];
  /** A database refused before it is planned; without --to it would have been replaced in place. */
  const refuseEntry = (
    name: string,
    message: Phrase,
    hint: Phrase,
    kind: RestoreRefusal['kind'] = 'failed-entry',
  ): void => {
    refuse(kind, name, message, hint);
    const db = cfg.databases.find((d) => d.name === name);
    if (!opts.to && db) refusedInPlace.push({ database: name, safety: driverFor(db.engine).safety });
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
      refuseEntry(
        name,
        phrase('refuse.failedEntry', { db: name, set: m.id, reason: entry.error?.message ?? 'no stored file' }),
        phrase('refuse.failedEntryHint', { db: name }),
      );
      continue;
    }
    if (entry.format.endsWith('-raw')) {
      refuseEntry(
        name,
        phrase('refuse.raw', { set: m.id, db: name, file: entry.file }),
        phrase('refuse.rawHint', {
          path: join(setDir(cfg, m.id), entry.file),
          db: name,
          cmd: entry.codec === 'zstd' ? 'zstd -dc' : 'gunzip -c',
          // Its -wal or hot -journal, kept with it: without it the file alone is half a transaction.
          sides: (entry.extras ?? [])
            .filter((x) => x.role === 'wal' || x.role === 'journal')
            .map(
              (x) =>
                ` && ${x.codec === 'zstd' ? 'zstd -dc' : 'gunzip -c'} ${join(setDir(cfg, m.id), x.file)} > /tmp/${name}.damaged-${x.role}`,
            )
            .join(''),
        }),
      );
      continue;
    }
    let chain: Chain | null = null;
    if (entry.base) {
      chain = chainOf(
        (chainSets ??= readChainSets({ backupDir: setsRoot(cfg, opts) }, { manifestsOnly: Boolean(opts.filesAt) })),
        m.id,
        name,
      );
      if (chain.problem) {
        const sets = chainSets;
        const olderRestores = sets.some(
          (s) =>
            s.id < m.id &&
            s.status === 'completed' &&
            s.type !== 'pre_restore' &&
            s.type !== 'schema' &&
            s.entries[name] &&
            !chainOf(sets, s.id, name).problem,
        );
        refuseEntry(
          name,
          phrase('refuse.brokenChain', {
            set: m.id,
            db: name,
            reason: chain.problem,
            // The reason's own phrase, its parameters apart (its `set` is the missing one, not this one).
            ...(chain.problemPhrase
              ? Object.fromEntries([
                  ['in.of', chain.problemPhrase.id],
                  ...Object.entries(chain.problemPhrase.params).map(([k, v]) => [`in.${k}`, v]),
                ])
              : {}),
          }),
          phrase(olderRestores ? 'refuse.brokenChainHint' : 'refuse.brokenChainNoOlderHint', { set: m.id, db: name }),
          chain.damaged ? 'damaged-chain' : 'failed-entry',
        );
        continue;
      }
    }
    const db = dbConfig(cfg, name);
    // The config's entry of that name is another engine now (a name given to another database): its driver would
    // read the stored file as its own and fail half-way (pg_restore: "not a valid archive").
    if (entry.engine !== db.engine) {
      refuseEntry(
        name,
        phrase('refuse.engineChanged', { set: m.id, db: name, stored: entry.engine, now: db.engine }),
        phrase('refuse.engineChangedHint', { db: name, stored: entry.engine }),
      );
      continue;
    }
    const driver = driverFor(db.engine);
    const target = targetFor(db, names.length, opts.to, cwd, Boolean(opts.files));
    if (opts.tables?.length && target.kind === 'in-place') {
      throw new UsageError('--table restores selected tables side by side only.', 'Add --to NEWNAME.');
    }
    if (opts.tables?.length && !driver.capabilities.tableSelection) {
      throw new UsageError(
        `--table: ${name} is a ${db.engine} database, which is restored whole; tables are chosen only where the engine can.`,
        `Restore ${name} without --table (side by side with --to), then copy the tables you need from there.`,
      );
    }
    const createRoles = Boolean(opts.createRoles) && driver.capabilities.roles;
    if (createRoles && !entry.extras?.some((x) => x.role === 'globals')) {
      throw new UsageError(
        `Set ${m.id} stored no roles for ${name} ("globals" was not enabled when it was made), so --create-roles has nothing to create.`,
        'Create the roles by hand (CREATE ROLE …), then restore without --create-roles.',
      );
    }
    const state = await driver.inspectTarget(db, target);
    const planned = driver.planRestore({
      db,
      entry,
      setId: m.id,
      target,
      targetExists: state.exists,
      ...(state.keptSafeties ? { keptSafeties: state.keptSafeties } : {}),
      ...(state.hotJournal ? { targetHotJournal: true } : {}),
      ...(state.roles ? { serverRoles: state.roles } : {}),
      ...(state.cdcEnabled ? { targetCdcEnabled: true } : {}),
      ...(opts.tables ? { tables: opts.tables } : {}),
      ...(createRoles ? { createRoles: true } : {}),
    });
    // At a destination, its files streamed into the restore or fetched once it is confirmed; or fetched already.
    const step = opts.filesAt
      ? checkedElsewhere(
          planned,
          opts.filesAt.name,
          opts.filesAt.streamed ? 'restore.streamCheck' : 'restore.fetchCheck',
        )
      : opts.fetchedFrom
        ? checkedElsewhere(planned, opts.fetchedFrom, 'restore.fetchedCheck')
        : checkAsRead
          ? checkedElsewhere(planned, '', 'restore.localCheck')
          : planned;
    if (planned.refusal) refuse('missing-roles', name, planned.refusal.message, planned.refusal.hint);
    if (state.missingFolder)
      refuse(
        'no-folder',
        name,
        phrase('sqlite.noFolder', { dir: state.missingFolder }),
        phrase('sqlite.noFolderHint', { db: name }),
      );
    // Side by side too where nothing is there yet: what lies beside the path would be lost or applied to the restore
    if ((target.kind === 'in-place' || !state.exists) && state.replaceRefusal)
      refuse('target-state', name, state.replaceRefusal.message, state.replaceRefusal.hint);
    warningPhrases.push(...(planned.warnings ?? []));
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
      storedBytes: entryStoredBytes(entry),
      rawBytes: entry.rawBytes,
      format: entry.format,
      ...restoredSizeEstimate(entry),
      ...(chain ? { chain: chain.members } : {}),
    });
  }
  let files: FilesRestorePlan | null = null;
  // Files asked of a set that holds none: with databases the plan says so and restores them; alone, nothing
  // is there to restore (an empty folder made and "restored" would pass for a restore).
  if (opts.files && !entries.count) {
    if (onlyFiles)
      throw new NotFoundError(
        `Set ${m.id} holds no files; nothing was restored.`,
        'Choose a set that holds files (the FILES column of respaldo list), or name databases with --db.',
      );
    warningPhrases.push(phrase('plan.noFiles', { set: m.id }));
  }
  if (opts.files && entries.count) {
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
    // Counted as they are checked: one reading of the manifest's entries.
    const plan: FilesRestorePlan = { to, count: 0, bytes: 0, symlinks: 0 };
    const chosen = asked?.map((path) => ({ path, count: 0, symlinks: 0 }));
    const ofSet = { count: 0, symlinks: 0, bytes: 0 };
    const add = (c: { count: number; symlinks: number; bytes?: number }, f: FileEntry): void => {
      if (f.kind === 'file') c.count++;
      else if (f.kind === 'symlink') c.symlinks++;
      if (c.bytes !== undefined) c.bytes += f.size;
    };
    checkFileEntries(
      (function* () {
        for (const f of entries.entries()) {
          // Without --path every entry is restored (null); with it, those a path chooses.
          const by = asked ? choosingPath(shownPath(f), asked) : null;
          add(ofSet, f);
          if (by !== undefined) add(plan, f);
          const of = by ? chosen?.find((c) => c.path === by) : undefined;
          if (of) add(of, f);
          yield f;
        }
      })(),
      [],
      entries.count,
    );
    if (asked && chosen) {
      // A folder stored empty (an application's logs/) is chosen too: the restore makes it.
      const none = chosen.filter(
        (c) => !c.count && !c.symlinks && !(m.folders ?? []).some((d) => choosingPath(shownPath(d), [c.path])),
      );
      if (none.length)
        throw notInSets(
          [{ head: m, files: entries }],
          none.map((c) => c.path),
        );
      plan.paths = chosen;
      plan.ofSet = ofSet;
    }
    checkFilesFolder(to, opts.to, cwd);
    if (existsSync(to) && readdirSync(to).length)
      refuse('files-target', null, phrase('refuse.filesTarget', { to }), phrase('refuse.filesTargetHint'));
    files = plan;
  }
  if (!databases.length && !files && !refusals.length)
    throw new UsageError('Nothing to restore.', 'Name databases with --db, or add --files.');
  const safetyPhrases = safetyOf(databases, refusedInPlace);
  const replaced = databases
    .filter((d) => d.replaces && d.state.exists && !d.swapsBack)
    .map((d) => ({
      database: d.database,
      renamed: d.safety.kind === 'renamed-database',
      ...(d.state.keptSafeties ? { keptNow: d.state.keptSafeties } : {}),
    }));
  warningPhrases.push(...(await earlierSafetyWarnings(cfg, replaced)));
  // A rollback writes nothing new: it renames.
  for (const on of shortDisks(databases.filter((d) => !d.swapsBack))) {
    const said = shortDiskPhrases(on);
    if (!said.hint) warningPhrases.push(said.message);
    else if (opts.ignoreFreeSpace) warningPhrases.push(said.ignored);
    else refuse('no-room', on.databases.length === 1 ? on.databases[0]! : null, said.message, said.hint);
  }
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
    options: { ...opts, checkAsRead },
    ...(m.encryption ? { encrypted: true } : {}),
  };
}

/**
 * Pure but for reading the entries of set `m` once: the `paths` (normalized) it stores no file, symlink nor folder at
 * (none chosen by one: empty). Stops reading once every path is found.
 */
export function pathsNotStored(read: { head: Manifest; files: ManifestFiles }, paths: readonly string[]): string[] {
  const left = new Set(paths);
  const found = (path: string): void => {
    for (const p of left) if (choosingPath(path, [p]) !== undefined) left.delete(p);
  };
  for (const d of read.head.folders ?? []) found(shownPath(d));
  if (!left.size) return [];
  for (const e of read.files.entries()) {
    found(shownPath(e));
    if (!left.size) return [];
  }
  return paths.filter((p) => left.has(p));
}

/**
 * The error of `--path`s that choose no stored file or folder of the sets looked at (newest first; one for a set
 * named by its id, those `latest` went through for a `--path`), exit 8, with the stored paths closest to each (by
 * edit distance of the whole path, or of its last part: `app.conf` finds `config/app.conf`), the set of each named
 * when several were looked at. Pure but for reading each manifest's entries once.
 */
export function notInSets(looked: { head: Manifest; files: ManifestFiles }[], missing: string[]): NotFoundError {
  const several = looked.length > 1;
  const best = new Map<string, { path: string; d: number }[]>(missing.map((p) => [p, []]));
  const last = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const consider = (path: string, id: string): void => {
    const shown = several ? `${path} (set ${id})` : path;
    for (const [p, top] of best) {
      const d = Math.min(editDistance(p, path), editDistance(last(p), last(path)) + 1);
      if (top.length === 3 && d >= top[2]!.d) continue;
      if (top.some((t) => t.path === shown || (several && t.path.startsWith(`${path} (`)))) continue;
      top.push({ path: shown, d });
      top.sort((a, b) => a.d - b.d || a.path.localeCompare(b.path));
      top.length = Math.min(top.length, 3);
    }
  };
  for (const { head: m, files } of looked) {
    for (const e of files.entries()) consider(shownPath(e), m.id);
    for (const d of m.folders ?? []) consider(`${shownPath(d)}/`, m.id);
  }
  const quoted = missing.map((p) => JSON.stringify(p)).join(', ');
  const closest = [...best]
    .filter(([, top]) => top.length)
    .map(([p, top]) => `${missing.length > 1 ? `for ${JSON.stringify(p)}, ` : ''}${top.map((t) => t.path).join(', ')}`);
  const newest = looked[0]!.head.id;
  const at = missing.length > 1 ? 'those paths' : 'that path';
  const where = several
    ? `none of the ${looked.length} sets looked at (${newest} back to ${looked.at(-1)!.head.id}) stores a file or folder at ${at}`
    : `set ${newest} stores no file or folder at ${at}`;
  return new NotFoundError(
    `--path ${quoted}: ${where}; nothing was restored.`,
    `${closest.length ? `Closest stored: ${closest.join('; ')}. ` : ''}Paths are as \`respaldo show ${newest}\` lists them, the group first (config/…, application/…).`,
  );
}

/**
 * `restore --at`: the plan of the restore of the newest set ending at or before `at` that holds every
 * database asked for (all configured ones without --db) with usable chains (chain.ts planAt), carrying
 * the preview (`at`): the sets applied in order, their stored size, the exact point reached. Changes nothing.
 */
export async function planRestoreAt(cfg: LoadedConfig, at: Date, opts: RestoreOptions): Promise<RestorePlan> {
  if (opts.databases?.length) checkConfiguredDatabases(cfg, opts.databases);
  // As for an id or `latest`: the files alone asked for are the files alone (no database is replaced).
  const onlyFiles = opts.files && !opts.databases?.length;
  const wanted = onlyFiles ? [] : opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  const files = { files: Boolean(opts.files) };
  // With --from, the set of that time and its chains were fetched (remote-fetch.ts fetchSet) and are read there.
  const sets = readChainSets({ backupDir: setsRoot(cfg, opts) }, { manifestsOnly: Boolean(opts.filesAt) });
  let found = planAt(sets, at, wanted, { ...files, within: opts.atWithin ?? 0 });
  // With `--path`, as `latest`: the newest set of that time that stores every P (those before it read one at a time;
  // at a destination, fetchSet chose it there and only it is here).
  const asked = opts.files && opts.paths?.length ? [...new Set(opts.paths.map(normalStoredPath))] : null;
  const lacking: AtPlan['skipped'] = [];
  const leanOf = (id: string) => readManifestLean(join(setsRoot(cfg, opts), id));
  while (asked && !opts.setFolder && !('none' in found)) {
    const lacks = pathsNotStored(leanOf(found.setId), asked);
    if (!lacks.length) break;
    lacking.push({ id: found.setId, reason: `it does not store ${lacks.join(', ')}` });
    const pool = sets.filter((x) => !lacking.some((l) => l.id === x.id));
    found = planAt(pool, at, wanted, { ...files, within: opts.atWithin ?? 0 });
  }
  if (asked && lacking.length && 'none' in found)
    throw notInSets(
      lacking.map((l) => leanOf(l.id)),
      asked,
    );
  if (lacking.length && !('none' in found)) found = { ...found, skipped: [...lacking, ...found.skipped] };
  if (opts.setFolder && !('none' in found) && found.setId !== basename(opts.setFolder))
    throw new Error(`restore --at: the fetched set ${basename(opts.setFolder)} is not the set of that time`);
  if ('none' in found) throw noSetAt(null, wanted, at, found.skipped, sets, files.files);
  const plan = await planRestore(cfg, found.setId, { ...opts, databases: wanted });
  // At a destination only the chosen set and its chain were fetched: the sets passed over there are said too.
  const skipped = [
    ...(opts.atSkipped ?? []),
    ...found.skipped.filter((x) => !opts.atSkipped?.some((y) => y.id === x.id)),
  ];
  // Only the chosen set and its chain are here after a fetch: the set before it is the destination's (remote-fetch).
  const named = opts.setFolder ? opts.atStartedThen : found.startedThen;
  const from = opts.filesAt?.name ?? opts.fetchedFrom;
  // The same restore of the other set: its target too (without --to it would replace the live database)
  const arg = (x: string) => (/^[\w.@/:=+-]+$/.test(x) ? x : JSON.stringify(x));
  const command = named?.before
    ? [
        `respaldo restore ${named.before}`,
        ...(opts.databases ?? []).map((d) => `--db ${arg(d)}`),
        ...(opts.files ? ['--files'] : []),
        ...(opts.paths ?? []).map((p) => `--path ${arg(p)}`),
        ...(opts.to ? [`--to ${arg(opts.to)}`] : []),
        ...(opts.tables ?? []).map((t) => `--table ${arg(t)}`),
        ...(from ? [`--from ${arg(from)}`] : []),
        '--dry-run',
      ].join(' ')
    : undefined;
  const preview: AtPlan = {
    ...found,
    skipped,
    ...(named ? { startedThen: { ...named, ...(command ? { command } : {}) } } : {}),
  };
  if (preview.startedThen) preview.startedThen.reason = startedThenPhrases(preview).map(english).join(' ');
  return { ...plan, at: preview };
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
  // Refused as the rollback itself would, before anything is done (a live database not ONLINE, or published).
  if (state.exists && state.replaceRefusal) {
    const { message, hint } = state.replaceRefusal;
    const asRollback = (p: Phrase): Phrase => phrase(p.id, { ...p.params, doing: 'rollback' });
    refuse('target-state', name, asRollback(message), asRollback(hint));
  }
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

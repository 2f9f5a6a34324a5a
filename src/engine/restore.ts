import { accessSync, constants as fsConstants, promises as fsp } from 'node:fs';
import { formatBytes } from '../core/format.js';
import { join } from 'node:path';
import { RefusedError, RespaldoError, errorMessage, isDiskFull } from '../core/errors.js';
import type { ExitKind } from '../core/exit-codes.js';
import type { Reporter } from '../core/events.js';
import { english, phrase, said, type Phrase } from '../core/phrases.js';
import type { DatabaseConfig, EngineName, ErrorPhrases, LoadedConfig, Manifest } from '../core/types.js';
import type { Decrypter } from './age-header.js';
import type { DrillCheck, DriverContext } from '../drivers/driver.js';
import { readManifestLeanOf, recordDamaged, setDir } from './catalog.js';
import { recordNotWritten } from './verify.js';
import { ensurePrivateDir, freeBytesAt, removeTree } from './fs-util.js';
import { driverFor } from '../drivers/registry.js';
import { withLock } from './lock.js';
import { makeSystemScratch, removeDeadSystemScratch } from './system-scratch.js';
import { journalSafetySet } from './safety-journal.js';
import { stopLogging, writeLog } from './log.js';
import { readManifestLean, type ManifestFiles } from './manifest.js';
import { withFirstFile } from './decrypt-set.js';
import { ranBy } from '../core/who.js';
import { trackTemp } from './temp-journal.js';
import { journalRoles } from './role-journal.js';
import { rollbackLines } from './rollback-advice.js';
import { refusalError, type RestorePlan } from './restore-plan.js';
import { restoreFiles, selectedFiles, selectedFolders } from './restore-files.js';
import type { StoredCheck } from './stored-check.js';
import { restoreDatabases } from './restore-databases.js';
import type { RemoteFiles } from './remote-read.js';
import { destinationConfig } from '../destinations/registry.js';
import { localReader, type StoredReader } from './stored-part.js';
import {
  checkingReader,
  damagedRead,
  damageThere,
  decryptForRestore,
  dropUnusedSafetySet,
  keepReplacedFiles,
  readsFilesOnce,
  restoreEndLogged,
  recoverBeforeRestore,
  verifyForRestore,
  type SafetySet,
} from './restore-stage.js';

/**
 * Restore, split by job: planning (restore-plan.ts); verifying, decrypting, recovering and keeping
 * replaced SQLite files before anything is touched (restore-stage.ts); restoring each database
 * (restore-databases.ts); files (restore-files.ts); the pre_restore sets of databases kept renamed
 * on their servers and rollbacks (restore-safety-sets.ts). This module carries a plan out in that
 * order. Every name callers import from here is re-exported below. About 460 lines: that order and what a failure
 * at each point of it leaves, in one place.
 */
export {
  planRestore,
  refusalError,
  planRestoreAt,
  restoredSizeEstimate,
  safetyOf,
  selectionPhrases,
  type DatabaseRestorePlan,
  type FilesRestorePlan,
  type RestoreOptions,
  type RestorePlan,
  type RestoreRefusal,
} from './restore-plan.js';
export { restoreFiles } from './restore-files.js';
export { SWAP_JOURNAL_PREFIX, finishInterruptedSwapBacks } from './restore-safety-sets.js';

export interface RestoreOutcome {
  setId: string;
  ok: boolean;
  safetySetIds: string[];
  /** Databases whose safety copy (in the set of safetySetIds) is raw bytes: a restore of it is refused. */
  rawSafety?: string[];
  /** Safety copies this restore took and removed again: it failed having replaced nothing. */
  removedSafetySetIds: string[];
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
    /** `error` and `hint` as phrases, when respaldo's own words (the menu says them in its language). */
    phrases?: ErrorPhrases;
    /** It failed because a stored file did not match its manifest as it was read (exit 5): the target is unchanged. */
    damaged?: boolean;
    /** The kind of its error (`refused`: a session connected meanwhile, a target name not allowed; …). */
    errorKind?: ExitKind;
    /** Its server went away under it (shut down, restarted, the session ended): says nothing of the set. */
    serverAway?: boolean;
    /** With `serverAway`: the server's own disk filled (PostgreSQL stopped every session); nothing of the set. */
    serverDiskFull?: boolean;
  }[];
  filesRestoredTo: string | null;
  /** What recovery did before the restore (an interrupted one finished or undone, leftovers removed), in English. */
  recovered: string[];
  /** The same sentences as phrases, in the same order (the menu says them in its language). */
  recoveredPhrases?: Phrase[];
}

/**
 * Carries out a restore plan: verifies the stored files, keeps a safety copy of what is replaced,
 * restores each database beside its target and swaps it in, then restores files into a new folder.
 * With `remote`, the plan's set folder holds only manifests: the stored files are streamed from that
 * destination and checked as they are read (remote-read.ts), not verified first.
 * Stops at the first database that fails; what was restored before it is reported.
 */
export async function executeRestore(
  cfg: LoadedConfig,
  plan: RestorePlan,
  reporter: Reporter,
  opts: {
    signal?: AbortSignal;
    underLock?: { outside: boolean };
    remote?: RemoteFiles;
    /** The config file the operator named (`--config`): the rollback commands said name it (rollbackAdvice). */
    configFile?: string;
    /** A drill's restore into scratch targets: its log lines say so, and status's last restores pass it over. */
    drill?: boolean;
  } = {},
): Promise<RestoreOutcome> {
  const refused = refusalError(plan);
  if (refused) throw refused;
  // A backup folder on a disk mounted read-only (after I/O errors): a restore that replaces nothing reads it as
  // it is, its scratch files elsewhere (see readOnlyFolder).
  const readOnly = plan.options.setFolder ? null : readOnlyFolder(cfg.backupDir, plan);
  // `underLock`: the caller (a drill) already holds the folder lock. A read-only folder needs none: no run can
  // change it.
  const held = opts.underLock ?? { outside: false };
  const locked =
    opts.underLock || readOnly
      ? <T>(_d: string, _p: string, fn: (l: { outside: boolean }) => Promise<T>): Promise<T> => fn(held)
      : withLock;
  return locked(cfg.backupDir, `restore ${plan.setId}`, async (lock) => {
    // Its disk full, no room for the lock (then taken outside, lock.ts) or the scratch folder: the same, holding the
    // lock (a prune may run meanwhile).
    const scratchHere = join(cfg.backupDir, `.tmp-restore-${process.pid}`);
    const full =
      !plan.options.setFolder && !readOnly && (lock.outside || !(await madeHere(scratchHere)))
        ? await fullFolder(cfg.backupDir, plan)
        : null;
    const elsewhere = readOnly ?? full;
    const signal = opts.signal ?? new AbortController().signal;
    if (readOnly) {
      stopLogging(cfg.backupDir);
      reporter.emit({ type: 'warning', ...said('note.readOnlyFolder', { dir: cfg.backupDir, code: readOnly }) });
    }
    // A drill restores each database under its one lock and says this once itself.
    if (full && !opts.underLock)
      reporter.emit({ type: 'warning', ...said('note.fullFolder', { dir: cfg.backupDir, free: full }) });
    const system = elsewhere ? await makeSystemScratch('restore') : null;
    const work = system ? system.root : cfg.backupDir;
    const t0 = Date.now();
    // The entries of its files are read as they are checked, decrypted and restored, none held (a set of 100 000
    // files held about 40 MiB of them; encrypted, 75): streamed from a destination or decrypted as they are read,
    // each is read by its entry (StoredReader's `entry`).
    const lean = plan.options.setFolder
      ? readManifestLean(plan.options.setFolder)
      : await readManifestLeanOf(cfg, plan.setId);
    let m = lean.head;
    // `--path`: only the files the paths choose are checked, fetched from a stream and restored.
    const chosen = plan.files?.paths?.map((p) => p.path);
    const only = (files: ManifestFiles): ManifestFiles => (chosen ? selectedFiles(files, chosen) : files);
    // With `--path`, only the entries chosen: those alone are decrypted (and, from a destination, fetched).
    let entries = only(lean.files);
    const dir = plan.options.setFolder ?? setDir(cfg, m.id);
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
        ...(opts.drill ? { drill: true } : {}),
        ranBy: ranBy(),
      },
      cfg.secrets,
    );

    const chains = await verifyForRestore(cfg, plan, m, dir, reporter, opts.remote, entries);

    const outcome: RestoreOutcome = {
      setId: m.id,
      ok: true,
      safetySetIds: [],
      removedSafetySetIds: [],
      databases: [],
      filesRestoredTo: null,
      recovered: [],
      recoveredPhrases: [],
    };
    const scratchRoot = system ? system.scratch : scratchHere;
    // Its journal of temporary paths is bookkeeping: a disk with no room for a record of it is said, not fatal.
    let journalSaid = false;
    const track = (path: string, opts?: { madeDirs?: string[] }): Promise<() => Promise<void>> =>
      trackTemp(work, path, opts).catch((err: unknown) => {
        if (!isDiskFull(err)) throw err;
        if (!journalSaid) recordNotWritten(reporter, m.id, err, '.temp-journal');
        journalSaid = true;
        return async () => undefined;
      });
    const ctxFor = (db: DatabaseConfig): DriverContext => ({
      reporter,
      signal,
      scratchDir: scratchRoot,
      log: (message, fields) =>
        writeLog(cfg.backupDir, 'driver', { setId: m.id, db: db.name, message, ...fields }, cfg.secrets),
      trackTemp: track,
      // Bookkeeping too: a folder that cannot take the record (read-only, full) is said, and the roles still made.
      journalRoles: (server, roles) =>
        journalRoles(work, { setId: m.id, database: db.name, server, roles }).catch((err: unknown) => {
          recordNotWritten(reporter, m.id, err, '.created-roles');
          return async () => undefined;
        }),
    });
    await ensurePrivateDir(scratchRoot);
    let safety: SafetySet | null = null;
    let finished = false;
    try {
      let read: StoredReader;
      let decrypter: Decrypter | undefined;
      if (opts.remote) {
        // Its first file with the head, for a passphrase to be checked against (a set of files alone).
        const opened = await opts.remote.open(withFirstFile(m, entries));
        m = { ...opened.manifest, files: [] };
        read = opened.read;
      } else if (m.encryption)
        ({
          manifest: m,
          entries,
          read,
          decrypter,
        } = await decryptForRestore(cfg, plan, m, entries, dir, scratchRoot, reporter, signal));
      else
        read = plan.options.checkAsRead
          ? checkingReader(dir, m, m.id, (file) =>
              recordDamaged(cfg, m.id, [file]).catch((err: unknown) => recordNotWritten(reporter, m.id, err)),
            )
          : localReader(dir, m.id);
      // What killed runs left is finished by the next run that can write the folder; their scratch folders in the
      // system's temporary folder (a decompressed dump each) by any run.
      const found = elsewhere
        ? await removeDeadSystemScratch()
        : await recoverBeforeRestore(cfg, plan, reporter, ctxFor);
      for (const r of found) {
        outcome.recovered.push(r.message);
        outcome.recoveredPhrases!.push(r.phrase);
      }
      safety = await keepReplacedFiles(cfg, plan, m.id, reporter, signal);
      if (safety) outcome.safetySetIds.push(safety.id);
      if (safety?.raw) outcome.rawSafety = safety.raw;
      // Killed from here on, the next run finds this in the scratch folder and removes the set if nothing changed.
      if (safety && !readOnly) {
        const targets = [...safety.identities].map(([database, identity]) => ({
          database,
          identity,
          target: plan.databases.find((d) => d.database === database)!.restoreTarget,
        }));
        await journalSafetySet(scratchRoot, safety.id, targets);
      }
      await restoreDatabases({ cfg, plan, m, read, chains, reporter, signal, ctxFor }, outcome);
      if (plan.files && outcome.ok) {
        const total = plan.files.bytes;
        const t0 = Date.now();
        let done = 0;
        reporter.emit({ type: 'item-start', item: 'files', kind: 'restore', totalBytes: total });
        const onFile = (bytes: number): void =>
          void reporter.emit({ type: 'item-progress', item: 'files', bytes: (done += bytes), totalBytes: total });
        // Files alone, from this folder: each stored file is checked as it is read and decoded (an encrypted one
        // decrypted too), in one pass; a mismatch removes the partial folder, all that was written. With databases,
        // they were checked before those.
        const oneRead = readsFilesOnce(plan, m);
        const { ownersKept, ownersKeptBecause } = await restoreFiles(oneRead ? dir : read, entries, plan.files.to, {
          setId: m.id,
          codec: m.codec ?? 'gzip',
          track,
          // Streamed from a destination: as many reads at once as it is configured for (each holds its buffers).
          ...(opts.remote ? { parallel: destinationConfig(cfg, opts.remote.destination).parallel ?? 4 } : {}),
          onFile,
          ...(m.folders ? { folders: chosen ? selectedFolders(m.folders, chosen) : m.folders } : {}),
          ...(oneRead ? { check: storedCheck(cfg, plan, m, reporter, decrypter) } : {}),
          signal,
        }).catch((err: unknown) => {
          throw damageThere(cfg, plan, m.id, err);
        });
        if (ownersKept)
          reporter.emit({
            type: 'warning',
            item: 'files',
            ...said('file.ownersKept', { count: ownersKept, error: ownersKeptBecause ?? '', path: plan.files.to }),
          });
        outcome.filesRestoredTo = plan.files.to;
        reporter.emit({ type: 'item-end', item: 'files', ok: true, bytes: done, durationMs: Date.now() - t0 });
      }
      finished = true;
    } catch (err) {
      await settle();
      // Interrupted or failed on the way: the error is all the caller gets, so it says what became of the copy.
      const gone = outcome.removedSafetySetIds;
      if (gone.length && err instanceof RespaldoError)
        err.withAftermath(phrase('note.safetyRemoved', { id: gone.join(', ') }), {
          removedSafetySetIds: gone,
        });
      // Databases restored before it stopped were replaced: said, with how to roll them back (the error's own
      // words are of the database it stopped in).
      const restored = outcome.databases.filter((d) => d.ok).map((d) => d.name);
      if (restored.length && err instanceof RespaldoError) {
        const rollback = rollbackLines(plan, outcome, opts.configFile).join(' ');
        const stopped = plan.databases.find((d) => !outcome.databases.some((o) => o.name === d.database));
        const words = { stopped: stopped?.database ?? 'files', dbs: restored.join(', '), rollback };
        err.withAftermath(phrase('note.restoredBefore', words), {
          restoredDatabases: restored,
          safetySetIds: outcome.safetySetIds,
        });
      }
      if (!restoreEndLogged(err))
        writeLog(
          cfg.backupDir,
          'restore-end',
          {
            setId: m.id,
            outcome: err instanceof RespaldoError && err.kind === 'interrupted' ? 'interrupted' : 'failed',
            // The signal that stopped it (`Interrupted (SIGHUP)…`: the terminal closed), for status's last restore
            ...signalOf(signal),
            restored,
            safetySets: outcome.safetySetIds,
            error: errorMessage(err),
            durationMs: Date.now() - t0,
          },
          cfg.secrets,
        );
      throw err;
    }
    await settle();
    async function settle(): Promise<void> {
      // Failed or interrupted with nothing replaced: the safety copy only duplicates what is live.
      if (safety && (!finished || !outcome.ok)) {
        const restored = outcome.databases.filter((d) => d.ok).map((d) => d.name);
        if (await dropUnusedSafetySet(cfg, plan, safety, restored)) {
          outcome.safetySetIds = outcome.safetySetIds.filter((id) => id !== safety!.id);
          outcome.removedSafetySetIds.push(safety.id);
        }
      }
      await removeTree(elsewhere ? work : scratchRoot);
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

/** `{ signal: 'SIGHUP' }` when the run's abort reason names the signal that stopped it (cli/context.ts makeSignal). */
function signalOf(signal: AbortSignal): { signal?: string } {
  if (!signal.aborted) return {};
  const reason: unknown = signal.reason;
  const name = /\((SIG[A-Z]+)\)/.exec(reason instanceof Error ? reason.message : String(reason))?.[1];
  return name ? { signal: name } : {};
}

/**
 * The check of a files restore that reads each stored file once (readsFilesOnce): a mismatch is recorded as a failed
 * verification of the set (list, status --check say it), as a check before would have; of a set fetched from a
 * destination, whose copy here goes with the restore, it is not recorded here (its hint names the destination). An
 * encrypted set's files are decrypted with `decrypter` as they are read.
 */
function storedCheck(
  cfg: LoadedConfig,
  plan: RestorePlan,
  m: Manifest,
  reporter: Reporter,
  decrypter?: Decrypter,
): StoredCheck {
  return {
    ...(decrypter ? { decrypt: { decrypter, setId: m.id } } : {}),
    damaged: async (file) => {
      if (plan.options.fetchedFrom === undefined)
        await recordDamaged(cfg, m.id, [file]).catch((err: unknown) => recordNotWritten(reporter, m.id, err));
      return damagedRead(m.id, file, 'hash');
    },
  };
}

/**
 * Whether the scratch folder `dir` can be made (false: its disk is full). Made and removed: the restore makes it again
 * once its stored files are checked (a check that fails leaves nothing behind).
 */
async function madeHere(dir: string): Promise<boolean> {
  try {
    await ensurePrivateDir(dir);
    await fsp.rm(dir, { recursive: true, force: true });
    return true;
  } catch (err) {
    if (isDiskFull(err)) return false;
    throw err;
  }
}

/**
 * The free room of the backup folder's disk, which had no room for the lock or the restore's scratch folder. A
 * restore that replaces nothing then runs with its scratch files in the system's temporary folder; one that replaces
 * a database is refused before anything (exit 7), as the safety copy of what it replaces is kept there.
 */
async function fullFolder(dir: string, plan: RestorePlan): Promise<string> {
  const words = { dir, free: formatBytes((await freeBytesAt(dir)) ?? 0) };
  const replacing = plan.databases.filter((d) => d.swapsBack || (d.replaces && d.state.exists));
  if (replacing.length) {
    const message = phrase('refuse.fullInPlace', { ...words, dbs: replacing.map((d) => d.database).join(', ') });
    // A server database keeps its safety copy on its server: beside it means a new database, not another disk.
    const server = replacing.every((d) => driverFor(d.engine as EngineName).safety === 'renamed-database');
    const command = replacing
      .map((d) => `respaldo restore ${plan.setId} --db ${d.database} --to ${d.database}_restored --yes`)
      .join('; ');
    const hint = server ? phrase('refuse.fullInPlaceServerHint', { command }) : phrase('refuse.fullInPlaceHint');
    throw new RespaldoError('failed', english(message), english(hint), { backupDir: dir }).withPhrases(message, hint);
  }
  return words.free;
}

/**
 * Whether the backup folder cannot be written (the errno: `EROFS`, a disk remounted read-only after I/O errors;
 * `EACCES`/`EPERM`), or null. Then a restore that replaces nothing runs from it as it is, without its lock, logs
 * or recovery, its scratch files in the system's temporary folder; one that replaces a database is refused before
 * anything, as the safety copy of what it replaces is kept there.
 */
function readOnlyFolder(dir: string, plan: RestorePlan): string | null {
  try {
    accessSync(dir, fsConstants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!['EROFS', 'EACCES', 'EPERM'].includes(code)) return null;
    const replacing = plan.databases.filter((d) => d.swapsBack || (d.replaces && d.state.exists));
    if (replacing.length) {
      const message = phrase('refuse.readOnlyInPlace', { dir, code, dbs: replacing.map((d) => d.database).join(', ') });
      const hint = phrase('refuse.readOnlyInPlaceHint');
      throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
    }
    return code;
  }
}

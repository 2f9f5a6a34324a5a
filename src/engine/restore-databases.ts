import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import {
  InterruptedError,
  RespaldoError,
  VerifyError,
  asOperatorError,
  errorMessage,
  isDiskFull,
} from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import type { DatabaseConfig, DatabaseEntry, LoadedConfig, Manifest } from '../core/types.js';
import type { DriverContext, TargetDisk } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { formatBytes, formatLocal } from '../core/format.js';
import { dropRolesSql, forgetRoleRecords } from './role-journal.js';
import { freeBytesAt, writeFileAtomic } from './fs-util.js';
import { writeLog } from './log.js';
import { openStoredPart, readStoredPartWhole, type StoredReader } from './stored-part.js';
import type { RestoreOutcome } from './restore.js';
import { dbConfig, type RestorePlan } from './restore-plan.js';
import {
  SWAP_JOURNAL_PREFIX,
  publishReferenceSet,
  referenceEntry,
  retireSwappedBack,
  type SwapBackJournal,
} from './restore-safety-sets.js';
import { damageBehind, type ChainSteps } from './restore-stage.js';
import { english, nestedPhrase, phrase, said } from '../core/phrases.js';

/** What restoring the databases of a verified plan works with. */
export interface DatabasesRun {
  cfg: LoadedConfig;
  plan: RestorePlan;
  /** The set's manifest (decrypted view) and the reader of its stored files (its folder, or a destination). */
  m: Manifest;
  read: StoredReader;
  /** The chain each database restored from a chain applies first (verifyForRestore). */
  chains: Map<string, ChainSteps>;
  reporter: Reporter;
  signal: AbortSignal;
  ctxFor(db: DatabaseConfig): DriverContext;
}

/**
 * A restore of `db` that ran out of space, naming the disk that filled. SQLite builds the file beside its target;
 * PostgreSQL writes on this machine only in the backup folder's scratch, where a dump's table of contents and
 * small files are staged (SQL Server also copies the backup to `serverBackupDir`: its disk is not told apart).
 */
async function diskFullAt(
  cfg: LoadedConfig,
  db: DatabaseConfig,
  target: string,
  caught: unknown,
): Promise<RespaldoError> {
  const database = db.name;
  const detail = errorMessage(caught);
  if (db.engine === 'postgres') {
    const free = await freeBytesAt(cfg.backupDir);
    const message = phrase('restore.diskFullStaging', {
      dir: cfg.backupDir,
      free: free === null ? '' : formatBytes(free),
      db: database,
      detail,
    });
    const hint = phrase('restore.diskFullStagingHint');
    return new RespaldoError('failed', english(message), english(hint), { backupDir: cfg.backupDir }).withPhrases(
      message,
      hint,
    );
  }
  const message = phrase('restore.diskFullTarget', { db: database, target, detail });
  const hint = phrase('restore.diskFullTargetHint');
  return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
}

/**
 * A restore whose database server ended its session (PostgreSQL PANICs when it cannot write its WAL, and every session
 * ends) while that server's own disk (`disk`, seen by the plan) is now all but full: said as that disk filling, where
 * pg_restore said only that the server closed the connection; `details` say the server went away (`serverAway`) because
 * its disk filled (`serverDiskFull`). Null otherwise.
 */
export async function serverDiskFilled(disk: TargetDisk | undefined, err: unknown): Promise<RespaldoError | null> {
  if (!disk?.server || !(err instanceof Error)) return null;
  const ended =
    /server closed the connection unexpectedly|because of crash of another server process|in recovery mode/i;
  if (!ended.test(err.message)) return null;
  const st = await fsp.statfs(disk.path).catch(() => null);
  if (!st) return null;
  const free = st.bavail * st.bsize;
  if (free > Math.max(64 << 20, (st.blocks * st.bsize) / 100)) return null;
  const message = phrase('restore.serverEnded', { detail: errorMessage(err) });
  const hint = phrase('restore.serverDiskFullHint', { path: disk.path, free: formatBytes(free) });
  // The server went away (serverAway): a drill then did not run, which says nothing of the set; said as its disk full.
  const details = { serverAway: true, serverDiskFull: true };
  return new RespaldoError('failed', english(message), english(hint), details).withPhrases(message, hint);
}

/**
 * The databases `renamed` (kept on their servers under their safety names) could not be listed in a pre_restore set
 * (`err`): said with the names, which are the rollback.
 */
export function replacedUnlisted(
  renamed: Pick<DatabaseEntry, 'name' | 'safetyDatabase'>[],
  err: unknown,
): RespaldoError {
  const operator = asOperatorError(err);
  // the error within travels as a nested phrase when it has one: the menu says it in its language too
  const inner = operator instanceof RespaldoError ? operator.phrases?.message : undefined;
  const kept = JSON.stringify(renamed.map((r) => [r.name, r.safetyDatabase ?? '']));
  const message = phrase('restore.replacedUnlisted', { kept, error: errorMessage(operator), ...nestedPhrase(inner) });
  const hint = phrase('restore.replacedUnlistedHint');
  return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
}

/**
 * Restores each database of the plan in turn (beside its target, then swapped in; or a rollback's
 * swap back), recording each in `outcome`. Stops at the first database that fails (`outcome.ok`
 * false) and rethrows an interruption or a bug. Whatever happens, the databases kept renamed on
 * their servers are listed in a pre_restore set and swapped-back entries are retired from theirs,
 * journaled so that a killed run is finished by the next one.
 */
export async function restoreDatabases(run: DatabasesRun, outcome: RestoreOutcome): Promise<void> {
  const { cfg, plan, m, read, chains, reporter, signal, ctxFor } = run;
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
        const swapBack = d.swapsBack && driver.swapBack ? driver.swapBack.bind(driver) : null;
        if (swapBack) {
          const newSafety = d.safety.kind === 'renamed-database' ? d.safety.name : null;
          const listed = newSafety ? referenceEntry(entry, newSafety, m.id) : null;
          journal.push({ database: d.database, kept: d.swapsBack!, newSafety, entry: listed });
          await writeFileAtomic(journalPath, JSON.stringify({ setId: m.id, entries: journal }) + '\n');
        } else if (d.restoreTarget.kind === 'in-place' && d.safety.kind === 'renamed-database') {
          // The live database will be kept renamed: journaled, so that a run killed between the swap and the
          // pre_restore set below still gets its safety copy listed (by the next create or restore).
          const listed = referenceEntry(entry, d.safety.name, m.id);
          journal.push({ kind: 'swap', database: d.database, kept: '', newSafety: d.safety.name, entry: listed });
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
              ctxFor(db),
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
                openPart: (role) => openStoredPart(read, entry, role),
                readPartWhole: (role) => readStoredPartWhole(read, entry, role),
              },
              ctxFor(db),
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
        // Roles a killed restore of this database made: said once more, then forgotten (status listed them).
        for (const r of await forgetRoleRecords(cfg.backupDir, d.database).catch(() => []))
          reporter.emit({
            type: 'warning',
            item: d.database,
            ...said('note.killedRunRoles', {
              roles: r.roles.map((n) => JSON.stringify(n)).join(', '),
              server: r.server,
              set: r.setId,
              at: formatLocal(r.at, { seconds: true }),
              sql: dropRolesSql(r),
            }),
          });
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
            : new InterruptedError(phrase('error.interruptedRestoreOf', { db: d.database }));
        }
        // Read and checked at once: a failure may hide damage the check had not reached yet (see damageBehind).
        const behind =
          plan.options.checkAsRead && !(caught instanceof VerifyError) && !isDiskFull(caught)
            ? await damageBehind(cfg, m, d.database, chains.get(d.database)).catch(() => null)
            : null;
        const err =
          behind ??
          (isDiskFull(caught)
            ? await diskFullAt(cfg, db, d.target, caught)
            : ((await serverDiskFilled(d.state.disk, caught)) ?? caught));
        const hint = err instanceof RespaldoError ? err.hint : undefined;
        outcome.ok = false;
        outcome.databases.push({
          name: d.database,
          ok: false,
          error: errorMessage(err),
          ...(hint ? { hint } : {}),
          ...(err instanceof RespaldoError && err.phrases ? { phrases: err.phrases } : {}),
          ...(err instanceof VerifyError ? { damaged: true } : {}),
          errorKind: err instanceof RespaldoError ? err.kind : 'failed',
          ...(err instanceof RespaldoError && err.details?.['serverAway'] === true ? { serverAway: true } : {}),
          ...(err instanceof RespaldoError && err.details?.['serverDiskFull'] === true ? { serverDiskFull: true } : {}),
        });
        // The lines under the item's bar: in the menu's language when respaldo's words have phrases.
        const phrases = err instanceof RespaldoError ? err.phrases : undefined;
        reporter.emit({
          type: 'item-end',
          item: d.database,
          ok: false,
          error: errorMessage(err),
          ...(hint ? { hint } : {}),
          ...(phrases?.message && !phrases.aftermath ? { errorPhrase: phrases.message } : {}),
          ...(hint && phrases?.hint ? { hintPhrase: phrases.hint } : {}),
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
        // Deliberate: databases kept renamed but unlisted outweigh any other error.
        // eslint-disable-next-line no-unsafe-finally -- see above
        throw replacedUnlisted(renamed, err);
      }
    }
    // A swapped-back database is live again: this set must no longer list it (deleting the set would drop it).
    if (swappedBack.length) {
      await retireSwappedBack(cfg, m.id, swappedBack).catch((err: unknown) => {
        const dbs = swappedBack.join(', ');
        const still = { set: m.id, dbs, count: swappedBack.length, error: errorMessage(err) };
        reporter.emit({ type: 'warning', ...said('warn.stillLists', still) });
        journalDone = false;
      });
    }
    if (journal.length && journalDone) await fsp.rm(journalPath, { force: true });
  }
}

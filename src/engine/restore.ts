import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream';
import {
  InterruptedError,
  NotFoundError,
  RefusedError,
  RespaldoError,
  VerifyError,
  asOperatorError,
  errorMessage,
  isDiskFull,
} from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { english, phrase } from '../core/phrases.js';
import type { DatabaseConfig, DatabaseEntry, LoadedConfig } from '../core/types.js';
import type { DrillCheck, DriverContext } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { readManifest, setDir } from './catalog.js';
import { codecOfEntry } from './codec.js';
import { executeBackup, planBackup } from './create.js';
import { ensurePrivateDir, writeFileAtomic } from './fs-util.js';
import { withLock } from './lock.js';
import { writeLog } from './log.js';
import { readManifestFile } from './manifest.js';
import { checkFiles, expectedFiles } from './verify.js';
import { ranBy } from '../core/who.js';
import { sweepTemps, trackTemp } from './temp-journal.js';
import { decryptSet } from './decrypt-set.js';
import { openStoredPart } from './stored-part.js';
import { dbConfig, type RestorePlan } from './restore-plan.js';
import { restoreFiles } from './restore-files.js';
import {
  SWAP_JOURNAL_PREFIX,
  finishInterruptedSwapBacks,
  publishReferenceSet,
  referenceEntry,
  retireSwappedBack,
  type SwapBackJournal,
} from './restore-safety-sets.js';

/**
 * Restore: planning is in restore-plan.ts, files in restore-files.ts, the pre_restore sets of renamed
 * server databases and rollbacks in restore-safety-sets.ts; this module carries a plan out. Every
 * name callers import from here is re-exported below.
 */
export {
  planRestore,
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

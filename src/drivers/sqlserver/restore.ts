import { join } from 'node:path';
import { RefusedError, RespaldoError, VerifyError } from '../../core/errors.js';
import { english, phrase, said } from '../../core/phrases.js';
import type { DatabaseConfig } from '../../core/types.js';
import type {
  DriverContext,
  RestoreRequest,
  RestoreResult,
  RestoreStepPlan,
  RestoreTarget,
  TargetState,
  DrillCheck,
  PlanRestoreInput,
} from '../driver.js';
import {
  joinServerPath,
  journalFileName,
  parseStagingName,
  quoteName,
  restoreFileName,
  stagingNames,
} from './names.js';
import { firstFreeRound, roundId } from '../shared/names.js';
import { listDatabasesStatement, planBeforeRestore } from './plan.js';
import { defaultFileDirs, dropIfExistsStatement, planMoves, planNewFileMoves, restoreStatement } from './swap-plan.js';
import { chainStepStatement, headerOf } from './chain-plan.js';
import { copyForServer, restoreSteps, stopAtPastLastRecordError } from './chain.js';
import { resolveSettings, where } from './config.js';
import { checkLocalDir, localDirHint, writeForServerError } from './errors.js';
import {
  checkAborted,
  compareRowCounts,
  fileToken,
  progressTo,
  recordedSettings,
  removeQuietly,
  str,
  SwapBrokenError,
  writeJournal,
  type Journal,
} from './session.js';

import {
  type OpenSession,
  quietCtx,
  refuseEdition,
  refuseAvailabilityGroup,
  refuseReplacing,
  replaceProblem,
  refuseOlderServer,
  targetName,
  checkTargetName,
} from './server.js';
import { ensureNoSessions, executeSwap, putSettingsBack } from './swap.js';

/**
 * SQL Server restore: RESTORE into a temporary database beside the live one (a native chain step by step),
 * checked, then swapped in by renames (swap.ts); the restore journal lets recover finish or undo a cut swap.
 */

/** The steps, target and rollback of a restore, for the confirmation screen (nothing is done). */
export function planSqlServerRestore(req: PlanRestoreInput): RestoreStepPlan {
  const s = resolveSettings(req.db);
  const live = targetName(s, req.target);
  checkTargetName(live);
  const { temp } = stagingNames(live, req.setId);
  // The name restoreSqlServer will use: beside a safety copy an earlier restore of this set keeps, the next round.
  const keptNow = req.keptSafeties ?? [];
  const round = firstFreeRound(
    req.setId,
    (id) => stagingNames(live, id).safety,
    (n) => keptNow.includes(n),
  );
  const safety = stagingNames(live, roundId(req.setId, round)).safety;
  const inPlace = req.target.kind === 'in-place';
  const on = where(s);
  const kept = req.entry.safetyDatabase;
  if (kept && !req.entry.file) {
    if (!inPlace) {
      throw new RespaldoError(
        'usage',
        `"${kept}" is a safety copy kept on the server; it can only be swapped back in place, not with --to.`,
        `Run without --to to roll back ${live}, or copy the database on the server yourself.`,
      );
    }
    const steps = [
      phrase('mssql.swapBackCheck', { kept, live }),
      phrase('mssql.setAsideBatch', { live, safety }),
      phrase('mssql.swapBackRename', { kept, live, safety }),
      phrase('mssql.swapBackNoLive', { kept, live }),
    ];
    const rollback = phrase('mssql.rollbackSwapBack', { safety, live });
    return {
      database: req.entry.name,
      target: `database "${live}" on ${on}`,
      replaces: true,
      staging: `database "${kept}" (the safety copy, swapped in as it is)`,
      safety: { kind: 'renamed-database', name: safety },
      steps: steps.map(english),
      stepPhrases: steps,
      rollback: english(rollback),
      rollbackPhrase: rollback,
    };
  }
  const steps = [phrase('mssql.writeBak', { local: s.localBackupDir, server: s.serverBackupDir })];
  steps.push(phrase(req.entry.base ? 'mssql.restoreChain' : 'mssql.restore', { temp }));
  if (req.entry.details.continueAfterError === true) steps.push(phrase('mssql.continueAfterError'));
  steps.push(phrase('mssql.countsEstimate'));
  // Onto a server without the database (a new server) nothing is set aside: the restored copy takes the name.
  const nothingThere = inPlace && req.targetExists === false;
  if (nothingThere) steps.push(phrase('mssql.renameSide', { temp, live }), phrase('mssql.removeBak'));
  else if (inPlace) {
    steps.push(phrase('mssql.setAsideBatch', { live, safety }), phrase('mssql.rename', { temp, live }));
    steps.push(phrase('mssql.multiUser', { safety }));
    if (recordedSettings(req.entry.details)) steps.push(phrase('mssql.settings'));
  } else steps.push(phrase('mssql.renameSide', { temp, live }), phrase('mssql.removeBak'));
  // KEEP_CDC as restoreSqlServer decides it: by what the backup recorded, else by the live database's.
  const recordedCdc = req.entry.details.cdcEnabled;
  const keepCdc =
    inPlace && (recordedCdc === true || (typeof recordedCdc !== 'boolean' && req.targetCdcEnabled === true));
  const rollback =
    inPlace && !nothingThere
      ? phrase('mssql.rollbackInPlace', { safety, live, temp, qSafety: quoteName(safety), qLive: quoteName(live) })
      : phrase('mssql.rollbackSide', { live, qLive: quoteName(live) });
  return {
    database: req.entry.name,
    target: `database "${live}" on ${on}`,
    replaces: inPlace,
    staging: `database "${temp}"`,
    safety: nothingThere
      ? { kind: 'none', reason: `database "${live}" does not exist now; nothing is replaced` }
      : inPlace
        ? { kind: 'renamed-database', name: safety }
        : { kind: 'none', reason: 'side-by-side restore into a new database replaces nothing' },
    steps: steps.map(english),
    stepPhrases: steps,
    rollback: english(rollback),
    rollbackPhrase: rollback,
    ...(keepCdc ? { warnings: [phrase('mssql.cdcWillKeep', { db: req.entry.name, live })] } : {}),
  };
}

/** What the target of a restore looks like now: exists, its size, who is connected. */
export async function inspectSqlServerTarget(
  open: OpenSession,
  db: DatabaseConfig,
  target: RestoreTarget,
): Promise<TargetState> {
  const s = resolveSettings(db);
  const name = targetName(s, target);
  checkTargetName(name);
  const session = await open(s, quietCtx, `inspect ${name}`);
  try {
    const info = await session.databaseInfo(name);
    if (!info) return { exists: false, sizeBytes: null, inUseBy: [] };
    const server = await session.serverInfo();
    const inUseBy = server.canViewServerState
      ? await session.sessions(name)
      : ['unknown sessions (the login lacks VIEW SERVER STATE, so other sessions cannot be listed)'];
    if (target.kind !== 'in-place') return { exists: true, sizeBytes: info.sizeBytes, inUseBy };
    const all = await session.run(listDatabasesStatement(), undefined, false);
    const keptSafeties = all.map((r) => String(r['name'])).filter((n) => parseStagingName(n, name)?.kind === 'safety');
    const replaceRefusal = replaceProblem(info, s, 'restore');
    return {
      exists: true,
      sizeBytes: info.sizeBytes,
      inUseBy,
      keptSafeties,
      ...(info.cdcEnabled ? { cdcEnabled: true } : {}),
      ...(replaceRefusal ? { replaceRefusal } : {}),
    };
  } finally {
    await session.close();
  }
}

export async function restoreSqlServer(
  open: OpenSession,
  req: RestoreRequest,
  ctx: DriverContext,
): Promise<RestoreResult> {
  const s = resolveSettings(req.db);
  const live = targetName(s, req.target);
  checkTargetName(live);
  const { steps, stopAt } = restoreSteps(req);
  const { temp } = stagingNames(live, req.setId);
  const inPlace = req.target.kind === 'in-place';
  await checkLocalDir(s);
  const session = await open(s, ctx, `restore ${live}`);
  session.interruptedNote = `the live database "${live}" was not touched and the temporary database is dropped`;
  const token = fileToken();
  const bakFile = restoreFileName(live, req.setId, token);
  const localPath = join(s.localBackupDir, bakFile);
  let serverPath = joinServerPath(s.serverBackupDir, bakFile);
  let journalPath: string | null = null;
  let tempCreated = false;
  let clean = true;
  try {
    const server = await session.serverInfo();
    refuseEdition(server, s);
    const versions = steps.map((st) => ({ setId: st.setId, version: str(st.entry.details.serverVersion) }));
    refuseOlderServer(server, versions, s, req.db.name);
    serverPath = joinServerPath(s.serverBackupDir, bakFile, server.pathStyle);
    const dirs = defaultFileDirs(server, server.pathStyle);
    if (!dirs)
      throw new RespaldoError(
        'failed',
        `SQL Server at ${where(s)} did not report its default data and log folders.`,
        'Set the default database file locations in the server properties, then run the restore again.',
      );
    const liveInfo = await session.databaseInfo(live);
    if (!inPlace && liveInfo) {
      throw new RefusedError(
        `Database "${live}" already exists on ${where(s)}; a side-by-side restore never replaces anything.`,
        'Choose another name with --to, or drop that database first.',
      );
    }
    if (await session.databaseInfo(temp)) {
      throw new RefusedError(
        `Database "${temp}" exists: an earlier restore of this set was interrupted.`,
        `Run the restore again after respaldo's recovery removed it, or drop it yourself (DROP DATABASE ${quoteName(temp)}) once you are sure nobody uses it.`,
      );
    }
    // A set restored in place again while an earlier restore's safety copy is kept: a new one beside it.
    let round = 1;
    while (inPlace && liveInfo && (await session.databaseInfo(stagingNames(live, roundId(req.setId, round)).safety)))
      round++;
    const safety = stagingNames(live, roundId(req.setId, round)).safety;
    if (round > 1) {
      const earlier = stagingNames(live, roundId(req.setId, round - 1)).safety;
      ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('note.safetyRound', { earlier, safety }) });
    }
    if (inPlace) refuseAvailabilityGroup(liveInfo, s, 'restore');
    if (inPlace) refuseReplacing(liveInfo, s, 'restore');
    if (inPlace && liveInfo) await ensureNoSessions(session, server, live, req.terminateConnections);

    checkAborted(ctx.signal, 'the restore');
    const journal: Journal = {
      tool: 'respaldo',
      config: req.db.name,
      live,
      temp,
      safety: inPlace && liveInfo ? safety : null,
      setId: req.setId,
      kind: inPlace ? 'in-place' : 'side-by-side',
      phase: 'restoring',
      bakFile,
      startedAt: new Date().toISOString(),
    };
    try {
      journalPath = await writeJournal(s.localBackupDir, journal);
    } catch (err) {
      if (err instanceof RespaldoError) throw err;
      throw await writeForServerError(err, join(s.localBackupDir, journalFileName(live)), s);
    }
    await copyForServer(steps[0]!.openPart('main'), localPath, s, ctx);

    const drill = req.target.kind === 'side-by-side' && req.target.scratch === true;
    const checks: DrillCheck[] = [];
    for (const st of planBeforeRestore(serverPath, { drill })) {
      try {
        await session.run(st, undefined);
      } catch (err) {
        if (!(err instanceof RespaldoError) || ctx.signal.aborted) throw err;
        throw new VerifyError(
          `RESTORE VERIFYONLY rejected the stored backup of ${req.db.name}: ${err.message}`,
          'This set does not restore: use another set (`respaldo list`), and back the database up again.',
          err.details,
        );
      }
      checks.push({ name: 'RESTORE VERIFYONLY', ok: true, detail: 'WITH CHECKSUM' });
    }
    const files = await session.fileList(serverPath);
    const moves = planMoves(files, { live, setId: req.setId, token, ...dirs, pathStyle: server.pathStyle });
    const known = files.map((f) => f.logicalName);
    checkAborted(ctx.signal, 'the restore');
    tempCreated = true;
    const continueAfterError = req.entry.details.continueAfterError === true;
    const restoreProgress = progressTo(ctx, req.db.name, 'SQL Server RESTORE', req.entry.rawBytes || null);
    const recovery = steps.length === 1;
    // Change data capture survives a restore under another name only WITH KEEP_CDC: kept when the database is
    // replaced in place (by what the backup recorded; else by the live database's), never on a copy beside it,
    // whose log would then wait for a capture job that does not exist.
    const recordedCdc = req.entry.details.cdcEnabled;
    const keepCdc =
      inPlace && (recordedCdc === true || (typeof recordedCdc !== 'boolean' && liveInfo?.cdcEnabled === true));
    const first = restoreStatement(temp, serverPath, moves, { continueAfterError, recovery, keepCdc });
    await session.run(first, restoreProgress);
    for (const [i, step] of steps.entries()) {
      if (i === 0) continue;
      const file = restoreFileName(live, step.setId, `${token}-${i}`);
      const stepLocal = join(s.localBackupDir, file);
      const stepServer = joinServerPath(s.serverBackupDir, file, server.pathStyle);
      try {
        await copyForServer(step.openPart('main'), stepLocal, s, ctx);
        for (const st of planBeforeRestore(stepServer, { drill })) {
          await session.run(st, undefined).catch((err: unknown) => {
            if (!(err instanceof RespaldoError) || ctx.signal.aborted) throw err;
            throw new VerifyError(
              `RESTORE VERIFYONLY rejected the stored backup of ${req.db.name} in set ${step.setId}: ${err.message}`,
              'This chain does not restore: use an earlier set (`respaldo list`), and back the database up again.',
              err.details,
            );
          });
          checks.push({ name: `RESTORE VERIFYONLY (${step.setId})`, ok: true, detail: 'WITH CHECKSUM' });
        }
        // Files added after the full (ALTER DATABASE … ADD FILE) go to this server's folders too.
        const stepFiles = await session.fileList(stepServer);
        const pathStyle = server.pathStyle;
        const added = planNewFileMoves(stepFiles, known, {
          live,
          setId: step.setId,
          token: `${token}-${i}`,
          ...dirs,
          pathStyle,
        });
        known.push(...added.map((m) => m.logicalName));
        checkAborted(ctx.signal, 'the restore');
        const last = i === steps.length - 1;
        const kind = step.kind === 'log' ? 'log' : 'differential';
        const st = chainStepStatement({
          target: temp,
          serverPath: stepServer,
          kind,
          last,
          stopAt: last ? stopAt : null,
          stopAtOffsetMinutes: headerOf(step.entry.details)?.utcOffsetMinutes ?? null,
          moves: added,
          keepCdc,
        });
        const stepProgress = progressTo(ctx, req.db.name, `SQL Server RESTORE ${kind}`, step.entry.rawBytes || null);
        await session.run(st, stepProgress);
      } finally {
        await removeQuietly(stepLocal, ctx);
      }
    }
    // A STOPAT after the last record of the log backup (yet before its end) leaves the database RESTORING, with
    // only an informational message: said as such, and the catch below drops it.
    if (stopAt && steps.length > 1 && (await session.databaseInfo(temp))?.state === 'RESTORING') {
      throw stopAtPastLastRecordError({ item: req.db.name, live, temp, stopAt, steps });
    }
    if (keepCdc) ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.cdcKept', { live }) });
    if (continueAfterError) {
      ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.continuedAfterError', { live }) });
    }

    // RESTORE … WITH CHECKSUM proved the pages; row counts from sys.partitions are estimates
    // (and the backup may have been taken while the database was written): a difference warns.
    const tables = await session.rowCounts(temp);
    // Stopped inside a log backup (STOPAT): the counts recorded at its end are of a later point.
    const diffs = stopAt ? [] : compareRowCounts(req.entry.tables, tables);
    if (diffs.length > 0) {
      const differ = {
        live,
        diffs: diffs.slice(0, 10).join('; '),
        more: Math.max(0, diffs.length - 10),
        written: Array.isArray(req.entry.details.rowCountsDrift) ? 'yes' : '',
      };
      ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.countsDiffer', differ) });
    }
    checkAborted(ctx.signal, 'the swap');

    const liveExists = liveInfo !== null;
    if (inPlace && liveExists) await ensureNoSessions(session, server, live, req.terminateConnections);
    try {
      journalPath = await writeJournal(s.localBackupDir, { ...journal, phase: 'swapping' });
    } catch (err) {
      throw new RespaldoError(
        'failed',
        `Could not update the restore journal in ${s.localBackupDir}: ${(err as Error).message}; the live database was not touched.`,
        localDirHint(s),
      );
    }
    const swap = await executeSwap(session, ctx, req.db.name, {
      live,
      setId: req.setId,
      round,
      liveExists,
      terminateConnections: req.terminateConnections,
    });
    tempCreated = false;
    const recorded = recordedSettings(req.entry.details);
    if (inPlace && recorded) await putSettingsBack(session, ctx, req.db.name, live, recorded, swap.safety);
    return {
      ...(swap.safety ? { safetyDatabase: swap.safety } : {}),
      tables,
      restoredTo: live,
      ...(checks.length ? { preChecks: checks } : {}),
    };
  } catch (caught) {
    let err = caught;
    if (err instanceof RespaldoError && ((err.details?.sqlErrors as number[] | undefined) ?? []).includes(33111)) {
      const tde = req.entry.details.tde as { certificate?: string | null; thumbprint?: string | null } | undefined;
      err = new RespaldoError(
        'failed',
        `${err.message.replace(/\.$/, '')}. The backup of ${live} is encrypted with TDE` +
          `${tde?.certificate ? ` under certificate "${tde.certificate}"` : ''}` +
          `${tde?.thumbprint ? ` (thumbprint ${tde.thumbprint})` : ''}; the live database was not touched.`,
        `Restore the certificate${tde?.certificate ? ` "${tde.certificate}"` : ''} into master on ${where(s)} ` +
          "from its backup (CREATE CERTIFICATE … FROM FILE = '…cer' WITH PRIVATE KEY (FILE = '…pvk', " +
          "DECRYPTION BY PASSWORD = '…')), then run the restore again. See docs/sqlserver.md (TDE).",
        err.details,
      );
    }
    if (err instanceof SwapBrokenError) clean = false;
    if (tempCreated) {
      try {
        await session.run(dropIfExistsStatement(temp), undefined, false);
      } catch (dropErr) {
        clean = false;
        const error = (dropErr as Error).message;
        ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.tempNotDropped', { temp, error }) });
      }
    }
    throw err;
  } finally {
    await removeQuietly(localPath, ctx);
    if (journalPath && clean) await removeQuietly(journalPath, ctx);
    await session.close();
  }
}

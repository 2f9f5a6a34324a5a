import { RefusedError, RespaldoError } from '../../core/errors.js';
import type { DatabaseConfig } from '../../core/types.js';
import type { DriverContext, RestoreResult, SwapBackRequest } from '../driver.js';
import { parseStagingName, quoteName, stagingNames } from './names.js';
import { dropSafetyCopyStatements, multiUserStatement } from './swap-plan.js';
import { resolveSettings, where } from './config.js';
import { checkLocalDir, localDirHint } from './errors.js';
import { checkAborted, removeQuietly, SwapBrokenError, writeJournal, type Journal } from './session.js';

import {
  type OpenSession,
  quietCtx,
  refuseEdition,
  refuseAvailabilityGroup,
  refuseReplacing,
  checkTargetName,
} from './server.js';
import { ensureNoSessions, executeSwap } from './swap.js';
import { said } from '../../core/phrases.js';

/** The safety copy an in-place restore keeps (`<name>__pre_restore_<set>`): swapping it back in, dropping it. */

export async function swapBackSqlServer(
  open: OpenSession,
  req: SwapBackRequest,
  ctx: DriverContext,
): Promise<RestoreResult> {
  const s = resolveSettings(req.db);
  const live = s.database;
  checkTargetName(live);
  const parsed = parseStagingName(req.safetyName, live);
  if (!parsed || parsed.kind !== 'safety') {
    throw new RefusedError(
      `"${req.safetyName}" is not a safety copy of ${live} made by respaldo; nothing was changed.`,
      `Only databases named ${live}__pre_restore_<set id> are swapped back.`,
    );
  }
  const { safety: newSafety } = stagingNames(live, req.setId);
  if (newSafety === req.safetyName) {
    const hint = 'Roll back with the pre_restore set that lists this database.';
    throw new RefusedError(`The safety copy "${req.safetyName}" cannot replace itself.`, hint);
  }
  await checkLocalDir(s);
  const session = await open(s, ctx, `swap ${req.safetyName} back in as ${live}`);
  session.interruptedNote = `"${live}" and "${req.safetyName}" keep their names`;
  let journalPath: string | null = null;
  let clean = true;
  try {
    const server = await session.serverInfo();
    refuseEdition(server, s);
    const kept = await session.databaseInfo(req.safetyName);
    if (!kept) {
      throw new RespaldoError(
        'failed',
        `The safety copy "${req.safetyName}" no longer exists on ${where(s)}; there is nothing to roll back to.`,
        `Restore an earlier backup set instead (respaldo list --db ${req.db.name}).`,
      );
    }
    if (kept.state && kept.state !== 'ONLINE') {
      const message = `The safety copy "${req.safetyName}" is ${kept.state}, not ONLINE; it was not swapped in.`;
      throw new RespaldoError('failed', message, 'Bring it online (ask the DBA), then roll back again.');
    }
    const liveInfo = await session.databaseInfo(live);
    refuseAvailabilityGroup(liveInfo, s, 'rollback');
    refuseAvailabilityGroup(kept, s, 'rollback');
    refuseReplacing(liveInfo, s, 'rollback');
    if (liveInfo && (await session.databaseInfo(newSafety))) {
      throw new RefusedError(
        `"${newSafety}" exists already: this set was rolled back before and that copy is still kept.`,
        `Drop it (DROP DATABASE ${quoteName(newSafety)}) once you no longer need it, then roll back again.`,
      );
    }
    if (liveInfo) await ensureNoSessions(session, server, live, req.terminateConnections);
    checkAborted(ctx.signal, 'the rollback');
    const journal: Journal = {
      tool: 'respaldo',
      config: req.db.name,
      live,
      temp: req.safetyName,
      safety: liveInfo ? newSafety : null,
      setId: req.setId,
      kind: 'swap-back',
      phase: 'swapping',
      bakFile: '',
      startedAt: new Date().toISOString(),
    };
    try {
      journalPath = await writeJournal(s.localBackupDir, journal);
    } catch (err) {
      const why = (err as Error).message;
      const message = `Could not write the swap journal in ${s.localBackupDir}: ${why}; nothing was changed.`;
      throw new RespaldoError('failed', message, localDirHint(s));
    }
    const swap = await executeSwap(session, ctx, req.db.name, {
      live,
      setId: req.setId,
      liveExists: liveInfo !== null,
      terminateConnections: req.terminateConnections,
      incoming: req.safetyName,
    });
    if (kept.userAccess && kept.userAccess !== 'MULTI_USER') {
      const st = multiUserStatement(live, true);
      try {
        await session.run(st, undefined, false, true);
      } catch (err) {
        const still = { live, access: kept.userAccess, error: (err as Error).message, sql: st.sql };
        ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.stillSingleUser', still) });
      }
    }
    const tables = await session.rowCounts(live).catch(() => null);
    return { ...(swap.safety ? { safetyDatabase: swap.safety } : {}), tables, restoredTo: live };
  } catch (err) {
    if (err instanceof SwapBrokenError) clean = false;
    throw err;
  } finally {
    if (journalPath && clean) await removeQuietly(journalPath, ctx);
    await session.close();
  }
}

/** Drops a safety copy (`<name>__pre_restore_<set>`) when its set is deleted; refuses any other name. */
export async function dropSqlServerSafetyCopy(open: OpenSession, db: DatabaseConfig, name: string): Promise<void> {
  const s = resolveSettings(db);
  const parsed = parseStagingName(name, s.database);
  if (!parsed || parsed.kind !== 'safety') {
    throw new RefusedError(
      `"${name}" is not a safety copy of ${s.database} made by respaldo; it was not dropped.`,
      `Only databases named ${s.database}__pre_restore_<set id> are dropped by respaldo.`,
    );
  }
  const session = await open(s, quietCtx, `drop ${name}`);
  try {
    const state = (await session.databaseInfo(name))?.state ?? null;
    for (const st of dropSafetyCopyStatements(name, state)) await session.run(st, undefined, false, true);
  } finally {
    await session.close();
  }
}

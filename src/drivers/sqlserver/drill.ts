import { RefusedError, RespaldoError } from '../../core/errors.js';
import { phrase } from '../../core/phrases.js';
import type { DatabaseConfig } from '../../core/types.js';
import type { DriverContext, DrillCheck } from '../driver.js';
import { parseDrillName, planDrillChecks } from './names.js';
import { resolveSettings } from './config.js';

import type { OpenSession } from './server.js';

/** Restore drills on SQL Server: the scratch database (`<name>__drill_<set>`) and DBCC CHECKDB of it. */

/** Drops a drill's scratch database (`<name>__drill_<set>`); refuses any other name. */
export async function dropSqlServerScratch(
  open: OpenSession,
  db: DatabaseConfig,
  name: string,
  ctx: DriverContext,
): Promise<void> {
  const s = resolveSettings(db);
  if (parseDrillName(name, s.database) === null) {
    throw new RefusedError(
      `"${name}" is not a drill's scratch database of ${s.database}; it was not dropped.`,
      `Only databases named ${s.database}__drill_<set id> are dropped by a drill.`,
    );
  }
  const session = await open(s, ctx, `drop ${name}`);
  try {
    const state = (await session.databaseInfo(name))?.state ?? null;
    await session.run(planDrillChecks(name, state).drop, undefined, false, true);
  } finally {
    await session.close();
  }
}

/** DBCC CHECKDB of a drill's scratch database. */
export async function sqlServerDrillChecks(
  open: OpenSession,
  db: DatabaseConfig,
  restoredTo: string,
  ctx: DriverContext,
): Promise<DrillCheck[]> {
  const s = resolveSettings(db);
  const session = await open(s, ctx, `check ${restoredTo}`);
  try {
    await session.run(planDrillChecks(restoredTo).checkdb, undefined, true);
    return [{ name: 'DBCC CHECKDB', ok: true, detail: 'no errors', phrases: { detail: phrase('drill.noErrors') } }];
  } catch (err) {
    if (ctx.signal.aborted || !(err instanceof RespaldoError)) throw err;
    return [{ name: 'DBCC CHECKDB', ok: false, detail: err.message }];
  } finally {
    await session.close();
  }
}

import { InterruptedError, NotFoundError, RefusedError, RespaldoError } from '../../core/errors.js';
import type { DatabaseConfig } from '../../core/types.js';
import { said } from '../../core/phrases.js';
import type { DriverContext, RestoreResult, SwapBackRequest } from '../driver.js';
import { dropDatabaseSql } from './swap-plan.js';
import { parseDerivedName, preRestoreDbName, swapBackSql } from './plan.js';
import { type PgServer, where, pgError, connectionOf } from './connection.js';
import { sessionsOn, databaseNames, isInUse, runWhenFree } from './catalog.js';

/** The safety copy an in-place restore keeps (`<name>__pre_restore_<set>`): swapping it back in, dropping it. */

/** The rollback of an in-place restore: the kept safety database takes the live name again (one transaction). */
export async function swapBackPg(pg: PgServer, req: SwapBackRequest, ctx: DriverContext): Promise<RestoreResult> {
  const conn = connectionOf(req.db);
  const live = conn.database;
  const item = req.db.name;
  const safety = req.safetyName;
  const parsed = parseDerivedName(live, safety);
  if (!parsed || parsed.kind !== 'pre_restore' || safety === live) {
    throw new RefusedError(
      `"${safety}" is not a safety copy of database "${live}"; refusing to swap it in.`,
      `Only databases named ${live}__pre_restore_<set id> are swapped back by respaldo.`,
    );
  }
  const newSafety = preRestoreDbName(live, req.setId);
  const { client: admin } = await pg.openMaintenance(conn, [live, safety, newSafety], 'rolling back a restore');
  try {
    const names = await databaseNames(admin);
    if (!names.has(safety)) {
      throw new NotFoundError(
        `The safety copy "${safety}" of ${item} no longer exists on ${where(conn)}; nothing was changed.`,
        `It was dropped or already swapped back; respaldo list --db ${item} shows the other sets.`,
      );
    }
    const liveExists = names.has(live);
    if (liveExists && names.has(newSafety)) {
      throw new RefusedError(
        `A database "${newSafety}" already exists; the swap back would need that name ` +
          `for the current "${live}". Nothing was changed.`,
        `Drop or rename "${newSafety}" once you no longer need it, then run the rollback again.`,
      );
    }
    const watched = liveExists ? [live, safety] : [safety];
    const doing = said(liveExists ? 'step.swappingBack' : 'step.renamingBack', { safety, live });
    ctx.reporter.emit({ type: 'item-progress', item, bytes: 0, ...doing });
    await runWhenFree(
      admin,
      watched,
      async () => {
        for (const sql of swapBackSql(live, safety, liveExists ? newSafety : null)) await admin.query(sql);
      },
      {
        terminate: req.terminateConnections,
        ctx,
        item,
        beforeOp: () => {
          if (ctx.signal.aborted)
            throw new InterruptedError('Rollback interrupted before the swap; both databases keep their names.');
        },
        afterFailure: () =>
          admin.query('ROLLBACK').then(
            () => undefined,
            () => undefined,
          ),
      },
    );
    ctx.log('swapped back', { database: live, from: safety, safety: liveExists ? newSafety : null });
    return { ...(liveExists ? { safetyDatabase: newSafety } : {}), tables: null, restoredTo: live };
  } catch (err) {
    if (ctx.signal.aborted && !(err instanceof RespaldoError)) {
      throw new InterruptedError('Rollback interrupted; both databases keep their names.');
    }
    throw pgError(err, conn, live, 'rolling back a restore');
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Drops a safety copy (`<name>__pre_restore_<set>`) when its set is deleted; refuses any other name. */
export async function dropPgSafetyCopy(pg: PgServer, db: DatabaseConfig, name: string): Promise<void> {
  const conn = connectionOf(db);
  const parsed = parseDerivedName(conn.database, name);
  if (!parsed || parsed.kind !== 'pre_restore' || name === conn.database) {
    throw new RefusedError(
      `"${name}" is not a safety copy of database "${conn.database}"; refusing to drop it.`,
      `Only databases named ${conn.database}__pre_restore_<set id> are dropped by respaldo.`,
    );
  }
  const { client } = await pg.openMaintenance(conn, [name], 'dropping a safety copy');
  try {
    const names = await databaseNames(client);
    if (!names.has(name)) return;
    try {
      await client.query(dropDatabaseSql(name, { ifExists: false, force: false }));
    } catch (err) {
      if (isInUse(err)) {
        throw new RefusedError(
          `The safety copy "${name}" is in use (${(await sessionsOn(client, name)).join(', ')}).`,
          'Disconnect those sessions and delete the set again.',
        );
      }
      throw err;
    }
  } catch (err) {
    throw pgError(err, conn, name, 'dropping a safety copy');
  } finally {
    await client.end().catch(() => undefined);
  }
}

import type { DatabaseConfig } from '../../core/types.js';
import type { DriverContext } from '../driver.js';
import { planPgRecovery } from './swap-plan.js';
import { describeLeftovers } from './plan.js';
import { type PgServer, ON_DRILL_SERVER, where, pgError, connectionOf } from './connection.js';
import { databaseNames, dropDatabase } from './catalog.js';

/** Crash recovery by name: PostgreSQL's temporary and safety databases are recognised by their derived names. */

/** Puts right what an interrupted restore or drill left on the server (planPgRecovery); returns what it did. */
export async function recoverPg(pg: PgServer, db: DatabaseConfig, ctx: DriverContext): Promise<string[]> {
  const conn = connectionOf(db);
  const live = conn.database;
  const { client } = await pg.openMaintenance(conn, [live], 'looking for interrupted restores');
  const actions: string[] = [];
  try {
    const versionNum = await pg.serverVersionNum(client);
    const drillServer = db[ON_DRILL_SERVER] === true;
    // Drills hold the folder lock, and recover runs under it: a scratch database found now is a dead drill's.
    for (const step of planPgRecovery(live, await databaseNames(client), { drillServer })) {
      if (step.kind === 'rename-back') {
        // Interrupted between the two renames: put the previous live database back.
        await client.query(step.sql);
        actions.push(
          `renamed "${step.from}" back to "${live}" (a restore was interrupted during the swap; the database is as before that restore)`,
        );
      } else if (step.kind === 'no-live') {
        ctx.reporter.emit({
          type: 'warning',
          item: db.name,
          message: `database "${live}" does not exist; safety copies exist: ${step.safeties.map((s) => `"${s}"`).join(', ')}. Restore a set, or rename a safety copy back by hand.`,
        });
      } else if (step.of === 'restore') {
        await dropDatabase(client, step.name, versionNum);
        actions.push(
          drillServer
            ? `dropped "${step.name}" on the drill server ${where(conn)} (left by an interrupted restore drill)`
            : `dropped "${step.name}" (left by an interrupted restore; "${live}" was not changed by it)`,
        );
      } else {
        await dropDatabase(client, step.name, versionNum);
        const on = drillServer ? ` on the drill server ${where(conn)}` : '';
        actions.push(`dropped "${step.name}"${on} (the scratch database of an interrupted restore drill)`);
      }
    }
  } catch (err) {
    throw pgError(err, conn, live, 'recovering an interrupted restore');
  } finally {
    await client.end().catch(() => undefined);
  }
  for (const a of actions) ctx.log(a);
  return actions;
}

/** What interrupted restores left on the server, as lines for the operator (nothing is changed). */
export async function findPgLeftovers(pg: PgServer, db: DatabaseConfig): Promise<string[]> {
  const conn = connectionOf(db);
  const { client } = await pg.openMaintenance(conn, [conn.database], 'looking for what interrupted restores left');
  try {
    const drillServer = db[ON_DRILL_SERVER] === true;
    const names = [...(await databaseNames(client))];
    const lines = describeLeftovers(conn.database, db.name, names, { drillServer }).lines;
    return drillServer ? lines.map((l) => `on the drill server ${where(conn)}: ${l}`) : lines;
  } catch (err) {
    throw pgError(err, conn, conn.database, 'looking for what interrupted restores left');
  } finally {
    await client.end().catch(() => undefined);
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseConfig } from '../../core/types.js';
import { RespaldoError } from '../../core/errors.js';
import { english, phrase, said, type Said } from '../../core/phrases.js';
import type { DriverContext } from '../driver.js';
import { planPgRecovery } from './swap-plan.js';
import { describeLeftovers } from './plan.js';
import { type PgServer, ON_DRILL_SERVER, where, pgError, connectionOf } from './connection.js';
import { databaseNames, dropDatabase, sessionsPerDatabase } from './catalog.js';

/** Crash recovery by name: PostgreSQL's temporary and safety databases are recognised by their derived names. */

/**
 * An error reaching the drill server (`drill.server`), whose settings are not those of the database entry the
 * operator would otherwise check: the hint names the setting.
 */
function onDrillServer(err: unknown): unknown {
  if (!(err instanceof RespaldoError)) return err;
  const out = new RespaldoError(err.kind, err.message, english(phrase('pgconn.drillServerHint')), err.details);
  if (err.phrases?.message) out.withPhrases(err.phrases.message, phrase('pgconn.drillServerHint'));
  return out;
}

/** Puts right what an interrupted restore or drill left on the server (planPgRecovery); returns what it did. */
export async function recoverPg(pg: PgServer, db: DatabaseConfig, ctx: DriverContext): Promise<Said[]> {
  const conn = connectionOf(db);
  const live = conn.database;
  const drillServer = db[ON_DRILL_SERVER] === true;
  const { client } = await pg
    .openMaintenance(
      conn,
      [live],
      drillServer ? 'looking on the drill server for what killed drills left' : 'looking for interrupted restores',
    )
    .catch((err: unknown) => {
      throw drillServer ? onDrillServer(err) : err;
    });
  const actions: Said[] = [];
  try {
    const versionNum = await pg.serverVersionNum(client);
    // Drills hold the folder lock, and recover runs under it: a scratch database found now is a dead drill's.
    const names = await databaseNames(client);
    let steps = planPgRecovery(live, names, { drillServer, sessions: await sessionsPerDatabase(client) });
    // The sessions of processes a killed run left end a moment after the engine stopped those (its server
    // backends notice the closed connection): a few seconds for them before a database is taken as in use.
    for (let i = 0; i < 20 && steps.some((s) => s.kind === 'in-use'); i++) {
      await sleep(250);
      steps = planPgRecovery(live, names, { drillServer, sessions: await sessionsPerDatabase(client) });
    }
    for (const step of steps) {
      if (step.kind === 'rename-back') {
        // Interrupted between the two renames: put the previous live database back.
        await client.query(step.sql);
        actions.push(said('recover.pgRenamedBack', { from: step.from, live }));
      } else if (step.kind === 'no-live') {
        const safeties = step.safeties.map((s) => `"${s}"`).join(', ');
        ctx.reporter.emit({ type: 'warning', item: db.name, ...said('pg.noLive', { live, safeties }) });
      } else if (step.kind === 'in-use') {
        const sessions = String(step.sessions);
        ctx.reporter.emit({
          type: 'warning',
          item: db.name,
          ...said('pg.leftoverInUse', { name: step.name, sessions }),
        });
      } else {
        // One leftover that cannot be dropped (another owner's, a session that connected a moment ago) stays,
        // said; the others are still put right, and the restore or backup that called goes on.
        try {
          await dropDatabase(client, step.name, versionNum);
        } catch (err) {
          const error = pgError(err, conn, step.name, 'dropping what an interrupted run left').message;
          ctx.reporter.emit({
            type: 'warning',
            item: db.name,
            ...said('pg.leftoverNotDropped', { name: step.name, error }),
          });
          continue;
        }
        if (step.of === 'restore')
          actions.push(
            drillServer
              ? said('recover.pgDroppedOn', { name: step.name, server: where(conn) })
              : said('recover.pgDropped', { name: step.name, live }),
          );
        else
          actions.push(
            drillServer
              ? said('recover.droppedDrillOn', { name: step.name, server: where(conn) })
              : said('recover.droppedDrill', { name: step.name }),
          );
      }
    }
  } catch (err) {
    throw pgError(err, conn, live, 'recovering an interrupted restore');
  } finally {
    await client.end().catch(() => undefined);
  }
  for (const a of actions) ctx.log(a.message);
  return actions;
}

/** What interrupted restores left on the server, as lines for the operator (nothing is changed). */
export async function findPgLeftovers(pg: PgServer, db: DatabaseConfig): Promise<string[]> {
  const conn = connectionOf(db);
  const { client } = await pg.openMaintenance(conn, [conn.database], 'looking for what interrupted restores left');
  try {
    const drillServer = db[ON_DRILL_SERVER] === true;
    const names = [...(await databaseNames(client))];
    const sessions = await sessionsPerDatabase(client);
    const lines = describeLeftovers(conn.database, db.name, names, { drillServer, sessions }).lines;
    return drillServer ? lines.map((l) => `on the drill server ${where(conn)}: ${l}`) : lines;
  } catch (err) {
    throw pgError(err, conn, conn.database, 'looking for what interrupted restores left');
  } finally {
    await client.end().catch(() => undefined);
  }
}

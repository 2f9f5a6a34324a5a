import { RefusedError, RespaldoError } from '../../core/errors.js';
import { phrase } from '../../core/phrases.js';
import type { DatabaseConfig } from '../../core/types.js';
import { runCapture } from '../../exec/spawn.js';
import type { DriverContext, DrillCheck } from '../driver.js';
import { childEnv, missingToolHint, pgAmcheckArgs } from './args.js';
import { parseDerivedName } from './plan.js';
import { type PgQueryable, type PgServer, pgError, connectionOf } from './connection.js';
import { dropDatabase } from './catalog.js';

/** Restore drills on PostgreSQL: the scratch database (`<name>__drill_<set>`) and pg_amcheck of it. */

/** Drops a drill's scratch database (`<name>__drill_<set>`); refuses any other name. */
export async function dropPgScratch(pg: PgServer, db: DatabaseConfig, name: string): Promise<void> {
  const conn = connectionOf(db);
  if (parseDerivedName(conn.database, name)?.kind !== 'drill') {
    throw new RefusedError(
      `"${name}" is not a drill's scratch database of "${conn.database}"; refusing to drop it.`,
      `Only databases named ${conn.database}__drill_<set id> are dropped by a drill.`,
    );
  }
  const { client } = await pg.openMaintenance(conn, [name], "dropping a drill's scratch database");
  try {
    await dropDatabase(client, name, await pg.serverVersionNum(client));
  } catch (err) {
    throw pgError(err, conn, name, "dropping a drill's scratch database");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_amcheck of a drill's scratch database, when the amcheck extension can be created in it. */
export async function amcheckScratch(
  pg: PgServer,
  db: DatabaseConfig,
  scratch: string,
  ctx: DriverContext,
): Promise<DrillCheck> {
  const conn = connectionOf(db);
  const client = await pg.open(conn, scratch, 'preparing pg_amcheck');
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
  } catch (err) {
    const why = `the amcheck extension cannot be created here (${(err as Error).message})`;
    return { name: 'pg_amcheck', ok: true, skipped: why };
  } finally {
    await client.end().catch(() => undefined);
  }
  const bin = await pg.resolveTool('pg_amcheck', db);
  const secrets = conn.password ? [conn.password] : [];
  const spec = { command: bin, args: pgAmcheckArgs({ conn, database: scratch }), env: childEnv(conn), secrets };
  try {
    await runCapture({ ...spec, signal: ctx.signal, missingHint: missingToolHint('pg_amcheck') });
    return {
      name: 'pg_amcheck',
      ok: true,
      detail: 'heap and B-tree indexes: no corruption',
      phrases: { detail: phrase('drill.amcheckOk') },
    };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (err instanceof RespaldoError && /not found|ENOENT/i.test(err.message)) {
      return { name: 'pg_amcheck', ok: true, skipped: `pg_amcheck is not installed (${err.message})` };
    }
    const tail = String((err as RespaldoError).details?.['stderrTail'] ?? (err as Error).message).trim();
    // The server went away under pg_amcheck (shut down, restarting): that says nothing of the set, and the drill did
    // not run to its end (drill.ts), as for a server down before it. Asked again, the server says which.
    const probe: unknown = await pg
      .open(conn, scratch, 'checking the server after pg_amcheck')
      .catch((e: unknown) => e);
    if (probe instanceof RespaldoError && probe.details?.['serverAway'] === true) throw probe;
    if (!(probe instanceof Error)) await (probe as PgQueryable).end().catch(() => undefined);
    return { name: 'pg_amcheck', ok: false, detail: tail.split('\n').slice(-5).join('\n') };
  }
}

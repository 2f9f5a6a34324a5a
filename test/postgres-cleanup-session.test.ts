/**
 * The session that cleans up after a failed restore (CleanupSession): a server process killed under pg_restore makes
 * the server end every session a moment later, so the restore's own session may answer the first check and die under
 * the DROP DATABASE that follows (a whole run of the suite left the temporary database and the created role behind,
 * "could not drop …: Connection terminated"). A statement that fails on a lost session runs once more on a new one,
 * asked for until the server takes connections again; any other failure is the statement's own. Fake sessions.
 */
import { describe, expect, it } from 'vitest';
import type { PgConnection } from '../src/drivers/postgres/config.js';
import { CleanupSession, sessionLost, type PgQueryable, type PgServer } from '../src/drivers/postgres/connection.js';

/** The fake server below opens its sessions without reading the connection. */
const conn = {} as PgConnection;

interface FakeSession extends PgQueryable {
  name: string;
  ran: string[];
  ended: boolean;
}

/** A session that runs every statement, except that the ones `fails` matches throw its error. */
function session(name: string, fails: (sql: string) => Error | null = () => null): FakeSession {
  const s: FakeSession = {
    name,
    ran: [],
    ended: false,
    query(sql: string) {
      const err = fails(sql);
      if (err) return Promise.reject(err);
      s.ran.push(sql);
      return Promise.resolve({ rows: [] });
    },
    end() {
      s.ended = true;
      return Promise.resolve();
    },
  };
  return s;
}

/** A server whose maintenance sessions are `opened` in turn; an Error in the list is a refused connection. */
function server(opened: (FakeSession | Error)[]): PgServer & { asked: number } {
  const pg = {
    asked: 0,
    openMaintenance() {
      const next = opened[pg.asked++];
      if (next === undefined) return Promise.reject(new Error('no more sessions in this test'));
      return next instanceof Error ? Promise.reject(next) : Promise.resolve({ client: next, database: 'postgres' });
    },
  };
  return pg as unknown as PgServer & { asked: number };
}

const pgErr = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
const DROP = 'DROP DATABASE IF EXISTS "caja__restore_x" WITH (FORCE)';

describe('the cleanup session of a failed restore', () => {
  it('runs a statement again on a new session when the restore’s died under it, after the check', async () => {
    const admin = session('admin', (sql) =>
      sql.startsWith('DROP') ? pgErr('Connection terminated unexpectedly') : null,
    );
    const fresh = session('fresh');
    // Crash recovery: the first new session is refused while the server starts again.
    const pg = server([pgErr('the database system is in recovery mode', '57P03'), fresh]);
    const cleaner = await CleanupSession.open(pg, conn, admin, ['caja'], new AbortController().signal);
    expect(cleaner.renewed).toBe(false);

    await cleaner.query(DROP);
    await cleaner.query('DROP ROLE IF EXISTS "cajero"');
    expect(fresh.ran).toEqual([DROP, 'DROP ROLE IF EXISTS "cajero"']);
    expect(pg.asked).toBe(2);
    expect(cleaner.renewed).toBe(true);
    await cleaner.end();
    expect(fresh.ended).toBe(true);
    expect(admin.ended).toBe(false);
  });

  it('opens a new session at once when the restore’s no longer answers', async () => {
    const admin = session('admin', () => pgErr('Connection terminated unexpectedly'));
    const fresh = session('fresh');
    const cleaner = await CleanupSession.open(server([fresh]), conn, admin, ['caja'], new AbortController().signal);
    expect(cleaner.renewed).toBe(true);
    await cleaner.query(DROP);
    expect(fresh.ran).toEqual([DROP]);
  });

  it('keeps a refused statement’s own error, and asks for no new session', async () => {
    const inUse = pgErr('database "caja__restore_x" is being accessed by other users', '55006');
    const admin = session('admin', (sql) => (sql.startsWith('DROP') ? inUse : null));
    const pg = server([session('fresh')]);
    const cleaner = await CleanupSession.open(pg, conn, admin, ['caja'], new AbortController().signal);
    await expect(cleaner.query(DROP)).rejects.toBe(inUse);
    expect(pg.asked).toBe(0);
    expect(cleaner.renewed).toBe(false);
  });

  it('gives the lost session’s error when no new one gets in (the restore interrupted: no waiting)', async () => {
    const lost = pgErr('terminating connection because of crash of another server process', '57P02');
    const admin = session('admin', (sql) => (sql.startsWith('DROP') ? lost : null));
    const stop = new AbortController();
    stop.abort();
    const pg = server([pgErr('the database system is in recovery mode', '57P03')]);
    const cleaner = await CleanupSession.open(pg, conn, admin, ['caja'], stop.signal);
    await expect(cleaner.query(DROP)).rejects.toBe(lost);
    expect(pg.asked).toBe(1);
  });

  it('waits for the server once: when no new session got in, the next statements fail at once', async () => {
    const lost = () => pgErr('Connection terminated unexpectedly');
    const admin = session('admin', lost);
    const stop = new AbortController();
    stop.abort(); // one try each time, no waiting: what is counted is how often a new session is asked for
    const pg = server([pgErr('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), session('late')]);
    const cleaner = await CleanupSession.open(pg, conn, admin, ['caja'], stop.signal);
    expect(pg.asked).toBe(1);
    await expect(cleaner.query(DROP)).rejects.toThrow('Connection terminated');
    await expect(cleaner.query('DROP ROLE IF EXISTS "cajero"')).rejects.toThrow('Connection terminated');
    expect(pg.asked).toBe(1);
    expect(cleaner.renewed).toBe(false);
  });

  it.each([
    ['Connection terminated unexpectedly', undefined, true],
    ['read ECONNRESET', 'ECONNRESET', true],
    ['terminating connection due to administrator command', '57P01', true],
    ['terminating connection because of crash of another server process', '57P02', true],
    ['Client has encountered a connection error and is not queryable', undefined, true],
    ['database "x" is being accessed by other users', '55006', false],
    ['permission denied to drop database', '42501', false],
    ['role "cajero" cannot be dropped because some objects depend on it', '2BP01', false],
  ])('%s (%s): lost %s', (message, code, lost) => {
    expect(sessionLost(pgErr(message, code))).toBe(lost);
  });
});

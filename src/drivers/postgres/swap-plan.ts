import { quoteIdent } from './args.js';
import { newestSafetyOf, parseDerivedName } from './plan.js';

/**
 * PostgreSQL's swap, rollback and recovery statements as data, like sqlserver/swap-plan.ts: pure functions
 * from database names (and what the server holds) to the statements restore.ts, safety.ts and recover.ts
 * run, in order. The executor keeps the waiting, retries and error handling; what is said to the server is decided here
 * and tested as tables (test/postgres-swap-plan.test.ts). The rollback's transaction is `swapBackSql`
 * (plan.ts).
 */

/** `ALTER DATABASE from RENAME TO to`, both names quoted. */
export function renameDatabaseSql(from: string, to: string): string {
  return `ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`;
}

/** Whether DROP DATABASE … WITH (FORCE) exists on a server of this `server_version_num` (13 and later). */
export function canForceDrop(serverVersionNum: number): boolean {
  return serverVersionNum >= 130000;
}

/**
 * Dropping a database respaldo made. `force` (`canForceDrop`) closes its sessions in the same statement;
 * without it the executor closes them first (`TERMINATE_SESSIONS_SQL`) and retries while it is in use.
 */
export function dropDatabaseSql(name: string, opts: { ifExists: boolean; force: boolean }): string {
  return `DROP DATABASE ${opts.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(name)}${opts.force ? ' WITH (FORCE)' : ''}`;
}

/**
 * A row of pg_stat_activity that is a client session. A login that is neither a superuser nor a member of
 * pg_read_all_stats sees the sessions of other roles with `backend_type` NULL (as `query`, `client_addr`, …): such
 * a row with a role and a database is a session too (the server's own processes have neither: autovacuum has no role,
 * the logical replication launcher no database), or a database owner's restore saw nothing of the application's
 * sessions, and its swap waited on them without a word, minutes, instead of refusing.
 */
export const CLIENT_SESSION_SQL =
  "(backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL AND datname IS NOT NULL))";

/** Closes the client sessions of database `$1` (not this one); one row per session, `ok` when it ended. */
export const TERMINATE_SESSIONS_SQL = `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND ${CLIENT_SESSION_SQL}`;

/**
 * The swap of an in-place restore, one rename at a time (a database in use cannot be renamed, so each
 * is retried on its own): `setAside` keeps the live database as the safety copy, `swapIn` gives the
 * restored copy the live name, and `undo` puts the live database back when `swapIn` failed.
 */
export interface PgSwapPlan {
  setAside: string;
  swapIn: string;
  undo: string;
}

/** The swap of `staging` into `live`, keeping the previous live database as `safety`. Pure. */
export function planPgSwap(live: string, staging: string, safety: string): PgSwapPlan {
  return {
    setAside: renameDatabaseSql(live, safety),
    swapIn: renameDatabaseSql(staging, live),
    undo: renameDatabaseSql(safety, live),
  };
}

/** One thing `recover` does for a live database, in order. */
export type PgRecoveryStep =
  /** Cut between the two renames of a swap: the previous live database takes its name back. */
  | { kind: 'rename-back'; from: string; to: string; sql: string }
  /** The live database is missing and no interrupted swap explains it: said, nothing changed. */
  | { kind: 'no-live'; safeties: string[] }
  /** A staging copy of an interrupted restore, or a dead drill's scratch database: dropped. */
  | { kind: 'drop'; name: string; of: 'restore' | 'drill' }
  /**
   * The same name with sessions connected: a restore or drill still running with it (another backup folder or
   * config, another host: the folder lock does not reach it): said, left as it is.
   */
  | { kind: 'in-use'; name: string; of: 'restore' | 'drill'; sessions: number };

/**
 * What `recover` does for `live`, given every database name on the server and the client sessions on each
 * (`sessions`). On a drill server (no live database expected there) only the scratch and staging databases are
 * dropped; one with sessions connected is never dropped. Pure.
 */
export function planPgRecovery(
  live: string,
  names: Iterable<string>,
  opts: { drillServer: boolean; sessions?: ReadonlyMap<string, number> },
): PgRecoveryStep[] {
  const all = new Set(names);
  const derived = [...all].flatMap((name) => {
    const parsed = parseDerivedName(live, name);
    return parsed ? [{ name, ...parsed }] : [];
  });
  const staging = derived.filter((d) => d.kind === 'restore');
  const safety = derived.filter((d) => d.kind === 'pre_restore');
  const steps: PgRecoveryStep[] = [];
  if (!all.has(live) && !opts.drillServer) {
    const pair = newestSafetyOf(
      safety,
      staging.map((t) => t.id),
    );
    if (pair) steps.push({ kind: 'rename-back', from: pair.name, to: live, sql: renameDatabaseSql(pair.name, live) });
    else if (safety.length > 0) steps.push({ kind: 'no-live', safeties: safety.map((s) => s.name) });
  }
  const dropOrLeave = (name: string, of: 'restore' | 'drill'): PgRecoveryStep => {
    const sessions = opts.sessions?.get(name) ?? 0;
    return sessions > 0 ? { kind: 'in-use', name, of, sessions } : { kind: 'drop', name, of };
  };
  for (const s of staging) steps.push(dropOrLeave(s.name, 'restore'));
  for (const d of derived.filter((x) => x.kind === 'drill')) steps.push(dropOrLeave(d.name, 'drill'));
  return steps;
}

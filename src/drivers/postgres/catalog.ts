import { RefusedError, RespaldoError } from '../../core/errors.js';
import { CLIENT_SESSION_SQL, TERMINATE_SESSIONS_SQL, canForceDrop, dropDatabaseSql } from './swap-plan.js';
import { MAX_IDENTIFIER_BYTES, byteLength } from './config.js';
import { quoteIdent, type Relation, type TableRef } from './args.js';
import { tableKey, type DatabaseProperties } from './plan.js';
import type { PgQueryable, PgErrorLike } from './connection.js';
import type { DriverContext } from '../driver.js';
import { sleep } from './tools.js';
import { rowCountDifferences, type RowCountDifference } from '../shared/row-counts.js';
import { retryWhileInUse } from '../shared/retry.js';
import { said } from '../../core/phrases.js';

/** Questions asked of the server's catalog (tables, row counts, sessions, databases) and dropping a database. */

/** One table of the database, as pg_dump dumps its data. */
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.oid::int8 AS oid
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2`;

/** Partitioned tables (they hold no rows themselves; their partitions are in TABLES_SQL). */
const PARTITIONED_SQL = TABLES_SQL.replace("c.relkind = 'r'", "c.relkind = 'p'");

export async function listPartitioned(client: PgQueryable): Promise<Relation[]> {
  const r = await client.query(PARTITIONED_SQL);
  return r.rows.map((row): Relation => [String(row['schema']), String(row['name']), Number(row['oid'])]);
}

export async function listTables(client: PgQueryable): Promise<TableRef[]> {
  const r = await client.query(TABLES_SQL);
  return r.rows.map((row) => ({ schema: String(row['schema']), table: String(row['name']), oid: Number(row['oid']) }));
}

/** A user trigger of a table and the source of the function it runs. */
export interface TableTrigger {
  schema: string;
  table: string;
  trigger: string;
  /** The function, as `schema.name()`. */
  fn: string;
  source: string;
}

export async function listTriggers(client: PgQueryable): Promise<TableTrigger[]> {
  const r = await client.query(`
    SELECT tn.nspname AS schema, tc.relname AS tbl, t.tgname AS trigger,
           pn.nspname || '.' || p.proname || '()' AS fn, COALESCE(p.prosrc, '') AS source
      FROM pg_trigger t
      JOIN pg_class tc ON tc.oid = t.tgrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
     WHERE NOT t.tgisinternal
     ORDER BY 1, 2, 3`);
  return r.rows.map((row) => ({
    schema: String(row['schema']),
    table: String(row['tbl']),
    trigger: String(row['trigger']),
    fn: String(row['fn']),
    source: String(row['source']),
  }));
}

/**
 * Tables counted by one statement of countRows. A statement per table cost a round trip each: a restore of a
 * database of 5000 small tables spent 8 s on its counts (loaded machine). Not all in one statement: planning
 * a count locks the table and its indexes until the transaction ends (a restore's counts run each statement in
 * a transaction of its own), and the server's lock table is shared (max_locks_per_transaction ×
 * max_connections; 6400 by default), so a statement of 5000 tables and their indexes could run out of it.
 * 200 tables hold a few hundred locks.
 */
export const COUNT_BATCH = 200;

/**
 * Exact row counts (`count(*)` of each table, ONLY, so inheritance children are not counted twice), COUNT_BATCH
 * tables per statement (one `UNION ALL` of a count each).
 */
export async function countRows(client: PgQueryable, tables: readonly TableRef[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let start = 0; start < tables.length; start += COUNT_BATCH) {
    const batch = tables.slice(start, start + COUNT_BATCH);
    const sql = batch
      .map((t, i) => `SELECT ${i} AS i, count(*)::bigint AS n FROM ONLY ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`)
      .join('\nUNION ALL ');
    const r = await client.query(sql);
    for (const row of r.rows) {
      const t = batch[Number(row['i'])];
      if (t) out[tableKey(t.schema, t.table)] = Number(row['n'] ?? 0);
    }
  }
  return out;
}

export async function estimateRows(client: PgQueryable): Promise<Record<string, number>> {
  const r = await client.query(`
    SELECT t.schema, t.name, COALESCE(s.n_live_tup, GREATEST(c.reltuples, 0))::bigint AS n
      FROM (${TABLES_SQL}) t
      JOIN pg_namespace n ON n.nspname = t.schema
      JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name
      LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid`);
  const out: Record<string, number> = {};
  for (const row of r.rows) out[tableKey(String(row['schema']), String(row['name']))] = Number(row['n']);
  return out;
}

/**
 * The roles the database's objects name, which pg_restore sets as owners and grantees (ALTER … OWNER TO, GRANT … TO):
 * what pg_shdepend records (owners, grantees, policies' roles), and the owners of schemas and relations (the bootstrap
 * superuser's objects are not in pg_shdepend). Extension members (CREATE EXTENSION makes them), the `public` schema
 * and the predefined `pg_*` roles every server has are left out: a restore plan refuses a server lacking one of these.
 */
const REFERENCED_ROLES_SQL = `
SELECT DISTINCT r.rolname FROM (
  SELECT s.refobjid AS role, s.classid, s.objid FROM pg_shdepend s
   WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND s.refclassid = 'pg_authid'::regclass AND s.deptype IN ('o', 'a', 'r')
  UNION ALL
  SELECT nspowner, 'pg_namespace'::regclass, oid FROM pg_namespace
   WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'public')
  UNION ALL
  SELECT c.relowner, 'pg_class'::regclass, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
) o JOIN pg_roles r ON r.oid = o.role
 WHERE r.rolname !~ '^pg_'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype = 'e')
 ORDER BY 1`;

/** The roles a dump of the connected database names (REFERENCED_ROLES_SQL), sorted. */
export async function referencedRoles(client: PgQueryable): Promise<string[]> {
  return (await client.query(REFERENCED_ROLES_SQL)).rows.map((r) => String(r['rolname']));
}

export interface ServerInfo {
  versionNum: number;
  version: string;
  sizeBytes: number;
  isSuperuser: boolean;
  props: DatabaseProperties;
  /** The roles the database's objects name (referencedRoles): a restore's plan checks the server has them. */
  referencedRoles: string[];
}

export async function readServerInfo(client: PgQueryable): Promise<ServerInfo> {
  const v =
    await client.query(`SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version,
       pg_database_size(current_database())::bigint AS size,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super`);
  const row = v.rows[0] ?? {};
  const d =
    await client.query(`SELECT to_jsonb(d) AS d, pg_encoding_to_char(d.encoding) AS encoding, pg_get_userbyid(d.datdba) AS owner,
       (SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings,
       (SELECT coalesce(json_agg(json_build_object('role', pg_get_userbyid(s.setrole), 'settings', s.setconfig)
                                 ORDER BY pg_get_userbyid(s.setrole)), '[]'::json)
          FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole <> 0) AS role_settings,
       shobj_description(d.oid, 'pg_database') AS comment,
       CASE WHEN d.datacl IS NULL THEN NULL ELSE
         (SELECT coalesce(json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                                                     'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]'::json)
            FROM aclexplode(d.datacl) a) END AS acl
     FROM pg_database d WHERE d.datname = current_database()`);
  const drow = d.rows[0] ?? {};
  const raw = (drow['d'] ?? {}) as Record<string, unknown>;
  const props: DatabaseProperties = {
    encoding: String(drow['encoding'] ?? ''),
    collate: typeof raw['datcollate'] === 'string' ? raw['datcollate'] : undefined,
    ctype: typeof raw['datctype'] === 'string' ? raw['datctype'] : undefined,
    localeProvider: raw['datlocprovider'] === 'i' ? 'icu' : 'libc',
    iculocale: typeof raw['daticulocale'] === 'string' ? raw['daticulocale'] : null,
    owner: String(drow['owner'] ?? ''),
    settings: Array.isArray(drow['settings']) ? (drow['settings'] as string[]) : [],
    acl: (drow['acl'] as DatabaseProperties['acl']) ?? null,
    connectionLimit: typeof raw['datconnlimit'] === 'number' ? raw['datconnlimit'] : -1,
    comment: typeof drow['comment'] === 'string' ? drow['comment'] : null,
    roleSettings: Array.isArray(drow['role_settings'])
      ? (drow['role_settings'] as DatabaseProperties['roleSettings'])
      : [],
  };
  return {
    versionNum: Number(row['num']),
    version: String(row['version']),
    sizeBytes: Number(row['size']),
    isSuperuser: row['super'] === true,
    props,
    referencedRoles: await referencedRoles(client),
  };
}

/** Sessions (other than ours) on a database, as `user@client (pid N, app)`. */
export async function sessionsOn(client: PgQueryable, database: string): Promise<string[]> {
  const r = await client.query(
    `SELECT pid, usename, client_addr::text AS addr, application_name AS app, backend_type IS NULL AS hidden FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND ${CLIENT_SESSION_SQL} ORDER BY pid`,
    [database],
  );
  return r.rows.map((row) => {
    const app = row['app'] ? `, ${String(row['app'])}` : '';
    // Another role's session seen by a login without pg_read_all_stats: its address is hidden, not local.
    const addr = row['addr'] ?? (row['hidden'] === true ? '?' : 'local');
    return `${row['usename'] ?? '?'}@${addr} (pid ${row['pid']}${app})`;
  });
}

/**
 * The connection slots the server has free for this role now: max_connections less the client sessions open
 * (ours included) and, for a role that is no superuser, the slots kept for superusers (and from PostgreSQL 16 for
 * pg_use_reserved_connections). Null when the server does not say (a pooler in front, a view it hides).
 */
export const FREE_SLOTS_SQL = `SELECT current_setting('max_connections')::int
    - (SELECT count(*) FROM pg_stat_activity WHERE ${CLIENT_SESSION_SQL})::int
    - CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN 0
        ELSE current_setting('superuser_reserved_connections')::int
           + coalesce(current_setting('reserved_connections', true), '0')::int END AS free`;

async function freeConnectionSlots(client: PgQueryable): Promise<number | null> {
  try {
    const free = Number((await client.query(FREE_SLOTS_SQL)).rows[0]?.['free']);
    return Number.isFinite(free) ? free : null;
  } catch {
    return null;
  }
}

/**
 * Pure: the jobs that fit `free` connection slots of the server (null: unknown), one slot left for whoever
 * connects next; at least one (the server then says if it has none).
 */
export function jobsForSlots(wanted: number, free: number | null): number {
  return free === null ? wanted : Math.max(1, Math.min(wanted, free - 1));
}

/**
 * The `--jobs` of a pg_dump or pg_restore of `item` that fit the server's free slots now (`held`: the connections
 * the tool holds beside its jobs, 1 for pg_dump's own), in the log; said when fewer than `wanted`. Also returns
 * the free slots (null: not known).
 */
export async function jobsThatFit(
  client: PgQueryable,
  wanted: number,
  o: { tool: 'pg_dump' | 'pg_restore'; held: number; item: string; ctx: DriverContext },
): Promise<{ jobs: number; free: number | null }> {
  const free = await freeConnectionSlots(client);
  const jobs = jobsForSlots(wanted, free === null ? null : free - o.held);
  o.ctx.log(`${o.tool} jobs`, { freeSlots: free, jobs, wanted });
  if (jobs < wanted)
    o.ctx.reporter.emit({
      type: 'info',
      ...said('note.jobsCut', { item: o.item, free: String(free), tool: o.tool, jobs, wanted }),
    });
  return { jobs, free };
}

export async function terminateSessions(client: PgQueryable, database: string): Promise<number> {
  const r = await client.query(TERMINATE_SESSIONS_SQL, [database]);
  return r.rows.filter((row) => row['ok'] === true).length;
}

export async function databaseNames(client: PgQueryable): Promise<Set<string>> {
  const r = await client.query('SELECT datname FROM pg_database');
  return new Set(r.rows.map((row) => String(row['datname'])));
}

/** Client sessions (other than this one) connected to each database that has any. */
export async function sessionsPerDatabase(client: PgQueryable): Promise<Map<string, number>> {
  const r = await client.query(
    `SELECT datname, count(*)::int AS n FROM pg_stat_activity WHERE datname IS NOT NULL AND pid <> pg_backend_pid() AND ${CLIENT_SESSION_SQL} GROUP BY datname`,
  );
  return new Map(r.rows.map((row) => [String(row['datname']), Number(row['n'])]));
}

export async function dropDatabase(client: PgQueryable, name: string, serverVersionNum: number): Promise<void> {
  const force = canForceDrop(serverVersionNum);
  const sql = dropDatabaseSql(name, { ifExists: true, force });
  if (force) {
    await client.query(sql);
    return;
  }
  for (let attempt = 0; ; attempt++) {
    await terminateSessions(client, name);
    try {
      await client.query(sql);
      return;
    } catch (err) {
      if ((err as PgErrorLike).code !== '55006' || attempt >= 20) throw err;
      await sleep(250);
    }
  }
}

export function isInUse(err: unknown): boolean {
  return (err as PgErrorLike).code === '55006';
}

export function checkDatabaseName(name: string, what: string): void {
  if (!name) throw new RespaldoError('usage', `${what}: empty database name.`, 'Give a database name.');
  if (name.includes('\0'))
    throw new RespaldoError('usage', `${what}: the database name contains a NUL character.`, 'Give another name.');
  if (byteLength(name) > MAX_IDENTIFIER_BYTES)
    throw new RespaldoError(
      'usage',
      `${what}: "${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes, PostgreSQL's limit for names.`,
      'Give a shorter database name.',
    );
}

export function refusedSessions(live: string, sessions: string[]): RefusedError {
  return new RefusedError(
    `Database "${live}" has ${sessions.length} connected session(s): ${sessions.join(', ')}. Nothing was replaced.`,
    'Stop the applications using it, or run again with --terminate-connections to end those sessions during the swap.',
  );
}

/**
 * Runs `op` (renames of a swap) once no session is connected to `names`: connected sessions are refused
 * (refusedSessions) unless `terminate`, else ended, each logged and warned about. A statement that still
 * meets a session (one that connected again in between) is tried again, up to 20 times 250 ms apart, then
 * refused naming the sessions. `beforeOp` runs before each attempt (an abort check), `afterFailure` after
 * each failed one (a ROLLBACK).
 */
export async function runWhenFree(
  admin: PgQueryable,
  names: readonly string[],
  op: () => Promise<void>,
  opts: {
    terminate: boolean;
    ctx: Pick<DriverContext, 'log' | 'reporter'>;
    item: string;
    beforeOp?: () => void;
    afterFailure?: () => Promise<void>;
  },
): Promise<void> {
  try {
    await retryWhileInUse(
      async () => {
        for (const name of names) {
          const sessions = await sessionsOn(admin, name);
          if (sessions.length === 0) continue;
          if (!opts.terminate) throw refusedSessions(name, sessions);
          const n = await terminateSessions(admin, name);
          opts.ctx.log('terminated sessions', { database: name, count: n });
          const terminated = said('pg.terminated', { count: n, db: name, sessions: sessions.join(', ') });
          opts.ctx.reporter.emit({ type: 'warning', item: opts.item, ...terminated });
        }
        opts.beforeOp?.();
        try {
          await op();
        } catch (err) {
          await opts.afterFailure?.();
          throw err;
        }
      },
      { attempts: 21, inUse: isInUse, delayMs: () => 250 },
    );
  } catch (err) {
    if (!isInUse(err)) throw err;
    const busy = (await Promise.all(names.map((name) => sessionsOn(admin, name)))).flat();
    throw refusedSessions(names.join('" or "'), busy);
  }
}

/** Differences between recorded and restored row counts (only when the backup's counts are exact). */
export function countDifferences(
  recorded: Record<string, number> | null,
  restored: Record<string, number>,
  mode: unknown,
  selection: TableRef[] | undefined,
): RowCountDifference[] {
  if (mode !== 'exact') return [];
  return rowCountDifferences(
    recorded,
    restored,
    selection ? { only: selection.map((s) => tableKey(s.schema, s.table)) } : {},
  );
}

import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { CommandError, InterruptedError, NotFoundError, RefusedError, RespaldoError } from '../../core/errors.js';
import { DUMP_MEMBER_ROLE, type BackupType, type DatabaseConfig, type DrillServerConfig } from '../../core/types.js';
import { runCapture, spawnStreaming, type StreamingChild } from '../../exec/spawn.js';
import {
  baseContents,
  ChainMapRecorder,
  chainMapPart,
  hashedRead,
  hashFile,
  isChainEntry,
  stageChainFiles,
} from './chain.js';
import { dropCreatedRolesSql, parseGlobals, planMissingRoles } from './globals.js';
import { parseTocList, selectTables, TocSelectionError, type TocSelection } from './toc.js';
import type {
  BackupSession,
  Driver,
  DriverContext,
  DrillCheck,
  DumpFacts,
  DumpMember,
  DumpPart,
  OpenedDump,
  RestoreRequest,
  RestoreResult,
  RestoreTarget,
  SwapBackRequest,
  TargetState,
} from '../driver.js';
import { CAPABILITIES } from '../capabilities.js';
import {
  TERMINATE_SESSIONS_SQL,
  canForceDrop,
  dropDatabaseSql,
  planPgRecovery,
  planPgSwap,
  renameDatabaseSql,
} from './swap-plan.js';
import {
  APPLICATION_NAME,
  MAX_IDENTIFIER_BYTES,
  byteLength,
  childEnv,
  clientTooOld,
  copyRows,
  createDatabaseSql,
  databasePropertiesSql,
  derivedName,
  describeLeftovers,
  describePg,
  finishedDataItem,
  hintForStderr,
  lockWaitTimeout,
  missingToolHint,
  parseDerivedName,
  parseToolVersion,
  pgAmcheckArgs,
  pgDumpArgs,
  pgDumpDirArgs,
  pgDumpallGlobalsArgs,
  pgRestoreArgs,
  pgRestoreDirArgs,
  pgRestoreListArgs,
  planPgRestore,
  preRestoreDbName,
  quoteIdent,
  quoteLiteral,
  type Relation,
  resolveConnection,
  resolveTables,
  restoreDbName,
  serverMajor,
  sessionEndedBy,
  swapBackSql,
  tableKey,
  toolPath,
  validatePgConfig,
  type DatabaseProperties,
  type PgConnection,
  type PgTool,
  type TableRef,
} from './plan.js';

/**
 * The PostgreSQL driver: pg_dump (custom format, uncompressed; the engine gzips) from an exported
 * snapshot whose row counts are taken in the same transaction, optional pg_dumpall globals, and
 * restores that build `<name>__restore_<set>` beside the live database, check it, and swap names
 * (the live database survives as `<name>__pre_restore_<set>`).
 */

/** The few methods of a pg connection the driver uses (tests can hand in a fake). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/** Settings for one connection, as given to the factory. */
export interface PgConnectSettings {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database: string;
  application_name: string;
  connectionTimeoutMillis: number;
  ssl?: boolean | { rejectUnauthorized: boolean };
}

/** Opens a connected client. */
export type PgConnect = (settings: PgConnectSettings) => Promise<PgQueryable>;

export interface PostgresDriverDeps {
  connect?: PgConnect;
  /**
   * Format of new backups: `directory` (default: `pg_dump -Fd --jobs`, one stored file per table) or
   * `custom` (one `pg_dump -Fc` stream, the format of sets made before 0.6; tests use it to make such sets).
   */
  format?: 'directory' | 'custom';
  /** Parallel jobs of pg_dump and pg_restore on directory dumps (default: the cores, at least 2). */
  jobs?: number;
  /** Environment read for PG_BIN_PATH (default process.env; never modified). */
  env?: Record<string, string | undefined>;
}

const defaultConnect: PgConnect = async (settings) => {
  // Loaded on first use, so runs that never reach PostgreSQL do not pay for it.
  const { default: pg } = await import('pg');
  const client = new pg.Client(settings);
  // A server that goes away mid-session must not crash the process; the pending query fails instead.
  client.on('error', () => undefined);
  await client.connect();
  return client as unknown as PgQueryable;
};

interface PgErrorLike {
  code?: string;
  message?: string;
  severity?: string;
}

/** Marks a database entry moved to `drill.server` (onDrillServer): no live database is expected there. */
const ON_DRILL_SERVER = 'respaldoDrillServer';

function where(conn: PgConnection): string {
  if (conn.host?.startsWith('/')) return `socket ${conn.host}`;
  return `${conn.host ?? 'localhost'}:${conn.port ?? 5432}`;
}

/** An operator error for a failed connection or query (never includes the password). */
export function pgError(err: unknown, conn: PgConnection, database: string, doing: string): Error {
  if (err instanceof RespaldoError) return err;
  const e = (err ?? {}) as PgErrorLike;
  const code = e.code ?? '';
  const msg = (e.message ?? String(err)).split(conn.password || '\u0000').join('***');
  const at = where(conn);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOENT':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at} refused the connection while ${doing}.`,
        `Is the server running and listening on ${at}? Check host and port in the config.`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RespaldoError(
        'failed',
        `PostgreSQL host ${conn.host} not found while ${doing}.`,
        "Check the host name in the config and this machine's DNS.",
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at} cannot be reached (${code}) while ${doing}.`,
        'Check the network path and firewall to the database server.',
      );
    case '28P01':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at}: password authentication failed for user "${conn.user ?? ''}".`,
        'Check the user and password in the config (usually the ${DB_PASSWORD} variable) and try again; nothing was changed.',
      );
    case '28000':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at} rejected user "${conn.user ?? ''}": ${msg}`,
        "The server's pg_hba.conf does not allow this user/host/database; ask the DBA to allow it.",
      );
    case '3D000':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at}: database "${database}" does not exist.`,
        `Check the database name in the config; \`psql -l\` lists the databases on ${at}.`,
      );
    case '57P03':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at} is starting up or shutting down.`,
        'Wait until the server accepts connections and run the command again.',
      );
    case '53300':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at} has no free connection slots.`,
        'Close idle connections or raise max_connections, then try again.',
      );
    case '42501':
      return new RespaldoError(
        'failed',
        `PostgreSQL at ${at}: permission denied while ${doing}: ${msg}`,
        'Connect as the database owner or a role with the needed privileges (CREATEDB for restores).',
      );
    case '57P01':
    case '57P02':
    case '53100': {
      const hint = sessionEndedBy(`FATAL:  ${msg}`)?.hint;
      const fallback = 'The server was shut down or the session was terminated; check the server and try again.';
      const message = `PostgreSQL at ${at} ended the session while ${doing}: ${msg}`;
      return new RespaldoError('failed', message, hint ?? fallback);
    }
    default: {
      const ended = sessionEndedBy(msg);
      if (ended) {
        return new RespaldoError('failed', `PostgreSQL at ${at} ended the session while ${doing}: ${msg}`, ended.hint);
      }
      if (/Connection terminated|connection timeout|ECONNRESET|server closed/i.test(msg)) {
        return new RespaldoError(
          'failed',
          `Lost the connection to PostgreSQL at ${at} while ${doing}: ${msg}`,
          `Is the server at ${at} running? Check it and try again.`,
        );
      }
      if (code && /^[0-9A-Z]{5}$/.test(code))
        return new RespaldoError('failed', `PostgreSQL at ${at}: ${msg} (while ${doing}, SQLSTATE ${code})`, undefined);
      return err instanceof Error ? err : new Error(msg);
    }
  }
}

function sslFrom(conn: PgConnection): PgConnectSettings['ssl'] | undefined {
  const mode = conn.params['sslmode'];
  if (!mode || mode === 'disable' || mode === 'allow' || mode === 'prefer') return undefined;
  if (mode === 'require') return { rejectUnauthorized: false };
  return { rejectUnauthorized: true };
}

function settingsFor(conn: PgConnection, database: string): PgConnectSettings {
  const s: PgConnectSettings = { database, application_name: APPLICATION_NAME, connectionTimeoutMillis: 15_000 };
  if (conn.host) s.host = conn.host.split(',')[0]!;
  if (conn.port !== undefined) s.port = conn.port;
  else if (conn.params['port']) s.port = Number(conn.params['port'].split(',')[0]) || 5432;
  if (conn.user) s.user = conn.user;
  if (conn.password !== undefined) s.password = conn.password;
  const ssl = sslFrom(conn);
  if (ssl) s.ssl = ssl;
  return s;
}

function connectionOf(db: DatabaseConfig): PgConnection {
  try {
    return resolveConnection(db);
  } catch (err) {
    throw new RespaldoError(
      'config',
      `Database ${db.name}: ${(err as Error).message}`,
      'Fix the url of this database in the config.',
    );
  }
}

/** Counts the rows of a COPY data file as it passes (see copyRows), without copying it. */
class RowCounter extends Transform {
  private newlines = 0;
  private tail = '';
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.newlines++;
    this.tail = (this.tail + chunk.subarray(Math.max(0, chunk.length - 16)).toString('latin1')).slice(-16);
    cb(null, chunk);
  }
  get rows(): number {
    return copyRows(this.newlines, this.tail);
  }
}

/** Names of the files of a directory dump that respaldo stores and restores (no paths, no dot files). */
const DUMP_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;

/** Manifest role of a stored file of a directory dump. */
const MEMBER_ROLE = DUMP_MEMBER_ROLE;

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

async function listPartitioned(client: PgQueryable): Promise<Relation[]> {
  const r = await client.query(PARTITIONED_SQL);
  return r.rows.map((row): Relation => [String(row['schema']), String(row['name']), Number(row['oid'])]);
}

async function listTables(client: PgQueryable): Promise<TableRef[]> {
  const r = await client.query(TABLES_SQL);
  return r.rows.map((row) => ({ schema: String(row['schema']), table: String(row['name']), oid: Number(row['oid']) }));
}

/** Exact row counts (`count(*)` of each table, ONLY, so inheritance children are not counted twice). */
async function countRows(client: PgQueryable, tables: readonly TableRef[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const r = await client.query(
      `SELECT count(*)::bigint AS n FROM ONLY ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
    );
    out[tableKey(t.schema, t.table)] = Number(r.rows[0]?.['n'] ?? 0);
  }
  return out;
}

async function estimateRows(client: PgQueryable): Promise<Record<string, number>> {
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

interface ServerInfo {
  versionNum: number;
  version: string;
  sizeBytes: number;
  isSuperuser: boolean;
  props: DatabaseProperties;
}

async function readServerInfo(client: PgQueryable): Promise<ServerInfo> {
  const v =
    await client.query(`SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version,
       pg_database_size(current_database())::bigint AS size,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super`);
  const row = v.rows[0] ?? {};
  const d =
    await client.query(`SELECT to_jsonb(d) AS d, pg_encoding_to_char(d.encoding) AS encoding, pg_get_userbyid(d.datdba) AS owner,
       (SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings,
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
  };
  return {
    versionNum: Number(row['num']),
    version: String(row['version']),
    sizeBytes: Number(row['size']),
    isSuperuser: row['super'] === true,
    props,
  };
}

async function toolVersion(command: string, tool: PgTool): Promise<{ major: number; version: string }> {
  let out: string;
  try {
    out = (await runCapture({ command, args: ['--version'], missingHint: missingToolHint(tool) })).stdout;
  } catch (err) {
    if (err instanceof RespaldoError && /command not found/.test(err.message)) {
      throw new RespaldoError('failed', `${tool} not found (${command}).`, missingToolHint(tool), { command });
    }
    throw err;
  }
  const v = parseToolVersion(out);
  if (!v)
    throw new RespaldoError(
      'failed',
      `Cannot read the version of ${command} ("${out.trim()}").`,
      missingToolHint(tool),
    );
  return v;
}

async function commandDone<T>(
  p: Promise<T>,
  tool: PgTool,
  conn: PgConnection,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError();
    if (err instanceof CommandError) {
      const info = err.details as {
        command: string;
        exitCode: number | null;
        signal: string | null;
        stderrTail: string;
      };
      const ended = sessionEndedBy(info.stderrTail);
      const message = ended ? `${what}: ${ended.cause} (${err.message})` : `${what}: ${err.message}`;
      throw new CommandError(message, hintForStderr(info.stderrTail, { tool, conn }) ?? err.hint, info);
    }
    throw err;
  }
}

function killChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sessions (other than ours) on a database, as `user@client (pid N, app)`. */
async function sessionsOn(client: PgQueryable, database: string): Promise<string[]> {
  const r = await client.query(
    `SELECT pid, usename, client_addr::text AS addr, application_name AS app FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY pid`,
    [database],
  );
  return r.rows.map((row) => {
    const app = row['app'] ? `, ${String(row['app'])}` : '';
    return `${row['usename'] ?? '?'}@${row['addr'] ?? 'local'} (pid ${row['pid']}${app})`;
  });
}

async function terminateSessions(client: PgQueryable, database: string): Promise<number> {
  const r = await client.query(TERMINATE_SESSIONS_SQL, [database]);
  return r.rows.filter((row) => row['ok'] === true).length;
}

async function databaseNames(client: PgQueryable): Promise<Set<string>> {
  const r = await client.query('SELECT datname FROM pg_database');
  return new Set(r.rows.map((row) => String(row['datname'])));
}

async function dropDatabase(client: PgQueryable, name: string, serverVersionNum: number): Promise<void> {
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

function isInUse(err: unknown): boolean {
  return (err as PgErrorLike).code === '55006';
}

function checkDatabaseName(name: string, what: string): void {
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

/** Builds a postgres driver; `deps` lets tests replace the pg connection. */
export function createPostgresDriver(deps: PostgresDriverDeps = {}): Driver {
  const connect = deps.connect ?? defaultConnect;
  const jobs = deps.jobs ?? Math.max(2, Math.min(availableParallelism(), 8));
  const env = () => deps.env ?? process.env;

  async function open(conn: PgConnection, database: string, doing: string): Promise<PgQueryable> {
    try {
      return await connect(settingsFor(conn, database));
    } catch (err) {
      throw pgError(err, conn, database, doing);
    }
  }

  /** A connection to a database that is not one of `avoid` (for CREATE/ALTER/DROP DATABASE). */
  async function openMaintenance(
    conn: PgConnection,
    avoid: string[],
    doing: string,
  ): Promise<{ client: PgQueryable; database: string }> {
    const candidates = ['postgres', 'template1', conn.database].filter((d) => !avoid.includes(d));
    let lastErr: unknown;
    for (const database of candidates) {
      try {
        return { client: await connect(settingsFor(conn, database)), database };
      } catch (err) {
        lastErr = err;
        const code = (err as PgErrorLike).code;
        // Only a missing or forbidden maintenance database is worth another try.
        if (code !== '3D000' && code !== '42501' && code !== '28000') break;
      }
    }
    throw pgError(lastErr, conn, candidates[0] ?? conn.database, doing);
  }

  async function serverVersionNum(client: PgQueryable): Promise<number> {
    const r = await client.query(`SELECT current_setting('server_version_num')::int AS n`);
    return Number(r.rows[0]?.['n'] ?? 0);
  }

  const driver: Driver = {
    engine: 'postgres',
    types: ['full', 'schema'] as const,
    // Per table data file of a directory dump (postgres-chain.ts); custom-format dumps are always full.
    ...(deps.format === 'custom' ? {} : { chains: ['differential', 'incremental'] as const }),
    safety: 'renamed-database',
    capabilities: CAPABILITIES.postgres,
    // gzip -1, as `pg_dump -Fc -Z0 | gzip -1`: keeps up with pg_dump on two cores (about half the time of
    // pg_dump -Fc, 17 % larger; README, Performance). compression.level or compressionLevel trade time for size.
    defaultCompressionLevel: 1,

    validateConfig(db) {
      return validatePgConfig(db);
    },

    validateDrillServer(server: DrillServerConfig) {
      // The database part is not used (each drill names its scratch database): only the connection is checked.
      const entry: DatabaseConfig = { name: 'drill', engine: 'postgres', database: 'postgres', ...server };
      return validatePgConfig(entry).filter((p) => p.path !== 'database');
    },

    onDrillServer(db, server): DatabaseConfig {
      const { url: _url, host: _host, port: _port, user: _user, password: _password, ...rest } = db;
      return { ...rest, ...server, database: connectionOf(db).database, [ON_DRILL_SERVER]: true };
    },

    describe(db) {
      return describePg(db);
    },

    async backup(req, ctx): Promise<BackupSession> {
      // A differential or incremental stores only the data files whose bytes its base chain lacks.
      const delta = req.base ? await baseContents(req.base, ctx.signal) : undefined;
      const known = delta && 'known' in delta ? delta.known : undefined;
      const contents = new ChainMapRecorder();
      const conn = connectionOf(req.db);
      const secrets = conn.password ? [conn.password] : [];
      const type: BackupType = req.type;
      const client = await openForBackup(conn, req.db.name);
      const children = new Set<ChildProcess>();
      let clientEnded = false;
      const endClient = async () => {
        if (clientEnded) return;
        clientEnded = true;
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end().catch(() => undefined);
      };

      let info: ServerInfo;
      let dumpBin: string;
      let dumpVersion: { major: number; version: string };
      let dumpallBin: string | undefined;
      let dumpallVersion: { major: number; version: string } | undefined;
      try {
        try {
          info = await readServerInfo(client);
        } catch (err) {
          throw pgError(err, conn, conn.database, 'reading the server version');
        }
        const major = serverMajor(info.versionNum);
        dumpBin = await resolveTool('pg_dump', req.db);
        dumpVersion = await toolVersion(dumpBin, 'pg_dump');
        const old = clientTooOld('pg_dump', dumpVersion.major, major);
        if (old)
          throw new RespaldoError(
            'failed',
            `Database ${req.db.name}: ${old} (${dumpBin} is ${dumpVersion.version}, the server is ${info.version}).`,
            missingToolHint('pg_dump'),
          );
        if (req.db.globals) {
          dumpallBin = await resolveTool('pg_dumpall', req.db);
          dumpallVersion = await toolVersion(dumpallBin, 'pg_dumpall');
          const oldAll = clientTooOld('pg_dumpall', dumpallVersion.major, major);
          if (oldAll)
            throw new RespaldoError('failed', `Database ${req.db.name}: ${oldAll}`, missingToolHint('pg_dumpall'));
        }
      } catch (err) {
        await endClient();
        throw err;
      }
      ctx.log('postgres backup', { server: info.version, pgDump: dumpVersion.version, sizeBytes: info.sizeBytes });

      const baseDetails = {
        host: conn.host ?? null,
        port: conn.port ?? 5432,
        database: conn.database,
        user: conn.user ?? null,
        serverVersion: info.version,
        serverVersionNum: info.versionNum,
        pgDumpVersion: dumpVersion.version,
        databaseSizeBytes: info.sizeBytes,
        properties: info.props,
      };

      const lockWait = lockWaitTimeout(req.db.lockWaitTimeout) ?? undefined;
      /**
       * Opens the read-only repeatable-read transaction whose snapshot pg_dump (and the row counts)
       * share; row counts wait for table locks no longer than pg_dump does. Without a snapshot the dump
       * still runs, with a warning saying `without` what.
       */
      const exportSnapshot = async (without: string): Promise<string | undefined> => {
        try {
          await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
          if (lockWait) await client.query(`SET LOCAL lock_timeout = ${quoteLiteral(lockWait)}`);
          const r = await client.query('SELECT pg_export_snapshot() AS s');
          return String(r.rows[0]?.['s']);
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (clientEnded) throw pgError(err, conn, conn.database, 'starting the dump');
          const message = `cannot export a snapshot (${(err as Error).message}); ${without}`;
          ctx.reporter.emit({ type: 'warning', item: req.db.name, message });
          return undefined;
        }
      };
      const customMain: DumpPart = {
        role: 'main',
        format: 'pg-custom',
        extension: 'dump',
        compress: true,
        async open(): Promise<OpenedDump> {
          const snapshot = await exportSnapshot('row counts are estimates');
          const args = pgDumpArgs({ conn, type, snapshot, lockWaitTimeout: lockWait });
          const child: StreamingChild = spawnStreaming({
            command: dumpBin,
            args,
            env: childEnv(conn),
            secrets,
            signal: ctx.signal,
            missingHint: missingToolHint('pg_dump'),
          });
          children.add(child.child);
          type Counted = {
            tables: Record<string, number> | null;
            relations: Relation[];
            partitioned: Relation[];
            mode: string;
          };
          const counting: Promise<Counted> = (async () => {
            const tables = await listTables(client);
            // The OID finds the table in the dump's TOC (postgres-toc.ts) even when names are ambiguous.
            const relations = tables.map((t): Relation => [t.schema, t.table, t.oid ?? 0]);
            const partitioned = await listPartitioned(client);
            if (type === 'schema') return { tables: null, relations, partitioned, mode: 'none (schema only)' };
            if (snapshot) return { tables: await countRows(client, tables), relations, partitioned, mode: 'exact' };
            return { tables: await estimateRows(client), relations, partitioned, mode: 'estimate' };
          })();
          counting.catch(() => undefined);
          const finished = (async (): Promise<DumpFacts> => {
            try {
              await commandDone(child.done, 'pg_dump', conn, `pg_dump of ${req.db.name} failed`, ctx.signal);
              let counted: Awaited<typeof counting>;
              try {
                counted = await counting;
              } catch (err) {
                throw pgError(err, conn, conn.database, 'counting rows');
              }
              return {
                tables: counted.tables,
                details: {
                  ...baseDetails,
                  rowCounts: counted.mode,
                  snapshot: Boolean(snapshot),
                  relations: counted.relations,
                  partitionedTables: counted.partitioned,
                  type,
                },
              };
            } finally {
              children.delete(child.child);
              await endClient();
            }
          })();
          finished.catch(() => undefined);
          return { stream: child.stdout, finished };
        },
      };

      const directoryMain: DumpPart = {
        role: 'main',
        format: 'pg-directory',
        extension: 'toc.dat',
        compress: true,
        async open(): Promise<OpenedDump> {
          return openDirectoryDump();
        },
      };

      /**
       * `pg_dump -Fd --jobs` from the exported snapshot into the scratch folder; each table's data file
       * is handed to the engine as soon as pg_dump reports it finished (stored, then deleted here), its
       * rows counted from its lines; the other files follow at the end, `toc.dat` last (the main stream).
       */
      async function openDirectoryDump(): Promise<OpenedDump> {
        const snapshot = await exportSnapshot('pg_dump runs with one job');
        const restoreBin = await resolveTool('pg_restore', req.db);
        await mkdir(ctx.scratchDir, { recursive: true, mode: 0o700 });
        const dir = join(ctx.scratchDir, 'pg-directory');
        await rm(dir, { recursive: true, force: true });
        // Without a snapshot of ours, parallel workers could see different data: one job then.
        const dumpJobs = snapshot ? jobs : 1;
        const args = pgDumpDirArgs({ conn, type, dir, jobs: dumpJobs, snapshot, lockWaitTimeout: lockWait });
        const child: StreamingChild = spawnStreaming({
          command: dumpBin,
          args,
          env: childEnv(conn),
          secrets,
          signal: ctx.signal,
          missingHint: missingToolHint('pg_dump'),
        });
        children.add(child.child);
        child.stdout.resume();

        const queue: string[] = [];
        const handed = new Set<string>(['toc.dat']);
        const rows = new Map<string, RowCounter>();
        let wake: (() => void) | undefined;
        let ended = false;
        let failure: unknown;
        const push = (name: string) => {
          if (handed.has(name) || !DUMP_FILE_NAME.test(name)) return;
          handed.add(name);
          queue.push(name);
          wake?.();
        };
        let partial = '';
        child.child.stderr?.on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            const file = finishedDataItem(line);
            if (file) push(file);
          }
        });
        const member = (name: string): DumpMember => ({
          name,
          role: `${MEMBER_ROLE}${name}`,
          open() {
            const counter = new RowCounter();
            if (/^\d+\.dat$/.test(name)) rows.set(name, counter);
            return hashedRead(join(dir, name), counter, (sha256, bytes) => contents.stored(name, sha256, bytes));
          },
          async stored() {
            await rm(join(dir, name), { force: true });
          },
        });
        /** Delta: hashes a finished file (counting its rows); when the base chain stores its bytes, refers to them. */
        const unchanged = async (name: string): Promise<boolean> => {
          const counter = new RowCounter();
          const { sha256, bytes } = await hashFile(join(dir, name), counter, ctx.signal);
          if (/^\d+\.dat$/.test(name)) rows.set(name, counter);
          const ref = known!.get(sha256);
          if (!ref) return false;
          contents.referenced(name, sha256, bytes, ref);
          await rm(join(dir, name), { force: true });
          return true;
        };
        async function* members(): AsyncGenerator<DumpMember> {
          for (;;) {
            const next = queue.shift();
            if (next !== undefined) {
              if (!(known && (await unchanged(next)))) yield member(next);
              continue;
            }
            if (failure !== undefined) throw failure;
            if (ended) return;
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        }

        const listing = (async () => {
          const tables = await listTables(client);
          return { tables, partitioned: await listPartitioned(client) };
        })();
        listing.catch(() => undefined);
        const toc = new PassThrough();
        const dumped = (async () => {
          try {
            await commandDone(child.done, 'pg_dump', conn, `pg_dump of ${req.db.name} failed`, ctx.signal);
            for (const name of (await readdir(dir)).sort()) push(name);
          } catch (err) {
            failure = err;
            toc.destroy(err as Error);
            throw err;
          } finally {
            children.delete(child.child);
            ended = true;
            wake?.();
          }
          pipeline(createReadStream(join(dir, 'toc.dat')), toc).catch(() => undefined);
        })();
        dumped.catch(() => undefined);

        let markConsumed: () => void = () => undefined;
        const consumed = new Promise<void>((resolve) => (markConsumed = resolve));
        const finished = (async (): Promise<DumpFacts> => {
          try {
            await dumped;
            let listed: Awaited<typeof listing>;
            try {
              listed = await listing;
            } catch (err) {
              throw pgError(err, conn, conn.database, 'listing the tables');
            }
            const relations = listed.tables.map((t): Relation => [t.schema, t.table, t.oid ?? 0]);
            let tables: Record<string, number> | null = null;
            if (type !== 'schema') {
              // Which data file holds which table: the dump's own table of contents (TABLE DATA ids → OIDs).
              const list = await commandDone(
                runCapture({
                  command: restoreBin,
                  args: [...pgRestoreListArgs(), dir],
                  env: childEnv(conn),
                  secrets,
                  signal: ctx.signal,
                  missingHint: missingToolHint('pg_restore'),
                }),
                'pg_restore',
                conn,
                `reading the table of contents of ${req.db.name} failed`,
                ctx.signal,
              );
              const fileOf = new Map<number, string>();
              for (const e of parseTocList(list.stdout)) if (e.desc === 'TABLE DATA') fileOf.set(e.oid, `${e.id}.dat`);
              // The engine reads every member before `finished` settles the entry; wait for the counts.
              await consumed;
              tables = {};
              const missing: TableRef[] = [];
              for (const t of listed.tables) {
                const counter = rows.get(fileOf.get(t.oid ?? -1) ?? '');
                if (counter) tables[tableKey(t.schema, t.table)] = counter.rows;
                else missing.push(t);
              }
              // Tables whose data pg_dump did not write (none in practice): counted in the snapshot.
              if (missing.length > 0) {
                try {
                  Object.assign(
                    tables,
                    snapshot
                      ? await countRows(client, missing)
                      : Object.fromEntries(missing.map((t) => [tableKey(t.schema, t.table), 0])),
                  );
                } catch (err) {
                  throw pgError(err, conn, conn.database, 'counting rows');
                }
              }
            }
            return {
              tables,
              details: {
                ...baseDetails,
                rowCounts: type === 'schema' ? 'none (schema only)' : 'exact',
                rowCountsFrom: 'dump',
                snapshot: Boolean(snapshot),
                jobs: dumpJobs,
                ...(known ? { base: req.base!.setId, unchangedFiles: contents.references.files } : {}),
                ...(known ? { unchangedBytes: contents.references.bytes } : {}),
                relations,
                partitionedTables: listed.partitioned,
                type,
              },
            };
          } finally {
            await endClient();
          }
        })();
        finished.catch(() => undefined);
        async function* tracked(): AsyncGenerator<DumpMember> {
          try {
            yield* members();
          } finally {
            markConsumed();
          }
        }
        return { stream: toc, finished, members: tracked() };
      }

      const parts: DumpPart[] = [deps.format === 'custom' ? customMain : directoryMain];
      if (deps.format !== 'custom' && type !== 'schema') parts.push(chainMapPart(contents));
      if (req.db.globals && dumpallBin && dumpallVersion) {
        const bin = dumpallBin;
        const version = dumpallVersion;
        parts.push({
          role: 'globals',
          format: 'pg-globals-sql',
          extension: 'sql',
          compress: true,
          async open(): Promise<OpenedDump> {
            const rolePasswords = info.isSuperuser;
            if (!rolePasswords) {
              ctx.reporter.emit({
                type: 'warning',
                item: req.db.name,
                message: 'globals stored without role passwords (the configured user is not a superuser)',
              });
            }
            const child = spawnStreaming({
              command: bin,
              args: pgDumpallGlobalsArgs({ conn, rolePasswords }),
              env: childEnv(conn),
              secrets,
              signal: ctx.signal,
              missingHint: missingToolHint('pg_dumpall'),
            });
            children.add(child.child);
            const finished = (async (): Promise<DumpFacts> => {
              try {
                await commandDone(
                  child.done,
                  'pg_dumpall',
                  conn,
                  `pg_dumpall --globals-only for ${req.db.name} failed`,
                  ctx.signal,
                );
                return { tables: null, details: { pgDumpallVersion: version.version, rolePasswords } };
              } finally {
                children.delete(child.child);
              }
            })();
            finished.catch(() => undefined);
            return { stream: child.stdout, finished };
          },
        });
      }

      return {
        parts,
        ...(delta && 'fellBack' in delta ? { fellBack: delta.fellBack } : {}),
        async cleanup() {
          for (const c of children) killChild(c);
          children.clear();
          await endClient();
        },
      };
    },

    planRestore(req) {
      return planPgRestore(req);
    },

    async inspectTarget(db, target: RestoreTarget): Promise<TargetState> {
      const conn = connectionOf(db);
      const name = target.kind === 'in-place' ? conn.database : target.name;
      const { client } = await openMaintenance(conn, [name], 'inspecting the restore target');
      try {
        const names = await databaseNames(client);
        if (!names.has(name)) return { exists: false, sizeBytes: null, inUseBy: [] };
        let sizeBytes: number | null = null;
        try {
          const r = await client.query('SELECT pg_database_size($1::name)::bigint AS n', [name]);
          sizeBytes = Number(r.rows[0]?.['n']);
        } catch {
          sizeBytes = null;
        }
        return { exists: true, sizeBytes, inUseBy: await sessionsOn(client, name) };
      } catch (err) {
        throw pgError(err, conn, name, 'inspecting the restore target');
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async restore(req, ctx): Promise<RestoreResult> {
      const stageDir = stageDirOf(req, ctx);
      try {
        return await restorePg(req, ctx, stageDir);
      } finally {
        if (req.entry.format === 'pg-directory') await rm(stageDir, { recursive: true, force: true });
      }
    },

    async recover(db, ctx): Promise<string[]> {
      const conn = connectionOf(db);
      const live = conn.database;
      const { client } = await openMaintenance(conn, [live], 'looking for interrupted restores');
      const actions: string[] = [];
      try {
        const versionNum = await serverVersionNum(client);
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
    },

    async findLeftovers(db): Promise<string[]> {
      const conn = connectionOf(db);
      const { client } = await openMaintenance(conn, [conn.database], 'looking for what interrupted restores left');
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
    },

    async swapBack(req, ctx): Promise<RestoreResult> {
      return swapBackPg(req, ctx);
    },

    scratchName(db, setId): string {
      return derivedName(connectionOf(db).database, 'drill', setId);
    },

    async dropScratch(db, name): Promise<void> {
      const conn = connectionOf(db);
      if (parseDerivedName(conn.database, name)?.kind !== 'drill') {
        throw new RefusedError(
          `"${name}" is not a drill's scratch database of "${conn.database}"; refusing to drop it.`,
          `Only databases named ${conn.database}__drill_<set id> are dropped by a drill.`,
        );
      }
      const { client } = await openMaintenance(conn, [name], "dropping a drill's scratch database");
      try {
        await dropDatabase(client, name, await serverVersionNum(client));
      } catch (err) {
        throw pgError(err, conn, name, "dropping a drill's scratch database");
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async drillChecks(db, restoredTo, ctx): Promise<DrillCheck[]> {
      return [await amcheckScratch(db, restoredTo, ctx)];
    },

    async dropSafetyCopy(db, name): Promise<void> {
      const conn = connectionOf(db);
      const parsed = parseDerivedName(conn.database, name);
      if (!parsed || parsed.kind !== 'pre_restore' || name === conn.database) {
        throw new RefusedError(
          `"${name}" is not a safety copy of database "${conn.database}"; refusing to drop it.`,
          `Only databases named ${conn.database}__pre_restore_<set id> are dropped by respaldo.`,
        );
      }
      const { client } = await openMaintenance(conn, [name], 'dropping a safety copy');
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
    },
  };

  /**
   * Connects to the live database for a backup. When it does not exist because a restore was cut
   * during its swap, says so and how to finish it instead of a bare "does not exist".
   */
  async function openForBackup(conn: PgConnection, dbName: string): Promise<PgQueryable> {
    try {
      return await connect(settingsFor(conn, conn.database));
    } catch (err) {
      if ((err as PgErrorLike).code === '3D000') {
        let found: ReturnType<typeof describeLeftovers> | undefined;
        try {
          const { client } = await openMaintenance(conn, [conn.database], 'looking for an interrupted restore');
          try {
            found = describeLeftovers(conn.database, dbName, [...(await databaseNames(client))]);
          } finally {
            await client.end().catch(() => undefined);
          }
        } catch {
          found = undefined;
        }
        if (found?.liveMissing) {
          const message =
            `PostgreSQL at ${where(conn)}: database "${conn.database}" does not exist ` +
            'because a restore was interrupted.';
          throw new RespaldoError('failed', message, found.lines.join(' '));
        }
      }
      throw pgError(err, conn, conn.database, 'connecting for the backup');
    }
  }

  /** The rollback of an in-place restore: the kept safety database takes the live name again (one transaction). */
  async function swapBackPg(req: SwapBackRequest, ctx: DriverContext): Promise<RestoreResult> {
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
    const { client: admin } = await openMaintenance(conn, [live, safety, newSafety], 'rolling back a restore');
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
      const doing = liveExists ? `swapping "${safety}" back in as "${live}"` : `renaming "${safety}" to "${live}"`;
      ctx.reporter.emit({ type: 'item-progress', item, bytes: 0, message: doing });
      for (let attempt = 0; ; attempt++) {
        for (const name of watched) {
          const sessions = await sessionsOn(admin, name);
          if (sessions.length === 0) continue;
          if (!req.terminateConnections) throw refusedSessions(name, sessions);
          const n = await terminateSessions(admin, name);
          ctx.log('terminated sessions', { database: name, count: n });
          const message = `terminated ${n} session(s) on "${name}": ${sessions.join(', ')}`;
          ctx.reporter.emit({ type: 'warning', item, message });
        }
        if (ctx.signal.aborted) {
          throw new InterruptedError('Rollback interrupted before the swap; both databases keep their names.');
        }
        try {
          for (const sql of swapBackSql(live, safety, liveExists ? newSafety : null)) await admin.query(sql);
          break;
        } catch (err) {
          await admin.query('ROLLBACK').catch(() => undefined);
          if (!isInUse(err) || attempt >= 20) {
            if (isInUse(err)) {
              const busy = [...(await sessionsOn(admin, live)), ...(await sessionsOn(admin, safety))];
              throw refusedSessions(`${live}" or "${safety}`, busy);
            }
            throw err;
          }
          await sleep(250);
        }
      }
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

  /** pg_amcheck of a drill's scratch database, when the amcheck extension can be created in it. */
  async function amcheckScratch(db: DatabaseConfig, scratch: string, ctx: DriverContext): Promise<DrillCheck> {
    const conn = connectionOf(db);
    const client = await open(conn, scratch, 'preparing pg_amcheck');
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
    } catch (err) {
      const why = `the amcheck extension cannot be created here (${(err as Error).message})`;
      return { name: 'pg_amcheck', ok: true, skipped: why };
    } finally {
      await client.end().catch(() => undefined);
    }
    const bin = await resolveTool('pg_amcheck', db);
    const secrets = conn.password ? [conn.password] : [];
    const spec = { command: bin, args: pgAmcheckArgs({ conn, database: scratch }), env: childEnv(conn), secrets };
    try {
      await runCapture({ ...spec, signal: ctx.signal, missingHint: missingToolHint('pg_amcheck') });
      return { name: 'pg_amcheck', ok: true, detail: 'heap and B-tree indexes: no corruption' };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (err instanceof RespaldoError && /not found|ENOENT/i.test(err.message)) {
        return { name: 'pg_amcheck', ok: true, skipped: `pg_amcheck is not installed (${err.message})` };
      }
      const tail = String((err as RespaldoError).details?.['stderrTail'] ?? (err as Error).message).trim();
      return { name: 'pg_amcheck', ok: false, detail: tail.split('\n').slice(-5).join('\n') };
    }
  }

  /** Scratch folder where the files of a directory dump are staged for pg_restore. */
  function stageDirOf(req: Pick<RestoreRequest, 'db' | 'setId'>, ctx: DriverContext): string {
    // Unique per restore: a killed run in the same scratch folder must not collide with the next one.
    return join(ctx.scratchDir, `pg-directory-${req.db.name}-${req.setId}-${randomBytes(4).toString('hex')}`);
  }

  async function resolveTool(tool: PgTool, db: DatabaseConfig): Promise<string> {
    return toolPath(tool, db, env());
  }

  async function restorePg(req: RestoreRequest, ctx: DriverContext, stageDir: string): Promise<RestoreResult> {
    const conn = connectionOf(req.db);
    const live = conn.database;
    const item = req.db.name;
    const secrets = conn.password ? [conn.password] : [];
    const staging = restoreDbName(live, req.setId);
    const directory = req.entry.format === 'pg-directory';
    const details = req.entry.details ?? {};
    const recorded = Object.keys(req.entry.tables ?? {});
    let selection: TableRef[] | undefined;
    if (req.tables && req.tables.length > 0) {
      if (req.target.kind === 'in-place') {
        throw new RefusedError(
          'Restoring selected tables never replaces the live database.',
          `Give a new database name to restore them into (--to ${live}_tables).`,
        );
      }
      try {
        const recordedParents = details['partitionedTables'];
        const partitioned = Array.isArray(recordedParents) ? (recordedParents as Relation[]) : ('unknown' as const);
        const relations = details['relations'] as Relation[] | undefined;
        selection = resolveTables(req.tables, { keys: recorded, relations, partitioned });
      } catch (err) {
        throw new RespaldoError(
          'usage',
          `Database ${item}: ${(err as Error).message}.`,
          `Tables in this backup: ${recorded.slice(0, 20).join(', ')}${recorded.length > 20 ? ', …' : ''}`,
        );
      }
    }
    const finalName = req.target.kind === 'in-place' ? live : req.target.name;
    checkDatabaseName(finalName, `Restore of ${item}`);
    const derivedTarget = parseDerivedName(live, finalName);
    const drillScratch = req.target.kind === 'side-by-side' && req.target.scratch && derivedTarget?.kind === 'drill';
    if (req.target.kind === 'side-by-side' && (finalName === live || (derivedTarget && !drillScratch))) {
      throw new RefusedError(
        `"${finalName}" cannot be the side-by-side target of ${item}.`,
        'Choose a new name that is neither the live database nor a respaldo temporary or safety name.',
      );
    }

    const restoreBin = await resolveTool('pg_restore', req.db);
    const restoreVersion = await toolVersion(restoreBin, 'pg_restore');
    const dumpedWith = parseToolVersion(`(PostgreSQL) ${String(details['pgDumpVersion'] ?? '')}`);
    if (dumpedWith && restoreVersion.major < dumpedWith.major) {
      throw new RespaldoError(
        'failed',
        `pg_restore ${restoreVersion.version} cannot read a dump made by pg_dump ${dumpedWith.version}.`,
        missingToolHint('pg_restore'),
      );
    }

    // Selected tables: decided from the dump's table of contents before anything is created.
    let picked: TocSelection | undefined;
    if (selection) {
      progress('reading the table of contents of the dump');
      picked = await selectFromToc(selection);
    }

    const { client: admin } = await openMaintenance(conn, [live, staging, finalName], 'preparing the restore');
    let created = false;
    let versionNum = 0;
    let createdRoles: string[] = [];
    try {
      versionNum = await serverVersionNum(admin);
      const names = await databaseNames(admin);
      const liveExists = names.has(live);
      const safetyName = preRestoreDbName(live, req.setId);
      if (req.target.kind === 'in-place' && liveExists) {
        if (names.has(safetyName)) {
          throw new RefusedError(
            `A safety copy "${safetyName}" from an earlier restore of this set already exists.`,
            `Delete that pre_restore set (respaldo list; respaldo delete <id>) or drop "${safetyName}" once you no longer need it, then restore again.`,
          );
        }
        const sessions = await sessionsOn(admin, live);
        if (sessions.length > 0 && !req.terminateConnections) throw refusedSessions(live, sessions);
      }
      if (req.target.kind === 'side-by-side' && names.has(finalName)) {
        throw new RefusedError(
          `Database "${finalName}" already exists; a side-by-side restore never replaces anything.`,
          'Choose another name with --to, or drop that database first.',
        );
      }
      if (names.has(staging)) {
        ctx.log('dropping stale staging database', { staging });
        ctx.reporter.emit({
          type: 'warning',
          item,
          message: `dropping "${staging}" left by an earlier interrupted restore`,
        });
        await dropDatabase(admin, staging, versionNum);
      }

      if (req.createRoles) createdRoles = await createMissingRoles(admin);

      const props = details['properties'] as DatabaseProperties | undefined;
      progress(`creating "${staging}"`);
      await admin.query(createDatabaseSql(staging, props));
      created = true;

      let counts: Record<string, number>;
      {
        let listFile: string | undefined;
        if (picked) {
          for (const p of picked.parents)
            ctx.reporter.emit({
              type: 'info',
              message: `${item}: also restored ${p} (a selected table is its partition or child)`,
            });
          for (const p of picked.partitions) {
            const message = `${item}: also restored partition ${p.schema}.${p.table} (of a selected partitioned table)`;
            ctx.reporter.emit({ type: 'info', message });
            if (!selection!.some((x) => x.schema === p.schema && x.table === p.table)) selection!.push(p);
          }
          for (const s of picked.skipped) ctx.reporter.emit({ type: 'warning', item, message: `not restored: ${s}` });
          await mkdir(ctx.scratchDir, { recursive: true, mode: 0o700 });
          listFile = join(ctx.scratchDir, `${item}.${req.setId}.restore-list`);
          await writeFile(listFile, picked.list, { mode: 0o600 });
        }
        try {
          if (directory) await runDirectoryRestore(listFile);
          else await runRestore(pgRestoreArgs({ conn, database: staging, listFile }));
        } finally {
          if (listFile) await rm(listFile, { force: true });
        }

        progress('checking row counts');
        const c = await open(conn, staging, 'checking the restored database');
        try {
          const all = await listTables(c);
          const wanted = selection
            ? all.filter((t) => selection!.some((s) => s.schema === t.schema && s.table === t.table))
            : all;
          counts = await countRows(c, wanted);
        } finally {
          await c.end().catch(() => undefined);
        }
        const problems = compareCounts(req.entry.tables, counts, details['rowCounts'], selection);
        if (problems.length > 0) {
          throw new RespaldoError(
            'failed',
            `Database ${item}: the restored copy does not match the backup (${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}).`,
            'Nothing was replaced. Verify the set (respaldo verify) and try an older set.',
          );
        }
        // Last, so the checks above still connect under the default privileges.
        if (!selection) {
          const roles = new Set(
            (await admin.query('SELECT rolname FROM pg_roles')).rows.map((r) => String(r['rolname'])),
          );
          const { statements, skipped } = databasePropertiesSql(staging, props, roles);
          for (const sql of statements) {
            try {
              await admin.query(sql);
            } catch (err) {
              ctx.reporter.emit({
                type: 'warning',
                item,
                message: `database property not restored (${sql.replace(quoteIdent(staging), quoteIdent(finalName))}): ${(err as Error).message}`,
              });
            }
          }
          for (const s of skipped)
            ctx.reporter.emit({ type: 'warning', item, message: `database property not restored: ${s}` });
        }
      }

      if (ctx.signal.aborted)
        throw new InterruptedError('Restore interrupted before the swap; the live database was not changed.');
      // Swap.
      if (req.target.kind === 'side-by-side' || !liveExists) {
        const latest = await databaseNames(admin);
        if (latest.has(finalName))
          throw new RefusedError(
            `Database "${finalName}" appeared while restoring; not replacing it.`,
            'Choose another name and restore again.',
          );
        await admin.query(renameDatabaseSql(staging, finalName));
        created = false;
        ctx.log('restored', { database: finalName });
        return { tables: counts, restoredTo: finalName };
      }

      progress(`swapping "${live}" and "${staging}"`);
      const swap = planPgSwap(live, staging, safetyName);
      for (let attempt = 0; ; attempt++) {
        const sessions = await sessionsOn(admin, live);
        if (sessions.length > 0) {
          if (!req.terminateConnections) throw refusedSessions(live, sessions);
          const n = await terminateSessions(admin, live);
          ctx.log('terminated sessions', { database: live, count: n });
          ctx.reporter.emit({
            type: 'warning',
            item,
            message: `terminated ${n} session(s) on "${live}": ${sessions.join(', ')}`,
          });
        }
        try {
          await admin.query(swap.setAside);
          break;
        } catch (err) {
          if (!isInUse(err) || attempt >= 20) {
            if (isInUse(err)) throw refusedSessions(live, await sessionsOn(admin, live));
            throw err;
          }
          await sleep(250);
        }
      }
      try {
        await admin.query(swap.swapIn);
      } catch (err) {
        try {
          await admin.query(swap.undo);
        } catch (back) {
          // Both renames failed: say where everything is; drop nothing (the restored copy may be wanted).
          created = false;
          throw new RespaldoError(
            'failed',
            `Database ${item}: the live database was renamed to "${safetyName}", but neither the restored copy "${staging}" nor the original could take the name "${live}" (${(err as Error).message}; ${(back as Error).message}). Nothing was dropped.`,
            `Applications see no "${live}" now. Put the original back by hand: ${swap.undo}; (or use the restored copy: ${swap.swapIn};). The next restore also completes or rolls back this swap.`,
          );
        }
        throw err;
      }
      created = false;
      ctx.log('restored in place', { database: live, safety: safetyName });
      return { safetyDatabase: safetyName, tables: counts, restoredTo: live };
    } catch (err) {
      if (created) {
        await dropDatabase(admin, staging, versionNum).catch((e: unknown) => {
          ctx.reporter.emit({ type: 'warning', item, message: `could not drop "${staging}": ${(e as Error).message}` });
        });
      }
      for (const sql of dropCreatedRolesSql(createdRoles)) {
        await admin.query(sql).catch((e: unknown) => {
          ctx.reporter.emit({
            type: 'warning',
            item,
            message: `could not drop a role created for this restore (${sql}): ${(e as Error).message}`,
          });
        });
      }
      if (ctx.signal.aborted) throw new InterruptedError('Restore interrupted; the live database was not changed.');
      const globals = req.entry.extras?.find((x) => x.role === 'globals');
      if (
        err instanceof CommandError &&
        globals &&
        !req.createRoles &&
        /role "[^"]*" does not exist/.test(err.message)
      ) {
        throw new CommandError(
          err.message,
          'The backup needs roles this server lacks, and this set stored them: restore again with --create-roles (only missing roles are created; existing ones are not changed).',
          err.details as { command: string; exitCode: number | null; signal: string | null; stderrTail: string },
        );
      }
      throw pgError(err, conn, live, 'restoring');
    } finally {
      await admin.end().catch(() => undefined);
    }

    function progress(message: string, bytes = 0): void {
      ctx.reporter.emit({
        type: 'item-progress',
        item,
        bytes,
        ...(req.entry.rawBytes ? { totalBytes: req.entry.rawBytes } : {}),
        message,
      });
    }

    /** Creates, in one transaction, the stored roles this server lacks; returns their names. */
    async function createMissingRoles(client: PgQueryable): Promise<string[]> {
      if (!req.entry.extras?.some((x) => x.role === 'globals')) {
        throw new RespaldoError(
          'usage',
          `Set ${req.setId} stored no roles for ${item} ("globals" was not enabled when it was made).`,
          'Create the roles by hand (CREATE ROLE …), then restore again without --create-roles.',
        );
      }
      progress('creating missing roles');
      const sql = await text(req.openPart('globals')); // decodes across chunk boundaries (multi-byte role names)
      const existing = new Set(
        (await client.query('SELECT rolname FROM pg_roles')).rows.map((r) => String(r['rolname'])),
      );
      const plan = planMissingRoles(parseGlobals(sql), existing);
      for (const note of plan.skipped) ctx.reporter.emit({ type: 'warning', item, message: note });
      if (plan.create.length === 0) return [];
      await client.query('BEGIN');
      try {
        for (const statement of plan.statements) await client.query(statement);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new RespaldoError(
          'failed',
          `Creating the roles of ${item} failed: ${(err as Error).message}. No role was created and nothing was restored.`,
          'The configured user needs CREATEROLE (SUPERUSER for superuser or replication roles); or create the roles by hand and restore without --create-roles.',
        );
      }
      for (const r of plan.create)
        ctx.reporter.emit({ type: 'info', message: `${item}: created role ${quoteIdent(r.name)} (${r.summary})` });
      ctx.log('created roles', { roles: plan.create.map((r) => r.name) });
      return plan.create.map((r) => r.name);
    }

    /** The `--use-list` selection of the chosen tables, from the dump's own table of contents. */
    /** Writes the stored files of a directory dump (`toc.dat`, or all) into the scratch folder for pg_restore. */
    async function stageDirectory(which: 'toc' | 'data'): Promise<void> {
      await mkdir(stageDir, { recursive: true, mode: 0o700 });
      if (which === 'toc') {
        await pipeline(req.openPart(), createWriteStream(join(stageDir, 'toc.dat'), { flags: 'wx', mode: 0o600 }), {
          signal: ctx.signal,
        });
        return;
      }
      if (isChainEntry(req.entry)) {
        await stageChainFiles(req, stageDir, jobs, ctx.signal, (n) => progress('assembling the chain', n));
        return;
      }
      const names: string[] = [];
      for (const x of req.entry.extras ?? []) {
        if (!x.role?.startsWith(MEMBER_ROLE)) continue;
        const name = x.role.slice(MEMBER_ROLE.length);
        if (!DUMP_FILE_NAME.test(name) || name === 'toc.dat') {
          throw new RespaldoError(
            'failed',
            `Database ${item}: the manifest names an unexpected dump file ${JSON.stringify(name)}.`,
            'Nothing was replaced. Verify the set (respaldo verify) and try an older set.',
          );
        }
        names.push(name);
      }
      let bytes = 0;
      let last = Date.now();
      const queue = [...names];
      const worker = async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
          const source = req.openPart(`${MEMBER_ROLE}${name}`);
          source.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (Date.now() - last > 1000) {
              last = Date.now();
              progress('decompressing the dump', bytes);
            }
          });
          await pipeline(
            source,
            createWriteStream(join(stageDir, name), { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 }),
            { signal: ctx.signal },
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, names.length)) }, worker));
    }

    /** `pg_restore --jobs` of the staged directory dump into the staging database. */
    async function runDirectoryRestore(listFile: string | undefined): Promise<void> {
      progress('decompressing the dump');
      if (!picked) await stageDirectory('toc');
      await stageDirectory('data');
      progress(`pg_restore --jobs=${jobs} into "${staging}"`);
      const args = pgRestoreDirArgs({ conn, database: staging, dir: stageDir, jobs, listFile });
      const child = spawnStreaming({
        command: restoreBin,
        args,
        env: childEnv(conn),
        secrets,
        signal: ctx.signal,
        missingHint: missingToolHint('pg_restore'),
      });
      child.stdout.resume();
      await commandDone(child.done, 'pg_restore', conn, `pg_restore of ${item} failed`, ctx.signal);
      progress('restored', req.entry.rawBytes);
    }

    async function selectFromToc(tables: TableRef[]): Promise<TocSelection> {
      if (directory) {
        await stageDirectory('toc');
        const run = runCapture({
          command: restoreBin,
          args: [...pgRestoreListArgs(), stageDir],
          env: childEnv(conn),
          secrets,
          signal: ctx.signal,
          missingHint: missingToolHint('pg_restore'),
        });
        const listed = await commandDone(
          run,
          'pg_restore',
          conn,
          `reading the table of contents of ${item} failed`,
          ctx.signal,
        );
        return pickTables(listed.stdout, tables);
      }
      const child = spawnStreaming({
        command: restoreBin,
        args: pgRestoreListArgs(),
        env: childEnv(conn),
        secrets,
        signal: ctx.signal,
        stdin: 'pipe',
        missingHint: missingToolHint('pg_restore'),
      });
      let text = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => {
        text += c;
      });
      // pg_restore stops reading after the table of contents: a closed pipe is expected.
      const feeding = pipeline(req.openPart(), child.child.stdin!).catch(() => undefined);
      await Promise.all([
        commandDone(child.done, 'pg_restore', conn, `reading the table of contents of ${item} failed`, ctx.signal),
        feeding,
      ]);
      return pickTables(text, tables);
    }

    function pickTables(text: string, tables: TableRef[]): TocSelection {
      try {
        return selectTables(parseTocList(text), tables);
      } catch (err) {
        if (err instanceof TocSelectionError)
          throw new RespaldoError(
            'usage',
            `Database ${item}: ${err.message}.`,
            `Nothing was changed. \`respaldo show ${req.setId}\` lists the tables of this backup; or restore the whole database beside the live one with --to.`,
          );
        throw err;
      }
    }

    async function runRestore(args: string[]): Promise<void> {
      progress(`pg_restore into "${staging}"`);
      const child = spawnStreaming({
        command: restoreBin,
        args,
        env: childEnv(conn),
        secrets,
        signal: ctx.signal,
        stdin: 'pipe',
        missingHint: missingToolHint('pg_restore'),
      });
      const source: Readable = req.openPart();
      let bytes = 0;
      let last = Date.now();
      source.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (Date.now() - last > 1000) {
          last = Date.now();
          progress('restoring', bytes);
        }
      });
      const feeding = pipeline(source, child.child.stdin!);
      const [fed, done] = await Promise.allSettled([
        feeding,
        commandDone(child.done, 'pg_restore', conn, `pg_restore of ${item} failed`, ctx.signal),
      ]);
      if (done.status === 'rejected') throw done.reason;
      // pg_restore may stop reading once it has what it needs (selected tables): a closed pipe is fine then.
      const code = fed.status === 'rejected' ? (fed.reason as NodeJS.ErrnoException).code : undefined;
      if (fed.status === 'rejected' && code !== 'EPIPE' && code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        killChild(child.child);
        throw new RespaldoError(
          'failed',
          `Reading the stored dump of ${item} failed: ${(fed.reason as Error).message}`,
          'Verify the set (respaldo verify); nothing was replaced.',
        );
      }
      progress('restored', bytes);
    }
  }

  return driver;
}

function refusedSessions(live: string, sessions: string[]): RefusedError {
  return new RefusedError(
    `Database "${live}" has ${sessions.length} connected session(s): ${sessions.join(', ')}. Nothing was replaced.`,
    'Stop the applications using it, or run again with --terminate-connections to end those sessions during the swap.',
  );
}

/** Differences between recorded and restored row counts (only when the backup's counts are exact). */
function compareCounts(
  recorded: Record<string, number> | null,
  restored: Record<string, number>,
  mode: unknown,
  selection: TableRef[] | undefined,
): string[] {
  if (!recorded || mode !== 'exact') return [];
  const keys = selection ? selection.map((s) => tableKey(s.schema, s.table)) : Object.keys(recorded);
  const problems: string[] = [];
  for (const k of keys) {
    if (!(k in recorded)) continue;
    const got = restored[k];
    if (got === undefined) problems.push(`table ${k} is missing`);
    else if (got !== recorded[k]) problems.push(`${k}: ${got} rows, backup has ${recorded[k]}`);
  }
  return problems;
}

/** The PostgreSQL driver used by the registry. */
export const postgresDriver = createPostgresDriver() satisfies Driver;

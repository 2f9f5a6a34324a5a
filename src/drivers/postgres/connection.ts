import { CORES } from '../../core/cores.js';
import { RespaldoError, isAccessError, isDiskFull } from '../../core/errors.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';
import type { DatabaseConfig } from '../../core/types.js';
import { APPLICATION_NAME, resolveConnection, type PgConnection } from './config.js';
import { quoteIdent, toolPath, type PgTool } from './args.js';
import { sessionEndedBy } from './plan.js';

/**
 * PostgreSQL connections: the pg client factory (tests hand in a fake), settings from the entry, the
 * operator errors of a failed connection or query, and `PgServer`, what every job of the driver shares.
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
  /**
   * Smallest raw size of a data file a directory restore feeds to pg_restore through a named pipe (default
   * fifo-feed.ts MIN_PIPED_BYTES; Infinity writes every file to disk first, as where pipes cannot be made).
   */
  pipedMinBytes?: number;
  /**
   * Smallest raw size of a table's data file a directory restore loads with `jobs` sessions at once (default
   * split-load.ts splitThreshold: SPLIT_MIN_BYTES from 4 jobs up, else none; Infinity loads every table in one
   * session, as pg_restore does).
   */
  splitMinBytes?: number;
  /**
   * Fewest data files whose writing out runs beside pg_restore's schema step (default restore-dump.ts
   * BESIDE_SCHEMA_FILES; Infinity writes them first, then one pg_restore of the whole dump).
   */
  besideSchemaFiles?: number;
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

export interface PgErrorLike {
  code?: string;
  message?: string;
  severity?: string;
}

/** Marks a database entry moved to `drill.server` (onDrillServer): no live database is expected there. */
export const ON_DRILL_SERVER = 'respaldoDrillServer';

export function where(conn: PgConnection): string {
  if (conn.host?.startsWith('/')) return `socket ${conn.host}`;
  return `${conn.host ?? 'localhost'}:${conn.port ?? 5432}`;
}

/** An operator error in respaldo's words, with the phrases the menu says in its language. */
const said = (message: Phrase, hint?: Phrase): RespaldoError =>
  new RespaldoError('failed', english(message), hint ? english(hint) : undefined).withPhrases(message, hint);

/**
 * `said`, for a server that cannot be reached or refuses the login (down, no such host, wrong password): its
 * `details.serverAway` tells a drill that it could not run, which says nothing of the set (drill.ts).
 */
const away = (message: Phrase, hint: Phrase): RespaldoError => {
  const err = said(message, hint);
  err.details = { ...err.details, serverAway: true };
  return err;
};

/** What to check when the server refuses the password: the `${VAR}` it came from, if any (never its value). */
export function authFailedHint(conn: PgConnection): Phrase {
  return conn.passwordVariable
    ? phrase('pgconn.authFailedVarHint', { variable: conn.passwordVariable })
    : phrase('pgconn.authFailedHint');
}

/** An operator error for a failed connection or query (never includes the password). */
export function pgError(err: unknown, conn: PgConnection, database: string, doing: string): Error {
  if (err instanceof RespaldoError) return err;
  // A write of ours that failed here (a full disk, no permission: a staged dump file) is not the server's error.
  if (isDiskFull(err) || isAccessError(err)) return err as Error;
  const e = (err ?? {}) as PgErrorLike;
  const code = e.code ?? '';
  const msg = (e.message ?? String(err)).split(conn.password || '\u0000').join('***');
  const at = where(conn);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOENT':
      return away(phrase('pgconn.refused', { at, doing }), phrase('pgconn.refusedHint', { at }));
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return away(phrase('pgconn.hostNotFound', { host: conn.host ?? '', doing }), phrase('pgconn.hostNotFoundHint'));
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return away(phrase('pgconn.unreachable', { at, detail: code, doing }), phrase('pgconn.unreachableHint'));
    case '28P01':
      return away(phrase('pgconn.authFailed', { at, user: conn.user ?? '' }), authFailedHint(conn));
    case '28000':
      return said(phrase('pgconn.rejected', { at, user: conn.user ?? '', detail: msg }), phrase('pgconn.rejectedHint'));
    case '3D000':
      return said(phrase('pgconn.noDatabase', { at, db: database }), phrase('pgconn.noDatabaseHint', { at }));
    case '57P03':
      return away(phrase('pgconn.starting', { at }), phrase('pgconn.startingHint'));
    case '53300':
      return said(phrase('pgconn.noSlots', { at }), phrase('pgconn.noSlotsHint'));
    case '42501':
      return said(
        phrase('pgconn.denied', { at, doing, detail: msg }),
        // --terminate-connections by a login that is no superuser, on another role's session (the application's).
        msg.includes('pg_signal_backend')
          ? phrase('pgconn.signalBackendHint', { user: quoteIdent(conn.user ?? 'the configured user') })
          : phrase('pgconn.deniedHint'),
      );
    case '57P01':
    case '57P02':
    case '53100': {
      const hint = sessionEndedBy(`FATAL:  ${msg}`)?.hintPhrase;
      const ended = said(phrase('pgconn.ended', { at, doing, detail: msg }), hint ?? phrase('pgconn.endedHint'));
      // Shut down, or its disk full (a table or index it could not extend): the server cannot go on, which says
      // nothing of the data a drill restores there (serverAway; its disk said as such: serverDiskFull).
      ended.details = { ...ended.details, serverAway: true, ...(code === '53100' ? { serverDiskFull: true } : {}) };
      return ended;
    }
    default: {
      const ended = sessionEndedBy(msg);
      if (ended) {
        const err = said(phrase('pgconn.ended', { at, doing, detail: msg }), ended.hintPhrase);
        if (/crash of another server process|no space left on device|could not extend file/i.test(msg))
          err.details = { ...err.details, serverAway: true, ...(/crash/i.test(msg) ? {} : { serverDiskFull: true }) };
        return err;
      }
      if (/Connection terminated|connection timeout|ECONNRESET|server closed/i.test(msg)) {
        return away(phrase('pgconn.lost', { at, doing, detail: msg }), phrase('pgconn.lostHint', { at }));
      }
      if (code && /^[0-9A-Z]{5}$/.test(code)) return said(phrase('pgconn.sqlstate', { at, detail: msg, doing, code }));
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

export function settingsFor(conn: PgConnection, database: string): PgConnectSettings {
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

export function connectionOf(db: DatabaseConfig): PgConnection {
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

/** What every job of the driver shares: the connection factory and the driver's settings. */
export interface PgServer {
  /** Parallel jobs of pg_dump and pg_restore on directory dumps. */
  readonly jobs: number;
  /** Smallest data file restored through a named pipe (PostgresDriverDeps.pipedMinBytes). */
  readonly pipedMinBytes: number | undefined;
  /** Smallest data file loaded by several sessions at once (PostgresDriverDeps.splitMinBytes). */
  readonly splitMinBytes: number | undefined;
  /** Fewest data files written out beside the schema step (PostgresDriverDeps.besideSchemaFiles). */
  readonly besideSchemaFiles: number | undefined;
  /** Format of new backups (`custom` only when asked: sets made before 0.6, tests). */
  readonly format: 'directory' | 'custom' | undefined;
  /** Opens a client, errors unmapped (for callers that look at the server's error code). */
  connect(conn: PgConnection, database: string): Promise<PgQueryable>;
  /** Opens a client on `database`; a failure becomes an operator error saying what was being done. */
  open(conn: PgConnection, database: string, doing: string): Promise<PgQueryable>;
  /** A connection to a database that is not one of `avoid` (for CREATE/ALTER/DROP DATABASE). */
  openMaintenance(
    conn: PgConnection,
    avoid: string[],
    doing: string,
  ): Promise<{ client: PgQueryable; database: string }>;
  serverVersionNum(client: PgQueryable): Promise<number>;
  /** The path of a client tool (PG_BIN_PATH, the entry's binPath, or PATH). */
  resolveTool(tool: PgTool, db: DatabaseConfig): Promise<string>;
}

export function createPgServer(deps: PostgresDriverDeps): PgServer {
  const connect = deps.connect ?? defaultConnect;
  const jobs = deps.jobs ?? Math.max(2, Math.min(CORES, 8));
  const env = () => deps.env ?? process.env;

  return {
    jobs,
    pipedMinBytes: deps.pipedMinBytes,
    splitMinBytes: deps.splitMinBytes,
    besideSchemaFiles: deps.besideSchemaFiles,
    format: deps.format,
    connect: (conn, database) => connect(settingsFor(conn, database)),
    async open(conn, database, doing) {
      try {
        return await connect(settingsFor(conn, database));
      } catch (err) {
        throw pgError(err, conn, database, doing);
      }
    },

    async openMaintenance(conn, avoid, doing) {
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
    },

    async serverVersionNum(client) {
      const r = await client.query(`SELECT current_setting('server_version_num')::int AS n`);
      return Number(r.rows[0]?.['n'] ?? 0);
    },
    async resolveTool(tool, db) {
      return toolPath(tool, db, env());
    },
  };
}

/** How long the cleanup of a failed restore waits for a server that went away under it to take connections again. */
const CLEANUP_WAIT_MS = 10_000;

/**
 * The session that cleans up after a failed restore: `admin` while it still answers; when it died (the server
 * restarted or crashed under pg_restore), a new one, asked for every half second until the server takes connections
 * again, for up to CLEANUP_WAIT_MS (a fast restart takes a second or two, crash recovery longer). A statement that
 * fails because the session was lost all the same runs once more on a new session asked for so: a server process
 * killed under pg_restore ends pg_restore's session at once and the others a moment later, when the server resets for
 * crash recovery, so `admin` may answer the first check and die under the DROP DATABASE that follows. Without a new
 * session, the statement's own failure: the warnings that name what stays (which `status` lists and the next run
 * drops); the server is waited for once, not again for each statement. `renewed`: a new session got in where the
 * restore's had died (the server ended them: a restart, a crash).
 */
export class CleanupSession implements PgQueryable {
  renewed = false;
  /** A new session was asked for and none got in: the server is not back, and is not waited for again. */
  private gaveUp = false;

  private constructor(
    private current: PgQueryable,
    private readonly reopen: () => Promise<PgQueryable | null>,
  ) {}

  static async open(
    pg: PgServer,
    conn: PgConnection,
    admin: PgQueryable,
    avoid: string[],
    signal: AbortSignal,
  ): Promise<CleanupSession> {
    const reopen = async (): Promise<PgQueryable | null> => {
      const deadline = Date.now() + CLEANUP_WAIT_MS;
      for (;;) {
        try {
          return (await pg.openMaintenance(conn, avoid, 'cleaning up after the failed restore')).client;
        } catch {
          if (signal.aborted || Date.now() >= deadline) return null;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    const session = new CleanupSession(admin, reopen);
    if (!(await answers(admin))) await session.renew();
    return session;
  }

  async query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    try {
      return await this.current.query(text, values);
    } catch (err) {
      if (!sessionLost(err) || !(await this.renew())) throw err;
      return this.current.query(text, values);
    }
  }

  /** Ends the session when it is a new one (`admin` is the restore's, which ends it). */
  async end(): Promise<void> {
    if (this.renewed) await this.current.end().catch(() => undefined);
  }

  private async renew(): Promise<boolean> {
    if (this.gaveUp) return false;
    const next = await this.reopen();
    if (next === null) {
      this.gaveUp = true;
      return false;
    }
    if (this.renewed) await this.current.end().catch(() => undefined);
    this.current = next;
    this.renewed = true;
    return true;
  }
}

function answers(client: PgQueryable): Promise<boolean> {
  return client.query('SELECT 1').then(
    () => true,
    () => false,
  );
}

/** The session's connection is gone (the server ended it, restarted, or the socket closed), not a refused statement. */
export function sessionLost(err: unknown): boolean {
  const e = (err ?? {}) as PgErrorLike;
  if (['57P01', '57P02', 'ECONNRESET', 'EPIPE'].includes(e.code ?? '')) return true;
  return /Connection terminated|ECONNRESET|server closed the connection|because of crash of another server process|Client has encountered a connection error and is not queryable/i.test(
    e.message ?? '',
  );
}

/** The server's start time (`pg_postmaster_start_time()`), as text; null when it cannot be read. */
export async function postmasterStart(client: PgQueryable): Promise<string | null> {
  return client.query('SELECT pg_postmaster_start_time()::text AS t').then(
    (r) => (r.rows[0]?.['t'] as string | undefined) ?? null,
    () => null,
  );
}

/**
 * The restore's own session died while it ran and a new one got in once the server took connections again: the
 * failure pg_restore or the session saw (a closed connection) is the server ending them, not a server that is down.
 * Its start time changed (`since`): it restarted; else every session was ended by the server recovering from a crashed
 * process (or by someone terminating them). The temporary database is dropped, nothing was changed, and the same
 * restore can run again now.
 */
export function restartedUnder(
  failure: RespaldoError,
  conn: PgConnection,
  since: string,
  restarted: boolean,
): RespaldoError {
  const at = where(conn);
  const hint = restarted
    ? phrase('pg.restartedHint', { at, since: since.replace(/\.\d+/, '') })
    : phrase('pg.sessionsEndedHint', { at });
  const err = new RespaldoError(failure.kind, failure.message, english(hint), failure.details);
  return failure.phrases?.message ? err.withPhrases(failure.phrases.message, hint) : err.withHintPhrase(hint);
}

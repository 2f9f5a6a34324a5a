import { RefusedError, RespaldoError } from '../../core/errors.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';
import type { DriverContext, RestoreTarget } from '../driver.js';
import { nameProblem } from './names.js';
import { newerThanServer, productName, unsupportedEdition } from './plan.js';
import { liveStateProblem, publishedProblem, type ReplaceDoing } from './swap-plan.js';
import { where } from './config.js';
import { mssqlConnector, type ConnectionSettings, type SqlConnector } from './connection.js';
import { mapSqlError } from './errors.js';
import { Session, type DbInfo, type ServerInfo } from './session.js';

/** What every job of the SQL Server driver shares: opening a session, the target name, refusals of a server. */

export interface SqlServerDriverDeps {
  /** How to open a connection (default: mssql). Tests pass an in-process fake. */
  connect?: SqlConnector;
  /** Wait before attempt `n + 1` of a swap step that lost its lock (default 250 ms × n). */
  retryDelayMs?: (attempt: number) => number;
}

/** Refuses servers where BACKUP … TO DISK on a shared folder cannot work (Azure SQL Database, Managed Instance). */
export function refuseEdition(server: ServerInfo, s: ConnectionSettings): void {
  const what = unsupportedEdition(server.engineEdition);
  if (!what) return;
  throw new RefusedError(
    `SQL Server at ${where(s)} is ${what}: it cannot write BACKUP … TO DISK to a folder respaldo shares, ` +
      'nor RESTORE from one.',
    "Use the platform's own backups (automated backups and point-in-time restore, or BACKUP TO URL), or export " +
      'with a bacpac; respaldo backs up SQL Server on Windows, Linux and containers.',
  );
}

/**
 * Fails, before anything is copied or restored, a restore of a backup made by a later SQL Server version than the
 * server's (`backups`: each set applied with the ProductVersion its manifest recorded; unknown versions pass).
 */
export function refuseOlderServer(
  server: ServerInfo,
  backups: { setId: string; version: string | null }[],
  s: ConnectionSettings,
  db: string,
): void {
  const newer = backups.find((b) => newerThanServer(b.version, server.productVersion));
  if (!newer?.version || !server.productVersion) return;
  const params = {
    set: newer.setId,
    db,
    backup: productName(newer.version),
    server: where(s),
    target: productName(server.productVersion),
  };
  const message = phrase('mssql.olderServer', params);
  const hint = phrase('mssql.olderServerHint', params);
  const versions = { backupVersion: newer.version, serverVersion: server.productVersion };
  throw new RespaldoError('failed', english(message), english(hint), versions).withPhrases(message, hint);
}

/** Refuses a rename-based swap (in-place restore, rollback) of a database that belongs to an availability group. */
export function refuseAvailabilityGroup(info: DbInfo | null, s: ConnectionSettings, doing: ReplaceDoing): void {
  if (!info?.replicaId) return;
  const message = phrase('mssql.availabilityGroup', { db: info.name, server: where(s), doing });
  const hint = phrase('mssql.availabilityGroupHint');
  throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
}

/**
 * Why replacing `info` (the live database) in place is refused as it is now, or null: not ONLINE (liveStateProblem
 * says why), or published for replication (publishedProblem). The restore plan refuses with it before anything is
 * fetched (inspectSqlServerTarget), and the restore and the rollback again when they start.
 */
export function replaceProblem(
  info: DbInfo | null,
  s: ConnectionSettings,
  doing: ReplaceDoing,
): { message: Phrase; hint: Phrase } | null {
  if (!info) return null;
  return (
    liveStateProblem(info.name, info.state, doing) ??
    (info.published ? publishedProblem(info.name, where(s), doing) : null)
  );
}

/** Refuses replacing `info` (the live database) in place when replaceProblem says why. */
export function refuseReplacing(info: DbInfo | null, s: ConnectionSettings, doing: ReplaceDoing): void {
  const problem = replaceProblem(info, s, doing);
  if (problem)
    throw new RefusedError(english(problem.message), english(problem.hint)).withPhrases(problem.message, problem.hint);
}

/** Opens a session on the server of `s`; a failure becomes an operator error naming `action`. */
export type OpenSession = (
  s: ConnectionSettings,
  ctx: Pick<DriverContext, 'log' | 'signal'>,
  action: string,
) => Promise<Session>;

/** The session opener every job of the driver uses, over the connector of `deps`. */
export function openerFor(deps: SqlServerDriverDeps): OpenSession {
  const connect = deps.connect ?? mssqlConnector;

  return async function open(
    s: ConnectionSettings,
    ctx: Pick<DriverContext, 'log' | 'signal'>,
    action: string,
  ): Promise<Session> {
    try {
      return new Session(await connect(s), s, ctx, deps.retryDelayMs);
    } catch (err) {
      throw mapSqlError(err, action, s);
    }
  };
}

/** A context for read-only questions (inspect, leftovers, dropping a safety copy): logs nothing, never aborted. */
export const quietCtx: Pick<DriverContext, 'log' | 'signal'> = {
  log: () => undefined,
  signal: new AbortController().signal,
};

export function targetName(s: ConnectionSettings, target: RestoreTarget): string {
  return target.kind === 'in-place' ? s.database : target.name;
}

export function checkTargetName(name: string): void {
  const p = nameProblem(name);
  if (p)
    throw new RespaldoError(
      'usage',
      `Target database name ${JSON.stringify(name.slice(0, 60))} ${p}.`,
      'Give a SQL Server database name of 1 to 128 characters.',
    );
}

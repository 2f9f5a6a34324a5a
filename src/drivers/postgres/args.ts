import { join } from 'node:path';
import type { BackupType, DatabaseConfig } from '../../core/types.js';
import { english, phrase } from '../../core/phrases.js';
import { APPLICATION_NAME, PASSTHROUGH_PARAMS, type PgConnection } from './config.js';

/**
 * Command lines of the PostgreSQL client tools (pg_dump, pg_restore, pg_dumpall, pg_amcheck), connection strings,
 * child environments and quoting. Pure: the job files run them.
 */

/** Quotes an SQL identifier (database, schema, table, role names). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quotes an SQL string literal (E'' form when it holds backslashes, so it is independent of
 * standard_conforming_strings).
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL character');
  const body = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/** Quotes a value for a libpq keyword/value connection string. */
export function quoteConnValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A libpq keyword/value connection string for `--dbname=` (never contains the password), so a
 * database name starting with `-` or containing `=` is read as a name, not as an option or URI.
 */
export function connString(conn: PgConnection, database: string = conn.database): string {
  const kv: [string, string][] = [];
  if (conn.host) kv.push(['host', conn.host]);
  if (conn.params['port']) kv.push(['port', conn.params['port']]);
  else if (conn.port !== undefined) kv.push(['port', String(conn.port)]);
  if (conn.user) kv.push(['user', conn.user]);
  kv.push(['dbname', database]);
  kv.push(['application_name', APPLICATION_NAME]);
  for (const [k, v] of Object.entries(conn.params)) if (PASSTHROUGH_PARAMS.has(k)) kv.push([k, v]);
  return kv.map(([k, v]) => `${k}=${quoteConnValue(v)}`).join(' ');
}

/**
 * Environment for a libpq child: the password only here (PGPASSWORD), never in argv. `LC_ALL=C`: the client
 * tools print in English whatever the operator's locale (on a server set up in Spanish: "falló la conexión al
 * servidor … Conexión rehusada"), so their errors get respaldo's hints (hintForStderr, matched on the English
 * text) and respaldo's messages stay in one language. It changes no data: a dump's encoding is the database's,
 * and the tools are never interactive here.
 */
export function childEnv(conn: PgConnection): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    PGAPPNAME: APPLICATION_NAME,
    PGCONNECT_TIMEOUT: '15',
    LC_ALL: 'C',
  };
  if (conn.password !== undefined) env['PGPASSWORD'] = conn.password;
  return env;
}

export type PgTool = 'pg_dump' | 'pg_restore' | 'pg_dumpall' | 'psql' | 'pg_amcheck';

/** Path of a client binary: config `binPath`, else PG_BIN_PATH, else the bare name (PATH). */
export function toolPath(
  tool: PgTool,
  db: Pick<DatabaseConfig, 'binPath'>,
  env: Record<string, string | undefined>,
): string {
  const dir = (typeof db.binPath === 'string' && db.binPath) || env['PG_BIN_PATH'];
  return dir ? join(dir, tool) : tool;
}

/** Operator hint for a missing client binary. */
export function missingToolHint(tool: PgTool): string {
  return english(phrase('pgtool.missingHint', { tool }));
}

/** `lockWaitTimeout` as pg_dump takes it (`30s`, `5min`, milliseconds), or null when it is not a positive duration. */
export function lockWaitTimeout(value: unknown): string | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? String(value) : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+)\s*(ms|s|min|h)?\s*$/.exec(value);
  if (!m || Number(m[1]) <= 0) return null;
  return `${Number(m[1])}${m[2] ?? ''}`;
}

/** pg_dump arguments: custom format, uncompressed (respaldo compresses), optional exported snapshot. */
export function pgDumpArgs(opts: {
  conn: PgConnection;
  type: BackupType;
  snapshot?: string | undefined;
  lockWaitTimeout?: string | undefined;
}): string[] {
  const args = ['--format=custom', '--compress=0', '--no-password'];
  if (opts.type === 'schema') args.push('--schema-only');
  if (opts.snapshot) args.push(`--snapshot=${opts.snapshot}`);
  if (opts.lockWaitTimeout) args.push(`--lock-wait-timeout=${opts.lockWaitTimeout}`);
  args.push(`--dbname=${connString(opts.conn)}`);
  return args;
}

/** The first pg_dump that has `--no-sync`. */
export const PG_DUMP_NO_SYNC_MAJOR = 12;

/**
 * pg_dump arguments for the directory format (`pg-directory` sets): `jobs` workers, each table's data
 * in its own uncompressed file under `dir` (respaldo compresses and hashes each file while it is
 * written), `--verbose` so that the finished tables are reported on stderr (see finishedDataItem).
 * With `noSync` (pg_dump 12 and later) pg_dump does not fsync `dir`: it is a scratch copy, and the
 * durable copies are respaldo's stored files.
 */
export function pgDumpDirArgs(opts: {
  conn: PgConnection;
  type: BackupType;
  dir: string;
  jobs: number;
  noSync: boolean;
  snapshot?: string | undefined;
  lockWaitTimeout?: string | undefined;
}): string[] {
  const args = [
    '--format=directory',
    '--compress=0',
    `--jobs=${Math.max(1, Math.floor(opts.jobs))}`,
    '--verbose',
    '--no-password',
  ];
  if (opts.noSync) args.push('--no-sync');
  if (opts.type === 'schema') args.push('--schema-only');
  if (opts.snapshot) args.push(`--snapshot=${opts.snapshot}`);
  if (opts.lockWaitTimeout) args.push(`--lock-wait-timeout=${opts.lockWaitTimeout}`);
  args.push(`--file=${opts.dir}`, `--dbname=${connString(opts.conn)}`);
  return args;
}

/**
 * The data file a line of `pg_dump --jobs --verbose` says is complete (`pg_dump: finished item 3358
 * TABLE DATA public orders` → `3358.dat`), or null for any other line.
 */
export function finishedDataItem(line: string): string | null {
  const m = /finished item (\d+) TABLE DATA /.exec(line);
  return m ? `${m[1]}.dat` : null;
}

/**
 * Whether a line of `pg_dump --verbose` (or pg_restore's) is progress (`pg_dump: dumping contents of table
 * "public.orders"`), not a message: since PostgreSQL 12 messages carry their level (`pg_dump: error: …`,
 * `warning:`, `detail:`, `hint:`), and older tools' errors a bracketed part (`pg_dump: [archiver (db)] …`).
 * Anything else, a server's own lines included, is a message.
 */
export function pgProgressLine(line: string): boolean {
  const m = /^(pg_dump|pg_restore|pg_dumpall): (.*)$/.exec(line);
  if (!m) return false;
  return !/^(error|warning|detail|hint|fatal|FATAL|ERROR|WARNING|DETAIL|HINT)\b|^\[/.test(m[2]!);
}

/**
 * Rows in a table's data file of a directory dump, from its count of newlines and its last bytes:
 * COPY text writes one line per row (newlines inside values are escaped) and pg_dump ends the file
 * with a `\.` line and empty lines, which are not rows.
 */
export function copyRows(newlines: number, tail: string): number {
  const m = /(?:^|\n)\\\.(\n*)$/.exec(tail);
  if (!m) return newlines;
  return newlines - m[1]!.length;
}

/** A section of a dump pg_restore can restore alone: the schema, the data, then indexes and constraints. */
export type RestoreSection = 'pre-data' | 'data' | 'post-data';

/**
 * pg_restore arguments for a directory dump staged at `dir`: `jobs` workers (so not one
 * transaction: the target is a staging database, dropped when anything fails), stop at the first
 * error, optionally only the entries of a `--use-list` file and of one `section` or several.
 */
export function pgRestoreDirArgs(opts: {
  conn: PgConnection;
  database: string;
  dir: string;
  jobs: number;
  listFile?: string | undefined;
  section?: RestoreSection | readonly RestoreSection[] | undefined;
}): string[] {
  const args = [
    '--exit-on-error',
    `--jobs=${Math.max(1, Math.floor(opts.jobs))}`,
    '--no-password',
    '--format=directory',
  ];
  for (const section of typeof opts.section === 'string' ? [opts.section] : (opts.section ?? []))
    args.push(`--section=${section}`);
  if (opts.listFile) args.push(`--use-list=${opts.listFile}`);
  args.push(`--dbname=${connString(opts.conn, opts.database)}`, opts.dir);
  return args;
}

/** pg_dumpall arguments for roles and tablespaces only. */
export function pgDumpallGlobalsArgs(opts: { conn: PgConnection; rolePasswords: boolean }): string[] {
  const args = ['--globals-only', '--no-password'];
  if (!opts.rolePasswords) args.push('--no-role-passwords');
  // pg_dumpall expands a --database value containing `=` as a connection string; keep it one.
  args.push(`--database=dbname=${quoteConnValue(opts.conn.database)}`);
  args.push(`--dbname=${connString(opts.conn)}`);
  return args;
}

/** A table as recorded in the manifest's `details.relations`: schema, name and (since 0.2) OID. */
export type Relation = readonly [schema: string, table: string, oid?: number];

/** A table selection resolved to schema and name (and the table's OID when the backup recorded it). */
export interface TableRef {
  schema: string;
  table: string;
  oid?: number | undefined;
}

/**
 * pg_restore arguments: the whole archive, or only the entries of a `--use-list` file (selected
 * tables, see toc.ts); one transaction, stop at the first error. The archive comes on stdin.
 */
export function pgRestoreArgs(opts: { conn: PgConnection; database: string; listFile?: string | undefined }): string[] {
  const args = ['--exit-on-error', '--single-transaction', '--no-password'];
  if (opts.listFile) args.push(`--use-list=${opts.listFile}`);
  args.push(`--dbname=${connString(opts.conn, opts.database)}`);
  return args;
}

/**
 * pg_amcheck arguments for a drill's scratch database: B-tree indexes with their parent check and
 * the heap of every table. The connection string is its DBNAME argument (it takes no `--dbname`).
 */
export function pgAmcheckArgs(opts: { conn: PgConnection; database: string }): string[] {
  return ['--no-password', '--heapallindexed', '--parent-check', connString(opts.conn, opts.database)];
}

/** pg_restore arguments that print the archive's table of contents with dependencies (stdin). */
export function pgRestoreListArgs(): string[] {
  return ['--list', '--verbose'];
}

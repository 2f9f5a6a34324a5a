import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ConfigProblem, RestoreRequest, RestoreStepPlan } from '../driver.js';
import type { BackupType, DatabaseConfig } from '../../core/types.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';

/**
 * Pure planning for the PostgreSQL driver: connection resolution, argument arrays for
 * pg_dump / pg_dumpall / pg_restore, child environments, identifier quoting, derived database
 * names and the printable restore plan. Nothing here does I/O; the job files beside it (backup.ts,
 * restore.ts, …) execute.
 */

/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** application_name of every respaldo connection, so its own sessions can be told apart. */
export const APPLICATION_NAME = 'respaldo';

/** Where and as whom to connect. `params` holds extra libpq keywords (sslmode, …) from the URL. */
export interface PgConnection {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database: string;
  params: Record<string, string>;
}

/** libpq keywords accepted from URL query strings and passed on to children. */
const PASSTHROUGH_PARAMS = new Set([
  'sslmode',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'sslcrl',
  'sslcompression',
  'requiressl',
  'connect_timeout',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'target_session_attrs',
  'gssencmode',
  'krbsrvname',
  'service',
  'options',
  'tcp_user_timeout',
  'channel_binding',
  'hostaddr',
  'passfile',
  'load_balance_hosts',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
]);

/** The parts of a postgres:// or postgresql:// URI (libpq grammar; an empty host is allowed). */
export interface ParsedPgUrl {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  params: Record<string, string>;
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Error(`bad percent-encoding in the ${what}`);
  }
}

function decodePassword(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A raw `${VAR}` password with a lone `%`: take it as written.
    return s;
  }
}

/**
 * Parses a PostgreSQL URI. Throws an Error whose message names the problem (never the password).
 * The user info ends at the last `@`, so a password interpolated raw from `${DB_PASSWORD}` may hold
 * `@ : / ? #` (percent-encoding is still decoded; a `%` must be written `%25`).
 */
export function parsePgUrl(url: string): ParsedPgUrl {
  const scheme = /^(postgres(?:ql)?):\/\//i.exec(url);
  if (!scheme) throw new Error('not a postgresql:// URL (expected postgresql://user:password@host:port/database)');
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const m = /^([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(at >= 0 ? rest.slice(at + 1) : rest);
  if (!m)
    throw new Error(
      'cannot read the host, database or parameters after "@" (a "#" or "@" there must be percent-encoded)',
    );
  const hostspec = m[1] ?? '';
  const out: ParsedPgUrl = { params: {} };
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) out.user = decode(user, 'user name');
    if (colon >= 0) out.password = decodePassword(userinfo.slice(colon + 1));
  }
  if (hostspec) {
    const hosts: string[] = [];
    const ports: string[] = [];
    for (const one of hostspec.split(',')) {
      const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(one);
      if (!hp) throw new Error(`cannot read the host part "${one}"`);
      const h = hp[1] ?? '';
      hosts.push(decode(h.startsWith('[') ? h.slice(1, -1) : h, 'host'));
      ports.push(hp[2] ?? '');
    }
    if (hosts.length === 1) {
      if (hosts[0]) out.host = hosts[0];
      if (ports[0]) out.port = Number(ports[0]);
    } else {
      // Several hosts (libpq failover): kept as libpq's comma lists; direct connections use the first.
      out.host = hosts.join(',');
      if (ports.some(Boolean)) out.params['port'] = ports.join(',');
    }
  }
  if (m[2]) out.database = decode(m[2], 'database name');
  if (m[3]) {
    for (const pair of m[3].split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const key = decode(eq >= 0 ? pair.slice(0, eq) : pair, 'query string');
      const value = decode(eq >= 0 ? pair.slice(eq + 1).replace(/\+/g, ' ') : '', 'query string');
      if (key === 'host') out.host = value;
      else if (key === 'port') out.port = Number(value);
      else if (key === 'user') out.user = value;
      else if (key === 'password') out.password = value;
      else if (key === 'dbname') out.database = value;
      else if (key === 'application_name' || key === 'fallback_application_name') continue;
      else out.params[key] = value;
    }
  }
  return out;
}

/**
 * Connection details of a database entry: URL first, explicit fields override it; the database
 * defaults to the entry's `name` (as the README documents). Throws on a bad URL.
 */
export function resolveConnection(db: DatabaseConfig): PgConnection {
  const fromUrl: ParsedPgUrl = db.url ? parsePgUrl(db.url) : { params: {} };
  const conn: PgConnection = {
    database: (typeof db.database === 'string' && db.database) || fromUrl.database || db.name || '',
    params: fromUrl.params,
  };
  const host = typeof db.host === 'string' && db.host ? db.host : fromUrl.host;
  const port = typeof db.port === 'number' ? db.port : fromUrl.port;
  const user = typeof db.user === 'string' && db.user ? db.user : fromUrl.user;
  const password = typeof db.password === 'string' && db.password !== '' ? db.password : fromUrl.password;
  if (host !== undefined) conn.host = host;
  if (port !== undefined) conn.port = port;
  if (user !== undefined) conn.user = user;
  if (password !== undefined) conn.password = password;
  return conn;
}

/** Size of a string in UTF-8 bytes. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Problems with a postgres database entry (paths relative to the entry). Pure. */
export function validatePgConfig(db: DatabaseConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let parsed: ParsedPgUrl | undefined;
  if (db.url !== undefined) {
    if (typeof db.url !== 'string') problems.push({ path: 'url', problem: 'must be a string' });
    else {
      try {
        parsed = parsePgUrl(db.url);
      } catch (err) {
        problems.push({
          path: 'url',
          problem: (err as Error).message,
          hint: 'Use postgresql://USER:${DB_PASSWORD}@HOST:5432/DATABASE (percent-encode special characters).',
        });
      }
      if (parsed?.port !== undefined && !validPort(parsed.port))
        problems.push({ path: 'url', problem: `port ${parsed.port} is not between 1 and 65535` });
      if (parsed && 'sslpassword' in parsed.params) {
        problems.push({
          path: 'url',
          problem: 'sslpassword is not supported: it would reach pg_dump on its command line, visible to every user',
          hint: 'Use a client key without a passphrase, readable only by the user running respaldo (chmod 600), via sslkey.',
        });
      }
    }
  }
  for (const key of ['host', 'user', 'password', 'database', 'binPath'] as const) {
    if (db[key] !== undefined && typeof db[key] !== 'string') problems.push({ path: key, problem: 'must be a string' });
  }
  if (db.port !== undefined && (typeof db.port !== 'number' || !validPort(db.port))) {
    problems.push({ path: 'port', problem: 'must be a whole number between 1 and 65535' });
  }
  if (db.globals !== undefined && typeof db.globals !== 'boolean')
    problems.push({ path: 'globals', problem: 'must be true or false' });
  if (db.lockWaitTimeout !== undefined && lockWaitTimeout(db.lockWaitTimeout) === null) {
    problems.push({
      path: 'lockWaitTimeout',
      problem: `"${String(db.lockWaitTimeout)}" is not a duration`,
      hint: 'Use "30s", "5min", "1h", "500ms", or a whole number of milliseconds.',
    });
  }
  const database = (typeof db.database === 'string' && db.database) || parsed?.database || db.name;
  if (!database) {
    if (!problems.some((p) => p.path === 'url')) {
      problems.push({
        path: db.url !== undefined ? 'url' : 'database',
        problem: 'no database name',
        hint: 'Give the database in the URL (postgresql://host:5432/NAME) or as "database".',
      });
    }
  } else if (byteLength(database) > MAX_IDENTIFIER_BYTES) {
    problems.push({
      path: typeof db.database === 'string' ? 'database' : db.url !== undefined ? 'url' : 'name',
      problem: `database name is longer than ${MAX_IDENTIFIER_BYTES} bytes`,
    });
  } else if (database.includes('\0')) {
    problems.push({
      path: typeof db.database === 'string' ? 'database' : 'url',
      problem: 'database name contains a NUL character',
    });
  }
  return problems;
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** `database "inventario" on db1:5432 as app` — never the password. */
export function describePg(db: DatabaseConfig): string {
  let conn: PgConnection;
  try {
    conn = resolveConnection(db);
  } catch {
    return `PostgreSQL database (invalid url)`;
  }
  const where = conn.host ? (conn.host.startsWith('/') ? `socket ${conn.host}` : conn.host) : 'localhost';
  const port = conn.port ?? 5432;
  return `database "${conn.database}" on ${where}${conn.host?.startsWith('/') ? '' : `:${port}`}${conn.user ? ` as ${conn.user}` : ''}`;
}

/** Quotes an SQL identifier (database, schema, table, role names). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal (E'' form when it holds backslashes, so it is independent of standard_conforming_strings). */
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

/** Environment for a libpq child: the password only here (PGPASSWORD), never in argv. */
export function childEnv(conn: PgConnection): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PGAPPNAME: APPLICATION_NAME, PGCONNECT_TIMEOUT: '15' };
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
  return `Install the PostgreSQL client (${tool}), e.g. \`apt-get install postgresql-client\` or \`dnf install postgresql\`, in a version at least as new as the server; or point "binPath" in the config (or PG_BIN_PATH) at the folder that holds ${tool}.`;
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

/**
 * pg_dump arguments for the directory format (`pg-directory` sets): `jobs` workers, each table's data
 * in its own uncompressed file under `dir` (respaldo compresses and hashes each file as it is
 * finished), `--verbose` so that the finished tables are reported on stderr (see finishedDataItem).
 */
export function pgDumpDirArgs(opts: {
  conn: PgConnection;
  type: BackupType;
  dir: string;
  jobs: number;
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
 * Rows in a table's data file of a directory dump, from its count of newlines and its last bytes:
 * COPY text writes one line per row (newlines inside values are escaped) and pg_dump ends the file
 * with a `\.` line and empty lines, which are not rows.
 */
export function copyRows(newlines: number, tail: string): number {
  const m = /(?:^|\n)\\\.(\n*)$/.exec(tail);
  if (!m) return newlines;
  return newlines - m[1]!.length;
}

/**
 * pg_restore arguments for a directory dump staged at `dir`: `jobs` workers (so not one
 * transaction: the target is a staging database, dropped when anything fails), stop at the first
 * error, optionally only the entries of a `--use-list` file.
 */
export function pgRestoreDirArgs(opts: {
  conn: PgConnection;
  database: string;
  dir: string;
  jobs: number;
  listFile?: string | undefined;
}): string[] {
  const args = [
    '--exit-on-error',
    `--jobs=${Math.max(1, Math.floor(opts.jobs))}`,
    '--no-password',
    '--format=directory',
  ];
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

/**
 * Resolves `schema.table` selections against the tables recorded in the manifest (keys
 * `schema.table`, and `details.relations` pairs when present). Throws an Error naming the
 * selection that matches nothing.
 */
export function resolveTables(
  requested: readonly string[],
  known: {
    keys: readonly string[];
    relations?: readonly Relation[] | undefined;
    partitioned?: readonly Relation[] | 'unknown' | undefined;
  },
): TableRef[] {
  const out: TableRef[] = [];
  // `partitioned`: partitioned tables recorded at backup (0.3+); 'unknown' for older sets, where the archive decides.
  const parents = Array.isArray(known.partitioned) ? known.partitioned : [];
  for (const want of requested) {
    const named = ([s, t]: Relation) => `${s}.${t}` === want;
    const rel = known.relations?.find(named) ?? parents.find(named);
    if (rel) {
      out.push({ schema: rel[0], table: rel[1], ...(rel[2] ? { oid: rel[2] } : {}) });
      continue;
    }
    const dot = want.indexOf('.');
    const ref =
      dot > 0 ? { schema: want.slice(0, dot), table: want.slice(dot + 1) } : { schema: 'public', table: want };
    const key = `${ref.schema}.${ref.table}`;
    const isParent = parents.some(([s, t]) => `${s}.${t}` === key);
    if (known.keys.length > 0 && !known.keys.includes(key) && !isParent && known.partitioned !== 'unknown') {
      throw new Error(`table "${want}" is not in this backup`);
    }
    out.push(ref);
  }
  return out;
}

/** Manifest key of a table. */
export function tableKey(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** `drill`: the scratch database of a restore drill (`<live>__drill_<set id>`), dropped after it. */
export type DerivedKind = 'restore' | 'pre_restore' | 'drill';

function shortHash(s: string, n = 8): string {
  return createHash('sha256').update(s, 'utf8').digest('hex').slice(0, n);
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = byteLength(ch);
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}

function suffixFor(kind: DerivedKind, setId: string): string {
  const suffix = `__${kind}_${setId}`;
  // Keep at least ~20 bytes of the live name readable; very long set ids are hashed.
  return byteLength(suffix) <= 40 ? suffix : `__${kind}_${shortHash(setId, 16)}`;
}

function prefixFor(live: string, suffix: string): string {
  if (byteLength(live) + byteLength(suffix) <= MAX_IDENTIFIER_BYTES) return live;
  const room = MAX_IDENTIFIER_BYTES - byteLength(suffix) - 9;
  return `${truncateBytes(live, room)}_${shortHash(live)}`;
}

/**
 * `<live>__restore_<setId>` / `<live>__pre_restore_<setId>`, shortened deterministically to 63
 * bytes (live name cut on a character boundary plus 8 hex of its SHA-256; long set ids hashed).
 */
export function derivedName(live: string, kind: DerivedKind, setId: string): string {
  const suffix = suffixFor(kind, setId);
  return prefixFor(live, suffix) + suffix;
}

export function restoreDbName(live: string, setId: string): string {
  return derivedName(live, 'restore', setId);
}

export function preRestoreDbName(live: string, setId: string): string {
  return derivedName(live, 'pre_restore', setId);
}

/** If `name` was derived from `live` (by derivedName), its kind and the set id part; else null. */
export function parseDerivedName(live: string, name: string): { kind: DerivedKind; id: string } | null {
  for (const kind of ['pre_restore', 'restore', 'drill'] as const) {
    const marker = `__${kind}_`;
    const at = name.lastIndexOf(marker);
    if (at <= 0) continue;
    if (kind === 'restore' && name.slice(0, at).endsWith('__pre')) continue;
    const suffix = name.slice(at);
    const id = name.slice(at + marker.length);
    if (!id) continue;
    if (prefixFor(live, suffix) + suffix === name) return { kind, id };
  }
  return null;
}

/** Database-level properties recorded at backup time and re-applied to the restored database. */
export interface DatabaseProperties {
  encoding?: string;
  collate?: string;
  ctype?: string;
  localeProvider?: string;
  iculocale?: string | null;
  owner?: string;
  /** `name=value` items of ALTER DATABASE … SET (pg_db_role_setting). */
  settings?: string[];
  /** Explicit database privileges, or null for the defaults. */
  acl?: { grantee: string | null; privilege: string; grantable: boolean }[] | null;
}

/** CREATE DATABASE for the staging database, with the recorded encoding and locale. */
export function createDatabaseSql(name: string, props: DatabaseProperties | undefined): string {
  const parts = [`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`];
  if (props?.encoding) parts.push(`ENCODING ${quoteLiteral(props.encoding)}`);
  if (props?.localeProvider === 'icu' && props.iculocale)
    parts.push(`LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(props.iculocale)}`);
  if (props?.collate) parts.push(`LC_COLLATE ${quoteLiteral(props.collate)}`);
  if (props?.ctype) parts.push(`LC_CTYPE ${quoteLiteral(props.ctype)}`);
  return parts.join(' ');
}

/** GUCs whose values are lists written as-is (pg_dump's GUC_LIST_QUOTE set). */
const LIST_GUCS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'shared_preload_libraries',
  'local_preload_libraries',
  'unix_socket_directories',
]);

/**
 * Statements that re-apply owner, settings and privileges of the original database to `name`.
 * Roles not in `existingRoles` are skipped and reported in `skipped`.
 */
export function databasePropertiesSql(
  name: string,
  props: DatabaseProperties | undefined,
  existingRoles: ReadonlySet<string>,
): { statements: string[]; skipped: string[] } {
  const statements: string[] = [];
  const skipped: string[] = [];
  const db = quoteIdent(name);
  if (!props) return { statements, skipped };
  if (props.owner) {
    if (existingRoles.has(props.owner)) statements.push(`ALTER DATABASE ${db} OWNER TO ${quoteIdent(props.owner)}`);
    else skipped.push(`owner ${props.owner} (role does not exist)`);
  }
  for (const item of props.settings ?? []) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq) : '';
    const value = item.slice(eq + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*$/.test(key)) {
      skipped.push(`setting ${item}`);
      continue;
    }
    statements.push(
      `ALTER DATABASE ${db} SET ${key} TO ${LIST_GUCS.has(key.toLowerCase()) ? value : quoteLiteral(value)}`,
    );
  }
  if (props.acl) {
    statements.push(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    for (const a of props.acl) {
      if (!/^[A-Z ]+$/.test(a.privilege)) {
        skipped.push(`privilege ${a.privilege}`);
        continue;
      }
      if (a.grantee !== null && !existingRoles.has(a.grantee)) {
        skipped.push(`${a.privilege} for ${a.grantee} (role does not exist)`);
        continue;
      }
      const to = a.grantee === null ? 'PUBLIC' : quoteIdent(a.grantee);
      statements.push(`GRANT ${a.privilege} ON DATABASE ${db} TO ${to}${a.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  return { statements, skipped };
}

/** Major version from `pg_dump --version` style output (`pg_dump (PostgreSQL) 15.18 (Debian …)`), or null. */
export function parseToolVersion(output: string): { major: number; version: string } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!m) return null;
  const major = Number(m[1]);
  const version = [m[1], m[2], m[3]].filter((x) => x !== undefined).join('.');
  // Before 10 the major version was two numbers (9.6); treat 9.6 as 9 for comparisons.
  return { major, version };
}

/** Major version from server_version_num (150018 → 15, 90624 → 9). */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

/** Why a client of major `client` cannot work with a server of major `server`, or null when it can. */
export function clientTooOld(tool: PgTool, client: number, server: number): string | null {
  if (client >= server) return null;
  return `${tool} ${client} cannot dump a PostgreSQL ${server} server (pg_dump must be at least the server's major version).`;
}

/** Inputs of the pure restore planner. */
export type PgPlanInput = Pick<RestoreRequest, 'db' | 'entry' | 'setId' | 'target' | 'tables' | 'createRoles'>;

/** The printable plan of a PostgreSQL restore. Pure. */
export function planPgRestore(req: PgPlanInput): RestoreStepPlan {
  if (req.entry.safetyDatabase && !req.entry.file) {
    return planPgSwapBack({ db: req.db, safetyName: req.entry.safetyDatabase, setId: req.setId });
  }
  const conn = resolveConnection(req.db);
  const live = conn.database;
  const staging = restoreDbName(live, req.setId);
  const where = describePg(req.db).replace(/^database "[^"]*" /, '');
  const tables = req.tables && req.tables.length > 0 ? req.tables : undefined;
  const counted = req.entry.tables && req.entry.details?.['rowCounts'] === 'exact';
  const steps: Phrase[] = [];
  if (req.createRoles) steps.push(phrase('pg.createRoles'));
  steps.push(phrase('pg.createDb', { staging }));
  steps.push(
    tables ? phrase('pg.restoreTables', { tables: tables.join(', '), staging }) : phrase('pg.restoreAll', { staging }),
  );
  if (!tables) steps.push(phrase('pg.dbProps'));
  steps.push(phrase(counted ? 'pg.checkExact' : 'pg.checkEstimate'));
  if (req.target.kind === 'in-place') {
    const safety = preRestoreDbName(live, req.setId);
    steps.push(
      phrase('pg.refuseSessions', { live }),
      phrase('pg.renameLive', { live, safety }),
      phrase('pg.rename', { from: staging, to: live }),
      phrase('pg.failInPlace', { staging, live }),
    );
    const quoted = { qLive: quoteIdent(live), qSafety: quoteIdent(safety) };
    const rollback = phrase('pg.rollbackCommand', { safety, db: req.db.name, ...quoted });
    return {
      database: req.db.name,
      target: `database "${live}" ${where}`,
      replaces: true,
      staging,
      safety: { kind: 'renamed-database', name: safety },
      steps: steps.map(english),
      stepPhrases: steps,
      rollback: english(rollback),
      rollbackPhrase: rollback,
    };
  }
  const name = req.target.name;
  steps.push(
    phrase('pg.refuseExists', { name }),
    phrase('pg.rename', { from: staging, to: name }),
    phrase('pg.failSide', { staging }),
  );
  const rollback = phrase('pg.rollbackSide', { name, qName: quoteIdent(name) });
  return {
    database: req.db.name,
    target: `new database "${name}" ${where}`,
    replaces: false,
    staging,
    safety: { kind: 'none', reason: 'side-by-side restore into a new database; nothing is replaced' },
    steps: steps.map(english),
    stepPhrases: steps,
    rollback: english(rollback),
    rollbackPhrase: rollback,
  };
}

/**
 * The statements of a swap back (the rollback of an in-place restore), in one transaction: the
 * live database becomes the new safety copy and the kept one takes the live name. With no live
 * database (`newSafety` null) the kept one is only renamed. Pure.
 */
export function swapBackSql(live: string, safety: string, newSafety: string | null): string[] {
  const renames = newSafety ? [`ALTER DATABASE ${quoteIdent(live)} RENAME TO ${quoteIdent(newSafety)}`] : [];
  return ['BEGIN', ...renames, `ALTER DATABASE ${quoteIdent(safety)} RENAME TO ${quoteIdent(live)}`, 'COMMIT'];
}

/** The printable plan of a swap back: `safetyName` becomes the live database again. Pure. */
export function planPgSwapBack(req: { db: DatabaseConfig; safetyName: string; setId: string }): RestoreStepPlan {
  const live = resolveConnection(req.db).database;
  const newSafety = preRestoreDbName(live, req.setId);
  const where = describePg(req.db).replace(/^database "[^"]*" /, '');
  const p = { live, safety: req.safetyName, newSafety, db: req.db.name };
  const steps = [phrase('pg.refuseSessions', { live }), phrase('pg.swapBackRenames', p)];
  steps.push(phrase('pg.swapBackNoLive', p));
  const rollback = phrase('pg.rollbackSwapBack', p);
  return {
    database: req.db.name,
    target: `database "${live}" ${where}`,
    replaces: true,
    staging: req.safetyName,
    safety: { kind: 'renamed-database', name: newSafety },
    steps: steps.map(english),
    stepPhrases: steps,
    rollback: english(rollback),
    rollbackPhrase: rollback,
  };
}

/**
 * What interrupted restores left on the server for `live`, from the list of database names, one
 * line each in operator words with how to finish it (read-only findings for `status` and `create`).
 * `liveMissing` when the live database is gone and respaldo-derived databases explain why. Pure.
 */
export function describeLeftovers(
  live: string,
  dbName: string,
  names: readonly string[],
  opts: { drillServer?: boolean } = {},
): { liveMissing: boolean; lines: string[] } {
  const derived = names
    .map((n) => ({ name: n, parsed: parseDerivedName(live, n) }))
    .filter((d) => d.parsed && d.name !== live);
  const staging = derived.filter((d) => d.parsed!.kind === 'restore');
  const safety = derived.filter((d) => d.parsed!.kind === 'pre_restore');
  const lines: string[] = [];
  // On drill.server no live database is expected: what is there was left by drills only.
  const liveMissing = !opts.drillServer && !names.includes(live) && staging.length + safety.length > 0;
  const nextDrill = `the next respaldo drill of ${dbName}`;
  const nextRun = opts.drillServer ? nextDrill : `respaldo create or the next restore of ${dbName}`;
  if (liveMissing) {
    const pair = safety.find((s) => staging.some((t) => t.parsed!.id === s.parsed!.id));
    if (pair) {
      lines.push(
        `database "${live}" is missing: a restore was interrupted during its swap ` +
          `("${pair.name}" is the database as it was before). ` +
          `respaldo create (or the next respaldo restore of ${dbName}) renames it back to "${live}".`,
      );
    } else if (safety.length) {
      lines.push(
        `database "${live}" is missing: a restore was interrupted during its swap; ` +
          `the previous database is kept as ${safety.map((s) => `"${s.name}"`).join(', ')}. ` +
          `To put it back: respaldo restore <its pre_restore set id> --db ${dbName} --yes ` +
          `(respaldo list --db ${dbName} shows the set), or restore a backup set of ${dbName}.`,
      );
    } else {
      lines.push(
        `database "${live}" is missing: a restore was interrupted before the restored copy took its name. ` +
          `respaldo restore <set id> --db ${dbName} --yes restores a backup.`,
      );
    }
  }
  for (const t of staging) {
    lines.push(
      `temporary database "${t.name}" left by an interrupted ${opts.drillServer ? 'restore drill' : 'restore'} ` +
        `(set ${t.parsed!.id}); ${nextRun} drops it.`,
    );
  }
  for (const t of derived.filter((d) => d.parsed!.kind === 'drill')) {
    lines.push(
      `scratch database "${t.name}" left by an interrupted restore drill (set ${t.parsed!.id}); ` +
        `${opts.drillServer ? nextDrill : `the next respaldo create, restore or drill of ${dbName}`} drops it.`,
    );
  }
  return { liveMissing, lines };
}

/** Operator hint for a failed PostgreSQL client command, from its stderr. */
export function hintForStderr(stderr: string, what: { tool: PgTool; conn: PgConnection }): string | undefined {
  const s = stderr.toLowerCase();
  const at = `${what.conn.host ?? 'localhost'}:${what.conn.port ?? 5432}`;
  if (s.includes('password authentication failed') || s.includes('no password supplied') || s.includes('fe_sendauth')) {
    return `Check the user and password for ${at} in the config (the password comes from the URL or "password", usually via \${DB_PASSWORD}).`;
  }
  const ended = sessionEndedBy(stderr);
  if (ended) return ended.hint;
  if (
    s.includes('connection refused') ||
    s.includes('could not connect') ||
    s.includes('server closed the connection') ||
    s.includes('terminating connection')
  ) {
    return `Is the PostgreSQL server at ${at} running and reachable from here? Check host and port in the config.`;
  }
  if (s.includes('server version mismatch')) return missingToolHint(what.tool);
  // pg_dump --lock-wait-timeout runs LOCK TABLE under a statement_timeout; row counts under lock_timeout.
  if (s.includes('lock timeout') || (s.includes('statement timeout') && s.includes('lock table'))) {
    return 'Another session held a table lock longer than "lockWaitTimeout" (a migration, VACUUM FULL, ALTER TABLE…); nothing was published for this database. Run the backup again later, or raise lockWaitTimeout in the config.';
  }
  if (s.includes('does not exist') && s.includes('role')) {
    return 'The backup refers to a role that does not exist on this server. If the set stored its roles ("globals": true), restore again with --create-roles; otherwise CREATE ROLE it first.';
  }
  if (s.includes('does not exist') && s.includes('database'))
    return `Check the database name in the config; \`psql -l\` lists the databases on ${at}.`;
  if (s.includes('permission denied') || s.includes('must be owner') || s.includes('must be superuser')) {
    return 'The configured user lacks a privilege this needs; connect as the database owner or a role with the required rights.';
  }
  if (s.includes('no pg_hba.conf entry'))
    return `The server refuses this client in pg_hba.conf; ask the DBA to allow ${what.conn.user ?? 'this user'} from this host.`;
  return undefined;
}

/**
 * Why the server ended or refused a session, from its own message (a client's stderr or a pg
 * error): terminated by an administrator or a shutdown, out of disk, a timeout, a standby conflict.
 * `cause` quotes the server; `hint` says what to do. Null when the text names no such cause. Pure.
 */
export function sessionEndedBy(text: string): { cause: string; hint: string } | null {
  const quoted = /(?:FATAL|ERROR|PANIC):\s+([^\n]+)/.exec(text)?.[1]?.trim();
  const s = text.toLowerCase();
  const ended = (fallback: string, hint: string) => ({
    cause: `the server said "${quoted ?? fallback}"`,
    hint: `${hint} Nothing was published for this database; run it again once that is over.`,
  });
  if (s.includes('terminating connection due to administrator command')) {
    return ended(
      'terminating connection due to administrator command',
      'The server ended the session on purpose: an administrator or a tool ran pg_terminate_backend() on it, ' +
        'or the server is being shut down (pg_ctl stop, systemctl stop). ' +
        'The server is running unless it was shut down; its log says which.',
    );
  }
  if (s.includes('due to idle-in-transaction timeout') || s.includes('due to idle-session timeout')) {
    return ended(
      'terminating connection due to idle timeout',
      "The server's idle_in_transaction_session_timeout (or idle_session_timeout) ended the session. " +
        'Disable it for the backup user (ALTER ROLE … SET idle_in_transaction_session_timeout = 0).',
    );
  }
  if (s.includes('due to conflict with recovery')) {
    return ended(
      'terminating connection due to conflict with recovery',
      'This server is a standby and replication cancelled the session. Back up from the primary, ' +
        'or raise max_standby_streaming_delay / turn on hot_standby_feedback on the standby.',
    );
  }
  if (s.includes('because of crash of another server process')) {
    const hint = 'Another server process crashed and PostgreSQL restarted; check the server log.';
    return ended('the server restarted after a crash', hint);
  }
  if (s.includes('no space left on device') || s.includes('could not extend file') || s.includes('disk full')) {
    return ended(
      'no space left on device',
      'The database server ran out of disk space (its data or temporary-file folder), not the backup folder. ' +
        'Free space on the server.',
    );
  }
  if (s.includes('statement timeout') && !s.includes('lock table')) {
    return ended(
      'canceling statement due to statement timeout',
      "The server's statement_timeout cancelled the dump; disable it for the backup user " +
        '(ALTER ROLE … SET statement_timeout = 0).',
    );
  }
  return null;
}

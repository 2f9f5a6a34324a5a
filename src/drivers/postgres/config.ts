import { chainSettingProblem, type ConfigProblem } from '../driver.js';
import type { DatabaseConfig, DrillServerConfig } from '../../core/types.js';
import { lockWaitTimeout } from './args.js';

/**
 * PostgreSQL connection settings from a config entry (url or fields), their validation and description. Pure,
 * and light on purpose: config loading (validators.ts) imports it without the driver, so no `pg` here.
 */

/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Most `jobs` a database entry may ask for (each is a connection to its server). */
export const MAX_JOBS = 64;

/** application_name of every respaldo connection, so its own sessions can be told apart. */
export const APPLICATION_NAME = 'respaldo';

/** Where and as whom to connect. `params` holds extra libpq keywords (sslmode, …) from the URL. */
export interface PgConnection {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** The `${VAR}` the password came from (DatabaseConfig.passwordVariable): named when the server refuses it. */
  passwordVariable?: string;
  database: string;
  params: Record<string, string>;
}

/** libpq keywords accepted from URL query strings and passed on to children. */
export const PASSTHROUGH_PARAMS = new Set([
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
  if (password !== undefined && db.passwordVariable) conn.passwordVariable = db.passwordVariable;
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
  if (db.jobs !== undefined && !(Number.isInteger(db.jobs) && db.jobs >= 1 && db.jobs <= MAX_JOBS)) {
    problems.push({
      path: 'jobs',
      problem: `${JSON.stringify(db.jobs)} is not a whole number of jobs from 1 to ${MAX_JOBS}`,
      hint: 'Leave it out (the cores, 2 to 8), or set the pg_dump and pg_restore jobs this server may take, e.g. 2.',
    });
  }
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

/** The driver's `validateConfig`: the entry's connection fields, and no `chain` setting. */
export function validatePostgresEntry(db: DatabaseConfig): ConfigProblem[] {
  return [...validatePgConfig(db), ...chainSettingProblem(db, 'PostgreSQL')];
}

/** The driver's `validateDrillServer`: only the connection (each drill names its scratch database). */
export function validatePgDrillServer(server: DrillServerConfig): ConfigProblem[] {
  const entry: DatabaseConfig = { name: 'drill', engine: 'postgres', database: 'postgres', ...server };
  return validatePgConfig(entry).filter((p) => p.path !== 'database');
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

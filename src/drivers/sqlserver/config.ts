/**
 * SQL Server database entries: sqlserver:// URLs, validation, and the settings a connection uses. Light on
 * purpose: config loading (validators.ts) imports it without the driver, so no `mssql` here (types only).
 */

import { isAbsolute } from 'node:path';
import { RespaldoError } from '../../core/errors.js';
import type { DatabaseConfig } from '../../core/types.js';
import { jobsSettingProblem, type ConfigProblem } from '../driver.js';
import { nameProblem, serverDirProblem } from './names.js';
import type { ConnectionSettings } from './connection.js';

export function parseBool(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', 'off'].includes(v)) return false;
  return null;
}

export interface UrlFields {
  server?: string;
  port?: number;
  instance?: string;
  user?: string;
  password?: string;
  database?: string;
  encrypt?: boolean;
  trustServerCertificate?: boolean;
}

/**
 * Parses `sqlserver://` / `mssql://` URLs:
 * `sqlserver://user:password@host[:port][/instance]/database?encrypt=true&trustServerCertificate=true`;
 * the query may also carry `database`, `instance`, `port`, `encrypt`, `trustServerCertificate`.
 */
export function parseSqlServerUrl(url: string): { fields: UrlFields; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const fields: UrlFields = {};
  const hint =
    'Use sqlserver://user:password@host[:port][/instance]/database?encrypt=true&trustServerCertificate=false (percent-encode special characters).';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { fields, problems: [{ path: 'url', problem: 'is not a valid URL', hint }] };
  }
  if (u.protocol !== 'sqlserver:' && u.protocol !== 'mssql:') {
    return {
      fields,
      problems: [
        { path: 'url', problem: `has scheme ${u.protocol.replace(/:$/, '')}, expected sqlserver or mssql`, hint },
      ],
    };
  }
  const dec = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      problems.push({ path: 'url', problem: 'contains a malformed percent-encoding', hint });
      return s;
    }
  };
  if (u.hostname) fields.server = dec(u.hostname);
  if (u.port) fields.port = Number(u.port);
  if (u.username) fields.user = dec(u.username);
  if (u.password) fields.password = dec(u.password);
  const segments = u.pathname
    .split('/')
    .filter((x) => x !== '')
    .map(dec);
  if (segments.length === 1) fields.database = segments[0];
  else if (segments.length === 2) [fields.instance, fields.database] = segments;
  else if (segments.length > 2) problems.push({ path: 'url', problem: 'has more than two path segments', hint });
  for (const [key, raw] of u.searchParams) {
    const k = key.toLowerCase();
    if (k === 'database' || k === 'databasename') fields.database = raw;
    else if (k === 'instance' || k === 'instancename') fields.instance = raw;
    else if (k === 'port') {
      const n = Number(raw);
      if (!Number.isInteger(n)) problems.push({ path: 'url', problem: `port=${raw} is not a number`, hint });
      else fields.port = n;
    } else if (k === 'encrypt' || k === 'trustservercertificate') {
      const b = parseBool(raw);
      if (b === null) problems.push({ path: 'url', problem: `${key}=${raw} is not true or false`, hint });
      else if (k === 'encrypt') fields.encrypt = b;
      else fields.trustServerCertificate = b;
    } else if (k === 'user' || k === 'password') {
      problems.push({
        path: 'url',
        problem: `${key} belongs in the user:password part of the URL or in the ${k} field`,
        hint,
      });
    } else {
      problems.push({
        path: 'url',
        problem: `has unknown option ${key}`,
        hint: 'Known options: database, instance, port, encrypt, trustServerCertificate.',
      });
    }
  }
  return { fields, problems };
}

export function merged(db: DatabaseConfig): { values: Partial<ConnectionSettings>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let fromUrl: UrlFields = {};
  if (db.url !== undefined) {
    if (typeof db.url !== 'string') problems.push({ path: 'url', problem: 'must be a string' });
    else {
      const parsed = parseSqlServerUrl(db.url);
      fromUrl = parsed.fields;
      problems.push(...parsed.problems);
    }
  }
  const pick = <K extends keyof UrlFields>(key: K, field: unknown): UrlFields[K] | undefined =>
    field !== undefined && field !== null && field !== '' ? (field as UrlFields[K]) : fromUrl[key];
  const values: Partial<ConnectionSettings> = {
    server: pick('server', db.server ?? db.host),
    port: pick('port', db.port),
    instance: pick('instance', db.instance),
    user: pick('user', db.user),
    password: db.password !== undefined ? db.password : fromUrl.password,
    database: pick('database', db.database) ?? (typeof db.name === 'string' && db.name ? db.name : undefined),
    encrypt: pick('encrypt', db.encrypt) ?? true,
    trustServerCertificate: pick('trustServerCertificate', db.trustServerCertificate) ?? false,
    serverBackupDir: db.serverBackupDir,
    localBackupDir: db.localBackupDir,
  };
  // `DB1\SQLEXPRESS`, as sqlcmd, SSMS and connection strings name a named instance (an app's DB_SERVER often says
  // so): the host and the instance, resolved by the SQL Server Browser service like the `instance` field.
  const named = typeof values.server === 'string' ? /^([^\\]+)\\([^\\]+)$/.exec(values.server.trim()) : null;
  if (named) {
    const [, host, instance] = named as unknown as [string, string, string];
    if (values.instance !== undefined && values.instance !== instance) {
      problems.push({
        path: 'server',
        problem: `names instance "${instance}" and "instance" says "${String(values.instance)}"`,
        hint: 'Give the instance once: "server": "HOST\\INSTANCE", or "server": "HOST" with "instance": "INSTANCE".',
      });
    } else Object.assign(values, { server: host, instance });
  }
  if (values.password !== undefined && db.passwordVariable) values.passwordVariable = db.passwordVariable;
  return { values, problems };
}

/** Problems with a sqlserver database entry (paths relative to the entry): the driver's `validateConfig`. */
export function validate(db: DatabaseConfig): ConfigProblem[] {
  const { values: v, problems } = merged(db);
  if (typeof v.server !== 'string' || v.server.trim() === '') {
    problems.push({
      path: 'server',
      problem: 'is missing',
      hint: 'Set "server" (host name or address of SQL Server) or a sqlserver:// url.',
    });
  }
  if (
    v.port !== undefined &&
    (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535)
  ) {
    problems.push({ path: 'port', problem: `must be a port number (1-65535), got ${String(v.port)}` });
  }
  if (v.instance !== undefined && (typeof v.instance !== 'string' || v.instance.trim() === ''))
    problems.push({ path: 'instance', problem: 'must be a non-empty instance name' });
  if (v.instance && v.port !== undefined) {
    problems.push({
      path: 'instance',
      problem: 'is set together with port',
      hint: 'Give either the instance name (resolved by the SQL Server Browser service) or the port of the instance, not both.',
    });
  }
  if (typeof v.database !== 'string' || v.database === '') {
    problems.push({
      path: 'database',
      problem: 'is missing',
      hint: 'Set "database" to the name of the database on the server.',
    });
  } else {
    const p = nameProblem(v.database);
    if (p) problems.push({ path: 'database', problem: p });
  }
  if (typeof v.user !== 'string' || v.user === '') {
    problems.push({
      path: 'user',
      problem: 'is missing',
      hint: 'respaldo logs in with SQL Server authentication: set "user" and "password" (e.g. "${DB_USERNAME}", "${DB_PASSWORD}").',
    });
  }
  if (typeof v.password !== 'string') {
    problems.push({
      path: 'password',
      problem: 'is missing',
      hint: 'Set "password", preferably as "${DB_PASSWORD}" read from the environment.',
    });
  }
  for (const key of ['encrypt', 'trustServerCertificate'] as const) {
    if (db[key] !== undefined && typeof db[key] !== 'boolean')
      problems.push({ path: key, problem: 'must be true or false' });
  }
  if (db.chain !== undefined && typeof db.chain !== 'boolean') {
    problems.push({
      path: 'chain',
      problem: 'must be true or false',
      hint: '"chain": true makes native SQL Server chains (full, DIFFERENTIAL, BACKUP LOG); see docs/sqlserver.md.',
    });
  }
  const dirsHint =
    'serverBackupDir is the folder as SQL Server sees it (e.g. D:\\Backups or /var/opt/mssql/backup); localBackupDir is that same folder as respaldo sees it (the same path on the same host, or a mounted share).';
  if (v.serverBackupDir === undefined || v.serverBackupDir === '')
    problems.push({ path: 'serverBackupDir', problem: 'is missing', hint: dirsHint });
  else {
    const p = typeof v.serverBackupDir === 'string' ? serverDirProblem(v.serverBackupDir) : 'must be a string';
    if (p) problems.push({ path: 'serverBackupDir', problem: p, hint: dirsHint });
  }
  if (v.localBackupDir === undefined || v.localBackupDir === '')
    problems.push({ path: 'localBackupDir', problem: 'is missing', hint: dirsHint });
  else if (typeof v.localBackupDir !== 'string' || !isAbsolute(v.localBackupDir))
    problems.push({ path: 'localBackupDir', problem: 'must be an absolute path on this machine', hint: dirsHint });
  return [...problems, ...jobsSettingProblem(db, 'SQL Server')];
}

/** The config resolved for connecting; throws a config error naming the first bad field. */
export function resolveSettings(db: DatabaseConfig): ConnectionSettings {
  const problems = validate(db);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new RespaldoError(
      'config',
      `database "${db.name}": ${first.path} ${first.problem}`,
      first.hint ?? 'Fix the database entry in the config; nothing was changed.',
    );
  }
  return merged(db).values as ConnectionSettings;
}

export function where(s: Pick<ConnectionSettings, 'server' | 'port' | 'instance'>): string {
  if (s.instance) return `${s.server}\\${s.instance}`;
  return `${s.server}:${s.port ?? 1433}`;
}

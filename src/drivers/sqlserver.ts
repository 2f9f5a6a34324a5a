import { randomBytes } from 'node:crypto';
import { constants as fsc, createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InterruptedError, RefusedError, RespaldoError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { DatabaseConfig } from '../core/types.js';
import type {
  BackupRequest,
  BackupSession,
  ConfigProblem,
  Driver,
  DriverContext,
  DumpFacts,
  OpenedDump,
  RestoreRequest,
  RestoreResult,
  RestoreStepPlan,
  RestoreTarget,
  SwapBackRequest,
  TargetState,
} from './driver.js';
import {
  databaseInfoStatement,
  defaultFileDirs,
  encryptionStatement,
  hostInfoStatement,
  hostPathStyle,
  LOCK_ERRORS,
  planSettings,
  SWAP_ATTEMPTS,
  unsupportedEdition,
  type DbSettings,
  type PathStyle,
  dropIfExistsStatement,
  dropSafetyCopyStatements,
  fileListStatement,
  joinServerPath,
  journalFileName,
  listDatabasesStatement,
  multiUserStatement,
  nameProblem,
  parseStagingName,
  parseStatsPercent,
  planBackup,
  planMoves,
  planSwap,
  quoteName,
  renameStatement,
  restoreFileName,
  restoreFilePrefix,
  restoreStatement,
  rowCountsStatement,
  serverDirProblem,
  serverInfoStatement,
  sessionsStatement,
  stagingNames,
  supportsBackupCompression,
  type BackupFile,
  type BackupPlan,
  type Statement,
} from './sqlserver-plan.js';

// ---------------------------------------------------------------------------------------------
// The connection the executor needs: a structural interface, so tests can hand in a fake.

/** Options of one query. */
export interface QueryOptions {
  /** Informational messages of this statement (BACKUP/RESTORE `STATS`: `10 percent processed.`). */
  onInfo?: (message: string) => void;
  /** Cancels the running statement when aborted. */
  signal?: AbortSignal;
}

/** The few things the driver does with a SQL Server connection (always in the context of `master`). */
export interface SqlConnection {
  /** Runs one statement with named parameters (`@name`); resolves with the first result set's rows. */
  query(text: string, params?: Record<string, string | number>, options?: QueryOptions): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Where and how to connect: the config resolved (URL and fields merged). */
export interface ConnectionSettings {
  server: string;
  port?: number;
  instance?: string;
  user?: string;
  password?: string;
  database: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
  serverBackupDir: string;
  localBackupDir: string;
}

export type SqlConnector = (settings: ConnectionSettings) => Promise<SqlConnection>;

/** The real connector: one mssql ConnectionPool of a single connection to `master`. */
export const mssqlConnector: SqlConnector = async (s) => {
  // Loaded on first use: mssql (tedious) is heavy and most runs never talk to SQL Server.
  const { default: sql } = await import('mssql');
  const pool = new sql.ConnectionPool({
    server: s.server,
    ...(s.instance ? {} : { port: s.port ?? 1433 }),
    user: s.user,
    password: s.password,
    database: 'master',
    connectionTimeout: 15_000,
    requestTimeout: 0,
    pool: { min: 0, max: 1 },
    options: {
      encrypt: s.encrypt,
      trustServerCertificate: s.trustServerCertificate,
      appName: 'respaldo',
      ...(s.instance ? { instanceName: s.instance } : {}),
    },
  });
  await pool.connect();
  return {
    async query(text, params = {}, options = {}) {
      const request = pool.request();
      for (const [name, value] of Object.entries(params)) {
        if (typeof value === 'number') request.input(name, sql.BigInt, value);
        else request.input(name, sql.NVarChar(value.length > 4000 ? sql.MAX : 4000), value);
      }
      if (options.onInfo) {
        const onInfo = options.onInfo;
        request.on('info', (info: { message?: string }) => onInfo(String(info.message ?? '')));
      }
      const cancel = (): void => request.cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      try {
        const result = await request.query(text);
        return (result.recordset ?? []) as Record<string, unknown>[];
      } finally {
        options.signal?.removeEventListener('abort', cancel);
      }
    },
    close: () => pool.close(),
  };
};

// ---------------------------------------------------------------------------------------------
// Configuration

function parseBool(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', 'off'].includes(v)) return false;
  return null;
}

interface UrlFields {
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
  const hint = 'Use sqlserver://user:password@host[:port][/instance]/database?encrypt=true&trustServerCertificate=false (percent-encode special characters).';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { fields, problems: [{ path: 'url', problem: 'is not a valid URL', hint }] };
  }
  if (u.protocol !== 'sqlserver:' && u.protocol !== 'mssql:') {
    return { fields, problems: [{ path: 'url', problem: `has scheme ${u.protocol.replace(/:$/, '')}, expected sqlserver or mssql`, hint }] };
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
  const segments = u.pathname.split('/').filter((x) => x !== '').map(dec);
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
      problems.push({ path: 'url', problem: `${key} belongs in the user:password part of the URL or in the ${k} field`, hint });
    } else {
      problems.push({ path: 'url', problem: `has unknown option ${key}`, hint: 'Known options: database, instance, port, encrypt, trustServerCertificate.' });
    }
  }
  return { fields, problems };
}

function merged(db: DatabaseConfig): { values: Partial<ConnectionSettings>; problems: ConfigProblem[] } {
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
  const pick = <K extends keyof UrlFields>(key: K, field: unknown): UrlFields[K] | undefined => (field !== undefined && field !== null && field !== '' ? (field as UrlFields[K]) : fromUrl[key]);
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
  return { values, problems };
}

function validate(db: DatabaseConfig): ConfigProblem[] {
  const { values: v, problems } = merged(db);
  if (typeof v.server !== 'string' || v.server.trim() === '') {
    problems.push({ path: 'server', problem: 'is missing', hint: 'Set "server" (host name or address of SQL Server) or a sqlserver:// url.' });
  }
  if (v.port !== undefined && (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535)) {
    problems.push({ path: 'port', problem: `must be a port number (1-65535), got ${String(v.port)}` });
  }
  if (v.instance !== undefined && (typeof v.instance !== 'string' || v.instance.trim() === '')) problems.push({ path: 'instance', problem: 'must be a non-empty instance name' });
  if (v.instance && v.port !== undefined) {
    problems.push({ path: 'instance', problem: 'is set together with port', hint: 'Give either the instance name (resolved by the SQL Server Browser service) or the port of the instance, not both.' });
  }
  if (typeof v.database !== 'string' || v.database === '') {
    problems.push({ path: 'database', problem: 'is missing', hint: 'Set "database" to the name of the database on the server.' });
  } else {
    const p = nameProblem(v.database);
    if (p) problems.push({ path: 'database', problem: p });
  }
  if (typeof v.user !== 'string' || v.user === '') {
    problems.push({ path: 'user', problem: 'is missing', hint: 'respaldo logs in with SQL Server authentication: set "user" and "password" (e.g. "${DB_USERNAME}", "${DB_PASSWORD}").' });
  }
  if (typeof v.password !== 'string') {
    problems.push({ path: 'password', problem: 'is missing', hint: 'Set "password", preferably as "${DB_PASSWORD}" read from the environment.' });
  }
  for (const key of ['encrypt', 'trustServerCertificate'] as const) {
    if (db[key] !== undefined && typeof db[key] !== 'boolean') problems.push({ path: key, problem: 'must be true or false' });
  }
  const dirsHint =
    'serverBackupDir is the folder as SQL Server sees it (e.g. D:\\Backups or /var/opt/mssql/backup); localBackupDir is that same folder as respaldo sees it (the same path on the same host, or a mounted share).';
  if (v.serverBackupDir === undefined || v.serverBackupDir === '') problems.push({ path: 'serverBackupDir', problem: 'is missing', hint: dirsHint });
  else {
    const p = typeof v.serverBackupDir === 'string' ? serverDirProblem(v.serverBackupDir) : 'must be a string';
    if (p) problems.push({ path: 'serverBackupDir', problem: p, hint: dirsHint });
  }
  if (v.localBackupDir === undefined || v.localBackupDir === '') problems.push({ path: 'localBackupDir', problem: 'is missing', hint: dirsHint });
  else if (typeof v.localBackupDir !== 'string' || !isAbsolute(v.localBackupDir)) problems.push({ path: 'localBackupDir', problem: 'must be an absolute path on this machine', hint: dirsHint });
  return problems;
}

/** The config resolved for connecting; throws a config error naming the first bad field. */
export function resolveSettings(db: DatabaseConfig): ConnectionSettings {
  const problems = validate(db);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new RespaldoError('config', `database "${db.name}": ${first.path} ${first.problem}`, first.hint ?? 'Fix the database entry in the config; nothing was changed.');
  }
  return merged(db).values as ConnectionSettings;
}

function where(s: Pick<ConnectionSettings, 'server' | 'port' | 'instance'>): string {
  if (s.instance) return `${s.server}\\${s.instance}`;
  return `${s.server}:${s.port ?? 1433}`;
}

// ---------------------------------------------------------------------------------------------
// Errors

interface SqlErrorLike {
  message: string;
  code?: string;
  number?: number;
  precedingErrors?: SqlErrorLike[];
  originalError?: unknown;
}

function isSqlError(err: unknown): err is SqlErrorLike {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; number?: unknown };
  return typeof e.number === 'number' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && ['ConnectionError', 'RequestError', 'TransactionError', 'PreparedStatementError', 'MSSQLError'].includes(err.name));
}

function scrub(text: string, s: Partial<ConnectionSettings>): string {
  let out = text;
  if (s.password && s.password.length >= 1) out = out.split(s.password).join('***');
  return out;
}

const ACCESS_HINT = (s: ConnectionSettings): string =>
  `The SQL Server service account cannot use ${s.serverBackupDir}. Give it read/write access to that folder (on Linux: owner or group mssql; on Windows: the NT Service\\MSSQLSERVER account or the share's permissions), and check that serverBackupDir is the folder as the server sees it.`;
const PATH_HINT = (s: ConnectionSettings): string =>
  `SQL Server cannot find ${s.serverBackupDir}. serverBackupDir must be the folder as the *server* sees it (e.g. D:\\Backups or /var/opt/mssql/backup) and must exist there; localBackupDir is the same folder as respaldo sees it.`;
const PERMISSION_HINT =
  'To back up, the login needs BACKUP DATABASE (db_backupoperator in the database), CREATE ANY DATABASE (dbcreator: RESTORE VERIFYONLY/FILELISTONLY need it) and VIEW DEFINITION in the database (row counts); to restore and swap, also ALTER ANY DATABASE, or sysadmin. See docs/sqlserver.md.';

/**
 * Turns an mssql/tedious error into an operator error with a hint. Errors that are not from SQL
 * Server (bugs) are returned unchanged. The password is never part of the message.
 */
export function mapSqlError(
  err: unknown,
  action: string,
  s: ConnectionSettings,
  interruptedNote = 'nothing was replaced',
): unknown {
  if (err instanceof RespaldoError || !isSqlError(err)) return err;
  const all = [...(err.precedingErrors ?? []), err];
  const numbers = new Set(all.map((e) => e.number).filter((n): n is number => typeof n === 'number'));
  const text = scrub(all.map((e) => e.message).filter((m, i, a) => m && a.indexOf(m) === i).join(' '), s);
  const has = (...ns: number[]): boolean => ns.some((n) => numbers.has(n));
  const details = { sqlErrors: [...numbers], code: err.code ?? null };
  const at = where(s);
  if (err.code === 'ELOGIN' || has(18456, 18452, 18470, 18486, 18487, 18488)) {
    return new RespaldoError(
      'failed',
      `SQL Server at ${at} refused the login for user "${s.user ?? ''}" while trying to ${action}: ${text}`,
      'Check user and password in the config (or the environment variables they come from), that the login exists and is enabled, and that the server accepts SQL Server authentication (mixed mode).',
      details,
    );
  }
  if (err.code && ['ESOCKET', 'ETIMEOUT', 'EINSTLOOKUP', 'ECONNCLOSED', 'ENOCONN'].includes(err.code) && numbers.size === 0) {
    const cert = /certificate|self[- ]signed|SSL|TLS/i.test(text);
    return new RespaldoError(
      'failed',
      `Cannot reach SQL Server at ${at} to ${action}: ${text}`,
      cert
        ? 'The server certificate is not trusted. Install a trusted certificate on the server, or set "trustServerCertificate": true (or ?trustServerCertificate=true in the url) if you accept its self-signed certificate.'
        : s.instance
          ? `Check the server name, that the SQL Server Browser service runs (UDP 1434) so instance "${s.instance}" can be found, that TCP/IP is enabled for the instance, and that no firewall blocks it.`
          : `Check the server name and port (${s.port ?? 1433}), that SQL Server runs and has TCP/IP enabled, and that no firewall blocks the port.`,
      details,
    );
  }
  if (err.code === 'ECANCEL') return new InterruptedError(`Interrupted while trying to ${action}; ${interruptedNote}.`);
  if (has(33111, 33101)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: the backup is encrypted with TDE and this server lacks its certificate: ${text}`,
      'Create the certificate on this server from its backup (CREATE CERTIFICATE … FROM FILE … WITH PRIVATE KEY …, ' +
        'after a database master key in master), then restore again. See docs/sqlserver.md (TDE).',
      details,
    );
  }
  if (/operating system error 5\b|access is denied|permission denied\)/i.test(text)) {
    return new RespaldoError('failed', `SQL Server could not ${action}: access denied to the backup folder: ${text}`, ACCESS_HINT(s), details);
  }
  if (/operating system error (2|3)\b|cannot find the (path|file)|no such file or directory/i.test(text) && has(3201, 3013, 3203, 3041)) {
    return new RespaldoError('failed', `SQL Server could not ${action}: path not found on the server: ${text}`, PATH_HINT(s), details);
  }
  if (has(262, 229, 230, 300, 297, 15247, 916, 3110, 5011, 15151)) {
    return new RespaldoError('failed', `Permission denied: SQL Server refused to ${action}: ${text}`, PERMISSION_HINT, details);
  }
  if (has(3183, 3189, 3241, 3242, 3243, 3266, 3203, 3013) && /checksum|damaged|corrupt|not.*formed|incorrect|invalid/i.test(text)) {
    return new RespaldoError(
      'failed',
      `SQL Server found the backup damaged while trying to ${action}: ${text}`,
      'The .bak failed its checksums. For a backup: check the disk of the backup folder and run it again. For a restore: use another set (`respaldo list`).',
      details,
    );
  }
  if (has(5070, 5061, 5030, 3702, 3101, 5064, 5069)) {
    return new RefusedError(
      `Database in use: SQL Server could not ${action}: ${text}`,
      'Other sessions use the database. Close the applications that use it, or run again with --terminate-connections to close their sessions (their open transactions are rolled back).',
    );
  }
  if (has(1802, 5133, 5123, 5105, 1834, 3156, 3634)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not create the database files while trying to ${action}: ${text}`,
      "Check free space and the service account's permissions on the instance's default data and log folders (Server properties → Database settings), and that no file with the same name exists there.",
      details,
    );
  }
  if (has(1801)) {
    return new RefusedError(`SQL Server could not ${action}: ${text}`, 'A database with that name exists already; choose another name.');
  }
  return new RespaldoError('failed', `SQL Server could not ${action}: ${text}`, 'See the SQL Server error above; the server error log has more detail.', details);
}

function localDirHint(s: ConnectionSettings): string {
  return `localBackupDir (${s.localBackupDir}) must be the same folder SQL Server writes to as serverBackupDir (${s.serverBackupDir}): the same path when respaldo runs on the server, else a share or mount of that folder, readable and writable by respaldo.`;
}

async function checkLocalDir(s: ConnectionSettings): Promise<void> {
  try {
    const st = await fsp.stat(s.localBackupDir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await fsp.access(s.localBackupDir, fsc.R_OK | fsc.W_OK | fsc.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RespaldoError('failed', `The backup folder shared with SQL Server is not usable here: ${s.localBackupDir} (${code}).`, localDirHint(s), { code });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function num(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
}

function fileToken(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

interface ServerInfo {
  productVersion: string | null;
  productLevel: string | null;
  edition: string | null;
  engineEdition: number | null;
  versionText: string | null;
  defaultDataPath: string | null;
  defaultLogPath: string | null;
  masterDataFile: string | null;
  masterLogFile: string | null;
  canViewServerState: boolean;
  /** `Windows` or `Linux` (sys.dm_os_host_info); null when unknown. */
  hostPlatform: string | null;
  /** Separator style of paths on the server host, decided from hostPlatform. */
  pathStyle: PathStyle;
}

interface DbInfo {
  name: string;
  state: string | null;
  userAccess: string | null;
  recoveryModel: string | null;
  sizeBytes: number | null;
  settings: DbSettings;
  /** TDE: sys.databases.is_encrypted. */
  encrypted: boolean;
  /** Availability group replica id (sys.databases.replica_id); null when not in an AG. */
  replicaId: string | null;
}

type Row = Record<string, unknown>;

/** TDE facts recorded at backup time: the certificate protecting the database encryption key. */
interface TdeFacts {
  certificate: string | null;
  thumbprint: string | null;
}

const WRITTEN_DURING = 'the database was written during the backup';

/** Raw SQL Server error numbers of an error (before mapping), including the preceding ones. */
function sqlNumbers(err: unknown): number[] {
  if (!isSqlError(err)) return [];
  return [...(err.precedingErrors ?? []), err].map((e) => e.number).filter((n): n is number => typeof n === 'number');
}

type Progress = (percent: number) => void;

/** Runs plans over one connection: statement by statement, errors mapped, progress forwarded. */
class Session {
  /** What an interruption leaves, said in the InterruptedError of a cancelled statement. */
  interruptedNote = 'nothing was replaced';

  constructor(
    readonly conn: SqlConnection,
    readonly settings: ConnectionSettings,
    readonly ctx: Pick<DriverContext, 'log' | 'signal'>,
    readonly retryDelayMs: (attempt: number) => number = (attempt) => 250 * attempt,
  ) {}

  /**
   * Runs one statement. `retryLock`: a statement that failed only because another connection held
   * the database at that moment (LOCK_ERRORS) is run again, up to SWAP_ATTEMPTS times.
   */
  async run(st: Statement, progress?: Progress, cancellable = true, retryLock = false): Promise<Row[]> {
    for (let attempt = 1; ; attempt++) {
      this.ctx.log(`sqlserver: ${st.purpose}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
      try {
        return await this.conn.query(st.sql, st.params, {
          ...(cancellable ? { signal: this.ctx.signal } : {}),
          onInfo: (message) => {
            const pct = parseStatsPercent(message);
            if (pct !== null && progress) progress(pct);
            else if (message) this.ctx.log(`sqlserver: ${scrub(message, this.settings)}`);
          },
        });
      } catch (err) {
        const lockOnly = sqlNumbers(err).some((n) => LOCK_ERRORS.includes(n)) && !sqlNumbers(err).includes(5011);
        if (retryLock && lockOnly && attempt < SWAP_ATTEMPTS) {
          this.ctx.log(`sqlserver: another connection held the database (${(err as Error).message}); trying again`);
          await new Promise((r) => setTimeout(r, this.retryDelayMs(attempt)));
          continue;
        }
        throw mapSqlError(err, st.purpose, this.settings, this.interruptedNote);
      }
    }
  }

  async serverInfo(): Promise<ServerInfo> {
    const row = (await this.run(serverInfoStatement()))[0] ?? {};
    return {
      productVersion: str(row.productVersion),
      productLevel: str(row.productLevel),
      edition: str(row.edition),
      engineEdition: num(row.engineEdition),
      versionText: str(row.versionText),
      defaultDataPath: str(row.defaultDataPath),
      defaultLogPath: str(row.defaultLogPath),
      masterDataFile: str(row.masterDataFile),
      masterLogFile: str(row.masterLogFile),
      canViewServerState: num(row.canViewServerState) === 1,
      ...(await this.hostPlatform()),
    };
  }

  private async hostPlatform(): Promise<{ hostPlatform: string | null; pathStyle: PathStyle }> {
    try {
      const platform = str((await this.run(hostInfoStatement()))[0]?.hostPlatform);
      return { hostPlatform: platform, pathStyle: hostPathStyle(platform, this.settings.serverBackupDir) };
    } catch (err) {
      const numbers = (err as RespaldoError).details?.sqlErrors as number[] | undefined;
      if (!numbers?.includes(208)) throw err;
      // SQL Server 2016 and older: no sys.dm_os_host_info, and Windows only.
      return { hostPlatform: null, pathStyle: hostPathStyle(null, this.settings.serverBackupDir, true) };
    }
  }

  async encryption(name: string): Promise<(TdeFacts & { state: number | null }) | null> {
    const row = (await this.run(encryptionStatement(name)))[0];
    if (!row) return null;
    return { certificate: str(row.certificateName), thumbprint: str(row.thumbprint), state: num(row.encryptionState) };
  }

  async databaseInfo(name: string): Promise<DbInfo | null> {
    const row = (await this.run(databaseInfoStatement(name)))[0];
    if (!row) return null;
    return {
      name: String(row.name ?? name),
      state: str(row.state),
      userAccess: str(row.userAccess),
      recoveryModel: str(row.recoveryModel),
      sizeBytes: num(row.sizeBytes),
      settings: {
        owner: str(row.owner),
        trustworthy: num(row.trustworthy) === 1,
        brokerEnabled: num(row.brokerEnabled) === 1,
        recoveryModel: str(row.recoveryModel),
        compatibilityLevel: num(row.compatibilityLevel),
        readOnly: num(row.readOnly) === 1,
      },
      encrypted: num(row.encrypted) === 1,
      replicaId: str(row.replicaId),
    };
  }

  async sessions(name: string): Promise<string[]> {
    const rows = await this.run(sessionsStatement(name));
    return rows.map((r) => `${str(r.loginName) ?? '?'}@${str(r.hostName) || '?'} (session ${str(r.sessionId) ?? '?'}${r.programName ? `, ${String(r.programName)}` : ''})`);
  }

  async rowCounts(database: string): Promise<Record<string, number>> {
    const rows = await this.run(rowCountsStatement(database));
    const out: Record<string, number> = {};
    for (const r of rows) out[`${String(r.schemaName)}.${String(r.tableName)}`] = num(r.rowCount) ?? 0;
    return out;
  }

  async fileList(serverPath: string): Promise<(BackupFile & { sizeBytes: number | null; fileGroup: string | null })[]> {
    const rows = await this.run(fileListStatement(serverPath));
    return rows.map((r) => ({
      logicalName: String(r.LogicalName ?? r.logicalName),
      physicalName: String(r.PhysicalName ?? r.physicalName ?? ''),
      type: String(r.Type ?? r.type ?? 'D'),
      fileGroup: str(r.FileGroupName ?? r.fileGroupName),
      sizeBytes: num(r.Size ?? r.size),
    }));
  }

  async close(): Promise<void> {
    try {
      await this.conn.close();
    } catch {
      /* closing a broken connection */
    }
  }
}

/** The TDE certificate of an encrypted database; names unknown without VIEW SERVER STATE. */
async function readTde(session: Session, server: ServerInfo, name: string): Promise<TdeFacts> {
  if (!server.canViewServerState) return { certificate: null, thumbprint: null };
  try {
    const e = await session.encryption(name);
    return { certificate: e?.certificate ?? null, thumbprint: e?.thumbprint ?? null };
  } catch (err) {
    session.ctx.log(`sqlserver: could not read the TDE certificate of ${name}: ${(err as Error).message}`);
    return { certificate: null, thumbprint: null };
  }
}

/** The settings recorded in a manifest entry (details.settings), or null for sets made before they were. */
function recordedSettings(details: Record<string, unknown>): DbSettings | null {
  const v = details.settings as Partial<DbSettings> | undefined;
  if (!v || typeof v !== 'object') return null;
  return {
    owner: typeof v.owner === 'string' ? v.owner : null,
    trustworthy: v.trustworthy === true,
    brokerEnabled: v.brokerEnabled === true,
    recoveryModel: typeof v.recoveryModel === 'string' ? v.recoveryModel : null,
    compatibilityLevel: typeof v.compatibilityLevel === 'number' ? v.compatibilityLevel : null,
    readOnly: v.readOnly === true,
  };
}

function progressTo(ctx: DriverContext, item: string, label: string, totalBytes: number | null): Progress {
  return (percent) =>
    ctx.reporter.emit({
      type: 'item-progress',
      item,
      bytes: totalBytes ? Math.round((totalBytes * percent) / 100) : 0,
      ...(totalBytes ? { totalBytes } : {}),
      percent,
      message: `${label} ${percent}%`,
    });
}

function checkAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new InterruptedError(`Interrupted before ${what}; the live database was not touched.`);
}

async function removeQuietly(path: string, ctx: Pick<DriverContext, 'log'>): Promise<string | null> {
  try {
    await fsp.rm(path, { force: true });
    return null;
  } catch (err) {
    const msg = `could not remove ${path}: ${(err as Error).message}`;
    ctx.log(`sqlserver: ${msg}`);
    return msg;
  }
}

/** Compares restored row counts with the manifest's; one line per difference. */
export function compareRowCounts(expected: Record<string, number> | null, actual: Record<string, number>): string[] {
  if (!expected) return [];
  const diffs: string[] = [];
  for (const [table, rows] of Object.entries(expected)) {
    if (!(table in actual)) diffs.push(`${table}: missing (expected ${rows} rows)`);
    else if (actual[table] !== rows) diffs.push(`${table}: ${actual[table]} rows, expected ${rows}`);
  }
  for (const table of Object.keys(actual)) if (!(table in expected)) diffs.push(`${table}: not in the backup's manifest`);
  return diffs;
}

/** The swap failed and the previous database could not be renamed back: recover must finish the job. */
class SwapBrokenError extends RespaldoError {}

/** What a running restore writes beside the .bak, so `recover` knows what an interruption left. */
interface Journal {
  tool: 'respaldo';
  config: string;
  live: string;
  temp: string;
  safety: string | null;
  setId: string;
  /** `swap-back`: a rollback; `temp` is then the kept safety copy being swapped in. */
  kind: 'in-place' | 'side-by-side' | 'swap-back';
  phase: 'restoring' | 'swapping';
  bakFile: string;
  startedAt: string;
}

async function writeJournal(dir: string, j: Journal): Promise<string> {
  const path = join(dir, journalFileName(j.live));
  const tmp = `${path}.${randomBytes(3).toString('hex')}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(j, null, 2), { mode: 0o600 });
  await fsp.rename(tmp, path);
  return path;
}

async function readJournals(dir: string, configName: string, ctx: Pick<DriverContext, 'log'>): Promise<{ path: string; journal: Journal }[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const out: { path: string; journal: Journal }[] = [];
  for (const n of names) {
    if (!n.startsWith('respaldo-restore-') || !n.endsWith('.journal.json')) continue;
    const path = join(dir, n);
    try {
      const j = JSON.parse(await fsp.readFile(path, 'utf8')) as Journal;
      if (j.tool === 'respaldo' && j.config === configName && typeof j.live === 'string' && typeof j.setId === 'string') out.push({ path, journal: j });
    } catch (err) {
      ctx.log(`sqlserver: skipping unreadable restore journal ${path}: ${(err as Error).message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The driver

export interface SqlServerDriverDeps {
  /** How to open a connection (default: mssql). Tests pass an in-process fake. */
  connect?: SqlConnector;
  /** Wait before attempt `n + 1` of a swap step that lost its lock (default 250 ms × n). */
  retryDelayMs?: (attempt: number) => number;
}

/** Refuses servers where BACKUP … TO DISK on a shared folder cannot work (Azure SQL Database, Managed Instance). */
function refuseEdition(server: ServerInfo, s: ConnectionSettings): void {
  const what = unsupportedEdition(server.engineEdition);
  if (!what) return;
  throw new RefusedError(
    `SQL Server at ${where(s)} is ${what}: it cannot write BACKUP … TO DISK to a folder respaldo shares, ` +
      'nor RESTORE from one.',
    "Use the platform's own backups (automated backups and point-in-time restore, or BACKUP TO URL), or export " +
      'with a bacpac; respaldo backs up SQL Server on Windows, Linux and containers.',
  );
}

/** Refuses a rename-based swap of a database that belongs to an availability group. */
function refuseAvailabilityGroup(info: DbInfo | null, s: ConnectionSettings, doing: string): void {
  if (!info?.replicaId) return;
  throw new RefusedError(
    `Database "${info.name}" on ${where(s)} is in an availability group: it cannot be set SINGLE_USER or renamed, ` +
      `so ${doing} is not possible.`,
    'Restore side by side with --to NAME, or remove the database from the availability group first ' +
      '(ALTER AVAILABILITY GROUP … REMOVE DATABASE), restore, and add it back.',
  );
}

/** Builds the SQL Server driver over a connector. */
export function createSqlServerDriver(deps: SqlServerDriverDeps = {}): Driver {
  const connect = deps.connect ?? mssqlConnector;

  async function open(s: ConnectionSettings, ctx: Pick<DriverContext, 'log' | 'signal'>, action: string): Promise<Session> {
    try {
      return new Session(await connect(s), s, ctx, deps.retryDelayMs);
    } catch (err) {
      throw mapSqlError(err, action, s);
    }
  }

  const quietCtx = { log: () => undefined, signal: new AbortController().signal };

  async function backup(req: BackupRequest, ctx: DriverContext): Promise<BackupSession> {
    if (req.type !== 'full') {
      throw new RespaldoError('usage', `SQL Server database "${req.db.name}": a ${req.type} backup is not possible with native BACKUP DATABASE.`, 'Use type full for SQL Server databases.');
    }
    const s = resolveSettings(req.db);
    await checkLocalDir(s);
    const session = await open(s, ctx, `back up ${s.database}`);
    session.interruptedNote =
      `the backup of ${s.database} was stopped: the database was not changed, the unfinished .bak is removed ` +
      'and no backup of it is kept from this run';
    let localPath: string | null = null;
    try {
      const server = await session.serverInfo();
      refuseEdition(server, s);
      const info = await session.databaseInfo(s.database);
      if (!info) throw new RespaldoError('failed', `Database "${s.database}" does not exist on SQL Server at ${where(s)}.`, 'Check the database name in the config (databases[].database or the url).');
      if (info.state && info.state !== 'ONLINE') {
        throw new RespaldoError('failed', `Database "${s.database}" on ${where(s)} is ${info.state}, not ONLINE; it cannot be backed up now.`, 'Bring the database online (ask the DBA) and run the backup again.');
      }
      const tde = info.encrypted ? await readTde(session, server, s.database) : null;
      if (tde) {
        ctx.reporter.emit({
          type: 'warning',
          item: req.db.name,
          message:
            `${s.database} is encrypted with TDE${tde.certificate ? ` (certificate ${tde.certificate})` : ''}: ` +
            'this backup restores only on a server that has that certificate with its private key. ' +
            'Back the certificate up (see docs/sqlserver.md).',
        });
      }
      const token = fileToken();
      const continueAfterError = req.purpose === 'safety';
      const pathStyle = server.pathStyle;
      const compression = supportsBackupCompression(server.edition, server.engineEdition);
      const dir = s.serverBackupDir;
      const planFor = (compression: boolean): BackupPlan =>
        planBackup({ database: s.database, serverBackupDir: dir, token, compression, continueAfterError, pathStyle });
      let plan = planFor(compression);
      localPath = join(s.localBackupDir, plan.fileName);
      const progress = progressTo(ctx, req.db.name, 'SQL Server BACKUP', info.sizeBytes);
      let compressionNote: string | null = plan.compression ? null : `not supported by the ${server.edition ?? 'unknown'} edition`;
      checkAborted(ctx.signal, 'the backup');
      const countsBefore = await session.rowCounts(s.database);
      try {
        await session.run(plan.backup, progress);
      } catch (err) {
        const e = err as RespaldoError;
        const sqlErrors = (e.details?.sqlErrors as number[] | undefined) ?? [];
        if (!plan.compression || !sqlErrors.includes(1844)) throw err;
        compressionNote = 'refused by the server (error 1844); backed up without compression';
        ctx.reporter.emit({ type: 'warning', item: req.db.name, message: `SQL Server refused BACKUP WITH COMPRESSION; backing up ${s.database} uncompressed.` });
        plan = planFor(false);
        await session.run(plan.backup, progress);
      }
      // Counts right after BACKUP are the nearest to its consistency point (the end of the data
      // copy); rows written meanwhile make them estimates, recorded with the drift seen.
      const tables = await session.rowCounts(s.database);
      const drift = compareRowCounts(countsBefore, tables);
      let bytes: number;
      try {
        bytes = (await fsp.stat(localPath)).size;
        await fsp.access(localPath, fsc.R_OK);
      } catch (err) {
        throw new RespaldoError(
          'failed',
          `SQL Server wrote ${plan.serverPath}, but respaldo cannot see it as ${localPath} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
          `${localDirHint(s)} The file is still on the server at ${plan.serverPath}; remove it there.`,
        );
      }
      let verifyError: string | null = null;
      try {
        await session.run(plan.verify, undefined);
      } catch (err) {
        if (!(err instanceof RespaldoError) || err.kind !== 'failed') throw err;
        verifyError = err.message;
        if (!continueAfterError) {
          throw new RespaldoError('failed', `RESTORE VERIFYONLY rejected the backup of ${s.database}: ${verifyError}`, 'The backup is not usable and was not stored. Check the disk of the backup folder and the SQL Server error log, then run the backup again.', err.details);
        }
        ctx.reporter.emit({ type: 'warning', item: req.db.name, message: `Safety copy of ${s.database} kept although RESTORE VERIFYONLY rejected it: ${verifyError}` });
      }
      const header = (await session.run(plan.header))[0] ?? {};
      const compressed = num(header.Compressed ?? header.compressed) === 1;
      const files = await session.fileList(plan.serverPath);
      await session.close();

      const facts: DumpFacts = {
        tables,
        details: {
          server: where(s),
          serverVersion: server.productVersion,
          productLevel: server.productLevel,
          edition: server.edition,
          engineEdition: server.engineEdition,
          versionText: server.versionText,
          database: s.database,
          recoveryModel: info.recoveryModel,
          sizeBytes: info.sizeBytes,
          backupFile: plan.serverPath,
          backupBytes: bytes,
          backupSizeBytes: num(header.BackupSize ?? header.backupSize),
          compressedBackupSizeBytes: num(header.CompressedBackupSize ?? header.compressedBackupSize),
          compression: compressed,
          compressionNote,
          copyOnly: true,
          checksum: true,
          verified: verifyError ? `RESTORE VERIFYONLY WITH CHECKSUM failed: ${verifyError}` : 'RESTORE VERIFYONLY WITH CHECKSUM',
          continueAfterError,
          rowCounts: `estimate: sys.partitions right after BACKUP${drift.length > 0 ? `; ${WRITTEN_DURING}` : ''}`,
          ...(drift.length > 0 ? { rowCountsDrift: drift.slice(0, 20) } : {}),
          settings: info.settings,
          hostPlatform: server.hostPlatform,
          ...(tde ? { tde: { encrypted: true, certificate: tde.certificate, thumbprint: tde.thumbprint } } : {}),
          logicalFiles: files.map((f) => ({ logicalName: f.logicalName, physicalName: f.physicalName, type: f.type, fileGroup: f.fileGroup, sizeBytes: f.sizeBytes })),
        },
      };
      const path = localPath;
      return {
        parts: [
          {
            role: 'main',
            format: 'mssql-bak',
            extension: 'bak',
            compress: !compressed,
            async open(): Promise<OpenedDump> {
              const stream = createReadStream(path);
              const finished = new Promise<DumpFacts>((resolve, reject) => {
                stream.once('end', () => resolve(facts));
                stream.once('error', (err) =>
                  reject(new RespaldoError('failed', `Reading ${path} failed: ${err.message}`, localDirHint(s))),
                );
              });
              finished.catch(() => undefined);
              return { stream, totalBytes: bytes, finished };
            },
          },
        ],
        async cleanup(): Promise<void> {
          const problem = await removeQuietly(path, ctx);
          if (problem) ctx.reporter.emit({ type: 'warning', item: req.db.name, message: `SQL Server backup file left behind: ${problem}` });
        },
      };
    } catch (err) {
      await session.close();
      if (localPath) await removeQuietly(localPath, ctx);
      throw err;
    }
  }

  function targetName(s: ConnectionSettings, target: RestoreTarget): string {
    return target.kind === 'in-place' ? s.database : target.name;
  }

  function checkTargetName(name: string): void {
    const p = nameProblem(name);
    if (p) throw new RespaldoError('usage', `Target database name ${JSON.stringify(name.slice(0, 60))} ${p}.`, 'Give a SQL Server database name of 1 to 128 characters.');
  }

  async function restore(req: RestoreRequest, ctx: DriverContext): Promise<RestoreResult> {
    const s = resolveSettings(req.db);
    const live = targetName(s, req.target);
    checkTargetName(live);
    const { temp, safety } = stagingNames(live, req.setId);
    const inPlace = req.target.kind === 'in-place';
    await checkLocalDir(s);
    const session = await open(s, ctx, `restore ${live}`);
    session.interruptedNote = `the live database "${live}" was not touched and the temporary database is dropped`;
    const token = fileToken();
    const bakFile = restoreFileName(live, req.setId, token);
    const localPath = join(s.localBackupDir, bakFile);
    let serverPath = joinServerPath(s.serverBackupDir, bakFile);
    let journalPath: string | null = null;
    let tempCreated = false;
    let clean = true;
    try {
      const server = await session.serverInfo();
      refuseEdition(server, s);
      serverPath = joinServerPath(s.serverBackupDir, bakFile, server.pathStyle);
      const dirs = defaultFileDirs(server, server.pathStyle);
      if (!dirs) throw new RespaldoError('failed', `SQL Server at ${where(s)} did not report its default data and log folders.`, 'Set the default database file locations in the server properties, then run the restore again.');
      const liveInfo = await session.databaseInfo(live);
      if (!inPlace && liveInfo) {
        throw new RefusedError(`Database "${live}" already exists on ${where(s)}; a side-by-side restore never replaces anything.`, 'Choose another name with --to, or drop that database first.');
      }
      if (await session.databaseInfo(temp)) {
        throw new RefusedError(
          `Database "${temp}" exists: an earlier restore of this set was interrupted.`,
          `Run the restore again after respaldo's recovery removed it, or drop it yourself (DROP DATABASE ${quoteName(temp)}) once you are sure nobody uses it.`,
        );
      }
      if (inPlace && liveInfo && (await session.databaseInfo(safety))) {
        throw new RefusedError(
          `The safety copy "${safety}" of an earlier restore of this set still exists.`,
          'Delete that pre_restore set (`respaldo delete <id>`) or drop the database once you no longer need it, or restore side by side with --to NAME.',
        );
      }
      if (inPlace) refuseAvailabilityGroup(liveInfo, s, 'an in-place restore');
      if (inPlace && liveInfo) await ensureNoSessions(session, server, live, req.terminateConnections);

      checkAborted(ctx.signal, 'the restore');
      const journal: Journal = { tool: 'respaldo', config: req.db.name, live, temp, safety: inPlace && liveInfo ? safety : null, setId: req.setId, kind: inPlace ? 'in-place' : 'side-by-side', phase: 'restoring', bakFile, startedAt: new Date().toISOString() };
      try {
        journalPath = await writeJournal(s.localBackupDir, journal);
        await pipeline(req.openPart('main'), createWriteStream(localPath, { flags: 'wx', mode: 0o640 }), { signal: ctx.signal });
      } catch (err) {
        if (ctx.signal.aborted) throw new InterruptedError('Interrupted while copying the backup for SQL Server; the live database was not touched.');
        if (err instanceof RespaldoError) throw err;
        throw new RespaldoError('failed', `Could not write the backup for SQL Server to ${localPath}: ${(err as Error).message}`, localDirHint(s));
      }

      const files = await session.fileList(serverPath);
      const moves = planMoves(files, { live, setId: req.setId, token, ...dirs, pathStyle: server.pathStyle });
      checkAborted(ctx.signal, 'the restore');
      tempCreated = true;
      const continueAfterError = req.entry.details.continueAfterError === true;
      const restoreProgress = progressTo(ctx, req.db.name, 'SQL Server RESTORE', req.entry.rawBytes || null);
      await session.run(restoreStatement(temp, serverPath, moves, { continueAfterError }), restoreProgress);
      if (continueAfterError) {
        ctx.reporter.emit({
          type: 'warning',
          item: req.db.name,
          message:
            `${live} was restored WITH CONTINUE_AFTER_ERROR from a safety copy of a damaged database: ` +
            'the damage is restored too. Run DBCC CHECKDB on it.',
        });
      }

      // RESTORE … WITH CHECKSUM proved the pages; row counts from sys.partitions are estimates
      // (and the backup may have been taken while the database was written): a difference warns.
      const tables = await session.rowCounts(temp);
      const diffs = compareRowCounts(req.entry.tables, tables);
      if (diffs.length > 0) {
        const shown = diffs.slice(0, 10).join('; ') + (diffs.length > 10 ? `; … ${diffs.length - 10} more` : '');
        const why = Array.isArray(req.entry.details.rowCountsDrift) ? ` (${WRITTEN_DURING})` : '';
        const message = `Row counts of ${live} differ from the manifest's estimates${why}: ${shown}`;
        ctx.reporter.emit({ type: 'warning', item: req.db.name, message });
      }
      checkAborted(ctx.signal, 'the swap');

      const liveExists = liveInfo !== null;
      if (inPlace && liveExists) await ensureNoSessions(session, server, live, req.terminateConnections);
      try {
        journalPath = await writeJournal(s.localBackupDir, { ...journal, phase: 'swapping' });
      } catch (err) {
        throw new RespaldoError('failed', `Could not update the restore journal in ${s.localBackupDir}: ${(err as Error).message}; the live database was not touched.`, localDirHint(s));
      }
      const swap = await executeSwap(session, ctx, req.db.name, { live, setId: req.setId, liveExists, terminateConnections: req.terminateConnections });
      tempCreated = false;
      const recorded = recordedSettings(req.entry.details);
      if (inPlace && recorded) await putSettingsBack(session, ctx, req.db.name, live, recorded, swap.safety);
      return { ...(swap.safety ? { safetyDatabase: swap.safety } : {}), tables, restoredTo: live };
    } catch (caught) {
      let err = caught;
      if (err instanceof RespaldoError && ((err.details?.sqlErrors as number[] | undefined) ?? []).includes(33111)) {
        const tde = req.entry.details.tde as { certificate?: string | null; thumbprint?: string | null } | undefined;
        err = new RespaldoError(
          'failed',
          `${err.message.replace(/\.$/, '')}. The backup of ${live} is encrypted with TDE` +
            `${tde?.certificate ? ` under certificate "${tde.certificate}"` : ''}` +
            `${tde?.thumbprint ? ` (thumbprint ${tde.thumbprint})` : ''}; the live database was not touched.`,
          `Restore the certificate${tde?.certificate ? ` "${tde.certificate}"` : ''} into master on ${where(s)} ` +
            "from its backup (CREATE CERTIFICATE … FROM FILE = '…cer' WITH PRIVATE KEY (FILE = '…pvk', " +
            "DECRYPTION BY PASSWORD = '…')), then run the restore again. See docs/sqlserver.md (TDE).",
          err.details,
        );
      }
      if (err instanceof SwapBrokenError) clean = false;
      if (tempCreated) {
        try {
          await session.run(dropIfExistsStatement(temp), undefined, false);
        } catch (dropErr) {
          clean = false;
          ctx.reporter.emit({ type: 'warning', item: req.db.name, message: `Could not drop the temporary database ${temp}: ${(dropErr as Error).message}. respaldo removes it on the next restore, or drop it yourself.` });
        }
      }
      throw err;
    } finally {
      await removeQuietly(localPath, ctx);
      if (journalPath && clean) await removeQuietly(journalPath, ctx);
      await session.close();
    }
  }

  async function ensureNoSessions(session: Session, server: ServerInfo, live: string, terminate: boolean): Promise<void> {
    if (terminate) return;
    if (!server.canViewServerState) {
      throw new RefusedError(
        `Cannot tell whether other sessions use "${live}": the login lacks the VIEW SERVER STATE permission.`,
        'Run again with --terminate-connections to close any sessions on the database during the swap, or grant VIEW SERVER STATE to the login.',
      );
    }
    const users = await session.sessions(live);
    if (users.length > 0) {
      throw new RefusedError(
        `Database "${live}" is in use by ${users.length} session(s): ${users.slice(0, 5).join(', ')}${users.length > 5 ? ', …' : ''}.`,
        'Stop the applications that use it, or run again with --terminate-connections to close their sessions (open transactions are rolled back).',
      );
    }
  }

  /**
   * Runs the swap of `incoming` (the temporary database, or a safety copy swapped back) into place.
   * Steps that lose their lock to another connection are retried (SWAP_ATTEMPTS). On a failure it
   * puts the old live database back under its name; in every case it sets the old live database
   * back to MULTI_USER.
   */
  async function executeSwap(
    session: Session,
    ctx: DriverContext,
    item: string,
    opts: { live: string; setId: string; liveExists: boolean; terminateConnections: boolean; incoming?: string },
  ): Promise<{ safety: string | null }> {
    const plan = planSwap(opts);
    if (!opts.liveExists) {
      for (const st of plan.steps) await session.run(st, undefined, false, true);
      return { safety: null };
    }
    let stage: 'none' | 'single-user-attempted' | 'live-renamed' | 'done' = 'none';
    try {
      stage = 'single-user-attempted';
      await session.run(plan.steps[0]!, undefined, false, true);
      stage = 'live-renamed';
      await session.run(plan.steps[1]!, undefined, false, true);
      stage = 'done';
      return { safety: plan.safety };
    } catch (err) {
      if (stage === 'live-renamed') {
        try {
          await session.run(plan.rollbackRename!, undefined, false, true);
          stage = 'single-user-attempted';
        } catch (rollbackErr) {
          throw new SwapBrokenError(
            'failed',
            `The swap failed (${(err as Error).message}) and renaming the previous database back failed too (${(rollbackErr as Error).message}). The previous database is intact as "${plan.safety}".`,
            `Run: ALTER DATABASE ${quoteName(plan.safety!)} MODIFY NAME = ${quoteName(opts.live)}; ALTER DATABASE ${quoteName(opts.live)} SET MULTI_USER; (respaldo also does this on the next restore).`,
          );
        }
      }
      throw err;
    } finally {
      if (stage !== 'none') {
        const renamed = stage === 'done' ? plan.finallyAfterSwap! : multiUserStatement(plan.safety!, true);
        const st = stage === 'done' || stage === 'live-renamed' ? renamed : plan.finallyBeforeRename!;
        try {
          await session.run(st, undefined, false, true);
        } catch (muErr) {
          ctx.reporter.emit({ type: 'warning', item, message: `Could not set the database back to MULTI_USER (${(muErr as Error).message}). Run: ${st.sql}` });
        }
      }
    }
  }

  /**
   * After an in-place swap: gives the new live database the settings recorded at backup time
   * (RESTORE resets TRUSTWORTHY and the owner, and may leave Service Broker off). Each setting that
   * cannot be put back is a warning naming it and the statement to run; the restore stands.
   */
  async function putSettingsBack(
    session: Session,
    ctx: DriverContext,
    item: string,
    live: string,
    recorded: DbSettings,
    safety: string | null,
  ): Promise<void> {
    let current: DbInfo | null;
    try {
      current = await session.databaseInfo(live);
    } catch (err) {
      const message =
        `Could not read the settings of ${live} after the restore (${(err as Error).message}); ` +
        'owner, TRUSTWORTHY and Service Broker were not checked.';
      ctx.reporter.emit({ type: 'warning', item, message });
      return;
    }
    if (!current) return;
    const failed: string[] = [];
    for (const step of planSettings(live, recorded, current.settings, safety)) {
      try {
        await session.run(step.statement, undefined, false, true);
        ctx.log(`sqlserver: put back ${step.setting} = ${step.value} on ${live}`);
      } catch (err) {
        failed.push(`${step.setting} ${step.value} (${(err as Error).message}; run: ${step.statement.sql})`);
      }
    }
    if (failed.length > 0) {
      const message = `Restored ${live}, but could not put back: ${failed.join('; ')}`;
      ctx.reporter.emit({ type: 'warning', item, message });
    }
  }

  async function swapBack(req: SwapBackRequest, ctx: DriverContext): Promise<RestoreResult> {
    const s = resolveSettings(req.db);
    const live = s.database;
    checkTargetName(live);
    const parsed = parseStagingName(req.safetyName, live);
    if (!parsed || parsed.kind !== 'safety') {
      throw new RefusedError(
        `"${req.safetyName}" is not a safety copy of ${live} made by respaldo; nothing was changed.`,
        `Only databases named ${live}__pre_restore_<set id> are swapped back.`,
      );
    }
    const { safety: newSafety } = stagingNames(live, req.setId);
    if (newSafety === req.safetyName) {
      const hint = 'Roll back with the pre_restore set that lists this database.';
      throw new RefusedError(`The safety copy "${req.safetyName}" cannot replace itself.`, hint);
    }
    await checkLocalDir(s);
    const session = await open(s, ctx, `swap ${req.safetyName} back in as ${live}`);
    session.interruptedNote = `"${live}" and "${req.safetyName}" keep their names`;
    let journalPath: string | null = null;
    let clean = true;
    try {
      const server = await session.serverInfo();
      refuseEdition(server, s);
      const kept = await session.databaseInfo(req.safetyName);
      if (!kept) {
        throw new RespaldoError(
          'failed',
          `The safety copy "${req.safetyName}" no longer exists on ${where(s)}; there is nothing to roll back to.`,
          `Restore an earlier backup set instead (respaldo list --db ${req.db.name}).`,
        );
      }
      if (kept.state && kept.state !== 'ONLINE') {
        const message = `The safety copy "${req.safetyName}" is ${kept.state}, not ONLINE; it was not swapped in.`;
        throw new RespaldoError('failed', message, 'Bring it online (ask the DBA), then roll back again.');
      }
      const liveInfo = await session.databaseInfo(live);
      refuseAvailabilityGroup(liveInfo, s, 'a rollback by renaming');
      refuseAvailabilityGroup(kept, s, 'a rollback by renaming');
      if (liveInfo && (await session.databaseInfo(newSafety))) {
        throw new RefusedError(
          `"${newSafety}" exists already: this set was rolled back before and that copy is still kept.`,
          `Drop it (DROP DATABASE ${quoteName(newSafety)}) once you no longer need it, then roll back again.`,
        );
      }
      if (liveInfo) await ensureNoSessions(session, server, live, req.terminateConnections);
      checkAborted(ctx.signal, 'the rollback');
      const journal: Journal = {
        tool: 'respaldo',
        config: req.db.name,
        live,
        temp: req.safetyName,
        safety: liveInfo ? newSafety : null,
        setId: req.setId,
        kind: 'swap-back',
        phase: 'swapping',
        bakFile: '',
        startedAt: new Date().toISOString(),
      };
      try {
        journalPath = await writeJournal(s.localBackupDir, journal);
      } catch (err) {
        const why = (err as Error).message;
        const message = `Could not write the swap journal in ${s.localBackupDir}: ${why}; nothing was changed.`;
        throw new RespaldoError('failed', message, localDirHint(s));
      }
      const swap = await executeSwap(session, ctx, req.db.name, {
        live,
        setId: req.setId,
        liveExists: liveInfo !== null,
        terminateConnections: req.terminateConnections,
        incoming: req.safetyName,
      });
      if (kept.userAccess && kept.userAccess !== 'MULTI_USER') {
        const st = multiUserStatement(live, true);
        try {
          await session.run(st, undefined, false, true);
        } catch (err) {
          const message = `${live} is back but still ${kept.userAccess} (${(err as Error).message}). Run: ${st.sql}`;
          ctx.reporter.emit({ type: 'warning', item: req.db.name, message });
        }
      }
      const tables = await session.rowCounts(live).catch(() => null);
      return { ...(swap.safety ? { safetyDatabase: swap.safety } : {}), tables, restoredTo: live };
    } catch (err) {
      if (err instanceof SwapBrokenError) clean = false;
      throw err;
    } finally {
      if (journalPath && clean) await removeQuietly(journalPath, ctx);
      await session.close();
    }
  }

  async function recover(db: DatabaseConfig, ctx: DriverContext): Promise<string[]> {
    const s = resolveSettings(db);
    const journals = await readJournals(s.localBackupDir, db.name, ctx);
    const session = await open(s, ctx, `check ${s.database} for an interrupted restore`);
    const actions: string[] = [];
    try {
      const rows = await session.run(listDatabasesStatement(), undefined, false);
      const dbs = new Map(rows.map((r) => [String(r.name), { state: str(r.state), userAccess: str(r.userAccess) }]));
      const lives = new Set<string>([s.database, ...journals.map((j) => j.journal.live)]);
      for (const live of lives) {
        if (nameProblem(live)) continue;
        const mine = journals.filter((j) => j.journal.live === live);
        const bySet = new Map<string, { temp?: string; safety?: string }>();
        for (const name of dbs.keys()) {
          const parsed = parseStagingName(name, live);
          if (!parsed) continue;
          const entry = bySet.get(parsed.setId) ?? {};
          entry[parsed.kind] = name;
          bySet.set(parsed.setId, entry);
        }
        const run = async (st: Statement, line: string): Promise<void> => {
          await session.run(st, undefined, false, true);
          actions.push(line);
        };
        // A rollback (swap back) cut in the middle: the operator asked for the kept copy, which is
        // intact, so the swap is finished; when it had not started, only MULTI_USER is put back.
        const handled = new Set<string>();
        for (const { journal: j } of mine.filter((x) => x.journal.kind === 'swap-back')) {
          const incoming = j.temp;
          const kept = parseStagingName(incoming, live);
          if (kept) handled.add(kept.setId);
          if (j.safety) handled.add(j.setId);
          if (!dbs.has(live) && dbs.has(incoming)) {
            const replaced = j.safety && dbs.has(j.safety) ? ` (the database it replaces is kept as ${j.safety})` : '';
            const line = `finished an interrupted rollback: renamed the safety copy ${incoming} to ${live}${replaced}`;
            await run(renameStatement(incoming, live), line);
            dbs.set(live, dbs.get(incoming)!);
            dbs.delete(incoming);
          } else if (dbs.get(live)?.userAccess === 'SINGLE_USER' && dbs.has(incoming)) {
            const line = `set ${live} back to MULTI_USER (an interrupted rollback had not renamed it yet)`;
            await run(multiUserStatement(live, true), line);
          }
          if (j.safety && dbs.get(j.safety)?.userAccess === 'SINGLE_USER') {
            await run(multiUserStatement(j.safety, true), `set the safety copy ${j.safety} back to MULTI_USER`);
          }
        }
        const orphanSafeties = [...bySet].filter(([id, f]) => !handled.has(id) && f.safety && !f.temp);
        const orphanNames = orphanSafeties.map(([, f]) => f.safety!);
        if (!dbs.has(live) && orphanSafeties.length > 1 && ![...bySet.values()].some((f) => f.temp)) {
          throw new RespaldoError(
            'failed',
            `"${live}" is missing and ${orphanNames.length} safety copies exist (${orphanNames.join(', ')}); ` +
              'respaldo cannot tell which one was live last (its journal is gone). Nothing was changed.',
            `Rename the one you want back by hand: ALTER DATABASE [<safety copy>] MODIFY NAME = ${quoteName(live)}; ` +
              `ALTER DATABASE ${quoteName(live)} SET MULTI_USER;`,
          );
        }
        for (const [setId, found] of bySet) {
          if (handled.has(setId)) continue;
          const phase = mine.find((j) => j.journal.setId === setId)?.journal.phase ?? null;
          const liveRow = dbs.get(live);
          if (found.safety) {
            if (!liveRow && found.temp) {
              await run(renameStatement(found.temp, live), `finished an interrupted swap: renamed the restored database ${found.temp} to ${live} (previous database kept as ${found.safety})`);
              dbs.set(live, dbs.get(found.temp)!);
              dbs.delete(found.temp);
            } else if (!liveRow) {
              await run(renameStatement(found.safety, live), `rolled back an interrupted swap: renamed ${found.safety} back to ${live}`);
              await run(multiUserStatement(live), `set ${live} back to MULTI_USER`);
              dbs.set(live, { state: 'ONLINE', userAccess: 'MULTI_USER' });
              continue;
            } else if (found.temp) {
              await run(dropIfExistsStatement(found.temp), `dropped the leftover temporary database ${found.temp}`);
            }
            if (dbs.get(found.safety)?.userAccess === 'SINGLE_USER') {
              const line = `set the safety copy ${found.safety} back to MULTI_USER`;
              await run(multiUserStatement(found.safety, true), line);
            }
          } else if (found.temp) {
            if (!liveRow && phase === 'swapping' && dbs.get(found.temp)?.state === 'ONLINE') {
              await run(renameStatement(found.temp, live), `finished an interrupted restore: renamed the verified database ${found.temp} to ${live}`);
            } else {
              await run(dropIfExistsStatement(found.temp), `rolled back an interrupted restore: dropped the temporary database ${found.temp}${liveRow ? ` (${live} was not touched)` : ''}`);
              if (liveRow?.userAccess === 'SINGLE_USER' && phase === 'swapping') await run(multiUserStatement(live), `set ${live} back to MULTI_USER`);
            }
          }
        }
        let leftovers: string[] = [];
        try {
          leftovers = (await fsp.readdir(s.localBackupDir)).filter((n) => n.startsWith(restoreFilePrefix(live)) && n.endsWith('.bak'));
        } catch {
          leftovers = [];
        }
        for (const n of leftovers) if ((await removeQuietly(join(s.localBackupDir, n), ctx)) === null) actions.push(`removed the leftover restore file ${join(s.localBackupDir, n)}`);
        for (const j of mine) if ((await removeQuietly(j.path, ctx)) === null) actions.push(`removed the restore journal ${j.path}`);
      }
      return actions;
    } finally {
      await session.close();
    }
  }

  /** Read-only: what interrupted restores and rollbacks left for `db` (see Driver.findLeftovers). */
  async function findLeftovers(db: DatabaseConfig): Promise<string[]> {
    const s = resolveSettings(db);
    const journals = await readJournals(s.localBackupDir, db.name, quietCtx);
    const session = await open(s, quietCtx, `check ${s.database} for an interrupted restore`);
    const lines: string[] = [];
    const how = `respaldo recovers it at the start of the next restore or backup of ${db.name}`;
    try {
      const rows = await session.run(listDatabasesStatement(), undefined, false);
      const dbs = new Map(rows.map((r) => [String(r.name), { userAccess: str(r.userAccess) }]));
      const lives = new Set<string>([s.database, ...journals.map((j) => j.journal.live)]);
      for (const live of lives) {
        if (nameProblem(live)) continue;
        const safeties: string[] = [];
        for (const [name, row] of dbs) {
          const parsed = parseStagingName(name, live);
          if (parsed?.kind === 'temp') {
            lines.push(`temporary database "${name}" left by an interrupted restore of ${live}; ${how}`);
          }
          if (parsed?.kind === 'safety') {
            safeties.push(name);
            if (row.userAccess === 'SINGLE_USER') {
              lines.push(`safety copy "${name}" is still SINGLE_USER after an interrupted swap; ${how}`);
            }
          }
        }
        if (!dbs.has(live) && safeties.length > 0) {
          lines.push(
            `"${live}" is missing: a swap was cut in the middle (kept: ${safeties.join(', ')}); ` +
              `run respaldo restore (or respaldo create) for ${db.name} to finish or undo it`,
          );
        } else if (dbs.get(live)?.userAccess === 'SINGLE_USER' && journals.some((j) => j.journal.live === live)) {
          lines.push(`"${live}" is still SINGLE_USER after an interrupted swap; ${how}`);
        }
        let files: string[] = [];
        try {
          const prefix = restoreFilePrefix(live);
          files = (await fsp.readdir(s.localBackupDir)).filter((n) => n.startsWith(prefix) && n.endsWith('.bak'));
        } catch {
          files = [];
        }
        for (const n of files) {
          lines.push(`restore file ${join(s.localBackupDir, n)} left by an interrupted restore; ${how}`);
        }
      }
      for (const { path, journal: j } of journals) {
        const what = j.kind === 'swap-back' ? 'rollback' : 'restore';
        lines.push(`journal ${path} of an interrupted ${what} of ${j.live} (set ${j.setId}, ${j.phase}); ${how}`);
      }
      return lines;
    } finally {
      await session.close();
    }
  }

  const driver = {
    engine: 'sqlserver',
    types: ['full'],
    safety: 'renamed-database',

    validateConfig(db: DatabaseConfig): ConfigProblem[] {
      return validate(db);
    },

    describe(db: DatabaseConfig): string {
      const { values: v } = merged(db);
      const server = typeof v.server === 'string' && v.server ? where({ server: v.server, port: v.port, instance: v.instance }) : '(no server)';
      return `SQL Server database "${v.database ?? '?'}" on ${server}${v.user ? ` as ${v.user}` : ''}`;
    },

    backup,

    planRestore(req): RestoreStepPlan {
      const s = resolveSettings(req.db);
      const live = targetName(s, req.target);
      checkTargetName(live);
      const { temp, safety } = stagingNames(live, req.setId);
      const inPlace = req.target.kind === 'in-place';
      const on = where(s);
      const kept = req.entry.safetyDatabase;
      if (kept && !req.entry.file) {
        if (!inPlace) {
          throw new RespaldoError(
            'usage',
            `"${kept}" is a safety copy kept on the server; it can only be swapped back in place, not with --to.`,
            `Run without --to to roll back ${live}, or copy the database on the server yourself.`,
          );
        }
        const steps = [
          phrase('mssql.swapBackCheck', { kept, live }),
          phrase('mssql.setAsideBatch', { live, safety }),
          phrase('mssql.swapBackRename', { kept, live, safety }),
          phrase('mssql.swapBackNoLive', { kept, live }),
        ];
        const rollback = phrase('mssql.rollbackSwapBack', { safety, live });
        return {
          database: req.entry.name,
          target: `database "${live}" on ${on}`,
          replaces: true,
          staging: `database "${kept}" (the safety copy, swapped in as it is)`,
          safety: { kind: 'renamed-database', name: safety },
          steps: steps.map(english),
          stepPhrases: steps,
          rollback: english(rollback),
          rollbackPhrase: rollback,
        };
      }
      const steps = [phrase('mssql.writeBak', { local: s.localBackupDir, server: s.serverBackupDir })];
      steps.push(phrase('mssql.restore', { temp }));
      if (req.entry.details.continueAfterError === true) steps.push(phrase('mssql.continueAfterError'));
      steps.push(phrase('mssql.countsEstimate'));
      if (inPlace) {
        steps.push(phrase('mssql.setAsideBatch', { live, safety }), phrase('mssql.rename', { temp, live }));
        steps.push(phrase('mssql.multiUser', { safety }));
        if (recordedSettings(req.entry.details)) steps.push(phrase('mssql.settings'));
      } else steps.push(phrase('mssql.renameSide', { temp, live }), phrase('mssql.removeBak'));
      const rollback = inPlace
        ? phrase('mssql.rollbackInPlace', { safety, live, temp, qSafety: quoteName(safety), qLive: quoteName(live) })
        : phrase('mssql.rollbackSide', { live, qLive: quoteName(live) });
      return {
        database: req.entry.name,
        target: `database "${live}" on ${on}`,
        replaces: inPlace,
        staging: `database "${temp}"`,
        safety: inPlace ? { kind: 'renamed-database', name: safety } : { kind: 'none', reason: 'side-by-side restore into a new database replaces nothing' },
        steps: steps.map(english),
        stepPhrases: steps,
        rollback: english(rollback),
        rollbackPhrase: rollback,
      };
    },

    async inspectTarget(db: DatabaseConfig, target: RestoreTarget): Promise<TargetState> {
      const s = resolveSettings(db);
      const name = targetName(s, target);
      checkTargetName(name);
      const session = await open(s, quietCtx, `inspect ${name}`);
      try {
        const info = await session.databaseInfo(name);
        if (!info) return { exists: false, sizeBytes: null, inUseBy: [] };
        const server = await session.serverInfo();
        const inUseBy = server.canViewServerState ? await session.sessions(name) : ['unknown sessions (the login lacks VIEW SERVER STATE, so other sessions cannot be listed)'];
        return { exists: true, sizeBytes: info.sizeBytes, inUseBy };
      } finally {
        await session.close();
      }
    },

    restore,
    recover,
    swapBack,
    findLeftovers,

    async dropSafetyCopy(db: DatabaseConfig, name: string): Promise<void> {
      const s = resolveSettings(db);
      const parsed = parseStagingName(name, s.database);
      if (!parsed || parsed.kind !== 'safety') {
        throw new RefusedError(`"${name}" is not a safety copy of ${s.database} made by respaldo; it was not dropped.`, `Only databases named ${s.database}__pre_restore_<set id> are dropped by respaldo.`);
      }
      const session = await open(s, quietCtx, `drop ${name}`);
      try {
        for (const st of dropSafetyCopyStatements(name)) await session.run(st, undefined, false, true);
      } finally {
        await session.close();
      }
    },
  } satisfies Driver;
  return driver;
}

/** The SQL Server driver (mssql). */
export const sqlserverDriver: Driver = createSqlServerDriver();

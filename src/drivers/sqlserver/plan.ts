import { createHash } from 'node:crypto';

/**
 * Pure statement planning for the SQL Server driver: every T-SQL statement the driver sends, with
 * its parameters, as printable data. No I/O here; the job files beside it (backup.ts, restore.ts, …)
 * execute these plans.
 *
 * Rules kept by every function in this file:
 * - database names, paths and logical file names travel as parameters (`@db`, `@path`, …) wherever
 *   T-SQL accepts a variable (BACKUP/RESTORE targets, DISK, MOVE, DB_ID, WHERE clauses);
 * - where T-SQL demands an identifier (ALTER DATABASE, DROP DATABASE, three-part names) it is
 *   quoted exactly like QUOTENAME: `[` … `]` with `]` doubled, and refused where QUOTENAME would
 *   return NULL (more than 128 characters) or where SQL Server would refuse the name (empty, NUL).
 */

/** Longest identifier SQL Server accepts (sysname = nvarchar(128), counted in UTF-16 units). */
export const MAX_SYSNAME = 128;
/** Suffix markers of the databases a restore creates next to the live one. */
export const TEMP_MARK = '__restore_';
export const SAFETY_MARK = '__pre_restore_';
/** Marks a restore drill's scratch database (`<name>__drill_<set id>`), dropped after the drill. */
export const DRILL_MARK = '__drill_';
/** Longest set id accepted in temporary names (keeps room for the database name). */
export const MAX_SET_ID = 64;
/** STATS interval for BACKUP and RESTORE (percent): every percent reaches the progress bars. */
export const STATS_PERCENT = 1;
/** How many times a swap step that lost its exclusive lock to another connection is tried. */
export const SWAP_ATTEMPTS = 5;
/** SQL Server errors that mean another connection held the database at that moment (retryable). */
export const LOCK_ERRORS: readonly number[] = [5030, 5061, 5064, 5070, 3702];

/** One statement to send, with its named parameters (`@name` in `sql`). */
export interface Statement {
  /** What the statement is for, in operator words (shown by --dry-run and in errors). */
  purpose: string;
  sql: string;
  params: Record<string, string | number>;
}

/** Why a name cannot be used as a SQL Server identifier; null when it can. */
export function nameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (name.length > MAX_SYSNAME)
    return `is ${name.length} characters long; SQL Server names are at most ${MAX_SYSNAME}`;
  if (name.includes('\u0000')) return 'contains a NUL character';
  if (name.trim().length === 0) return 'is only spaces';
  return null;
}

/** QUOTENAME(name): `[name]` with `]` doubled. Throws on names QUOTENAME or SQL Server would refuse. */
export function quoteName(name: string): string {
  const problem = nameProblem(name);
  if (problem) throw new Error(`database name ${JSON.stringify(name.slice(0, 40))} ${problem}`);
  return `[${name.replaceAll(']', ']]')}]`;
}

/** First 8 hex characters of SHA-256 of the exact text: tells apart names that sanitise the same. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 8);
}

/** Cuts a string to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  let out = text.slice(0, max);
  const last = out.charCodeAt(out.length - 1);
  if (out.length > 0 && last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  return out;
}

/**
 * A file-name-safe rendering of a name: ASCII letters, digits, `_` and `-` only (other characters
 * become `_`), at most `max` characters, never empty. Not unique on its own: pair it with shortHash.
 */
export function safeFilePart(name: string, max = 40): string {
  const ascii = name
    .normalize('NFC')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '');
  return cut(ascii, max) || 'db';
}

/** `<safe name>-<hash>`: unique per exact database name, valid on Windows and Linux file systems. */
export function fileStem(name: string): string {
  return `${safeFilePart(name)}-${shortHash(name)}`;
}

// ---------------------------------------------------------------------------------------------
// Server paths

export type PathStyle = 'windows' | 'posix';

/** Whether a folder as the server sees it is a Windows (`D:\Backups`, `\\nas\share`) or Linux path. */
export function serverPathStyle(dir: string): PathStyle {
  if (/^[A-Za-z]:[\\/]/.test(dir) || dir.startsWith('\\\\') || dir.includes('\\')) return 'windows';
  return 'posix';
}

/** Why a server folder cannot be used; null when it is an absolute Windows or Linux path. */
export function serverDirProblem(dir: string): string | null {
  if (typeof dir !== 'string' || dir.trim() === '') return 'is empty';
  if (dir.includes('\u0000')) return 'contains a NUL character';
  if (/^[A-Za-z]:[\\/]/.test(dir) || /^\\\\[^\\]+\\[^\\]+/.test(dir) || dir.startsWith('/')) return null;
  return 'is not an absolute path as the server sees it (e.g. D:\\Backups, \\\\nas\\backups or /var/opt/mssql/backup)';
}

/**
 * The path style of the server's host, from `host_platform` of sys.dm_os_host_info (`Windows`,
 * `Linux`). SQL Server before 2017 has no such view and runs only on Windows (`viewMissing`).
 * Only an unknown platform falls back to guessing from the folder string.
 */
export function hostPathStyle(hostPlatform: string | null, dir: string, viewMissing = false): PathStyle {
  const p = (hostPlatform ?? '').trim().toLowerCase();
  if (p === 'windows') return 'windows';
  if (p === 'linux') return 'posix';
  if (viewMissing) return 'windows';
  return serverPathStyle(dir);
}

/** The server's host platform (sys.dm_os_host_info, SQL Server 2017 and later). */
export function hostInfoStatement(): Statement {
  return {
    purpose: 'read the host platform of the server',
    sql: 'SELECT host_platform AS hostPlatform FROM sys.dm_os_host_info',
    params: {},
  };
}

/**
 * Joins a server folder and a file name with the server's separator, without doubling it. On a
 * Linux server (`style` posix) a backslash is an ordinary character of a name, never a separator.
 */
export function joinServerPath(dir: string, file: string, style: PathStyle = serverPathStyle(dir)): string {
  const isSep = (c: string): boolean => c === '/' || (style === 'windows' && c === '\\');
  const drive = (x: string): boolean => style === 'windows' && /^[A-Za-z]:[\\/]$/.test(x);
  let base = dir;
  while (base.length > 1 && isSep(base.slice(-1)) && !drive(base)) base = base.slice(0, -1);
  if (isSep(base.slice(-1))) return base + file;
  return base + (style === 'windows' ? '\\' : '/') + file;
}

/** The folder part of a server path (`C:\Data\master.mdf` → `C:\Data`). */
export function serverDirname(path: string, style: PathStyle = serverPathStyle(path)): string {
  const i = style === 'windows' ? Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) : path.lastIndexOf('/');
  if (i < 0) return path;
  if (i === 0) return path.slice(0, 1);
  if (/^[A-Za-z]:$/.test(path.slice(0, i))) return path.slice(0, i + 1);
  return path.slice(0, i);
}

// ---------------------------------------------------------------------------------------------
// File and database names

/** Validates a caller-made unique token (timestamp + random) used in file names. */
function checkToken(token: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(token))
    throw new Error(`file token ${JSON.stringify(token)} must be 1-40 of A-Z a-z 0-9 _ -`);
  return token;
}

/** Name of the .bak BACKUP writes for a database (`respaldo-users-1a2b3c4d-<token>.bak`). */
export function backupFileName(database: string, token: string): string {
  return `respaldo-${fileStem(database)}-${checkToken(token)}.bak`;
}

/** Prefix of the temporary .bak files a restore of `live` writes (recover removes leftovers). */
export function restoreFilePrefix(live: string): string {
  return `respaldo-restore-${fileStem(live)}-`;
}

/** Name of the .bak a restore of `live` writes to the shared folder for the server to read. */
export function restoreFileName(live: string, setId: string, token: string): string {
  return `${restoreFilePrefix(live)}${safeFilePart(setId, 40)}-${checkToken(token)}.bak`;
}

/** Name of the journal a restore of `live` keeps in the shared folder while it runs. */
export function journalFileName(live: string): string {
  return `respaldo-restore-${fileStem(live)}.journal.json`;
}

function checkSetId(setId: string): void {
  if (typeof setId !== 'string' || setId.length === 0 || setId.length > MAX_SET_ID || setId.includes('\u0000')) {
    throw new Error(`set id ${JSON.stringify(setId)} must be 1-${MAX_SET_ID} characters`);
  }
}

/**
 * The part of temporary names that stands for the live database: the name itself when
 * `<name>__pre_restore_<setId>` fits in 128 characters, else a cut of it plus `~` and a hash.
 */
export function nameStem(live: string, setId: string): string {
  checkSetId(setId);
  const budget = MAX_SYSNAME - SAFETY_MARK.length - setId.length;
  if (live.length <= budget) return live;
  return `${cut(live, budget - 9)}~${shortHash(live)}`;
}

/** Temporary (`<name>__restore_<setId>`) and safety (`<name>__pre_restore_<setId>`) database names. */
export function stagingNames(live: string, setId: string): { temp: string; safety: string } {
  const problem = nameProblem(live);
  if (problem) throw new Error(`database name ${JSON.stringify(live.slice(0, 40))} ${problem}`);
  const stem = nameStem(live, setId);
  return { temp: `${stem}${TEMP_MARK}${setId}`, safety: `${stem}${SAFETY_MARK}${setId}` };
}

/** Recognises a temporary or safety database name made by stagingNames for `live`; null otherwise. */
export function parseStagingName(candidate: string, live: string): { kind: 'temp' | 'safety'; setId: string } | null {
  for (const [kind, mark] of [
    ['safety', SAFETY_MARK],
    ['temp', TEMP_MARK],
  ] as const) {
    let at = candidate.lastIndexOf(mark);
    while (at > 0) {
      const setId = candidate.slice(at + mark.length);
      if (setId.length > 0 && setId.length <= MAX_SET_ID && !setId.includes('\u0000') && nameProblem(live) === null) {
        const names = stagingNames(live, setId);
        if ((kind === 'safety' ? names.safety : names.temp) === candidate) return { kind, setId };
      }
      at = candidate.lastIndexOf(mark, at - 1);
    }
  }
  return null;
}

/** The scratch database of a restore drill of `live` from set `setId`: `<name>__drill_<setId>` (≤ 128 characters). */
export function drillName(live: string, setId: string): string {
  const problem = nameProblem(live);
  if (problem) throw new Error(`database name ${JSON.stringify(live.slice(0, 40))} ${problem}`);
  return `${nameStem(live, setId)}${DRILL_MARK}${setId}`;
}

/** The set id of a drill scratch database made by drillName for `live`; null for any other name. */
export function parseDrillName(candidate: string, live: string): string | null {
  const at = candidate.lastIndexOf(DRILL_MARK);
  if (at <= 0 || nameProblem(live) !== null) return null;
  const setId = candidate.slice(at + DRILL_MARK.length);
  if (!setId || setId.length > MAX_SET_ID || setId.includes('\u0000')) return null;
  return drillName(live, setId) === candidate ? setId : null;
}

/**
 * The statements of a drill's checks and cleanup, in order, as data: the restore itself goes
 * through the restore path (RESTORE … WITH CHECKSUM, MOVE into new files) into `scratch`; then
 * DBCC CHECKDB (errors only: NO_INFOMSGS), then the drop (closing any session first).
 */
export function planDrillChecks(scratch: string): { checkdb: Statement; drop: Statement } {
  return { checkdb: checkDbStatement(scratch), drop: dropScratchStatement(scratch) };
}

/** DBCC CHECKDB of a database, reporting errors only. A corruption fails the statement (errors 8928, 8939, …). */
export function checkDbStatement(name: string): Statement {
  return {
    purpose: `check database ${name} (DBCC CHECKDB)`,
    sql: `DBCC CHECKDB (${quoteName(name)}) WITH NO_INFOMSGS, ALL_ERRORMSGS`,
    params: {},
  };
}

/** Drops a drill's scratch database if it exists, closing any session on it in the same batch. */
export function dropScratchStatement(name: string): Statement {
  const q = quoteName(name);
  return {
    purpose: `drop the drill scratch database ${name}`,
    sql: [
      'IF DB_ID(@name) IS NOT NULL',
      'BEGIN',
      `  ALTER DATABASE ${q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;`,
      `  DROP DATABASE ${q};`,
      'END',
    ].join('\n'),
    params: { name },
  };
}

// ---------------------------------------------------------------------------------------------
// Metadata statements

/** Server version, edition, default data/log folders and whether other sessions are visible. */
export function serverInfoStatement(): Statement {
  return {
    purpose: 'read server version, edition and default file folders',
    sql: [
      "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS productVersion,",
      "  CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS productLevel,",
      "  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,",
      "  CAST(SERVERPROPERTY('EngineEdition') AS int) AS engineEdition,",
      '  @@VERSION AS versionText,',
      "  CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)) AS defaultDataPath,",
      "  CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)) AS defaultLogPath,",
      '  (SELECT physical_name FROM sys.master_files WHERE database_id = 1 AND file_id = 1) AS masterDataFile,',
      '  (SELECT physical_name FROM sys.master_files WHERE database_id = 1 AND file_id = 2) AS masterLogFile,',
      "  CAST(HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS int) AS canViewServerState",
    ].join('\n'),
    params: {},
  };
}

/**
 * State, access mode, size, the settings a restore must put back (owner, TRUSTWORTHY, Service
 * Broker, recovery model, compatibility level, read-only), TDE (`is_encrypted`) and availability
 * group membership (`replica_id`) of one database; no row when it does not exist.
 */
export function databaseInfoStatement(name: string): Statement {
  return {
    purpose: `read state, settings and size of database ${name}`,
    sql: [
      'SELECT d.name AS name, d.state_desc AS state, d.user_access_desc AS userAccess, d.recovery_model_desc AS recoveryModel,',
      '  CAST((SELECT SUM(CAST(mf.size AS bigint)) FROM sys.master_files mf WHERE mf.database_id = d.database_id)',
      '    * 8192 AS bigint) AS sizeBytes,',
      '  SUSER_SNAME(d.owner_sid) AS owner, CAST(d.is_trustworthy_on AS int) AS trustworthy,',
      '  CAST(d.is_broker_enabled AS int) AS brokerEnabled, CAST(d.compatibility_level AS int) AS compatibilityLevel,',
      '  CAST(d.is_read_only AS int) AS readOnly, CAST(d.is_encrypted AS int) AS encrypted,',
      '  CAST(d.replica_id AS nvarchar(36)) AS replicaId',
      'FROM sys.databases d WHERE d.name = @name',
    ].join('\n'),
    params: { name },
  };
}

/**
 * TDE of one database (sys.dm_database_encryption_keys; needs VIEW SERVER STATE): its state and the
 * server certificate (name, thumbprint) that protects its key, which a restore needs on the target.
 */
export function encryptionStatement(name: string): Statement {
  return {
    purpose: `read the TDE certificate of database ${name}`,
    sql: [
      'SELECT CAST(k.encryption_state AS int) AS encryptionState, c.name AS certificateName,',
      '  CONVERT(varchar(64), k.encryptor_thumbprint, 2) AS thumbprint, k.encryptor_type AS encryptorType',
      'FROM sys.dm_database_encryption_keys k',
      'LEFT JOIN master.sys.certificates c ON c.thumbprint = k.encryptor_thumbprint',
      'WHERE k.database_id = DB_ID(@name)',
    ].join('\n'),
    params: { name },
  };
}

/**
 * Engine editions whose BACKUP cannot write to a disk the operator shares: 5 Azure SQL Database,
 * 8 Managed Instance. Null for the editions respaldo supports.
 */
export function unsupportedEdition(engineEdition: number | null): string | null {
  if (engineEdition === 5) return 'Azure SQL Database (engine edition 5)';
  if (engineEdition === 8) return 'Azure SQL Managed Instance (engine edition 8)';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Database settings a restore puts back

/** The settings of a database recorded at backup time and put back after an in-place restore. */
export interface DbSettings {
  owner: string | null;
  trustworthy: boolean;
  brokerEnabled: boolean;
  recoveryModel: string | null;
  compatibilityLevel: number | null;
  readOnly: boolean;
}

/** One setting to put back: its name (for the report), what it was, and the statement. */
export interface SettingStep {
  setting: string;
  value: string;
  statement: Statement;
}

const RECOVERY_MODELS = ['FULL', 'SIMPLE', 'BULK_LOGGED'];

/**
 * Pure: the statements that give `database` the `recorded` settings where `current` (read after
 * the restore) differs: RESTORE resets TRUSTWORTHY to OFF, makes the restoring login the owner and
 * may leave Service Broker disabled. Enabling the broker first disables it on `shares` (the safety
 * copy, which has the same broker id). READ_ONLY comes last so the other changes can still be made.
 */
export function planSettings(
  database: string,
  recorded: DbSettings,
  current: DbSettings,
  shares?: string | null,
): SettingStep[] {
  const q = quoteName(database);
  const steps: SettingStep[] = [];
  const add = (setting: string, value: string, sql: string, purpose?: string): void => {
    const statement = { purpose: purpose ?? `set ${setting} of ${database} to ${value}`, sql, params: {} };
    steps.push({ setting, value, statement });
  };
  const alter = (setting: string, value: string, clause: string): void => {
    add(setting, value, `ALTER DATABASE ${q} SET ${clause}`);
  };
  const owner = recorded.owner;
  if (owner && owner !== current.owner && nameProblem(owner) === null) {
    const sql = `ALTER AUTHORIZATION ON DATABASE::${q} TO ${quoteName(owner)}`;
    add('owner', owner, sql, `make ${owner} the owner of ${database}`);
  }
  const onOff = recorded.trustworthy ? 'ON' : 'OFF';
  if (recorded.trustworthy !== current.trustworthy) alter('TRUSTWORTHY', onOff, `TRUSTWORTHY ${onOff}`);
  const model = (recorded.recoveryModel ?? '').toUpperCase();
  if (RECOVERY_MODELS.includes(model) && model !== (current.recoveryModel ?? '').toUpperCase()) {
    alter('recovery model', model, `RECOVERY ${model}`);
  }
  const level = recorded.compatibilityLevel;
  const validLevel = level !== null && Number.isInteger(level) && level >= 80 && level <= 200;
  if (validLevel && level !== current.compatibilityLevel) {
    alter('compatibility level', String(level), `COMPATIBILITY_LEVEL = ${level}`);
  }
  if (recorded.brokerEnabled !== current.brokerEnabled) {
    if (recorded.brokerEnabled && shares) {
      const sql = `ALTER DATABASE ${quoteName(shares)} SET DISABLE_BROKER WITH ROLLBACK IMMEDIATE`;
      const purpose = `disable Service Broker on ${shares} (same broker id)`;
      add('Service Broker', `disabled on the safety copy ${shares}`, sql, purpose);
    }
    const broker = recorded.brokerEnabled ? 'ENABLE_BROKER' : 'DISABLE_BROKER';
    alter('Service Broker', recorded.brokerEnabled ? 'enabled' : 'disabled', `${broker} WITH ROLLBACK IMMEDIATE`);
  }
  if (recorded.readOnly !== current.readOnly) {
    const mode = recorded.readOnly ? 'READ_ONLY' : 'READ_WRITE';
    alter('read-only', mode, `${mode} WITH ROLLBACK IMMEDIATE`);
  }
  return steps;
}

/** Every database on the server with its state and access mode (for recover). */
export function listDatabasesStatement(): Statement {
  return {
    purpose: 'list databases',
    sql: 'SELECT d.name AS name, d.state_desc AS state, d.user_access_desc AS userAccess FROM sys.databases d',
    params: {},
  };
}

/** Sessions other than ours connected to a database. */
export function sessionsStatement(name: string): Statement {
  return {
    purpose: `list sessions using database ${name}`,
    sql: [
      'SELECT s.session_id AS sessionId, s.login_name AS loginName, s.host_name AS hostName, s.program_name AS programName',
      'FROM sys.dm_exec_sessions s WHERE s.database_id = DB_ID(@name) AND s.session_id <> @@SPID ORDER BY s.session_id',
    ].join('\n'),
    params: { name },
  };
}

/**
 * Rows per user table (`schema.table`) from sys.partitions (heap or clustered index only). The
 * database must be addressed by a three-part name, so it is quoted, not a parameter.
 */
export function rowCountsStatement(database: string): Statement {
  const q = quoteName(database);
  return {
    purpose: `count rows per table in ${database}`,
    sql: [
      'SELECT s.name AS schemaName, t.name AS tableName, CAST(SUM(p.rows) AS bigint) AS rowCount',
      `FROM ${q}.sys.tables t`,
      `JOIN ${q}.sys.schemas s ON s.schema_id = t.schema_id`,
      `JOIN ${q}.sys.partitions p ON p.object_id = t.object_id AND p.index_id IN (0, 1)`,
      'WHERE t.is_ms_shipped = 0',
      'GROUP BY s.name, t.name ORDER BY s.name, t.name',
    ].join('\n'),
    params: {},
  };
}

// ---------------------------------------------------------------------------------------------
// Backup

/**
 * Whether BACKUP … WITH COMPRESSION is available: Enterprise/Developer/Evaluation (EngineEdition 3),
 * Standard (2), Managed Instance (8); not Express (4) nor Web (reported as EngineEdition 2).
 */
export function supportsBackupCompression(
  edition: string | null | undefined,
  engineEdition: number | null | undefined,
): boolean {
  const ed = (edition ?? '').toLowerCase();
  if (ed.includes('express') || ed.includes('web')) return false;
  return engineEdition === 2 || engineEdition === 3 || engineEdition === 8;
}

export interface BackupPlan {
  /** The database backed up. */
  database: string;
  fileName: string;
  /** Where the server writes the .bak (serverBackupDir + file name, server separator). */
  serverPath: string;
  compression: boolean;
  backup: Statement;
  verify: Statement;
  header: Statement;
  fileList: Statement;
  rowCounts: Statement;
}

/**
 * Pure: every statement of a backup of one database. `token` makes the file name unique.
 * `continueAfterError` (safety copies of what a restore replaces) stores a damaged database as it is.
 */
export function planBackup(opts: {
  database: string;
  serverBackupDir: string;
  token: string;
  compression: boolean;
  continueAfterError?: boolean;
  /** The server host's path style (hostPathStyle); guessed from serverBackupDir when absent. */
  pathStyle?: PathStyle;
}): BackupPlan {
  quoteName(opts.database);
  const fileName = backupFileName(opts.database, opts.token);
  const serverPath = joinServerPath(opts.serverBackupDir, fileName, opts.pathStyle);
  const options = [
    'CHECKSUM',
    ...(opts.continueAfterError ? ['CONTINUE_AFTER_ERROR'] : []),
    'COPY_ONLY',
    'INIT',
    'FORMAT',
    ...(opts.compression ? ['COMPRESSION'] : []),
    `STATS = ${STATS_PERCENT}`,
  ];
  return {
    database: opts.database,
    fileName,
    serverPath,
    compression: opts.compression,
    backup: {
      purpose: `back up database ${opts.database} to ${serverPath}`,
      sql: `BACKUP DATABASE @db TO DISK = @path WITH ${options.join(', ')}`,
      params: { db: opts.database, path: serverPath },
    },
    verify: verifyStatement(serverPath),
    header: {
      purpose: `read the header of ${serverPath}`,
      sql: 'RESTORE HEADERONLY FROM DISK = @path',
      params: { path: serverPath },
    },
    fileList: fileListStatement(serverPath),
    rowCounts: rowCountsStatement(opts.database),
  };
}

/** RESTORE VERIFYONLY … WITH CHECKSUM: the server reads the whole .bak and checks page checksums. */
export function verifyStatement(serverPath: string): Statement {
  return {
    purpose: `verify ${serverPath} (RESTORE VERIFYONLY with checksums)`,
    sql: 'RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM',
    params: { path: serverPath },
  };
}

/**
 * What the server reads of a copied .bak before RESTORE … WITH MOVE, in order: a restore drill
 * (`drill`) first proves the whole backup with RESTORE VERIFYONLY … WITH CHECKSUM (as dbatools'
 * Test-DbaLastBackup does), so a damaged backup is named as such; a plain restore relies on the
 * RESTORE's own CHECKSUM and reads the file once.
 */
export function planBeforeRestore(serverPath: string, opts: { drill: boolean }): Statement[] {
  return opts.drill ? [verifyStatement(serverPath)] : [];
}

/** RESTORE FILELISTONLY: the logical and physical files inside a .bak. */
export function fileListStatement(serverPath: string): Statement {
  return {
    purpose: `list the files inside ${serverPath}`,
    sql: 'RESTORE FILELISTONLY FROM DISK = @path',
    params: { path: serverPath },
  };
}

// ---------------------------------------------------------------------------------------------
// Restore

/** One row of RESTORE FILELISTONLY that matters here. */
export interface BackupFile {
  logicalName: string;
  physicalName: string;
  /** D data, L log, F full-text catalog, S FILESTREAM / in-memory container. */
  type: string;
}

export interface FileMove {
  logicalName: string;
  /** New physical path on the server. */
  physicalName: string;
  type: string;
}

/** The folders new database files go to: the instance defaults, else the folders of master's files. */
export function defaultFileDirs(
  info: {
    defaultDataPath?: string | null;
    defaultLogPath?: string | null;
    masterDataFile?: string | null;
    masterLogFile?: string | null;
  },
  style?: PathStyle,
): { dataDir: string; logDir: string } | null {
  const dataDir = info.defaultDataPath || (info.masterDataFile ? serverDirname(info.masterDataFile, style) : null);
  const masterLogDir = info.masterLogFile ? serverDirname(info.masterLogFile, style) : null;
  const logDir = info.defaultLogPath || masterLogDir || dataDir;
  if (!dataDir || !logDir) return null;
  return { dataDir, logDir };
}

/**
 * New physical names for every file in the backup, under the instance's default data/log folders:
 * `<safe live name>-<hash>-<set id>-<token>-<n><ext>`. `token` is unique per restore run, so a
 * restore never collides with the live files, nor with those of an earlier restore of the same set.
 */
export function planMoves(
  files: BackupFile[],
  opts: { live: string; setId: string; token: string; dataDir: string; logDir: string; pathStyle?: PathStyle },
): FileMove[] {
  if (files.length === 0) throw new Error('the backup lists no files (RESTORE FILELISTONLY returned nothing)');
  const base = `${fileStem(opts.live)}-${safeFilePart(opts.setId, 40)}-${checkToken(opts.token)}`;
  let dataCount = 0;
  return files.map((f, i) => {
    const type = (f.type || 'D').toUpperCase();
    const original = /\.(mdf|ndf|ldf)$/i.exec(f.physicalName)?.[0]?.toLowerCase();
    let ext: string;
    if (type === 'L') ext = '.ldf';
    else if (type === 'D') ext = original && original !== '.ldf' ? original : dataCount === 0 ? '.mdf' : '.ndf';
    else ext = '';
    if (type === 'D') dataCount++;
    const dir = type === 'L' ? opts.logDir : opts.dataDir;
    const physicalName = joinServerPath(dir, `${base}-${i + 1}${ext}`, opts.pathStyle);
    return { logicalName: f.logicalName, physicalName, type };
  });
}

/**
 * RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1 …, RECOVERY, STATS = 1
 * (`recovery: false`: NORECOVERY, the first backup of a chain, on which differential and log backups apply).
 * `continueAfterError`: the backup was taken WITH CONTINUE_AFTER_ERROR from a damaged database (a
 * safety copy); it restores only WITH CONTINUE_AFTER_ERROR, and the damage comes back with it.
 */
export function restoreStatement(
  target: string,
  serverPath: string,
  moves: FileMove[],
  opts: { continueAfterError?: boolean; recovery?: boolean } = {},
): Statement {
  quoteName(target);
  const params: Record<string, string | number> = { db: target, path: serverPath };
  const moveClauses = moves.map((m, i) => {
    params[`l${i + 1}`] = m.logicalName;
    params[`p${i + 1}`] = m.physicalName;
    return `MOVE @l${i + 1} TO @p${i + 1}`;
  });
  const cae = opts.continueAfterError === true;
  const options = ['CHECKSUM', ...(cae ? ['CONTINUE_AFTER_ERROR'] : []), ...moveClauses];
  options.push(opts.recovery === false ? 'NORECOVERY' : 'RECOVERY', `STATS = ${STATS_PERCENT}`);
  return {
    purpose: `restore ${serverPath} into database ${target}${cae ? ' (continuing after errors)' : ''}`,
    sql: `RESTORE DATABASE @db FROM DISK = @path WITH ${options.join(', ')}`,
    params,
  };
}

/** Puts a database in SINGLE_USER: kicking others out (ROLLBACK IMMEDIATE) or failing if any (NO_WAIT). */
export function singleUserStatement(name: string, terminateConnections: boolean): Statement {
  return {
    purpose: `set database ${name} to SINGLE_USER${terminateConnections ? ', closing other sessions' : ''}`,
    sql: `ALTER DATABASE ${quoteName(name)} SET SINGLE_USER WITH ${terminateConnections ? 'ROLLBACK IMMEDIATE' : 'NO_WAIT'}`,
    params: {},
  };
}

/**
 * Sets a database back to MULTI_USER. `closeSessions` (ROLLBACK IMMEDIATE) also ends a connection
 * that took the single-user slot meanwhile (else the statement fails with 5064).
 */
export function multiUserStatement(name: string, closeSessions = false): Statement {
  return {
    purpose: `set database ${name} back to MULTI_USER`,
    sql: `ALTER DATABASE ${quoteName(name)} SET MULTI_USER${closeSessions ? ' WITH ROLLBACK IMMEDIATE' : ''}`,
    params: {},
  };
}

export function renameStatement(from: string, to: string): Statement {
  return {
    purpose: `rename database ${from} to ${to}`,
    sql: `ALTER DATABASE ${quoteName(from)} MODIFY NAME = ${quoteName(to)}`,
    params: {},
  };
}

/**
 * Takes a database and renames it in one batch (one round trip): SINGLE_USER (closing other
 * sessions only with `terminateConnections`, else failing while any is connected), then MODIFY
 * NAME. A connection that still slips into the single-user slot makes the rename fail with 5030;
 * the executor then runs the batch again (SWAP_ATTEMPTS). TRY/CATCH stops the batch at the first
 * error, so the rename never runs when the database was not taken.
 */
export function takeAndRenameStatement(from: string, to: string, terminateConnections: boolean): Statement {
  const q = quoteName(from);
  return {
    purpose: `take database ${from} (SINGLE_USER${terminateConnections ? ', closing sessions' : ''}), rename to ${to}`,
    sql: [
      'BEGIN TRY',
      `  ALTER DATABASE ${q} SET SINGLE_USER WITH ${terminateConnections ? 'ROLLBACK IMMEDIATE' : 'NO_WAIT'};`,
      `  ALTER DATABASE ${q} MODIFY NAME = ${quoteName(to)};`,
      'END TRY',
      'BEGIN CATCH',
      '  THROW;',
      'END CATCH',
    ].join('\n'),
    params: {},
  };
}

/** Drops a database made by this driver if it exists (a temporary one: nobody else uses it). */
export function dropIfExistsStatement(name: string): Statement {
  return {
    purpose: `drop database ${name}`,
    sql: `IF DB_ID(@name) IS NOT NULL DROP DATABASE ${quoteName(name)}`,
    params: { name },
  };
}

/**
 * Drops a safety copy: closes any session on it and drops it in one batch, so no connection can
 * take the single-user slot in between (the executor retries on a lock error).
 */
export function dropSafetyCopyStatements(name: string): Statement[] {
  const q = quoteName(name);
  return [
    {
      purpose: `close sessions on ${name} and drop it`,
      sql: [
        'IF DB_ID(@name) IS NOT NULL',
        'BEGIN',
        `  ALTER DATABASE ${q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;`,
        `  DROP DATABASE ${q};`,
        'END',
      ].join('\n'),
      params: { name },
    },
  ];
}

/**
 * The swap of a database into place: the restored temporary database, or (swap back) a kept
 * safety copy.
 * - `steps` run in order: take the live database and rename it to `safety` (one batch), then rename
 *   `incoming` to the live name; `finally…` always runs afterwards (MULTI_USER on the old live
 *   database under whatever name it has by then).
 * - When `liveExists` is false there is nothing to protect: `incoming` is renamed.
 */
export interface SwapPlan {
  live: string;
  /** The database that becomes the live one (the temporary database, or a safety copy swapped back). */
  incoming: string;
  safety: string | null;
  steps: Statement[];
  /** MULTI_USER for the old live database under its safety name (after a full swap). */
  finallyAfterSwap: Statement | null;
  /** MULTI_USER for the old live database under its own name (when the swap stopped before renaming it). */
  finallyBeforeRename: Statement | null;
  /** Undo of a half swap (old live already renamed, the incoming one not): rename it back. */
  rollbackRename: Statement | null;
}

export function planSwap(opts: {
  live: string;
  setId: string;
  liveExists: boolean;
  terminateConnections: boolean;
  incoming?: string;
}): SwapPlan {
  const { temp, safety } = stagingNames(opts.live, opts.setId);
  const incoming = opts.incoming ?? temp;
  if (incoming === opts.live || incoming === safety) {
    throw new Error(`cannot swap ${incoming} into ${opts.live}: same name`);
  }
  if (!opts.liveExists) {
    const steps = [renameStatement(incoming, opts.live)];
    const none = { finallyAfterSwap: null, finallyBeforeRename: null, rollbackRename: null };
    return { live: opts.live, incoming, safety: null, steps, ...none };
  }
  return {
    live: opts.live,
    incoming,
    safety,
    steps: [takeAndRenameStatement(opts.live, safety, opts.terminateConnections), renameStatement(incoming, opts.live)],
    finallyAfterSwap: multiUserStatement(safety, true),
    finallyBeforeRename: multiUserStatement(opts.live, opts.terminateConnections),
    rollbackRename: renameStatement(safety, opts.live),
  };
}

/** Parses one STATS info message (`10 percent processed.`) to a percentage; null for other messages. */
export function parseStatsPercent(message: string): number | null {
  const m = /^\s*(\d{1,3}) percent processed\.?\s*$/i.exec(message);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 0 && n <= 100 ? n : null;
}

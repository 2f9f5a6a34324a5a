import {
  STATS_PERCENT,
  type Statement,
  nameProblem,
  quoteName,
  type PathStyle,
  joinServerPath,
  backupFileName,
} from './names.js';

/**
 * Pure statement planning for the SQL Server driver: metadata questions, the settings a restore puts back, and
 * backup (the restore and swap statements are in swap-plan.ts, names in names.ts). Every T-SQL statement the
 * driver sends, with its parameters, as printable data; no I/O here, the job files beside it execute them.
 *
 * Rules kept by every function in this file:
 * - database names, paths and logical file names travel as parameters (`@db`, `@path`, …) wherever
 *   T-SQL accepts a variable (BACKUP/RESTORE targets, DISK, MOVE, DB_ID, WHERE clauses);
 * - where T-SQL demands an identifier (ALTER DATABASE, DROP DATABASE, three-part names) it is
 *   quoted exactly like QUOTENAME: `[` … `]` with `]` doubled, and refused where QUOTENAME would
 *   return NULL (more than 128 characters) or where SQL Server would refuse the name (empty, NUL).
 */

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
 * Broker, recovery model, compatibility level, read-only), TDE (`is_encrypted`), availability
 * group membership (`replica_id`), change data capture (`is_cdc_enabled`) and whether it is published for
 * replication (`is_published`, `is_merge_published`) of one database; no row when it does not exist.
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
      '  CAST(d.replica_id AS nvarchar(36)) AS replicaId, CAST(d.is_cdc_enabled AS int) AS cdcEnabled,',
      '  CAST(CASE WHEN d.is_published = 1 OR d.is_merge_published = 1 THEN 1 ELSE 0 END AS int) AS published',
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

/** Product names of SQL Server major.minor versions (ProductVersion), for messages. */
const PRODUCTS: Record<string, string> = {
  '8.0': 'SQL Server 2000',
  '9.0': 'SQL Server 2005',
  '10.0': 'SQL Server 2008',
  '10.50': 'SQL Server 2008 R2',
  '11.0': 'SQL Server 2012',
  '12.0': 'SQL Server 2014',
  '13.0': 'SQL Server 2016',
  '14.0': 'SQL Server 2017',
  '15.0': 'SQL Server 2019',
  '16.0': 'SQL Server 2022',
  '17.0': 'SQL Server 2025',
};

/** `16.0.4135.4` → [16, 0]; null when it is not a ProductVersion. */
function majorMinor(version: string | null | undefined): [number, number] | null {
  const m = /^\s*(\d+)\.(\d+)/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** `SQL Server 2019 (15.0)`, or the version itself when its product is not known. */
export function productName(version: string): string {
  const mm = majorMinor(version);
  if (!mm) return version;
  const key = `${mm[0]}.${mm[1]}`;
  return PRODUCTS[key] ? `${PRODUCTS[key]} (${key})` : `SQL Server ${key}`;
}

/**
 * Pure: whether a backup made by SQL Server `backupVersion` cannot be restored on `serverVersion` (both
 * ProductVersion): SQL Server never restores a backup of a later version (major.minor: 10.50, 2008 R2, is later
 * than 10.0), error 3169 (RESTORE HEADERONLY / FILELISTONLY of one say 3241, "incorrectly formed", instead).
 * False when either is unknown.
 */
export function newerThanServer(
  backupVersion: string | null | undefined,
  serverVersion: string | null | undefined,
): boolean {
  const b = majorMinor(backupVersion);
  const t = majorMinor(serverVersion);
  if (!b || !t) return false;
  return b[0] > t[0] || (b[0] === t[0] && b[1] > t[1]);
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

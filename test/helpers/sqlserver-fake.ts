/**
 * An in-process fake of the small connection interface the SQL Server driver uses
 * (`SqlConnection`). It interprets the driver's statements against an in-memory catalogue of
 * databases, writes and reads real .bak stand-in files in a temp folder (standing for the folder
 * shared between SQL Server and respaldo), records every statement, and injects errors at chosen
 * statements. Used by test/sqlserver-executor-*.test.ts (fixtures in sqlserver-executor.ts) and the driver
 * conformance suite.
 * One file of about 790 lines: one server model (catalogue, LSNs, msdb) that every statement it interprets reads and
 * changes; split, its state would be shared across files.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DatabaseConfig } from '../../src/core/types.js';
import type { ConnectionSettings, QueryOptions, SqlConnection } from '../../src/drivers/sqlserver/index.js';
// ---------------------------------------------------------------------------------------------
// The fake server

export interface FakeDb {
  /** Identity of the database content: survives renames, so tests can tell which one is where. */
  id: string;
  state: string;
  userAccess: 'MULTI_USER' | 'SINGLE_USER';
  tables: Record<string, number>;
  sessions: string[];
  /** The connection holding the single-user slot (another client took it), if any. */
  holder: string | null;
  owner: string;
  trustworthy: boolean;
  brokerEnabled: boolean;
  /** Service Broker id: copies restored from the same database share it. */
  brokerGuid: string;
  recoveryModel: string;
  compatibilityLevel: number;
  readOnly: boolean;
  /** TDE: thumbprint of the certificate protecting the database encryption key. */
  tdeThumbprint: string | null;
  replicaId: string | null;
  /** Physical files (restored databases: the MOVE targets). */
  files: string[];
  /** Pages damaged: BACKUP needs CONTINUE_AFTER_ERROR. */
  damaged: boolean;
  /** The end of its log (LSNs are bigints beyond 2^53, as on a real server). */
  lsn: bigint;
  /** Recovery fork (sys.database_recovery_status.recovery_fork_guid). */
  fork: string;
  /** CheckpointLSN of the newest non-COPY_ONLY full: the differential base. */
  diffBase: bigint | null;
  /** Where the next log backup starts (null: no full yet, BACKUP LOG fails). */
  logFrom: bigint | null;
  logFromAt?: number;
  /** Writes with the LSN and time they were made (log backups carry them; STOPAT replays up to a time). */
  writes: { lsn: bigint; at: number; tables: Record<string, number> }[];
  /** A database being restored (NORECOVERY): the LSN reached, the full it started from, its fork. */
  restoring?: { lsn: bigint; fullCheckpoint: bigint; fork: string; logicals?: string[] };
  /** Files added after the database was made (ALTER DATABASE … ADD FILE): in its backups' FILELISTONLY. */
  addedFiles?: { logicalName: string; physicalName: string; type: string }[];
  /** Change data capture (is_cdc_enabled): a restore under another name keeps it only WITH KEEP_CDC. */
  cdcEnabled?: boolean;
  /** Published for replication (is_published). */
  published?: boolean;
}

/** What RESTORE HEADERONLY and msdb say of a fake backup. */
export interface FakeHeader {
  kind: 'full' | 'differential' | 'log';
  copyOnly: boolean;
  first: string;
  last: string;
  checkpoint: string;
  databaseBackup: string;
  fork: string;
  started: number;
  finished: number;
  guid: string;
  /** Log backups: the time its log starts at (where the previous log backup, or the first full, ended). */
  coversFrom: number;
}

/** What the fake writes as a .bak: enough to restore the database it came from. */
export interface FakeBak {
  magic: string;
  database: string;
  id: string;
  tables: Record<string, number>;
  compressed: boolean;
  damaged?: boolean;
  tde?: string | null;
  settings?: Partial<FakeDb>;
  header?: FakeHeader;
  /** Files added after the database was made (FakeDb.addedFiles). */
  addedFiles?: { logicalName: string; physicalName: string; type: string }[];
  /** ProductVersion of the server that made it. */
  serverVersion?: string;
  /** Log backups: the writes it holds. */
  writes?: { lsn: string; at: number; tables: Record<string, number> }[];
}

export const LOCKED = 'The database could not be exclusively locked to perform the operation.';

export interface Recorded {
  sql: string;
  params: Record<string, string | number>;
}

export type Injector = (sql: string, params: Record<string, string | number>, index: number) => Error | null;

export function sqlError(number: number, message: string): Error {
  return Object.assign(new Error(message), { name: 'RequestError', code: 'EREQUEST', number });
}

export const SERVER_DIR = '/var/opt/mssql/backup';
export const PASSWORD = 'S3cret!pw';

/** The config of SQL Server database `users` on the fake server, sharing `localBackupDir` with it. */
export function fakeMssqlConfig(localBackupDir: string, extra: Partial<DatabaseConfig> = {}): DatabaseConfig {
  return {
    name: 'users',
    engine: 'sqlserver',
    server: 'db1',
    user: 'backup',
    password: PASSWORD,
    database: 'users',
    trustServerCertificate: true,
    serverBackupDir: SERVER_DIR,
    localBackupDir,
    ...extra,
  };
}

function unquote(id: string): string {
  return id.slice(1, -1).replaceAll(']]', ']');
}
const ID = String.raw`(\[(?:[^\]]|\]\])*\])`;

/** The statements inside a TRY/CATCH or IF … BEGIN … END batch, one per line. */
function batchBody(sql: string): string[] {
  return sql
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => !['BEGIN', 'END', 'END TRY', 'BEGIN CATCH', 'THROW;', 'END CATCH'].includes(l))
    .filter((l, i, all) => all.indexOf('END TRY') < 0 || i < all.indexOf('END TRY'))
    .map((l) => l.replace(/;$/, ''));
}

/** A HEADERONLY row: LSNs as the driver receives numeric(25,0), doubles (beyond 2^53: not exact). */
function headerRow(h: FakeHeader): Record<string, unknown> {
  return {
    BackupType: h.kind === 'full' ? 1 : h.kind === 'differential' ? 5 : 2,
    IsCopyOnly: h.copyOnly ? 1 : 0,
    FirstLSN: Number(h.first),
    LastLSN: Number(h.last),
    CheckpointLSN: Number(h.checkpoint),
    DatabaseBackupLSN: Number(h.databaseBackup),
    FirstRecoveryForkID: h.fork.toLowerCase(),
    RecoveryForkID: h.fork.toLowerCase(),
    BackupStartDate: new Date(h.started),
    BackupFinishDate: new Date(h.finished),
    TimeZone: 0,
    BackupSetGUID: h.guid.toLowerCase(),
  };
}

export class FakeServer {
  dbs = new Map<string, FakeDb>();
  log: Recorded[] = [];
  inject: Injector = () => null;
  edition = 'Developer Edition (64-bit)';
  engineEdition = 3;
  /** SERVERPROPERTY('ProductVersion'); a .bak records it, and a server of an earlier version cannot read one. */
  productVersion = '16.0.4135.4';
  canViewServerState = 1;
  /** host_platform of sys.dm_os_host_info; null: the view does not exist (SQL Server 2016). */
  hostPlatform: string | null = 'Linux';
  /** Server certificates in master by thumbprint (TDE). */
  certificates = new Map<string, string>();
  /** Logins on the server (ALTER AUTHORIZATION needs one). */
  logins = new Set(['backup', 'appowner']);
  /**
   * Competing connections (an application pool reconnecting, the async statistics task): between
   * two round trips, each takes the free single-user slot of a SINGLE_USER database, this many times.
   */
  competitors = 0;
  /** Called while BACKUP runs (between its STATS messages): rows written, a cancel, … */
  duringBackup: (options: QueryOptions) => void = () => undefined;
  /** Where the fake writes .bak files (normally the test's localBackupDir). */
  writeDir: string;
  closed = 0;
  opened = 0;
  lastSettings: ConnectionSettings | null = null;
  connectError: Error | null = null;
  /** The server's clock (ms since the epoch, UTC; the fake server's time zone is UTC). */
  clock = Date.UTC(2026, 10, 22, 2, 0, 0);
  /** How far a write and a BACKUP move the clock (0: tests that move it themselves, with the system time). */
  writeStep = 60_000;
  backupStep = 30_000;
  /** msdb.dbo.backupset: every backup taken on this server, respaldo's and others'. */
  history: { database: string; header: FakeHeader; device: string }[] = [];
  /** The login cannot read msdb (error 229). */
  msdbDenied = false;

  constructor(readonly localDir: string) {
    this.writeDir = localDir;
  }

  addDb(name: string, tables: Record<string, number>, extra: Partial<FakeDb> = {}): FakeDb {
    const db: FakeDb = {
      id: `${name}#original`,
      state: 'ONLINE',
      userAccess: 'MULTI_USER',
      tables,
      sessions: [],
      holder: null,
      owner: 'appowner',
      trustworthy: false,
      brokerEnabled: false,
      brokerGuid: `guid-${name}`,
      recoveryModel: 'FULL',
      compatibilityLevel: 160,
      readOnly: false,
      tdeThumbprint: null,
      replicaId: null,
      files: [`/var/opt/mssql/data/${name}.mdf`, `/var/opt/mssql/data/${name}_log.ldf`],
      damaged: false,
      lsn: 34000000010000000n,
      fork: 'A1A1A1A1-0000-0000-0000-00000000F0F0',
      diffBase: null,
      logFrom: null,
      writes: [],
      ...extra,
    };
    this.dbs.set(name, db);
    return db;
  }

  /** An application write: new row counts, one minute later, at a later LSN. */
  write(name: string, tables: Record<string, number>): void {
    const db = this.db(name);
    this.clock += this.writeStep;
    db.lsn += 100n;
    db.tables = { ...tables };
    db.writes.push({ lsn: db.lsn, at: this.clock, tables: { ...tables } });
  }

  /**
   * BACKUP of one kind, as SQL Server keeps its LSNs: a full sets the differential base (unless COPY_ONLY) and
   * starts the log chain; a log backup runs from where the previous one ended. Recorded in `history` (msdb).
   */
  takeBackup(name: string, kind: FakeHeader['kind'], copyOnly: boolean, device: string): FakeHeader {
    const db = this.db(name);
    if (kind === 'differential' && db.diffBase === null)
      throw sqlError(
        3035,
        `Cannot perform a differential backup for database "${name}", because a current database backup does not exist.`,
      );
    if (kind === 'log' && db.recoveryModel === 'SIMPLE')
      throw sqlError(4208, 'The statement BACKUP LOG is not allowed while the recovery model is SIMPLE.');
    if (kind === 'log' && db.logFrom === null)
      throw sqlError(4214, 'BACKUP LOG cannot be performed because there is no current database backup.');
    const started = this.clock;
    this.clock += this.backupStep;
    const first = kind === 'log' ? db.logFrom! : db.lsn + 1n;
    const checkpoint = db.lsn + 2n;
    db.lsn += 3n;
    const header: FakeHeader = {
      kind,
      copyOnly,
      first: String(first),
      last: String(db.lsn),
      checkpoint: String(checkpoint),
      databaseBackup: String(db.diffBase ?? 0n),
      fork: db.fork,
      started,
      finished: this.clock,
      coversFrom: db.logFromAt ?? started,
      guid: `B5B5B5B5-0000-0000-0000-${String(this.history.length + 1).padStart(12, '0')}`,
    };
    if (kind === 'full' && !copyOnly) db.diffBase = checkpoint;
    // A full (or, after SIMPLE recovery, a differential) starts the log chain.
    if (kind !== 'log' && db.logFrom === null) [db.logFrom, db.logFromAt] = [first, started];
    if (kind === 'log' && !copyOnly) [db.logFrom, db.logFromAt] = [db.lsn, this.clock]; // COPY_ONLY truncates nothing
    this.history.push({ database: name, header, device });
    return header;
  }

  /** serverBackupDir as this fake server sees it (a Linux host: `/` is its only separator). */
  serverDir = SERVER_DIR;

  local(serverPath: string): string {
    expect(serverPath.startsWith(this.serverDir + '/')).toBe(true);
    return join(this.writeDir, serverPath.slice(this.serverDir.length + 1));
  }

  readBak(serverPath: string): FakeBak {
    const path = this.local(serverPath);
    if (!existsSync(path))
      throw sqlError(
        3201,
        `Cannot open backup device '${serverPath}'. Operating system error 2(The system cannot find the file specified.).`,
      );
    let parsed: FakeBak;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      // A damaged .bak, as SQL Server reports one it cannot read.
      throw sqlError(
        3241,
        'The media family on device is incorrectly formed. SQL Server cannot process this media family.',
      );
    }
    if (parsed.magic !== 'FAKEBAK')
      throw sqlError(
        3241,
        'The media family on device is incorrectly formed. SQL Server cannot process this media family.',
      );
    const majorMinor = (v: string): number[] => v.split('.').slice(0, 2).map(Number);
    const [bMajor, bMinor] = majorMinor(parsed.serverVersion ?? '0.0');
    const [sMajor, sMinor] = majorMinor(this.productVersion);
    if (bMajor! > sMajor! || (bMajor === sMajor && bMinor! > sMinor!))
      // What RESTORE HEADERONLY/FILELISTONLY say of a backup of a later version (RESTORE DATABASE: 3169).
      throw sqlError(
        3241,
        'The media family on device is incorrectly formed. SQL Server cannot process this media family.',
      );
    if (parsed.tde && !this.certificates.has(parsed.tde)) {
      throw sqlError(33111, `Cannot find server certificate with thumbprint '0x${parsed.tde}'.`);
    }
    return parsed;
  }

  /** What happens between two round trips of the driver's connection: competitors take free single-user slots. */
  private betweenRoundTrips(): void {
    for (const db of this.dbs.values()) {
      if (this.competitors > 0 && db.userAccess === 'SINGLE_USER' && db.holder === null) {
        db.holder = 'app pool';
        this.competitors--;
      }
    }
  }

  connector = async (settings: ConnectionSettings): Promise<SqlConnection> => {
    this.lastSettings = settings;
    if (this.connectError) throw this.connectError;
    this.opened++;
    return {
      query: async (sql, params = {}, options: QueryOptions = {}) => {
        this.betweenRoundTrips();
        const index = this.log.length;
        this.log.push({ sql, params });
        const injected = this.inject(sql, params, index);
        if (injected) throw injected;
        if (sql.startsWith('BEGIN TRY\n')) {
          for (const st of batchBody(sql)) this.execute(st, params, options);
          return [];
        }
        const guarded = /^IF DB_ID\(@name\) IS NOT NULL\nBEGIN\n/.exec(sql);
        if (guarded) {
          if (this.dbs.has(String(params.name))) for (const st of batchBody(sql)) this.execute(st, params, options);
          return [];
        }
        return this.execute(sql, params, options);
      },
      close: async () => {
        this.closed++;
      },
    };
  };

  private db(name: string): FakeDb {
    const db = this.dbs.get(name);
    if (!db) {
      const why = 'the database does not exist, or the database is not in a state that allows access checks.';
      throw sqlError(5011, `User does not have permission to alter database '${name}', ${why}`);
    }
    return db;
  }

  private stats(sql: string, options: QueryOptions, during?: () => void): void {
    const every = Number(/STATS = (\d+)/.exec(sql)?.[1] ?? 10);
    for (let pct = every; pct <= 100; pct += every) {
      options.onInfo?.(`${pct} percent processed.`);
      if (pct === 50) during?.();
      if (options.signal?.aborted) {
        throw Object.assign(new Error('Canceled.'), { name: 'RequestError', code: 'ECANCEL' });
      }
    }
  }

  private execute(sql: string, p: Record<string, string | number>, options: QueryOptions): Record<string, unknown>[] {
    let m: RegExpExecArray | null;
    if (sql.includes("SERVERPROPERTY('ProductVersion')")) {
      return [
        {
          productVersion: this.productVersion,
          productLevel: 'RTM',
          edition: this.edition,
          engineEdition: this.engineEdition,
          versionText: 'Microsoft SQL Server 2022',
          defaultDataPath: '/var/opt/mssql/data/',
          defaultLogPath: '/var/opt/mssql/log/',
          masterDataFile: '/var/opt/mssql/data/master.mdf',
          masterLogFile: '/var/opt/mssql/data/mastlog.ldf',
          canViewServerState: this.canViewServerState,
        },
      ];
    }
    if (sql === 'SELECT host_platform AS hostPlatform FROM sys.dm_os_host_info') {
      if (this.hostPlatform === null) throw sqlError(208, "Invalid object name 'sys.dm_os_host_info'.");
      return [{ hostPlatform: this.hostPlatform }];
    }
    if (sql.includes('FROM sys.databases d WHERE d.name = @name')) {
      const db = this.dbs.get(String(p.name));
      if (!db) return [];
      const bit = (b: boolean): number => (b ? 1 : 0);
      return [
        {
          name: p.name,
          state: db.state,
          userAccess: db.userAccess,
          recoveryModel: db.recoveryModel,
          sizeBytes: '16777216',
          owner: db.owner,
          trustworthy: bit(db.trustworthy),
          brokerEnabled: bit(db.brokerEnabled),
          compatibilityLevel: db.compatibilityLevel,
          readOnly: bit(db.readOnly),
          encrypted: bit(db.tdeThumbprint !== null),
          replicaId: db.replicaId,
          cdcEnabled: bit(db.cdcEnabled === true),
          published: bit(db.published === true),
        },
      ];
    }
    if (sql.includes('FROM sys.dm_database_encryption_keys k')) {
      if (!this.canViewServerState) throw sqlError(300, 'VIEW SERVER STATE permission was denied on object');
      const db = this.dbs.get(String(p.name));
      if (!db?.tdeThumbprint) return [];
      const certificateName = this.certificates.get(db.tdeThumbprint) ?? null;
      return [{ encryptionState: 3, certificateName, thumbprint: db.tdeThumbprint, encryptorType: 'CERTIFICATE' }];
    }
    if (sql.includes('FROM sys.databases d')) {
      return [...this.dbs].map(([name, db]) => ({ name, state: db.state, userAccess: db.userAccess }));
    }
    if (sql.includes('sys.dm_exec_sessions')) {
      const db = this.dbs.get(String(p.name));
      const users = [...(db?.sessions ?? []), ...(db?.holder ? [db.holder] : [])];
      return users.map((s, i) => ({ sessionId: 60 + i, loginName: s, hostName: 'app1', programName: 'app' }));
    }
    if ((m = new RegExp(`FROM ${ID}\\.sys\\.tables`).exec(sql))) {
      const db = this.dbs.get(unquote(m[1]!));
      if (!db) throw sqlError(208, 'Invalid object name');
      if (db.state === 'RESTORING')
        throw sqlError(927, `Database '${unquote(m[1]!)}' cannot be opened. It is in the middle of a restore.`);
      return Object.entries(db.tables).map(([k, v]) => ({
        schemaName: k.split('.')[0],
        tableName: k.split('.')[1],
        rowCount: String(v),
      }));
    }
    if (sql.startsWith('BACKUP DATABASE @db TO DISK = @path') || sql.startsWith('BACKUP LOG @db TO DISK = @path')) {
      const db = this.dbs.get(String(p.db));
      if (!db) throw sqlError(911, `Database '${p.db}' does not exist.`);
      const kind = sql.startsWith('BACKUP LOG') ? 'log' : sql.includes('DIFFERENTIAL') ? 'differential' : 'full';
      const compressed = sql.includes('COMPRESSION');
      if (compressed && this.engineEdition === 4)
        throw sqlError(1844, 'BACKUP DATABASE WITH COMPRESSION is not supported on Express Edition (64-bit).');
      if (db.damaged && !sql.includes('CONTINUE_AFTER_ERROR')) {
        throw sqlError(3043, `BACKUP '${p.db}' detected an error on page (1:153) in file.`);
      }
      // The backup's consistency point is the end of the data copy: rows written meanwhile are in it.
      this.stats(sql, options, () => this.duringBackup(options));
      options.onInfo?.("Processed 352 pages for database 'x', file 'x' on file 1.");
      const { owner, trustworthy, brokerEnabled, brokerGuid, recoveryModel, compatibilityLevel, readOnly } = db;
      const cdcEnabled = db.cdcEnabled === true;
      const settings = {
        ...{ owner, trustworthy, brokerEnabled, brokerGuid, recoveryModel, compatibilityLevel, readOnly, cdcEnabled },
      };
      const before = db.logFrom;
      const header = this.takeBackup(String(p.db), kind, sql.includes('COPY_ONLY'), String(p.path));
      const writes = db.writes
        .filter((w) => kind === 'log' && before !== null && w.lsn > before && w.lsn <= BigInt(header.last))
        .map((w) => ({ ...w, lsn: String(w.lsn) }));
      const bak = {
        magic: 'FAKEBAK',
        database: p.db,
        id: db.id,
        tables: db.tables,
        compressed,
        damaged: db.damaged,
        header,
        writes,
      };
      const made = { ...bak, tde: db.tdeThumbprint, settings, serverVersion: this.productVersion };
      if (db.addedFiles?.length) Object.assign(made, { addedFiles: db.addedFiles });
      writeFileSync(this.local(String(p.path)), JSON.stringify(made));
      return [];
    }
    if (sql === 'RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM') {
      const bak = this.readBak(String(p.path));
      if (bak.damaged) throw sqlError(3189, 'Damage to the backup set was detected.');
      return [];
    }
    if (sql === 'RESTORE HEADERONLY FROM DISK = @path') {
      const bak = this.readBak(String(p.path));
      return [
        {
          Compressed: bak.compressed ? 1 : 0,
          BackupSize: 1000,
          CompressedBackupSize: bak.compressed ? 400 : 1000,
          DatabaseName: bak.database,
          ...(bak.header ? headerRow(bak.header) : {}),
        },
      ];
    }
    if (sql === 'RESTORE FILELISTONLY FROM DISK = @path') {
      const bak = this.readBak(String(p.path));
      return [
        {
          LogicalName: bak.database,
          PhysicalName: `/var/opt/mssql/data/${bak.database}.mdf`,
          Type: 'D',
          FileGroupName: 'PRIMARY',
          Size: 8388608,
        },
        {
          LogicalName: `${bak.database}_log`,
          PhysicalName: `/var/opt/mssql/data/${bak.database}_log.ldf`,
          Type: 'L',
          FileGroupName: null,
          Size: 8388608,
        },
        ...(bak.addedFiles ?? []).map((f) => ({
          LogicalName: f.logicalName,
          PhysicalName: f.physicalName,
          Type: f.type,
          FileGroupName: f.type === 'D' ? 'SECONDARY' : null,
          Size: 8388608,
        })),
      ];
    }
    const restoreRe = /^RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, (CONTINUE_AFTER_ERROR, )?/;
    const moves = 'MOVE @l1 TO @p1, MOVE @l2 TO @p2, (NO)?RECOVERY(?:, KEEP_CDC)?, STATS = \\d+$';
    if ((m = new RegExp(`${restoreRe.source}${moves}`).exec(sql))) {
      const bak = this.readBak(String(p.path));
      if (this.dbs.has(String(p.db))) throw sqlError(1801, `Database '${p.db}' already exists.`);
      // Only a full restores by itself (WITH RECOVERY); a differential or log backup needs its full first.
      if (bak.header && bak.header.kind !== 'full' && !m[2]) {
        const by = bak.header.kind === 'log' ? 'BACKUP LOG' : 'BACKUP DATABASE WITH DIFFERENTIAL';
        throw sqlError(
          3135,
          `The backup set in file '${p.path}' was created by ${by} and cannot be used for this restore operation.`,
        );
      }
      if (bak.damaged && !m[1]) {
        throw sqlError(3183, 'RESTORE detected an error on page (1:153) in database as read from the backup set.');
      }
      expect(p.l1).toBe(bak.database);
      expect(String(p.p1)).toMatch(/^\/var\/opt\/mssql\/data\/.+\.mdf$/);
      expect(String(p.p2)).toMatch(/^\/var\/opt\/mssql\/log\/.+\.ldf$/);
      const files = [String(p.p1), String(p.p2)];
      for (const [name, other] of this.dbs) {
        const clash = files.find((f) => other.files.includes(f));
        if (clash) {
          throw sqlError(1834, `The file '${clash}' cannot be overwritten. It is being used by database '${name}'.`);
        }
      }
      this.stats(sql, options);
      const st = bak.settings ?? {};
      const guid = String(st.brokerGuid ?? `guid-${bak.database}`);
      const guidTaken = [...this.dbs.values()].some((d) => d.brokerGuid === guid);
      const extra = { id: bak.id, files, damaged: bak.damaged === true, tdeThumbprint: bak.tde ?? null };
      const db = this.addDb(String(p.db), { ...bak.tables }, extra);
      // RESTORE makes the restoring login the owner, resets TRUSTWORTHY, and leaves Service Broker
      // disabled when another database has the same broker id.
      const brokerEnabled = st.brokerEnabled === true && !guidTaken;
      Object.assign(db, { owner: 'backup', trustworthy: false, brokerGuid: guid, brokerEnabled });
      db.recoveryModel = st.recoveryModel ?? 'FULL';
      db.compatibilityLevel = st.compatibilityLevel ?? 160;
      db.readOnly = st.readOnly === true;
      // Restored under another name, a database loses change data capture unless KEEP_CDC (only WITH RECOVERY).
      db.cdcEnabled = st.cdcEnabled === true && sql.includes(', RECOVERY, KEEP_CDC,');
      if (m[2]) {
        if (bak.header?.kind !== 'full') throw sqlError(3136, 'This differential backup cannot be restored.');
        db.state = 'RESTORING';
        const h = bak.header;
        db.restoring = { lsn: BigInt(h.last), fullCheckpoint: BigInt(h.checkpoint), fork: h.fork };
      }
      return [];
    }
    if (
      (m =
        /^RESTORE (DATABASE|LOG) @db FROM DISK = @path WITH CHECKSUM, (?:MOVE @l\d+ TO @p\d+, )*(NO)?RECOVERY(?:, KEEP_CDC)?(, STOPAT = @t)?, STATS = \d+$/.exec(
          sql.split('\n').at(-1)!,
        ))
    ) {
      const bak = this.readBak(String(p.path));
      const db = this.dbs.get(String(p.db));
      const h = bak.header!;
      if (!db?.restoring)
        throw sqlError(
          3117,
          'The log or differential backup cannot be restored because no files are ready to rollforward.',
        );
      const r = db.restoring;
      if (m[1] === 'DATABASE') {
        if (h.kind !== 'differential' || BigInt(h.databaseBackup) !== r.fullCheckpoint)
          throw sqlError(
            3136,
            'This differential backup cannot be restored because the database has not been restored to the correct earlier state.',
          );
        db.tables = { ...bak.tables };
      } else {
        if (h.kind !== 'log') throw sqlError(4326, 'The backup set is not a log backup.');
        if (BigInt(h.first) > r.lsn)
          throw sqlError(
            4305,
            `The log in this backup set begins at LSN ${h.first}, which is too recent to apply to the database. An earlier log backup that includes LSN ${r.lsn} can be restored.`,
          );
        if (BigInt(h.last) <= r.lsn)
          throw sqlError(
            4326,
            `The log in this backup set terminates at LSN ${h.last}, which is too early to apply to the database.`,
          );
        if (h.fork !== r.fork)
          throw sqlError(4319, 'A previous restore operation was interrupted and did not complete processing on file.');
        const stop = m[3] ? Date.parse(String(p.stopAt)) : Infinity;
        expect(m[3] ? sql.startsWith('DECLARE @t datetime') : true).toBe(true);
        if (stop < h.coversFrom)
          throw sqlError(
            4338,
            'The STOPAT clause specifies a point too early to allow this backup step to be applied.',
          );
        for (const w of bak.writes ?? []) if (w.at <= stop && BigInt(w.lsn) > r.lsn) db.tables = { ...w.tables };
        // The log a backup holds ends where BACKUP LOG started: a STOPAT after that applies it whole and leaves the
        // database RESTORING (with only an informational message) for a later log backup to go on.
        if (m[3] && stop > h.started) {
          options.onInfo?.(
            'This backup set contains records that were logged before the designated point in time. ' +
              'The database is being left in the restoring state so that more roll forward can be performed.',
          );
          r.lsn = BigInt(h.last);
          this.stats(sql, options);
          return [];
        }
      }
      // A file this backup adds is created where a MOVE puts it, else at its path on the source server, which
      // this server does not have (a new server): error 5133 / 3156, as SQL Server says it.
      for (const f of bak.addedFiles ?? []) {
        if (r.logicals?.includes(f.logicalName)) continue;
        const k = Object.keys(p).find((key) => /^l\d+$/.test(key) && p[key] === f.logicalName);
        if (!k) {
          throw sqlError(
            5133,
            `Directory lookup for the file "${f.physicalName}" failed with the operating system error 2(The system cannot find the file specified.).`,
          );
        }
        expect(String(p[`p${k.slice(1)}`])).toMatch(/^\/var\/opt\/mssql\/(data|log)\/.+\.(ndf|ldf)$/);
        db.files.push(String(p[`p${k.slice(1)}`]));
        r.logicals = [...(r.logicals ?? []), f.logicalName];
      }
      r.lsn = BigInt(h.last);
      this.stats(sql, options);
      if (!m[2]) {
        db.state = 'ONLINE';
        delete db.restoring;
        db.cdcEnabled = bak.settings?.cdcEnabled === true && sql.includes(', RECOVERY, KEEP_CDC');
      }
      return [];
    }
    if (sql.includes('FROM sys.database_recovery_status rs')) {
      if (this.msdbDenied)
        throw sqlError(229, "The SELECT permission was denied on the object 'backupset', database 'msdb'.");
      const db = this.dbs.get(String(p.db));
      if (!db) return [];
      const newest = (pick: (h: FakeHeader) => boolean) =>
        this.history.filter((x) => x.database === p.db && pick(x.header)).at(-1);
      const fu = newest((h) => h.kind === 'full' && !h.copyOnly);
      // The WHERE of the driver's query decides whether a DBA's COPY_ONLY log backup counts.
      const logCopyOnly = !sql.includes("b.type = 'L' AND b.is_copy_only = 0");
      const lg = newest((h) => h.kind === 'log' && (logCopyOnly || !h.copyOnly));
      return [
        {
          forkId: db.fork.toLowerCase(),
          lastLogBackupLsn: db.recoveryModel === 'SIMPLE' || db.logFrom === null ? null : String(db.logFrom),
          fullCheckpointLsn: fu?.header.checkpoint ?? null,
          fullFinishedAt: fu ? new Date(fu.header.finished) : null,
          fullDevice: fu?.device ?? null,
          logLastLsn: lg?.header.last ?? null,
          logFinishedAt: lg ? new Date(lg.header.finished) : null,
          logDevice: lg?.device ?? null,
        },
      ];
    }
    if (sql.includes('FROM msdb.dbo.backupset b WHERE b.backup_set_uuid = @id')) {
      if (this.msdbDenied)
        throw sqlError(229, "The SELECT permission was denied on the object 'backupset', database 'msdb'.");
      const h = this.history.find((x) => x.header.guid === String(p.id).toUpperCase())?.header;
      if (!h) return [];
      return [{ firstLsn: h.first, lastLsn: h.last, checkpointLsn: h.checkpoint, databaseBackupLsn: h.databaseBackup }];
    }
    if ((m = new RegExp(`^ALTER DATABASE ${ID} SET SINGLE_USER WITH (ROLLBACK IMMEDIATE|NO_WAIT)$`).exec(sql))) {
      const name = unquote(m[1]!);
      const db = this.db(name);
      if (db.state === 'RESTORING')
        throw sqlError(5052, 'ALTER DATABASE is not permitted while a database is in the Restoring state.');
      if (['OFFLINE', 'SUSPECT', 'RECOVERY_PENDING'].includes(db.state)) {
        const why = 'the database does not exist, or the database is not in a state that allows access checks.';
        throw sqlError(5011, `User does not have permission to alter database '${name}', ${why}`);
      }
      if (m[2] === 'NO_WAIT' && (db.sessions.length > 0 || db.holder)) {
        throw sqlError(5070, `Database state cannot be changed while other users are using the database '${name}'`);
      }
      db.sessions = [];
      db.holder = null;
      db.userAccess = 'SINGLE_USER';
      return [];
    }
    if ((m = new RegExp(`^ALTER DATABASE ${ID} SET MULTI_USER( WITH ROLLBACK IMMEDIATE)?$`).exec(sql))) {
      const name = unquote(m[1]!);
      const db = this.db(name);
      if (db.holder && !m[2]) {
        const why = 'The database is in single-user mode, and a user is currently connected to it.';
        throw sqlError(5064, `Changes to the state or options of database '${name}' cannot be made now. ${why}`);
      }
      if (m[2]) db.holder = null;
      if (db.holder) db.sessions.push(db.holder);
      db.holder = null;
      db.userAccess = 'MULTI_USER';
      return [];
    }
    if ((m = new RegExp(`^ALTER DATABASE ${ID} MODIFY NAME = ${ID}$`).exec(sql))) {
      const from = unquote(m[1]!);
      const to = unquote(m[2]!);
      const db = this.db(from);
      if (db.state === 'RESTORING')
        throw sqlError(5052, 'ALTER DATABASE is not permitted while a database is in the Restoring state.');
      if (this.dbs.has(to)) throw sqlError(1801, `Database '${to}' already exists.`);
      if (db.holder || db.sessions.length > 0) throw sqlError(5030, LOCKED);
      this.dbs.delete(from);
      this.dbs.set(to, db);
      return [];
    }
    if ((m = new RegExp(`^(?:IF DB_ID\\(@name\\) IS NOT NULL )?DROP DATABASE ${ID}$`).exec(sql))) {
      const name = unquote(m[1]!);
      expect(p.name).toBe(name);
      const db = this.dbs.get(name);
      if (db && (db.holder || db.sessions.length > 0)) {
        throw sqlError(3702, `Cannot drop database "${name}" because it is currently in use.`);
      }
      this.dbs.delete(name);
      return [];
    }
    if ((m = new RegExp(`^ALTER AUTHORIZATION ON DATABASE::${ID} TO ${ID}$`).exec(sql))) {
      const login = unquote(m[2]!);
      if (!this.logins.has(login)) {
        throw sqlError(15151, `Cannot find the principal '${login}', because it does not exist.`);
      }
      this.db(unquote(m[1]!)).owner = login;
      return [];
    }
    const option = String.raw`TRUSTWORTHY (ON|OFF)|RECOVERY (\w+)|COMPATIBILITY_LEVEL = (\d+)`;
    const withRollback = '(ENABLE_BROKER|DISABLE_BROKER|READ_ONLY|READ_WRITE) WITH ROLLBACK IMMEDIATE';
    if ((m = new RegExp(`^ALTER DATABASE ${ID} SET (?:${option}|${withRollback})$`).exec(sql))) {
      const db = this.db(unquote(m[1]!));
      if (m[2]) db.trustworthy = m[2] === 'ON';
      else if (m[3]) {
        db.recoveryModel = m[3];
        if (m[3] === 'SIMPLE') db.logFrom = null; // the log chain ends; a full or differential starts a new one
      } else if (m[4]) db.compatibilityLevel = Number(m[4]);
      else if (m[5] === 'ENABLE_BROKER') {
        if ([...this.dbs.values()].some((d) => d !== db && d.brokerEnabled && d.brokerGuid === db.brokerGuid)) {
          const why = 'because there is already an enabled Service Broker with the same ID.';
          throw sqlError(9772, `The Service Broker in database cannot be enabled ${why}`);
        }
        db.brokerEnabled = true;
      } else if (m[5] === 'DISABLE_BROKER') db.brokerEnabled = false;
      else db.readOnly = m[5] === 'READ_ONLY';
      return [];
    }
    if ((m = new RegExp(`^DBCC CHECKDB \\(${ID}\\) WITH NO_INFOMSGS, ALL_ERRORMSGS$`).exec(sql))) {
      const db = this.db(unquote(m[1]!));
      if (db.damaged) throw sqlError(8928, 'Object ID 5, index ID 1: Page (1:153) could not be processed.');
      return [];
    }
    throw new Error(`fake SQL Server does not understand: ${sql}`);
  }
}

/** Shared types: configuration after validation, manifests, set summaries. */
import type { DestinationConfig } from '../destinations/destination.js';

export type EngineName = 'sqlite' | 'postgres' | 'sqlserver';

/** Compression codec of stored files (src/engine/codec.ts). */
export type CodecName = 'gzip' | 'zstd';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres', 'sqlserver'];

export type BackupType = 'full' | 'schema';
export type SetType = BackupType | 'pre_restore';
export type SetStatus = 'completed' | 'partial' | 'failed';

/**
 * One database as written in backup_config.json, after `${VAR}` interpolation and engine detection.
 * Engine-specific fields are validated by the engine's driver (`Driver.validateConfig`).
 */
export interface DatabaseConfig {
  name: string;
  engine: EngineName;
  url?: string;
  /** SQLite: path of the database file (relative paths are relative to the config file). */
  path?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** PostgreSQL: folder of pg_dump/pg_restore (else PG_BIN_PATH, else PATH). */
  binPath?: string;
  /** PostgreSQL: also store roles and tablespaces (pg_dumpall --globals-only). */
  globals?: boolean;
  /** PostgreSQL: pg_dump --lock-wait-timeout ("30s", "5min", or milliseconds). */
  lockWaitTimeout?: string | number;
  /** SQL Server fields. */
  server?: string;
  instance?: string;
  encrypt?: boolean;
  trustServerCertificate?: boolean;
  serverBackupDir?: string;
  localBackupDir?: string;
  /** Compression level for this database (of the set's codec); overrides `compression.level`. */
  compressionLevel?: number;
  /** Anything else the engine accepts; kept so config rewrites do not drop it. */
  [key: string]: unknown;
}

export interface ApplicationFolder {
  path: string;
  include: string[];
  exclude: string[];
}

export interface RetentionPolicy {
  keepLast: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
}

export interface ScheduleJob {
  name: string;
  /** A cron expression, or a simple form such as `daily at 02:00`. */
  when: string;
  type: BackupType | 'verify';
  databases: string[];
  files: boolean;
  timezone?: string;
}

export interface BackupConfig {
  backupDir: string;
  databases: DatabaseConfig[];
  files: { config: string[]; application: ApplicationFolder[] };
  /** `level` is absent when the config leaves it to each engine's default (see gzipLevelFor). */
  compression: { codec?: CodecName; level?: number };
  retention: RetentionPolicy;
  schedule: { jobs: ScheduleJob[] };
  /** Name of this server's folder on destinations (default: the host name). */
  source?: string;
  /** Off-site copies (src/destinations/). */
  destinations?: DestinationConfig[];
}

/** A config as loaded: absolute paths resolved, plus where it came from. */
export interface LoadedConfig extends BackupConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Folder of the config file; relative paths in the config are relative to it. */
  baseDir: string;
  /** Values that came from `${VAR}` interpolation of secrets, to be masked in any output. */
  secrets: string[];
}

export interface DatabaseError {
  message: string;
  hint: string | null;
}

/** One database in a manifest. */
export interface DatabaseEntry {
  name: string;
  engine: EngineName;
  /** Path of the stored file relative to the set folder; null when the database failed. */
  file: string | null;
  /** Dump format, e.g. `sqlite-db`, `sqlite-sql`, `pg-custom`, `mssql-bak`. */
  format: string;
  /** Whether respaldo compressed the stored file (with `codec`). */
  compressed: boolean;
  /** Codec of a compressed stored file; absent in sets made before zstd, which are gzip. */
  codec?: CodecName;
  rawBytes: number;
  storedBytes: number;
  md5: string | null;
  sha256: string | null;
  /** Rows per table (exact for SQLite/SQL Server, estimates for PostgreSQL where noted in details). */
  tables: Record<string, number> | null;
  durationMs: number;
  error: DatabaseError | null;
  /** Engine facts: server version, client version, database size, …. */
  details: Record<string, unknown>;
  /** Extra stored files for this database (e.g. PostgreSQL globals). */
  extras?: StoredFile[];
  /** For pre_restore sets of server engines: the renamed live database that is the safety copy. */
  safetyDatabase?: string;
}

export interface StoredFile {
  file: string;
  compressed: boolean;
  /** As DatabaseEntry.codec. */
  codec?: CodecName;
  rawBytes: number;
  storedBytes: number;
  md5: string;
  sha256: string;
  role?: string;
}

/** One config or application file in a manifest. */
export interface FileEntry {
  group: 'config' | 'application';
  /** Absolute source path at backup time. */
  source: string;
  /** Path relative to its group root (what is restored under the target folder). */
  relative: string;
  kind: 'file' | 'symlink';
  /** Stored path relative to the set folder (files only). */
  stored: string | null;
  linkTarget: string | null;
  size: number;
  mode: number;
  mtime: string;
  md5: string | null;
  sha256: string | null;
}

export interface Manifest {
  schemaVersion: 1;
  id: string;
  type: SetType;
  description: string | null;
  startedAt: string;
  completedAt: string;
  status: SetStatus;
  tool: { name: 'respaldo'; version: string };
  host: string;
  /** Scheduler job that produced the set, if any. */
  job: string | null;
  /** For pre_restore sets: the set whose restore this copy protects against. */
  restoreOf: string | null;
  /** Level and codec of the stored config and application files; no codec means gzip (older sets). */
  compressionLevel: number;
  codec?: CodecName;
  databases: DatabaseEntry[];
  files: FileEntry[];
  warnings: string[];
  totals: { storedBytes: number; rawBytes: number; files: number };
}

/** What `list` shows of a set. */
export interface SetSummary {
  id: string;
  type: SetType;
  status: SetStatus;
  description: string | null;
  startedAt: string;
  completedAt: string;
  databases: string[];
  failedDatabases: string[];
  files: number;
  storedBytes: number;
  job: string | null;
  keep: boolean;
  lastVerified: { at: string; ok: boolean } | null;
  path: string;
}

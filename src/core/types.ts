/**
 * The shapes shared by the config, the engine, the drivers and the menu: the manifest of a set and its entries, the
 * config once loaded, and what the engine reports. Why one file of about 460 lines: every layer imports these
 * types, and the manifest's parts refer to one another; split, each would import all the others.
 */
import type { Phrase } from './phrases.js';

/** An error's message (and the sentences added on its way out) and hint as phrases (RespaldoError.phrases). */
export interface ErrorPhrases {
  message?: Phrase;
  hint?: Phrase;
  aftermath?: Phrase[];
}
import type { RanBy } from './who.js';
/** Shared types: configuration after validation, manifests, set summaries. */
import type { DestinationConfig } from '../destinations/destination.js';

export type EngineName = 'sqlite' | 'postgres' | 'sqlserver';

/** Compression codec of stored files (src/engine/codec.ts). */
export type CodecName = 'gzip' | 'zstd';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres', 'sqlserver'];

export type BackupType = 'full' | 'schema' | ChainType;
/** Backup types that store only what changed since a base set (see src/engine/chain.ts). */
export type ChainType = 'differential' | 'incremental';
export const CHAIN_TYPES: readonly ChainType[] = ['differential', 'incremental'];
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
  /**
   * Set by loadConfig, never written: the `${VAR}` the password came from (in `password`, else in the url), so a
   * refused password names the variable to check (its name, never its value).
   */
  passwordVariable?: string;
  database?: string;
  /** PostgreSQL: folder of pg_dump/pg_restore (else PG_BIN_PATH, else PATH). */
  binPath?: string;
  /** PostgreSQL: also store roles and tablespaces (pg_dumpall --globals-only). */
  globals?: boolean;
  /** PostgreSQL: pg_dump --lock-wait-timeout ("30s", "5min", or milliseconds). */
  lockWaitTimeout?: string | number;
  /** PostgreSQL: parallel jobs of pg_dump and pg_restore (default: the driver's, from the cores). */
  jobs?: number;
  /** SQL Server fields. */
  server?: string;
  instance?: string;
  encrypt?: boolean;
  trustServerCertificate?: boolean;
  serverBackupDir?: string;
  localBackupDir?: string;
  /**
   * SQL Server: native chains. Fulls become non-COPY_ONLY (the server's differential base, also of the DBA's own
   * differentials), differentials `BACKUP … WITH DIFFERENTIAL`, incrementals `BACKUP LOG`. Default false.
   */
  chain?: boolean;
  /** Compression level for this database (of the set's codec); overrides `compression.level`. */
  compressionLevel?: number;
  /** Anything else the engine accepts; kept so config rewrites do not drop it. */
  [key: string]: unknown;
}

/**
 * The server restore drills of PostgreSQL databases restore into instead of each database's own
 * (`drill.server`): connection settings as in a database entry (url and/or host, port, user,
 * password from `${VAR}`); the scratch database keeps its name `<database>__drill_<set id>`.
 */
export interface DrillServerConfig {
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** Set by loadConfig: the `${VAR}` the password came from (as in DatabaseConfig). */
  passwordVariable?: string;
  /** Folder of pg_restore/pg_amcheck for this server (else the database's, PG_BIN_PATH, PATH). */
  binPath?: string;
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

/**
 * Retention of sets made by hand (CLI `create`, menu option 1: no scheduler job). A set made by hand
 * is kept while younger than `days`, and the `keepLast` newest completed ones are always kept.
 */
export interface ManualRetention {
  days: number;
  keepLast: number;
}

/** `retention` in the config: the policy each job applies to its own sets, and the rule for sets made by hand. */
export interface RetentionConfig extends RetentionPolicy {
  /** Filled with its defaults (30 days, 5) when the config is loaded. */
  manual?: ManualRetention;
}

export interface ScheduleJob {
  name: string;
  /** A cron expression, or a simple form such as `daily at 02:00`. */
  when: string;
  type: BackupType | 'verify' | 'drill';
  databases: string[];
  files: boolean;
  timezone?: string;
}

/** What a notification channel can be told about (`test` goes to every channel). */
export type NotifyEventKind = 'failure' | 'partial' | 'overdue' | 'drill-failure' | 'unhealthy' | 'success' | 'test';
export type NotifyLanguage = 'en' | 'es';

interface NotificationBase {
  /** Shown in logs and `notify --test`; default `<type>#<position>`. */
  name?: string;
  /** The events this channel receives. */
  on: Exclude<NotifyEventKind, 'test'>[];
}

/**
 * SMTP through nodemailer. `tls`: `implicit` (port 465), `starttls` (required), `none`, or `auto` (STARTTLS when
 * offered).
 */
export interface EmailNotification extends NotificationBase {
  type: 'email';
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'auto' | 'none';
  user?: string;
  password?: string;
  from: string;
  to: string[];
}

/** An HTTP POST of a JSON body in the format of Slack, Microsoft Teams, or respaldo's own. */
export interface WebhookNotification extends NotificationBase {
  type: 'webhook';
  url: string;
  format: 'slack' | 'teams' | 'json';
}

export type NotificationConfig = EmailNotification | WebhookNotification;

export interface BackupConfig {
  backupDir: string;
  databases: DatabaseConfig[];
  files: { config: string[]; application: ApplicationFolder[] };
  /** `level` is absent when the config leaves it to each engine's default (see gzipLevelFor). */
  compression: { codec?: CodecName; level?: number };
  retention: RetentionConfig;
  schedule: { jobs: ScheduleJob[] };
  /** Where alerts go (email, webhooks). */
  notifications?: NotificationConfig[];
  /** Language of notifications (the menu follows --lang / LANG). */
  language?: NotifyLanguage;
  /** Thresholds of `status` and `status --check` (see src/engine/health.ts). */
  health?: { minFreeBytes?: number; graceMinutes?: number };
  /** Prometheus text file written after every run, for node_exporter's textfile collector. */
  metrics?: { textfile?: string };
  /** Drill each set right after a scheduled or CLI backup made it (see `respaldo drill`). */
  drillAfterBackup?: boolean;
  /** Restore drills: `server`, another PostgreSQL server the scratch databases are restored into. */
  drill?: { server?: DrillServerConfig };
  /** Name of this server's folder on destinations (default: the host name). */
  source?: string;
  /** Off-site copies (src/destinations/). */
  destinations?: DestinationConfig[];
  /** age encryption of stored files (src/engine/crypt.ts). */
  encryption?: EncryptionConfig;
}

/**
 * `encryption` in the config: encrypt to `recipients` (age public keys) or to the passphrase held in
 * `passphraseFile` (scrypt); decrypt with `identityFile` (which may be passphrase-protected).
 * `local: false` encrypts only the copies of destinations with `encrypt: true`.
 */
export interface EncryptionConfig {
  recipients?: string[];
  passphraseFile?: string;
  identityFile?: string;
  local?: boolean;
}

/** `encryption` in a manifest: how every stored file of the set is encrypted (public facts only). */
export interface ManifestEncryption {
  format: 'age';
  /** The public keys the files are encrypted to (empty for a passphrase). */
  recipients: string[];
  /** Encrypted to a passphrase (scrypt) rather than to recipients. */
  passphrase: boolean;
}

/** Size and hashes of a stored file before encryption (the compressed plaintext). */
export interface PlainHashes {
  bytes: number;
  md5: string;
  sha256: string;
}

/** A config as loaded: absolute paths resolved, plus where it came from. */
export interface LoadedConfig extends BackupConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Folder of the config file; relative paths in the config are relative to it. */
  baseDir: string;
  /** Values that came from `${VAR}` interpolation of secrets, to be masked in any output. */
  secrets: string[];
  /**
   * Destinations (by name) with a `${VAR}` not set: the first such field and variable, and the hint. Only a command
   * that uses one of them fails on it (destinationConfig), with the config error it would have been.
   */
  unsetDestinations?: Record<string, UnsetVariable>;
}

/** A `${VAR}` of the config that is not set: where (`destinations[1].secretAccessKey`), which, and what to do. */
export interface UnsetVariable {
  path: string;
  variable: string;
  hint: string;
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
  /**
   * Dump format, e.g. `sqlite-db`, `sqlite-sql`, `pg-custom`, `pg-directory` (a `toc.dat` as the file, each data file
   * an extra), `mssql-bak`.
   */
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
  /**
   * Extra stored files for this database (e.g. PostgreSQL globals), and the members of a directory dump
   * (role `DUMP_MEMBER_ROLE` + file name: one per table).
   */
  extras?: StoredFile[];
  /** For pre_restore sets of server engines: the renamed live database that is the safety copy. */
  safetyDatabase?: string;
  /** Encrypted sets: the stored file before encryption (`md5`/`sha256`/`storedBytes` are the ciphertext's). */
  plain?: PlainHashes;
  /**
   * Differential and incremental entries: the id of the set whose entry of the same database this one
   * applies on top of (a restore needs that set's chain first). Absent: the entry is complete by itself.
   */
  base?: string;
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
  /** As DatabaseEntry.plain. */
  plain?: PlainHashes;
}

/** One config or application file in a manifest. */
export interface FileEntry {
  group: 'config' | 'application';
  /** Absolute source path at backup time. */
  source: string;
  /**
   * Path relative to its group root (what is restored under the target folder). When the path is not valid UTF-8
   * (a Latin-1 name from an old share), its bytes that are not are shown as `\xNN` here (as `source`), and
   * `relativeBytes` holds the exact bytes, which restore writes.
   */
  relative: string;
  /** Base64 of the exact bytes of `relative`, present only when they are not valid UTF-8 (absent in older sets). */
  relativeBytes?: string;
  kind: 'file' | 'symlink';
  /** Stored path relative to the set folder (files only). */
  stored: string | null;
  linkTarget: string | null;
  /** As relativeBytes, for a symlink's target that is not valid UTF-8. */
  linkTargetBytes?: string;
  size: number;
  mode: number;
  mtime: string;
  md5: string | null;
  sha256: string | null;
  /** As DatabaseEntry.plain. */
  plain?: PlainHashes;
  /** Who owned it (absent in older sets): restored so when the restore runs as root. */
  owner?: FileOwner;
}

/** Who owned a file, symlink or folder: its ids, and their names where the machine backing it up had them. */
export interface FileOwner {
  uid: number;
  gid: number;
  user?: string;
  group?: string;
}

/**
 * A folder of the files stored (each folder walked, empty ones too): restored with its mode, time and owner, where
 * older sets restore only the folders that hold files, each 0700. `relative`/`relativeBytes` as FileEntry's.
 */
export interface FolderEntry {
  group: 'config' | 'application';
  relative: string;
  relativeBytes?: string;
  mode: number;
  mtime: string;
  owner?: FileOwner;
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
  /** OS user, host, pid and command line of the run that made the set (absent in older sets). */
  ranBy?: RanBy;
  /** For pre_restore sets: the set whose restore this copy protects against. */
  restoreOf: string | null;
  /** Level and codec of the stored config and application files; no codec means gzip (older sets). */
  compressionLevel: number;
  codec?: CodecName;
  /** Every stored file is an age file (`.age`); absent: not encrypted. */
  encryption?: ManifestEncryption;
  databases: DatabaseEntry[];
  files: FileEntry[];
  /** The folders of `files` (absent in older sets). */
  folders?: FolderEntry[];
  warnings: string[];
  totals: { storedBytes: number; rawBytes: number; files: number };
  /**
   * Differential and incremental sets: the newest set any of its entries applies on (each entry's own
   * base is `databases[].base`); null when every entry is complete by itself.
   */
  base?: string | null;
  /** The type asked for when it differs from `type` (a differential or incremental that became a full). */
  requestedType?: BackupType;
  /** Why databases of a differential or incremental set were stored whole (one line each, database first). */
  chainNotes?: string[];
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
  /** The groups of the files stored (`config`, `application`), when it holds files; absent in older summaries. */
  fileGroups?: ('config' | 'application')[];
  storedBytes: number;
  job: string | null;
  keep: boolean;
  /**
   * The last verification recorded beside the set (`verified.json`). A failed one names the stored files it found
   * damaged (`damaged`, paths as in the manifest); absent when it named none (the whole set is then taken as damaged).
   */
  lastVerified: { at: string; ok: boolean; damaged?: string[] } | null;
  /** The newest restore drill of this set (`drilled.json`): when, whether all passed, which failed. */
  lastDrill?: { at: string; ok: boolean; failed: string[] } | null;
  /** Destinations with copyAfterBackup this set is not copied to (set by `list` when destinations exist). */
  notCopiedTo?: string[];
  path: string;
  /** Differential and incremental sets: the sets its entries apply on (`databases[].base`); absent when none. */
  needs?: string[];
  /** Why this differential or incremental cannot be restored: a set of its chain missing or damaged (set by `list`). */
  chainProblems?: string[];
  /** `chainProblems` as phrases, one for one (the menu says them in its language). */
  chainProblemPhrases?: Phrase[];
}

/** The outcome of drilling one database (or `files`) of a set, as `drilled.json` records it. */
export interface DrillResult {
  database: string;
  engine: string | null;
  ok: boolean;
  at: string;
  durationMs: number;
  /** Where it was restored (the scratch file or database, removed afterwards). */
  scratch: string;
  checks: {
    name: string;
    ok: boolean;
    detail?: string;
    skipped?: string;
    /** respaldo's own words as phrases, for the menu's languages (see DrillCheck). */
    phrases?: { name?: Phrase; detail?: Phrase; skipped?: Phrase };
  }[];
  error?: string;
  hint?: string;
  /** `error` and `hint` as phrases, when respaldo's own words (the menu says them in its language). */
  phrases?: ErrorPhrases;
  /** Drilled from the copy at this destination (`drill --from`), fetched and checked as it arrived. */
  from?: string;
}

/** `drilled.json` beside a set: the newest drill of each of its databases (and of its files). */
export interface DrillRecord {
  setId: string;
  results: Record<string, DrillResult>;
}

/** Role prefix of the stored members of a directory dump (`pgdir:<file>`: one per table of a pg_dump -Fd). */
export const DUMP_MEMBER_ROLE = 'pgdir:';

/**
 * A source read into buffers its caller owns and reuses (so reading leaves no garbage buffer per chunk):
 * `read` fills `into` from its start with the next bytes and resolves how many, fewer than `into.length`
 * only at the end (0 once there); it keeps no reference to `into` once it resolved. `close` releases the
 * source; it is called once, after the end or a failure.
 */
export interface BlockReader {
  read(into: Buffer): Promise<number>;
  close(): Promise<void>;
}

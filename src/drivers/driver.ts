/**
 * The one driver contract every engine implements (SQLite, PostgreSQL, SQL Server): backup, plan and restore,
 * inspection of a target, recovery, drills. Why one file of about 530 lines: it is one interface and the request,
 * plan and state types its methods take; split, a driver would read its contract from several files.
 */
import type { Readable } from 'node:stream';
import type { Reporter } from '../core/events.js';
import { english, type Phrase, type Said } from '../core/phrases.js';
import type { DriverCapabilities } from './capabilities.js';
import type {
  BackupType,
  BlockReader,
  ChainType,
  DatabaseConfig,
  DatabaseEntry,
  DrillServerConfig,
  EngineName,
} from '../core/types.js';

/**
 * The driver contract. One folder per engine implements it (sqlite/, postgres/, sqlserver/: index.ts
 * assembles the driver from one file per job);
 * registry.ts maps engine names to drivers. The engine (src/engine) is the only caller: it owns
 * the backup set, compression, hashing, manifests, locking and safety copies; a driver only knows
 * how to get a consistent dump out of its database and how to put one back without destroying
 * the live database first.
 *
 * Errors: a driver throws RespaldoError (usually kind `failed`, with an operator hint) for
 * anything an operator can fix: unreachable server, bad password, missing client binary, missing
 * file, permission. Any other exception is treated as a bug.
 */

/** A problem found in one database's config; `path` is relative to the database entry (e.g. `path`, `url`). */
export interface ConfigProblem {
  path: string;
  problem: string;
  hint?: string;
}

/**
 * The problem with `chain` on a database whose engine chains without a setting (SQLite, PostgreSQL): only
 * SQL Server opts in (its full backups then join the server's own chain); anywhere else it is a mistake.
 */
export function chainSettingProblem(db: DatabaseConfig, engineLabel: string): ConfigProblem[] {
  if (db.chain === undefined) return [];
  return [
    {
      path: 'chain',
      problem: `only SQL Server databases take "chain": ${engineLabel} differential and incremental backups need no setting`,
      hint: 'Remove "chain" from this database; `respaldo create --type incremental` works as it is.',
    },
  ];
}

/** A `jobs` setting on an engine whose backups and restores run no parallel jobs of their own. */
export function jobsSettingProblem(db: DatabaseConfig, engineLabel: string): ConfigProblem[] {
  if (db.jobs === undefined) return [];
  return [
    {
      path: 'jobs',
      problem: `only PostgreSQL databases take "jobs": a ${engineLabel} backup or restore runs no parallel jobs to set`,
      hint: 'Remove "jobs" from this database.',
    },
  ];
}

/** What the engine gives a driver for one operation. */
export interface DriverContext {
  /** Progress for this database: drivers emit `item-progress` / `warning` with `item` = database name. */
  reporter: Reporter;
  /** Aborted when the operator interrupts; a driver stops its children and cleans up. */
  signal: AbortSignal;
  /** A private scratch folder (mode 0700) inside the staging area; removed by the engine afterwards. */
  scratchDir: string;
  /** Log a line of operational detail (never secrets). */
  log(message: string, fields?: Record<string, unknown>): void;
  /**
   * Records a temporary path made outside the backup folder (named with `.respaldo-restore-`), so
   * that the next restore removes it if this run is killed; call the returned function once the
   * path is gone or renamed into place. Absent in contexts that make no such paths. `madeDirs`: the folders made
   * for it (deepest first), removed too by that sweep where they are left empty.
   */
  trackTemp?(path: string, opts?: { madeDirs?: string[] }): Promise<() => Promise<void>>;
  /**
   * Records roles about to be created on `server` (host:port) for this restore, so that `status` names them if the
   * run is killed before it keeps or drops them; call the returned function once it did either.
   */
  journalRoles?(server: string, roles: string[]): Promise<() => Promise<void>>;
}

/** Facts a finished dump contributes to the manifest. */
export interface DumpFacts {
  /** Rows per table; null when the engine cannot tell. */
  tables: Record<string, number> | null;
  /** Server version, client version, sizes, …: stored as `details` in the manifest. */
  details: Record<string, unknown>;
}

/** A dump being produced. The engine reads `stream` exactly once, to its end. */
export interface OpenedDump {
  stream: Readable;
  /** Expected raw size, for progress; undefined when unknown (pg_dump). */
  totalBytes?: number;
  /**
   * Set when `stream` is exactly this whole file, which nothing changes while it is stored (a snapshot):
   * the engine may then read the file itself, in blocks into buffers it reuses, and destroy `stream` unread.
   */
  file?: string;
  /**
   * The same content as `stream` (and the same side effects: SQLite's row counts from its pages) read into the
   * engine's buffers, which it reuses; used instead of `stream` (then destroyed unread) when the engine compresses.
   * Read once to its end.
   */
  reader?(): BlockReader;
  /**
   * Resolves once the producer finished successfully. Rejects when it failed, even if `stream`
   * ended cleanly (a dump that died mid-way can still close its pipe): exit code and stderr.
   */
  finished: Promise<DumpFacts>;
  /**
   * A dump made of several files (PostgreSQL's directory format): further files of this part, yielded
   * as the producer finishes each. The engine stores each one as an extra of the entry (role
   * `member.role`, stored as `<db>_<set>.<name>` + codec suffix) while `stream` (the file read last,
   * such as the table of contents) is stored; the iteration throws when the producer failed.
   */
  members?: AsyncIterable<DumpMember>;
  /**
   * The step the producer is still in once its files are read (PostgreSQL: the row counts that `finished` waits
   * for): the engine names it in the progress, with the bytes read so far, before it waits for `finished`.
   */
  settling?: Said;
}

/** One file of a multi-file dump (see OpenedDump.members). */
export interface DumpMember {
  /** File name inside the dump (`3358.dat`): letters, digits, `_` and `.` only. */
  name: string;
  /** Role of its manifest extra (`pgdir:3358.dat`), by which a restore opens it again. */
  role: string;
  /** Opens the file's raw content, read once to its end. */
  open(): Readable;
  /**
   * The same content (and the same side effects: hashes, row counts) read into the engine's buffers, which it
   * reuses; offered by drivers that can, used instead of `open` when the engine compresses. Read once to its end.
   */
  reader?(): BlockReader;
  /** Called once the file is stored (the driver may delete its scratch copy). */
  stored(): Promise<void>;
}

/** One stored file of a database backup: the main dump, or an extra such as PostgreSQL globals. */
export interface DumpPart {
  /** `main` for the database itself; other roles (`globals`) are stored alongside. */
  role: string;
  /**
   * Format tag recorded in the manifest (`sqlite-db`, `sqlite-sql`, `pg-custom`, `pg-directory`, `pg-globals-sql`,
   * `mssql-bak`).
   */
  format: string;
  /** File extension of the raw dump (`sqlite`, `sql`, `dump`, `bak`); `.gz` is added when compressed. */
  extension: string;
  /** Whether the engine should gzip it (false for data that is already compressed). */
  compress: boolean;
  /** Starts producing this part. Parts are opened one after another, in array order. */
  open(): Promise<OpenedDump>;
}

export interface BackupRequest {
  db: DatabaseConfig;
  type: BackupType;
  /**
   * `backup` for a normal set. `safety` when the engine keeps what a restore is about to replace:
   * then a damaged database must still be stored as it is (it is what the operator may want back),
   * so checks that would refuse a damaged source are recorded as warnings instead.
   */
  purpose: 'backup' | 'safety';
  /**
   * `differential`/`incremental` (drivers with `chains`): the set this backup applies on, its entry of
   * this database and its stored parts (decompressed). The driver stores only what changed since it, or
   * stores a full and says why in `BackupSession.fellBack`.
   */
  base?: {
    setId: string;
    entry: DatabaseEntry;
    openPart(role?: string): Readable;
    /**
     * Part `role` as the plan already read it (readNextBackupFile's result, its stored file hashed against the
     * manifest on the way), when it did: used instead of reading that part again.
     */
    read?(role: string): unknown;
  };
}

/** Result of `Driver.backup`: the parts to store, and a cleanup the engine always calls. */
export interface BackupSession {
  parts: DumpPart[];
  /**
   * The raw bytes of all the parts together, when known before the first is opened (the raw copy of a file and its
   * -wal): the progress counts every part against it from the start, so its percentage never falls when a part
   * starts. Without it each part's `totalBytes` is added to the bytes of the parts before as the part opens.
   */
  totalBytes?: number;
  /** Removes temporary files (local or server-side). Called on success and on failure. */
  cleanup(): Promise<void>;
  /** Set when a `base` was given but the parts are a full backup: why (recorded in the manifest and said). */
  fellBack?: string;
  /** `fellBack` as a phrase (the menu says it in its language; see fellBackOf). */
  fellBackPhrase?: Phrase;
}

/** A BackupSession's `fellBack` and `fellBackPhrase` from the phrase of why. */
export function fellBackOf(why: Phrase): { fellBack: string; fellBackPhrase: Phrase } {
  return { fellBack: english(why), fellBackPhrase: why };
}

/** Where a restore goes. */
export type RestoreTarget =
  /** Replace the configured live database. */
  | { kind: 'in-place' }
  /** Side by side: a file path (SQLite) or a database name (server engines); never replaces anything. */
  | {
      kind: 'side-by-side';
      name: string;
      /** A restore drill's scratch target (`Driver.scratchName`): allowed to carry respaldo's `__drill_` mark. */
      scratch?: boolean;
    };

export interface RestoreRequest {
  /** The configured database (connection details of the live one). */
  db: DatabaseConfig;
  /** The manifest entry being restored; its stored files were verified by the engine. */
  entry: DatabaseEntry;
  /** Id of the set being restored, used for temporary and safety names. */
  setId: string;
  target: RestoreTarget;
  /** Opens the decompressed content of a stored part (`main` by default), as a fresh stream each call. */
  openPart(role?: string): Readable;
  /**
   * The decompressed content of a small stored part read whole on the calling thread, where the engine can (a stored
   * file in the set's folder here that decodes to the size it records); undefined where `openPart` must be used.
   */
  readPartWhole?(role?: string): Buffer | undefined;
  /** PostgreSQL: restore only these tables (`schema.table`). */
  tables?: string[];
  /**
   * An entry with `base`: the entries it applies on, oldest first (the full first), each with its
   * stored parts; the engine verified them all. `entry` is applied last. A driver refuses, before the
   * target is touched, a chain that does not give `entry`'s content (no full, a member left out that the
   * delta needs, a damaged member); see the chain cases of test/drivers/conformance.ts.
   */
  chain?: { setId: string; entry: DatabaseEntry; openPart(role?: string): Readable }[];
  /**
   * `restore --at`: the time asked for (UTC ISO). A driver whose last chain member can stop inside itself
   * (SQL Server log backups: `STOPAT`) stops there when that member ends after it; others restore the set whole.
   */
  stopAt?: string;
  /** Operator confirmed that sessions connected to the live database may be terminated. */
  terminateConnections: boolean;
  /**
   * PostgreSQL: before restoring, create the roles stored with the set (`globals: true`) that the
   * server lacks; existing roles are never changed. Dropped again when the restore then fails.
   */
  createRoles?: boolean;
}

/** A printable description of what a restore of one database will do. Pure data. */
export interface RestoreStepPlan {
  database: string;
  /** Human description of the target (`/srv/app/data/users.db`, `database "users" on db1:5432`). */
  target: string;
  /** Whether an existing live database will be replaced. */
  replaces: boolean;
  /** Where the restore is built before the swap (temp file or temp database name). */
  staging: string;
  /** How the safety copy is kept: a pre_restore set, or the live database renamed. */
  safety: { kind: 'pre-restore-set' } | { kind: 'renamed-database'; name: string } | { kind: 'none'; reason: string };
  /**
   * Ordered steps in operator words (English). `stepPhrases` are the same steps as phrases for the
   * menu's other languages (every driver gives them; without them the menu shows `steps`).
   */
  steps: string[];
  stepPhrases?: Phrase[];
  /** How to roll back after the restore, in operator words; `rollbackPhrase` as for steps. */
  rollback: string;
  rollbackPhrase?: Phrase;
  /**
   * Why this restore cannot work on the target as it is now, told from the set's manifest before anything is fetched
   * or staged (PostgreSQL: roles the dump names that the server lacks); the engine refuses the restore with it.
   */
  refusal?: { message: Phrase; hint: Phrase };
  /**
   * What the restore will leave the operator to do, said in the plan before it is confirmed (SQL Server: the change
   * data capture jobs to add again after an in-place restore that keeps CDC); the engine adds them to its warnings.
   */
  warnings?: Phrase[];
}

/**
 * Rolling back an in-place restore of a `renamed-database` driver: the pre_restore set lists the
 * database the restore replaced, kept on its server under `safetyName`; restoring that set swaps it
 * back in as the live database.
 */
export interface SwapBackRequest {
  /** The configured database (connection details of the live one). */
  db: DatabaseConfig;
  /** The kept safety database (`<name>__pre_restore_<set>`) that becomes the live database again. */
  safetyName: string;
  /**
   * Id of the pre_restore set being restored: the database the swap back replaces is kept as a new
   * safety copy named from it (`<name>__pre_restore_<setId>`), so a rollback can be rolled back too.
   */
  setId: string;
  /** Operator confirmed that sessions connected to the live database may be terminated. */
  terminateConnections: boolean;
}

/** One check of a restore drill, in operator words (`integrity_check`, `pg_amcheck`, `row counts`). */
export interface DrillCheck {
  name: string;
  ok: boolean;
  /** What was found (`ok`, `3 tables`, the first problems). */
  detail?: string;
  /** Set when the check did not run, saying why (`amcheck extension not available`). */
  skipped?: string;
  /** `name`, `detail` and `skipped` as phrases, for the menu's languages (respaldo's own words only). */
  phrases?: { name?: Phrase; detail?: Phrase; skipped?: Phrase };
}

/** What the engine learns about a target before a restore (for the plan and for refusals). */
/** What a driver's planRestore is given: the restore's request, and whether its target exists now. */
export type PlanRestoreInput = Pick<RestoreRequest, 'db' | 'entry' | 'setId' | 'target' | 'tables'> & {
  targetExists?: boolean;
  /** TargetState.keptSafeties: the plan names the safety copy the restore will use (`…__2` beside a kept one). */
  keptSafeties?: readonly string[];
  /** TargetState.hotJournal: the safety copy will be its raw bytes, which the plan's rollback says. */
  targetHotJournal?: boolean;
  /** TargetState.roles: the roles on the target's server, which the dump's owners and grantees must be among. */
  serverRoles?: readonly string[];
  /** TargetState.cdcEnabled: the live database has change data capture on (SQL Server sets without the record). */
  targetCdcEnabled?: boolean;
};

export interface TargetState {
  exists: boolean;
  sizeBytes: number | null;
  /** Other processes or sessions using the target (pids, `user@host (pid N)`); empty when none. */
  inUseBy: string[];
  /**
   * Engines whose safety copy is a pre_restore set: what names this incarnation of the target (SQLite:
   * the file's device and inode), so that a failed restore can tell it replaced nothing.
   */
  identity?: string;
  /**
   * `renamed-database` drivers, in place: the safety copies of this database its server keeps now (from earlier
   * restores), by name, so that a plan names the one a restore of a set will use.
   */
  keptSafeties?: string[];
  /**
   * The disk the restored database is written on, when respaldo can see it: a SQLite file's folder; the data folder
   * of a PostgreSQL server on this machine. The plan warns when the restores onto one disk need more than it has free.
   */
  disk?: TargetDisk;
  /**
   * SQLite: a non-empty `-journal` beside the file, open in no process (a writer stopped mid-transaction): the file
   * cannot be read as a consistent database, so its safety copy is its raw bytes, which no restore takes back.
   */
  hotJournal?: boolean;
  /** Engines with roles (capabilities.roles): the names of the roles on the target's server now. */
  roles?: string[];
  /**
   * SQLite, in place: the folder the database lives in, when it does not exist (a new server, a disk not mounted).
   * The restore does not make it there, so the plan refuses before anything is fetched or written.
   */
  missingFolder?: string;
  /**
   * In place: why the target, as it is now, cannot be replaced (SQL Server: a live database not ONLINE, or published
   * for replication), with what to do; the plan refuses with it (exit 9) before anything is fetched or written. Its
   * phrases take `doing`: `restore`, or `rollback` when the plan swaps a kept safety copy back in.
   */
  replaceRefusal?: { message: Phrase; hint: Phrase };
  /** SQL Server, in place: the live database has change data capture on (sys.databases.is_cdc_enabled). */
  cdcEnabled?: boolean;
}

/** A disk a restore writes on: a path on it, its device (the restores onto one disk add up) and its free bytes. */
export interface TargetDisk {
  path: string;
  device: number;
  freeBytes: number;
  /** The data folder of a database server (its live databases share that disk), not a file's folder. */
  server?: boolean;
  /** What recovery drops there before the restore (an interrupted restore's staging database), freed for it. */
  leftoverBytes?: number;
}

export interface RestoreResult {
  /** For `renamed-database` safety: the name the previous live database now has. */
  safetyDatabase?: string;
  /** Rows per table in the restored database, compared by the driver against the manifest. */
  tables: Record<string, number> | null;
  /** Where the data now is (path or database name). */
  restoredTo: string;
  /** Checks of the backup made before restoring it (a drill's RESTORE VERIFYONLY); a drill records them. */
  preChecks?: DrillCheck[];
  /**
   * Checks the restore made of the restored copy (SQLite: integrity_check), so that a drill records them
   * instead of running them again; `drillChecks` adds only what the restore did not do.
   */
  checks?: DrillCheck[];
}

export interface Driver {
  readonly engine: EngineName;
  /** Backup types this engine can produce; the engine refuses the others with a hint. */
  readonly types: readonly BackupType[];
  /**
   * Chain types this engine stores as deltas on a base (`BackupRequest.base`, `RestoreRequest.chain`).
   * Absent: a differential or incremental of this engine is stored as a full, saying why.
   */
  readonly chains?: readonly ChainType[];
  /**
   * Pure: why `db` stores a full for a `type` backup although the engine has `type` in `chains` (the database
   * did not opt in: SQL Server's `chain: true`), as a phrase; null when it chains. Absent: every database of the
   * engine chains.
   */
  chainFallback?(db: DatabaseConfig, type: ChainType): Phrase | null;
  /**
   * Reads `content`, the decompressed stored extra of role `role` (one of `capabilities.nextBackupRoles`: SQLite's
   * page map), as the next differential or incremental would read it from its base; rejects when it cannot be read.
   * The plan of such a backup asks it first (chain-sets.ts withNextFilesHashed): one that its base could not read
   * would be stored as a full. Absent: nothing to read.
   */
  readNextBackupFile?(role: string, content: Readable): Promise<unknown>;
  /** How the safety copy of a replaced database is taken (see RestoreStepPlan.safety). */
  readonly safety: 'pre-restore-set' | 'renamed-database';
  /** What this engine can do beyond this contract (its row of `CAPABILITIES` in capabilities.ts). */
  readonly capabilities: DriverCapabilities;
  /**
   * gzip level of this engine's dumps when the config sets neither `databases[].compressionLevel`
   * nor `compression.level` (default: DEFAULT_GZIP_LEVEL).
   */
  readonly defaultCompressionLevel?: number;

  /** Pure: problems with this database's engine fields. An empty array means valid. */
  validateConfig(db: DatabaseConfig): ConfigProblem[];

  /** Pure: a one-line description of where the database lives, without secrets. */
  describe(db: DatabaseConfig): string;

  /**
   * Starts a consistent backup. Throws an operator error when the database cannot be reached or
   * the tools are missing or too old. The returned parts are streamed by the engine.
   */
  backup(req: BackupRequest, ctx: DriverContext): Promise<BackupSession>;

  /**
   * Pure: the plan for restoring one database (no I/O). `targetExists` false (inspectTarget found nothing
   * there, as on a new server): an in-place restore replaces nothing, so its steps and rollback say so.
   */
  planRestore(req: PlanRestoreInput): RestoreStepPlan;

  /**
   * Reads the current state of a restore target (exists, size, who uses it). A server that cannot be reached or
   * refuses the login throws an operator error whose `details.serverAway` is true (a drill then does not run).
   */
  inspectTarget(db: DatabaseConfig, target: RestoreTarget): Promise<TargetState>;

  /**
   * Restores into a staging place beside the target, checks it, then swaps it in.
   * If it fails before the swap the target is unchanged and staging is removed.
   */
  restore(req: RestoreRequest, ctx: DriverContext): Promise<RestoreResult>;

  /**
   * Finds what an interrupted restore left (temp files, half-swapped databases) and completes or
   * rolls it back. Returns one sentence per action taken (its English `message` for the CLI and logs, its
   * `phrase` for the menu); an empty array when nothing was left.
   */
  recover(db: DatabaseConfig, ctx: DriverContext): Promise<Said[]>;

  /**
   * Read-only: what interrupted restores left for this database (a temporary `__restore_` database,
   * a swap cut in the middle, staging files), one line each in operator words, naming how to finish
   * it (`recover` runs at the start of the next restore and of `create`). Changes nothing; `status`
   * lists these. Absent when the engine leaves nothing outside the backup folder.
   */
  findLeftovers?(db: DatabaseConfig): Promise<string[]>;

  /**
   * `renamed-database` drivers: swaps a kept safety database back in as the live database (the
   * rollback of an in-place restore). The database it replaces is renamed to a new safety copy
   * (`safetyDatabase` of the result), never dropped; with no live database the safety copy is only
   * renamed. Same in-use checks, journaling and interruption safety as `restore`'s swap: when it
   * fails or is interrupted, both databases keep the names they had (or `recover` finishes it).
   * Throws an operator error when the safety database no longer exists. For an entry with
   * `safetyDatabase` and no stored file, `planRestore` describes this swap instead of a restore.
   */
  swapBack?(req: SwapBackRequest, ctx: DriverContext): Promise<RestoreResult>;

  /**
   * Restore drills, server engines: the scratch database a drill of set `setId` restores `db` into
   * (`<name>__drill_<set id>`), a name nothing else uses; `recover` drops such databases (the drill
   * holds the folder lock, so one found under the lock belongs to a dead run). Absent: the engine
   * drills into a file in its own scratch folder.
   */
  scratchName?(db: DatabaseConfig, setId: string): string;

  /**
   * Restore drills with `drill.server`: the entry of `db` moved to that server (its connection
   * replaced, the database name kept, so the scratch name is the same), marked so that recover and
   * findLeftovers know no live database is expected there. Absent: the engine ignores drill.server.
   */
  onDrillServer?(db: DatabaseConfig, server: DrillServerConfig): DatabaseConfig;

  /** Problems of `drill.server` for this engine (paths relative to `drill.server`). */
  validateDrillServer?(server: DrillServerConfig): ConfigProblem[];

  /**
   * Removes a drill's scratch target `name` (made by `scratchName`) if it exists; refuses any other
   * name. Called after every drill, also a failed one.
   */
  dropScratch?(db: DatabaseConfig, name: string, ctx: DriverContext): Promise<void>;

  /**
   * Checks a drill makes on the restored scratch target `restoredTo` beyond the restore's own
   * (integrity_check, pg_amcheck, DBCC CHECKDB). A check that cannot run here is returned with
   * `skipped` saying why; a failed check has `ok: false` and its `detail`.
   */
  drillChecks?(db: DatabaseConfig, restoredTo: string, ctx: DriverContext): Promise<DrillCheck[]>;

  /**
   * `renamed-database` drivers: removes a safety copy kept as a renamed database (`<name>__pre_restore_<set>`),
   * when its pre_restore set is deleted; refuses (RefusedError) any other name. Absent for drivers whose
   * safety copies are stored files of a pre_restore set.
   */
  dropSafetyCopy?(db: DatabaseConfig, name: string): Promise<void>;
}

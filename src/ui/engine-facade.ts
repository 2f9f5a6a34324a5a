import { InterruptedError, RespaldoError } from '../core/errors.js';
import { silentReporter, type ProgressEvent, type Reporter } from '../core/events.js';
import { english, keepFailureWhy, phrase, type Phrase } from '../core/phrases.js';
import type {
  BackupType,
  DrillRecord,
  EngineName,
  LoadedConfig,
  Manifest,
  RetentionPolicy,
  ScheduleJob,
  SetSummary,
} from '../core/types.js';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { heldLock } from '../engine/lock.js';
import {
  deleteSet,
  lastDrills,
  listDamagedSets,
  listSets,
  readDrillRecord,
  readManifest,
  readManifestLeanOf,
  setDir,
  readManifestHead,
} from '../engine/catalog.js';
import { keepSet } from '../engine/remote-keep.js';
import { deleteNotes } from '../engine/before-delete.js';
import { looseSecretFiles } from '../engine/crypt.js';
import { readCopies, retriedPhrase, type CopyResult } from '../engine/copy.js';
import { listRemote, readRemoteManifest, readRemoteManifestLean, withDestination } from '../engine/remote.js';
import { RemotePathLister } from '../engine/remote-paths.js';
import { pathChoices, type PathChoices } from '../engine/stored-path-choices.js';
import type { Destination } from '../destinations/destination.js';
import { remoteSources } from '../engine/remote-sources.js';
import {
  checkBeforeFetch,
  fetchPlanned,
  fetchSet,
  fetchedRestoreOptions,
  type FetchedSet,
} from '../engine/remote-fetch.js';
import { runDrill, type DrillOutcome } from '../engine/drill.js';
import { runDrillFrom } from '../engine/drill-from.js';
import { isCopied, notCopiedOf, withOffsite, type DestinationState } from '../engine/offsite-state.js';
import { getHealth, type HealthReport } from '../engine/health.js';
import { createBackup, planOnSets } from '../engine/create.js';
import { chainBreakPhrases, withChainProblems } from '../engine/chain-sets.js';
import {
  executeRestore,
  planRestore,
  planRestoreAt,
  type RestoreOptions,
  type RestoreOutcome,
  type RestorePlan,
} from '../engine/restore.js';
import { getStatus, type StatusReport } from '../engine/status.js';
import { unfinishedRestores, type UnfinishedRestore } from '../engine/last-restores.js';
import { verifySet, type VerifyReport } from '../engine/verify.js';
import { writeSchedule } from '../scheduler/edit.js';
import { SCHEDULER_LOCK_DIR } from '../scheduler/state.js';
import { createEngineScheduler } from '../scheduler/run-job.js';
import type { JobEndEvent, SchedulerLogEntry, SchedulerStatus } from '../scheduler/scheduler.js';
import type { CatchUpPlan } from '../scheduler/catch-up.js';
import { nextRuns as schedulerNextRuns } from '../scheduler/when.js';
import { facadeKeys } from './facade-keys.js';

export type {
  DrillOutcome,
  DrillRecord,
  JobEndEvent,
  RestoreOutcome,
  RestorePlan,
  SchedulerLogEntry,
  SchedulerStatus,
  VerifyReport,
};
export type { CatchUpPlan };
export type { JobOutcome } from '../scheduler/state.js';
export { JOB_SUCCEEDED } from '../scheduler/state.js';

/** A set left out of a listing because its manifest fails its checks (`source`: at a destination). */
export interface DamagedNote {
  id: string;
  problem: string;
  source?: string;
}

/**
 * Sets as `listSets` gives them, with those left out as damaged. From a destination holding none of this server's
 * source: that `source`, and the `otherSources` there (a new server whose config does not name the old one's).
 */
export type SetList = SetSummary[] & {
  damaged?: readonly DamagedNote[];
  source?: string;
  otherSources?: readonly string[];
};

/** The health screen's figures (see EngineFacade.health). */
export interface MenuHealth {
  report: HealthReport;
  newest: StatusReport['newestPerDatabase'];
  offsite: DestinationState[];
  /** Roles that restores killed outright created (`--create-roles`), as `status` lists them, with the DROP ROLE. */
  createdRoles: StatusReport['createdRoles'];
  /** How the last restore of each database ended, as `status` says it ("Last restores"). */
  lastRestores: StatusReport['lastRestores'];
}

/**
 * Everything the menu needs from the engine, in one interface. Screens only ever talk to this:
 * the real implementation (createEngineFacade, below) calls src/engine and src/scheduler; frame tests
 * hand the screens an in-memory fake. Failures are thrown as RespaldoError (message + hint).
 * Why one file of about 790 lines: the interface and its one real implementation read side by side (each
 * method's contract above, its few lines of engine calls below); the passphrase parts are facade-keys.ts.
 */
export interface EngineFacade {
  /** The loaded configuration as the menu shows it (refreshed after the schedule is saved). */
  config(): MenuConfig;
  /** What the header shows: set count, newest set, newest good backup per database. */
  status(): Promise<HeaderStatus>;
  /**
   * What `respaldo status` says of the backups' health, read only: the health report (per database its newest
   * good backup, age against the schedule, last drill; every problem, as `status --check` and the alerts say it),
   * the newest set each database restores from, and per destination what is copied there.
   */
  health(): Promise<MenuHealth>;
  /**
   * Published sets, newest first (with `notCopiedTo` when destinations are configured). `from`: the
   * sets of this server's source at that destination instead (read over the network). `damaged`: the
   * sets left out because their manifest fails its checks (the screens say so under the table).
   */
  listSets(filter?: { database?: string; from?: string }, signal?: AbortSignal): Promise<SetList>;
  /** Where a set is off-site: each configured destination, copied or not (and why not). [] for safety sets. */
  offsite(id: string): Promise<OffsiteMark[]>;
  /** The manifest of one set (`latest` allowed locally); `from`: of a set at that destination. */
  readManifest(id: string, from?: string): Promise<Manifest>;
  /**
   * What a set's details show of this backup folder's set `id` (`latest` allowed), its manifest read lean: `manifest`
   * is whole but for `files`, which holds its first DETAILS_FILES entries; `files` counts them all. The manifest of a
   * set of 100 000 files read whole took a minute and about 140 MiB in the menu. `from`: the set at that destination
   * (its id), its manifest read there as lean (the menu's restore and drill from a destination need no more).
   */
  readSetDetails(id: string, from?: string): Promise<SetDetails>;
  /**
   * What set `id` stores below the path typed (stored-path-choices.ts): its first `limit` names one level down, the
   * manifest's entries read one at a time (never the whole list at once). `from`: the set at that destination.
   */
  storedPathChoices(id: string, typed: string, limit: number, from?: string): Promise<PathChoices>;
  /**
   * What breaks the chain of set `id` of this server's backup folder, as listSets's `chainProblemPhrases` say it (a
   * set it applies on deleted or pruned, a member damaged); [] when its chains restore, and for a full.
   */
  chainProblems(id: string): Promise<Phrase[]>;
  /**
   * What a backup of `type` would store for each database, from the sets there now (nothing is
   * changed): a differential or incremental, with the set it applies on, or a full with the reason
   * (no base yet, the engine has no such backups, the base is damaged or pruned).
   */
  planBackupTypes(req: { databases: string[]; type: BackupType }): Promise<BackupTypePreview[]>;
  /** Runs a backup now; progress goes to `reporter`. A partial or failed set is returned, not thrown. */
  createBackup(req: CreateRequest, reporter: Reporter, signal?: AbortSignal): Promise<Manifest>;
  /**
   * Restore drill of a set: every database it stored (and its files, when it has some) restored into
   * a scratch target, checked and removed; the outcome is recorded beside the set. Progress goes to
   * `reporter` (the restore's events). A failed drill is returned, not thrown. `from`: the copy at that
   * destination (the CLI's `drill ID --from NAME`): fetched with its chain into the backup folder (a set
   * planRestore fetched is released first: they share the folder), each file checked as it arrives (damage
   * is a VerifyError, thrown), drilled, and removed whatever happens (also when `signal` aborts); recorded
   * only when this backup folder holds the set, else `notHere`.
   */
  drillSet(id: string, reporter: Reporter, signal?: AbortSignal, from?: string): Promise<MenuDrillOutcome>;
  /** The recorded drills of a set (`drilled.json`), null when it was never drilled. */
  readDrills(id: string): Promise<DrillRecord | null>;
  /**
   * Re-reads every stored file of a set and checks MD5 and SHA-256 against the manifest; with
   * `readData` every file is also decompressed, and an encrypted set decrypted with its plaintext checked
   * (`verify --read-data`: the key is needed, see keyLocked). A differential or incremental whose chain cannot be
   * restored (a set it applies on deleted or pruned, a member known damaged) has `chainProblems`, as
   * `respaldo verify ID` says `chain BROKEN`.
   */
  verifySet(id: string, reporter: Reporter, opts?: { readData?: boolean }): Promise<VerifyReport>;
  /** Deletes a set (and its server-side safety copies). */
  deleteSet(id: string): Promise<void>;
  /** What deleting a set takes away (a safety copy, the only or newest backup, files put in its folder by hand). */
  deleteNotes(id: string): Promise<Phrase[]>;
  /** Marks a set keep (prune never removes it) or removes the mark. */
  setKeep(id: string, keep: boolean): Promise<void>;
  /**
   * Plans a restore without changing anything on the targets. With `from`, the set's files the
   * request needs are first fetched from that destination into a hidden folder of the backup folder
   * and checked (the CLI's `restore ID --from`); the folder is kept for executeRestore until
   * releaseFetched or the next plan of another selection; the fetch's progress (an item of kind `fetch`:
   * bytes fetched of all the files') goes to `reporter`.
   */
  planRestore(req: RestoreRequest, reporter?: Reporter): Promise<RestorePlan>;
  /** Executes a plan returned by planRestore (then removes a fetched set). */
  executeRestore(plan: RestorePlan, reporter: Reporter, signal?: AbortSignal): Promise<RestoreOutcome>;
  /**
   * Removes the set planRestore fetched from a destination, if any (the wizard was left, or Esc while it
   * was fetched): a fetch under way is stopped first (its destination closed), and its planRestore fails.
   */
  releaseFetched(): Promise<void>;
  /**
   * Which passphrase decrypting needs that the menu must ask for, null when none. `identity`: the
   * configured identity file is passphrase-protected, not opened yet, and RESPALDO_PASSPHRASE_FILE names
   * no file holding it (with `of`, only when a set of it is encrypted to public keys). `passphrase`: a
   * set of `of` is encrypted to a passphrase, and neither `encryption.passphraseFile` nor
   * RESPALDO_PASSPHRASE_FILE gives it, nor does a passphrase typed before open it. `of`: a plan (every
   * set it decrypts; a fetched set is read where it was fetched), or a set here or at a destination.
   */
  keyLocked(of?: KeySubject): Promise<KeyLock | null>;
  /**
   * Opens what keyLocked(of) names with the passphrase typed in the menu: the identity file (its keys kept
   * for this process), or the sets of `of` encrypted to a passphrase (checked against one stored file of
   * each, then kept for this process). KeyError when it opens nothing, or when a set of `of` still needs another.
   */
  unlockKey(passphrase: string, of?: KeySubject): Promise<void>;
  /** The next `count` run times of a `when` (cron or `daily at 02:00` forms); throws RespaldoError when invalid. */
  nextRuns(when: string, timezone: string | undefined, count: number, from?: Date): Date[];
  /**
   * Validates and saves jobs and retention into backup_config.json atomically, keeping other fields.
   * `schedulerRunning`: a scheduler runs on this backup folder (its service, another terminal); it read the config
   * when it started and runs the jobs it had until it is restarted.
   */
  saveSchedule(jobs: ScheduleJob[], retention: RetentionPolicy): Promise<{ schedulerRunning: boolean }>;
  /**
   * Starts the foreground scheduler over the configured jobs (rejects when another scheduler holds the folder).
   * `catchUp: false` skips the runs missed while it was stopped (the CLI's --no-catch-up).
   */
  startScheduler(listener: (event: SchedulerEvent) => void, opts?: { catchUp?: boolean }): Promise<SchedulerHandle>;
  /**
   * What catch-up would run if the scheduler started now (shown before it starts, so it can be skipped). Rejects
   * with the LockHeldError startScheduler would give when another scheduler runs on the backup folder.
   */
  planCatchUp(): Promise<CatchUpPlan>;
}

/** How many of a set's files readSetDetails keeps (the details show the rest as a count). */
export const DETAILS_FILES = 20;

/** A set's manifest with its first DETAILS_FILES files (readSetDetails), and what all its files are. */
export interface SetDetails {
  manifest: Manifest;
  files: {
    /** Every file entry of the set (files and symlinks). */
    count: number;
    /** Their sizes added up (original bytes). */
    bytes: number;
    groups: Manifest['files'][number]['group'][];
  };
}

/** A drill's outcome; from a destination, with the earlier sets of its chain that were fetched too. */
export type MenuDrillOutcome = DrillOutcome & { chainIds?: string[] };

/** The passphrase the menu must ask: of the identity file, or of sets encrypted to a passphrase. */
export type KeyLock = 'identity' | 'passphrase';

/** What keyLocked and unlockKey are about: a restore plan, or one set (`latest` allowed) here or at a destination. */
export type KeySubject = RestorePlan | { setId: string; from?: string };

/** The configuration as the menu shows it. */
export interface MenuConfig {
  file: string;
  /**
   * `file` when the operator named it (`--config`), else null: the commands the menu shows (how to roll a restore
   * back) name it then, so they run on the same backups wherever they are typed.
   */
  namedFile: string | null;
  backupDir: string;
  databases: { name: string; engine: EngineName }[];
  /** Number of configured config files plus application folders (0: nothing to include). */
  fileSources: number;
  /** Names of the configured destinations (off-site copies), in config order. */
  destinations: string[];
  /** The identity file that decrypts encrypted sets (`encryption.identityFile`), null when none is configured. */
  identityFile: string | null;
  schedule: ScheduleJob[];
  retention: RetentionPolicy;
}

/** One destination of a set, from the mark its last copy left (never a network call). */
export interface OffsiteMark {
  destination: string;
  ok: boolean;
  /** The last copy's error, when it failed; null when it was never tried or succeeded. */
  error: string | null;
  /** `error` as a phrase, when it has one. */
  errorPhrase?: Phrase;
  /**
   * The destination's own folder (`remote:path`) when a copy made by this menu created it (it did not exist there):
   * said once, as `copy` and `create` say it (the mark beside the set does not keep it).
   */
  created?: string;
  /** Another set's claims there that the copies after this menu's backup took over (copy-claim.ts), as said. */
  claimsTakenOver?: Phrase[];
  /**
   * Requests those copies tried again after a transient failure, and the first error (CopyResult.retries and
   * retryErrors, earlier sets sent with this one included): a link that fails now and then, said as `create` says it.
   */
  retried?: Phrase;
  /** When the last copy there that succeeded was made (what respaldo recorded; the destination is not asked). */
  at?: string;
  /** When `delete --from` or `prune --from` removed the set there (then `ok` is false). */
  removedAt?: string;
  /** A later copy that failed without changing what is there (the set still counted as there). */
  lastFailure?: { at: string; error: string; errorPhrase?: Phrase };
}

export interface HeaderStatus {
  /** Backup sets, not counting safety (pre_restore) sets. */
  setCount: number;
  /** Safety (pre_restore) sets: what restores replaced (absent: none). */
  safetyCount?: number;
  /** The newest set that is not a safety set. */
  newest: { id: string; startedAt: string } | null;
  /** Set folders too damaged to be listed (no manifest, one that cannot be read: listDamagedSets); absent: none. */
  damagedCount?: number;
  /** For each configured database, when its newest successful full backup started (null: never). */
  lastGood: { database: string; at: string | null }[];
  /**
   * Who holds the backup folder lock right now (its purpose, `restore <id>`, is a command's own words), or null;
   * `unreadable` when its file cannot be read. The menu says it in its language.
   */
  lockHolder: { purpose: string; pid: number; since: string } | 'unreadable' | null;
  freeBytes: number | null;
  /** Destinations (copyAfterBackup) the newest set is not copied to. */
  notOffsite: string[];
  /** The newest restore drill of each configured database that was ever drilled (any set). */
  drills: { database: string; at: string; ok: boolean; setId: string; error?: string }[];
  /** Identity and passphrase files other users can read (see looseSecretFiles). */
  looseSecrets: { path: string; mode: string }[];
  /**
   * The restores that are the last of some database and did not end (interrupted: Ctrl-C, the terminal closed;
   * killed), newest first, from status's last restore of each database; absent: none.
   */
  stoppedRestores?: UnfinishedRestore[];
}

/** One database of planBackupTypes: the type it gets, its base (chains), or why it falls back to a full. */
export interface BackupTypePreview {
  database: string;
  type: BackupType;
  base: string | null;
  fallback: string | null;
  /** `fallback` as a phrase (said in the menu's language). */
  fallbackPhrase?: Phrase;
  /** Why an incremental is a differential on the full (`base`) instead, and the same as a phrase. */
  onFull?: string;
  onFullPhrase?: Phrase;
}

export interface CreateRequest {
  databases: string[];
  type: BackupType;
  files: boolean;
  description?: string;
}

export interface RestoreRequest {
  /** A set id, or `latest`; ignored with `at`. */
  setId: string;
  /** Restore the set from this destination (fetched first), not from the backup folder. */
  from?: string;
  /** Restore as of this time (ISO): the newest set ending at or before it, with its chain (the CLI's --at). */
  at?: string;
  /** How much of `at` was typed (chain.ts atWithin): a set that started within it is named by it. */
  atWithin?: number;
  databases: string[];
  files: boolean;
  /** Side by side: new path (SQLite, files) or new database name (servers). Absent: in place. */
  to?: string;
  /**
   * Server engines, in place: close the sessions connected to the live database at the swap. Only
   * ever set after the operator said yes to the menu's explicit question (the CLI's --terminate-connections).
   */
  terminateConnections?: boolean;
  /** PostgreSQL: first create the roles stored with the set that the server lacks (the CLI's --create-roles). */
  createRoles?: boolean;
  /** PostgreSQL, side by side: only these tables (`schema.table`; the CLI's --table). */
  tables?: string[];
  /** With `files`: only the stored files at or below these paths (`group/relative`; the CLI's --path). */
  paths?: string[];
}

/** What the foreground scheduler reports to the scheduler screen (the Scheduler's own events). */
export type SchedulerEvent =
  | { type: 'log'; entry: SchedulerLogEntry }
  | { type: 'job-start'; job: string }
  | { type: 'job-end'; end: JobEndEvent }
  | { type: 'progress'; job: string; event: ProgressEvent }
  | { type: 'state'; status: SchedulerStatus }
  | { type: 'stopped'; code: number };

export interface SchedulerHandle {
  /** Jobs, next runs, outcomes and counts. */
  status(): SchedulerStatus;
  /** First call: finish the running job, then stop (with `exitCode`, default 0). Second call: abort it safely. */
  stop(exitCode?: number): 'finishing' | 'aborting' | 'stopped';
  /** Resolves with the exit code once stopped (0 graceful, 130 aborted). */
  readonly done: Promise<number>;
}

const RETENTION_FIELDS: (keyof RetentionPolicy)[] = ['keepLast', 'daily', 'weekly', 'monthly', 'yearly'];

function sameRetention(a: RetentionPolicy, b: RetentionPolicy): boolean {
  return RETENTION_FIELDS.every((k) => a[k] === b[k]);
}

function menuConfig(cfg: LoadedConfig, named: boolean): MenuConfig {
  return {
    file: cfg.file,
    namedFile: named ? cfg.file : null,
    backupDir: cfg.backupDir,
    databases: cfg.databases.map((d) => ({ name: d.name, engine: d.engine })),
    fileSources: cfg.files.config.length + cfg.files.application.length,
    destinations: (cfg.destinations ?? []).map((d) => d.name),
    identityFile: cfg.encryption?.identityFile ?? null,
    schedule: cfg.schedule.jobs,
    retention: cfg.retention,
  };
}

/**
 * The facade over the real engine and scheduler for a loaded config. After the schedule is saved
 * the config is loaded again, so every later call sees the new jobs and retention.
 */
/** `named`: the operator named the config file (`--config`); see MenuConfig.namedFile. */
export function createEngineFacade(initial: LoadedConfig, named = false): EngineFacade {
  let cfg = initial;
  let fetched: { key: string; set: FetchedSet } | null = null;
  // A fetch under way, and how many times the wizard was left: a fetch that ends after its wizard was
  // left removes what it fetched, so nothing of it stays behind.
  let fetching: Promise<unknown> | null = null;
  let stopFetch: AbortController | null = null;
  let released = 0;
  // The destinations' folders the copies after this menu's backups created, by set id (CopyResult.created): the
  // create summary says them once, as the CLI does.
  const createdBy = new Map<string, Map<string, string>>();
  // Claims of other sets those copies took over there (CopyResult.claimTakenOver), by set id then destination.
  const takenBy = new Map<string, Map<string, Phrase[]>>();
  // What those copies tried again (retriedPhrase), by set id then destination.
  const retriedBy = new Map<string, Map<string, Phrase>>();
  // Removals under way: a release while one runs (the menu quitting as its restore screen's own release removes the
  // set) waits for it, or the process ended with the folder half removed.
  const removing = new Set<Promise<void>>();
  const dropFetched = async (): Promise<void> => {
    const held = fetched;
    fetched = null;
    const removal = held?.set.remove();
    if (removal) {
      removing.add(removal);
      const settled = (): void => void removing.delete(removal);
      removal.then(settled, settled);
    }
    await Promise.allSettled([...removing]);
    await removal;
  };
  /** The folder of the set `req` restores from a destination, fetched unless the same selection is held. */
  const fetchedFolder = async (req: RestoreRequest & { from: string }, reporter: Reporter): Promise<FetchedSet> => {
    // The manifests alone: the files are fetched once the plan is confirmed (executeRestore).
    const sel = {
      databases: req.databases,
      files: req.files,
      ...(req.files && req.paths?.length ? { paths: req.paths } : {}),
      ...(req.at ? { at: new Date(req.at), atWithin: req.atWithin ?? 0 } : {}),
      manifestsOnly: true,
    };
    const key = JSON.stringify([req.from, req.setId, sel]);
    if (fetched?.key === key) return fetched.set;
    const generation = released;
    // A fetch stopped by Esc may still be removing its folder, the one this fetch writes into: it ends first.
    await fetching?.catch(() => undefined);
    await dropFetched();
    const stop = new AbortController();
    const next = fetchSet(cfg, req.from, req.setId, sel, reporter, stop.signal);
    fetching = next;
    stopFetch = stop;
    let set: FetchedSet;
    try {
      set = await next;
    } finally {
      fetching = null;
      stopFetch = null;
    }
    if (generation !== released) {
      await set.remove();
      throw new InterruptedError('The restore was left while its set was being fetched; nothing of it was kept.');
    }
    fetched = { key, set };
    return set;
  };
  // What a set at a destination stores, its manifest fetched once for the listing of its paths (each Tab).
  const remotePaths = new RemotePathLister(() => cfg);
  const releaseFetched = async (): Promise<void> => {
    released++;
    stopFetch?.abort();
    await fetching?.catch(() => undefined);
    await Promise.all([dropFetched(), remotePaths.drop()]);
  };
  const keys = facadeKeys(() => cfg);
  return {
    config: () => menuConfig(cfg, named),
    async health() {
      const [report, st] = await Promise.all([getHealth(cfg), getStatus(cfg, new Date(), { sizes: false })]);
      return {
        report,
        newest: st.newestPerDatabase,
        offsite: st.offsite,
        createdRoles: st.createdRoles,
        lastRestores: st.lastRestores,
      };
    },
    async status() {
      const [st, all, drilled, damaged] = await Promise.all([
        getStatus(cfg, new Date(), { sizes: false }),
        listSets(cfg),
        lastDrills(cfg),
        listDamagedSets(cfg),
      ]);
      // Safety (pre_restore) sets are not backups the operator made: neither counted nor the newest.
      const sets = all.filter((x) => x.type !== 'pre_restore');
      const fulls = all.filter((x) => x.type === 'full');
      return {
        setCount: sets.length,
        safetyCount: all.length - sets.length,
        damagedCount: damaged.length,
        newest: sets[0] ? { id: sets[0].id, startedAt: sets[0].startedAt } : null,
        lastGood: cfg.databases.map((d) => ({
          database: d.name,
          at: fulls.find((s) => s.status !== 'failed' && s.databases.includes(d.name))?.startedAt ?? null,
        })),
        lockHolder: !st.lock.held
          ? null
          : st.lock.purpose !== undefined && st.lock.pid !== undefined && st.lock.startedAt !== undefined
            ? { purpose: st.lock.purpose, pid: st.lock.pid, since: st.lock.startedAt }
            : 'unreadable',
        freeBytes: st.freeBytes,
        notOffsite: sets[0] ? notCopiedOf(cfg, sets[0]) : [],
        looseSecrets: looseSecretFiles(cfg).map(({ path, mode }) => ({ path, mode })),
        stoppedRestores: unfinishedRestores(st.lastRestores, new Date()),
        drills: cfg.databases.flatMap((d) => {
          const x = drilled[d.name];
          return x
            ? [{ database: d.name, at: x.at, ok: x.ok, setId: x.setId, ...(x.error ? { error: x.error } : {}) }]
            : [];
        }),
      };
    },
    async listSets(filter, signal) {
      // A damaged set is named whatever the filter: which databases it holds cannot be read.
      if (filter?.from) {
        const { sets, damaged } = await listRemote(cfg, filter.from, signal ? { signal } : {});
        const kept = filter.database ? sets.filter((x) => x.databases.includes(filter.database!)) : sets;
        const notes = { damaged: damaged.map(({ id, problem, source }) => ({ id, problem, source })) };
        if (sets.length || damaged.length) return Object.assign(kept, notes);
        // Nothing of this source there: the sources that are, as `restore --from` hints `list --all-sources`.
        const { source, others } = await remoteSources(cfg, filter.from, signal ? { signal } : {});
        return Object.assign(kept, { ...notes, source, otherSources: others });
      }
      const listed = await listSets(cfg, filter?.database ? { database: filter.database } : {});
      // A set whose chain cannot be restored is said so in the list, as `respaldo list` does.
      const sets = withChainProblems(cfg, withOffsite(cfg, listed));
      const damaged = (await listDamagedSets(cfg)).reverse();
      return Object.assign(sets, { damaged: damaged.map(({ id, problem }) => ({ id, problem })) });
    },
    async offsite(id) {
      const m = await readManifestHead(cfg, id);
      if (!isCopied(m)) return [];
      const marks = readCopies(setDir(cfg, m.id));
      return (cfg.destinations ?? []).map((d) => {
        const mark = marks[d.name];
        const error = mark?.ok === false ? (mark.error ?? 'failed') : null;
        const phrase = error !== null && mark?.errorPhrase ? { errorPhrase: mark.errorPhrase } : {};
        const created = createdBy.get(m.id)?.get(d.name);
        const taken = takenBy.get(m.id)?.get(d.name);
        const retried = retriedBy.get(m.id)?.get(d.name);
        // Removed there by delete --from or prune --from: the mark keeps `ok` (copy must not send it again).
        const removed = mark?.prunedAt;
        return {
          destination: d.name,
          ok: mark?.ok === true && !removed,
          error,
          ...(mark?.ok === true && mark.at ? { at: mark.at } : {}),
          ...(removed ? { removedAt: removed } : {}),
          ...(mark?.ok === true && !removed && mark.lastFailure ? { lastFailure: mark.lastFailure } : {}),
          ...phrase,
          ...(created ? { created } : {}),
          ...(taken ? { claimsTakenOver: taken } : {}),
          ...(retried ? { retried } : {}),
        };
      });
    },
    readManifest: (id, from) =>
      from ? withDestination(cfg, from, (dest, source) => readRemoteManifest(dest, source, id)) : readManifest(cfg, id),
    async readSetDetails(id, from) {
      if (from) {
        const lean = (dest: Destination, source: string) => readRemoteManifestLean(dest, source, id, DETAILS_FILES);
        const { head, files } = await withDestination(cfg, from, lean);
        return { manifest: head, files: { count: files.count, bytes: files.bytes, groups: [...files.groups] } };
      }
      // The first few entries read, the others counted as the manifest was read: never the whole list at once.
      const { head, files } = await readManifestLeanOf(cfg, id);
      const first: Manifest['files'] = [];
      if (files.count > 0) for (const f of files.entries()) if (first.push(f) >= DETAILS_FILES) break;
      const all = { count: files.count, bytes: files.bytes, groups: [...files.groups] };
      return { manifest: { ...head, files: first }, files: all };
    },
    async storedPathChoices(id, typed, limit, from) {
      if (from) return remotePaths.choices(from, id, typed, limit);
      const { head, files } = await readManifestLeanOf(cfg, id);
      return pathChoices(files.entries(), head.folders ?? [], typed, limit);
    },
    chainProblems: async (id) => chainBreakPhrases(cfg, (await readManifestHead(cfg, id)).id, { damage: true }),
    async planBackupTypes(req) {
      const chained = req.type === 'differential' || req.type === 'incremental';
      if (!chained || req.databases.length === 0)
        return req.databases.map((database) => ({ database, type: req.type, base: null, fallback: null }));
      const plan = await planOnSets(cfg, { databases: req.databases, type: req.type });
      return plan.databases.map((d) => ({
        database: d.name,
        type: d.type ?? req.type,
        base: d.base ?? null,
        fallback: d.fallback ?? null,
        ...(d.fallbackPhrase ? { fallbackPhrase: d.fallbackPhrase } : {}),
        ...(d.onFull ? { onFull: d.onFull, ...(d.onFullPhrase ? { onFullPhrase: d.onFullPhrase } : {}) } : {}),
      }));
    },
    async createBackup(req, reporter, signal) {
      // The copies also send earlier sets still missing there: a folder any of them created is said with the new set
      // (the first copy to a new path creates it).
      const made = new Map<string, string>();
      const taken = new Map<string, Phrase[]>();
      const retried = new Map<string, CopyResult[]>();
      const m = await createBackup(
        cfg,
        {
          databases: req.databases,
          type: req.type,
          files: req.files,
          ...(req.description ? { description: req.description } : {}),
          ...(signal ? { signal } : {}),
          onCopied: (results) => {
            for (const r of results) {
              if (r.created) made.set(r.destination, r.created);
              if (r.claimTakenOverPhrase)
                taken.set(r.destination, [...(taken.get(r.destination) ?? []), r.claimTakenOverPhrase]);
              if (r.retries) retried.set(r.destination, [...(retried.get(r.destination) ?? []), r]);
            }
          },
        },
        reporter,
      );
      if (made.size) createdBy.set(m.id, made);
      if (taken.size) takenBy.set(m.id, taken);
      if (retried.size)
        retriedBy.set(m.id, new Map([...retried].map(([dest, results]) => [dest, retriedPhrase(dest, results)])));
      return m;
    },
    async verifySet(id, reporter, opts) {
      const r = await verifySet(cfg, id, reporter, opts ?? {});
      const breaks = chainBreakPhrases(cfg, r.setId, { damage: true });
      return breaks.length ? { ...r, chainProblems: breaks.map(english), chainProblemPhrases: breaks } : r;
    },
    async drillSet(id, reporter, signal, from) {
      if (from) {
        await releaseFetched();
        // Its files too when it has some, as a local set's drill (its manifest there says).
        const lean = (d: Destination, source: string) => readRemoteManifestLean(d, source, id);
        const there = await withDestination(cfg, from, lean, signal);
        const opts = { files: there.files.count > 0, operation: 'menu', ...(signal ? { signal } : {}) };
        return runDrillFrom(cfg, from, there.head.id, opts, reporter);
      }
      const { head: m, files } = await readManifestLeanOf(cfg, id);
      return runDrill(
        cfg,
        m.id,
        { files: files.count > 0, operation: 'menu', ...(signal ? { signal } : {}) },
        reporter,
      );
    },
    readDrills: async (id) => readDrillRecord(setDir(cfg, (await readManifestHead(cfg, id)).id)),
    deleteSet: (id) => deleteSet(cfg, id),
    // Its file entries gone through one at a time (a set of 100 000 files held whole peaked at 200 MiB)
    async deleteNotes(id) {
      const { head, files } = await readManifestLeanOf(cfg, id);
      return deleteNotes(cfg, head, { [Symbol.iterator]: () => files.entries() });
    },
    // Here and at the destinations the set is copied to; one that fails is an error (the local mark stands).
    async setKeep(id, keep) {
      const { failed } = await keepSet(cfg, id, keep);
      if (failed.length) {
        const message = phrase('keep.notAt', { keep: String(keep), failed: JSON.stringify(failed) });
        // What to do at each destination that failed, not at the first alone
        const hint =
          failed.length === 1
            ? phrase('keep.notAtHint', {
                keep: String(keep),
                set: id,
                dest: failed[0]!.destination,
                why: keepFailureWhy(failed[0]!),
              })
            : phrase('keep.notAtHints', {
                keep: String(keep),
                set: id,
                failed: JSON.stringify(failed.map((f) => ({ dest: f.destination, why: keepFailureWhy(f) }))),
              });
        throw new RespaldoError('notCopied', english(message), english(hint)).withPhrases(message, hint);
      }
    },
    async planRestore(req, reporter) {
      const opts: RestoreOptions = {
        databases: req.databases,
        files: req.files,
        ...(req.to ? { to: req.to } : {}),
        ...(req.terminateConnections ? { terminateConnections: true } : {}),
        ...(req.createRoles ? { createRoles: true } : {}),
        ...(req.tables?.length ? { tables: req.tables } : {}),
        ...(req.files && req.paths?.length ? { paths: req.paths } : {}),
        ...(req.at ? { atWithin: req.atWithin ?? 0 } : {}),
        checkAsRead: true,
      };
      if (!req.from) return req.at ? planRestoreAt(cfg, new Date(req.at), opts) : planRestore(cfg, req.setId, opts);
      // From a destination: the set (for `at`, the set of that time) and its chains are fetched first.
      const set = await fetchedFolder({ ...req, from: req.from }, reporter ?? silentReporter);
      const fetchedOpts = { ...opts, ...fetchedRestoreOptions(set, req.from) };
      return req.at ? planRestoreAt(cfg, new Date(req.at), fetchedOpts) : planRestore(cfg, set.id, fetchedOpts);
    },
    async executeRestore(plan, reporter, signal) {
      try {
        const set = plan.options.setFolder && fetched?.set.dir === plan.options.setFolder ? fetched.set : null;
        if (set?.fetchFiles) await checkBeforeFetch(cfg, set);
        const run = set?.fetchFiles ? await fetchPlanned(cfg, plan, set, reporter, signal) : null;
        // A set whose files stream from the destination (no room to fetch them, or the disk filled meanwhile).
        const streamed = run ? run.set.streamed : set?.streamed;
        return await executeRestore(cfg, run?.plan ?? plan, reporter, {
          ...(signal ? { signal } : {}),
          ...(named ? { configFile: cfg.file } : {}),
          ...(streamed ? { remote: streamed } : {}),
        });
      } finally {
        if (plan.options.setFolder) await releaseFetched();
      }
    },
    releaseFetched,
    keyLocked: keys.keyLocked,
    unlockKey: keys.unlockKey,
    nextRuns(when, timezone, count, from) {
      // A `when` or zone it cannot read throws WhenError: a usage error with its phrases.
      return schedulerNextRuns({ when, ...(timezone ? { timezone } : {}) }, count, from ?? new Date());
    },
    async saveSchedule(jobs, retention) {
      await writeSchedule(cfg.file, { jobs, ...(sameRetention(retention, cfg.retention) ? {} : { retention }) });
      cfg = await loadConfig({ configPath: cfg.file });
      return { schedulerRunning: heldLock(join(cfg.backupDir, SCHEDULER_LOCK_DIR)) !== null };
    },
    async startScheduler(listener, opts) {
      const scheduler = createEngineScheduler(cfg, opts?.catchUp === false ? { catchUp: false } : {});
      scheduler.on('log', (entry: SchedulerLogEntry) => listener({ type: 'log', entry }));
      scheduler.on('job-start', (e: { job: string }) => listener({ type: 'job-start', job: e.job }));
      scheduler.on('job-end', (end: JobEndEvent) => listener({ type: 'job-end', end }));
      scheduler.on('progress', (e: { job: string; event: ProgressEvent }) =>
        listener({ type: 'progress', job: e.job, event: e.event }),
      );
      scheduler.on('state', (status: SchedulerStatus) => listener({ type: 'state', status }));
      scheduler.on('stopped', (code: number) => listener({ type: 'stopped', code }));
      await scheduler.start();
      return {
        status: () => scheduler.status(),
        stop: (exitCode?: number) => scheduler.stop(exitCode),
        done: scheduler.done,
      };
    },
    planCatchUp: async () => {
      const scheduler = createEngineScheduler(cfg);
      const held = scheduler.heldByAnother();
      if (held) throw held;
      return scheduler.planCatchUp();
    },
  };
}

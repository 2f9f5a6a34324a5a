import { english, phrase, type Phrase } from '../core/phrases.js';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { LoadedConfig, SetSummary, SetType } from '../core/types.js';
import { formatLocal } from '../core/format.js';
import { SWAP_JOURNAL_PREFIX, listSets } from './catalog.js';
import { offsiteState, type DestinationState } from './offsite-state.js';
import { folderSize, freeBytesAt } from './fs-util.js';
import { readSchedulerState, SCHEDULER_LOCK_DIR, withUnfinishedRun, type SchedulerState } from '../scheduler/state.js';
import { heldLock, isStale, LOCK_NAME, processAlive, spareLockFile } from './lock.js';
import { deadSystemScratch } from './system-scratch.js';
import { deadTemps } from './temp-journal.js';
import { deadRoleRecords, dropRolesSql, type RoleRecord } from './role-journal.js';
import { lastRestores, type LastRestore } from './last-restores.js';
import { errorMessage } from '../core/errors.js';
import { capabilitiesOf } from '../drivers/capabilities.js';
import { FILE_ASIDE_MARK, FILE_STAGING_MARK, fileNamedBy } from '../drivers/shared/names.js';

export interface StatusReport {
  configFile: string;
  backupDir: string;
  sets: number;
  /** The set folders' sizes added up (0 when getStatus was asked `sizes: false`). */
  totalBytes: number;
  /** The newest set each database can be restored from: a full, or a differential or incremental (its chain). */
  newestPerDatabase: {
    database: string;
    engine: string;
    setId: string | null;
    type: SetType | null;
    completedAt: string | null;
    ageSeconds: number | null;
  }[];
  /** Safety copies (pre_restore sets) that exist. */
  safetySets: string[];
  newest: SetSummary | null;
  freeBytes: number | null;
  /** `purpose` and `pid` of a live holder: what runs now (its working files and databases are not left over). */
  lock: { held: boolean; holder: string | null; purpose?: string; pid?: number; startedAt?: string };
  /** Staging folders and rollback journals left by interrupted runs (removed or finished by the next create). */
  leftovers: string[];
  /**
   * What to do about `leftovers` (null when there are none): the next create or restore removes them; a files
   * restore's partial folder among them holds restored files, secrets too, and is said so.
   */
  leftoversHint: string | null;
  /**
   * Roles that restores killed outright had created (`restore --create-roles`): they may be on their servers with
   * nothing using them. The next restore of that database that completes forgets them.
   */
  createdRoles: (RoleRecord & { dropSql: string })[];
  /**
   * How the last restore of each configured database ended (last-restores.ts, the last 30 days of logs): completed,
   * interrupted (a hang-up), failed, refused, killed, running. Databases with no restore logged are absent.
   */
  lastRestores: (LastRestore & { saidEn: string })[];
  /** `leftoversHint` as a phrase (the menu and alerts say it in their language). */
  leftoversHintPhrase?: Phrase;
  /** What the scheduler last recorded: per job last run, outcome, duration, next run. */
  scheduler: SchedulerState;
  /**
   * What interrupted restores left on the databases themselves (temporary `__restore_` databases, a
   * swap cut in the middle), per configured database whose driver can tell; `error` when it could
   * not be checked. Only with `{ databases: true }` (it connects to every server).
   */
  databaseLeftovers?: DatabaseLeftovers[];
  /** Per destination: newest set copied there, sets not copied, last error (empty without destinations). */
  offsite: DestinationState[];
}

export interface DatabaseLeftovers {
  database: string;
  engine: string;
  /** One line each, saying how to finish it; empty when nothing was left. */
  leftovers: string[];
  error?: string;
}

/**
 * Asks each configured database's driver what interrupted restores left (read-only), all at once;
 * with `drill.server`, also what killed drills left on that server.
 */
export async function findDatabaseLeftovers(cfg: LoadedConfig): Promise<DatabaseLeftovers[]> {
  const local = cfg.databases
    .filter((db) => !capabilitiesOf(db.engine).serverLeftovers && db.path)
    .map((db) => ({
      database: db.name,
      engine: db.engine,
      // beside the file a symlink names (where a restore works), and beside the link (an older respaldo's)
      leftovers: [...new Set([db.path!, fileNamedBy(db.path!)])].flatMap(filesLeftBeside),
    }));
  return [...local, ...(await onServers(cfg))];
}

/**
 * The files a killed restore left beside a database file (SQLite): its staging copy, a journal it set aside.
 * Read-only, by name alone, without loading the driver.
 */
function filesLeftBeside(file: string): string[] {
  const dir = dirname(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const staging = `.${basename(file)}${FILE_STAGING_MARK}`;
  return names.flatMap((n) => {
    const path = join(dir, n);
    if (n.startsWith(staging))
      return [`${path}: the unfinished copy of a killed restore; the next create or restore removes it`];
    if (n.startsWith(`${basename(file)}-`) && n.includes(FILE_ASIDE_MARK))
      return [`${path}: a journal a killed restore set aside; the next create or restore puts it back or removes it`];
    return [];
  });
}

async function onServers(cfg: LoadedConfig): Promise<DatabaseLeftovers[]> {
  const asked = cfg.databases.filter((db) => capabilitiesOf(db.engine).serverLeftovers);
  if (!asked.length) return [];
  // Drivers (and their database libraries) only when some database can have leftovers on its server.
  const [{ driverFor }, { drillTarget }] = await Promise.all([
    import('../drivers/registry.js'),
    import('./drill-target.js'),
  ]);
  const checked = asked.map(async (db): Promise<DatabaseLeftovers | null> => {
    const driver = driverFor(db.engine);
    if (!driver.findLeftovers) return null;
    const target = drillTarget(cfg, db);
    try {
      const leftovers = await driver.findLeftovers(db);
      if (target !== db) leftovers.push(...(await driver.findLeftovers(target)));
      return { database: db.name, engine: db.engine, leftovers };
    } catch (err) {
      return { database: db.name, engine: db.engine, leftovers: [], error: errorMessage(err) };
    }
  });
  return (await Promise.all(checked)).filter((x): x is DatabaseLeftovers => x !== null);
}

const RESTORES_DATA: ReadonlySet<SetType> = new Set(['full', 'differential', 'incremental']);

/** A summary for `respaldo status` and the menu header. Reads only. */
export async function getStatus(
  cfg: LoadedConfig,
  now = new Date(),
  opts: { databases?: boolean; sizes?: boolean } = {},
): Promise<StatusReport> {
  const databaseLeftovers = opts.databases ? findDatabaseLeftovers(cfg) : null;
  const sets = await listSets(cfg);
  let totalBytes = 0;
  // `sizes: false` (the menu, which does not show them): the folder of a set of 100 000 files took 4 s to add up.
  if (opts.sizes !== false) for (const s of sets) totalBytes += await folderSize(s.path);
  const newestPerDatabase = cfg.databases.map((db) => {
    // Not a schema-only set (no rows) nor a safety copy; a delta restores through its chain (as `restore` does).
    const s = sets.find((x) => RESTORES_DATA.has(x.type) && x.databases.includes(db.name));
    return {
      database: db.name,
      engine: db.engine,
      setId: s?.id ?? null,
      type: s?.type ?? null,
      completedAt: s?.completedAt ?? null,
      ageSeconds: s ? Math.round((now.getTime() - new Date(s.completedAt).getTime()) / 1000) : null,
    };
  });
  // A backup folder not made yet: the disk it will be on (its nearest existing parent), not the config's.
  const freeBytes = await freeBytesAt(cfg.backupDir);
  let lock: StatusReport['lock'] = { held: false, holder: null };
  // The lock in the folder, or in its spare place (a disk with no room for it: lock.ts); a held one is said first.
  for (const lockFile of [join(cfg.backupDir, LOCK_NAME), spareLockFile(cfg.backupDir)]) {
    if (lock.held || !lockFile || !existsSync(lockFile)) continue;
    try {
      const info = JSON.parse(await fsp.readFile(lockFile, 'utf8')) as {
        pid: number;
        host: string;
        purpose: string;
        startedAt: string;
      };
      lock = isStale(info)
        ? { held: false, holder: `stale lock of pid ${info.pid}` }
        : {
            held: true,
            holder: `${info.purpose}, pid ${info.pid} since ${formatLocal(info.startedAt)}`,
            purpose: info.purpose,
            pid: info.pid,
            startedAt: info.startedAt,
          };
    } catch {
      lock = { held: true, holder: 'unreadable lock file' };
    }
  }
  // A killed `restore --from` leaves its fetch folder (the whole set, on the worst day the disk's room): listed
  // once its process is gone, as the next create or restore removes it.
  const fetchOfDeadRun = (n: string) => {
    const pid = /^\.respaldo-restore-fetch-(\d+)$/.exec(n)?.[1];
    return pid !== undefined && !processAlive(Number(pid));
  };
  // …and what a delete or prune left of a set it could not remove whole (gone from the listing, still on the disk).
  const deletingOfDeadRun = (n: string) => {
    const pid = /^\.deleting-\d{8}_\d{6}\S*-(\d+)$/.exec(n)?.[1];
    return pid !== undefined && !processAlive(Number(pid));
  };
  const left = (n: string) =>
    n.startsWith('.tmp-') || n.startsWith(SWAP_JOURNAL_PREFIX) || fetchOfDeadRun(n) || deletingOfDeadRun(n);
  // …and the scratch folders killed restores and drills kept in the system's temporary folder (a full backup disk).
  const leftovers = [
    ...(existsSync(cfg.backupDir) ? readdirSync(cfg.backupDir).filter(left) : []),
    ...deadSystemScratch(),
    // …and the temporary paths outside it that killed restores journaled (a files restore's partial folder).
    ...deadTemps(cfg.backupDir),
  ];
  return {
    configFile: cfg.file,
    backupDir: cfg.backupDir,
    sets: sets.length,
    totalBytes,
    newestPerDatabase,
    safetySets: sets.filter((s) => s.type === 'pre_restore').map((s) => s.id),
    newest: sets[0] ?? null,
    freeBytes,
    lock,
    leftovers,
    ...leftoversSaid(leftovers),
    createdRoles: deadRoleRecords(cfg.backupDir).map((r) => ({ ...r, dropSql: dropRolesSql(r) })),
    lastRestores: lastRestores(
      cfg.backupDir,
      cfg.databases.map((d) => d.name),
      now,
    ).map((r) => ({ ...r, saidEn: english(r.said) })),
    scheduler: withLiveness(readSchedulerState(cfg.backupDir), cfg.backupDir),
    offsite: offsiteState(cfg, sets),
    ...(databaseLeftovers ? { databaseLeftovers: await databaseLeftovers } : {}),
  };
}

/**
 * A scheduler the state calls running whose process on this host is gone (killed) is said stopped, and gone; a job
 * whose last run did not end is said running or interrupted (see withUnfinishedRun). Its pid alive is not enough when
 * its lock (`.scheduler/.respaldo.lock`) is there and stale: after a power cut that pid may be any process of the new
 * boot (lock.ts), and status said the scheduler ran.
 */
function withLiveness(state: SchedulerState, backupDir: string): SchedulerState {
  const sched = state.scheduler;
  const lock = join(backupDir, SCHEDULER_LOCK_DIR, LOCK_NAME);
  const gone = Boolean(
    sched?.running &&
    sched.host === hostname() &&
    (!processAlive(sched.pid) || (existsSync(lock) && !heldLock(dirname(lock)))),
  );
  const running = Boolean(sched?.running) && !gone;
  const jobs = Object.fromEntries(Object.entries(state.jobs).map(([n, j]) => [n, withUnfinishedRun(j, running)]));
  return { ...state, jobs, scheduler: sched && gone ? { ...sched, running: false, gone: true } : sched };
}

/** StatusReport.leftoversHint, and its phrase. */
function leftoversSaid(leftovers: string[]): Pick<StatusReport, 'leftoversHint' | 'leftoversHintPhrase'> {
  if (!leftovers.length) return { leftoversHint: null };
  const partial = leftovers.filter((p) => basename(p).includes('.respaldo-partial-'));
  const hint = partial.length
    ? phrase('status.partialLeftoverHint', { paths: partial.map((p) => JSON.stringify(p)).join(' ') })
    : phrase('status.leftoversHint');
  return { leftoversHint: english(hint), leftoversHintPhrase: hint };
}

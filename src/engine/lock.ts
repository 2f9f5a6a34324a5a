import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync, realpathSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LockHeldError, RespaldoError, isDiskFull } from '../core/errors.js';
import { formatLocal } from '../core/format.js';
import { DIR_MODE, ensurePrivateDir, FILE_MODE } from './fs-util.js';

export const LOCK_NAME = '.respaldo.lock';

/**
 * Where a backup folder's lock is taken when its disk has no room left even for the lock file: `/run/lock` (the
 * system's folder for lock files, shared by a systemd service with PrivateTmp=yes, and by cron and terminals, which
 * `TMPDIR` or `XDG_RUNTIME_DIR` are not), else the temporary folder. Same on every run of this host.
 */
const SPARE_ROOT = existsSync('/run/lock') ? '/run/lock' : tmpdir();

interface LockInfo {
  pid: number;
  host: string;
  purpose: string;
  startedAt: string;
  /**
   * The holder as the kernel knows it (Linux), so that its pid, reused after a reboot or a kill, is not
   * taken for it.
   */
  boot?: string;
  /** The holder's start, in clock ticks since that boot (`/proc/<pid>/stat`, field 22). */
  startTicks?: number;
}

/** This boot of the machine (`/proc/sys/kernel/random/boot_id`), or undefined where there is none. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat` field 22), or undefined. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name, whose closing parenthesis is the last one (a name may hold spaces or one)
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/** How long an unreadable (empty, half-written) lock file is still treated as held. */
const UNREADABLE_GRACE_MS = 10_000;

function lockAgeMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * Whether a lock file was left by a process that no longer runs on this host. Its pid alone is not enough: after a
 * power cut the lock is still on disk and its pid may be any process of the new boot (a daemon that runs for months),
 * and every command then exited 6 and `scheduler --if-not-running` exited 0 doing nothing, until someone removed the
 * lock by hand. A lock of another boot, or whose pid is now a process started at another time, is stale.
 */
export function isStale(info: LockInfo | null): boolean {
  if (!info) return true;
  if (info.host !== hostname()) return false;
  if (!processAlive(info.pid)) return true;
  const boot = bootId();
  if (info.boot !== undefined && boot !== undefined && info.boot !== boot) return true;
  const ticks = startTicks(info.pid);
  return info.startTicks !== undefined && ticks !== undefined && info.startTicks !== ticks;
}

/**
 * Creates the lock with its content in one step: the content is written to a private temp file,
 * which is then hard-linked to the lock name (link fails if the name exists), so no reader ever
 * sees a half-written lock. `owner`: the uid it is given (root taking a spare lock of another user's folder).
 * A full disk throws its ENOSPC as it is, leaving nothing behind.
 */
async function tryCreate(file: string, info: LockInfo, owner?: number): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await fsp.open(tmp, 'wx', FILE_MODE);
  try {
    await fh.writeFile(JSON.stringify(info));
    await fh.sync();
    if (owner !== undefined && owner !== process.getuid?.()) await fh.chown(owner, -1);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/** No room for the lock file itself, nor in its spare place: said as such for every command. */
function lockDiskFull(file: string, info: LockInfo): RespaldoError {
  return new RespaldoError(
    'failed',
    `No space left on the disk of the backup folder ${dirname(file)} to write its lock file (for ${info.purpose}): nothing was started.`,
    'Free space there (`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes one set), then run the command again.',
    { backupDir: dirname(file) },
  );
}

/**
 * The spare place of the lock of `backupDir` (`<SPARE_ROOT>/respaldo-locks-<uid of the folder's owner>/<sha256 of
 * its real path>.lock`), for when its disk is full, and that owner; null when the folder cannot be read.
 */
function spareLock(backupDir: string): { file: string; owner: number } | null {
  try {
    const real = realpathSync(backupDir);
    const owner = statSync(real).uid;
    const key = createHash('sha256').update(real).digest('hex').slice(0, 32);
    return { file: join(SPARE_ROOT, `respaldo-locks-${owner}`, `${key}.lock`), owner };
  } catch {
    return null;
  }
}

/** The spare lock file of `backupDir`, or null (exported for tests and `status`). */
export function spareLockFile(backupDir: string): string | null {
  return spareLock(backupDir)?.file ?? null;
}

/** Makes the folder of spare locks, 0700 and the folder owner's; throws when it is anything else (another user's). */
async function ensureSpareDir(dir: string, owner: number): Promise<void> {
  await fsp.mkdir(dir, { mode: DIR_MODE }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  if (process.getuid?.() === 0 && owner !== 0) await fsp.lchown(dir, owner, -1);
  const st = await fsp.lstat(dir);
  if (!st.isDirectory() || st.uid !== owner || (st.mode & 0o077) !== 0)
    throw new Error(`${dir} is not a private folder of uid ${owner}`);
}

function sameHolder(a: LockInfo | null, b: LockInfo | null): boolean {
  return Boolean(a && b && a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt);
}

function describeHolder(h: LockInfo | null): string {
  // Since when in local time, as `status` and the menu's header say it (it was the lock file's raw ISO time).
  return h
    ? `${h.purpose}, pid ${h.pid} on ${h.host} since ${formatLocal(h.startedAt, { seconds: true })}`
    : 'unknown holder';
}

/**
 * Takes the lock at `file`: a lock left by a killed process (same host, pid gone) is taken over; a live holder
 * gives LockHeldError. A full disk throws its ENOSPC as it is.
 */
async function take(file: string, info: LockInfo, owner?: number): Promise<void> {
  if (await tryCreate(file, info, owner)) return;
  const holder = readLock(file);
  // Locks are created whole (see tryCreate); an unreadable one is damaged, or from an older
  // writer that may still be filling it: give it a grace period before calling it stale.
  if (!holder && lockAgeMs(file) < UNREADABLE_GRACE_MS) {
    throw new LockHeldError(file, 'a process that is taking the lock right now');
  }
  if (!isStale(holder)) throw new LockHeldError(file, describeHolder(holder), holder ?? undefined);
  // Stale: move it aside under a private name. If what was moved is not the stale lock we read
  // (another process took it over meanwhile), put it back without clobbering and give up.
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fsp.rename(file, aside);
  } catch {
    throw new LockHeldError(file, describeHolder(readLock(file)));
  }
  const moved = readLock(aside);
  if (!sameHolder(moved, holder) && !isStale(moved)) {
    await fsp.link(aside, file).catch(() => undefined);
    await fsp.rm(aside, { force: true });
    throw new LockHeldError(file, describeHolder(moved));
  }
  await fsp.rm(aside, { force: true });
  if (!(await tryCreate(file, info, owner))) throw new LockHeldError(file, describeHolder(readLock(file)));
}

/** Removes the lock at `file` when it is this process's. */
async function releaseAt(file: string, info: LockInfo): Promise<void> {
  const current = readLock(file);
  if (current && current.pid === process.pid && current.host === info.host) await fsp.rm(file, { force: true });
}

/**
 * How a run waits for a live holder of the lock instead of failing at once (a scheduled job; a command from a terminal
 * fails at once, exit 6). The wait is in the taking itself: nothing can take the lock between a look that finds it
 * free and the take, as it could when the scheduler looked first and the job took it after.
 */
export interface LockWait {
  /** A live process holds the lock (`held` names it): resolve to try again, throw to give up (`held`, or a stop). */
  held(held: LockHeldError): Promise<void>;
  /** The lock was found free after `held` was called (and, by acquireLock, taken). */
  free?(): void;
}

/**
 * One writer at a time per backup folder. A lock left by a killed process (same host, pid gone)
 * is taken over at once; a live holder gives LockHeldError at once, or, with `wait`, is waited for (see LockWait).
 *
 * A disk with no room even for the lock file (the day a restore matters most) does not stop the run: the lock is
 * taken in its spare place (spareLock), outside the folder. Each process takes one place, then looks at the
 * other and gives up if a live process holds it: of two processes taking it at once in different places, at least
 * one sees the other (possibly both, and both give up: the lock is never held twice). `needsRoom`: a run that
 * writes there anyway (`create`) is refused at once instead, saying the disk is full.
 */
export async function acquireLock(
  backupDir: string,
  purpose: string,
  opts: { needsRoom?: boolean; wait?: LockWait } = {},
): Promise<Release> {
  const { wait } = opts;
  for (let waited = false; ; waited = true) {
    try {
      const release = await acquireOnce(backupDir, purpose, opts);
      if (waited) wait?.free?.();
      return release;
    } catch (err) {
      if (!wait || !(err instanceof LockHeldError)) throw err;
      await wait.held(err);
    }
  }
}

async function acquireOnce(backupDir: string, purpose: string, opts: { needsRoom?: boolean }): Promise<Release> {
  await ensurePrivateDir(backupDir);
  const file = join(backupDir, LOCK_NAME);
  const boot = bootId();
  const ticks = startTicks(process.pid);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    purpose,
    startedAt: new Date().toISOString(),
    ...(boot !== undefined ? { boot } : {}),
    ...(ticks !== undefined ? { startTicks: ticks } : {}),
  };
  const spare = spareLock(backupDir);
  let held = file;
  try {
    await take(file, info);
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    if (!spare || opts.needsRoom) throw lockDiskFull(file, info);
    try {
      await ensureSpareDir(dirname(spare.file), spare.owner);
      await take(spare.file, info, spare.owner);
    } catch (e) {
      throw e instanceof LockHeldError ? e : lockDiskFull(file, info);
    }
    held = spare.file;
  }
  const other = held === file ? spare?.file : file;
  const busy = other ? heldAt(other) : null;
  if (busy) {
    await releaseAt(held, info);
    throw busy;
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await releaseAt(held, info);
  };
  return Object.assign(release, { outside: held !== file });
}

/**
 * Releases a lock taken by acquireLock (again: nothing). `outside`: it was taken in its spare place, the folder's disk
 * having no room even for it; then the run writes nothing there that it can do without.
 */
export type Release = (() => Promise<void>) & { outside: boolean };

/** The LockHeldError of the lock file `file` when a live process holds it, else null. */
function heldAt(file: string): LockHeldError | null {
  const holder = readLock(file);
  if (!holder)
    return lockAgeMs(file) < UNREADABLE_GRACE_MS
      ? new LockHeldError(file, 'a process that is taking the lock right now')
      : null;
  return isStale(holder) ? null : new LockHeldError(file, describeHolder(holder), holder);
}

/**
 * The error acquireLock would give now for `backupDir` (a live process holds its lock, in the folder or in its
 * spare place), else null; takes nothing. A restore from a destination asks it before the set is fetched, and
 * again when it takes the lock to restore; the scheduler, while a job waits.
 */
export function heldLock(backupDir: string): LockHeldError | null {
  const spare = spareLockFile(backupDir);
  return heldAt(join(backupDir, LOCK_NAME)) ?? (spare ? heldAt(spare) : null);
}

/**
 * Waits with `wait` while a live process holds the lock of `backupDir`, taking nothing: a scheduled run that only
 * reads the sets (verify) does not start in the middle of another's writes. When the wait gives up (`held` throws
 * the LockHeldError), it returns all the same: reading needs no lock. A stop's error is thrown.
 */
export async function waitUntilFree(backupDir: string, wait: LockWait): Promise<void> {
  let waited = false;
  for (let held = heldLock(backupDir); held; held = heldLock(backupDir)) {
    waited = true;
    try {
      await wait.held(held);
    } catch (err) {
      if (err === held) return;
      throw err;
    }
  }
  if (waited) wait.free?.();
}

/** Runs `fn` holding the backup folder lock (`outside`, `needsRoom`, `wait`: see Release, acquireLock). */
export async function withLock<T>(
  backupDir: string,
  purpose: string,
  fn: (lock: { outside: boolean }) => Promise<T>,
  opts: { needsRoom?: boolean; wait?: LockWait } = {},
): Promise<T> {
  const release = await acquireLock(backupDir, purpose, opts);
  try {
    return await fn({ outside: release.outside });
  } finally {
    await release();
  }
}

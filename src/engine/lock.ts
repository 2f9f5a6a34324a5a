import { promises as fsp, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { LockHeldError, RespaldoError, isDiskFull } from '../core/errors.js';
import { ensurePrivateDir, FILE_MODE } from './fs-util.js';

export const LOCK_NAME = '.respaldo.lock';

interface LockInfo {
  pid: number;
  host: string;
  purpose: string;
  startedAt: string;
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

/** Whether a lock file was left by a process that no longer runs on this host. */
export function isStale(info: LockInfo | null): boolean {
  if (!info) return true;
  return info.host === hostname() && !processAlive(info.pid);
}

/**
 * Creates the lock with its content in one step: the content is written to a private temp file,
 * which is then hard-linked to the lock name (link fails if the name exists), so no reader ever
 * sees a half-written lock.
 */
async function tryCreate(file: string, info: LockInfo): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await fsp.open(tmp, 'wx', FILE_MODE).catch((err: unknown) => {
    throw isDiskFull(err) ? lockDiskFull(file, info) : err;
  });
  try {
    await fh.writeFile(JSON.stringify(info));
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }); // e.g. a full disk: leave nothing behind
    throw isDiskFull(err) ? lockDiskFull(file, info) : err;
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

/** No room for the lock file itself: said as such for every command (not as "nothing was published"). */
function lockDiskFull(file: string, info: LockInfo): RespaldoError {
  return new RespaldoError(
    'failed',
    `No space left on the disk of the backup folder ${dirname(file)} to write its lock file (for ${info.purpose}): nothing was started.`,
    'Free space there (`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes one set), then run the command again.',
    { backupDir: dirname(file) },
  );
}

function sameHolder(a: LockInfo | null, b: LockInfo | null): boolean {
  return Boolean(a && b && a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt);
}

function describeHolder(h: LockInfo | null): string {
  return h ? `${h.purpose}, pid ${h.pid} on ${h.host} since ${h.startedAt}` : 'unknown holder';
}

/**
 * One writer at a time per backup folder. A lock left by a killed process (same host, pid gone)
 * is taken over; a live holder gives LockHeldError at once (no waiting).
 */
export async function acquireLock(backupDir: string, purpose: string): Promise<() => Promise<void>> {
  await ensurePrivateDir(backupDir);
  const file = join(backupDir, LOCK_NAME);
  const info: LockInfo = { pid: process.pid, host: hostname(), purpose, startedAt: new Date().toISOString() };
  if (!(await tryCreate(file, info))) {
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
    if (!(await tryCreate(file, info))) throw new LockHeldError(file, describeHolder(readLock(file)));
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const current = readLock(file);
    if (current && current.pid === process.pid && current.host === info.host) await fsp.rm(file, { force: true });
  };
}

/**
 * The error acquireLock would give now for `backupDir` (a live process holds its lock), else null; takes nothing.
 * A restore from a destination asks it before the set is fetched, and again when it takes the lock to restore.
 */
export function heldLock(backupDir: string): LockHeldError | null {
  const file = join(backupDir, LOCK_NAME);
  const holder = readLock(file);
  if (!holder)
    return lockAgeMs(file) < UNREADABLE_GRACE_MS
      ? new LockHeldError(file, 'a process that is taking the lock right now')
      : null;
  return isStale(holder) ? null : new LockHeldError(file, describeHolder(holder), holder);
}

/** Runs `fn` holding the backup folder lock. */
export async function withLock<T>(backupDir: string, purpose: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(backupDir, purpose);
  try {
    return await fn();
  } finally {
    await release();
  }
}

import { promises as fsp, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockHeldError } from '../core/errors.js';
import { ensurePrivateDir, FILE_MODE } from './fs-util.js';

export const LOCK_NAME = '.respaldo.lock';

interface LockInfo {
  pid: number;
  host: string;
  purpose: string;
  startedAt: string;
}

function alive(pid: number): boolean {
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

/** Whether a lock file was left by a process that no longer runs on this host. */
export function isStale(info: LockInfo | null): boolean {
  if (!info) return true;
  return info.host === hostname() && !alive(info.pid);
}

async function tryCreate(file: string, info: LockInfo): Promise<boolean> {
  try {
    const fh = await fsp.open(file, 'wx', FILE_MODE);
    try {
      await fh.writeFile(JSON.stringify(info));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
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
    if (!isStale(holder)) {
      throw new LockHeldError(file, holder ? `${holder.purpose}, pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : 'unknown holder');
    }
    // Stale: move it aside atomically so that only one taker wins, then create ours.
    const aside = `${file}.stale-${process.pid}`;
    await fsp.rename(file, aside).catch(() => undefined);
    await fsp.rm(aside, { force: true });
    if (!(await tryCreate(file, info))) {
      const now = readLock(file);
      throw new LockHeldError(file, now ? `${now.purpose}, pid ${now.pid} on ${now.host}` : 'unknown holder');
    }
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const current = readLock(file);
    if (current && current.pid === process.pid && current.host === info.host) await fsp.rm(file, { force: true });
  };
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

import { platform, release } from 'node:os';
import { InterruptedError } from '../core/errors.js';
import { runCapture } from '../exec/spawn.js';

/**
 * Many files made durable at once. An fsync of each file waits on a commit of the file system's journal for it:
 * 100 000 small files took 12–14 s of fsyncs (four at a time, on libuv's thread pool) after a create or a files
 * restore had written them in 26, where syncing their file system once (`sync -f`, the syncfs system call) took
 * 0.9 s on the same disk. From SYNC_WHOLE_FROM files on, a tree is synced so.
 *
 * syncfs writes out everything waiting on that file system, other programs' writes too: under SYNC_WHOLE_FROM
 * files, each file is fsynced as before, and no more is written than the files themselves (a set of three databases
 * on the disk of a busy database server). It reports the write errors of that file system only from Linux 5.8 (before,
 * it returned success whatever happened): elsewhere, and when `sync` is missing or refuses `-f` (coreutils before
 * 8.24), each file is fsynced, which says the true error.
 */
export const SYNC_WHOLE_FROM = 1000;

/** Pure: whether a tree of `files` files is made durable by syncing its file system (Linux 5.8 or later). */
export function syncsWhole(files: number, os: { platform: string; release: string } = thisSystem()): boolean {
  if (files < SYNC_WHOLE_FROM || os.platform !== 'linux') return false;
  const [major = 0, minor = 0] = os.release.split('.').map((n) => parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 8);
}

const thisSystem = () => ({ platform: platform(), release: release() });

/**
 * Syncs the file system holding `path` (`sync -f PATH`). False when that could not be done (no `sync`, one without
 * `-f`, an error reported): the caller then fsyncs each file, which says the true error. Interrupted by `signal`: an
 * InterruptedError.
 */
export async function syncFileSystem(path: string | Buffer, signal?: AbortSignal): Promise<boolean> {
  const at = typeof path === 'string' ? path : path.toString();
  // A name that is not UTF-8 cannot be said in an argument as it is: each file is fsynced instead.
  if (typeof path !== 'string' && !Buffer.from(at).equals(path)) return false;
  try {
    await runCapture({ command: 'sync', args: ['-f', '--', at], ...(signal ? { signal } : {}) });
    return true;
  } catch (err) {
    if (signal?.aborted) throw err instanceof InterruptedError ? err : new InterruptedError();
    return false;
  }
}

import { closeSync, existsSync, fstatSync, openSync, promises as fsp, readSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { DIR_MODE, fsyncPath, makeDirs } from '../core/durable-fs.js';
import { mapAtOnce } from './at-once.js';
import { syncFileSystem, syncsWhole } from './sync-whole.js';

export { DIR_MODE, FILE_MODE, fsyncPath, writeFileAtomic } from '../core/durable-fs.js';
export { removeTree } from '../core/remove-tree.js';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await makeDirs(dir, DIR_MODE);
  await fsp.chmod(dir, DIR_MODE);
}

/** Total size of the regular files below a folder (symlinks not followed). */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await folderSize(p);
    else if (e.isFile()) total += (await fsp.lstat(p)).size;
  }
  return total;
}

/**
 * How many files fsyncTree fsyncs at once: the file system commits its journal once for all those waiting (one
 * after another, a set of 5000 small files waited on 5000 commits). libuv's thread pool runs four at a time.
 */
const FSYNCS_AT_ONCE = 16;

/**
 * Fsyncs every file and folder below `dir`, and `dir` itself, several at once; throws the first failure. `files`: how
 * many files it holds, when known: from SYNC_WHOLE_FROM on (Linux 5.8 and later), its file system is synced once
 * instead (sync-whole.ts), each file fsynced only when that could not be done.
 */
export async function fsyncTree(
  dir: string | Buffer,
  opts: { files?: number; signal?: AbortSignal } = {},
): Promise<void> {
  if (opts.files !== undefined && syncsWhole(opts.files) && (await syncFileSystem(dir, opts.signal))) return;
  async function* paths(at: string | Buffer): AsyncGenerator<string | Buffer> {
    // By bytes: a restored name that is not valid UTF-8 would read as another (FileEntry.relativeBytes).
    for (const e of await fsp.readdir(at, { withFileTypes: true, encoding: 'buffer' })) {
      const p = Buffer.concat([Buffer.from(at), Buffer.from('/'), e.name]);
      if (e.isDirectory()) yield* paths(p);
      else if (e.isFile()) yield p;
    }
    yield at;
  }
  await mapAtOnce(paths(dir), FSYNCS_AT_ONCE, new AbortController().signal, (p) => fsyncPath(p));
}

/**
 * The read buffer for a file of `bytes`: no larger than it, at most 1 MiB. Each read stream's buffer is new, and
 * 1 MiB of it per small file had V8 run a full collection every few tens of files (an uploads folder of 5000 files:
 * a quarter of its backup's time, and of its restore's).
 */
export function readChunkFor(bytes: number): number {
  return Math.min(1 << 20, Math.max(16 << 10, bytes + 1));
}

/**
 * Room a restore keeps free in the backup folder beside what it writes there whole (a fetched set, a decrypted
 * copy): its lock, journal and log lines. With less, it reads the files as it restores them instead.
 */
export const RESTORE_ROOM = 256 << 10;

/**
 * Free bytes on the disk of `dir` (of its nearest existing parent when it does not exist yet); null when unreadable.
 */
export async function freeBytesAt(dir: string): Promise<number | null> {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    const st = await fsp.statfs(at);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}

/**
 * The whole file at `path` read on the calling thread (one open, one stat, one read), or null when its size is over
 * `max`: for small files, where trips to the thread pool and streams cost more than the work. Throws what opening
 * it throws (ENOENT when it is gone).
 */
export function readSmallFileSync(path: string, max: number): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) return null;
    const data = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const n = readSync(fd, data, filled, size - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return data.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

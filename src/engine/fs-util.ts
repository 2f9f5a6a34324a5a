import { existsSync, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { DIR_MODE, fsyncPath } from '../core/durable-fs.js';
import type { BlockReader } from '../core/types.js';

export { DIR_MODE, FILE_MODE, fsyncPath, writeFileAtomic } from '../core/durable-fs.js';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
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

/** Fsyncs every file and folder below `dir`, then `dir` itself. */
export async function fsyncTree(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await fsyncTree(p);
    else if (e.isFile()) await fsyncPath(p);
  }
  await fsyncPath(dir);
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
 * An open file, which nothing changes meanwhile, read from its start as a BlockReader (into the caller's
 * buffers, each filled whole but the last); `close` closes it.
 */
export function handleBlockReader(fh: FileHandle): BlockReader {
  let pos = 0;
  return {
    async read(into) {
      let filled = 0;
      while (filled < into.length) {
        const { bytesRead } = await fh.read(into, filled, into.length - filled, pos);
        if (bytesRead === 0) break;
        filled += bytesRead;
        pos += bytesRead;
      }
      return filled;
    },
    close: () => fh.close(),
  };
}

/** handleBlockReader of the file at `path`, opened at the first read. */
export function fileBlockReader(path: string): BlockReader {
  let reader: BlockReader | undefined;
  return {
    async read(into) {
      reader ??= handleBlockReader(await fsp.open(path, 'r'));
      return reader.read(into);
    },
    close: async () => reader?.close(),
  };
}

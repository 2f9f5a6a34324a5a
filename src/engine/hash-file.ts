import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/** Size, MD5 and SHA-256 of a file as stored. */
export interface FileDigest {
  bytes: number;
  md5: string;
  sha256: string;
}

/**
 * Bytes per read. Large enough that the per-read cost (a thread-pool round trip) is lost in the hashing,
 * small enough that a few files at once stay within a few MiB.
 */
export const READ_BYTES = 1 << 20;

/**
 * Hashes a stored file (for verify): size, md5, sha256, in one read pass through two reused buffers, so
 * memory is two buffers whatever the file's size and no garbage accumulates. While one buffer is hashed
 * (md5 then sha256, on this thread) the next read fills the other, so the disk and the hashing overlap.
 * `onBytes` gets the bytes hashed so far after each read.
 */
export async function hashStoredFile(path: string, onBytes?: (bytes: number) => void): Promise<FileDigest> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)] as const;
  const file = await fsp.open(path, 'r');
  let pending = file.read(buffers[0], 0, READ_BYTES, 0);
  try {
    let bytes = 0;
    let turn = 0;
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      turn ^= 1;
      pending = file.read(buffers[turn]!, 0, READ_BYTES, bytes + bytesRead);
      const chunk = buffer.subarray(0, bytesRead);
      md5.update(chunk);
      sha256.update(chunk);
      bytes += bytesRead;
      onBytes?.(bytes);
    }
    return { bytes, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
  } finally {
    await pending.catch(() => undefined);
    await file.close();
  }
}

/**
 * Runs `work` over `items` with at most `limit` running at once, results in the order of `items`.
 * After a rejection no new item starts; the first rejection is thrown once the running ones have settled.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return results;
}

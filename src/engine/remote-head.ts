import type { Destination } from '../destinations/destination.js';

/**
 * Bytes of a manifest's start read for its `startedAt`: respaldo writes that field sixth, in the first few hundred
 * bytes, before the databases and the files (58 MB of manifest for a set of 100 000 files).
 */
export const HEAD_BYTES = 64 << 10;

/**
 * The `startedAt` of the manifest at `key` of `dest`, read from its first HEAD_BYTES as respaldo writes a manifest
 * (indented JSON: a field of the top object is indented two spaces, one of anything inside it more); null when it is
 * not found there (another layout, a manifest cut or damaged) or the file cannot be read. Only says what the start of
 * the file says: a caller that needs the manifest checked reads it whole.
 */
export async function startedAtThere(dest: Destination, key: string, signal?: AbortSignal): Promise<string | null> {
  let text: string;
  try {
    text = (await readHead(dest, key, HEAD_BYTES, signal)).toString('utf8');
  } catch {
    return null;
  }
  if (!text.startsWith('{\n')) return null;
  return /\n {2}"startedAt": "([^"\\\n]*)"[,\n]/.exec(text)?.[1] ?? null;
}

/**
 * The first `limit` bytes of `key` at `dest` (fewer when the file is shorter); the read stops there, however large
 * the file. Once, without retries: remote.ts readRemoteHead retries it.
 */
export async function readHead(dest: Destination, key: string, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const stream = await dest.get(key, signal ? { signal } : {});
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes >= limit) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, bytes).subarray(0, limit);
}

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { NotFoundError, RespaldoError, VerifyError, errorMessage } from '../core/errors.js';
import type { DatabaseEntry, FileEntry } from '../core/types.js';
import { english, phrase } from '../core/phrases.js';
import { codecOfEntry, decodeWholeSync } from './codec.js';
import { WHOLE_SYNC_BYTES } from './store.js';
import { readChunkFor, readSmallFileSync } from './fs-util.js';
import { leftGarbage, madeGarbage, SMALL_ITEM_COST } from './garbage.js';

/**
 * Opens the raw stored bytes of a file of one set by its path in the set (`users.sqlite.zst`), as a fresh
 * stream: read from the set's folder here, or streamed from a destination and checked on the way
 * (remote-read.ts). A file that turns out damaged errors the stream before its end. `entry`: the entry of the set's
 * file whose stored file `file` is, as the reader's manifest lists it (its encrypted entry for a decrypting reader):
 * a reader of a manifest read lean, which holds no file entries, checks (and decrypts) it by that entry.
 */
export type StoredReader = (file: string, entry?: FileEntry) => Readable;

/** A StoredReader of a set's folder here, which it names (readStoredPartWhole reads small parts from it). */
export type LocalReader = StoredReader & { readonly dir: string };

/** The reader of the set in folder `dir`; a stored file that is gone is a damaged set (VerifyError, exit 5). */
export function localReader(dir: string, name: string): LocalReader {
  const read: StoredReader = (file) => Readable.from(readStored(join(dir, file), name), { objectMode: false });
  return Object.assign(read, { dir });
}

/**
 * Opens the decompressed content of a stored part of a database entry (`main`, or an extra by its
 * role) in the set folder `dir` (or through `read`), as a fresh stream. A read or decompression error
 * reaches the reader; a stored file that is gone is a damaged set (VerifyError, exit 5), not a raw ENOENT.
 */
export function openStoredPart(dir: string | StoredReader, entry: DatabaseEntry, role = 'main'): Readable {
  const part = role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role);
  const where = typeof dir === 'string' ? ` in ${dir}` : '';
  if (!part?.file) throw new NotFoundError(`The backup of ${entry.name} has no ${role} file${where}.`);
  const raw = (typeof dir === 'string' ? localReader(dir, entry.name) : dir)(part.file);
  const codec = codecOfEntry(part);
  if (!codec) return Readable.from(counted(raw), { objectMode: false });
  const decoded = pipeline(raw, codec.decompressor(), () => undefined);
  return Readable.from(counted(undecodableIsDamage(decoded, part.file, entry.name)), { objectMode: false });
}

/**
 * openStoredPart's bytes read whole on the calling thread, where that costs less than its streams: a part of at most
 * WHOLE_SYNC_BYTES decoded (a dump's data file of a small table), stored in the set's folder here (`dir`, or the
 * folder of a localReader), that decodes in one call to exactly the size the manifest records. Undefined otherwise
 * (a destination's, larger, gone, or not decoding so), and openStoredPart then reads it and says what it says.
 */
export function readStoredPartWhole(
  dir: string | StoredReader,
  entry: DatabaseEntry,
  role = 'main',
): Buffer | undefined {
  const part = role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role);
  const folder = typeof dir === 'string' ? dir : (dir as Partial<LocalReader>).dir;
  if (folder === undefined || !part?.file || part.rawBytes > WHOLE_SYNC_BYTES) return undefined;
  let stored: Buffer | null;
  try {
    stored = readSmallFileSync(join(folder, part.file), 2 * WHOLE_SYNC_BYTES);
  } catch {
    return undefined;
  }
  if (!stored) return undefined;
  void madeGarbage(SMALL_ITEM_COST);
  const codec = codecOfEntry(part);
  if (!codec) return stored.length === part.rawBytes ? stored : undefined;
  return decodeWholeSync(codec.name, stored, part.rawBytes);
}

/**
 * The bytes of `source`, then the part counted as SMALL_ITEM_COST of garbage, and ended as a stream is (garbage.ts):
 * each part opened leaves its streams, handle and decoder behind, whatever its size. A directory dump of 5000 small
 * tables opens 5000 parts for a restore; counted by their bytes alone (a few hundred each), they left so much
 * uncollected in the old generation that the heap in use grew from 22 to 82 MiB while they were staged (peak RSS
 * 182–196 MiB). So counted, a full collection follows every 128th part (an eighth of the budget, leftGarbage): staging
 * 4000 parts, 9–10 MiB of heap in use at most instead of 28–30, for 33 full collections instead of 7 (about 170 ms
 * more of collection). At a full collection every 1024th part (the budget itself), it was 27–28 MiB.
 */
async function* counted(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* source;
  void madeGarbage(SMALL_ITEM_COST);
  void leftGarbage();
}

/**
 * The decompressed bytes of `file` (stored for `name`: a database, or a restored file's path), where data the
 * decompressor cannot decode is a damaged stored file (VerifyError, exit 5), not an internal error: a file streamed
 * from a destination may reach the decompressor's complaint before its own hash is checked at its end, and one whose
 * hashes were rewritten with it matches them. Read errors and interruptions pass.
 */
export async function* undecodableIsDamage(decoded: Readable, file: string, name: string): AsyncGenerator<Buffer> {
  try {
    yield* decoded as AsyncIterable<Buffer>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    const passes =
      err instanceof RespaldoError ||
      (err as Error | null)?.name === 'AbortError' ||
      (typeof code === 'string' && (/^E[A-Z]+$/.test(code) || code.startsWith('ERR_')));
    if (passes) throw err;
    // Read here or streamed from a destination: the hint names both places another set can come from.
    const message = phrase('error.storedNotDecompressing', { file, name, error: errorMessage(err) });
    const hint = phrase('error.storedNotDecompressingHint');
    throw new VerifyError(english(message), english(hint)).withPhrases(message, hint);
  }
}

async function* readStored(path: string, name: string): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new VerifyError(`The stored file ${path} of ${name} is missing.`);
  }
  // A read buffer no larger than the file (readChunkFor). The stream closes the handle when it ends or is destroyed.
  const size = await handle.stat().then(
    (st) => st.size,
    () => 1 << 20,
  );
  yield* handle.createReadStream({ highWaterMark: readChunkFor(size) }) as AsyncIterable<Buffer>;
}

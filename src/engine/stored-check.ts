import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import type { Decrypter } from 'age-encryption';
import { isDiskFull, RespaldoError, VerifyError } from '../core/errors.js';
import type { CodecName, FileEntry } from '../core/types.js';
import { decompressorFor } from './codec.js';
import { AGE_EXTENSION, decodedDamaged, decryptError, openStream } from './crypt.js';
import { readChunkFor } from './fs-util.js';
import { madeGarbage } from './garbage.js';
import { sha256OfFile } from './hash-file.js';

/**
 * The stored files of a files restore checked as they are read (RestoreOptions.checkAsRead), plain or encrypted:
 * each read once, hashed on its way into its decoder (and age), its decoded stream ended only once it matched.
 */

/** Files below this size are read whole (and restored FILES_AT_ONCE at a time, restore-files.ts). */
export const SMALL_FILE = 1 << 20;

/**
 * How a restore into a partial folder checks the stored files as it reads them, where they were not hashed before
 * (RestoreOptions.checkAsRead): each is read once, hashed and decoded in that one pass. A file that does not match
 * fails the restore, and the partial folder, all that was written, goes with it: the target is as it was.
 */
export interface StoredCheck {
  /** The SHA-256 of each stored file by its path in the set; a file not listed (an old set) is read unchecked. */
  sha256: ReadonlyMap<string, string>;
  /** The error (exit 5) of stored file `file` found not to match (after recording it damaged). */
  damaged: (file: string) => Promise<Error>;
  /**
   * An encrypted set (`setId`): each stored file is decrypted with `decrypter` as it is read, its ciphertext hashed on
   * the way into age, which releases only authenticated chunks; the plaintext's size and SHA-256 (FileEntry.plain)
   * are checked at its end, before its decoded stream ends.
   */
  decrypt?: { decrypter: Decrypter; setId: string };
}

/**
 * The decoded bytes of entry `e`'s stored file in `dir`, checked against `check`. A small one is read whole and
 * hashed before anything of it is decoded (one open, one read); a larger one is hashed as it streams into its
 * decoder, its end checked before the stream ends, so its file is never complete unless it matched. A decoder that
 * fails first on damaged bytes (a zstd checksum) is told from a failure of its own by hashing the stored file again.
 */
export async function checkedPlain(dir: string, e: FileEntry, check: StoredCheck, codec: CodecName): Promise<Readable> {
  const path = join(dir, e.stored!);
  const want = check.sha256.get(e.stored!);
  const missing = (err: NodeJS.ErrnoException): never => {
    if (err.code !== 'ENOENT') throw err;
    throw new VerifyError(`The stored file ${path} is missing.`, 'This set is damaged; restore from another set.');
  };
  if (check.decrypt) return checkedDecrypted(path, e, check, check.decrypt, codec, want, missing);
  if (e.size < SMALL_FILE) {
    const stored = await readSmall(path).catch(missing);
    if (stored && stored.length) void madeGarbage(stored.length);
    if (want && (!stored || createHash('sha256').update(stored).digest('hex') !== want))
      throw await check.damaged(e.stored!);
    if (!stored) throw new VerifyError(`The stored file ${path} is larger than any encoding of its file.`);
    // Sets before 2026-12 stored an empty file as 0 bytes, which no decompressor reads: nothing to decode.
    if (e.size === 0) return Readable.from([]);
    return pipeline(Readable.from([stored]), decompressorFor(codec), () => undefined);
  }
  const src = createReadStream(path, { highWaterMark: readChunkFor(e.size + 1024) });
  await new Promise<void>((resolve, reject) => src.once('open', () => resolve()).once('error', reject)).catch(missing);
  if (!want) return pipeline(src, decompressorFor(codec), () => undefined);
  const hash = createHash('sha256');
  let matched = false;
  const damaged = (): Promise<Error> => check.damaged(e.stored!);
  const hashing = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      matched = hash.digest('hex') === want;
      if (matched) cb();
      else void damaged().then(cb, cb);
    },
  });
  const plain = pipeline(src, hashing, decompressorFor(codec), () => undefined);
  return Readable.from(
    decodedOrDamaged(plain, path, want, () => matched, damaged),
    { objectMode: false },
  );
}

/**
 * checkedPlain of an encrypted set: the bytes of entry `e`'s stored age file at `path`, hashed as they stream into
 * age (a small file read whole and hashed first), decrypted chunk by chunk (age releases only authenticated chunks),
 * the plaintext's size and SHA-256 checked against the manifest's at its end, then decoded. Nothing is read twice
 * but on a failure: a stored file whose ciphertext does not match is the set's damage (recorded, exit 5), one that
 * matches but does not decrypt or check is damage as decryptFile says it (exit 5; a key that opens nothing, 13).
 * Its decoded stream ends only once all of that held, so its file in the partial folder is complete only then.
 */
async function checkedDecrypted(
  path: string,
  e: FileEntry,
  check: StoredCheck,
  crypt: NonNullable<StoredCheck['decrypt']>,
  codec: CodecName,
  want: string | undefined,
  missing: (err: NodeJS.ErrnoException) => never,
): Promise<Readable> {
  const label = `${e.stored!} of set ${crypt.setId}`;
  if (!e.stored!.endsWith(AGE_EXTENSION))
    throw new VerifyError(
      `Set ${crypt.setId}: ${e.stored!} is listed as encrypted but has no ${AGE_EXTENSION} name.`,
      'This manifest was tampered with or damaged; do not restore from it.',
    );
  let found: Error | null = null;
  const damaged = async (): Promise<Error> => (found = await check.damaged(e.stored!));
  let matched = false;
  let sealed: Readable;
  if (e.size < SMALL_FILE) {
    const stored = await readSmall(path).catch(missing);
    if (stored && stored.length) void madeGarbage(stored.length);
    if (want && (!stored || createHash('sha256').update(stored).digest('hex') !== want)) throw await damaged();
    if (!stored) throw new VerifyError(`The stored file ${path} is larger than any encoding of its file.`);
    matched = true;
    sealed = Readable.from([stored]);
  } else {
    const src = createReadStream(path, { highWaterMark: readChunkFor(e.size + 1024) });
    await new Promise<void>((resolve, reject) => src.once('open', () => resolve()).once('error', reject)).catch(
      missing,
    );
    const hash = createHash('sha256');
    matched = !want;
    const hashing = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        if (want) hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb: TransformCallback) {
        matched ||= hash.digest('hex') === want;
        if (matched) cb();
        else void damaged().then(cb, cb);
      },
    });
    sealed = pipeline(src, hashing, () => undefined);
  }
  const plain = e.plain;
  const plainHash = createHash('sha256');
  let plainBytes = 0;
  const plainCheck = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      plainBytes += chunk.length;
      plainHash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (!plain || (plainBytes === plain.bytes && plainHash.digest('hex') === plain.sha256)) cb();
      else
        cb(
          new VerifyError(
            `${label}: the decrypted file does not match the manifest's plaintext hashes (changed or damaged).`,
          ),
        );
    },
  });
  // The first to fail: age (authentication) or, fed only authenticated bytes, the decompressor (the pipeline then
  // destroys the other with the same error).
  let firstFailed: { decoder: boolean; err: unknown } | undefined;
  async function* checked(): AsyncGenerator<Buffer> {
    try {
      const opened = await openStream(crypt.decrypter, sealed, label);
      opened.once('error', (err) => (firstFailed ??= { decoder: false, err }));
      const decoder = decompressorFor(codec);
      decoder.once('error', (err) => (firstFailed ??= { decoder: true, err }));
      // Sets before 2026-12 stored an empty file as nothing compressed, which no decompressor reads: checked only.
      const decoded =
        e.size === 0
          ? pipeline(opened, plainCheck, new Transform({ transform: (_c, _e, cb) => cb() }), () => undefined)
          : pipeline(opened, plainCheck, decoder, () => undefined);
      yield* decoded as AsyncIterable<Buffer>;
    } catch (err) {
      // Decrypted and authenticated, then not decoded: its data is damaged, not its encryption.
      const undecodable =
        firstFailed?.decoder === true && firstFailed.err === err && !(err instanceof RespaldoError) && !isDiskFull(err);
      const why = (): Error => (undecodable ? decodedDamaged(err, label) : decryptError(err, label));
      if (matched || err === found || isDiskFull(err)) throw why();
      // Failed before its end was hashed (age met the damage first, in its header or a chunk): the set's damage when
      // the stored file does not match.
      const again = want ? await sha256OfFile(path).catch(() => null) : null;
      if (again && again.sha256 !== want) throw await damaged();
      throw why();
    }
  }
  return Readable.from(checked(), { objectMode: false });
}

/**
 * The whole stored file at `path` of a file smaller than SMALL_FILE, or null when it is larger than any encoding
 * of such a file could be (it cannot be the file stored: it is not read into memory).
 */
async function readSmall(path: string): Promise<Buffer | null> {
  const file = await fsp.open(path, 'r');
  try {
    if ((await file.stat()).size > 2 * SMALL_FILE) return null;
    return await file.readFile();
  } finally {
    await file.close();
  }
}

/**
 * `plain`'s bytes; a failure before its stored file was found to match is damage when the stored file does not
 * hash to `want` (the decoder met the damage first), else passed on as it is (a read error, a full disk).
 */
async function* decodedOrDamaged(
  plain: Readable,
  path: string,
  want: string,
  matched: () => boolean,
  damaged: () => Promise<Error>,
): AsyncGenerator<Buffer> {
  try {
    yield* plain as AsyncIterable<Buffer>;
  } catch (err) {
    if (matched() || err instanceof RespaldoError || isDiskFull(err)) throw err;
    const again = await sha256OfFile(path).catch(() => null);
    if (again && again.sha256 !== want) throw await damaged();
    throw err;
  }
}

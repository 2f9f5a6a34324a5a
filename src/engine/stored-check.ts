import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { PassThrough, pipeline as pipe, Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Decrypter } from './age-header.js';
import { isDiskFull, RespaldoError, VerifyError } from '../core/errors.js';
import type { CodecName, FileEntry, PlainHashes } from '../core/types.js';
import { decodeWholeSync, decompressorFor } from './codec.js';
import { openWhole } from './age-payload.js';
import { AGE_EXTENSION, decodedDamaged, decryptError, openStream } from './crypt.js';
import { readChunkFor, readSmallFileSync } from './fs-util.js';
import { leftGarbage, madeGarbage } from './garbage.js';
import { sha256OfFile, type FileDigest } from './hash-file.js';

/**
 * The stored files of a files restore checked as they are read (RestoreOptions.checkAsRead), plain or encrypted:
 * each read once, hashed on its way into its decoder (and age), its decoded stream ended only once it matched.
 * And `verify --read-data`'s read of each stored file through its hashes, age and decompressor (readThrough).
 *
 * Why one file of about 520 lines: both are the one reading of a stored file through the same stages (hash, age,
 * decompressor, a small file whole), with the same account of their garbage and the same telling of damage from a
 * decoder's own failure.
 */

/** Files below this size are read whole (and restored FILES_AT_ONCE at a time, restore-files.ts). */
export const SMALL_FILE = 1 << 20;

/**
 * How a restore into a partial folder checks the stored files as it reads them, where they were not hashed before
 * (RestoreOptions.checkAsRead): each is read once, hashed and decoded in that one pass. A file that does not match
 * fails the restore, and the partial folder, all that was written, goes with it: the target is as it was.
 */
export interface StoredCheck {
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
  // The SHA-256 its entry records (with its MD5, as expectedFiles takes them); without, an old set's, read unchecked.
  const want = e.md5 && e.sha256 ? e.sha256 : undefined;
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
    return pipe(Readable.from([stored]), decompressorFor(codec), () => undefined);
  }
  const src = createReadStream(path, { highWaterMark: readChunkFor(e.size + 1024) });
  await new Promise<void>((resolve, reject) => src.once('open', () => resolve()).once('error', reject)).catch(missing);
  if (!want) return pipe(src, decompressorFor(codec), () => undefined);
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
  const plain = pipe(src, hashing, decompressorFor(codec), () => undefined);
  return Readable.from(
    decodedOrDamaged(plain, path, want, () => matched, damaged),
    { objectMode: false },
  );
}

/**
 * The decoded bytes of entry `e`'s stored file in `dir` (a file under SMALL_FILE), read, checked against `check`,
 * opened (an encrypted set's: `check.decrypt`, the age file whole) and decoded whole on the calling thread: one open
 * and one read, no stream, where a restore of an uploads folder spent more on the trips to the thread pool and the
 * streams than on the work. Undefined where checkedPlain must go through its streams to say what is wrong: a stored
 * file larger than any encoding of the file, an age file that does not open or whose plaintext does not match the
 * manifest's, data that does not decode in one call, or to more or fewer bytes than the entry's size. A stored file
 * that does not match is the set's damage (`check.damaged`), as in checkedPlain; without `check` (hashed before), it
 * is not hashed again.
 */
export async function checkedPlainWhole(
  dir: string,
  e: FileEntry,
  check: StoredCheck | undefined,
  codec: CodecName,
): Promise<Buffer | undefined> {
  if (e.size >= SMALL_FILE || (check?.decrypt && !e.stored!.endsWith(AGE_EXTENSION))) return undefined;
  const path = join(dir, e.stored!);
  let stored: Buffer | null | undefined;
  try {
    stored = readSmallFileSync(path, 2 * SMALL_FILE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new VerifyError(`The stored file ${path} is missing.`, 'This set is damaged; restore from another set.');
  }
  if (!stored) return undefined;
  const want = e.md5 && e.sha256 ? e.sha256 : undefined;
  if (check && want && sha256Hex(stored) !== want) throw await check.damaged(e.stored!);
  if (check?.decrypt) {
    // Its ciphertext matched: opened whole (every chunk authenticated), its plaintext checked against the manifest's
    stored = await openWhole(check.decrypt.decrypter, stored);
    const plain = e.plain;
    if (!stored || (plain && (stored.length !== plain.bytes || sha256Hex(stored) !== plain.sha256))) return undefined;
  }
  // Sets before 2026-12 stored an empty file as 0 bytes, which no decompressor reads: nothing to decode.
  if (e.size === 0) return Buffer.alloc(0);
  return decodeWholeSync(codec, stored, e.size);
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
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
    sealed = pipe(src, hashing, () => undefined);
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
          ? pipe(opened, plainCheck, new Transform({ transform: (_c, _e, cb) => cb() }), () => undefined)
          : pipe(opened, plainCheck, decoder, () => undefined);
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

/**
 * How `verify --read-data` reads a stored file through: its codec (null: stored uncompressed) and, in an encrypted
 * set, the decrypter and the plaintext's size and hashes the manifest records (FileEntry.plain).
 */
export interface ReadThrough {
  codec: CodecName | null;
  decrypt?: { decrypter: Decrypter; label: string; plain: PlainHashes | undefined };
  /**
   * The size of the file as the manifest records it (FileEntry.size; unknown for a database's file): a stored file
   * under SMALL_FILE whose file is too is read into one buffer and decoded in one call (readWhole).
   */
  size?: number;
}

/** What reading a stored file through found: the stored bytes' digest, and why its data would not restore. */
export interface ReadThroughResult extends FileDigest {
  /** Failed age's authentication (ciphertext changed or damaged): the VerifyError decryptError made of it. */
  authFailed?: Error;
  /** Decrypted, but not to the plaintext the manifest records. */
  plainDiffers?: boolean;
  /** Its decompressor's error: the (decrypted) data does not decompress. */
  undecodable?: unknown;
}

/** A stored file readThrough reads from a destination: its size there, and a new read of it from its start. */
export interface StreamedStored {
  size: number;
  open: () => Promise<Readable>;
}

/** A stage of readThrough: where its bytes go, and its end (rejected with its own failure). */
interface Stage {
  input: Writable;
  done: Promise<void>;
  failed?: unknown;
}

/**
 * A sink that sees every chunk (`onChunk`: a hash) and passes it on to `next` until `next` fails, then goes on
 * seeing the rest alone: a decoder that fails half-way does not stop the hash of what is read before it.
 */
function passOn(onChunk: (chunk: Buffer) => void, next: Stage | null): Writable {
  const failed = (): boolean => !next || next.failed !== undefined || next.input.destroyed;
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      onChunk(chunk);
      if (failed() || next!.input.write(chunk)) return cb();
      Promise.race([once(next!.input, 'drain'), next!.done]).then(
        () => cb(),
        () => cb(),
      );
    },
    final(cb) {
      if (failed()) return cb();
      next!.input.end();
      next!.done.then(
        () => cb(),
        () => cb(),
      );
    },
  });
}

function stage(input: Writable, run: Promise<void>): Stage {
  const s: Stage = { input, done: run };
  run.catch((err: unknown) => (s.failed = err ?? new Error('failed')));
  return s;
}

/** What a decompressor made for one file counts towards the early collections (madeGarbage). */
const DECODER_COST = 64 << 10;

/**
 * Reads the stored file at `source` (a path here, or a destination's stream) once, through its hashes (size, MD5,
 * SHA-256 of the bytes stored) and, on the same bytes as they are read, through age (an encrypted set:
 * authentication, then the plaintext's size and hashes) and its decompressor, whose output is counted and dropped:
 * what a restore would do to it, short of writing. Memory stays flat (1 MiB reads, age's 64 KiB chunks, the
 * decompressor's window). A stage that fails stops only the stages after it: the stored file is still hashed to its
 * end, so damage to the stored bytes is said as such (the caller compares the digest first). An empty stored file (an
 * empty file in a set before 2026-12) is not decoded. `verify --read-data` reads through it here and at a destination.
 */
export async function readThrough(
  source: string | StreamedStored,
  how: ReadThrough,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<ReadThroughResult> {
  const size = typeof source === 'string' ? (await fsp.stat(source)).size : source.size;
  // A small file here is read whole and decoded in one call; a destination's stream goes through the stages.
  if (typeof source === 'string' && size < SMALL_FILE && how.size !== undefined && how.size < SMALL_FILE)
    return readWhole(source, how, how.size, onBytes, signal);
  let decoder: Stage | null = null;
  if (how.codec && (size > 0 || how.decrypt)) {
    // Each decompressor holds native memory V8 does not see: counted towards the early collections (garbage.ts), or
    // those of thousands of small files piled up once their reads stopped making 1 MiB buffers (5000 files of 200
    // bytes: peak RSS 102–106 MiB with those buffers, 146–148 without and uncounted, 107–108 counted at 64 KiB; CPU
    // 3.6–4.2 s, 2.1, 2.6–2.8).
    await madeGarbage(DECODER_COST);
    const d = decompressorFor(how.codec);
    decoder = stage(d, pipeline(d, new Writable({ write: (_c, _e, cb) => cb() })));
  }
  const plainMd5 = createHash('md5');
  const plainSha = createHash('sha256');
  let plainBytes = 0;
  let age: Stage | null = null;
  if (how.decrypt) {
    const { decrypter, label } = how.decrypt;
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    input.on('error', () => undefined);
    age = stage(
      input,
      (async () => {
        const opened = await openStream(decrypter, input, label);
        const plain = passOn((chunk) => {
          plainBytes += chunk.length;
          plainMd5.update(chunk);
          plainSha.update(chunk);
        }, decoder);
        await pipeline(opened, plain).catch((err: unknown) => {
          decoder?.input.destroy();
          throw err;
        });
      })(),
    );
    age.done.catch(() => {
      input.destroy();
      decoder?.input.destroy();
    });
  }
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  await pipeline(
    // A read buffer no larger than the file: a new 1 MiB buffer for each small file made V8 collect every few files.
    typeof source === 'string' ? createReadStream(source, { highWaterMark: readChunkFor(size) }) : await source.open(),
    passOn((chunk) => {
      md5.update(chunk);
      sha256.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
    }, age ?? decoder),
    ...(signal ? [{ signal }] : []),
  ).catch((err: unknown) => {
    // A read error, a Ctrl-C: the stages after are abandoned
    age?.input.destroy();
    decoder?.input.destroy();
    throw err;
  });
  const out: ReadThroughResult = { bytes, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
  if (age?.failed !== undefined) {
    const err = decryptError(age.failed, how.decrypt!.label);
    // No key that opens it (exit 13), a read error: not the set's damage
    if (!(err instanceof VerifyError)) throw err;
    return { ...out, authFailed: err };
  }
  const plain = how.decrypt?.plain;
  if (
    plain &&
    (plainBytes !== plain.bytes || plainMd5.digest('hex') !== plain.md5 || plainSha.digest('hex') !== plain.sha256)
  )
    return { ...out, plainDiffers: true };
  // An empty plaintext is an empty file of a set before 2026-12 (stored as nothing compressed): nothing to decode
  if (decoder?.failed !== undefined && !(how.decrypt && plainBytes === 0))
    return { ...out, undecodable: decoder.failed };
  return out;
}

/**
 * readThrough of a small stored file of a file of `size` bytes (both under SMALL_FILE): read in one buffer, hashed,
 * decrypted (age, as a stream of that one buffer) with its plaintext checked, and decoded in one synchronous call
 * to exactly the file's size (decodeWholeSync). A decompressor stream per file cost a set of 100 000 files of 200
 * bytes 59 CPU-s of `verify --read-data` (about 13 without decoding). Where that call fails (damage, or another size
 * than the manifest says: a file that grew while it was stored, or a bomb), the file's bytes go through the
 * decompressor stream instead, which says why as it always did, in flat memory.
 */
async function readWhole(
  path: string,
  how: ReadThrough,
  size: number,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<ReadThroughResult> {
  const stored = await fsp.readFile(path, signal ? { signal } : {});
  onBytes?.(stored.length);
  const out: ReadThroughResult = {
    bytes: stored.length,
    md5: createHash('md5').update(stored).digest('hex'),
    sha256: createHash('sha256').update(stored).digest('hex'),
  };
  let data: Buffer = stored;
  if (how.decrypt) {
    // What age makes for each file counts as a decompressor did (readThrough), and a full collection follows every
    // eighth of the budget (as a decompressor stream's end did, leftGarbage): its key agreement (X25519) leaves
    // native keys that only a collection of their JavaScript objects frees, which V8 does not count. Without
    // these, 20 000 files of 200 bytes peaked at 191–204 MiB RSS, against 142 before.
    await madeGarbage(DECODER_COST);
    await leftGarbage();
    const { decrypter, label, plain } = how.decrypt;
    try {
      // Opened in one call; one that does not open goes through age's stream, which says why.
      let opened = await openWhole(decrypter, stored);
      if (!opened) {
        const chunks: Buffer[] = [];
        for await (const chunk of await openStream(decrypter, Readable.from([stored]), label))
          chunks.push(chunk as Buffer);
        opened = Buffer.concat(chunks);
      }
      data = opened;
    } catch (failed) {
      const err = decryptError(failed, label);
      // No key that opens it (exit 13): not the set's damage
      if (!(err instanceof VerifyError)) throw err;
      return { ...out, authFailed: err };
    }
    if (
      plain &&
      (data.length !== plain.bytes ||
        createHash('md5').update(data).digest('hex') !== plain.md5 ||
        createHash('sha256').update(data).digest('hex') !== plain.sha256)
    )
      return { ...out, plainDiffers: true };
    // An empty plaintext is an empty file of a set before 2026-12 (stored as nothing compressed): nothing to decode
    if (data.length === 0) return out;
  } else if (stored.length === 0) return out;
  if (!how.codec) return out;
  // Decoded to its recorded size in one call; else its bytes go through the decompressor stream, which says why.
  if (decodeWholeSync(how.codec, data, size)) return out;
  await madeGarbage(DECODER_COST);
  const failed = await pipeline(
    Readable.from([data]),
    decompressorFor(how.codec),
    new Writable({ write: (_c, _e, cb) => cb() }),
  ).then(
    () => undefined,
    (err: unknown) => err ?? new Error('failed'),
  );
  return failed === undefined ? out : { ...out, undecodable: failed };
}

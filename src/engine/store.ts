import { createHash } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileBlockReader } from '../core/block-reader.js';
import { FILE_MODE } from './fs-util.js';
import type { BlockReader, CodecName, PlainHashes } from '../core/types.js';
import type { Sealer } from './crypt.js';
import { BlockCompressor, blockBuffer, codec as codecNamed, compressedBlocks, keepSpare } from './codec.js';
import { madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { breathe } from '../core/breathe.js';
import { digestOf } from './hash-file.js';

/** What storing one stream produced: sizes and checksums of the stored file. */
export interface StoredResult {
  rawBytes: number;
  storedBytes: number;
  md5: string;
  sha256: string;
  /** When encrypted: the compressed bytes before encryption (the stored sizes and hashes are the ciphertext's). */
  plain?: PlainHashes;
}

export interface StoreOptions {
  compress: boolean;
  /** Codec when `compress` (default gzip). */
  codec?: CodecName;
  level: number;
  signal?: AbortSignal;
  /** Called with the raw bytes read so far (throttle on the caller side). */
  onProgress?: (rawBytes: number) => void;
  /**
   * Encrypts after compression, each file into one age file (`Sealer.seal`'s stream, or `sealWhole` for a file
   * stored whole); the plaintext is hashed too.
   */
  sealer?: Sealer;
  /**
   * `source` is exactly this whole file, which does not change meanwhile: when compressing, the file is read in
   * blocks into reused buffers (flat memory) and `source` is destroyed unread.
   */
  sourceFile?: string;
}

/** Bytes per chunk when an uncompressed BlockReader is streamed. */
const CHUNK = 1 << 20;

/** Counts bytes passing through, without copying them. */
class Counter extends Transform {
  bytes = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }
}

/** Hashes bytes passing through with md5 and sha256 in the same pass. */
class Hasher extends Transform {
  bytes = 0;
  readonly md5 = createHash('md5');
  readonly sha256 = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.md5.update(chunk);
    this.sha256.update(chunk);
    cb(null, chunk);
  }
}

/** The bytes of `reader` as chunks in new buffers (for stages that may keep a chunk), then closes it. */
async function* chunksOf(reader: BlockReader): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const length = await reader.read(chunk);
      if (length > 0) yield chunk.subarray(0, length);
      if (length < CHUNK) return;
    }
  } finally {
    await reader.close();
  }
}

/**
 * Raw bytes up to this many are compressed and written by storeWhole on the main thread, synchronously: for a small
 * file the trips to the thread pool and the streams cost far more than the work (5000 files of 100–300 bytes, as a
 * PostgreSQL dump of 5000 small tables hands them: 3.2–3.9 CPU-s through storeStream's pipeline, 1.1–1.2 so).
 */
export const WHOLE_SYNC_BYTES = 64 << 10;

/**
 * Stores `data`, a whole file's bytes of at most one block, as storeStream would (one member/frame, hashed, `dest`
 * opened with O_EXCL and mode 0600, not fsynced), in one write and without streams. Up to WHOLE_SYNC_BYTES it is
 * compressed and written on the calling thread.
 */
export async function storeWhole(
  data: Buffer,
  dest: string,
  opts: Pick<StoreOptions, 'compress' | 'codec' | 'level' | 'signal' | 'onProgress' | 'sealer'>,
): Promise<StoredResult> {
  opts.signal?.throwIfAborted();
  if (opts.sealer && !opts.sealer.sealWhole) throw new Error('storeWhole: this sealer seals streams only');
  const codec = codecNamed(opts.codec ?? 'gzip');
  const small = data.length <= WHOLE_SYNC_BYTES;
  const compressed = !opts.compress
    ? data
    : small
      ? codec.compressBlockSync(data, opts.level)
      : await codec.compressBlock(data, opts.level);
  opts.onProgress?.(data.length);
  // Sealed: the hashes of what is stored (the age file), and of the plaintext in it, as storeStream's
  const plain = opts.sealer ? digestOf(compressed) : null;
  const stored = opts.sealer ? opts.sealer.sealWhole!(compressed) : compressed;
  const { md5, sha256 } = digestOf(stored);
  const flags = { flag: 'wx', mode: FILE_MODE } as const;
  if (small) writeFileSync(dest, stored, flags);
  else await writeFile(dest, stored, { ...flags, ...(opts.signal ? { signal: opts.signal } : {}) });
  // Its compressed copy and hashes are garbage now, and counted as a small file's at least (garbage.ts).
  await madeGarbage(Math.max(data.length, SMALL_ITEM_COST));
  await breathe();
  return { rawBytes: data.length, storedBytes: stored.length, md5, sha256, ...(plain ? { plain } : {}) };
}

/**
 * Streams `source` → (gzip or zstd, blocks compressed on all cores) → md5 + sha256 → `dest` in one pass. Memory
 * stays flat: only stream buffers and the blocks in flight are held. A BlockReader `source` is read, when
 * compressing, into the compressor's own reused buffers (no new read buffer per block). `dest` must not exist
 * (opened with O_EXCL, mode 0600). `dest` is not fsynced here: it is in a set's staging folder, which publishSet
 * fsyncs whole, many files at once, before the set is published (each file fsynced here too, and one after another
 * in its member's slot, a PostgreSQL dump of 5000 small tables made 10 000 fsyncs).
 */
export async function storeStream(
  source: Readable | BlockReader,
  dest: string,
  opts: StoreOptions,
): Promise<StoredResult> {
  const codec = opts.codec ?? 'gzip';
  const counter = new Counter(opts.onProgress);
  const hasher = new Hasher();
  let head: Readable;
  let rawBytes = (): number => counter.bytes;
  const stages: NodeJS.ReadWriteStream[] = [];
  const reader = source instanceof Readable ? undefined : source;
  let closeUnstarted: (() => Promise<void>) | undefined;
  if (opts.compress && (reader || opts.sourceFile)) {
    if (source instanceof Readable) source.destroy();
    const from = reader ?? fileBlockReader(opts.sourceFile!);
    // A file that fits in one block is stored whole, without the streams below (storeWhole).
    const blockSize = codecNamed(codec).blockSize;
    const buf = blockBuffer(blockSize);
    let filled: number;
    try {
      filled = await from.read(buf);
    } catch (err) {
      await from.close().catch(() => undefined);
      throw err;
    }
    if (filled < blockSize && (!opts.sealer || opts.sealer.sealWhole)) {
      // Compressed from `buf` before it is kept for the next file.
      try {
        await from.close();
        return await storeWhole(buf.subarray(0, filled), dest, opts);
      } finally {
        keepSpare(blockSize, [buf]);
      }
    }
    let read = 0;
    const onBytes = (n: number): void => {
      read = n;
      opts.onProgress?.(n);
    };
    const blocks = compressedBlocks(from, {
      codec,
      level: opts.level,
      onBytes,
      first: { buf, filled },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    // compressedBlocks closes the reader in its `finally`, which runs only once the generator has started: stopped
    // before its first block was asked for (a Ctrl-C or a hang-up during the first read), the reader stayed open, and
    // a SQLite full's check, which waits for the reader's close to count its rows, never ended: the backup hung idle.
    let started = false;
    head = Readable.from(
      (async function* () {
        started = true;
        yield* blocks;
      })(),
      { objectMode: false },
    );
    closeUnstarted = async () => {
      if (!started) await from.close().catch(() => undefined);
    };
    rawBytes = () => read;
  } else {
    head = reader ? Readable.from(chunksOf(reader), { objectMode: false }) : (source as Readable);
    stages.push(counter);
    if (opts.compress) stages.push(new BlockCompressor({ codec, level: opts.level }));
  }
  const plain = opts.sealer ? new Hasher() : null;
  try {
    if (plain) stages.push(plain, (await opts.sealer!.seal()).stream);
    stages.push(hasher);
    const out = createWriteStream(dest, { flags: 'wx', mode: FILE_MODE, highWaterMark: 1 << 20 });
    await pipeline([head, ...stages, out], { signal: opts.signal });
  } catch (err) {
    await closeUnstarted?.();
    throw err;
  }
  const digest = (h: Hasher) => ({ md5: h.md5.digest('hex'), sha256: h.sha256.digest('hex') });
  return {
    rawBytes: rawBytes(),
    storedBytes: hasher.bytes,
    ...digest(hasher),
    ...(plain ? { plain: { bytes: plain.bytes, ...digest(plain) } } : {}),
  };
}

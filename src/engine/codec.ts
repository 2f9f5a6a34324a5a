import { CORES } from '../core/cores.js';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { RespaldoError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { BlockReader, CodecName } from '../core/types.js';
import { leftGarbage, madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { ParallelZstdDecompressor } from './zstd-frames.js';

/**
 * The compression codecs of stored files. A stored file is compressed in fixed-size blocks on the
 * libuv thread pool, several at a time, and written in order as consecutive gzip members or zstd
 * frames: one valid file for `gunzip`/`zstd -d` (both read several members or frames as one
 * stream), produced with every core; zstd files are read back on every core too, frame by frame
 * (zstd-frames.ts). zstd comes from `node:zlib` (Node ≥ 22.15 and 24); on an
 * older Node it is unavailable, new sets fall back to gzip and a zstd set cannot be read (the
 * error says which Node to use).
 */

export type { CodecName };

export const CODEC_NAMES: readonly CodecName[] = ['gzip', 'zstd'];

/** What a codec is: how its files are named, its levels, and its streams. */
export interface Codec {
  readonly name: CodecName;
  /** Suffix added to a stored file's name (`.gz`, `.zst`). */
  readonly extension: string;
  readonly minLevel: number;
  readonly maxLevel: number;
  /** Level when the config sets none. */
  readonly defaultLevel: number;
  /** Bytes of input per member/frame. */
  readonly blockSize: number;
  /** False when this Node has no implementation (zstd before Node 22.15). */
  available(): boolean;
  /**
   * Compresses one block into one self-contained member/frame, into an output buffer of `room` bytes (default: room
   * for the whole block uncompressed); output beyond it comes in more buffers, joined.
   */
  compressBlock(block: Buffer, level: number, room?: number): Promise<Buffer>;
  /**
   * compressBlock on the calling thread: the same member/frame, for a block small enough that a trip to the thread
   * pool costs more than compressing it (storeWhole, store.ts).
   */
  compressBlockSync(block: Buffer, level: number): Buffer;
  /** A stream that decompresses a whole stored file (all members/frames). */
  decompressor(): Transform;
}

/** A zlib stream's way to compress one chunk with a given flush mode (ZlibBase, kept by Node for compatibility). */
type ChunkProcessor = Transform & {
  _processChunk?: (chunk: Buffer, flushFlag: number, cb: () => void) => void;
  close(): void;
};

type ZlibWithZstd = typeof zlib & {
  createZstdCompress?: (opts: object) => ChunkProcessor;
  zstdCompressSync?: (buf: Buffer, opts: object) => Buffer;
  zstdDecompressSync?: (buf: Buffer, opts: { maxOutputLength: number; chunkSize: number }) => Buffer;
  zstdCompress?: (buf: Buffer, opts: object, cb: (err: Error | null, out: Buffer) => void) => void;
  zstdDecompress?: (buf: Buffer, opts: object, cb: (err: Error | null, out: Buffer) => void) => void;
  createZstdDecompress?: (opts?: object) => Transform;
};
const z = zlib as ZlibWithZstd;
const gzipAsync = promisify(zlib.gzip);
const ZSTD_LEVEL = (zlib.constants as Record<string, number>)['ZSTD_c_compressionLevel'] ?? 100;
const ZSTD_CHECKSUM = (zlib.constants as Record<string, number>)['ZSTD_c_checksumFlag'] ?? 201;
const ZSTD_E_END = (zlib.constants as Record<string, number>)['ZSTD_e_end'] ?? 2;

/**
 * Output buffer for compressing one block: room for all of it even when it does not compress, so the thread pool
 * compresses the block in one go (the first blocks of a stream; then OutputRoom). (With zlib's default 16 KiB, each
 * block went back and forth between the pool and the main thread once per 16 KiB of output: a quarter more CPU for
 * zstd; gzip, slower per byte, measured the same either way.)
 */
function outputRoom(block: Buffer): number {
  return block.length + (block.length >> 7) + 1024;
}

/**
 * The output buffer of a stream's next block, from what its last blocks compressed to: the largest of the last
 * four, a quarter more and 16 KiB, rounded up to ROOM_STEP (buffers of a few sizes, which glibc reuses), at most
 * outputRoom. Each block's output buffer is new (node:zlib has no way to compress into a buffer of ours) and garbage
 * once the frame is written, and V8 starts a full collection for every few tens of MiB of such buffers: at room for
 * the whole block a 788 MiB SQLite database (about 10:1) ran 64–71 full collections in its create, 22–27 with this
 * room, and a 368 MiB PostgreSQL dump (about 4:1) 43 against 20–22. zstd compresses in one pass only into room for
 * the whole block; with less it streams the block (other bytes, the same frame size recorded in its header): timed
 * alone, about a fifth more CPU on the thread pool. The collections saved pay for it. Four alternating creates of
 * the SQLite database each (2026-12-04, load 3–5): 2.42–2.66 user CPU-s against 2.96–3.22, wall 3.1–4.4 s against
 * 3.7–5.0; peak RSS 124–127 MiB against 115 (glibc keeps more of the smaller freed buffers). A block whose output
 * does not fit costs one more round trip to the thread pool and a join: the margin keeps that rare.
 */
const ROOM_STEP = 256 << 10;

export class OutputRoom {
  private readonly last: number[] = [];

  /** Room for the output of `block`. */
  next(block: Buffer): number {
    const full = outputRoom(block);
    if (this.last.length < 4) return full;
    const want = Math.ceil(Math.max(...this.last) * 1.25) + (16 << 10);
    return Math.min(full, Math.ceil(want / ROOM_STEP) * ROOM_STEP);
  }

  /** Notes what a block compressed to. */
  saw(compressed: number): void {
    this.last.push(compressed);
    if (this.last.length > 4) this.last.shift();
  }
}

/**
 * Gunzip whose garbage is collected early (garbage.ts): every chunk it is given (a new buffer per read) and
 * every chunk it makes are garbage once passed on. Without it, restoring a 788 MiB SQLite database from a gzip
 * set peaked at 156 MiB RSS.
 */
class CollectedGunzip extends zlib.Gunzip {
  override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
    void madeGarbage(chunk.length);
    super._transform(chunk, encoding, cb);
  }
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (Buffer.isBuffer(chunk)) void madeGarbage(chunk.length);
    else if (chunk === null) void leftGarbage();
    return super.push(chunk, encoding);
  }
}

const gzipCodec: Codec = {
  name: 'gzip',
  extension: '.gz',
  minLevel: 1,
  maxLevel: 9,
  defaultLevel: 6,
  blockSize: 1 << 20,
  available: () => true,
  // One output chunk per block: with zlib's default 16 KiB chunks a block costs dozens of thread-pool round trips.
  compressBlock: (block, level, room) => gzipAsync(block, { level, chunkSize: room ?? outputRoom(block) }),
  compressBlockSync: (block, level) => zlib.gzipSync(block, { level, chunkSize: outputRoom(block) }),
  decompressor: () => new CollectedGunzip({ chunkSize: 1 << 18 }),
};

/**
 * The options of one block's frame: its level, a checksum, and its size in the frame header (zstd then decodes such a
 * frame, whole in memory, straight into its output buffer, without setting up a window (zstd-frames.ts), and `zstd
 * -l` shows the sizes).
 */
function zstdBlockOptions(block: Buffer, level: number, room?: number): object {
  const params = { [ZSTD_LEVEL]: level, [ZSTD_CHECKSUM]: 1 };
  return { params, pledgedSrcSize: block.length, chunkSize: room ?? outputRoom(block) };
}

const zstdCodec: Codec = {
  name: 'zstd',
  extension: '.zst',
  minLevel: 1,
  maxLevel: 19,
  defaultLevel: 3,
  // 1 MiB frames: as small as 4 MiB ones at level 3 (43.5 vs 43.8 MiB for a 283 MiB PostgreSQL dump) and as
  // fast, while a PostgreSQL create peaked at 126 MiB RSS instead of 163–172 (glibc kept the 4 MiB blocks).
  blockSize: 1 << 20,
  available: () => typeof z.zstdCompress === 'function' && typeof z.createZstdDecompress === 'function',
  compressBlock: (block, level, room) =>
    new Promise((resolve, reject) => {
      if (!z.zstdCompress || !z.createZstdCompress) return reject(zstdMissing());
      const opts = zstdBlockOptions(block, level, room);
      const stream = z.createZstdCompress(opts);
      if (typeof stream._processChunk !== 'function') {
        stream.close();
        return z.zstdCompress(block, opts, (err, out) => (err ? reject(err) : resolve(out)));
      }
      // The whole block in one call that ends the frame, as zstd's one-shot compression does. zstdCompress
      // writes it as a stream (ending it in a second call): zstd then copies the block into its own window
      // first, and the frame comes back in two pieces joined after. Measured on a 368 MiB PostgreSQL dump at
      // level 3 on 2 cores: 1.6 CPU-s instead of 2.06, the main thread busy 0.42 s instead of 0.92.
      const out: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => out.push(chunk));
      stream.once('error', reject);
      stream._processChunk(block, ZSTD_E_END, () => {
        stream.close(); // frees zstd's context now, not at the next collection
        resolve(out.length === 1 ? out[0]! : Buffer.concat(out));
      });
    }),
  compressBlockSync: (block, level) => {
    if (!z.zstdCompressSync) throw zstdMissing();
    return z.zstdCompressSync(block, zstdBlockOptions(block, level));
  },
  // Frames decoded on every core (zstd-frames.ts); a file of other frames is read as before, by one stream.
  decompressor: () => {
    if (!z.createZstdDecompress || !z.zstdDecompress) throw zstdMissing();
    return new ParallelZstdDecompressor();
  },
};

const CODECS: Record<CodecName, Codec> = { gzip: gzipCodec, zstd: zstdCodec };

function zstdMissing(): RespaldoError {
  const message = phrase('error.zstdMissing', { node: process.versions.node });
  const hint = phrase('error.zstdMissingHint');
  return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
}

/**
 * Throws what zstdMissing says when this Node cannot read files stored with one of `names` (absent: gzip, which
 * every Node reads): checked before an operation that would otherwise fail on its first stored file.
 */
export function checkReadable(...names: (CodecName | undefined)[]): void {
  if (names.some((name) => !CODECS[name ?? 'gzip'].available())) throw zstdMissing();
}

/** The codec named `name`. */
export function codec(name: CodecName): Codec {
  return CODECS[name];
}

/** The codec of new sets when the config names none: zstd where this Node has it, else gzip. */
export function defaultCodecName(): CodecName {
  return zstdCodec.available() ? 'zstd' : 'gzip';
}

/** The codec a stored file was written with: `codec` of its entry, else gzip (sets made before zstd). */
export function codecOfEntry(entry: { compressed: boolean; codec?: CodecName | undefined }): Codec | null {
  if (!entry.compressed) return null;
  return CODECS[entry.codec ?? 'gzip'];
}

/**
 * The decoded bytes of `data`, a whole stored file of `name`, decoded in one call on the calling thread, when they
 * are exactly `size` bytes (its recorded size); undefined when they do not decode so (damage, more or fewer bytes, no
 * zstd in this Node): the caller's stream then says why. For small files, where a decompressor stream costs more
 * than its work.
 */
export function decodeWholeSync(name: CodecName, data: Buffer, size: number): Buffer | undefined {
  const oneShot = name === 'zstd' ? z.zstdDecompressSync : zlib.gunzipSync;
  if (!oneShot) return undefined;
  try {
    // Its output in one buffer of the size it should be (zlib makes 16 KiB ones by default, each new); more than
    // that fails the call.
    const plain = oneShot(data, { maxOutputLength: size + 1, chunkSize: Math.max(64, size + 1) });
    return plain.length === size ? plain : undefined;
  } catch {
    return undefined;
  }
}

/** A stream that decompresses a stored file of `codec`; throws an operator error where Node lacks it. */
export function decompressorFor(name: CodecName): Transform {
  return CODECS[name].decompressor();
}

export interface BlockCompressorOptions {
  codec: CodecName;
  level: number;
  /** Bytes of input per member/frame (default: the codec's). */
  blockSize?: number;
  /** Blocks compressed at once (default: cores + 1). Bounds memory to about 2 × inFlight × blockSize. */
  inFlight?: number;
}

/** A block buffer already read by the caller (storeStream): compressedBlocks starts with it, then reads on. */
export interface FirstBlock {
  /** A buffer of the block size, from blockBuffer; compressedBlocks keeps it as one of its own. */
  buf: Buffer;
  filled: number;
}

/**
 * A compressing stream: fixed-size blocks compressed on the libuv thread pool, several at a time,
 * written in order as consecutive members/frames. Memory stays bounded by the blocks in flight.
 */
export class BlockCompressor extends Transform {
  private readonly codec: Codec;
  private readonly level: number;
  private readonly blockSize: number;
  private readonly inFlight: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly queue: Promise<Buffer>[] = [];
  /** Whether a block was compressed: an empty input still gets one (empty) member/frame. */
  private started = false;
  private readonly room = new OutputRoom();

  constructor(opts: BlockCompressorOptions) {
    super();
    this.codec = CODECS[opts.codec];
    if (!this.codec.available()) throw zstdMissing();
    this.level = opts.level;
    this.blockSize = opts.blockSize ?? this.codec.blockSize;
    this.inFlight = opts.inFlight ?? CORES + 1;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drainBlocks(false).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.drainBlocks(true)
      .then(async () => {
        // An empty file is stored as one empty member/frame, not 0 bytes: `gunzip` and `zstd -d` refuse those.
        if (!this.started) this.push(await this.codec.compressBlock(Buffer.alloc(0), this.level));
        while (this.queue.length) this.push(await this.queue.shift()!);
        await leftGarbage();
        cb();
      })
      .catch(cb);
  }

  private async drainBlocks(final: boolean): Promise<void> {
    while (this.pendingBytes >= this.blockSize || (final && this.pendingBytes > 0)) {
      const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      const block = all.subarray(0, Math.min(this.blockSize, all.length));
      const rest = all.subarray(block.length);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
      const job = this.codec.compressBlock(block, this.level, this.room.next(block));
      job.then((out) => this.room.saw(out.length)).catch(() => undefined);
      this.started = true;
      this.queue.push(job);
      while (this.queue.length >= this.inFlight) this.push(await this.queue.shift()!);
      await madeGarbage(Math.max(block.length, SMALL_ITEM_COST));
    }
  }
}

/**
 * The compressed members/frames of everything `reader` reads, in order: the same blocks as a BlockCompressor
 * fed the same bytes, but read straight into `inFlight` buffers that are used again once their block is
 * compressed (a stream makes a new buffer of every chunk: tens of MiB of garbage held until the next
 * collection), so memory stays flat. `onBytes` follows the raw bytes read. The reader is closed at the end.
 */
export async function* compressedBlocks(
  reader: BlockReader,
  opts: BlockCompressorOptions & { onBytes?: (rawBytes: number) => void; signal?: AbortSignal; first?: FirstBlock },
): AsyncGenerator<Buffer> {
  try {
    const codec = CODECS[opts.codec];
    if (!codec.available()) throw zstdMissing();
    const blockSize = opts.blockSize ?? codec.blockSize;
    const inFlight = opts.inFlight ?? CORES + 1;
    const free: Buffer[] = [];
    const room = new OutputRoom();
    const queue: { job: Promise<Buffer>; buf: Buffer }[] = [];
    let pos = 0;
    let first = opts.first;
    for (;;) {
      opts.signal?.throwIfAborted();
      const buf = first?.buf ?? free.pop() ?? blockBuffer(blockSize);
      const filled = first ? first.filled : await reader.read(buf);
      first = undefined;
      if (filled === 0) {
        // Nothing read at all: one empty member/frame, as BlockCompressor writes.
        if (pos === 0) yield await codec.compressBlock(Buffer.alloc(0), opts.level);
        break;
      }
      pos += filled;
      opts.onBytes?.(pos);
      const block = buf.subarray(0, filled);
      const job = codec.compressBlock(block, opts.level, room.next(block));
      job.then((out) => room.saw(out.length)).catch(() => undefined);
      queue.push({ job, buf });
      if (queue.length >= inFlight) {
        const head = queue.shift()!;
        yield await head.job;
        // Compressed into a buffer of its own: nothing refers to this one any more.
        free.push(head.buf);
      }
      // Each block costs zlib an output buffer and a context, which cannot be reused (garbage.ts); a small file
      // costs its streams and handles beside (SMALL_ITEM_COST), as in BlockCompressor.
      await madeGarbage(Math.max(filled, SMALL_ITEM_COST));
      if (filled < blockSize) break;
    }
    while (queue.length) {
      const head = queue.shift()!;
      yield await head.job;
      free.push(head.buf);
    }
    // Every block is compressed: the buffers are kept for the next file (not on a failure, where a block may still
    // be in zstd's hands).
    keepSpare(blockSize, free);
    await leftGarbage();
  } finally {
    await reader.close();
  }
}

/**
 * Block buffers of compressedBlocks kept from one file to the next, by size: a directory dump of 5000 small tables
 * stores 5000 files, and a new 1 MiB buffer for each (V8 counts it as external memory and collects sooner as it
 * grows) cost a create of them 8 of its 15 CPU-seconds in garbage collection (loaded machine; 11 with these kept and
 * each small file counted as SMALL_ITEM_COST of garbage; peak RSS 208–218 MiB against 177–213). Files stored at once
 * (a dump's members, MEMBERS_AT_ONCE; several databases) take them one buffer at a time as they need them, so each
 * small file takes one; at most SPARES_KEPT of a size are kept.
 */
const spares = new Map<number, Buffer[]>();

/** A block buffer of `size` bytes: a spare one kept, else a new one. Give it back with keepSpare. */
export function blockBuffer(size: number): Buffer {
  return spares.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** Spare block buffers kept per size: enough for the small files stored at once and a large one beside. */
const SPARES_KEPT = 12;

export function keepSpare(size: number, buffers: Buffer[]): void {
  const kept = spares.get(size) ?? [];
  for (const b of buffers) if (kept.length < SPARES_KEPT) kept.push(b);
  spares.set(size, kept);
}

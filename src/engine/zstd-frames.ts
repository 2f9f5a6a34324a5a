import { CORES } from '../core/cores.js';
import { Transform, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { leftGarbage, madeGarbage } from './garbage.js';

/**
 * zstd decompression on every core. A stored zstd file is a run of independent frames of ≤ 1 MiB of
 * input each (BlockCompressor); one streaming decompressor reads them on one core. FrameSplitter
 * walks the frame format (RFC 8878) to cut the incoming bytes into whole frames without decoding
 * them, and ParallelZstdDecompressor decodes several frames at once on the libuv thread pool and
 * pushes their outputs in order. A frame that may decode to more than `maxFrameOutput` (the zstd
 * tool writes a whole file as one frame) is handed, with the rest of the file, to the plain
 * streaming decompressor. Bytes that are no frame where one should start, and a file that ends
 * inside a frame, are errors: the streaming decompressor itself quietly stops at the first.
 * Each frame's checksum (written by BlockCompressor) is checked by zstd as it decodes.
 */

type ZlibWithZstd = typeof zlib & {
  zstdDecompress?: (buf: Buffer, opts: object, cb: (err: Error | null, out: Buffer) => void) => void;
  createZstdDecompress?: (opts?: object) => Transform;
};
const z = zlib as ZlibWithZstd;

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50; // the low 4 bits are free
const BLOCK_MAX = 128 * 1024;
const RAW = 0;
const RLE = 1;
const RESERVED = 3;

/** One whole zstd frame cut from the input, and the most bytes it can decode to. */
export interface Frame {
  bytes: Buffer;
  maxOutput: number;
  /** Gives the buffer the bytes were copied into back to its pool, once they were decoded (when pooled). */
  release?: () => void;
}

/**
 * Buffers that hold a frame's bytes gathered from several input chunks, given back once the frame was decoded. A
 * new 1 MiB buffer per frame was a fresh mapping whose every page faulted in as it was filled: restoring 300 MB of
 * incompressible files spent about a second there, most of it in the kernel.
 */
export class FrameBufferPool {
  private readonly free: Buffer[] = [];
  /** `keep`: buffers kept for reuse at most (the frames in flight). */
  constructor(private readonly keep: number) {}
  /** A buffer of at least `n` bytes (a kept one when one is large enough). */
  take(n: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= n);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(n, POOLED_FRAME));
  }
  give(b: Buffer): void {
    if (this.free.length < this.keep) this.free.push(b);
  }
}

/** The size of a pooled frame buffer: one of our frames (1 MiB of input, stored raw at worst) and its headers. */
const POOLED_FRAME = (1 << 20) + (64 << 10);

/**
 * What FrameSplitter.next() found at the front of the buffered bytes: a whole frame, 'more' when it needs
 * more bytes, or 'too-big' for a frame that may decode to more than `maxFrameOutput`.
 */
export type SplitResult = Frame | 'more' | 'too-big';

type State =
  | { at: 'start' }
  | { at: 'skip'; left: number }
  | {
      at: 'blocks';
      /** Offset of the next block header, from the start of the frame. */
      next: number;
      /** The most bytes the blocks so far decode to. */
      bound: number;
      contentSize: number | null;
      checksum: boolean;
      /** Where the frame ends, once its last block has been seen. */
      end: number | null;
    };

/**
 * Cuts a byte stream into whole zstd frames. `push` bytes as they come; `next()` returns the next
 * whole frame, or says it needs more bytes or that the frame is too big to decode in one buffer (the
 * caller then takes the rest with `takeAll()`); it throws where the bytes are not zstd frames.
 * Skippable frames are dropped as they arrive. Memory: the bytes of one frame.
 */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private length = 0;
  private state: State = { at: 'start' };
  /** The chunk where the last read began, and its offset in the buffered bytes. */
  private seekIndex = 0;
  private seekStart = 0;
  /** Bytes of the input before the buffered ones (for error messages). */
  private offset = 0;

  constructor(
    private readonly maxFrameOutput: number,
    private readonly pool: FrameBufferPool | null = null,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** True when the input so far ends between frames. */
  atBoundary(): boolean {
    return this.length === 0 && this.state.at === 'start';
  }

  /** All bytes not yet returned as frames (from the start of the current frame), emptying the splitter. */
  takeAll(): Buffer {
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    this.seekIndex = 0;
    this.seekStart = 0;
    this.state = { at: 'start' };
    return all;
  }

  next(): SplitResult {
    for (;;) {
      const s = this.state;
      if (s.at === 'skip') {
        const dropped = Math.min(s.left, this.length);
        this.drop(dropped);
        s.left -= dropped;
        if (s.left > 0) return 'more';
        this.state = { at: 'start' };
      } else if (s.at === 'start') {
        if (this.length < 4) return 'more';
        const magic = this.u32(0);
        if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
          if (this.length < 8) return 'more';
          this.state = { at: 'skip', left: 8 + this.u32(4) };
          continue;
        }
        if (magic !== ZSTD_MAGIC) throw this.damaged('no zstd frame starts');
        const header = this.frameHeader();
        if (header === 'more' || header === 'too-big') return header;
        this.state = header;
      } else {
        return this.walkBlocks(s);
      }
    }
  }

  /** Parses the frame header (magic at 0): where the first block starts and what bounds the output. */
  private frameHeader(): State | 'more' | 'too-big' {
    if (this.length < 5) return 'more';
    const descriptor = this.bytesAt(4, 1)[0]!;
    const fcsFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = ((descriptor >> 2) & 1) === 1;
    if ((descriptor >> 3) & 1) throw this.damaged('a zstd frame header has its reserved bit set');
    const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
    const fcsBytes = [singleSegment, 2, 4, 8][fcsFlag]!;
    const headerSize = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
    if (this.length < headerSize) return 'more';
    let contentSize: number | null = null;
    if (fcsBytes > 0) {
      const fcs = this.bytesAt(headerSize - fcsBytes, fcsBytes);
      if (fcsBytes === 1) contentSize = fcs[0]!;
      else if (fcsBytes === 2) contentSize = fcs.readUInt16LE(0) + 256;
      else if (fcsBytes === 4) contentSize = fcs.readUInt32LE(0);
      else contentSize = fcs.readUInt32LE(4) > 0 ? Infinity : fcs.readUInt32LE(0);
      if (contentSize > this.maxFrameOutput) return 'too-big';
    }
    return { at: 'blocks', next: headerSize, bound: 0, contentSize, checksum, end: null };
  }

  /** Reads block headers from `s.next` on; returns the frame once its last block and checksum are here. */
  private walkBlocks(s: Extract<State, { at: 'blocks' }>): SplitResult {
    while (s.end === null && this.length >= s.next + 3) {
      const h = this.bytesAt(s.next, 3);
      const header = h[0]! | (h[1]! << 8) | (h[2]! << 16);
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === RESERVED) throw this.damaged(`a zstd block ${s.next} bytes into a frame has the reserved type`);
      s.bound += type === RAW || type === RLE ? size : BLOCK_MAX;
      s.next += 3 + (type === RLE ? 1 : size);
      // A frame that may decode to more than allowed goes to the streaming decompressor before it is buffered whole.
      if ((s.contentSize === null && s.bound > this.maxFrameOutput) || s.next > 2 * this.maxFrameOutput)
        return 'too-big';
      if (header & 1) s.end = s.next + (s.checksum ? 4 : 0);
    }
    if (s.end === null || this.length < s.end) return 'more';
    const maxOutput = s.contentSize ?? s.bound;
    const first = this.chunks[0]!;
    let frame: Frame;
    if (s.end <= first.length || !this.pool) frame = { bytes: this.bytesAt(0, s.end), maxOutput };
    else {
      const pool = this.pool;
      const into = pool.take(s.end);
      frame = { bytes: this.copyInto(into, s.end), maxOutput, release: () => pool.give(into) };
    }
    this.drop(s.end);
    this.state = { at: 'start' };
    return frame;
  }

  /** The first `n` buffered bytes copied into `into`, as a view of it. */
  private copyInto(into: Buffer, n: number): Buffer {
    let filled = 0;
    for (let i = 0; filled < n; i++)
      filled += this.chunks[i]!.copy(into, filled, 0, Math.min(this.chunks[i]!.length, n - filled));
    return into.subarray(0, n);
  }

  private damaged(what: string): Error {
    return new Error(`The zstd data is damaged: ${what} at byte ${this.offset} of the file.`);
  }

  private u32(offset: number): number {
    return this.bytesAt(offset, 4).readUInt32LE(0);
  }

  /** `n` bytes from `offset` of the buffered input (a view when they lie in one chunk). */
  private bytesAt(offset: number, n: number): Buffer {
    // Reads go forward through a frame: start from the chunk of the last read, not the first chunk.
    if (offset < this.seekStart) {
      this.seekIndex = 0;
      this.seekStart = 0;
    }
    while (offset - this.seekStart >= this.chunks[this.seekIndex]!.length)
      this.seekStart += this.chunks[this.seekIndex++]!.length;
    let i = this.seekIndex;
    let at = offset - this.seekStart;
    const first = this.chunks[i]!;
    if (at + n <= first.length) return first.subarray(at, at + n);
    const out = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; i++, at = 0) {
      const c = this.chunks[i]!;
      filled += c.copy(out, filled, at, Math.min(c.length, at + n - filled));
    }
    return out;
  }

  private drop(n: number): void {
    this.seekIndex = 0;
    this.seekStart = 0;
    this.length -= n;
    this.offset += n;
    let whole = 0;
    while (whole < this.chunks.length && n >= this.chunks[whole]!.length) n -= this.chunks[whole++]!.length;
    this.chunks.splice(0, whole);
    if (n > 0) this.chunks[0] = this.chunks[0]!.subarray(n);
  }
}

export interface ParallelZstdOptions {
  /**
   * Jobs decoded at once (default: cores). Not cores + 1 as when compressing: the restore's file writes
   * share the same thread pool (4 threads), and on 2 loaded cores a third job made the restore slower.
   */
  inFlight?: number;
  /** Largest output of a frame decoded on the pool (default 4 MiB); larger frames are streamed. */
  maxFrameOutput?: number;
  /**
   * Consecutive frames at hand are decoded in one job up to this output (default 1 MiB: one of our frames, or
   * many small ones). 2 MiB jobs cost the restore of a 788 MiB database more system time than they saved.
   */
  batchOutput?: number;
}

/** Decodes whole consecutive frames in one job on the libuv thread pool, into one buffer. */
function decodeFrames(frames: Frame[]): Promise<Buffer> {
  const bytes = frames.length === 1 ? frames[0]!.bytes : Buffer.concat(frames.map((f) => f.bytes));
  const maxOutput = frames.reduce((sum, f) => sum + f.maxOutput, 0);
  const opts = { chunkSize: Math.max(64, maxOutput + 64), maxOutputLength: Math.max(1, maxOutput) };
  return new Promise((resolve, reject) => {
    z.zstdDecompress!(bytes, opts, (err, out) => {
      for (const f of frames) f.release?.(); // zstd is done with its input
      if (err) reject(err);
      else resolve(out);
    });
  });
}

/**
 * A stream that decompresses a zstd file, decoding frames on the thread pool, `inFlight` jobs at
 * once (the frames at hand, up to `batchOutput` bytes of output a job: each job costs a decoder
 * set up and a trip to the pool), and pushing their outputs in order. Memory stays
 * bounded by the jobs in flight; it waits for the reader whenever the readable side is full.
 */
export class ParallelZstdDecompressor extends Transform {
  private readonly splitter: FrameSplitter;
  private readonly inFlight: number;
  private readonly batchOutput: number;
  private readonly queue: Promise<Buffer>[] = [];
  /** The streaming decompressor that takes over from the first byte that is not a small frame. */
  private inner: Transform | null = null;
  private wakeReader: (() => void) | null = null;

  constructor(opts: ParallelZstdOptions = {}) {
    super();
    this.inFlight = Math.max(1, opts.inFlight ?? CORES);
    // The jobs in flight, and the batch being gathered for the next one.
    this.splitter = new FrameSplitter(opts.maxFrameOutput ?? 4 << 20, new FrameBufferPool(this.inFlight + 2));
    this.batchOutput = opts.batchOutput ?? 1 << 20;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    // The chunk read (a new buffer per read) is garbage once split into frames.
    void madeGarbage(chunk.length);
    this.decodeChunk(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.decodeRest()
      .then(() => leftGarbage())
      .then(() => cb(), cb);
  }

  override _read(size: number): void {
    this.inner?.resume();
    const wake = this.wakeReader;
    this.wakeReader = null;
    wake?.();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.inner?.destroy();
    super._destroy(err, cb);
  }

  private async decodeChunk(chunk: Buffer): Promise<void> {
    if (this.inner) return this.feedInner(chunk);
    this.splitter.push(chunk);
    let batch: Frame[] = [];
    let batchOutput = 0;
    for (;;) {
      const found = this.splitter.next();
      if (typeof found !== 'string') {
        if (batch.length && batchOutput + found.maxOutput > this.batchOutput) {
          await this.dispatch(batch);
          batch = [];
          batchOutput = 0;
        }
        batch.push(found);
        batchOutput += found.maxOutput;
        continue;
      }
      if (batch.length) await this.dispatch(batch);
      if (found === 'more') return;
      await this.drainQueue();
      return this.feedInner(this.splitter.takeAll());
    }
  }

  /** Starts decoding `frames`, first waiting for the oldest job (and the reader) while `inFlight` are running. */
  private async dispatch(frames: Frame[]): Promise<void> {
    while (this.queue.length >= this.inFlight) await this.pushInOrder(await this.queue.shift()!);
    const job = decodeFrames(frames);
    job.catch(() => undefined); // awaited in order; a failure is reported when its turn comes
    this.queue.push(job);
  }

  private async decodeRest(): Promise<void> {
    if (this.inner) {
      this.inner.end();
      await finished(this.inner);
      return;
    }
    if (!this.splitter.atBoundary()) throw new Error('The zstd data ends inside a frame: the file is truncated.');
    await this.drainQueue();
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length) await this.pushInOrder(await this.queue.shift()!);
  }

  /** Pushes `out`, and waits for the reader when the readable side is full. */
  private async pushInOrder(out: Buffer): Promise<void> {
    if (out.length === 0) return;
    // Each job's output buffer and decoder become garbage once written (garbage.ts).
    const collecting = madeGarbage(2 * out.length);
    if (!this.push(out)) await new Promise<void>((resolve) => (this.wakeReader = resolve));
    await collecting;
  }

  private async feedInner(bytes: Buffer): Promise<void> {
    if (!this.inner) {
      const inner = z.createZstdDecompress!({ chunkSize: 1 << 18 });
      inner.on('data', (out: Buffer) => {
        void madeGarbage(out.length);
        if (!this.push(out)) inner.pause();
      });
      inner.on('error', (err) => this.destroy(err));
      this.inner = inner;
    }
    const inner = this.inner;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      inner.once('error', fail);
      inner.write(bytes, (err) => {
        inner.off('error', fail);
        if (err) reject(err);
        else resolve();
      });
    });
  }
}

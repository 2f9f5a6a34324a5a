import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

export interface ParallelGzipOptions {
  level: number;
  /** Bytes of input per gzip member (default 1 MiB). */
  blockSize?: number;
  /** Members compressed at once (default: cores + 1). Bounds memory to about 2 × inFlight × blockSize. */
  inFlight?: number;
}

/**
 * A gzip stream that compresses fixed-size blocks on the libuv thread pool, several at a time,
 * and writes them in order as consecutive gzip members. The output is one valid gzip file
 * (RFC 1952 allows several members; gunzip, zcat and Node's gunzip read it whole), produced with
 * all cores instead of one. Memory stays bounded by the blocks in flight.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly inFlight: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly queue: Promise<Buffer>[] = [];

  constructor(opts: ParallelGzipOptions) {
    super();
    this.level = opts.level;
    this.blockSize = opts.blockSize ?? 1 << 20;
    this.inFlight = opts.inFlight ?? availableParallelism() + 1;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drainBlocks(false).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.drainBlocks(true)
      .then(async () => {
        while (this.queue.length) this.push(await this.queue.shift()!);
        cb();
      })
      .catch(cb);
  }

  private async drainBlocks(final: boolean): Promise<void> {
    while (this.pendingBytes >= this.blockSize || (final && this.pendingBytes > 0)) {
      const all = Buffer.concat(this.pending, this.pendingBytes);
      const block = all.subarray(0, Math.min(this.blockSize, all.length));
      const rest = all.subarray(block.length);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
      const job = gzip(block, { level: this.level });
      job.catch(() => undefined);
      this.queue.push(job);
      while (this.queue.length >= this.inFlight) this.push(await this.queue.shift()!);
    }
  }
}

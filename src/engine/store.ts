import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FILE_MODE, fsyncPath } from './fs-util.js';
import type { CodecName } from '../core/types.js';
import { BlockCompressor } from './codec.js';

/** What storing one stream produced: sizes and checksums of the stored file. */
export interface StoredResult {
  rawBytes: number;
  storedBytes: number;
  md5: string;
  sha256: string;
}

export interface StoreOptions {
  compress: boolean;
  /** Codec when `compress` (default gzip). */
  codec?: CodecName;
  level: number;
  signal?: AbortSignal;
  /** Called with the raw bytes read so far (throttle on the caller side). */
  onProgress?: (rawBytes: number) => void;
}

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

/**
 * Streams `source` → (gzip or zstd, blocks compressed on all cores) → md5 + sha256 → `dest` in one pass,
 * then fsyncs `dest`. Memory stays flat: only stream buffers and the blocks in flight are held.
 * `dest` must not exist (opened with O_EXCL, mode 0600).
 */
export async function storeStream(source: Readable, dest: string, opts: StoreOptions): Promise<StoredResult> {
  const counter = new Counter(opts.onProgress);
  const hasher = new Hasher();
  const out = createWriteStream(dest, { flags: 'wx', mode: FILE_MODE, highWaterMark: 1 << 20 });
  const stages: NodeJS.ReadWriteStream[] = [counter];
  if (opts.compress) stages.push(new BlockCompressor({ codec: opts.codec ?? 'gzip', level: opts.level }));
  stages.push(hasher);
  await pipeline([source, ...stages, out], { signal: opts.signal });
  await fsyncPath(dest);
  return { rawBytes: counter.bytes, storedBytes: hasher.bytes, md5: hasher.md5.digest('hex'), sha256: hasher.sha256.digest('hex') };
}

/** Hashes a file as stored (for verify): size, md5, sha256. */
export async function hashFile(source: Readable): Promise<{ bytes: number; md5: string; sha256: string }> {
  const hasher = new Hasher();
  hasher.resume();
  await pipeline(source, hasher);
  return { bytes: hasher.bytes, md5: hasher.md5.digest('hex'), sha256: hasher.sha256.digest('hex') };
}

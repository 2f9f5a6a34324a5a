import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Readable, Transform, type Duplex, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FILE_MODE, fsyncPath } from './fs-util.js';
import type { CodecName, PlainHashes } from '../core/types.js';
import { BlockCompressor, compressedBlocksOfFile } from './codec.js';

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
  /** Encrypts after compression (an age stream from `Sealer.seal`); the plaintext is hashed too. */
  seal?: Duplex;
  /**
   * `source` is exactly this whole file, which does not change meanwhile: when compressing, the file is read in
   * blocks into reused buffers (flat memory) and `source` is destroyed unread.
   */
  sourceFile?: string;
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
  const codec = opts.codec ?? 'gzip';
  let head: Readable = source;
  let rawBytes = (): number => counter.bytes;
  const stages: NodeJS.ReadWriteStream[] = [];
  if (opts.compress && opts.sourceFile) {
    source.destroy();
    let read = 0;
    const onBytes = (n: number): void => {
      read = n;
      opts.onProgress?.(n);
    };
    const blocks = compressedBlocksOfFile(opts.sourceFile, {
      codec,
      level: opts.level,
      onBytes,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    head = Readable.from(blocks, { objectMode: false });
    rawBytes = () => read;
  } else {
    stages.push(counter);
    if (opts.compress) stages.push(new BlockCompressor({ codec, level: opts.level }));
  }
  const plain = opts.seal ? new Hasher() : null;
  if (plain) stages.push(plain, opts.seal!);
  stages.push(hasher);
  await pipeline([head, ...stages, out], { signal: opts.signal });
  await fsyncPath(dest);
  const digest = (h: Hasher) => ({ md5: h.md5.digest('hex'), sha256: h.sha256.digest('hex') });
  return {
    rawBytes: rawBytes(),
    storedBytes: hasher.bytes,
    ...digest(hasher),
    ...(plain ? { plain: { bytes: plain.bytes, ...digest(plain) } } : {}),
  };
}

/** Hashes a file as stored (for verify): size, md5, sha256. */
export async function hashFile(source: Readable): Promise<{ bytes: number; md5: string; sha256: string }> {
  const hasher = new Hasher();
  hasher.resume();
  await pipeline(source, hasher);
  return { bytes: hasher.bytes, md5: hasher.md5.digest('hex'), sha256: hasher.sha256.digest('hex') };
}

/** Files at least this big are hashed on two cores (md5 in a worker, sha256 here); smaller ones in one pass. */
const SPLIT_HASH_BYTES = 8 << 20;

// Reads into one buffer used again (a stream makes a new buffer of every chunk: garbage held until a collection).
const MD5_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
try {
  const h = createHash('md5');
  const buf = Buffer.allocUnsafeSlow(1 << 20);
  const fd = openSync(workerData.path, 'r');
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, bytes)) > 0; bytes += n) h.update(buf.subarray(0, n));
  } finally { closeSync(fd); }
  parentPort.postMessage({ md5: h.digest('hex'), bytes });
} catch (e) { parentPort.postMessage({ error: e.message, code: e.code }); }
`;

function md5InWorker(path: string): Promise<{ md5: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(MD5_WORKER, {
      eval: true,
      workerData: { path },
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
    });
    let settled = false;
    worker.once('message', (m: { md5?: string; bytes?: number; error?: string; code?: string }) => {
      settled = true;
      void worker.terminate();
      if (m.error !== undefined) reject(Object.assign(new Error(m.error), { code: m.code }));
      else resolve({ md5: m.md5!, bytes: m.bytes! });
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`md5 worker exited with code ${code}`));
    });
  });
}

/**
 * Hashes a stored file (for verify): size, md5, sha256. A large file is read twice at once, md5 in a
 * worker thread and sha256 here, so verification runs at about the speed of the slower hash instead of
 * their sum (the second read comes from the page cache). `onBytes` follows the sha256 pass.
 */
export async function hashPath(
  path: string,
  size: number,
  onBytes?: (bytes: number) => void,
): Promise<{ bytes: number; md5: string; sha256: string }> {
  if (size < SPLIT_HASH_BYTES) {
    const h = await hashFile(createReadStream(path, { highWaterMark: 1 << 20 }));
    onBytes?.(h.bytes);
    return h;
  }
  const md5 = md5InWorker(path);
  md5.catch(() => undefined);
  const sha = createHash('sha256');
  let bytes = 0;
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(1 << 20);
    for (let n; (n = (await fh.read(buf, 0, buf.length, bytes)).bytesRead) > 0;) {
      sha.update(buf.subarray(0, n));
      bytes += n;
      onBytes?.(bytes);
    }
  } finally {
    await fh.close();
  }
  const m = await md5;
  // The file changed between the two reads: report the size the md5 saw differs, as a mismatch would.
  return { bytes, md5: m.bytes === bytes ? m.md5 : 'changed-while-reading', sha256: sha.digest('hex') };
}

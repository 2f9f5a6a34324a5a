import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { hashWholeFile, type WholeFileDigest } from './hash-pool.js';

/** Size, MD5 and SHA-256 of a file as stored. */
export interface FileDigest {
  bytes: number;
  md5: string;
  sha256: string;
}

/** Size, MD5 and SHA-256 of bytes in memory (a small file read whole). */
export function digestOf(bytes: Buffer): FileDigest {
  const hex = (name: string) => createHash(name).update(bytes).digest('hex');
  return { bytes: bytes.length, md5: hex('md5'), sha256: hex('sha256') };
}

/**
 * Bytes per read. Large enough that the per-read cost (a thread-pool round trip) is lost in the hashing,
 * small enough that a few files at once stay within a few MiB.
 */
export const READ_BYTES = 1 << 20;

/**
 * Files from this size on have their MD5 computed on a second thread. Starting a thread costs about 50 ms:
 * measured on this project's machine (md5 ~550 MB/s, sha256 ~1.2 GB/s with SHA-NI), a 76 MB file hashed
 * in 183 ms on one thread and 207 on two, 100 MB in 265 and 257, 300 MB in 740 and 540.
 */
export const MD5_THREAD_MIN_BYTES = 128 << 20;

/**
 * MD5 threads at most, kept for the files hashed after (verify and restores hash files four at a time;
 * more threads than cores would not hash faster). A file that finds none free hashes on this thread.
 */
export const MD5_THREADS = 2;

/** Read buffers shared with an MD5 thread: reads run ahead of the slower of the two hashes by this many. */
const SHARED_BUFFERS = 4;

/**
 * Hashes a stored file (for verify and before a restore): size, md5, sha256, in one read pass through
 * reused buffers, so memory stays a few MiB whatever the file's size. A large file's MD5 is computed on a
 * second thread over the same shared buffers while this thread computes its SHA-256, so the two hashes
 * take the time of the slower one rather than their sum (MD5 runs at about a third of SHA-256's speed on
 * CPUs with SHA extensions). Files of 8 MiB up to that size are hashed whole on a hashing thread when one
 * is free (hash-pool.ts), so that the files verify hashes at once use every core. `onBytes` gets the bytes
 * hashed so far after each read; `md5ThreadFrom` is for tests.
 */
export async function hashStoredFile(
  path: string,
  onBytes?: (bytes: number) => void,
  md5ThreadFrom = MD5_THREAD_MIN_BYTES,
  signal?: AbortSignal,
): Promise<FileDigest> {
  signal?.throwIfAborted();
  const file = await fsp.open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const thread = size >= md5ThreadFrom ? md5Threads.take() : undefined;
    if (thread) return await hashOnTwoThreads(file, thread, onBytes, signal);
    // Smaller files hash whole on a hashing thread when one is free (several files at once use every core).
    return (await hashWholeFile(
      path,
      size,
      { md5: true, ...(onBytes ? { onBytes } : {}), ...(signal ? { signal } : {}) },
      () => hashOnThisThread(file, size, onBytes, true, signal),
    )) as FileDigest;
  } finally {
    await file.close();
  }
}

/**
 * Read buffers of READ_BYTES kept for the next files hashed on this thread (verify and restores hash four at a time).
 * Two new ones for each file of a set of 20 000 small files kept 50–60 MiB of them waiting for a collection while a
 * restore checked them, and cost a third of its CPU; buffers sized to each file instead kept the CPU down, but left
 * the process 16 MiB larger (small allocations, not given back to the system).
 */
const SPARE_READ_BUFFERS = 16;
const readBuffers: Buffer[] = [];

/**
 * Both hashes here; while one buffer is hashed, the next read fills the other. `size`, the file's as it was just
 * seen, bounds the first read (a file that grew since is read all the same), so a small file touches only the pages
 * of the buffers it needs.
 */
async function hashOnThisThread(
  file: FileHandle,
  size: number,
  onBytes?: (bytes: number) => void,
  withMd5?: true,
  signal?: AbortSignal,
): Promise<FileDigest>;
async function hashOnThisThread(
  file: FileHandle,
  size: number,
  onBytes: undefined,
  withMd5: false,
  signal?: AbortSignal,
): Promise<WholeFileDigest>;
async function hashOnThisThread(
  file: FileHandle,
  size: number,
  onBytes?: (bytes: number) => void,
  withMd5 = true,
  signal?: AbortSignal,
): Promise<WholeFileDigest> {
  const md5 = withMd5 ? createHash('md5') : null;
  const sha256 = createHash('sha256');
  const chunk = size < READ_BYTES ? size + 1 : READ_BYTES;
  const buffers = [
    readBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES),
    readBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES),
  ] as const;
  let pending = file.read(buffers[0], 0, chunk, 0);
  try {
    let bytes = 0;
    let turn = 0;
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      // Stopped (a Ctrl-C): between two reads, not once the whole file is hashed.
      signal?.throwIfAborted();
      turn ^= 1;
      pending = file.read(buffers[turn]!, 0, chunk, bytes + bytesRead);
      const read = buffer.subarray(0, bytesRead);
      md5?.update(read);
      sha256.update(read);
      bytes += bytesRead;
      onBytes?.(bytes);
    }
    return { bytes, sha256: sha256.digest('hex'), ...(md5 ? { md5: md5.digest('hex') } : {}) };
  } finally {
    await pending.catch(() => undefined);
    if (readBuffers.length < SPARE_READ_BUFFERS) readBuffers.push(...buffers);
  }
}

/**
 * Length and SHA-256 of the file at `path` (no MD5), on this thread: a copy checks a local file against its
 * manifest with it before a tool that reads the file itself sends it (rclone). SHA-256 runs at 1.2–1.5 GB/s
 * here while the tool sends; a hashing thread would add its own memory (about 25 MiB) to a copy's. `size`: the
 * file's, when the caller knows it; `signal` stops it between two reads.
 */
export async function sha256OfFile(path: string, size?: number, signal?: AbortSignal): Promise<WholeFileDigest> {
  const file = await fsp.open(path, 'r');
  try {
    return await hashOnThisThread(file, size ?? (await file.stat()).size, undefined, false, signal);
  } finally {
    await file.close();
  }
}

/**
 * SHA-256 here, MD5 on `md5`'s thread reading the same shared buffers; a buffer is refilled once both are
 * done with it. The thread goes back to the pool when the file hashed to its end, and is stopped otherwise.
 */
async function hashOnTwoThreads(
  file: FileHandle,
  md5: Md5Thread,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<FileDigest> {
  const { buffers } = md5;
  const sha256 = createHash('sha256');
  let pending = file.read(buffers[0]!, 0, READ_BYTES, 0);
  let finished = false;
  try {
    md5.begin();
    let bytes = 0;
    let current = 0;
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      signal?.throwIfAborted();
      const following = (current + 1) % SHARED_BUFFERS;
      await md5.released(following);
      pending = file.read(buffers[following]!, 0, READ_BYTES, bytes + bytesRead);
      md5.update(current, bytesRead);
      sha256.update(buffers[current]!.subarray(0, bytesRead));
      bytes += bytesRead;
      onBytes?.(bytes);
      current = following;
    }
    const digest = { bytes, md5: await md5.digest(), sha256: sha256.digest('hex') };
    finished = true;
    return digest;
  } finally {
    await pending.catch(() => undefined);
    if (finished) md5Threads.put(md5);
    else await md5Threads.drop(md5);
  }
}

/**
 * The MD5 thread's code: starts a hash, hashes the shared buffer it is told and says when it is done with
 * it, hands the digest. Built-ins come from `process.getBuiltinModule` where Node has it (20.16+), so it runs
 * whether Node evaluates it as CommonJS or as a module (`--input-type=module` in NODE_OPTIONS).
 */
const MD5_JOB = `
const builtin = (name) => (process.getBuiltinModule ? process.getBuiltinModule(name) : require(name));
const { parentPort, workerData } = builtin('node:worker_threads');
const { createHash } = builtin('node:crypto');
const views = workerData.buffers.map((b) => new Uint8Array(b));
let md5;
parentPort.on('message', (m) => {
  if (m.begin) md5 = createHash('md5');
  else if (m.end) parentPort.postMessage({ md5: md5.digest('hex') });
  else {
    md5.update(views[m.buffer].subarray(0, m.bytes));
    parentPort.postMessage({ buffer: m.buffer });
  }
});
`;

/** A worker thread computing the MD5 of one file at a time over read buffers shared with it. */
class Md5Thread {
  readonly buffers = Array.from({ length: SHARED_BUFFERS }, () => Buffer.from(new SharedArrayBuffer(READ_BYTES)));
  private readonly worker: Worker;
  private readonly busy = new Set<number>();
  private readonly waiting = new Map<number, () => void>();
  private result: ((md5: string) => void) | undefined;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;

  constructor() {
    this.worker = new Worker(MD5_JOB, {
      eval: true,
      workerData: { buffers: this.buffers.map((b) => b.buffer) },
      // It holds no data of its own: the buffers are shared.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    this.failed = new Promise<never>((_, reject) => {
      const fail = (err: Error): void => {
        this.failure ??= err;
        reject(this.failure);
      };
      this.worker.once('error', fail);
      this.worker.once('exit', (code) => fail(new Error(`the MD5 thread exited with code ${code}`)));
    });
    this.failed.catch(() => undefined);
    this.worker.on('message', (m: { buffer: number } | { md5: string }) => {
      if ('md5' in m) this.result?.(m.md5);
      else {
        this.busy.delete(m.buffer);
        this.waiting.get(m.buffer)?.();
        this.waiting.delete(m.buffer);
      }
    });
  }

  begin(): void {
    this.worker.ref();
    this.worker.postMessage({ begin: true });
  }

  update(buffer: number, bytes: number): void {
    if (this.failure) throw this.failure;
    this.busy.add(buffer);
    this.worker.postMessage({ buffer, bytes });
  }

  /** Resolves once the thread no longer reads `buffer`. */
  released(buffer: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.busy.has(buffer)) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => this.waiting.set(buffer, resolve)), this.failed]);
  }

  /** The MD5 of everything passed to `update` since `begin`, once the thread has hashed it all. */
  digest(): Promise<string> {
    const md5 = new Promise<string>((resolve) => (this.result = resolve));
    this.worker.postMessage({ end: true });
    return Promise.race([md5, this.failed]);
  }

  /** False once the thread failed or exited. */
  get usable(): boolean {
    return !this.failure;
  }

  /** Idle: does not keep the process alive. */
  idle(): void {
    this.worker.unref();
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** Up to MD5_THREADS threads, made when first needed and kept (unreferenced) for the next files. */
const md5Threads = {
  idle: [] as Md5Thread[],
  made: 0,
  take(): Md5Thread | undefined {
    for (let thread = this.idle.pop(); thread; thread = this.idle.pop()) {
      if (thread.usable) return thread;
      this.made--;
    }
    if (this.made >= MD5_THREADS) return undefined;
    this.made++;
    return new Md5Thread();
  },
  put(thread: Md5Thread): void {
    thread.idle();
    this.idle.push(thread);
  },
  /** A thread left mid-file (a read failed): stopped, and another may be made in its place. */
  async drop(thread: Md5Thread): Promise<void> {
    this.made--;
    await thread.stop();
  },
};

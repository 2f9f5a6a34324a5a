import { CORES } from '../core/cores.js';
import { Worker } from 'node:worker_threads';

/**
 * Whole files hashed on worker threads, so that a set of many large files hashes on every core: `verify`
 * (and the check before a restore) hashes four files at once, and was bound by the main thread computing
 * every hash in turn (a set of twelve 25 MB files: 0.99 s, 0.83 with one thread beside the main one on two
 * cores). A thread reads the file itself, by path, into its own 1 MiB buffer; only digests and progress come
 * back. (A folder copy's read-back gained nothing from it: it waits on the disk's flush, not on its hash.)
 *
 * Starting a thread costs about 75–100 ms of CPU here, so a file never waits for one: a file that finds no
 * thread ready is hashed by its caller on the main thread, and when another large file is already being
 * hashed there, a thread is started (up to one per core beside the main thread) for the files after them.
 * A set of one large file never starts one. Idle threads are unreferenced and do not delay the exit.
 */

/** Files from this size on are hashed on a thread when one is ready: below it a round trip is not worth it. */
export const THREAD_MIN_BYTES = 8 << 20;

/** Progress is reported after every this many bytes (and at the end). */
const PROGRESS_BYTES = 4 << 20;

export interface WholeFileDigest {
  bytes: number;
  sha256: string;
  /** Only when asked for. */
  md5?: string;
}

/**
 * The threads' code. Built-ins come from `process.getBuiltinModule` where Node has it (20.16+), so it runs
 * whether Node evaluates it as CommonJS or as a module (`--input-type=module` in NODE_OPTIONS). `stop` is a
 * shared flag the main thread sets to abandon the file being read.
 */
const JOB = `
const builtin = (name) => (process.getBuiltinModule ? process.getBuiltinModule(name) : require(name));
const { parentPort } = builtin('node:worker_threads');
const { createHash } = builtin('node:crypto');
const { openSync, readSync, closeSync } = builtin('node:fs');
const buffer = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', ({ path, md5: wantMd5, stop, progressBytes }) => {
  const stopped = new Int32Array(stop);
  let fd;
  try {
    fd = openSync(path, 'r');
    const md5 = wantMd5 ? createHash('md5') : null;
    const sha256 = createHash('sha256');
    let bytes = 0;
    let reported = 0;
    for (;;) {
      if (Atomics.load(stopped, 0) !== 0) return parentPort.postMessage({ stopped: true });
      const n = readSync(fd, buffer, 0, buffer.length, bytes);
      if (n === 0) break;
      const chunk = buffer.subarray(0, n);
      md5?.update(chunk);
      sha256.update(chunk);
      bytes += n;
      if (bytes - reported >= progressBytes) parentPort.postMessage({ progress: (reported = bytes) });
    }
    parentPort.postMessage({ done: { bytes, sha256: sha256.digest('hex'), ...(md5 ? { md5: md5.digest('hex') } : {}) } });
  } catch (err) {
    parentPort.postMessage({ failed: { message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path } });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

type Reply =
  | { progress: number }
  | { done: WholeFileDigest }
  | { stopped: true }
  | { failed: { message: string; code?: string; errno?: number; syscall?: string; path?: string } };

/** One thread hashing one file at a time. */
class HashThread {
  private readonly worker: Worker;
  private current: ((reply: Reply) => void) | undefined;
  /** Resolves once the thread runs (its first message), rejects if it fails before. */
  readonly ready: Promise<void>;
  private broken: Error | undefined;

  constructor() {
    this.worker = new Worker(`${JOB}\nparentPort.postMessage({ ready: true });`, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    this.worker.unref();
    let started!: () => void;
    let failedEarly!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failedEarly = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: Reply | { ready: true }) => {
      if ('ready' in m) started();
      else this.current?.(m);
    });
    const fail = (err: Error): void => {
      this.broken ??= err;
      failedEarly(this.broken);
      this.current?.({ failed: { message: this.broken.message } });
    };
    this.worker.once('error', fail);
    this.worker.once('exit', (code) => fail(new Error(`the hashing thread exited with code ${code}`)));
  }

  get usable(): boolean {
    return !this.broken;
  }

  /** Ends the thread now (a file it was hashing fails over to its caller). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  hash(
    path: string,
    md5: boolean,
    onBytes: ((bytes: number) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<WholeFileDigest> {
    const stop = new SharedArrayBuffer(4);
    const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
    return new Promise<WholeFileDigest>((resolve, reject) => {
      this.current = (reply) => {
        if ('progress' in reply) return onBytes?.(reply.progress);
        this.current = undefined;
        signal?.removeEventListener('abort', onAbort);
        this.worker.unref();
        if ('done' in reply) {
          onBytes?.(reply.done.bytes);
          resolve(reply.done);
        } else if ('stopped' in reply) reject(signal?.reason ?? new Error('hashing stopped'));
        else reject(Object.assign(new Error(reply.failed.message), withoutUndefined(reply.failed)));
      };
      if (this.broken) return this.current({ failed: { message: this.broken.message } });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.worker.ref();
      this.worker.postMessage({ path, md5, stop, progressBytes: PROGRESS_BYTES });
    });
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'message')) as Partial<T>;
}

/** Threads at most: one per core beside the main thread, which hashes too. */
export const HASH_THREADS = Math.max(1, CORES - 1);

const pool = {
  made: [] as HashThread[],
  idle: [] as HashThread[],
  /** Files hashed on a thread since start (for tests and the log). */
  threaded: 0,
  /** Large files being hashed by their callers on the main thread. */
  hashingHere: 0,
  /**
   * A thread that is running and free, else undefined; then, when `start`, starts one for the files to come
   * while under the limit.
   */
  take(start: boolean): HashThread | undefined {
    this.made = this.made.filter((t) => t.usable);
    this.idle = this.idle.filter((t) => t.usable);
    const thread = this.idle.pop();
    if (thread) return thread;
    if (start && this.made.length < HASH_THREADS) {
      const t = new HashThread();
      this.made.push(t);
      t.ready.then(
        () => this.idle.push(t),
        () => undefined,
      );
    }
    return undefined;
  },
};

/**
 * SHA-256 (and MD5 when `md5`) and length of the file at `path`, read from its start to its end: on a
 * hashing thread when the file is THREAD_MIN_BYTES or more and one is free, else by `here` (the caller's own
 * way of hashing on this thread). `onBytes` gets the bytes hashed so far, rising to the file's length.
 * `size` only chooses where it is hashed.
 */
export async function hashWholeFile<T extends WholeFileDigest>(
  path: string,
  size: number,
  opts: { md5: boolean; onBytes?: (bytes: number) => void; signal?: AbortSignal },
  here: () => Promise<T>,
): Promise<WholeFileDigest | T> {
  opts.signal?.throwIfAborted();
  if (size < THREAD_MIN_BYTES) return here();
  const thread = pool.take(pool.hashingHere > 0);
  if (!thread) {
    pool.hashingHere++;
    try {
      return await here();
    } finally {
      pool.hashingHere--;
    }
  }
  try {
    const digest = await thread.hash(path, opts.md5, opts.onBytes, opts.signal);
    pool.threaded++;
    return digest;
  } catch (err) {
    // The thread itself failed (not the file: that rejects with the file's error and the thread goes on): the
    // file is hashed here instead, and the next large file may start another thread.
    if (thread.usable) throw err;
    return here();
  } finally {
    if (thread.usable) pool.idle.push(thread);
  }
}

/** Once every thread started so far runs: how many there are, and how many files they hashed (for tests). */
export async function hashThreadsReady(): Promise<{ threads: number; filesHashed: number }> {
  await Promise.allSettled(pool.made.map((t) => t.ready));
  return { threads: pool.made.filter((t) => t.usable).length, filesHashed: pool.threaded };
}

/** Ends every hashing thread (for tests: what a thread that dies does to the file it was hashing). */
export async function stopHashThreads(): Promise<void> {
  await Promise.all(pool.made.map((t) => t.stop()));
}

import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BlockReader } from '../../core/types.js';

/**
 * followFile reads the file in chunks of this size at offsets that are multiples of it (the last one
 * shorter): whole compression blocks, which the compressor takes as they are, without copying.
 */
const CHUNK = 1 << 20;

/**
 * A file complete before its first read and at most this size is read whole at that read, synchronously: four trips to
 * the thread pool (open, stat, read, close) cost more than the work for the small data files of a dump of many small
 * tables.
 */
const SYNC_READ_BYTES = 64 << 10;

/** The whole of the file at `path` into `into` when it is at most SYNC_READ_BYTES and fits; else undefined. */
function readSmallSync(path: string, into: Buffer): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > SYNC_READ_BYTES || size > into.length) return undefined;
    let filled = 0;
    while (filled < size) {
      const n = readSync(fd, into, filled, size - filled, filled);
      if (n === 0) throw new Error(`${path} ended before its size (${filled} of ${size} bytes)`);
      filled += n;
    }
    return filled;
  } finally {
    closeSync(fd);
  }
}

/** When a file another process writes is complete: resolved by its writer's report, rejected by its failure. */
export interface Completion {
  readonly promise: Promise<void>;
  complete(): void;
  fail(reason: unknown): void;
}

/** A completion whose promise never counts as unhandled (its followers see the failure). */
export function completion(): Completion {
  let complete!: () => void;
  let fail!: (reason: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    complete = resolve;
    fail = reject;
  });
  promise.catch(() => undefined);
  return { promise, complete, fail };
}

/**
 * Reads a file that another process is still writing (and only appends to), from its start to its end,
 * into the caller's buffers: it follows the growing file, filling each buffer whole before returning it,
 * and ends once `done` has resolved and every byte up to the file's size at that time has been read —
 * exactly the bytes of the finished file. It fails when `done` rejects (the writer failed), when the
 * file shrinks, or when `signal` aborts.
 */
export function followReader(
  path: string,
  done: Promise<void>,
  opts: { signal?: AbortSignal; pollMs?: number } = {},
): BlockReader {
  const { signal } = opts;
  const pollMs = opts.pollMs ?? 20;
  let finished = false;
  let failure: { reason: unknown } | undefined;
  let wake: (() => void) | undefined;
  done.then(
    () => {
      finished = true;
      wake?.();
    },
    (reason: unknown) => {
      failure = { reason };
      wake?.();
    },
  );
  const onAbort = () => wake?.();
  let file: FileHandle | undefined;
  let position = 0;
  /** The file's size once its writer reported it complete: its last, not asked again. */
  let lastSize: number | undefined;
  /** Read whole at the first read (readSmallSync): the next reads find its end. */
  let drained = false;
  const waitForBytes = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = undefined));
  return {
    async read(into) {
      if (drained) return 0;
      // A file still small when first read is waited for before it is opened: most are finished by then (a dump's
      // small tables), and are then read whole below. One that grows past SYNC_READ_BYTES is followed as it grows.
      if (!file && position === 0) {
        while (!finished && !failure && statSync(path).size <= SYNC_READ_BYTES) {
          signal?.throwIfAborted();
          await waitForBytes();
        }
      }
      if (!file && finished && position === 0) {
        if (failure) throw failure.reason;
        signal?.throwIfAborted();
        const whole = readSmallSync(path, into);
        if (whole !== undefined) {
          drained = true;
          position = whole;
          return whole;
        }
      }
      if (!file) {
        file = await open(path, 'r');
        signal?.addEventListener('abort', onAbort);
      }
      let filled = 0;
      while (filled < into.length) {
        if (failure) throw failure.reason;
        signal?.throwIfAborted();
        // Seen before the size: once the writer reported the file complete, that size is its last. (Asked again
        // for each read, a small file finished before it was opened cost three lookups: 0.6 s of the main thread
        // for a dump of 5000 small tables.)
        const final = finished;
        const size = lastSize ?? (await file.stat()).size;
        if (final) lastSize = size;
        if (size < position) throw new Error(`${path} shrank while it was read (${size} < ${position} bytes)`);
        const available = size - position;
        const wanted = into.length - filled;
        if (available >= wanted || (final && available > 0)) {
          const { bytesRead } = await file.read(into, filled, Math.min(available, wanted), position);
          if (bytesRead === 0) throw new Error(`${path} ended before its size (${position} of ${size} bytes)`);
          position += bytesRead;
          filled += bytesRead;
          continue;
        }
        if (final) break;
        await waitForBytes();
      }
      return filled;
    },
    async close() {
      signal?.removeEventListener('abort', onAbort);
      await file?.close();
      file = undefined;
    },
  };
}

/**
 * followReader as a stream of chunks of CHUNK bytes (the last one shorter), each in a new buffer: for
 * readers that may keep a chunk after asking for the next.
 */
export function followFile(
  path: string,
  done: Promise<void>,
  opts: { signal?: AbortSignal; pollMs?: number } = {},
): Readable {
  return Readable.from(freshChunks(followReader(path, done, opts)), { objectMode: false });
}

async function* freshChunks(reader: BlockReader): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const length = await reader.read(buffer);
      if (length > 0) yield length === CHUNK ? buffer : buffer.subarray(0, length);
      if (length < CHUNK) return;
    }
  } finally {
    await reader.close();
  }
}

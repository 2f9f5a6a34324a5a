import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

/**
 * A follower reads the file in chunks of this size at offsets that are multiples of it (the last one
 * shorter): whole compression blocks, which the compressor takes as they are, without copying.
 */
const CHUNK = 1 << 20;

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
 * Reads a file that another process is still writing (and only appends to), from its start to its end:
 * it follows the growing file, and ends once `done` has resolved and every byte up to the file's size
 * at that time has been read — exactly the bytes of the finished file. It fails when `done` rejects
 * (the writer failed), when the file shrinks, or when `signal` aborts.
 */
export function followFile(
  path: string,
  done: Promise<void>,
  opts: { signal?: AbortSignal; pollMs?: number } = {},
): Readable {
  return Readable.from(follow(path, done, opts.signal, opts.pollMs ?? 20), { objectMode: false });
}

async function* follow(
  path: string,
  done: Promise<void>,
  signal: AbortSignal | undefined,
  pollMs: number,
): AsyncGenerator<Buffer> {
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
  signal?.addEventListener('abort', onAbort);
  const file = await open(path, 'r');
  try {
    let position = 0;
    for (;;) {
      if (failure) throw failure.reason;
      signal?.throwIfAborted();
      // Seen before the size: once the writer reported the file complete, that size is its last.
      const final = finished;
      const { size } = await file.stat();
      if (size < position) throw new Error(`${path} shrank while it was read (${size} < ${position} bytes)`);
      const available = size - position;
      if (available >= CHUNK || (final && available > 0)) {
        const length = Math.min(available, CHUNK);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(buffer, 0, length, position);
        if (bytesRead === 0) throw new Error(`${path} ended before its size (${position} of ${size} bytes)`);
        position += bytesRead;
        yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
        continue;
      }
      if (final) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await file.close();
  }
}

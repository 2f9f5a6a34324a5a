/**
 * Writing files to an SFTP server (for sftp.ts), through ssh2's `SFTP.write`: the requests in flight on a
 * connection (`WriteBudget`), and the chunks of a stream or of a local file written with many requests in
 * flight. A local file usually goes by sftp-packets.ts instead, which copies its bytes once on the way.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';

/** The write requests in flight on one connection, and the writers waiting for room. */
export class WriteBudget {
  inFlight = 0;
  private readonly waiting = new Set<() => void>();
  /** Resolves once a request in flight has been answered (or at once when none is). */
  settled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.add(resolve));
  }
  answered(n: number): void {
    this.inFlight -= n;
    const wake = [...this.waiting];
    this.waiting.clear();
    for (const w of wake) w();
  }
}

/** A write request the server refused (its status message). */
export class WriteRefused extends Error {}

/** The error of a write request's answer: status 4 (SSH_FX_FAILURE) is the server's, others a lost connection. */
export function writeError(err: Error): Error {
  return (err as { code?: unknown }).code === 4 ? new WriteRefused(err.message) : err;
}

/** The calls of ssh2's SFTP session used to write a file (ssh2-sftp-client's `sftp`). */
export interface RawSftp {
  _maxWriteLen?: number;
  open(
    path: string,
    flags: string,
    attrs: { mode: number },
    cb: (err: Error | undefined, handle: Buffer) => void,
  ): void;
  write(handle: Buffer, buf: Buffer, off: number, len: number, position: number, cb: (err?: Error) => void): void;
  close(handle: Buffer, cb: (err?: Error) => void): void;
}

/**
 * Writes `chunks` (each valid until the next is asked for) to the open remote `handle` through `SFTP.write`,
 * which copies each piece into its request at once, with up to `limit` bytes of requests in flight on the
 * connection (`budget`), as `fastPut` does, rather than one request at a time as a write stream does.
 */
export async function writeChunks(
  sftp: RawSftp,
  sock: Socket | undefined,
  handle: Buffer,
  chunks: AsyncIterable<Buffer>,
  budget: WriteBudget,
  limit: number,
  signal?: AbortSignal,
): Promise<void> {
  // never more than one request can carry: a longer write would read the chunk again later
  const piece = Math.min(sftp._maxWriteLen ?? 16 * 1024, 256 * 1024);
  let mine = 0; // this file's requests in flight
  let failed: Error | undefined;
  let position = 0;
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    for (let at = 0; at < chunk.length;) {
      while (budget.inFlight >= limit && !failed) await budget.settled();
      if (failed) throw failed;
      // The requests issued together leave in one socket write, not one per SSH packet (32 KiB): never
      // corked across an await, so that nothing waits in the socket for an answer that depends on it.
      sock?.cork();
      for (; at < chunk.length && budget.inFlight < limit; at += piece) {
        const n = Math.min(piece, chunk.length - at);
        budget.inFlight += n;
        mine += n;
        sftp.write(handle, chunk, at, n, position, (err) => {
          mine -= n;
          if (err) failed ??= writeError(err);
          budget.answered(n);
        });
        position += n;
      }
      sock?.uncork();
    }
  }
  while (mine > 0 && !failed) await budget.settled();
  if (failed) throw failed;
}

/** A local file through `writeChunks`, read into one buffer, reused; with the SHA-256 and length of what was sent. */
export async function writeFileChunks(
  sftp: RawSftp,
  sock: Socket | undefined,
  handle: Buffer,
  source: string,
  budget: WriteBudget,
  limit: number,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = await open(source, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let n; (n = (await fh.read(buf, 0, buf.length, null)).bytesRead) > 0; bytes += n) {
        hash.update(buf.subarray(0, n));
        yield buf.subarray(0, n);
      }
    }
    await writeChunks(sftp, sock, handle, chunks(), budget, limit, signal);
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

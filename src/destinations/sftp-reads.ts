/**
 * Reading a file from an SFTP server (for sftp.ts) with many read requests in flight, in order. ssh2's read
 * stream asks for 64 KiB and waits for the answer before asking for more: one request per round trip, about
 * 1.6 MB/s over a link of 40 ms, where a restore from an off-site server is most needed. Here up to
 * `READ_WINDOW` bytes are asked for at once, as `fastGet` and OpenSSH's `sftp` do, and yielded in file order.
 */
import { Readable } from 'node:stream';
import { madeGarbage } from '../engine/garbage.js';

/** Bytes asked for by one read request: OpenSSH answers up to 255 KiB at once (ssh2 splits a longer one). */
export const READ_REQUEST = 255 * 1024;
/**
 * Bytes asked for and not yet yielded, per file: 8 requests, 2 MiB (50 MB/s a file over a 40 ms round trip; a fetch
 * reads 4 files at once). 16 requests were no faster and held more memory.
 */
export const READ_WINDOW = 8 * READ_REQUEST;

/** The calls of ssh2's SFTP session used to read a file (ssh2-sftp-client's `sftp`). */
export interface RawSftpReader {
  open(path: string, flags: string, cb: (err: Error | undefined, handle: Buffer) => void): void;
  read(
    handle: Buffer,
    buf: Buffer,
    off: number,
    len: number,
    position: number,
    cb: (err: Error | undefined, bytesRead: number) => void,
  ): void;
  close(handle: Buffer, cb: (err?: Error) => void): void;
}

interface Pending {
  position: number;
  len: number;
  data: Promise<Buffer>;
}

/**
 * Streams the `size` bytes of `path` from `start`, with up to `window` bytes of requests in flight. A short
 * answer (a server may send less than was asked) is asked for again from where it stopped; an empty answer
 * before `size` ends the stream there (the file shrank: the caller, which knows its size, says so).
 */
export function pipelinedRead(
  sftp: RawSftpReader,
  path: string,
  size: number,
  start = 0,
  window = READ_WINDOW,
): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const handle = await new Promise<Buffer>((resolve, reject) =>
      sftp.open(path, 'r', (err, h) => (err ? reject(err) : resolve(h))),
    );
    const queue: Pending[] = [];
    const ask = (position: number, len: number): Pending => {
      const data = new Promise<Buffer>((resolve, reject) => {
        const buf = Buffer.allocUnsafe(len);
        sftp.read(handle, buf, 0, len, position, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n))));
      });
      data.catch(() => undefined); // a request still in flight when the stream stops is not waited for
      return { position, len, data };
    };
    let next = start;
    let asked = 0;
    try {
      for (;;) {
        while (next < size && (queue.length === 0 || asked + Math.min(READ_REQUEST, size - next) <= window)) {
          const len = Math.min(READ_REQUEST, size - next);
          queue.push(ask(next, len));
          next += len;
          asked += len;
        }
        const head = queue.shift();
        if (!head) return;
        const data = await head.data;
        asked -= head.len;
        // Every byte here was received in a socket chunk and decrypted into a packet of ssh2's own before it was
        // copied here: three buffers, garbage V8 does not count soon enough (a fetch of four files at once reached
        // 189 MiB). Counted once, a fetch's peak varied by 14 MiB from run to run; thrice, by 6, and 4 lower.
        const collecting = madeGarbage(3 * data.length);
        if (collecting) await collecting;
        if (data.length === 0) return;
        if (data.length < head.len) {
          const rest = head.len - data.length;
          queue.unshift(ask(head.position + data.length, rest));
          asked += rest;
        }
        yield data;
      }
    } finally {
      sftp.close(handle, () => undefined);
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 1 });
}

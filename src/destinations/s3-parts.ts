/**
 * The bytes of S3 uploads (s3.ts): the pool of part buffers, where a part's bytes come from (the chunks of
 * `putChunks`, or a local file read straight into the part buffer by `putFile`), the streamed body of a local
 * file sent in one request (`CheckedFileBody`), and the one SHA-256 of each request body that serves both as the
 * checksum the store checks and as the payload hash it is signed with.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { handleBlockReader } from '../core/block-reader.js';

/** A fixed number of equal buffers, allocated when first needed, handed out and given back. */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((b: Buffer) => void)[] = [];
  private made = 0;
  constructor(
    private readonly count: number,
    readonly size: number,
  ) {}

  take(): Promise<Buffer> {
    const b = this.free.pop() ?? (this.made < this.count ? (this.made++, Buffer.allocUnsafe(this.size)) : undefined);
    return b ? Promise.resolve(b) : new Promise((resolve) => this.waiting.push(resolve));
  }

  give(b: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }
}

/** Where the bytes of one upload come from. */
export interface PartSource {
  /** Fills `buf` from where the last fill stopped; fewer bytes than its length only at the end. */
  fill(buf: Buffer): Promise<number>;
  /** Called once every announced byte was read, before the upload is completed: throws when it is not right. */
  end(): Promise<void>;
  /** Releases what it holds; safe after a failure. */
  close(): Promise<void>;
}

/** The chunks of `putChunks` (each valid until the next is asked for): copied into the buffers given. */
export function chunkSource(body: AsyncIterable<Buffer>): PartSource {
  const it = body[Symbol.asyncIterator]();
  let rest: Buffer | undefined;
  let done = false;
  const next = async (): Promise<boolean> => {
    while (!done && !rest?.length) {
      const r = await it.next();
      if (r.done) done = true;
      else rest = r.value;
    }
    return !done;
  };
  return {
    async fill(buf) {
      let filled = 0;
      while (filled < buf.length && (await next())) {
        const n = rest!.copy(buf, filled);
        filled += n;
        rest = rest!.subarray(n);
      }
      return filled;
    },
    async end() {
      if (await next()) throw new Error('the body has more bytes than announced');
    },
    async close() {
      if (!done) await it.return?.();
    },
  };
}

/**
 * The local file at `path`, read straight into the buffers given and hashed on the way; `end` hands the
 * hash and the length of what was read to `check`.
 */
export async function fileSource(path: string, check: (sha256: string, bytes: number) => void): Promise<PartSource> {
  const reader = handleBlockReader(await fsp.open(path, 'r'));
  const hash = createHash('sha256');
  let position = 0;
  return {
    async fill(buf) {
      const filled = await reader.read(buf);
      hash.update(buf.subarray(0, filled));
      position += filled;
      return filled;
    },
    async end() {
      check(hash.digest('hex'), position);
    },
    close: () => reader.close(),
  };
}

/**
 * node:http's class, required rather than imported: an ESM import of node:http evaluates every export of its
 * facade, among them the getters that load the whole undici fetch client (measured: 70–90 ms added to the
 * start of every command that reaches this module).
 */
const { ClientRequest: HttpClientRequest } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/** Size of the reads of a streamed body; the piece held back until `check` passed is at most this. */
const BODY_CHUNK = 1024 * 1024;
/** Read buffers a streamed body keeps for reuse (8 MiB); when none is free yet, it reads into a new one. */
const BODY_BUFFERS = 8;
const FREE = -1;
const IN_USE = Infinity;

/** A read buffer of a streamed body; `end`: FREE, IN_USE, or the body offset just past its bytes once passed on. */
interface Slot {
  buf: Buffer;
  end: number;
}

/**
 * The local file at `path` as the body of one request announcing `size` bytes, read and hashed as it is sent
 * (memory stays flat). Each chunk is passed on only once the next one was read, so the last one is held back
 * until the whole file was read and `check`, given its SHA-256 (hex) and length, passed. When `check` throws, or
 * the file is not `size` bytes, the stream fails with that error before the body is complete and never more than
 * `size` bytes leave it: the caller cuts the request, so the store never receives a whole body. The file is opened
 * when the body is first read and closed when the stream ends or is destroyed.
 *
 * Piped into an http request (what the SDK does with a stream body), a read buffer is reused once the request
 * has written its bytes out to the socket: fresh buffers cost a page fault per 4 KiB (measured: +0.6 CPU-s of
 * system time for 300 MB). Piped anywhere else, every chunk gets a new buffer.
 */
export class CheckedFileBody extends Readable {
  private fh: FileHandle | undefined;
  private readonly hash = createHash('sha256');
  private position = 0;
  private passed = 0;
  private held: { slot: Slot; chunk: Buffer } | undefined;
  private request: ClientRequest | undefined;
  private readonly slots: Slot[] = [];

  constructor(
    private readonly path: string,
    private readonly size: number,
    private readonly check: (sha256: string, bytes: number) => void,
  ) {
    super({ highWaterMark: BODY_CHUNK });
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (destination instanceof HttpClientRequest) this.request = destination;
    return super.pipe(destination, options);
  }

  override _read(): void {
    this.readOn().catch((err: unknown) => this.destroy(err as Error));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    (fh ? fh.close() : Promise.resolve()).then(
      () => callback(err),
      (closeErr: unknown) => callback(err ?? (closeErr as Error)),
    );
  }

  /** Reads until a chunk can be passed on (the one before the chunk just read), or the end. */
  private async readOn(): Promise<void> {
    if (!this.fh) {
      const fh = await fsp.open(this.path, 'r');
      if (this.destroyed) return void (await fh.close());
      this.fh = fh;
    }
    for (;;) {
      const slot = this.freeSlot();
      const { bytesRead } = await this.fh.read(slot.buf, 0, BODY_CHUNK, this.position);
      if (this.destroyed) return;
      if (bytesRead === 0) {
        slot.end = FREE;
        this.check(this.hash.digest('hex'), this.position);
        if (this.position !== this.size)
          throw new Error(`${this.path} has ${this.position} bytes, ${this.size} were announced`);
        if (this.held) this.passOn(this.held);
        this.push(null);
        return;
      }
      const chunk = slot.buf.subarray(0, bytesRead);
      this.hash.update(chunk);
      this.position += bytesRead;
      const before = this.held;
      this.held = { slot, chunk };
      if (before && this.position - bytesRead <= this.size) return this.passOn(before);
      if (before) before.slot.end = FREE; // past the announced size: never sent, the check fails at the end
    }
  }

  private passOn(h: { slot: Slot; chunk: Buffer }): void {
    this.passed += h.chunk.length;
    h.slot.end = this.passed;
    this.push(h.chunk);
  }

  /**
   * A buffer no one holds: never passed on, or passed on and written out by the request. The request's
   * `writableLength` counts what it and its socket still hold, the last bytes written to it; so a slot is
   * free once the request took every byte up to its end and holds no more than what came after.
   */
  private freeSlot(): Slot {
    const taken = this.passed - this.readableLength;
    const pending = this.request ? this.request.writableLength : IN_USE;
    const free = this.slots.find((s) => s.end === FREE || (s.end <= taken && pending <= taken - s.end));
    const slot = free ?? { buf: Buffer.allocUnsafe(BODY_CHUNK), end: FREE };
    if (!free && this.slots.length < BODY_BUFFERS) this.slots.push(slot);
    slot.end = IN_USE;
    return slot;
  }
}

/**
 * The SHA-256 of a request's body, computed once here over the bytes already in memory: given as the
 * checksum the store checks (ChecksumSHA256, base64) and as the payload hash the request is signed with
 * (`signedWith`, hex). Left to itself the SDK hashes the body once for each.
 */
export function sha256Of(body: Buffer): { hex: string; base64: string } {
  const digest = createHash('sha256').update(body).digest();
  return { hex: digest.toString('hex'), base64: digest.toString('base64') };
}

/** The part of a command's middleware stack `signedWith` uses (the SDK types it per command). */
interface BuildStack {
  add(
    middleware: (
      next: (args: { request: unknown }) => Promise<unknown>,
    ) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: 'build'; name: string },
  ): void;
}

/** `cmd` signed with the body's SHA-256 `hex` as its payload hash (x-amz-content-sha256), not one the SDK computes. */
export function signedWith<C extends { middlewareStack: object }>(cmd: C, hex: string): C {
  (cmd.middlewareStack as BuildStack).add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = hex;
      return next(args);
    },
    { step: 'build', name: 'respaldoPayloadSha256' },
  );
  return cmd;
}

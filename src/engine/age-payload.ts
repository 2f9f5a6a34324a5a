import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import type { Decrypter } from './age-header.js';
import { madeGarbage } from './garbage.js';

/**
 * The payload of an age file (https://age-encryption.org/v1, "Payload"), sealed and opened with Node's own
 * ChaCha20-Poly1305 (OpenSSL's) instead of age-encryption's JavaScript one. The header (the recipients' stanzas
 * wrapping the file key, and its MAC) is made and read elsewhere (age-x25519.ts, age-header.ts, or age-encryption for
 * other recipients); only the STREAM after it is done here, as the spec writes it: a 16-byte nonce, the key
 * HKDF-SHA-256(file key, salt nonce, info "payload"), then the plaintext in 64 KiB chunks, each sealed with
 * ChaCha20-Poly1305 under the nonce of an 11-byte big-endian chunk counter and a last-chunk flag byte. Only the last
 * chunk may be short, and it is empty only when the whole plaintext is.
 *
 * Why: age-encryption seals and opens every 64 KiB chunk in JavaScript on the main thread. Measured on this
 * project's 2-core machine, 100 MiB took 630–650 CPU-ms there and 160–220 with OpenSSL (the whole chunk's
 * cipher made, run and its tag taken each time), for every encrypted create, restore, drill and
 * `verify --read-data`. The files are byte for byte what the age CLI writes and reads (test/age-payload.test.ts
 * checks both ways around every chunk boundary).
 */

/** Plaintext bytes of a payload chunk. */
export const CHUNK = 64 * 1024;
/** Poly1305 tag after each chunk. */
const TAG = 16;
/** The nonce between the header and the payload. */
const NONCE = 16;
/** The longest header read before a file is said not to be age: a few hundred bytes per recipient. */
const MAX_HEADER = 1 << 20;
const VERSION_LINE = Buffer.from('age-encryption.org/v1\n');

/** The payload key of a file: HKDF-SHA-256 of its file key, salted with its nonce. */
function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

/** The ChaCha20-Poly1305 nonce of chunk `counter`: the counter big-endian in 11 bytes, then the last-chunk flag. */
function chunkNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6); // 2^48 chunks of 64 KiB: far beyond any file
  n[11] = last ? 1 : 0;
  return n;
}

/** Size of the age file holding `plaintext` bytes after a header and nonce of `prefix` bytes. */
export function sealedSize(prefix: number, plaintext: number): number {
  return prefix + plaintext + TAG * Math.max(1, Math.ceil(plaintext / CHUNK));
}

/**
 * How many times each sealed or opened byte counts towards garbage.ts's collections. Each chunk's output is a new
 * 64 KiB buffer, small enough for glibc to keep the memory of those freed in its arenas rather than give it back:
 * on a 318 MB set (a SQLite database and twelve 25 MiB incompressible files) encrypted to one recipient,
 * `restore --files` peaked at 129–134 MiB RSS counted four times against 140–141 once (three alternating runs,
 * 2026-12-04, the machine loaded), and `create` at 143–152 against 145–169 (RSS spread widely there), each with
 * 0–0.4 CPU-s more of collections.
 */
const GARBAGE_WEIGHT = 4;

/** Calls `cb` once the collection `madeGarbage` may have started is done (see garbage.ts). */
function afterGarbage(bytes: number, cb: TransformCallback): void {
  const collecting = madeGarbage(bytes * GARBAGE_WEIGHT);
  if (collecting) collecting.then(() => cb(), cb);
  else cb();
}

/**
 * Seals what is written to it into one age file: `prefix` (the header and nonce, from age-encryption), then the
 * payload under `fileKey`. A full chunk is sealed only once a byte after it arrives, since the last chunk is
 * flagged as such.
 */
export class PayloadSealer extends Transform {
  private readonly key: Buffer;
  private readonly pending = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private counter = 0;
  private prefix: Buffer | null;

  constructor(fileKey: Uint8Array, prefix: Buffer) {
    super();
    this.prefix = prefix;
    this.key = payloadKey(fileKey, prefix.subarray(prefix.length - NONCE));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.start();
    let sealed = 0;
    for (let off = 0; off < chunk.length;) {
      if (this.used === CHUNK) sealed += this.seal(false);
      const n = Math.min(CHUNK - this.used, chunk.length - off);
      chunk.copy(this.pending, this.used, off, off + n);
      this.used += n;
      off += n;
    }
    afterGarbage(sealed, cb);
  }

  override _flush(cb: TransformCallback): void {
    this.start();
    this.seal(true);
    cb();
  }

  private start(): void {
    if (!this.prefix) return;
    this.push(this.prefix);
    this.prefix = null;
  }

  private seal(last: boolean): number {
    const cipher = createCipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter++, last), {
      authTagLength: TAG,
    });
    const sealed = cipher.update(this.pending.subarray(0, this.used));
    cipher.final();
    this.push(sealed);
    this.push(cipher.getAuthTag());
    this.used = 0;
    return sealed.length;
  }
}

/**
 * One whole age file: `prefix` (the header and nonce), then `plaintext` sealed under `fileKey` in one call, for a
 * small file (PayloadSealer's bytes, without a stream).
 */
export function sealWhole(fileKey: Uint8Array, prefix: Buffer, plaintext: Buffer): Buffer {
  const key = payloadKey(fileKey, prefix.subarray(prefix.length - NONCE));
  const out = Buffer.allocUnsafe(sealedSize(prefix.length, plaintext.length));
  prefix.copy(out);
  let at = prefix.length;
  for (let counter = 0, off = 0; counter === 0 || off < plaintext.length; counter++) {
    const end = Math.min(off + CHUNK, plaintext.length);
    const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter, end === plaintext.length), {
      authTagLength: TAG,
    });
    at += cipher.update(plaintext.subarray(off, end)).copy(out, at);
    cipher.final();
    at += cipher.getAuthTag().copy(out, at);
    off = end;
  }
  return out;
}

/**
 * Opens an age payload: each chunk's plaintext is passed on only once its tag authenticated it. A file cut at
 * any byte, a chunk changed, reordered or added after the last one fails (the last chunk is sealed as the last).
 */
class PayloadOpener extends Transform {
  private readonly key: Buffer;
  private readonly box = Buffer.allocUnsafe(CHUNK + TAG);
  private used = 0;
  private counter = 0;

  constructor(key: Buffer) {
    super();
    this.key = key;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let opened = 0;
    try {
      for (let off = 0; off < chunk.length;) {
        if (this.used === this.box.length) opened += this.open(false);
        const n = Math.min(this.box.length - this.used, chunk.length - off);
        chunk.copy(this.box, this.used, off, off + n);
        this.used += n;
        off += n;
      }
    } catch (err) {
      cb(err as Error);
      return;
    }
    afterGarbage(opened, cb);
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.used < TAG) throw new Error('the payload is cut short (no last chunk)');
      if (this.open(true) === 0 && this.counter > 1) throw new Error('the last chunk of the payload is empty');
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private open(last: boolean): number {
    const nonce = chunkNonce(this.counter++, last);
    const decipher = createDecipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG });
    decipher.setAuthTag(this.box.subarray(this.used - TAG, this.used));
    const plain = decipher.update(this.box.subarray(0, this.used - TAG));
    try {
      decipher.final();
    } catch {
      throw new Error(`chunk ${this.counter - 1} of the payload failed authentication`);
    }
    this.used = 0;
    if (plain.length) this.push(plain);
    return plain.length;
  }
}

/** Where the header of an age file ends (after its MAC line), or -1 when `buf` does not hold all of it yet. */
function headerEnd(buf: Buffer): number {
  const mac = buf.indexOf('\n--- ');
  if (mac < 0) return -1;
  const eol = buf.indexOf('\n', mac + 1);
  return eol < 0 ? -1 : eol + 1;
}

/**
 * The plaintext of the whole age file `file` (a small one, read whole), opened with `d` in one call: its header's
 * file key unwrapped and checked, every chunk authenticated. Undefined when it does not open, whatever the reason
 * (another key, a damaged header or chunk, a file cut short): openPayload's stream then says why.
 */
export async function openWhole(d: Decrypter, file: Buffer): Promise<Buffer | undefined> {
  if (file.length < VERSION_LINE.length || !file.subarray(0, VERSION_LINE.length).equals(VERSION_LINE)) return;
  const end = headerEnd(file.subarray(0, MAX_HEADER));
  if (end < 0 || file.length < end + NONCE + TAG) return;
  let fileKey: Uint8Array;
  try {
    fileKey = await d.decryptHeader(new Uint8Array(file.buffer, file.byteOffset, end));
  } catch {
    return;
  }
  const key = payloadKey(fileKey, file.subarray(end, end + NONCE));
  const body = file.subarray(end + NONCE);
  const chunks = Math.ceil(body.length / (CHUNK + TAG));
  const out = Buffer.allocUnsafe(body.length - TAG * chunks);
  for (let counter = 0, off = 0, at = 0; counter < chunks; counter++) {
    const last = counter === chunks - 1;
    const box = body.subarray(off, Math.min(off + CHUNK + TAG, body.length));
    // only the last chunk may be short, and empty only when it is the only one
    if (box.length < TAG || (last && box.length === TAG && counter > 0)) return;
    const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce(counter, last), { authTagLength: TAG });
    decipher.setAuthTag(box.subarray(box.length - TAG));
    at += decipher.update(box.subarray(0, box.length - TAG)).copy(out, at);
    try {
      decipher.final();
    } catch {
      return;
    }
    off += box.length;
  }
  return out;
}

/**
 * The plaintext of the age file `source`, opened with `d`: resolves once the header was read and its file key
 * unwrapped and checked (a wrong key or a damaged header rejects, with age-encryption's errors), then streams
 * the payload, authenticated chunk by chunk.
 */
export async function openPayload(d: Decrypter, source: Readable): Promise<Readable> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: Buffer = Buffer.alloc(0);
  let end = -1;
  while (end < 0 || head.length < end + NONCE) {
    const next = await chunks.next();
    if (next.done)
      throw new Error(end < 0 ? 'the file ends inside its age header' : 'the file ends before its payload');
    head = head.length ? Buffer.concat([head, next.value]) : next.value;
    if (head.length >= VERSION_LINE.length && !head.subarray(0, VERSION_LINE.length).equals(VERSION_LINE))
      throw new Error('invalid version line: not an age file');
    if (end < 0) end = headerEnd(head);
    if (end < 0 && head.length > MAX_HEADER) throw new Error('no end of the age header in its first MiB');
  }
  const fileKey = await d.decryptHeader(new Uint8Array(head.buffer, head.byteOffset, end));
  const opener = new PayloadOpener(payloadKey(fileKey, head.subarray(end, end + NONCE)));
  const rest = head.subarray(end + NONCE);
  async function* payload(): AsyncGenerator<Buffer> {
    try {
      if (rest.length) yield rest;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await chunks.return?.(); // the plaintext dropped before its end: the source is closed too
    }
  }
  // An error of the source (a read that failed) or of the opener is the returned stream's error.
  pipeline(Readable.from(payload(), { objectMode: false }), opener, () => undefined);
  return opener;
}

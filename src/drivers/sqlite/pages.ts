import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { RespaldoError } from '../../core/errors.js';
import { english, phrase } from '../../core/phrases.js';

/**
 * SQLite page deltas: a differential or incremental of a SQLite database stores only the pages of the
 * snapshot whose SHA-256 differs from the same page of its base (or that the base does not have),
 * with their page numbers, plus the page map (the SHA-256 of every page of the snapshot) that the
 * next incremental compares against. A restore writes the full, then every delta of the chain in
 * order, then cuts the file to the last page count: the result is the snapshot byte for byte.
 *
 * Delta (`sqlite-pages`):  "RSPLPAGE" u32 version=1, u32 pageSize, u32 pageCount, u32 0, then records
 *                          u32 page number (1-based) + pageSize bytes, ended by u32 0.
 * Page map (`pagemap`):    "RSPLPMAP" u32 version=1, u32 pageSize, u32 pageCount, u32 0, then 32 bytes
 *                          of SHA-256 per page, in page order.
 * Integers are big-endian. Memory: the two page maps (32 bytes per page: 8 MiB for 1 GiB of 4 KiB pages).
 */

const DELTA_MAGIC = 'RSPLPAGE';
const MAP_MAGIC = 'RSPLPMAP';
const HEADER = 24;
const HASH = 32;

/** The SHA-256 of every page of a database image. */
export interface PageMap {
  pageSize: number;
  pageCount: number;
  /** pageCount × 32 bytes. */
  hashes: Buffer;
}

function header(magic: string, pageSize: number, pageCount: number): Buffer {
  const b = Buffer.alloc(HEADER);
  b.write(magic, 0, 'latin1');
  b.writeUInt32BE(1, 8);
  b.writeUInt32BE(pageSize, 12);
  b.writeUInt32BE(pageCount, 16);
  return b;
}

/** `what`: the part found damaged (delta, map, image, snapshot). */
function damaged(what: 'delta' | 'map' | 'image' | 'snapshot'): RespaldoError {
  const message = phrase('sqlite.pagesDamaged', { what });
  const hint = phrase('sqlite.pagesDamagedHint');
  return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
}

function parseHeader(b: Buffer, magic: string): { pageSize: number; pageCount: number } {
  if (b.length < HEADER || b.toString('latin1', 0, 8) !== magic || b.readUInt32BE(8) !== 1)
    throw damaged(magic === DELTA_MAGIC ? 'delta' : 'map');
  return { pageSize: b.readUInt32BE(12), pageCount: b.readUInt32BE(16) };
}

/** Page size of a SQLite file from its first 100 bytes (offset 16; 1 means 65536). */
export function pageSizeOf(first: Buffer): number {
  if (first.length < 100 || first.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') throw damaged('image');
  const v = first.readUInt16BE(16);
  return v === 1 ? 65536 : v;
}

/** Reads a stream in whole blocks of `size()` bytes (the last may be shorter); one copy per chunk at most. */
async function* blocks(stream: Readable, size: () => number): AsyncGenerator<Buffer> {
  let buf: Buffer = Buffer.alloc(0);
  let off = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buf = off < buf.length ? Buffer.concat([buf.subarray(off), chunk]) : chunk;
    off = 0;
    for (let n = size(); buf.length - off >= n; n = size()) {
      yield buf.subarray(off, off + n);
      off += n;
    }
  }
  if (buf.length > off) yield buf.subarray(off);
}

/** The page map of a full image (a stored `sqlite-db`), hashed while it streams. */
export async function pageMapOfImage(stream: Readable): Promise<PageMap> {
  let pageSize = 0;
  let head: Buffer | null = null;
  let want = 100;
  const hashes: Buffer[] = [];
  for await (const block of blocks(stream, () => want)) {
    if (!pageSize) {
      pageSize = pageSizeOf(block);
      head = Buffer.from(block);
      want = pageSize - 100;
      continue;
    }
    const page = head ? Buffer.concat([head, block]) : block;
    head = null;
    want = pageSize;
    if (page.length !== pageSize) throw damaged('image');
    hashes.push(createHash('sha256').update(page).digest());
  }
  if (!pageSize || head) throw damaged('image');
  return { pageSize, pageCount: hashes.length, hashes: Buffer.concat(hashes) };
}

/** The page map stored beside a delta (`pagemap` part). */
export async function readPageMap(stream: Readable): Promise<PageMap> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  const all = Buffer.concat(parts);
  const { pageSize, pageCount } = parseHeader(all, MAP_MAGIC);
  const hashes = all.subarray(HEADER);
  if (hashes.length !== pageCount * HASH) throw damaged('map');
  return { pageSize, pageCount, hashes };
}

/** The stored form of a page map. */
export function encodePageMap(map: PageMap): Buffer[] {
  return [header(MAP_MAGIC, map.pageSize, map.pageCount), map.hashes];
}

/** What a delta of a snapshot against a base found. */
export interface DeltaStats {
  pageSize: number;
  pageCount: number;
  changedPages: number;
  /** The page map of the snapshot (for the next incremental). */
  map: PageMap;
}

/**
 * The delta of the snapshot file `file` against `base`, as chunks to store; `done` resolves with the
 * counts and the snapshot's page map once the last chunk was produced. The snapshot's page size must
 * be the base's (the caller checks with `pageSizeOf`).
 */
export function deltaOf(file: string, base: PageMap): { chunks: AsyncGenerator<Buffer>; done: Promise<DeltaStats> } {
  let resolve!: (s: DeltaStats) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<DeltaStats>((res, rej) => ((resolve = res), (reject = rej)));
  done.catch(() => undefined);
  async function* chunks(): AsyncGenerator<Buffer> {
    const fh = await fsp.open(file, 'r');
    try {
      const { size } = await fh.stat();
      const pageSize = base.pageSize;
      if (size % pageSize) throw damaged('snapshot');
      const pageCount = size / pageSize;
      const hashes = Buffer.alloc(pageCount * HASH);
      yield header(DELTA_MAGIC, pageSize, pageCount);
      const per = Math.max(1, Math.floor((1 << 20) / pageSize));
      const buf = Buffer.alloc(per * pageSize);
      let changed = 0;
      for (let first = 0; first < pageCount; first += per) {
        const n = Math.min(per, pageCount - first);
        const { bytesRead } = await fh.read(buf, 0, n * pageSize, first * pageSize);
        if (bytesRead !== n * pageSize) throw damaged('snapshot');
        const out: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const page = buf.subarray(i * pageSize, (i + 1) * pageSize);
          const h = createHash('sha256').update(page).digest();
          const no = first + i;
          h.copy(hashes, no * HASH);
          if (no < base.pageCount && h.equals(base.hashes.subarray(no * HASH, (no + 1) * HASH))) continue;
          const rec = Buffer.alloc(4 + pageSize);
          rec.writeUInt32BE(no + 1, 0);
          page.copy(rec, 4);
          out.push(rec);
          changed++;
        }
        if (out.length) yield Buffer.concat(out);
      }
      yield Buffer.alloc(4);
      resolve({ pageSize, pageCount, changedPages: changed, map: { pageSize, pageCount, hashes } });
    } catch (err) {
      reject(err);
      throw err;
    } finally {
      await fh.close();
    }
  }
  return { chunks: chunks(), done };
}

/**
 * Applies one stored delta to the image being rebuilt in `fh` (page size `pageSize`), then cuts the
 * file to the delta's page count. Returns that page count.
 */
export async function applyDelta(stream: Readable, fh: fsp.FileHandle, pageSize: number): Promise<number> {
  let head: { pageSize: number; pageCount: number } | null = null;
  let ended = false;
  const recordSize = () => (head ? 4 + head.pageSize : HEADER);
  for await (const block of blocks(stream, recordSize)) {
    if (ended) throw damaged('delta');
    if (!head) {
      head = parseHeader(block, DELTA_MAGIC);
      if (head.pageSize !== pageSize) throw damaged('delta');
      continue;
    }
    const no = block.readUInt32BE(0);
    if (no === 0 && block.length === 4) {
      ended = true;
      continue;
    }
    if (block.length !== 4 + pageSize || no > head.pageCount) throw damaged('delta');
    await fh.write(block, 4, pageSize, (no - 1) * pageSize);
  }
  if (!head || !ended) throw damaged('delta');
  await fh.truncate(head.pageCount * pageSize);
  return head.pageCount;
}

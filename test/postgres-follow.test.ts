/**
 * followFile: a data file of a directory dump is read while pg_dump still writes it, and the reader
 * ends with exactly the bytes of the finished file — only once the writer reported it finished.
 * Real files growing on disk; the writer is this test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { completion, followFile, followReader } from '../src/drivers/postgres/follow.js';
import { hashedRead, hashedReader } from '../src/drivers/postgres/chain.js';
import { decompressorFor } from '../src/engine/codec.js';
import { storeStream } from '../src/engine/store.js';
import { RowCounter } from '../src/drivers/postgres/tools.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-follow-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** COPY-like lines: `n` rows of about 100 bytes. */
function rows(from: number, n: number): Buffer {
  let s = '';
  for (let i = from; i < from + n; i++) s += `${i}\t${'x'.repeat(90)}\t${i % 7}\n`;
  return Buffer.from(s);
}

describe('followFile', () => {
  test('reads a growing file before its writer finished; ends only after the finish, with every byte', async () => {
    const path = join(dir, '3358.dat');
    const first = rows(0, 12000); // ~1.1 MiB: one whole chunk and a part of the next
    writeFileSync(path, first);
    const done = completion();
    const counter = new RowCounter();
    let hashed: { sha256: string; bytes: number } | undefined;
    const reader = hashedRead(followFile(path, done.promise), counter, (sha256, bytes) => (hashed = { sha256, bytes }));
    const it = reader[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const got: Buffer[] = [];

    // Bytes arrive while the writer has not finished: the first whole chunk.
    const firstChunk = await it.next();
    expect(firstChunk.done).toBe(false);
    expect(firstChunk.value.length).toBe(1 << 20);
    got.push(firstChunk.value);
    // The rest is less than a chunk and the file is not finished: the reader waits instead of ending.
    // The writer appends a tail and an end marker, then reports the file finished.
    const waiting = it.next();
    const tail = Buffer.concat([rows(12000, 30), Buffer.from('\\.\n\n\n')]);
    appendFileSync(path, tail);
    done.complete();
    for (let r = await waiting; !r.done; r = await it.next()) got.push(r.value);

    const whole = Buffer.concat([first, tail]);
    expect(Buffer.concat(got).equals(whole)).toBe(true);
    expect(counter.rows).toBe(12030);
    expect(hashed).toEqual({ sha256: createHash('sha256').update(whole).digest('hex'), bytes: whole.length });
  });

  test('read into reused buffers and stored while it grows: every chunk byte-exact, hashed and counted', async () => {
    const path = join(dir, '7.dat');
    writeFileSync(path, '');
    const done = completion();
    const counter = new RowCounter();
    let hashed: { sha256: string; bytes: number } | undefined;
    const source = followReader(path, done.promise, { pollMs: 5 });
    const reader = hashedReader(
      source,
      (c) => counter.count(c),
      (sha256, bytes) => (hashed = { sha256, bytes }),
    );
    const stored = join(dir, '7.dat.zst');
    const storing = storeStream(reader, stored, { compress: true, codec: 'zstd', level: 1 });
    // The writer appends about 8 MiB of distinct rows in uneven pieces while the store reads, then finishes.
    const pieces: Buffer[] = [];
    for (let i = 0, row = 0; i < 24; i++) {
      const n = 1000 + ((i * 733) % 5000);
      const piece = rows(row, n);
      row += n;
      pieces.push(piece);
      appendFileSync(path, piece);
      await new Promise((r) => setTimeout(r, 2));
    }
    done.complete();
    const result = await storing;
    const whole = Buffer.concat(pieces);
    expect(whole.length).toBeGreaterThan(6 << 20);
    const restored: Buffer[] = [];
    for await (const c of Readable.from([readFileSync(stored)]).pipe(decompressorFor('zstd')))
      restored.push(c as Buffer);
    expect(Buffer.concat(restored).equals(whole)).toBe(true);
    expect(result.rawBytes).toBe(whole.length);
    expect(counter.rows).toBe(pieces.reduce((sum, p) => sum + p.toString().split('\n').length - 1, 0));
    expect(hashed).toEqual({ sha256: createHash('sha256').update(whole).digest('hex'), bytes: whole.length });
  });

  test('a file already finished is read whole, in whole chunks and a shorter last one', async () => {
    const path = join(dir, '1.dat');
    const whole = randomBytes((3 << 20) + 123);
    writeFileSync(path, whole);
    const done = completion();
    done.complete();
    const got: Buffer[] = [];
    for await (const c of followFile(path, done.promise)) got.push(c as Buffer);
    expect(got.map((c) => c.length)).toEqual([1 << 20, 1 << 20, 1 << 20, 123]);
    expect(Buffer.concat(got).equals(whole)).toBe(true);
  });

  test('the writer failed: the read fails with its reason, even though bytes were there', async () => {
    const path = join(dir, '2.dat');
    writeFileSync(path, rows(0, 12000));
    const done = completion();
    const reader = followFile(path, done.promise);
    const it = reader[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    expect((await it.next()).done).toBe(false);
    const pending = (async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) void r;
    })();
    done.fail(new Error('pg_dump of big failed'));
    await expect(pending).rejects.toThrow(/pg_dump of big failed/);
  });

  test('a file that shrinks (truncated under the reader) is refused', async () => {
    const path = join(dir, '4.dat');
    writeFileSync(path, rows(0, 12000));
    const done = completion();
    const it = followFile(path, done.promise)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    expect((await it.next()).value.length).toBe(1 << 20);
    truncateSync(path, 1000);
    done.complete();
    await expect(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next()) void r;
      })(),
    ).rejects.toThrow(/shrank/);
  });

  test('an abort stops the follower', async () => {
    const path = join(dir, '5.dat');
    writeFileSync(path, '');
    const abort = new AbortController();
    const reader = followFile(path, completion().promise, { signal: abort.signal });
    const consumed = (async () => {
      for await (const c of reader) void c;
    })();
    abort.abort();
    await expect(consumed).rejects.toThrow(/abort/i);
  });

  test('a small file finished before its first read is read whole at that read, through no file handle', async () => {
    const path = join(dir, '11.dat');
    const body = rows(0, 30);
    writeFileSync(path, body);
    const done = completion();
    done.complete();
    const probe = await open(path, 'r');
    const handle = Object.getPrototypeOf(probe) as { read(): Promise<unknown>; stat(): Promise<unknown> };
    await probe.close();
    const read = vi.spyOn(handle, 'read');
    const stat = vi.spyOn(handle, 'stat');
    try {
      const reader = followReader(path, done.promise, { pollMs: 5 });
      await new Promise((r) => setTimeout(r, 1)); // the completion seen
      const into = Buffer.alloc(1 << 20);
      const n = await reader.read(into);
      expect(into.subarray(0, n).equals(body)).toBe(true);
      expect(await reader.read(into)).toBe(0);
      await reader.close();
      // Four trips to the thread pool before (open, stat, read, close), for each of a dump's thousands of small files.
      expect(read).not.toHaveBeenCalled();
      expect(stat).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
      stat.mockRestore();
    }
  });

  test('a small file not yet finished is waited for, then read whole; one that grows large meanwhile is followed', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const handle = Object.getPrototypeOf(probe) as { read(): Promise<unknown> };
    await probe.close();
    const read = vi.spyOn(handle, 'read');
    try {
      const path = join(dir, '12.dat');
      writeFileSync(path, rows(0, 3));
      const done = completion();
      const reader = followReader(path, done.promise, { pollMs: 5 });
      const into = Buffer.alloc(1 << 20);
      const reading = reader.read(into);
      await new Promise((r) => setTimeout(r, 30)); // the reader polls meanwhile
      appendFileSync(path, rows(3, 4));
      done.complete();
      const n = await reading;
      expect(into.subarray(0, n).equals(Buffer.concat([rows(0, 3), rows(3, 4)]))).toBe(true);
      expect(await reader.read(into)).toBe(0);
      await reader.close();
      expect(read).not.toHaveBeenCalled();

      // Grown past 64 KiB before its end: followed through a file handle, every byte read
      const big = join(dir, '13.dat');
      writeFileSync(big, rows(0, 3));
      const bigDone = completion();
      const follower = followReader(big, bigDone.promise, { pollMs: 5 });
      const first = follower.read(into);
      await new Promise((r) => setTimeout(r, 30));
      appendFileSync(big, rows(3, 2000)); // about 190 KiB
      await new Promise((r) => setTimeout(r, 30));
      appendFileSync(big, rows(2003, 10));
      bigDone.complete();
      const m = await first;
      expect(into.subarray(0, m).equals(Buffer.concat([rows(0, 3), rows(3, 2000), rows(2003, 10)]))).toBe(true);
      await follower.close();
      expect(read).toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  test('a file its writer reported finished: its size is asked once, however many reads it takes', async () => {
    const path = join(dir, '9.dat');
    const body = rows(0, 30);
    writeFileSync(path, body);
    const done = completion();
    done.complete();
    const probe = await open(path, 'r');
    const stat = vi.spyOn(Object.getPrototypeOf(probe) as { stat(): Promise<unknown> }, 'stat');
    await probe.close();
    try {
      const reader = followReader(path, done.promise, { pollMs: 5 });
      await new Promise((r) => setTimeout(r, 1)); // the completion seen
      const chunks: Buffer[] = [];
      for (let n = -1; n !== 0;) {
        const into = Buffer.alloc(1000);
        n = await reader.read(into);
        chunks.push(into.subarray(0, n));
      }
      await reader.close();
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
      // Five times before (this file, read into buffers of 1000 bytes): once per read, and again when one came short.
      expect(stat).toHaveBeenCalledTimes(1);
    } finally {
      stat.mockRestore();
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, test } from 'vitest';
import {
  SPLIT_MIN_BYTES,
  SPLIT_MIN_JOBS,
  listWithout,
  planSplitLoad,
  splitLines,
  splitThreshold,
} from '../src/drivers/postgres/split-load.js';
import { parseTocList } from '../src/drivers/postgres/toc.js';
import { jobsForSlots } from '../src/drivers/postgres/catalog.js';

/**
 * A large table of a directory dump loaded by several sessions at once: which tables (pure, on a real table of
 * contents), the list pg_restore loads the rest from, and the cutting of the COPY data into whole lines.
 */

const listing = readFileSync(join(__dirname, 'fixtures/pg-toc/chinook.toc'), 'utf8');
const chinook = parseTocList(listing);
const MiB = 1 << 20;

describe('planSplitLoad', () => {
  // chinook.toc: 3422 album, 3423 artist, 3424 customer (TABLE DATA); their files are <id>.dat.
  const files = [
    { name: '3422.dat', rawBytes: 200 * MiB },
    { name: '3423.dat', rawBytes: SPLIT_MIN_BYTES - 1 },
    { name: '3424.dat', rawBytes: SPLIT_MIN_BYTES },
  ];

  test('the TABLE DATA entries whose data file is SPLIT_MIN_BYTES or more, in archive order', () => {
    const split = planSplitLoad(chinook, files, { jobs: 2 });
    expect(split).toEqual([
      { id: 3422, file: '3422.dat', rawBytes: 200 * MiB, line: '3422; 0 16385 TABLE DATA public album postgres' },
      {
        id: 3424,
        file: '3424.dat',
        rawBytes: SPLIT_MIN_BYTES,
        line: '3424; 0 16395 TABLE DATA public customer postgres',
      },
    ]);
  });

  test('none with one job; only the chosen entries of a --use-list selection; a threshold of its own', () => {
    expect(planSplitLoad(chinook, files, { jobs: 1 })).toEqual([]);
    expect(planSplitLoad(chinook, files, { jobs: 4, chosen: new Set([3424, 99]) }).map((t) => t.id)).toEqual([3424]);
    expect(planSplitLoad(chinook, files, { jobs: 2, minBytes: 1 }).map((t) => t.id)).toEqual([3422, 3423, 3424]);
    expect(planSplitLoad(chinook, files, { jobs: 2, minBytes: Infinity })).toEqual([]);
  });

  test('with the free connections given: only the largest tables whose sessions fit, in archive order', () => {
    const ids = (connections: number, jobs = 2) =>
      planSplitLoad(chinook, files, { jobs, minBytes: 1, connections }).map((t) => t.id);
    // pg_restore's 2 jobs and 2 sessions per split table: 3422 is the largest, then 3424, then 3423.
    expect(ids(8)).toEqual([3422, 3423, 3424]);
    expect(ids(7)).toEqual([3422, 3424]);
    expect(ids(6)).toEqual([3422, 3424]);
    expect(ids(4)).toEqual([3422]);
    expect(ids(3)).toEqual([]);
    expect(ids(1)).toEqual([]);
    expect(ids(20, 4)).toEqual([3422, 3423, 3424]);
    expect(ids(15, 4)).toEqual([3422, 3424]);
  });

  test('an entry that is not TABLE DATA is never split, whatever file bears its id', () => {
    const table = chinook.find((e) => e.desc === 'TABLE')!;
    const split = planSplitLoad(chinook, [{ name: `${table.id}.dat`, rawBytes: 500 * MiB }], { jobs: 2 });
    expect(split).toEqual([]);
  });
});

describe('jobsForSlots', () => {
  test('the jobs that fit the free slots, one slot left; at least one; all of them when the server does not say', () => {
    expect(jobsForSlots(4, null)).toBe(4);
    expect(jobsForSlots(4, 100)).toBe(4);
    expect(jobsForSlots(4, 5)).toBe(4);
    expect(jobsForSlots(4, 4)).toBe(3);
    expect(jobsForSlots(4, 2)).toBe(1);
    expect(jobsForSlots(4, 0)).toBe(1);
    expect(jobsForSlots(4, -3)).toBe(1);
  });
});

describe('splitThreshold', () => {
  test('by default only from SPLIT_MIN_JOBS jobs up (on fewer cores respaldo itself needs the core); as configured', () => {
    expect(SPLIT_MIN_JOBS).toBe(4);
    expect(splitThreshold(2)).toBe(Infinity);
    expect(splitThreshold(3)).toBe(Infinity);
    expect(splitThreshold(4)).toBe(SPLIT_MIN_BYTES);
    expect(splitThreshold(8)).toBe(SPLIT_MIN_BYTES);
    expect(splitThreshold(2, 1)).toBe(1);
    expect(splitThreshold(8, Infinity)).toBe(Infinity);
  });
});

describe('listWithout', () => {
  test('comments out the split entries only, dependency lines and the rest kept as they were', () => {
    const split = planSplitLoad(chinook, [{ name: '3422.dat', rawBytes: 100 * MiB }], { jobs: 2 });
    const out = listWithout(listing, split);
    const lines = out.split('\n');
    expect(lines).toHaveLength(listing.split('\n').length);
    expect(lines.filter((l, i) => l !== listing.split('\n')[i])).toEqual([
      ';3422; 0 16385 TABLE DATA public album postgres',
    ]);
    // What pg_restore would read from it: every entry but that one.
    const kept = parseTocList(out).map((e) => e.id);
    expect(kept).toEqual(chinook.map((e) => e.id).filter((id) => id !== 3422));
  });
});

/** Collects a stream; a slow one takes a turn of the event loop per write. */
function sink(out: Buffer[], slow = false): Writable {
  return new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      out.push(Buffer.from(chunk));
      if (slow) setImmediate(cb);
      else cb();
    },
  });
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i}\tfila ${'x'.repeat(i % 37)}\\n ñ\n`).join('');

/** `text` as chunks of the given sizes (cycled), cutting lines and multi-byte characters anywhere. */
function chunked(text: string, sizes: number[]): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

describe('splitLines', () => {
  test.each([
    ['chunks of 1 byte', [1]],
    ['chunks shorter and longer than a line', [7, 300, 13, 4096]],
    ['one chunk', [1 << 30]],
  ])('every share holds whole lines in their order, and together every line once (%s)', async (_n, sizes) => {
    const text = rows(3000) + '\\.\n\n\n';
    const shares = splitLines(chunked(text, sizes), 3, 512);
    const outs: Buffer[][] = shares.map(() => []);
    await Promise.all(shares.map((s, i) => pipeline(s, sink(outs[i]!, i === 0))));
    const texts = outs.map((o) => Buffer.concat(o).toString());
    for (const t of texts) expect(t === '' || t.endsWith('\n')).toBe(true);
    const all = texts.flatMap((t) => t.split('\n').filter(Boolean));
    expect(all.sort()).toEqual(text.split('\n').filter(Boolean).sort());
    // Each share keeps the order of the file (the line number is the row's first column).
    for (const t of texts) {
      const ids = t
        .split('\n')
        .filter((l) => /^\d/.test(l))
        .map((l) => Number(l.split('\t')[0]));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    if (sizes[0] !== 1 << 30) expect(texts.filter((t) => t.length > 0).length).toBe(3);
  });

  test('the source is paused while every share is full: what waits stays bounded', async () => {
    let read = 0;
    const total = 4 << 20;
    const source = new Readable({
      read() {
        if (read >= total) return void this.push(null);
        read += 16384;
        this.push(Buffer.from(`${'y'.repeat(16383)}\n`));
      },
    });
    const shares = splitLines(source, 2, 64 << 10);
    // Nobody reads yet: the source stops once both shares hold their high-water mark (plus a chunk).
    await new Promise((r) => setTimeout(r, 50));
    const waiting = shares.reduce((n, s) => n + s.readableLength, 0);
    expect(waiting).toBeLessThan(2 * (64 << 10) + 2 * 16384 + 1);
    expect(read).toBeLessThan(total);
    const outs: Buffer[][] = [[], []];
    await Promise.all(shares.map((s, i) => pipeline(s, sink(outs[i]!))));
    expect(outs.flat().reduce((n, b) => n + b.length, 0)).toBe(total);
  });

  test('a source that fails fails every share (none ends as if complete); a share destroyed stops the source', async () => {
    const failing = new Readable({ read() {} });
    const shares = splitLines(failing, 2, 1024);
    const ended: string[] = [];
    const errors = shares.map(
      (s, i) =>
        new Promise<string>((resolve) => {
          s.on('end', () => ended.push(`share ${i}`));
          s.on('error', (e) => resolve(e.message));
          s.resume();
        }),
    );
    failing.push(Buffer.from('1\tuno\n2\tdos\n3\tt'));
    failing.destroy(new Error('cut short'));
    expect(await Promise.all(errors)).toEqual(['cut short', 'cut short']);
    expect(ended).toEqual([]);

    const source = new Readable({ read() {} });
    const two = splitLines(source, 2, 1024);
    source.push(Buffer.from('1\tuno\n'));
    two[1]!.destroy();
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed).toBe(true);
  });
});

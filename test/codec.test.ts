import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { CLI_BIN, REPO_ROOT, describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { describe, expect, it, vi } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import type { BlockReader, Manifest } from '../src/core/types.js';
import {
  BlockCompressor,
  codec,
  codecOfEntry,
  compressedBlocks,
  decompressorFor,
  defaultCodecName,
  OutputRoom,
  type CodecName,
} from '../src/engine/codec.js';
import { fileBlockReader } from '../src/core/block-reader.js';
import { storeStream, storeWhole } from '../src/engine/store.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/** Varied, partly compressible bytes (no two blocks alike). */
function sample(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = 12345;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = i % 7 === 0 ? x & 0xff : 97 + (i % 23);
  }
  return out;
}

async function compressFile(name: CodecName, data: Buffer, file: string, blockSize: number): Promise<void> {
  await pipeline(
    Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
    new BlockCompressor({ codec: name, level: 3, blockSize }),
    createWriteStream(file),
  );
}

async function decompressFile(name: CodecName, file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(createReadStream(file), decompressorFor(name), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

// zstd cases skip only on a Node without zstd in node:zlib (before 22.15): the suite runs on Node 24 (.ci/run),
// where they always run; on older Node respaldo writes gzip, which the gzip cases cover.
const zstdHere = codec('zstd').available();
const NO_ZSTD =
  'this Node has no zstd in node:zlib (before 22.15); CI runs Node 24, where the first test fails without it';

/** A Node on this machine without zstd in node:zlib (Node 20 next to the Node 24 the suite runs on), or null. */
function nodeWithoutZstd(): string | null {
  for (const node of ['/usr/bin/node', '/usr/local/bin/node', process.execPath]) {
    try {
      const probe = "process.stdout.write(typeof require('node:zlib').zstdCompress)";
      if (execFileSync(node, ['-e', probe], { encoding: 'utf8' }) === 'undefined') return node;
    } catch {
      // not installed there
    }
  }
  return null;
}

describe('codecs', () => {
  it('zstd is available on the Node CI runs (22.15+, 24), and is then the default codec', () => {
    if (process.env['CI']) expect(zstdHere).toBe(true);
    expect(defaultCodecName()).toBe(zstdHere ? 'zstd' : 'gzip');
  });

  for (const name of ['gzip', 'zstd'] as const) {
    it(`${name}: several blocks round-trip, and the system tool reads the file whole`, async (ctx) => {
      if (name === 'zstd' && !zstdHere) return ctx.skip(NO_ZSTD);
      const dir = makeTmpDir();
      const data = sample(3 * 65536 + 777);
      const file = join(dir, `x${codec(name).extension}`);
      await compressFile(name, data, file, 65536);
      expect((await decompressFile(name, file)).equals(data)).toBe(true);
      const tool = name === 'gzip' ? ['gzip', ['-dc', file]] : ['zstd', ['-dc', '-q', file]];
      const viaTool = execFileSync(tool[0] as string, tool[1] as string[], { maxBuffer: 1 << 26 });
      expect(viaTool.equals(data)).toBe(true);
    });
  }

  for (const name of ['gzip', 'zstd'] as const) {
    it(`${name}: a file read in reused blocks compresses to the same bytes as the stream of it`, async (ctx) => {
      if (name === 'zstd' && !zstdHere) return ctx.skip(NO_ZSTD);
      const dir = makeTmpDir();
      for (const size of [0, 65536, 5 * 65536 + 123]) {
        const data = sample(size);
        const raw = join(dir, `raw-${size}`);
        writeFileSync(raw, data);
        await compressFile(name, data, join(dir, 'streamed'), 65536);
        const seen: number[] = [];
        const frames: Buffer[] = [];
        const opts = { codec: name, level: 3, blockSize: 65536, inFlight: 2, onBytes: (n: number) => seen.push(n) };
        for await (const frame of compressedBlocks(fileBlockReader(raw), opts)) frames.push(frame);
        expect(Buffer.concat(frames).equals(readFileSync(join(dir, 'streamed')))).toBe(true);
        expect(seen.at(-1) ?? 0).toBe(size);
        // storeStream reading the file itself: the same stored bytes and sizes as from the stream
        const viaStream = await storeStream(createReadStream(raw), join(dir, `a-${size}`), {
          compress: true,
          codec: name,
          level: 3,
        });
        const viaFile = await storeStream(createReadStream(raw), join(dir, `b-${size}`), {
          compress: true,
          codec: name,
          level: 3,
          sourceFile: raw,
        });
        expect(viaFile).toEqual(viaStream);
        expect(viaFile.rawBytes).toBe(size);
        if (size > 0) expect((await decompressFile(name, join(dir, `b-${size}`))).equals(data)).toBe(true);
      }
    });
  }

  for (const name of ['gzip', 'zstd'] as const) {
    it(`${name}: read from a BlockReader, a file of one block or less is stored whole, as the stream stores it`, async (ctx) => {
      if (name === 'zstd' && !zstdHere) return ctx.skip(NO_ZSTD);
      const dir = makeTmpDir();
      // Around the sizes that change the way: compressed on this thread (64 KiB), one block (1 MiB), more.
      for (const size of [0, 100, 65536, 65537, 300_000, 1 << 20, (1 << 20) + 5]) {
        const data = sample(size);
        const raw = join(dir, `raw-${size}`);
        writeFileSync(raw, data);
        const opts = { compress: true, codec: name, level: 3 };
        const streamed = await storeStream(createReadStream(raw), join(dir, `s-${size}`), opts);
        const read = await storeStream(fileBlockReader(raw), join(dir, `r-${size}`), opts);
        expect(read).toEqual(streamed);
        expect(readFileSync(join(dir, `r-${size}`)).equals(readFileSync(join(dir, `s-${size}`)))).toBe(true);
        expect(statSync(join(dir, `r-${size}`)).mode & 0o777).toBe(0o600);
      }
      // Never over a file that is there: refused, and the file left as it was.
      writeFileSync(join(dir, 'there'), 'kept');
      await expect(
        storeWhole(sample(10), join(dir, 'there'), { compress: true, codec: name, level: 3 }),
      ).rejects.toThrow(/EEXIST/);
      expect(readFileSync(join(dir, 'there'), 'utf8')).toBe('kept');
    });

    it(`${name}: stopped during the first read of a BlockReader, storeStream still closes it (a SQLite full's check waits for that)`, async (ctx) => {
      if (name === 'zstd' && !zstdHere) return ctx.skip(NO_ZSTD);
      const dir = makeTmpDir();
      const raw = join(dir, 'raw');
      writeFileSync(raw, sample(3 << 20));
      const ac = new AbortController();
      const inner = fileBlockReader(raw);
      let closes = 0;
      // A Ctrl-C while the first block is read: the read ends, the signal is already given when the pipeline starts.
      const reader: BlockReader = {
        async read(into) {
          const n = await inner.read(into);
          ac.abort(new Error('stopped'));
          return n;
        },
        async close() {
          closes++;
          await inner.close();
        },
      };
      await expect(
        storeStream(reader, join(dir, 'out'), { compress: true, codec: name, level: 3, signal: ac.signal }),
      ).rejects.toThrow();
      expect(closes, 'the reader closed').toBe(1);
    });

    it(`${name}: compressedBlocks hands a buffer back to the reader only once its block is compressed`, async (ctx) => {
      if (name === 'zstd' && !zstdHere) return ctx.skip(NO_ZSTD);
      const blockSize = 65536;
      const blocks = 40;
      const data = sample(blocks * blockSize - 5000); // 40 blocks, each different, the last shorter
      const lent = new Map<Buffer, number>(); // buffer → the block last read into it
      let yielded = 0;
      const early: string[] = [];
      let pos = 0;
      let closed = 0;
      const reader: BlockReader = {
        async read(into) {
          // A buffer given again must hold a block whose frame the consumer already has.
          const last = lent.get(into);
          if (last !== undefined && last >= yielded) early.push(`block ${last} (${yielded} frames out)`);
          await new Promise((r) => setImmediate(r));
          const n = data.copy(into, 0, pos, pos + into.length);
          lent.set(into, Math.floor(pos / blockSize));
          pos += n;
          return n;
        },
        async close() {
          closed++;
        },
      };
      const frames: Buffer[] = [];
      for await (const frame of compressedBlocks(reader, { codec: name, level: 3, blockSize, inFlight: 3 })) {
        frames.push(frame);
        yielded++;
      }
      expect(early).toEqual([]);
      expect(new Set(lent.keys()).size).toBe(3); // inFlight buffers, reused
      expect(closed).toBe(1);
      expect(frames).toHaveLength(blocks);
      const dir = makeTmpDir();
      writeFileSync(join(dir, 'x'), Buffer.concat(frames));
      expect((await decompressFile(name, join(dir, 'x'))).equals(data)).toBe(true);
    });
  }

  it('compressedBlocks keeps its buffers from one file to the next: 50 small files read into 3 buffers', async (ctx) => {
    if (!zstdHere) return ctx.skip(NO_ZSTD);
    // A directory dump of 5000 small tables stores 5000 files: a new block buffer for each was most of the create's
    // garbage collection. A large file first (its three buffers filled), then small ones: each stored file holds its
    // own bytes, not what a buffer held before.
    const blockSize = 32768 + 7; // a size of its own: no other test's buffers
    const buffers = new Set<Buffer>();
    const dir = makeTmpDir();
    const files = [sample(3 * blockSize + 100), ...Array.from({ length: 49 }, (_, i) => sample(100 + i).reverse())];
    for (const [i, data] of files.entries()) {
      let pos = 0;
      const reader: BlockReader = {
        async read(into) {
          buffers.add(into);
          const n = data.copy(into, 0, pos, pos + into.length);
          pos += n;
          return n;
        },
        async close() {},
      };
      const frames: Buffer[] = [];
      for await (const frame of compressedBlocks(reader, { codec: 'zstd', level: 3, blockSize, inFlight: 3 }))
        frames.push(frame);
      writeFileSync(join(dir, `${i}.zst`), Buffer.concat(frames));
      expect((await decompressFile('zstd', join(dir, `${i}.zst`))).equals(data), `file ${i}`).toBe(true);
    }
    expect(buffers.size).toBe(3);
  });

  it('zstd: a file written by the zstd tool is read; a flipped byte is an error, not wrong data', async (ctx) => {
    if (!zstdHere) return ctx.skip(NO_ZSTD);
    const dir = makeTmpDir();
    const data = sample(200_000);
    writeFileSync(join(dir, 'raw'), data);
    execFileSync('zstd', ['-q', '-3', join(dir, 'raw'), '-o', join(dir, 'raw.zst')]);
    expect((await decompressFile('zstd', join(dir, 'raw.zst'))).equals(data)).toBe(true);
    await compressFile('zstd', data, join(dir, 'ours.zst'), 65536);
    const bad = readFileSync(join(dir, 'ours.zst'));
    bad[Math.floor(bad.length / 2)]! ^= 0x40;
    writeFileSync(join(dir, 'bad.zst'), bad);
    await expect(decompressFile('zstd', join(dir, 'bad.zst'))).rejects.toThrow();
  });

  it("zstd: each block is one frame made in one call, the bytes of zstd's one-shot compression", async (ctx) => {
    if (!zstdHere) return ctx.skip(NO_ZSTD);
    const C = zlib.constants as Record<string, number>;
    const oneShot = (b: Buffer, level: number) =>
      (zlib as unknown as { zstdCompressSync: (b: Buffer, o: object) => Buffer }).zstdCompressSync(b, {
        params: { [C['ZSTD_c_compressionLevel']!]: level, [C['ZSTD_c_checksumFlag']!]: 1 },
        pledgedSrcSize: b.length,
      });
    const processChunk = vi.spyOn(
      Object.getPrototypeOf((zlib as unknown as { createZstdCompress: () => object }).createZstdCompress()),
      '_processChunk',
    );
    const dir = makeTmpDir();
    for (const [what, block] of [
      ['empty', Buffer.alloc(0)],
      ['one byte', Buffer.from([7])],
      ['text', sample(1 << 20)],
      ['incompressible', randomBytes(1 << 20)],
      ['a short last block', sample(123_457)],
    ] as const) {
      for (const level of [1, 3, 19]) {
        const frame = await codec('zstd').compressBlock(block, level);
        expect(frame.equals(oneShot(block, level)), `${what}, level ${level}`).toBe(true);
      }
      writeFileSync(join(dir, 'f.zst'), await codec('zstd').compressBlock(block, 3));
      expect(execFileSync('zstd', ['-d', '-q', '-c', join(dir, 'f.zst')]).equals(block), what).toBe(true);
    }
    // This Node keeps the call the fast way needs. (zstdCompress, which streams the block, makes other bytes.)
    expect(processChunk).toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it('a block whose member/frame outgrows the output room it was given comes whole, in the buffers joined', async () => {
    const dir = makeTmpDir();
    for (const block of [sample(1 << 20), randomBytes(1 << 20)]) {
      // gzip writes the same member whatever the room.
      const member = await codec('gzip').compressBlock(block, 3);
      for (const room of [64, 4096, member.length - 1])
        expect((await codec('gzip').compressBlock(block, 3, room)).equals(member), `gzip, room ${room}`).toBe(true);
      if (!zstdHere) continue;
      // zstd compresses in one pass only into room for the whole block: with less it streams, other bytes of one
      // frame that still holds the block's size (the frames are then decoded whole, in parallel: zstd-frames.ts).
      for (const room of [64, 4096, 300_000]) {
        const frame = await codec('zstd').compressBlock(block, 3, room);
        writeFileSync(join(dir, 'f.zst'), frame);
        expect(execFileSync('zstd', ['-d', '-q', '-c', join(dir, 'f.zst')]).equals(block), `room ${room}`).toBe(true);
        expect(execFileSync('zstd', ['-l', '-v', join(dir, 'f.zst')]).toString()).toMatch(
          new RegExp(`Decompressed Size: .* \\(${block.length} B\\)`),
        );
      }
    }
  });

  it("each block's output room follows what the stream's last blocks compressed to, in 256 KiB steps", () => {
    const block = Buffer.alloc(1 << 20);
    const full = block.length + (block.length >> 7) + 1024;
    const room = new OutputRoom();
    for (const size of [90_000, 120_000, 100_000]) {
      expect(room.next(block)).toBe(full); // fewer than four seen: room for the whole block
      room.saw(size);
    }
    expect(room.next(block)).toBe(full);
    room.saw(80_000);
    expect(room.next(block)).toBe(256 << 10); // 120 000 × 1.25 + 16 KiB, up to a step
    for (const size of [300_000, 10, 10, 10]) room.saw(size);
    expect(room.next(block)).toBe(512 << 10); // the largest of the last four
    room.saw(10);
    expect(room.next(block)).toBe(256 << 10); // 300 000 is five blocks back
    for (const size of [1 << 20, 1 << 20, 1 << 20, 1 << 20]) room.saw(size);
    expect(room.next(block)).toBe(full); // never more than the whole block needs
    expect(room.next(Buffer.alloc(1000))).toBe(1000 + 7 + 1024);
  });

  it('without zstd in Node, reading a zstd file is an operator error naming the Node to use', (ctx) => {
    if (!zstdHere) {
      expect(() => decompressorFor('zstd')).toThrow(RespaldoError);
      expect(() => decompressorFor('zstd')).toThrow(/Node/);
      return;
    }
    // This Node has zstd: the same check through the built code on a Node that has not (the machine's Node 20).
    const older = nodeWithoutZstd();
    if (!older) return ctx.skip(NO_ZSTD); // every Node on this machine has zstd: nothing to check against
    const script = `import(${JSON.stringify(join(REPO_ROOT, 'dist', 'engine', 'codec.js'))}).then((m) => {
      try { m.decompressorFor('zstd'); console.log('no error'); } catch (e) { console.log(e.kind, e.message, e.hint); }
    })`;
    const out = execFileSync(older, ['-e', script], { encoding: 'utf8' });
    expect(out).toMatch(/^failed .*zstd.*Node/);
  });

  it('a drill on a Node that cannot read the set (zstd on Node 20) does not run: not recorded as a failed drill', async (ctx) => {
    const older = nodeWithoutZstd();
    if (!zstdHere || !older) return ctx.skip(NO_ZSTD); // needs both: a zstd set made here, read by a Node without it
    const s = demoSetup();
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    expect(m.databases[0]!.codec).toBe('zstd');
    const r = spawnSync(older, [CLI_BIN, 'drill', m.id, '--files', '--config', s.configFile], {
      cwd: s.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(7);
    expect(r.stderr).toMatch(/^respaldo: This set is compressed with zstd, which Node 20\.\S+ cannot read\./m);
    expect(r.stderr).toMatch(/^hint: Run respaldo on Node 22\.15 or later/m);
    expect(existsSync(join(s.backupDir, m.id, 'drilled.json'))).toBe(false);
  }, 120_000);

  it('entries without a codec field are gzip (sets made before zstd); uncompressed entries have none', () => {
    expect(codecOfEntry({ compressed: true })?.name).toBe('gzip');
    expect(codecOfEntry({ compressed: true, codec: 'zstd' })?.name).toBe('zstd');
    expect(codecOfEntry({ compressed: false, codec: 'zstd' })).toBeNull();
  });
});

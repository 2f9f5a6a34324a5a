import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BlockCompressor, codec, decompressorFor } from '../src/engine/codec.js';
import { FrameSplitter, ParallelZstdDecompressor } from '../src/engine/zstd-frames.js';
import { makeTmpDir } from './helpers/tmp.js';

const zstdHere = codec('zstd').available();
const streaming = (): Transform =>
  (zlib as unknown as { createZstdDecompress: () => Transform }).createZstdDecompress();

/** Varied, partly compressible bytes (no two blocks alike). */
function sample(bytes: number, seed = 12345): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = i % 7 === 0 ? x & 0xff : 97 + (i % 23);
  }
  return out;
}

/** `data` compressed by respaldo's compressor, in blocks of `blockSize`. */
async function ours(data: Buffer, blockSize = 1 << 20): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([data]), new BlockCompressor({ codec: 'zstd', level: 3, blockSize }), async (s) => {
    for await (const c of s as AsyncIterable<Buffer>) out.push(c);
  });
  return Buffer.concat(out);
}

/** `data` compressed by the zstd tool with `args`, from a file (sizes in the frame header) or from stdin. */
function viaTool(data: Buffer, args: string[], fromStdin = false): Buffer {
  if (fromStdin) return execFileSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 1 << 28 });
  const file = join(makeTmpDir(), 'raw');
  writeFileSync(file, data);
  return execFileSync('zstd', ['-q', '-c', ...args, file], { maxBuffer: 1 << 28 });
}

/** What `decoder` makes of `input` fed in chunks of `chunk` bytes: the output, or the error. */
async function decode(decoder: Transform, input: Buffer, chunk = 1 << 20): Promise<Buffer | Error> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  try {
    await pipeline(Readable.from(parts), decoder, async (s) => {
      for await (const c of s as AsyncIterable<Buffer>) out.push(c);
    });
    return Buffer.concat(out);
  } catch (err) {
    return err as Error;
  }
}

/** The two results are the same bytes, or both errors (toEqual on MiB-sized buffers is very slow). */
function same(a: Buffer | Error, b: Buffer | Error): boolean {
  return a instanceof Buffer && b instanceof Buffer ? a.equals(b) : a instanceof Error && b instanceof Error;
}

describe.skipIf(!zstdHere)('zstd frames decoded on every core', () => {
  it('round-trips empty, one byte, one block, many blocks and a partial one, and incompressible data', async () => {
    const cases: [string, Buffer, number][] = [
      ['empty', Buffer.alloc(0), 65536],
      ['one byte', Buffer.from('x'), 65536],
      ['exactly one block', sample(65536), 65536],
      ['many blocks and a partial one', sample(9 * 65536 + 321), 65536],
      ['1 MiB frames', sample(3 * (1 << 20) + 4097), 1 << 20],
      ['incompressible (raw blocks)', randomBytes(5 * 65536 + 17), 65536],
      // Frames across input chunks are gathered into pooled buffers, reused after their frames were decoded.
      ['9 incompressible 1 MiB frames', randomBytes(9 * (1 << 20) + 123), 1 << 20],
      ['all zeros (RLE blocks)', Buffer.alloc(4 * 65536 + 5), 65536],
    ];
    for (const [what, data, blockSize] of cases) {
      const file = await ours(data, blockSize);
      for (const chunk of [1 << 20, 4093, 7]) {
        if (chunk === 7 && file.length > 200_000) continue;
        const out = await decode(decompressorFor('zstd'), file, chunk);
        expect(out instanceof Buffer && out.equals(data), `${what}, chunks of ${chunk}`).toBe(true);
      }
      // The same as one stream gives; except that an empty file is empty, where the stream says it ends early.
      if (data.length)
        expect(same(await decode(streaming(), file), await decode(decompressorFor('zstd'), file))).toBe(true);
    }
  });

  it('reads files of the zstd tool: one frame with sizes, -T2, from stdin without sizes, no checksum', async () => {
    const small = sample(300_000);
    const big = sample(6 * (1 << 20) + 99, 777); // more than the 4 MiB a frame may decode to on the pool
    const files: [string, Buffer, Buffer][] = [
      ['one small frame', viaTool(small, ['-3']), small],
      ['one big frame (-T2)', viaTool(big, ['-3', '-T2']), big],
      ['big, from stdin (-T2)', viaTool(big, ['-3', '-T2'], true), big],
      ['small, from stdin, no checksum', viaTool(small, ['-1', '--no-check'], true), small],
      ['level 19', viaTool(small, ['-19']), small],
    ];
    for (const [what, file, data] of files) {
      for (const chunk of [1 << 20, 65536, 1000]) {
        const out = await decode(decompressorFor('zstd'), file, chunk);
        expect(out instanceof Buffer && out.equals(data), `${what}, chunks of ${chunk}`).toBe(true);
      }
    }
    // Our frames, a skippable frame, a frame too big for the pool, then small frames again: all of it, in order.
    const skippable = Buffer.alloc(8 + 10, 0xaa);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(10, 4);
    const first = sample(200_000, 1);
    const mixed = Buffer.concat([await ours(first, 65536), skippable, files[1]![1], viaTool(small, ['-3'])]);
    const want = Buffer.concat([first, big, small]);
    const out = await decode(decompressorFor('zstd'), mixed, 100_000);
    expect(out instanceof Buffer && out.equals(want)).toBe(true);
    const skipFirst = await decode(decompressorFor('zstd'), Buffer.concat([skippable, await ours(first, 65536)]), 5);
    expect(skipFirst instanceof Buffer && skipFirst.equals(first)).toBe(true);
  });

  it('a file cut anywhere or with a byte flipped anywhere is an error, or decodes to what was stored', async () => {
    const data = sample(3 * 4096 + 100);
    const file = await ours(data, 4096);
    const frameEnds = new Set<number>();
    for (let end = 0, i = 0; i < 3; i++)
      frameEnds.add((end += (await ours(data.subarray(i * 4096, i * 4096 + 4096))).length));
    for (let cut = 1; cut < file.length; cut++) {
      const part = file.subarray(0, cut);
      const mine = await decode(decompressorFor('zstd'), part, 97);
      const theirs = await decode(streaming(), part);
      if (theirs instanceof Error) expect(mine, `cut at ${cut}`).toBeInstanceOf(Error);
      // Between frames, the cut is invisible to zstd; anywhere else it is an error (one stream misses a few).
      if (frameEnds.has(cut)) expect(same(mine, theirs), `cut at ${cut}`).toBe(true);
      else expect(mine, `cut at ${cut}`).toBeInstanceOf(Error);
    }
    const cutInFrame = await decode(decompressorFor('zstd'), file.subarray(0, file.length - 2));
    expect((cutInFrame as Error).message).toMatch(/ends inside a frame: the file is truncated/);

    let flippedAndDecoded = 0;
    for (let at = 0; at < file.length; at++) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x40;
      const mine = await decode(decompressorFor('zstd'), bad, 512);
      const theirs = await decode(streaming(), bad);
      if (theirs instanceof Error) expect(mine, `flip at ${at}`).toBeInstanceOf(Error);
      if (mine instanceof Error) continue;
      expect(mine.equals(data), `flip at ${at}`).toBe(true); // a bit zstd does not read (such as the window's)
      flippedAndDecoded++;
    }
    expect(flippedAndDecoded).toBeLessThan(file.length / 20);
    const noMagic = Buffer.from(file);
    noMagic[frameEnds.values().next().value! + 3]! ^= 0x40;
    expect(await decode(streaming(), noMagic)).toBeInstanceOf(Buffer); // one stream stops there, short and quiet
    expect(((await decode(decompressorFor('zstd'), noMagic)) as Error).message).toMatch(/damaged: no zstd frame/);
  });

  it('a slow reader holds it back: a few frames in flight, whatever the compression ratio', async () => {
    // Incompressible frames, one per input chunk: the input read ahead of the output stays a few frames.
    const block = 65536;
    const frames: Buffer[] = [];
    for (let i = 0; i < 40; i++) frames.push(await codec('zstd').compressBlock(randomBytes(block), 3));
    let pulled = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (const f of frames) {
        pulled++;
        yield f;
      }
    }
    const dec = new ParallelZstdDecompressor({ inFlight: 3 });
    let consumed = 0;
    let mostAhead = 0;
    await pipeline(Readable.from(source(), { objectMode: false }), dec, async (s) => {
      for await (const c of s as AsyncIterable<Buffer>) {
        consumed += c.length;
        mostAhead = Math.max(mostAhead, pulled * block - consumed);
        await delay(3);
      }
    });
    expect(consumed).toBe(40 * block);
    expect(mostAhead).toBeLessThanOrEqual(9 * block);
    // Frames of zeros (a few bytes each) in one input chunk: the decoded output waits for the reader.
    const zeros = Buffer.concat(
      await Promise.all(Array.from({ length: 200 }, () => codec('zstd').compressBlock(Buffer.alloc(block), 3))),
    );
    const dec2 = new ParallelZstdDecompressor({ inFlight: 3, batchOutput: 2 * block });
    let mostBuffered = 0;
    let total = 0;
    await pipeline(Readable.from([zeros]), dec2, async (s) => {
      for await (const c of s as AsyncIterable<Buffer>) {
        total += c.length;
        mostBuffered = Math.max(mostBuffered, c.length + dec2.readableLength); // the iterator reads all there is
        await delay(1);
      }
    });
    expect(total).toBe(200 * block);
    expect(mostBuffered).toBeLessThanOrEqual(4 * block);
  });

  it('frames too big for the pool are streamed, with the same result', async () => {
    const data = sample(5 * 65536 + 3);
    const file = await ours(data, 65536);
    const small = new ParallelZstdDecompressor({ maxFrameOutput: 32768 });
    const out = await decode(small, file, 10_000);
    expect(out instanceof Buffer && out.equals(data)).toBe(true);
    const cut = await decode(new ParallelZstdDecompressor({ maxFrameOutput: 32768 }), file.subarray(0, -1));
    expect(cut).toBeInstanceOf(Error);
  });

  it('a stored file decodes the same on the pool as through one stream; its frames hold their sizes', async () => {
    const dir = makeTmpDir();
    const data = sample(2 * (1 << 20) + 5);
    writeFileSync(join(dir, 'x.zst'), await ours(data));
    const file = readFileSync(join(dir, 'x.zst'));
    expect(same(await decode(decompressorFor('zstd'), file), await decode(streaming(), file))).toBe(true);
    // Each frame says how much it holds (zstd then decodes it straight into one buffer of that size).
    const splitter = new FrameSplitter(4 << 20);
    splitter.push(file);
    const sizes: number[] = [];
    for (let f = splitter.next(); typeof f !== 'string'; f = splitter.next()) sizes.push(f.maxOutput);
    expect(sizes).toEqual([1 << 20, 1 << 20, 5]);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPath, hashPathFlat } from '../src/engine/store.js';
import { makeTmpDir } from './helpers/tmp.js';

const digest = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');

describe('hashPath (verify)', () => {
  it.each([
    ['a small file, one pass', 100_000],
    ['a large file, md5 in a worker and sha256 here', 20 << 20],
  ])('%s: the digests of the whole file, progress up to its size', async (_name, size) => {
    const data = randomBytes(size);
    const file = join(makeTmpDir(), 'stored.zst');
    writeFileSync(file, data);
    const seen: number[] = [];
    const h = await hashPath(file, size, (n) => seen.push(n));
    expect(h).toEqual({ bytes: size, md5: digest('md5', data), sha256: digest('sha256', data) });
    expect(seen.at(-1)).toBe(size);
  });

  it('a flipped byte in the middle of a large file changes both digests', async () => {
    const data = randomBytes(12 << 20);
    const file = join(makeTmpDir(), 'stored.gz');
    writeFileSync(file, data);
    const good = await hashPath(file, data.length);
    data[6 << 20]! ^= 1;
    writeFileSync(file, data);
    const bad = await hashPath(file, data.length);
    expect(bad.md5).not.toBe(good.md5);
    expect(bad.sha256).not.toBe(good.sha256);
    expect(bad).toEqual({ bytes: data.length, md5: digest('md5', data), sha256: digest('sha256', data) });
  });

  it('a missing large file rejects (the worker error reaches the caller)', async () => {
    await expect(hashPath(join(makeTmpDir(), 'gone'), 50 << 20)).rejects.toThrow(/ENOENT|no such file/);
  });
});

describe('hashPathFlat (restore: one read, one reused buffer)', () => {
  it.each([
    ['an empty file', 0],
    ['a file smaller than the buffer', 100_000],
    ['a file of several buffers and a partial one', (3 << 20) + 12345],
  ])('%s: the digests of the whole file, progress up to its size', async (_name, size) => {
    const data = randomBytes(size);
    const file = join(makeTmpDir(), 'stored.zst');
    writeFileSync(file, data);
    const seen: number[] = [];
    const h = await hashPathFlat(file, (n) => seen.push(n));
    expect(h).toEqual({ bytes: size, md5: digest('md5', data), sha256: digest('sha256', data) });
    expect(seen.at(-1) ?? 0).toBe(size);
  });

  it('a missing file rejects', async () => {
    await expect(hashPathFlat(join(makeTmpDir(), 'gone'))).rejects.toThrow(/ENOENT/);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MD5_THREADS, READ_BYTES, hashStoredFile } from '../src/engine/hash-file.js';
import { mapLimited } from '../src/engine/limited.js';
import { makeTmpDir } from './helpers/tmp.js';

const digest = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');

describe('hashStoredFile (verify: one read pass, two reused buffers)', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['one byte short of a read', READ_BYTES - 1],
    ['exactly one read', READ_BYTES],
    ['one byte over a read', READ_BYTES + 1],
    ['several reads and a tail', 3 * READ_BYTES + 12345],
  ])('%s: the digests of the whole file, progress rising to its size', async (_name, size) => {
    const data = randomBytes(size);
    const file = join(makeTmpDir(), 'stored.zst');
    writeFileSync(file, data);
    const seen: number[] = [];
    const h = await hashStoredFile(file, (n) => seen.push(n));
    expect(h).toEqual({ bytes: size, md5: digest('md5', data), sha256: digest('sha256', data) });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1) ?? 0).toBe(size);
  });

  it('a flipped byte in the second buffer changes both digests', async () => {
    const data = randomBytes(2 * READ_BYTES + 7);
    const file = join(makeTmpDir(), 'stored.gz');
    writeFileSync(file, data);
    const good = await hashStoredFile(file);
    data[READ_BYTES + 3]! ^= 1;
    writeFileSync(file, data);
    const bad = await hashStoredFile(file);
    expect(bad.md5).not.toBe(good.md5);
    expect(bad.sha256).not.toBe(good.sha256);
    expect(bad).toEqual({ bytes: data.length, md5: digest('md5', data), sha256: digest('sha256', data) });
  });

  describe('large files: MD5 on a second thread over shared buffers', () => {
    /** The size from which the MD5 runs on a thread, in these tests (the default is 128 MiB). */
    const MD5_THREAD_MIN_BYTES = 8 * READ_BYTES;
    it.each([
      ['one byte under the threshold (one thread)', MD5_THREAD_MIN_BYTES - 1],
      ['exactly the threshold', MD5_THREAD_MIN_BYTES],
      ['many times round the shared buffers, and a tail', MD5_THREAD_MIN_BYTES + 13 * READ_BYTES + 4321],
    ])('%s: the digests of the whole file, progress rising to its size', async (_name, size) => {
      const data = randomBytes(size);
      const file = join(makeTmpDir(), 'big.zst');
      writeFileSync(file, data);
      const seen: number[] = [];
      const h = await hashStoredFile(file, (n) => seen.push(n), MD5_THREAD_MIN_BYTES);
      expect(h).toEqual({ bytes: size, md5: digest('md5', data), sha256: digest('sha256', data) });
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen.at(-1)).toBe(size);
    });

    it('a flipped byte in a buffer reused many times changes both digests; files hashed at once do not mix', async () => {
      // More files at once than MD5 threads: some hash on this thread, the threads are reused after.
      const size = MD5_THREAD_MIN_BYTES + 9 * READ_BYTES;
      const original = randomBytes(size);
      const files = Array.from({ length: MD5_THREADS + 2 }, (_, i) => {
        const data = Buffer.from(original);
        if (i > 0) data[size - 2 * READ_BYTES + 11 * i]! ^= 0x40;
        return data;
      });
      const dir = makeTmpDir();
      files.forEach((data, i) => writeFileSync(join(dir, `f${i}`), data));
      for (let round = 0; round < 2; round++) {
        const got = await Promise.all(
          files.map((_, i) => hashStoredFile(join(dir, `f${i}`), undefined, MD5_THREAD_MIN_BYTES)),
        );
        got.forEach((h, i) =>
          expect(h).toEqual({ bytes: size, md5: digest('md5', files[i]!), sha256: digest('sha256', files[i]!) }),
        );
        expect(new Set(got.map((h) => h.md5)).size).toBe(files.length);
      }
    });
  });

  it('a missing file rejects with ENOENT', async () => {
    await expect(hashStoredFile(join(makeTmpDir(), 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('mapLimited', () => {
  /** Work that records how many run at once; each item settles when the test releases it. */
  function gated() {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const release = new Map<number, (fail?: Error) => void>();
    const work = (n: number) =>
      new Promise<number>((resolve, reject) => {
        running++;
        most = Math.max(most, running);
        started.push(n);
        release.set(n, (fail) => {
          running--;
          if (fail) reject(fail);
          else resolve(n * 10);
        });
      });
    const settle = async (n: number, fail?: Error) => {
      await waitFor(() => release.has(n));
      release.get(n)!(fail);
    };
    return { work, settle, started, most: () => most };
  }
  const waitFor = async (ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setImmediate(r));
    if (!ok()) throw new Error('condition never held');
  };

  it('runs at most `limit` at once and returns results in item order', async () => {
    const g = gated();
    const all = mapLimited([1, 2, 3, 4, 5], 2, g.work);
    await g.settle(2);
    await g.settle(3);
    await g.settle(1);
    await g.settle(5);
    await g.settle(4);
    await expect(all).resolves.toEqual([10, 20, 30, 40, 50]);
    expect(g.most()).toBe(2);
  });

  it('after a failure starts nothing new and rejects with it once the running ones settle', async () => {
    const g = gated();
    const all = mapLimited([1, 2, 3, 4], 2, g.work);
    await g.settle(1, new Error('disk gone'));
    await g.settle(2);
    await expect(all).rejects.toThrow('disk gone');
    expect(g.started).toEqual([1, 2]);
  });

  it('an empty list resolves to an empty list', async () => {
    await expect(mapLimited([], 4, () => Promise.resolve(1))).resolves.toEqual([]);
  });
});

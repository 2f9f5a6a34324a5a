import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashStoredFile } from '../src/engine/hash-file.js';
import { THREAD_MIN_BYTES, hashThreadsReady, hashWholeFile, stopHashThreads } from '../src/engine/hash-pool.js';
import { makeTmpDir } from './helpers/tmp.js';

const digest = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');
const MiB = 1 << 20;

/** A `here` that fails the test if the file was hashed on this thread instead of a hashing thread. */
const notHere = () => Promise.reject(new Error('hashed on the main thread, a hashing thread was expected'));

/** Slowly, as the main thread would: resolves once `release` is called. */
function heldHere() {
  let release!: () => void;
  const held = new Promise<{ bytes: number; sha256: string }>((r) => (release = () => r({ bytes: 0, sha256: '' })));
  return { here: () => held, release };
}

/** Two large files at once on the main thread start a thread; waits until it runs. */
async function warmPool(): Promise<void> {
  const file = join(makeTmpDir(), 'warm');
  writeFileSync(file, Buffer.alloc(THREAD_MIN_BYTES));
  const first = heldHere();
  const one = hashWholeFile(file, THREAD_MIN_BYTES, { md5: false }, first.here);
  await hashWholeFile(file, THREAD_MIN_BYTES, { md5: false }, async () => ({ bytes: 0, sha256: '' }));
  first.release();
  await one;
  await hashThreadsReady();
}

describe('hashWholeFile: large files hashed on worker threads', () => {
  // First: the threads of this file's process are started by the tests after it.
  it('one large file at a time is hashed by the caller and starts no thread (it would cost more than it saves)', async () => {
    const file = join(makeTmpDir(), 'alone');
    writeFileSync(file, randomBytes(THREAD_MIN_BYTES + 1));
    for (let i = 0; i < 2; i++) {
      const mine = { bytes: 1, sha256: 'mine' };
      expect(await hashWholeFile(file, THREAD_MIN_BYTES + 1, { md5: true }, async () => mine)).toBe(mine);
    }
    expect(await hashThreadsReady()).toEqual({ threads: 0, filesHashed: 0 });
  });

  it.each([
    ['exactly the threshold', THREAD_MIN_BYTES],
    ['several progress reports and a tail', THREAD_MIN_BYTES + 9 * MiB + 4321],
  ])('%s: on a thread once one runs, the digests of the whole file, progress rising to its size', async (_n, size) => {
    await warmPool();
    const data = randomBytes(size);
    const file = join(makeTmpDir(), 'stored.zst');
    writeFileSync(file, data);
    const before = (await hashThreadsReady()).filesHashed;
    const seen: number[] = [];
    const h = await hashWholeFile(file, size, { md5: true, onBytes: (n) => seen.push(n) }, notHere);
    expect(h).toEqual({ bytes: size, md5: digest('md5', data), sha256: digest('sha256', data) });
    expect((await hashThreadsReady()).filesHashed).toBe(before + 1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(size);
  });

  it('below the threshold, and before any thread runs, the file is hashed by the caller', async () => {
    const file = join(makeTmpDir(), 'small');
    writeFileSync(file, randomBytes(THREAD_MIN_BYTES - 1));
    let here = 0;
    const mine = { bytes: 1, sha256: 'mine' };
    const h = await hashWholeFile(file, THREAD_MIN_BYTES - 1, { md5: false }, async () => (here++, mine));
    expect(h).toBe(mine);
    expect(here).toBe(1);
  });

  it('without md5 only the SHA-256; many files at once each get their own digests', async () => {
    await warmPool();
    const dir = makeTmpDir();
    const size = THREAD_MIN_BYTES + 3 * MiB;
    const original = randomBytes(size);
    const files = Array.from({ length: 6 }, (_, i) => {
      const data = Buffer.from(original);
      data[size - MiB + 17 * i]! ^= i;
      writeFileSync(join(dir, `f${i}`), data);
      return data;
    });
    const got = await Promise.all(
      files.map((_, i) =>
        hashWholeFile(join(dir, `f${i}`), size, { md5: false }, async () => {
          const data = files[i]!;
          return { bytes: data.length, sha256: digest('sha256', data) };
        }),
      ),
    );
    got.forEach((h, i) => expect(h).toEqual({ bytes: size, sha256: digest('sha256', files[i]!) }));
    expect(new Set(got.map((h) => h.sha256)).size).toBe(files.length);
  });

  it('a file gone on the thread rejects with ENOENT; a stop rejects with the reason; the thread hashes on after', async () => {
    await warmPool();
    const dir = makeTmpDir();
    await expect(hashWholeFile(join(dir, 'gone'), THREAD_MIN_BYTES, { md5: true }, notHere)).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });

    const big = join(dir, 'big');
    const data = randomBytes(64 * MiB);
    writeFileSync(big, data);
    const abort = new AbortController();
    const cut = hashWholeFile(big, data.length, { md5: true, signal: abort.signal }, notHere);
    abort.abort(new Error('operator pressed q'));
    await expect(cut).rejects.toThrow('operator pressed q');
    await expect(hashWholeFile(big, data.length, { md5: false }, notHere)).resolves.toEqual({
      bytes: data.length,
      sha256: digest('sha256', data),
    });
  });

  it('a thread that dies in the middle of a file: the caller hashes it instead; a later file starts another', async () => {
    await warmPool();
    const big = join(makeTmpDir(), 'big');
    const data = Buffer.alloc(128 * MiB, 7); // its MD5 takes the thread a quarter of a second or more
    writeFileSync(big, data);
    let here = 0;
    const mine = { bytes: data.length, md5: digest('md5', data), sha256: digest('sha256', data) };
    // The file is handed to the thread synchronously; the thread is ended microseconds later, mid-file.
    const cut = hashWholeFile(big, data.length, { md5: true }, async () => (here++, mine));
    await stopHashThreads();
    expect(await cut).toBe(mine);
    expect(here).toBe(1);
    expect((await hashThreadsReady()).threads).toBe(0);
    await warmPool();
    expect((await hashThreadsReady()).threads).toBe(1);
    await expect(hashWholeFile(big, data.length, { md5: true }, notHere)).resolves.toEqual(mine);
  });

  it('verify (hashStoredFile) hashes on the threads: a set of several large files uses every core', async () => {
    await warmPool();
    const data = randomBytes(THREAD_MIN_BYTES + MiB);
    const stored = join(makeTmpDir(), 'blob.zst');
    writeFileSync(stored, data);
    const before = (await hashThreadsReady()).filesHashed;
    expect(await hashStoredFile(stored)).toEqual({
      bytes: data.length,
      md5: digest('md5', data),
      sha256: digest('sha256', data),
    });
    expect((await hashThreadsReady()).filesHashed).toBe(before + 1);
  });
});

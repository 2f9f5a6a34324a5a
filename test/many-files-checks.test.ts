/**
 * Passes over every stored file of a set of many files, as a restore from a destination makes them: the sizes of the
 * fetched files are looked up with one stat each (a file that cannot be looked at is missing, as existsSync said),
 * and the check of their paths collects what the fetch before it left before it holds every path.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { FileEntry } from '../src/core/types.js';
import { silentReporter } from '../src/core/events.js';
import { VerifyError } from '../src/core/errors.js';

vi.mock('../src/engine/garbage.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/engine/garbage.js')>();
  return { ...real, heldYoung: vi.fn(real.heldYoung) };
});
const { BIG_KEEP, heldYoung } = await import('../src/engine/garbage.js');
const { checkFiles } = await import('../src/engine/verify.js');
const { checkFileEntries } = await import('../src/engine/restore-files.js');

const dir = mkdtempSync(join(tmpdir(), 'respaldo-turns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (relative: string): FileEntry => ({
  group: 'application',
  source: `/srv/app/${relative}`,
  relative,
  kind: 'file',
  stored: `files/application/${relative}`,
  linkTarget: null,
  size: 1,
  mode: 0o644,
  mtime: '2026-12-07T10:00:00.000Z',
  md5: 'd41d8cd98f00b204e9800998ecf8427e',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
});

describe('checkFiles of files fetched already (hash: false)', () => {
  it('finds each file there with its size, one missing, and one below a file (ENOTDIR) missing too', async () => {
    mkdirSync(join(dir, 'set', 'files'), { recursive: true });
    const count = 3000;
    for (let i = 0; i < count; i++) writeFileSync(join(dir, 'set', 'files', `f${i}`), 'x');
    // Application files record no stored size (bytes: null): each one's is looked up on disk, for the progress's
    // total and again when checked.
    const expected = [...Array.from({ length: count + 1 }, (_, i) => `files/f${i}`), 'files/f0/below'].map((path) => ({
      path,
      bytes: null,
      md5: 'm',
      sha256: 's',
    }));
    const result = await checkFiles(join(dir, 'set'), expected, silentReporter, { hash: false });
    expect(result.filter((c) => c.ok)).toHaveLength(count);
    expect(result.filter((c) => c.ok).every((c) => c.bytes === 1)).toBe(true);
    expect(result.filter((c) => !c.ok)).toEqual([
      { path: `files/f${count}`, ok: false, problem: 'missing', bytes: 0 },
      { path: 'files/f0/below', ok: false, problem: 'missing', bytes: 0 },
    ]);
  });
});

describe('checkFileEntries', () => {
  it('collects first when it holds the paths of many entries, not of a few', () => {
    const spy = vi.mocked(heldYoung);
    const keptFor = (count: number): number => {
      spy.mockClear();
      const entries = Array.from({ length: count }, (_, i) => entry(`d${i >> 9}/f${i}`));
      checkFileEntries(entries, [], count);
      expect(spy).toHaveBeenCalledTimes(1);
      return spy.mock.calls[0]![1]!;
    };
    // heldYoung collects what was left before the work when told it keeps BIG_KEEP bytes or more.
    expect(keptFor(100_000)).toBeGreaterThanOrEqual(BIG_KEEP);
    expect(keptFor(100)).toBeLessThan(BIG_KEEP);
  });

  it('still refuses a path listed twice', () => {
    const entries = [entry('a/one'), entry('a/two'), entry('a/one')];
    expect(() => checkFileEntries(entries, [], entries.length)).toThrow(VerifyError);
  });
});

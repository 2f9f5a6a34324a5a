/**
 * The end of an encrypted copy of many files (copy-seal.ts): the manifest sent there is made twice (its size, then
 * its text as it is sent) and the journal of files sent is read to drop this destination's lines. Each was one
 * synchronous stretch that filled V8's young generation, whose pages then stayed in RSS (a copy of 100 000 files: 157
 * → 172 MiB at its end). Both now ask for minor collections as they go, and the sealed head no longer makes every
 * file's record (four hex strings each) to add up their sizes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { FileEntry, Manifest } from '../src/core/types.js';
import { FolderDestination } from '../src/destinations/folder.js';
import type { Sealer } from '../src/engine/crypt.js';
import { SealedFiles } from '../src/engine/sealed-files.js';
import { MINOR_BUDGET } from '../src/engine/garbage.js';
import { makeTmpDir } from './helpers/tmp.js';

/** Garbage counted by youngCollected (whose minor collections garbage.test.ts checks), in bytes. */
const counted = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('../src/engine/garbage.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/engine/garbage.js')>();
  return {
    ...real,
    youngCollected: <T>(items: Iterable<T>, garbageOf: (item: T) => number) =>
      real.youngCollected(items, (item) => {
        const bytes = garbageOf(item);
        counted.bytes += bytes;
        return bytes;
      }),
  };
});
const { putSealedManifest, sealedManifestText, SealedSentRecord, SEALED_SENT_JOURNAL } =
  await import('../src/engine/copy-seal.js');

const FILES = 20_000;
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
const entry = (i: number): FileEntry => ({
  group: 'application',
  source: `/srv/app/uploads/f${i}.bin`,
  relative: `uploads/f${i}.bin`,
  kind: 'file',
  stored: `application/app/uploads/f${i}.bin.zst`,
  linkTarget: null,
  size: 100 + i,
  mode: 0o644,
  mtime: '2026-12-07T10:00:00.000Z',
  md5: hex(i, 32),
  sha256: hex(i, 64),
});
const sealedOf = (i: number) => ({
  plain: { bytes: 100 + i, md5: hex(i, 32), sha256: hex(i, 64) },
  sealed: { bytes: 300 + i, md5: hex(i + 1, 32), sha256: hex(i + 1, 64) },
});
const enc = { format: 'age' as const, recipients: ['age1x'], passphrase: false };

describe('the end of an encrypted copy of many files', () => {
  it('the manifest sent is the text made in one stretch, made with minor collections, without every record', async () => {
    const root = makeTmpDir();
    const dest = new FolderDestination('nas', root);
    const sent = new SealedFiles();
    for (let i = 0; i < FILES; i++) sent.set(entry(i).stored!, sealedOf(i));
    const m = {
      id: '20261207_100000',
      type: 'full',
      startedAt: '2026-12-07T10:00:00.000Z',
      databases: [],
      files: [],
      totals: { originalBytes: 0, storedBytes: 0 },
    } as unknown as Manifest;
    const sealer = { describe: enc } as unknown as Sealer;
    const entries = () => Array.from({ length: FILES }, (_, i) => entry(i));
    const values = vi.spyOn(sent, 'values');
    counted.bytes = 0;

    const size = await putSealedManifest(dest, 'srv1/20261207_100000', m, entries, sent, sealer, (w) => w());

    const text = readFileSync(join(root, 'srv1', '20261207_100000', 'manifest.json'));
    expect(text.equals(Buffer.concat([...sealedManifestText(m, entries(), sent, sealer)]))).toBe(true);
    expect(size).toBe(text.length);
    const head = JSON.parse(text.toString('utf8')) as Manifest;
    expect(head.totals.storedBytes).toBe(FILES * 300 + (FILES * (FILES - 1)) / 2);
    expect(head.files).toHaveLength(FILES);
    expect(values).not.toHaveBeenCalled();
    // Both passes counted as they are made (youngCollected starts a minor collection every MINOR_BUDGET of them).
    expect(counted.bytes).toBeGreaterThanOrEqual(2 * size * 8);
  });

  it("the journal's lines are read with minor collections as they go when it is cleared", async () => {
    const dir = makeTmpDir();
    const record = new SealedSentRecord(dir, 'nas', enc);
    for (let i = 0; i < FILES; i++) record.record(entry(i).stored!, sealedOf(i));
    await record.flush();
    const journal = readFileSync(join(dir, SEALED_SENT_JOURNAL)).length;
    counted.bytes = 0;
    await record.clear();
    expect(counted.bytes).toBeGreaterThanOrEqual(journal * 3);
    expect(counted.bytes).toBeGreaterThan(MINOR_BUDGET); // a minor collection or more on the way
  });
});

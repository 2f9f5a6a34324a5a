/**
 * A file written while the backup reads it (a log appended to, a config the application rewrites) may be stored
 * torn. Its stat before and after the read are compared, as tar does: a file that changed is read again, and one
 * that keeps changing is stored as last read with a warning naming it; the set stays COMPLETED, as for a file that
 * vanished. The writes happen from the reader's progress callback, in the middle of the read, so they always overlap
 * it (no timing luck).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READ_ATTEMPTS, scanFiles, storeFiles, type FileItem, type FileScan } from '../src/engine/files.js';
import { readStored } from './helpers/stored.js';
import { makeTmpDir } from './helpers/tmp.js';

const MIB = 1 << 20;

/** An application folder holding one 4 MiB log (read in 1 MiB chunks) and one small file nobody writes to. */
async function setup() {
  const dir = makeTmpDir();
  const app = join(dir, 'app');
  mkdirSync(app);
  const log = join(app, 'app.log');
  writeFileSync(log, Buffer.alloc(4 * MIB, 'a'));
  writeFileSync(join(app, 'quiet.txt'), 'quiet\n');
  const scan = await scanFiles({
    baseDir: dir,
    databases: [],
    files: { config: [], application: [{ path: app, include: [], exclude: [] }] },
  });
  expect(scan.items.map((i) => i.relative)).toEqual(['app/app.log', 'app/quiet.txt']);
  return { log, scan, set: makeTmpDir() };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Stores `items` into `set` (zstd 3), `onRead` told the bytes of each file read so far. */
const storeReading = (items: FileScan['items'], set: string, onRead: (item: FileItem, bytes: number) => void) =>
  storeFiles(items, set, { codec: 'zstd', level: 3 }, undefined, () => undefined, onRead);

describe('a file written while it is read', () => {
  it('is read again when it changed once: stored whole as it is now, no warning', async () => {
    const { log, scan, set } = await setup();
    const reads: number[] = [];
    const stored = await storeReading(scan.items, set, (item, bytes) => {
      if (item.source !== log || bytes !== MIB) return;
      reads.push(bytes);
      if (reads.length === 1) appendFileSync(log, 'one more line\n'); // mid-read of the first attempt only
    });
    expect(reads).toEqual([MIB, MIB]);
    expect(stored.warnings).toEqual([]);
    expect(stored.problems).toEqual([]);
    const entry = stored.entries.find((e) => e.source === log)!;
    const content = readStored(join(set, entry.stored!));
    expect(content.equals(readFileSync(log))).toBe(true);
    expect(entry.size).toBe(content.length);
    expect(entry.sha256).toBe(sha256(readFileSync(join(set, entry.stored!))));
  });

  it('is stored as last read with a warning naming it when it keeps changing; the hashes are of what is stored', async () => {
    const { log, scan, set } = await setup();
    let reads = 0;
    const stored = await storeReading(scan.items, set, (item, bytes) => {
      if (item.source !== log || bytes !== MIB) return;
      reads++;
      appendFileSync(log, `write ${reads}\n`);
    });
    expect(reads).toBe(READ_ATTEMPTS);
    expect(stored.problems).toEqual([]);
    expect(stored.warnings.map((w) => [w.phrase.id, w.message])).toEqual([
      [
        'file.changed',
        `${log}: changed while it was being backed up (read ${READ_ATTEMPTS} times); the stored copy may be inconsistent`,
      ],
    ]);
    expect(stored.entries.map((e) => e.relative)).toEqual(['app/app.log', 'app/quiet.txt']);
    const entry = stored.entries[0]!;
    const raw = readFileSync(join(set, entry.stored!));
    expect(entry.sha256).toBe(sha256(raw));
    expect(entry.md5).toBe(createHash('md5').update(raw).digest('hex'));
    const content = readStored(join(set, entry.stored!));
    expect(entry.size).toBe(content.length);
    expect(content.subarray(0, 4 * MIB).equals(Buffer.alloc(4 * MIB, 'a'))).toBe(true);
  });
});

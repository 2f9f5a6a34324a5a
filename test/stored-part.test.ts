import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { VerifyError } from '../src/core/errors.js';
import type { DatabaseEntry } from '../src/core/types.js';
import { localReader, openStoredPart, readStoredPartWhole } from '../src/engine/stored-part.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const entry = (file: string): DatabaseEntry =>
  ({ name: 'users', file, compressed: file.endsWith('.gz') }) as unknown as DatabaseEntry;

describe('openStoredPart', () => {
  it('reads and decompresses a stored file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respaldo-part-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'users.sql.gz'), gzipSync('hola\n'));
    await expect(text(openStoredPart(dir, entry('users.sql.gz')))).resolves.toBe('hola\n');
  });

  it('reports a stored file that is gone as a damaged set naming the file, not a raw ENOENT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respaldo-part-'));
    dirs.push(dir);
    for (const file of ['users.sql.gz', 'users.sql']) {
      const err = await text(openStoredPart(dir, entry(file))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VerifyError);
      expect((err as VerifyError).message).toContain(join(dir, file));
      expect((err as VerifyError).exitCode).toBe(5);
    }
  });

  it('data the decompressor cannot decode is a damaged stored file (exit 5), gzip and zstd; a good file still reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respaldo-part-'));
    dirs.push(dir);
    const good = gzipSync('hola '.repeat(1000));
    const bad = Buffer.from(good);
    bad[bad.length >> 1]! ^= 0xff;
    writeFileSync(join(dir, 'users.sql.gz'), bad);
    writeFileSync(join(dir, 'users.sqlite.zst'), Buffer.from('not zstd at all, not even its magic number'));
    const zstd = {
      name: 'users',
      file: 'users.sqlite.zst',
      compressed: true,
      codec: 'zstd',
    } as unknown as DatabaseEntry;
    for (const [e, file] of [
      [entry('users.sql.gz'), 'users.sql.gz'],
      [zstd, 'users.sqlite.zst'],
    ] as const) {
      const err = await text(openStoredPart(dir, e)).catch((x: unknown) => x);
      expect(err, file).toBeInstanceOf(VerifyError);
      expect((err as VerifyError).message).toMatch(
        new RegExp(
          `^The stored file ${file.replace('.', '\\.')} of users cannot be decompressed \\(.+\\): it is damaged\\.$`,
        ),
      );
      expect((err as VerifyError).hint).toContain('`respaldo list --from <destination>` for those at a destination');
    }
    writeFileSync(join(dir, 'users.sql.gz'), good);
    await expect(text(openStoredPart(dir, entry('users.sql.gz')))).resolves.toBe('hola '.repeat(1000));
  });
});

describe('readStoredPartWhole', () => {
  const part = (file: string, rawBytes: number): DatabaseEntry =>
    ({
      name: 'inventario',
      file: 'toc.dat.gz',
      compressed: true,
      extras: [{ role: 'pgdir:1.dat', file, compressed: file.endsWith('.gz'), rawBytes }],
    }) as unknown as DatabaseEntry;

  it("a small part in the set's folder is read and decoded whole; otherwise undefined, and openStoredPart says why", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respaldo-part-'));
    dirs.push(dir);
    const body = Buffer.from('1\tmesa\n2\tsilla\n\\.\n\n');
    writeFileSync(join(dir, '1.dat.gz'), gzipSync(body));
    writeFileSync(join(dir, '1.dat'), body);
    // Read from the folder named, or from the folder of its localReader (what a restore hands the driver).
    expect(readStoredPartWhole(dir, part('1.dat.gz', body.length), 'pgdir:1.dat')).toEqual(body);
    expect(readStoredPartWhole(localReader(dir, 'x'), part('1.dat.gz', body.length), 'pgdir:1.dat')).toEqual(body);
    expect(readStoredPartWhole(dir, part('1.dat', body.length), 'pgdir:1.dat')).toEqual(body);
    // Another size than the manifest's, a file gone, a large part, a destination's reader: its streams instead.
    expect(readStoredPartWhole(dir, part('1.dat.gz', body.length + 1), 'pgdir:1.dat')).toBeUndefined();
    expect(readStoredPartWhole(dir, part('2.dat.gz', body.length), 'pgdir:1.dat')).toBeUndefined();
    expect(readStoredPartWhole(dir, part('1.dat.gz', 1 << 20), 'pgdir:1.dat')).toBeUndefined();
    const remote = (file: string) => localReader(dir, 'x')(file);
    expect(readStoredPartWhole(remote, part('1.dat.gz', body.length), 'pgdir:1.dat')).toBeUndefined();
    const err = await text(openStoredPart(dir, part('2.dat.gz', body.length), 'pgdir:1.dat')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerifyError);
    // Damaged bytes: not decoded here either, and the stream says it is damage (exit 5).
    const bad = gzipSync(body);
    bad.writeUInt8(bad.readUInt8(bad.length - 6) ^ 0xff, bad.length - 6);
    writeFileSync(join(dir, '1.dat.gz'), bad);
    expect(readStoredPartWhole(dir, part('1.dat.gz', body.length), 'pgdir:1.dat')).toBeUndefined();
    const damaged = await text(openStoredPart(dir, part('1.dat.gz', body.length), 'pgdir:1.dat')).catch((e) => e);
    expect((damaged as VerifyError).exitCode).toBe(5);
  });
});

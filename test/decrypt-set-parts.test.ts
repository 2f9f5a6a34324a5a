/**
 * The stored files of an encrypted set a restore reads (encryptedParts, eachEncryptedPart) and the one a passphrase is
 * checked against (samplePart), as tables. samplePart looks at them one at a time: it made the list of every part of
 * a set (20 000 files) to take its first.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import {
  decryptedFiles,
  decryptedView,
  eachEncryptedPart,
  encryptedParts,
  samplePart,
  withFirstFile,
} from '../src/engine/decrypt-set.js';
import { heldFiles } from '../src/engine/manifest.js';

const plain = (n: number) => ({ bytes: n, md5: `m${n}`, sha256: `s${n}` });

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    id: '20261206_230000',
    databases: [
      {
        name: 'users',
        engine: 'sqlite',
        file: 'databases/users.sqlite.zst.age',
        plain: plain(1),
        extras: [{ file: 'databases/users.pagemap.zst.age', role: 'pagemap', plain: plain(2) }],
      },
      {
        name: 'inventario',
        engine: 'postgres',
        file: 'databases/inventario.toc.zst.age',
        plain: plain(3),
        extras: [{ file: 'databases/inventario.3001.dat.zst.age', role: 'pgdir:3001.dat', plain: plain(4) }],
      },
    ],
    files: [
      { path: 'config/.env', stored: 'files/config/.env.zst.age', plain: plain(5) },
      { path: 'application/empty', stored: null },
      { path: 'application/a.pdf', stored: 'files/application/a.pdf.zst.age', plain: plain(6) },
    ],
    ...over,
  } as unknown as Manifest;
}

describe('the stored files an encrypted restore reads', () => {
  it.each([
    {
      what: 'one database, without its page map (only the next backup reads it)',
      databases: ['users'],
      files: false,
      all: false,
      want: ['databases/users.sqlite.zst.age'],
    },
    {
      what: 'one database, all (a verification)',
      databases: ['users'],
      files: false,
      all: true,
      want: ['databases/users.sqlite.zst.age', 'databases/users.pagemap.zst.age'],
    },
    {
      what: 'a directory dump and the files (an entry storing nothing left out)',
      databases: ['inventario'],
      files: true,
      all: false,
      want: [
        'databases/inventario.toc.zst.age',
        'databases/inventario.3001.dat.zst.age',
        'files/config/.env.zst.age',
        'files/application/a.pdf.zst.age',
      ],
    },
    { what: 'the files alone', databases: [], files: true, all: false, want: [0, 2].map((i) => fileAt(i)) },
  ])('$what', ({ databases, files, all, want }) => {
    const m = manifest();
    expect(encryptedParts(m, databases, files, all).map((p) => p.path)).toEqual(want);
    expect([...eachEncryptedPart(m, databases, files, all)]).toEqual(encryptedParts(m, databases, files, all));
    expect(encryptedParts(m, ['users'], false)[0]!.plain).toEqual(plain(1));
  });

  it.each([
    { what: 'the first database file', m: manifest(), want: 'databases/users.sqlite.zst.age' },
    {
      what: 'the first file encrypted, when the databases store none',
      m: manifest({ databases: [] }),
      want: 'files/config/.env.zst.age',
    },
    {
      what: 'a file stored without .age is not one',
      m: manifest({
        databases: [],
        files: [
          { path: 'a', stored: 'files/a.zst', plain: plain(1) },
          { path: 'b', stored: 'files/b.zst.age', plain: plain(2) },
        ] as unknown as Manifest['files'],
      }),
      want: 'files/b.zst.age',
      // Read lean, only the first stored entry is put back: a set encrypted stores no file without .age (decryptSet
      // refuses such a manifest as tampered), so none is sampled here.
      lean: null,
    },
    { what: 'none stored: none', m: manifest({ databases: [], files: [] }), want: null },
  ])('samplePart: $what', ({ m, want, lean }) => {
    expect(samplePart(m)).toBe(want);
    // Of a manifest read lean: its head without files, its first stored entry put back (withFirstFile).
    expect(samplePart(withFirstFile({ ...m, files: [] }, heldFiles(m.files)))).toBe(lean === undefined ? want : lean);
  });

  it('of a manifest read lean (its files apart): the same parts, and the decrypted entries as decryptedView', () => {
    const m = manifest();
    const lean = { ...m, files: [] };
    const files = heldFiles(m.files);
    expect([...eachEncryptedPart(lean, ['users'], true, false, files)]).toEqual(encryptedParts(m, ['users'], true));
    expect([...eachEncryptedPart(lean, ['users'], true)].map((p) => p.path)).toEqual([
      'databases/users.sqlite.zst.age',
    ]);
    const decrypted = decryptedFiles(files);
    expect([decrypted.count, decrypted.bytes]).toEqual([files.count, files.bytes]);
    expect([...decrypted.entries()]).toEqual(decryptedView(m).files);
    expect([...decrypted.entries()][0]).toMatchObject({ stored: 'files/config/.env.zst', md5: 'm5', sha256: 's5' });
  });
});

function fileAt(i: number): string {
  return manifest().files[i]!.stored!;
}

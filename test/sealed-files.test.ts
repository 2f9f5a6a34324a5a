/**
 * SealedFiles (src/engine/sealed-files.ts): the files an encrypted copy sent, kept as bytes, give back exactly what
 * was put in, whatever the number of files; a record that is not plain hex and whole sizes is kept as it is.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealedFiles, type SealedFile } from '../src/engine/sealed-files.js';

const hash = (a: 'md5' | 'sha256', s: string) => createHash(a).update(s).digest('hex');
const sealedOf = (i: number): SealedFile => ({
  plain: { bytes: i * 3, md5: hash('md5', `p${i}`), sha256: hash('sha256', `p${i}`) },
  sealed: { bytes: i * 3 + 200, md5: hash('md5', `s${i}`), sha256: hash('sha256', `s${i}`) },
});

describe('SealedFiles', () => {
  it('gives back each file as put, past its first growth, in the order put; a file put again replaces it', () => {
    const files = new SealedFiles();
    for (let i = 0; i < 5000; i++) files.set(`application/f${i}.zst`, sealedOf(i));
    expect(files.size).toBe(5000);
    for (const i of [0, 1, 1023, 1024, 2047, 2048, 4999])
      expect(files.get(`application/f${i}.zst`)).toEqual(sealedOf(i));
    expect(files.has('application/f5000.zst')).toBe(false);
    expect(files.get('application/f5000.zst')).toBeUndefined();
    files.set('application/f7.zst', sealedOf(9000));
    expect(files.get('application/f7.zst')).toEqual(sealedOf(9000));
    expect(files.size).toBe(5000);
    expect([...files.keys()].slice(0, 3)).toEqual(['application/f0.zst', 'application/f1.zst', 'application/f2.zst']);
    expect([...files.values()][2]).toEqual(sealedOf(2));
    const big = { ...sealedOf(1), sealed: { ...sealedOf(1).sealed, bytes: 2 ** 40 + 7 } };
    files.set('databases/users.sqlite.zst', big);
    expect(files.get('databases/users.sqlite.zst')).toEqual(big);
  });

  it('a record of other hashes or sizes (a damaged journal line) is kept as it is, and replaced as any', () => {
    const files = new SealedFiles();
    const upper = { ...sealedOf(1), plain: { ...sealedOf(1).plain, md5: sealedOf(1).plain.md5.toUpperCase() } };
    const short = { ...sealedOf(2), sealed: { ...sealedOf(2).sealed, sha256: 'abc' } };
    const odd = { ...sealedOf(3), plain: { ...sealedOf(3).plain, bytes: 1.5 } };
    files.set('a', upper).set('b', short).set('c', odd).set('d', sealedOf(4));
    expect([files.get('a'), files.get('b'), files.get('c'), files.get('d')]).toEqual([upper, short, odd, sealedOf(4)]);
    expect(files.size).toBe(4);
    expect(new Set(files.keys())).toEqual(new Set(['a', 'b', 'c', 'd']));
    files.set('a', sealedOf(5));
    files.set('d', short);
    expect([files.get('a'), files.get('d'), files.size]).toEqual([sealedOf(5), short, 4]);
  });

  it('a file that became odd leaves its slot alone: the next file put takes a new one, the others kept', () => {
    const files = new SealedFiles();
    files.set('a', sealedOf(1)).set('b', sealedOf(2)).set('c', sealedOf(3));
    const short = { ...sealedOf(4), sealed: { ...sealedOf(4).sealed, sha256: 'abc' } };
    files.set('a', short);
    files.set('d', sealedOf(5));
    expect([files.get('a'), files.get('b'), files.get('c'), files.get('d')]).toEqual([
      short,
      sealedOf(2),
      sealedOf(3),
      sealedOf(5),
    ]);
    expect(files.size).toBe(4);
  });

  it('adds up the ciphertext bytes of every file, compact or odd, as its values say them', () => {
    const files = new SealedFiles();
    for (let i = 0; i < 3000; i++) files.set(`f${i}`, sealedOf(i));
    const odd = { ...sealedOf(1), plain: { ...sealedOf(1).plain, bytes: 1.5 } };
    files.set('f10', odd).set('x', { ...odd, sealed: { ...odd.sealed, bytes: 77 } });
    files.set('f11', sealedOf(20));
    let sum = 0;
    for (const f of files.values()) sum += f.sealed.bytes;
    expect(files.sealedBytes()).toBe(sum);
    expect(sum).toBe(3000 * 200 + 3 * ((2999 * 3000) / 2) - 230 + 203 - 233 + 260 + 77);
  });
});

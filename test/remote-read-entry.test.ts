/**
 * Reading a set's files from a destination by their entries (StoredReader's `entry`): a restore streamed from there
 * reads its manifest lean and holds none of its file entries (100 000 files: 263 → 167 MiB, 235 → 177 s), so each
 * file is checked, and an encrypted one decrypted, by the entry handed with it, not looked up by name. Against a
 * stand-in destination serving a file; the real servers are in offsite-stream and offsite-memory.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { VerifyError } from '../src/core/errors.js';
import { phrase } from '../src/core/phrases.js';
import type { FileEntry, Manifest } from '../src/core/types.js';
import type { Destination } from '../src/destinations/destination.js';
import { decrypterFor } from '../src/engine/crypt.js';
import { decryptingReader } from '../src/engine/decrypt-set.js';
import { checkedReader } from '../src/engine/remote-read.js';
import { ageKeygen } from './helpers/age.js';
import { makeTmpDir } from './helpers/tmp.js';

const ID = '20261207_050000';
const sum = (a: string, bytes: Buffer) => createHash(a).update(bytes).digest('hex');

/** A destination serving `files` (stored path → bytes) of set ID of source srv1. */
function destination(files: Record<string, Buffer>): Destination {
  return {
    name: 'nas',
    async get(key: string) {
      const file = key.slice(`srv1/${ID}/`.length);
      const body = files[file];
      if (!body) throw new Error(`no ${file} here`);
      return Readable.from([body]);
    },
  } as unknown as Destination;
}

/** A manifest read lean: its head, no file entry (`files` empty). */
const lean = (extra: Partial<Manifest> = {}) => ({ id: ID, databases: [], files: [], ...extra }) as unknown as Manifest;

/** The entry of an application file stored as `stored` with `bytes`. */
function entryOf(stored: string, bytes: Buffer, extra: Partial<FileEntry> = {}): FileEntry {
  return {
    group: 'application',
    relative: 'uploads/a.txt',
    stored,
    kind: 'file',
    size: 10,
    md5: sum('md5', bytes),
    sha256: sum('sha256', bytes),
    ...extra,
  } as FileEntry;
}

describe('a file read from a destination by its entry', () => {
  it('is read and checked against that entry, though the manifest read lean lists no file', async () => {
    const bytes = randomBytes(5000);
    const stored = 'application/uploads/a.txt.zst';
    const read = checkedReader(destination({ [stored]: bytes }), 'srv1', lean(), phrase('fetch.noRoomHint'));
    expect(await buffer(read(stored, entryOf(stored, bytes)))).toEqual(bytes);
    // Without its entry it is not in the manifest the reader has: refused, not read unchecked.
    await expect(buffer(read(stored))).rejects.toThrow(/is not listed in its manifest/);
    // An entry whose hash the bytes there do not match: the destination's damage, before the stream ends.
    const other = entryOf(stored, randomBytes(5000));
    await expect(buffer(read(stored, other))).rejects.toBeInstanceOf(VerifyError);
    // An entry of another stored file does not vouch for this one.
    await expect(buffer(read(stored, entryOf('application/uploads/b.txt.zst', bytes)))).rejects.toThrow(
      /is not listed in its manifest/,
    );
  });

  it('encrypted: decrypted by its encrypted entry, its ciphertext and plaintext checked against it', async () => {
    const dir = makeTmpDir();
    const key = join(dir, 'key.txt');
    const recipient = ageKeygen(key);
    const plain = randomBytes(200_000);
    writeFileSync(join(dir, 'plain'), plain);
    const sealed = execFileSync('age', ['-r', recipient, join(dir, 'plain')]);
    const stored = 'application/uploads/a.txt.zst.age';
    const plainHashes = { bytes: plain.length, md5: sum('md5', plain), sha256: sum('sha256', plain) };
    const encryption = { format: 'age' as const, recipients: [recipient], passphrase: false };
    const m = lean({ encryption });
    const raw = checkedReader(destination({ [stored]: sealed }), 'srv1', m, phrase('fetch.noRoomHint'));
    const decrypter = await decrypterFor(
      { encryption: { recipients: [recipient], identityFile: key } },
      encryption,
      ID,
    );
    const read = decryptingReader(decrypter, raw, m);
    expect(await buffer(read(stored, entryOf(stored, sealed, { plain: plainHashes })))).toEqual(plain);
    // The plaintext's hashes in the entry do not match what decrypts: damage (exit 5).
    const wrongPlain = { ...plainHashes, sha256: sum('sha256', randomBytes(8)) };
    await expect(buffer(read(stored, entryOf(stored, sealed, { plain: wrongPlain })))).rejects.toBeInstanceOf(
      VerifyError,
    );
    // Asked by its plaintext name with no entry, as a held manifest's reader is: not a file of this manifest.
    await expect(buffer(read('application/uploads/a.txt.zst'))).rejects.toThrow(/not listed as an encrypted file/);
  });
});

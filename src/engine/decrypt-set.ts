import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Decrypter } from './age-header.js';
import { InterruptedError, VerifyError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import type { DatabaseEntry, EncryptionConfig, FileEntry, Manifest, PlainHashes, StoredFile } from '../core/types.js';
import { AGE_EXTENSION, decryptError, decryptFile, decrypterFor, openStream, type PassphraseSample } from './crypt.js';
import { ensurePrivateDir } from './fs-util.js';
import { eachLimitedOf } from './limited.js';
import { nextBackupOnly, type ManifestFiles } from './manifest.js';
import type { StoredReader } from './stored-part.js';
import { said } from '../core/phrases.js';

/**
 * The stored files of an encrypted set a restore of `databases` (and of the files) reads, with their plaintext hashes;
 * `all`: also those only the next backup reads (manifest.ts nextBackupOnly: SQLite's page map), for a verification.
 */
export function encryptedParts(
  m: Manifest,
  databases: string[],
  withFiles: boolean,
  all = false,
): { path: string; plain: PlainHashes | undefined }[] {
  return [...eachEncryptedPart(m, databases, withFiles, all)];
}

/**
 * encryptedParts one at a time: for a question about them, no list of a set's 20 000 files made to answer it. The
 * files are `files`' entries when given (a manifest read lean: its head's `files` empty), else the manifest's.
 */
export function* eachEncryptedPart(
  m: Manifest,
  databases: string[],
  withFiles: boolean,
  all = false,
  files?: ManifestFiles,
): Generator<{ path: string; plain: PlainHashes | undefined }> {
  for (const d of m.databases) {
    if (!databases.includes(d.name)) continue;
    if (d.file) yield { path: d.file, plain: d.plain };
    for (const x of d.extras ?? []) if (all || !nextBackupOnly(d, x)) yield { path: x.file, plain: x.plain };
  }
  if (withFiles)
    for (const f of files ? files.entries() : m.files) if (f.stored) yield { path: f.stored, plain: f.plain };
}

/** Pure: one stored file of an encrypted set (the first), to check a passphrase against; null when it stores none. */
export function samplePart(m: Manifest): string | null {
  const databases = m.databases.map((d) => d.name);
  for (const p of eachEncryptedPart(m, databases, true)) if (p.path.endsWith(AGE_EXTENSION)) return p.path;
  return null;
}

/** The stored file of `m` a typed passphrase is checked against (see decrypterFor), opened by `open`. */
export function passphraseSample(m: Manifest, open: (path: string) => Promise<Readable>): PassphraseSample | null {
  const path = samplePart(m);
  return path === null ? null : { open: () => open(path), label: `${path} of set ${m.id}` };
}

/**
 * `head` with the first stored entry of `files` as its `files`: a set of application files only has its passphrase
 * checked against one of them (passphraseSample), as when its entries were held.
 */
export function withFirstFile(head: Manifest, files: ManifestFiles): Manifest {
  for (const f of files.entries()) if (f.stored) return { ...head, files: [f] };
  return head;
}

/** An opener of the stored files of the set in folder `dir` (a set here, or one fetched from a destination). */
export function openStored(dir: string): (path: string) => Promise<Readable> {
  return (path) => Promise.resolve(createReadStream(join(dir, path)));
}

/** Pure: a stored path without its `.age` suffix. */
export function plainPath(p: string): string {
  return p.endsWith(AGE_EXTENSION) ? p.slice(0, -AGE_EXTENSION.length) : p;
}

/**
 * Pure: the manifest of the decrypted copy of an encrypted set: stored paths without `.age`, the
 * plaintext's size and hashes in place of the ciphertext's, no `encryption`.
 */
export function decryptedView(m: Manifest): Manifest {
  const databases = m.databases.map((d): DatabaseEntry => {
    const x = stored(d);
    return {
      ...x,
      file: d.file ? plainPath(d.file) : null,
      ...(d.extras ? { extras: d.extras.map((e): StoredFile => ({ ...stored(e), file: plainPath(e.file) })) } : {}),
    };
  });
  const files = m.files.map(decryptedEntry);
  const { encryption: _encryption, ...rest } = m;
  return { ...rest, databases, files };
}

/** An entry's stored file as decrypted: the plaintext's hashes and size in place of the ciphertext's. */
function stored<T extends { md5: string | null; sha256: string | null; storedBytes?: number; plain?: PlainHashes }>(
  e: T,
): T {
  if (!e.plain) return e;
  const { plain, ...rest } = e;
  return {
    ...rest,
    md5: plain.md5,
    sha256: plain.sha256,
    ...(e.storedBytes !== undefined ? { storedBytes: plain.bytes } : {}),
  } as T;
}

/** Pure: a file's entry in the decrypted copy (decryptedView). */
export function decryptedEntry(f: FileEntry): FileEntry {
  return { ...stored(f), stored: f.stored ? plainPath(f.stored) : null };
}

/** The entries of `files` as decryptedView gives them, one at a time (a manifest read lean: none held). */
export function decryptedFiles(files: ManifestFiles): ManifestFiles {
  return {
    count: files.count,
    bytes: files.bytes,
    groups: files.groups,
    *entries() {
      for (const f of files.entries()) yield decryptedEntry(f);
    },
  };
}

function* smallOnes<T>(items: Iterable<T>, small: (item: T) => boolean): Generator<T> {
  for (const x of items) if (small(x)) yield x;
}

/** Small files (a plaintext under SMALL_PLAINTEXT bytes) decryptSet decrypts at once. */
const DECRYPTED_AT_ONCE = 4;
const SMALL_PLAINTEXT = 1 << 20;

/**
 * Decrypts the stored files a restore needs from the set in `dir` into `into` (a private scratch
 * folder), each checked whole (age authenticates every chunk; the plaintext's hashes are compared
 * with the manifest) before any of it is used. Returns the decrypted set to restore from.
 * A damaged file is a VerifyError (exit 5), a missing or wrong key a KeyError (exit 13).
 */
export async function decryptSet(
  cfg: { encryption?: EncryptionConfig | undefined },
  m: Manifest,
  dir: string,
  into: string,
  sel: { databases: string[]; files: boolean; entries?: ManifestFiles },
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<{ manifest: Manifest; dir: string }> {
  if (!m.encryption) return { manifest: m, dir };
  const decrypter = await decrypterFor(
    cfg,
    m.encryption,
    m.id,
    passphraseSample(sel.entries ? withFirstFile(m, sel.entries) : m, openStored(dir)),
  );
  // Walked again for each pass, not listed: with `entries`, a manifest read lean, none of its 100 000 files is held.
  const parts = () => eachEncryptedPart(m, sel.databases, sel.files, false, sel.entries);
  let count = 0;
  for (const p of parts()) {
    count++;
    if (!p.path.endsWith(AGE_EXTENSION))
      throw new VerifyError(
        `Set ${m.id}: ${p.path} is listed as encrypted but has no ${AGE_EXTENSION} name.`,
        'This manifest was tampered with or damaged; do not restore from it.',
      );
  }
  reporter.emit({ type: 'info', ...said('note.decrypting', { count, id: m.id }) });
  const made = new Map<string, Promise<void>>();
  const decrypt = async (p: { path: string; plain: PlainHashes | undefined }): Promise<void> => {
    if (signal?.aborted) throw new InterruptedError();
    const dest = join(into, plainPath(p.path));
    if (!made.has(dirname(dest))) made.set(dirname(dest), ensurePrivateDir(dirname(dest)));
    await made.get(dirname(dest));
    await decryptFile(decrypter, join(dir, p.path), dest, p.plain, `${p.path} of set ${m.id}`, signal);
  };
  // Large files one after another (a Ctrl-C leaves the next one unstarted); small ones several at once: each one's
  // fsync waited on alone, the 5000 files of an uploads folder took 17 of a restore's 24 s.
  const isSmall = (p: { plain: PlainHashes | undefined }): boolean => (p.plain?.bytes ?? Infinity) < SMALL_PLAINTEXT;
  for (const p of parts()) if (!isSmall(p)) await decrypt(p);
  await eachLimitedOf(smallOnes(parts(), isSmall), DECRYPTED_AT_ONCE, decrypt, () => undefined);
  return { manifest: decryptedView(m), dir: into };
}

/**
 * The reader of the decrypted view of the encrypted set `m` (`decryptedView`): each plaintext path opens its
 * `.age` file through `read` and decrypts it on the way. age releases only authenticated chunks; the
 * plaintext's size and hashes are checked at the end, and a mismatch or a failed authentication errors the
 * stream before its end (VerifyError, exit 5; a wrong key is a KeyError). For a restore that streams from a
 * destination into the copy it builds beside the target, swapped in only once every file read to its end. A file
 * of a manifest read lean (`m.files` empty) is asked for by its encrypted entry (StoredReader's `entry`): its `.age`
 * file, read through `read` with that entry and checked against its `plain` hashes.
 */
export function decryptingReader(
  decrypter: Decrypter,
  read: StoredReader,
  m: Manifest,
  from?: { destination: string; hint: string },
): StoredReader {
  const parts = new Map(
    encryptedParts(
      m,
      m.databases.map((d) => d.name),
      true,
    ).map((p) => [plainPath(p.path), p]),
  );
  async function* decrypt(file: string, entry?: FileEntry): AsyncGenerator<Buffer> {
    const p = entry?.stored === file ? { path: file, plain: entry.plain } : parts.get(file);
    if (!p?.path.endsWith(AGE_EXTENSION))
      throw new VerifyError(
        `Set ${m.id}: ${file} is not listed as an encrypted file of the set.`,
        'This manifest was tampered with or damaged; do not restore from it.',
      );
    const label = `${p.path} of set ${m.id}`;
    const md5 = createHash('md5');
    const sha256 = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of (await openStream(decrypter, read(p.path, entry), label)) as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        md5.update(chunk);
        sha256.update(chunk);
        yield chunk;
      }
    } catch (err) {
      throw decryptError(err, label);
    }
    const want = p.plain;
    if (want && (bytes !== want.bytes || md5.digest('hex') !== want.md5 || sha256.digest('hex') !== want.sha256))
      throw new VerifyError(
        `${label}: the decrypted file does not match the manifest's plaintext hashes (changed or damaged).`,
      );
  }
  // Read from a destination, damage is named there, with its repair (the hint of a local set's damage sent the
  // operator to the local list and disk).
  async function* named(file: string, entry?: FileEntry): AsyncGenerator<Buffer> {
    try {
      yield* decrypt(file, entry);
    } catch (err) {
      if (from && err instanceof VerifyError) {
        const where = `destination "${from.destination}": `;
        throw new VerifyError(err.message.startsWith(where) ? err.message : where + err.message, from.hint);
      }
      throw err;
    }
  }
  return (file, entry) => Readable.from(named(file, entry), { objectMode: false });
}

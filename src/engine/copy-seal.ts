import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VerifyError } from '../core/errors.js';
import type { Manifest, ManifestEncryption, PlainHashes } from '../core/types.js';
import type { Destination } from '../destinations/destination.js';
import { AGE_EXTENSION, type Sealer } from './crypt.js';
import { writeFileAtomic } from './fs-util.js';
import { digestOf } from './hash-file.js';
import { madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { MANIFEST_NAME } from './manifest.js';

/**
 * Copies of an unencrypted local set to a destination with `encrypt: true`: every stored file is
 * encrypted on the way (`x.zst` is sent as `x.zst.age`) and the destination gets a manifest of what
 * it holds (ciphertext hashes, the local file's hashes as the plaintext's, `encryption`), sent last.
 * A copy is complete once that manifest is there. age output is not deterministic, so a file already
 * sent cannot be recognised from the local bytes: each file's ciphertext size and hashes are recorded
 * in `sealed-sent.json` beside the local set as soon as the destination holds it, and a copy cut short
 * resumes by skipping the files there with the recorded size (sent to the same recipients, from the
 * same local bytes). The record is removed once the copy is complete.
 */

class Hasher extends Transform {
  bytes = 0;
  private readonly md5 = createHash('md5');
  private readonly sha256 = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.md5.update(chunk);
    this.sha256.update(chunk);
    cb(null, chunk);
  }
  result(): PlainHashes {
    return { bytes: this.bytes, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
  }
}

/** A file of the local set to send encrypted: its path, size and the manifest's hashes. */
export interface LocalPart {
  path: string;
  size: number;
  sha256: string | null;
}

/**
 * Sends one local stored file encrypted to `<key>/<path>.age`, checking the local bytes against the
 * manifest's SHA-256 on the way. Returns the local file's hashes and the ciphertext's.
 */
export async function sendSealed(
  dest: Destination,
  dir: string,
  key: string,
  f: LocalPart,
  sealer: Sealer,
  signal?: AbortSignal,
): Promise<{ plain: PlainHashes; sealed: PlainHashes }> {
  const mismatch = () =>
    new VerifyError(
      `Local file ${join(dir, f.path)} does not match its manifest (sha256); it was not copied.`,
      'Run `respaldo verify` on this set; copy a set that verifies.',
    );
  if (sealer.sealWhole && f.size <= SEAL_WHOLE_MAX) {
    // A small file read, checked (nothing sent when it does not match), sealed and sent whole: through the streams
    // and a new 1 MiB read buffer each, a copy of 5000 small files spent a fifth of its time collecting garbage.
    const data = await readFile(join(dir, f.path), signal ? { signal } : {});
    const local = digestOf(data);
    if (f.sha256 && local.sha256 !== f.sha256) throw mismatch();
    const box = sealer.sealWhole(data);
    await dest.put(`${key}/${f.path}${AGE_EXTENSION}`, Readable.from([box]), box.length, signal ? { signal } : {});
    await madeGarbage(Math.max(data.length + box.length, SMALL_ITEM_COST));
    return { plain: local, sealed: digestOf(box) };
  }
  const plain = new Hasher();
  const sealed = new Hasher();
  const { stream, size } = await sealer.seal();
  const source = createReadStream(join(dir, f.path), { highWaterMark: 1 << 20 });
  const body = pipeline(source, plain, stream, sealed).catch((err: unknown) => {
    sealed.destroy(err as Error);
  });
  try {
    await dest.put(`${key}/${f.path}${AGE_EXTENSION}`, sealed, size(f.size), signal ? { signal } : {});
  } catch (err) {
    source.destroy();
    sealed.destroy();
    throw err;
  }
  await body;
  const local = plain.result();
  if (f.sha256 && local.sha256 !== f.sha256) {
    await dest.delete(`${key}/${f.path}${AGE_EXTENSION}`).catch(() => undefined);
    throw mismatch();
  }
  return { plain: local, sealed: sealed.result() };
}

/** Files up to this size are sealed and sent whole (Sealer.sealWhole) by sendSealed. */
const SEAL_WHOLE_MAX = 64 << 10;

/**
 * Pure: the manifest of the encrypted copy of local set `m`: stored paths with `.age`, the ciphertext's
 * size and hashes (`sent`, by local path), and the local file's as `plain`.
 */
export function sealedManifest(
  m: Manifest,
  sent: Map<string, { plain: PlainHashes; sealed: PlainHashes }>,
  sealer: Sealer,
): Manifest {
  const at = (p: string) => {
    const s = sent.get(p);
    if (!s) throw new Error(`no encrypted copy of ${p}`);
    return s;
  };
  const databases = m.databases.map((d) => {
    if (!d.file) return d;
    const s = at(d.file);
    const extras = d.extras?.map((x) => {
      const e = at(x.file);
      return {
        ...x,
        file: x.file + AGE_EXTENSION,
        storedBytes: e.sealed.bytes,
        md5: e.sealed.md5,
        sha256: e.sealed.sha256,
        plain: e.plain,
      };
    });
    return {
      ...d,
      file: d.file + AGE_EXTENSION,
      storedBytes: s.sealed.bytes,
      md5: s.sealed.md5,
      sha256: s.sealed.sha256,
      plain: s.plain,
      ...(extras ? { extras } : {}),
    };
  });
  const files = m.files.map((f) => {
    if (!f.stored) return f;
    const s = at(f.stored);
    return { ...f, stored: f.stored + AGE_EXTENSION, md5: s.sealed.md5, sha256: s.sealed.sha256, plain: s.plain };
  });
  const storedBytes = [...sent.values()].reduce((n, s) => n + s.sealed.bytes, 0);
  return { ...m, encryption: sealer.describe, databases, files, totals: { ...m.totals, storedBytes } };
}

/** Whether the encrypted copy at the destination is complete: its manifest and every `.age` file listed. */
export function sealedCopyComplete(parts: LocalPart[], remote: Map<string, number>): boolean {
  return remote.has(MANIFEST_NAME) && parts.every((p) => remote.has(p.path + AGE_EXTENSION));
}

/** The record of encrypted files sent by copies not yet complete, beside the local set. */
export const SEALED_SENT_NAME = 'sealed-sent.json';

/** What one file's encrypted copy is: the local file's hashes and the ciphertext's. */
export interface SealedFile {
  plain: PlainHashes;
  sealed: PlainHashes;
}

type SealedSentDoc = Record<string, { encryption: ManifestEncryption; files: Record<string, SealedFile> }>;

function readSealedSent(dir: string): SealedSentDoc {
  try {
    return JSON.parse(readFileSync(join(dir, SEALED_SENT_NAME), 'utf8')) as SealedSentDoc;
  } catch {
    return {};
  }
}

/**
 * Pure: the files of `parts` an interrupted copy already left complete at the destination: recorded
 * for the same encryption, from local bytes of the manifest's SHA-256, and there with the recorded
 * ciphertext size (`remote`: sizes by stored path).
 */
export function sealedAlreadySent(
  parts: LocalPart[],
  recorded: { encryption: ManifestEncryption; files: Record<string, SealedFile> } | undefined,
  encryption: ManifestEncryption,
  remote: Map<string, number>,
): Map<string, SealedFile> {
  const out = new Map<string, SealedFile>();
  if (!recorded || JSON.stringify(recorded.encryption) !== JSON.stringify(encryption)) return out;
  for (const p of parts) {
    // The record is a file beside the set: a damaged one (any shape) only means files are sent again.
    const r = (recorded.files as Record<string, Partial<SealedFile> | undefined> | undefined)?.[p.path];
    if (!r?.plain || !r.sealed) continue;
    if (p.sha256 && r.plain.sha256 === p.sha256 && remote.get(p.path + AGE_EXTENSION) === r.sealed.bytes)
      out.set(p.path, r as SealedFile);
  }
  return out;
}

/**
 * Least time between two writes of `sealed-sent.json`. Written after every file (each write the whole record, fsynced,
 * one after another, every send waiting for its own), a copy of 5000 small files took 112–118 s and peaked at
 * 276–322 MiB RSS; a file sent and not yet recorded when a copy is cut short is only sent again.
 */
const RECORD_EVERY_MS = 500;

/** The `sealed-sent.json` entry of one destination for one local set: read, recorded file by file, cleared. */
export class SealedSentRecord {
  private writes: Promise<void> = Promise.resolve();
  /** A write waits to start (it writes every file recorded until it starts), and what ends its wait at once. */
  private queued = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private cleared = false;
  private readonly files: Record<string, SealedFile>;
  private readonly previous: { encryption: ManifestEncryption; files: Record<string, SealedFile> } | undefined;

  constructor(
    private readonly dir: string,
    private readonly destination: string,
    private readonly encryption: ManifestEncryption,
  ) {
    this.previous = readSealedSent(dir)[destination];
    this.files = {};
  }

  /** Files already complete at the destination (see `sealedAlreadySent`); they are kept in the record. */
  alreadySent(parts: LocalPart[], remote: Map<string, number>): Map<string, SealedFile> {
    const found = sealedAlreadySent(parts, this.previous, this.encryption, remote);
    for (const [p, r] of found) this.files[p] = r;
    return found;
  }

  /**
   * Records that `path` is complete at the destination: written with the files recorded after it, at most every
   * RECORD_EVERY_MS (writes are serialized; the file is replaced atomically). Best effort: a record that cannot be
   * written only means the file is sent again.
   */
  record(path: string, r: SealedFile): void {
    this.files[path] = r;
    if (this.queued) return;
    this.queued = true;
    this.writes = this.writes
      .then(async () => {
        const wait = this.lastWrite + RECORD_EVERY_MS - Date.now();
        if (wait > 0)
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            this.timer = setTimeout(resolve, wait);
          });
        this.queued = false;
        this.lastWrite = Date.now();
        if (!this.cleared) await this.save({ encryption: this.encryption, files: this.files });
      })
      .catch(() => undefined);
  }

  /** Writes what is recorded now (a copy that failed: the next one skips those files). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.wake?.();
    await this.writes;
  }

  /** Removes this destination's entry (the copy is complete); the file goes when no entry is left. Best effort. */
  async clear(): Promise<void> {
    this.cleared = true;
    await this.flush();
    await this.save(null).catch(() => undefined);
  }

  private async save(entry: SealedSentDoc[string] | null): Promise<void> {
    const others = Object.entries(readSealedSent(this.dir)).filter(([name]) => name !== this.destination);
    const doc: SealedSentDoc = Object.fromEntries(entry ? [...others, [this.destination, entry]] : others);
    if (Object.keys(doc).length)
      await writeFileAtomic(join(this.dir, SEALED_SENT_NAME), JSON.stringify(doc, null, 2) + '\n');
    else await rm(join(this.dir, SEALED_SENT_NAME), { force: true });
  }
}

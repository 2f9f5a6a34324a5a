import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { localMismatch } from './copy-local.js';
import type { FileEntry, Manifest, ManifestEncryption, PlainHashes } from '../core/types.js';
import type { Destination } from '../destinations/destination.js';
import { AGE_EXTENSION, PlainHasher, type Sealer } from './crypt.js';
import { FILE_MODE, writeFileAtomic } from './fs-util.js';
import { digestOf } from './hash-file.js';
import { madeGarbage, SMALL_ITEM_COST, youngCollected } from './garbage.js';
import { entryTexts, MANIFEST_NAME, manifestText } from './manifest.js';
import { SealedFiles, type SealedFile, type SentFiles } from './sealed-files.js';

/**
 * Copies of an unencrypted local set to a destination with `encrypt: true`: every stored file is
 * encrypted on the way (`x.zst` is sent as `x.zst.age`) and the destination gets a manifest of what
 * it holds (ciphertext hashes, the local file's hashes as the plaintext's, `encryption`), sent last.
 * A copy is complete once that manifest is there. age output is not deterministic, so a file already
 * sent cannot be recognised from the local bytes: each file's ciphertext size and hashes are recorded
 * in `sealed-sent.json` beside the local set as soon as the destination holds it, and a copy cut short
 * resumes by skipping the files there with the recorded size (sent to the same recipients, from the
 * same local bytes). The record is removed once the copy is complete.
 *
 * Why one file of about 470 lines: sending a file sealed, the sealed manifest and the journal of files sent are the
 * three halves of one resumable protocol (what the journal records is what the manifest lists), read together.
 */

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
  const mismatch = () => localMismatch(join(dir, f.path));
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
  const plain = new PlainHasher();
  const sealed = new PlainHasher();
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
 * Pure: the head of the manifest of the encrypted copy of local set `m` (its `files` as they are, see sealedEntry):
 * stored paths with `.age`, the ciphertext's size and hashes (`sent`, by local path), the local file's as `plain`.
 */
export function sealedHead(m: Manifest, sent: SentFiles, sealer: Sealer): Manifest {
  const at = sentOf(sent);
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
  return { ...m, encryption: sealer.describe, databases, totals: { ...m.totals, storedBytes: sent.sealedBytes() } };
}

/** Pure: a file's entry in the manifest of the encrypted copy (sealedHead). */
export function sealedEntry(f: FileEntry, sent: SentFiles): FileEntry {
  if (!f.stored) return f;
  const s = sentOf(sent)(f.stored);
  return { ...f, stored: f.stored + AGE_EXTENSION, md5: s.sealed.md5, sha256: s.sealed.sha256, plain: s.plain };
}

function sentOf(sent: SentFiles): (path: string) => SealedFile {
  return (p) => {
    const s = sent.get(p);
    if (!s) throw new Error(`no encrypted copy of ${p}`);
    return s;
  };
}

/**
 * The text of the manifest of the encrypted copy of `m` (a head read lean) and its file entries `entries`
 * (sealedHead, sealedEntry), as respaldo writes a manifest, in pieces of about 64 KiB: the entries gone through as it
 * is made, none held. Made whole, with the entries held, the manifest of a copy of 20 000 files took its copy to 202
 * MiB.
 */
export function* sealedManifestText(
  m: Manifest,
  entries: Iterable<FileEntry>,
  sent: SentFiles,
  sealer: Sealer,
): Generator<Buffer> {
  let pending: string[] = [];
  let length = 0;
  const texts = entryTexts(entries, (f) => sealedEntry(f, sent));
  for (const piece of manifestText(sealedHead(m, sent, sealer), texts)) {
    pending.push(piece);
    length += piece.length;
    if (length < TEXT_PIECE) continue;
    yield Buffer.from(pending.join(''));
    pending = [];
    length = 0;
  }
  if (pending.length) yield Buffer.from(pending.join(''));
}

const TEXT_PIECE = 64 << 10;

/**
 * Garbage counted (garbage.ts) for each byte of a sealed manifest's text made: the entry read from the local manifest,
 * the entry made from it, its hashes as hex and its text. Made in one stretch without collections, the text of 100 000
 * entries filled the young generation to its limit, and its pages stayed in RSS: the copy's peak rose from 157 to 172
 * MiB there. Measured under `--trace-gc` with a minor collection asked every 2 MiB of text: 24 MB made between two.
 */
const TEXT_GARBAGE = 12;

/** `pieces`, with a minor collection of what making them left every MINOR_BUDGET / TEXT_GARBAGE bytes of them. */
function collected(pieces: Iterable<Buffer>): AsyncGenerator<Buffer> {
  return youngCollected(pieces, (piece) => piece.length * TEXT_GARBAGE);
}

/**
 * Sends the manifest of the encrypted copy of `m` (sealedManifestText) to `<key>/manifest.json`: its text made once
 * for its size, again as it is sent (`entries` gives the entries anew each time; `attempt` tries the send again on
 * transient errors), both with collections on the way (TEXT_GARBAGE). Returns its size.
 */
export async function putSealedManifest(
  dest: Destination,
  key: string,
  m: Manifest,
  entries: () => Iterable<FileEntry>,
  sent: SentFiles,
  sealer: Sealer,
  attempt: (work: () => Promise<void>) => Promise<void>,
): Promise<number> {
  let size = 0;
  for await (const piece of collected(sealedManifestText(m, entries(), sent, sealer))) size += piece.length;
  await attempt(() =>
    dest.put(`${key}/${MANIFEST_NAME}`, Readable.from(collected(sealedManifestText(m, entries(), sent, sealer))), size),
  );
  return size;
}

/** Whether the encrypted copy at the destination is complete: its manifest and every `.age` file listed. */
export function sealedCopyComplete(parts: LocalPart[], remote: Map<string, number>): boolean {
  return remote.has(MANIFEST_NAME) && parts.every((p) => remote.has(p.path + AGE_EXTENSION));
}

/**
 * The record of encrypted files sent by copies not yet complete, beside the local set, as builds before 2026-12-07
 * wrote it (one JSON document, written whole): read by the copy that resumes such a copy, cleared with it.
 */
export const SEALED_SENT_NAME = 'sealed-sent.json';

/**
 * The record of encrypted files sent by copies not yet complete, beside the local set: a line of JSON for each file
 * sent (`destination`, `path`, `plain`, `sealed`), after a line naming the encryption of what follows for that
 * destination (`destination`, `encryption`); lines are only added (a line cut short by a crash is skipped), and a
 * destination's go once its copy is complete.
 */
export const SEALED_SENT_JOURNAL = 'sealed-sent.jsonl';

type SealedSentDoc = Record<string, { encryption: ManifestEncryption; files: Record<string, SealedFile> }>;

function readSealedSent(dir: string): SealedSentDoc {
  try {
    return JSON.parse(readFileSync(join(dir, SEALED_SENT_NAME), 'utf8')) as SealedSentDoc;
  } catch {
    return {};
  }
}

/** The lines of the text file `file`, read 64 KiB at a time (none if it is not there). */
function* linesOf(file: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return;
  }
  try {
    const chunk = Buffer.allocUnsafe(64 << 10);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let at = 0; ;) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      at += n;
      const text = rest + (n ? decoder.write(chunk.subarray(0, n)) : decoder.end());
      const lines = text.split('\n');
      rest = n ? lines.pop()! : '';
      yield* lines;
      if (!n) return;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Garbage counted (garbage.ts) for each byte of the journal read: its text, and each line cut from it. Read in one
 * stretch, the journal of a copy of 100 000 files (33 MB) made V8 fill its young generation five times over, and the
 * copy's RSS rose by 8 MiB at its very end. Measured under `--trace-gc`: 4.7 bytes made a byte read.
 */
const LINE_GARBAGE = 6;

/** linesOf, with a minor collection of what reading them left every MINOR_BUDGET / LINE_GARBAGE bytes of them. */
function linesCollected(file: string): AsyncGenerator<string> {
  return youngCollected(linesOf(file), (line) => (line.length + 1) * LINE_GARBAGE);
}

/** A line of the journal, or null for one that is not JSON of an object (cut short by a crash). */
function journalLine(line: string): Record<string, unknown> | null {
  try {
    const x: unknown = JSON.parse(line);
    return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Pure: the files of `parts` an interrupted copy already left complete at the destination: recorded
 * for the same encryption, from local bytes of the manifest's SHA-256, and there with the recorded
 * ciphertext size (`remote`: sizes by stored path); added to `out` when given.
 */
export function sealedAlreadySent(
  parts: LocalPart[],
  recorded: { encryption: ManifestEncryption; files: Record<string, SealedFile> } | undefined,
  encryption: ManifestEncryption,
  remote: Map<string, number>,
  out = new SealedFiles(parts.length),
): SealedFiles {
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
 * Least time between two writes to the record. Written after every file (each write the whole record, fsynced, one
 * after another, every send waiting for its own), a copy of 5000 small files took 112–118 s and peaked at 276–322
 * MiB RSS; a file sent and not yet recorded when a copy is cut short is only sent again.
 */
const RECORD_EVERY_MS = 500;

/**
 * One destination's record of the encrypted files sent of one local set (SEALED_SENT_JOURNAL): read, added to file by
 * file, cleared. Each write adds the lines of the files recorded since the last: written whole each time (as
 * SEALED_SENT_NAME was), the record of a copy of 20 000 files was read, parsed and written again twice a second.
 */
export class SealedSentRecord {
  private writes: Promise<void> = Promise.resolve();
  /** A write waits to start (it writes every file recorded until it starts), and what ends its wait at once. */
  private queued = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private cleared = false;
  /** Lines not written yet. */
  private pending: string[] = [];
  /** The line naming the encryption of this run's files, until written before the first of them. */
  private header: string | null;
  /**
   * Whether the next write starts on a new line: the first of a run (a run killed in a write left a line cut short)
   * and one after a failed write (a full disk). An empty line is skipped when read.
   */
  private newLine = true;

  constructor(
    private readonly dir: string,
    private readonly destination: string,
    private readonly encryption: ManifestEncryption,
  ) {
    this.header = JSON.stringify({ destination, encryption });
  }

  /**
   * Files already complete at the destination (see `sealedAlreadySent`): recorded for this destination, in the
   * journal under this encryption or in a record of an earlier build.
   */
  alreadySent(parts: LocalPart[], remote: Map<string, number>): SealedFiles {
    const found = sealedAlreadySent(parts, readSealedSent(this.dir)[this.destination], this.encryption, remote);
    const same = (e: unknown): boolean => JSON.stringify(e) === JSON.stringify(this.encryption);
    let files: Record<string, SealedFile> = Object.create(null) as Record<string, SealedFile>;
    let ours = false;
    for (const line of linesOf(join(this.dir, SEALED_SENT_JOURNAL))) {
      const x = journalLine(line);
      if (x?.destination !== this.destination) continue;
      if ('encryption' in x) {
        // Sent for other recipients: those files there were (or will be) replaced, whatever was recorded before.
        ours = same(x.encryption);
        if (!ours) files = Object.create(null) as Record<string, SealedFile>;
      } else if (ours && typeof x.path === 'string') files[x.path] = x as unknown as SealedFile;
    }
    return sealedAlreadySent(parts, { encryption: this.encryption, files }, this.encryption, remote, found);
  }

  /**
   * Records that `path` is complete at the destination: written with the files recorded after it, at most every
   * RECORD_EVERY_MS (writes are serialized; lines added to the journal, fsynced). Best effort: a record that cannot
   * be written only means the file is sent again.
   */
  record(path: string, r: SealedFile): void {
    this.pending.push(JSON.stringify({ destination: this.destination, path, plain: r.plain, sealed: r.sealed }));
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
        if (!this.cleared) await this.append();
      })
      .catch(() => undefined);
  }

  /** Writes what is recorded now (a copy that failed: the next one skips those files). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.wake?.();
    await this.writes;
  }

  /**
   * Removes this destination's lines (the copy is complete), and its entry of an earlier build's record; a file
   * goes when nothing else is left in it. Best effort.
   */
  async clear(): Promise<void> {
    this.cleared = true;
    await this.flush();
    await this.drop().catch(() => undefined);
  }

  private async append(): Promise<void> {
    if (!this.pending.length) return;
    const lines = this.header ? [this.header, ...this.pending] : this.pending;
    const header = this.header;
    this.pending = [];
    this.header = null;
    try {
      const fh = await open(join(this.dir, SEALED_SENT_JOURNAL), 'a', FILE_MODE);
      try {
        await fh.writeFile((this.newLine ? '\n' : '') + lines.join('\n') + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.newLine = false;
    } catch (err) {
      // Tried again at the next write, on a line of its own: a line written in part is skipped when read.
      this.pending = [...(header ? lines.slice(1) : lines), ...this.pending];
      this.header = header;
      this.newLine = true;
      throw err;
    }
  }

  private async drop(): Promise<void> {
    const journal = join(this.dir, SEALED_SENT_JOURNAL);
    const destination = this.destination;
    // Another destination's lines are kept; this one's go, and lines cut short or empty with them. This one's all start
    // so (record() and the encryption's line write `destination` first): they go unread, where the end of a copy of 100
    // 000 files parsed as many lines to drop them.
    const ours = `{"destination":${JSON.stringify(destination)},`;
    const keeps = (line: string): boolean => {
      if (line.startsWith(ours)) return false;
      const x = journalLine(line);
      return x !== null && x.destination !== destination;
    };
    let others = 0;
    for await (const line of linesCollected(journal)) if (keeps(line)) others++;
    function* kept(): Generator<string> {
      for (const line of linesOf(journal)) if (keeps(line)) yield line + '\n';
    }
    if (others) await writeFileAtomic(journal, kept());
    else await rm(journal, { force: true });
    const doc = readSealedSent(this.dir);
    if (!(this.destination in doc)) return;
    const left = Object.fromEntries(Object.entries(doc).filter(([name]) => name !== destination));
    if (Object.keys(left).length)
      await writeFileAtomic(join(this.dir, SEALED_SENT_NAME), JSON.stringify(left, null, 2) + '\n');
    else await rm(join(this.dir, SEALED_SENT_NAME), { force: true });
  }
}

import type { Phrase } from '../core/phrases.js';
import { statSync } from 'node:fs';
import { errorMessage } from '../core/errors.js';
import { english, phrase, said, saidOf, type Said } from '../core/phrases.js';
import { printedName } from '../core/format.js';
import type { Decrypter } from './age-header.js';
import { decrypterFor } from './crypt.js';
import { openStored, passphraseSample, withFirstFile } from './decrypt-set.js';
import { readThrough, type ReadThroughResult } from './stored-check.js';
import { join } from 'node:path';
import { throttled, type Reporter } from '../core/events.js';
import type { CodecName, FileEntry, LoadedConfig, Manifest, PlainHashes } from '../core/types.js';
import { VERIFIED_NAME, recordVerified, readManifestLeanOf, setDir } from './catalog.js';
import { writeLog } from './log.js';
import { ranBy } from '../core/who.js';
import { writeMetrics } from './metrics.js';
import { hashStoredFile, type FileDigest } from './hash-file.js';
import { nextBackupOnly } from './manifest.js';
import { eachLimitedOf, mapLimitedOf } from './limited.js';

export interface FileCheck {
  /** Stored path relative to the set folder. */
  path: string;
  ok: boolean;
  /** `missing`, `size 123 != 456`, `md5 mismatch`, `sha256 mismatch`. */
  problem?: string;
  bytes: number;
  /**
   * The file only serves the next differential or incremental of `database` (manifest.ts nextBackupOnly: SQLite's
   * page map): not ok, it is a warning (`VerifyReport.warnings`), and the set still verifies.
   */
  nextBackupOf?: string;
}

export interface VerifyReport {
  setId: string;
  ok: boolean;
  /**
   * The stored files that did not match (verifySet; every file checked, matching or not, before 2026-12-05: a set of
   * 100 000 files held 100 000 of them). `verifySet`'s `eachFile` is handed each file checked, in order.
   */
  files: FileCheck[];
  /** How many stored files were checked (absent: `files` holds them all). */
  checked?: number;
  /**
   * With `readData`: the set was encrypted, and every file was decrypted and its plaintext checked (every file is
   * decompressed with `readData`, encrypted or not).
   */
  decrypted?: boolean;
  /** `verify` of a differential or incremental: why the chains it applies on cannot be restored (a set missing). */
  chainProblems?: string[];
  /** `chainProblems` as phrases, one for one (the menu says them in its language). */
  chainProblemPhrases?: Phrase[];
  /** Files missing or damaged that no restore needs (`FileCheck.nextBackupOf`), each named with what it means. */
  warnings?: string[];
  /** `warnings` as phrases, one for one. */
  warningPhrases?: Phrase[];
}

/** The warning of a file a restore does not need found missing or damaged (FileCheck.nextBackupOf). */
export function nextBackupWarning(f: FileCheck): Phrase {
  return phrase('verify.nextBackupOnly', { file: printedName(f.path), problem: f.problem ?? '', db: f.nextBackupOf! });
}

/**
 * What a manifest promises about each stored file: expected size and checksums. `forRestore` leaves out the files
 * no restore reads (nextBackupOnly: SQLite's page map); otherwise they carry `nextBackupOf`, their database.
 */
export function expectedFiles(
  m: Manifest,
  onlyDatabases?: string[],
  withFiles = true,
  opts: { forRestore?: boolean } = {},
): ExpectedFile[] {
  const out: ExpectedFile[] = [];
  for (const d of m.databases) {
    if (onlyDatabases && !onlyDatabases.includes(d.name)) continue;
    if (d.file && d.md5 && d.sha256)
      out.push({ path: d.file, bytes: d.storedBytes, md5: d.md5, sha256: d.sha256, ...decoding(d) });
    for (const x of d.extras ?? []) {
      const spare = nextBackupOnly(d, x);
      if (spare && opts.forRestore) continue;
      const file = { path: x.file, bytes: x.storedBytes, md5: x.md5, sha256: x.sha256, ...decoding(x) };
      out.push(spare ? { ...file, nextBackupOf: d.name } : file);
    }
  }
  if (withFiles) out.push(...expectedOfFiles(m.files, m.codec));
  return out;
}

/** What expectedFiles says of entries of `files` (of a set whose codec is `codec`), as they are gone through. */
export function* expectedOfFiles(files: Iterable<FileEntry>, codec: CodecName | undefined): Generator<ExpectedFile> {
  for (const f of files) {
    const w = expectedOfFile(f, codec);
    if (w) yield w;
  }
}

/** The stored file of file entry `f` as expectedOfFiles gives it; undefined when it stores none or records no hash. */
export function expectedOfFile(f: FileEntry, codec: CodecName | undefined): ExpectedFile | undefined {
  if (!f.stored || !f.md5 || !f.sha256) return undefined;
  return {
    path: f.stored,
    bytes: null,
    size: f.size,
    md5: f.md5,
    sha256: f.sha256,
    codec: codec ?? 'gzip',
    ...(f.plain ? { plain: f.plain } : {}),
  };
}

/** A stored file as a manifest promises it: size (null: an application file, none recorded), checksums, decoding. */
export interface ExpectedFile {
  path: string;
  bytes: number | null;
  md5: string;
  sha256: string;
  nextBackupOf?: string;
  /** The size of its file (FileEntry.size; a database's is not said): a small one is decoded in one call. */
  size?: number;
  /** Its compression (null: stored as it is), for `verify --read-data`. */
  codec?: CodecName | null;
  /** Encrypted sets: the plaintext's size and hashes (the compressed file before encryption). */
  plain?: PlainHashes;
}

/** How a database's stored file (or an extra) decodes: its codec, its plaintext's hashes. */
function decoding(e: {
  compressed: boolean;
  codec?: CodecName;
  plain?: PlainHashes;
}): Pick<ExpectedFile, 'codec' | 'plain'> {
  return { codec: e.compressed ? (e.codec ?? 'gzip') : null, ...(e.plain ? { plain: e.plain } : {}) };
}

/**
 * Files hashed at once: enough to keep a disk busy while this thread hashes, within a bounded memory
 * budget (each file in flight holds two read buffers of `READ_BYTES`).
 */
const FILES_AT_ONCE = 4;

/**
 * The size of the file at `abs`; undefined when there is none (or it cannot be looked at: as existsSync said). One
 * stat, where existsSync then statSync made two: the sizes of 100 000 fetched files took 2.5 s of the main thread,
 * 1.7 of them existsSync's.
 */
function sizeThere(abs: string): number | undefined {
  try {
    return statSync(abs, { throwIfNoEntry: false })?.size;
  } catch {
    return undefined;
  }
}

/** What is wrong with a stored file of `size` bytes whose manifest records `bytes` (null: none); null: nothing. */
export function sizeProblem(size: number, bytes: number | null): string | null {
  return bytes === null || size === bytes ? null : `size ${size} bytes, manifest says ${bytes} (truncated or changed)`;
}

/** Re-hashes the listed stored files of a set against its manifest. Reads only. `signal` stops it between reads. */
export async function checkFiles(
  dir: string,
  expected: readonly ExpectedFile[] | (() => Iterable<ExpectedFile>),
  reporter: Reporter,
  opts: {
    hash?: boolean;
    signal?: AbortSignal;
    readThrough?: { decrypter: Decrypter | null; setId: string };
    /** Only the files it keeps are returned (all without it). */
    keep?: (f: FileCheck) => boolean;
    /** Handed each file checked, in order, kept or not. */
    onChecked?: (f: FileCheck) => void;
  } = {},
): Promise<FileCheck[]> {
  // Application files record no stored size: their size on disk counts (the progress ended above its total).
  const sizeOf = (e: ExpectedFile): number => (e.bytes !== null ? e.bytes : (sizeThere(join(dir, e.path)) ?? 0));
  // Given as a function, the files are gone through twice (their sizes, then each checked), none held meanwhile.
  const each = typeof expected === 'function' ? expected : () => expected;
  let total = 0;
  for (const e of each()) total += sizeOf(e);
  let done = 0;
  const progress = throttled((bytes) =>
    reporter.emit({ type: 'item-progress', item: 'verify', bytes, totalBytes: total }),
  );
  const check = async (e: ExpectedFile): Promise<FileCheck> => {
    const found = await checkOne(e);
    return e.nextBackupOf ? { ...found, nextBackupOf: e.nextBackupOf } : found;
  };
  const checkOne = async (e: ExpectedFile): Promise<FileCheck> => {
    opts.signal?.throwIfAborted();
    const abs = join(dir, e.path);
    const size = sizeThere(abs);
    if (size === undefined) return { path: e.path, ok: false, problem: 'missing', bytes: 0 };
    const problem = sizeProblem(size, e.bytes);
    if (problem) return { path: e.path, ok: false, problem, bytes: size };
    // Hashed already (fetched from a destination, each file checked as it arrived): present, with its size.
    if (opts.hash === false) {
      done += size;
      reporter.emit({ type: 'item-progress', item: 'verify', bytes: done, totalBytes: total });
      return { path: e.path, ok: true, bytes: size };
    }
    let seen = 0;
    const onBytes = (bytes: number): void => {
      done += bytes - seen;
      seen = bytes;
      progress(done);
    };
    const through = opts.readThrough;
    const h = through
      ? await readThrough(
          abs,
          {
            codec: e.codec ?? null,
            ...(e.size !== undefined ? { size: e.size } : {}),
            ...(through.decrypter
              ? {
                  decrypt: { decrypter: through.decrypter, label: `${e.path} of set ${through.setId}`, plain: e.plain },
                }
              : {}),
          },
          onBytes,
          opts.signal,
        )
      : await hashStoredFile(abs, onBytes, undefined, opts.signal);
    reporter.emit({ type: 'item-progress', item: 'verify', bytes: done, totalBytes: total });
    if (h.md5 !== e.md5) return { path: e.path, ok: false, problem: 'md5 mismatch (content changed)', bytes: h.bytes };
    return readThroughCheck(e, h);
  };
  if (!opts.keep && !opts.onChecked) return mapLimitedOf(each(), FILES_AT_ONCE, check);
  const kept: FileCheck[] = [];
  await eachLimitedOf(each(), FILES_AT_ONCE, check, (f) => {
    opts.onChecked?.(f);
    if (!opts.keep || opts.keep(f)) kept.push(f);
  });
  return kept;
}

/**
 * What reading a stored file through found (readThrough, or its hashes alone), here or at a destination: the first
 * of a stored SHA-256 that differs, a failed authentication, a plaintext that differs, data that does not decompress.
 */
export function readThroughCheck(
  e: Pick<ExpectedFile, 'path' | 'sha256'>,
  h: FileDigest | ReadThroughResult,
): FileCheck {
  if (h.sha256 !== e.sha256)
    return { path: e.path, ok: false, problem: 'sha256 mismatch (content changed)', bytes: h.bytes };
  if ('authFailed' in h && h.authFailed)
    return {
      path: e.path,
      ok: false,
      problem: 'failed authentication while decrypting (changed or damaged)',
      bytes: h.bytes,
    };
  if ('plainDiffers' in h && h.plainDiffers)
    return { path: e.path, ok: false, problem: 'decrypted content does not match the manifest', bytes: h.bytes };
  if ('undecodable' in h && h.undecodable !== undefined)
    return { path: e.path, ok: false, problem: notDecompressing(h.undecodable), bytes: h.bytes };
  return { path: e.path, ok: true, bytes: h.bytes };
}

/** The items of `a`, then those of `b`. */
export function* chained<T>(a: Iterable<T>, b: Iterable<T>): Generator<T> {
  yield* a;
  yield* b;
}

/** The problem of a stored file whose data does not decompress (its decompressor's error). */
function notDecompressing(err: unknown): string {
  return english(phrase('verify.notDecompressing', { error: errorMessage(err) }));
}
const NOT_DECOMPRESSING = 'does not decompress (';

/**
 * Verifies every stored file of a set (size, MD5, SHA-256: every byte is read) and records the outcome
 * beside it. With `readData` each file is also, in the same read, decrypted (an encrypted set: the key is needed)
 * with its plaintext checked against the manifest, and decompressed (output dropped): a file whose data would not
 * restore fails the set, though its hashes match (rewritten with it).
 */
export async function verifySet(
  cfg: LoadedConfig,
  id: string,
  reporter: Reporter,
  opts: { readData?: boolean; eachFile?: (f: FileCheck) => void } = {},
): Promise<VerifyReport> {
  // The entries of its files read as they are checked, none held (a set of 100 000 files held about 40 MiB of them).
  const { head, files: entries } = await readManifestLeanOf(cfg, id);
  const t0 = Date.now();
  reporter.emit({ type: 'run-start', operation: 'verify', setId: head.id, items: ['verify'] });
  reporter.emit({ type: 'item-start', item: 'verify', kind: 'verify' });
  const m = head;
  const dir = setDir(cfg, m.id);
  // --read-data: the key first (KeyError, exit 13, before anything is read), then each file read once, through
  // its hashes, age and its decompressor
  const decrypter =
    opts.readData && m.encryption
      ? await decrypterFor(cfg, m.encryption, m.id, passphraseSample(withFirstFile(m, entries), openStored(dir)))
      : null;
  const own = expectedFiles(m, undefined, false);
  // Only the files that fail are kept (a set of 100 000 files held 100 000 results), the others counted.
  let checked = 0;
  const files = await checkFiles(dir, () => chained(own, expectedOfFiles(entries.entries(), m.codec)), reporter, {
    ...(opts.readData ? { readThrough: { decrypter, setId: m.id } } : {}),
    keep: (f) => !f.ok,
    onChecked: (f) => {
      checked++;
      opts.eachFile?.(f);
    },
  });
  // A file no restore reads (the page map) missing or damaged is said, and the set is still restorable
  const spare = files.filter((f) => !f.ok && f.nextBackupOf);
  const warningPhrases = spare.map(nextBackupWarning);
  for (const w of warningPhrases) reporter.emit({ type: 'warning', ...saidOf(w) });
  const bad = files.filter((f) => !f.ok && !f.nextBackupOf);
  const ok = !bad.length;
  reporter.emit({
    type: 'item-end',
    item: 'verify',
    ok,
    durationMs: Date.now() - t0,
    ...(ok ? {} : badFilesError(bad)),
    // Its hashes matched: rewritten with them, or damaged before they were made; no restore of it would work
    ...(bad.some((b) => b.problem?.startsWith(NOT_DECOMPRESSING))
      ? saidHint(phrase('verify.notDecompressingHint'))
      : {}),
  });
  reporter.emit({ type: 'run-end', ok, setId: m.id, durationMs: Date.now() - t0 });
  await recordVerified(
    cfg,
    m.id,
    ok,
    bad.map((b) => b.path),
  ).catch((err: unknown) => recordNotWritten(reporter, m.id, err));
  await writeMetrics(cfg);
  writeLog(
    cfg.backupDir,
    'verify',
    {
      setId: m.id,
      outcome: ok ? 'ok' : 'failed',
      files: checked,
      ...(opts.readData ? { readData: true, decrypted: Boolean(m.encryption) } : {}),
      problems: bad.map((b) => `${b.path}: ${b.problem}`),
      ...(spare.length ? { warnings: warningPhrases.map(english) } : {}),
      durationMs: Date.now() - t0,
      ranBy: ranBy(),
    },
    cfg.secrets,
  );
  return {
    setId: m.id,
    ok,
    files,
    checked,
    ...(opts.readData && m.encryption ? { decrypted: true } : {}),
    ...(spare.length ? { warnings: warningPhrases.map(english), warningPhrases } : {}),
  };
}

function saidHint(p: Phrase): { hint: string; hintPhrase: Phrase } {
  return { hint: english(p), hintPhrase: p };
}

/** A record beside a set (verified.json, drilled.json) that could not be written: a warning, never a failure. */
export function recordNotWritten(reporter: Reporter, id: string, err: unknown, file = VERIFIED_NAME): void {
  reporter.emit({ type: 'warning', ...said('note.recordNotWritten', { file, id, error: errorMessage(err) }) });
}

/**
 * The `error` (English: CLI, logs) and `errorPhrase` (the menu's language) of a verify bar's end that found `bad`
 * stored files: `path: problem; …`.
 */
export function badFilesError(bad: { path: string; problem?: string }[]): {
  error: string;
  errorPhrase: Said['phrase'];
} {
  const s = said('verify.badFiles', { problems: bad.map((b) => `${printedName(b.path)}: ${b.problem}`).join('; ') });
  return { error: s.message, errorPhrase: s.phrase };
}

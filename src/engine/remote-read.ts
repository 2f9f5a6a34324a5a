import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DestinationError, VerifyError } from '../core/errors.js';
import { printedName } from '../core/format.js';
import { english, phrase, type Phrase } from '../core/phrases.js';
import type { FileEntry, LoadedConfig, Manifest } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { withRetries } from './copy.js';
import { decrypterFor } from './crypt.js';
import { decryptedView, decryptingReader, passphraseSample } from './decrypt-set.js';
import type { StoredReader } from './stored-part.js';
import { expectedFiles, expectedOfFile } from './verify.js';

/**
 * Restoring straight from a destination, without a local copy of the set (`restore --from NAME --stream`, or
 * when the backup folder has no room to fetch it): each stored file is streamed from the destination as the
 * driver reads it into the copy it builds beside the target, its size and SHA-256 checked on the way against
 * the manifest. A file that does not match errors its stream before the end, so that copy fails and the target
 * is never swapped. An encrypted file is decrypted on the way: age authenticates each 64 KiB chunk before it
 * releases it, and the plaintext's hashes are checked at the end.
 */

/** The stored files of the sets of one destination, streamed into a restore. */
export interface RemoteFiles {
  /** The destination's name, for messages. */
  readonly destination: string;
  /**
   * The manifest to restore set `m` from (the decrypted view of an encrypted set: the key is asked for here)
   * and the reader of its stored files.
   */
  open(m: Manifest): Promise<{ manifest: Manifest; read: StoredReader }>;
  /** Closes the destination (what is still reading there fails). */
  close(): Promise<void>;
}

/** Reads the sets of `source` at `dest` (open while the restore runs; the caller closes it). */
export function remoteFiles(
  cfg: Pick<LoadedConfig, 'encryption'>,
  dest: Destination,
  source: string,
  damagedHint: (id: string) => Phrase,
  onResume?: (r: ResumedRead) => void,
): RemoteFiles {
  return {
    destination: dest.name,
    async open(m) {
      const raw = checkedReader(dest, source, m, damagedHint(m.id), onResume);
      if (!m.encryption) return { manifest: m, read: raw };
      const sample = passphraseSample(m, (path) => Promise.resolve(raw(path)));
      const decrypter = await decrypterFor(cfg, m.encryption, m.id, sample);
      const from = { destination: dest.name, hint: english(damagedHint(m.id)) };
      return { manifest: decryptedView(m), read: decryptingReader(decrypter, raw, m, from) };
    },
    close: () => dest.close().catch(() => undefined),
  };
}

/** A read that failed in the middle of a file, resumed where it stopped (the restore warns of it). */
export interface ResumedRead {
  /** Bytes of the file read before the failure, where the read goes on. */
  at: number;
  /** The failure, naming the destination and the file. */
  error: Error;
}

/** Failures in a row, with no byte read between them, after which a file's read stops being resumed. */
export const RESUMES_WITHOUT_PROGRESS = 3;

/**
 * The reader of set `m` at `dest`: each file streamed, its size and SHA-256 checked against the manifest as it
 * passes. A mismatch, or a file the manifest lists and the destination lacks, is a VerifyError raised in the
 * stream (before its end); opening it is retried on transient errors. A transient failure in the middle (a
 * dropped connection) is resumed from the byte where it stopped, after a pause, and the hash goes on over the
 * same bytes as if nothing had happened; it gives up after `RESUMES_WITHOUT_PROGRESS` failures in a row with
 * nothing read between them.
 */
export function checkedReader(
  dest: Destination,
  source: string,
  m: Manifest,
  hint: Phrase,
  onResume: (r: ResumedRead) => void = () => undefined,
  pauseMs = 500,
): StoredReader {
  // The set's stored files its manifest lists (a manifest read lean: its databases'; a file's comes with its entry).
  const expected = new Map(expectedFiles(m).map((w) => [w.path, w]));
  /** Damage of `file` there: its phrase (`fetch.*There`), said with the hint. */
  const damage = (id: 'fetch.notListed' | 'fetch.missingThere' | 'fetch.changedThere', file: string) => {
    const message = phrase(id, { dest: dest.name, file: `${setKey(source, m.id)}/${printedName(file)}` });
    return new VerifyError(english(message), english(hint)).withPhrases(message, hint);
  };
  async function* read(file: string, entry?: FileEntry): AsyncGenerator<Buffer> {
    const w = expected.get(file) ?? (entry?.stored === file ? expectedOfFile(entry, m.codec) : undefined);
    if (!w) throw damage('fetch.notListed', file);
    const open = (offset: number) =>
      withRetries(() => dest.get(`${setKey(source, m.id)}/${file}`, offset ? { offset } : {})).catch((err: unknown) => {
        if (err instanceof DestinationError && err.kind === 'notFound') throw damage('fetch.missingThere', file);
        throw err;
      });
    const hash = createHash('sha256');
    const damaged = () => damage('fetch.changedThere', file);
    let bytes = 0;
    let failures = 0;
    let raw = await open(0);
    for (;;) {
      const before = bytes;
      try {
        for await (const chunk of raw as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (w.bytes !== null && bytes > w.bytes) throw damaged();
          hash.update(chunk);
          yield chunk;
        }
        break;
      } catch (err) {
        // The SHA-256 at the end covers the joined reads: a file that changed there in between is found.
        const resumable = err instanceof DestinationError && err.transient && (w.bytes === null || bytes < w.bytes);
        failures = bytes > before ? 1 : failures + 1;
        if (!resumable || failures > RESUMES_WITHOUT_PROGRESS) throw err;
        onResume({ at: bytes, error: err });
        await new Promise((r) => setTimeout(r, pauseMs * failures));
        raw = await open(bytes);
      }
    }
    if (hash.digest('hex') !== w.sha256 || (w.bytes !== null && bytes !== w.bytes)) throw damaged();
  }
  return (file, entry) => Readable.from(read(file, entry), { objectMode: false });
}

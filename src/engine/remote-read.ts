import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DestinationError, VerifyError } from '../core/errors.js';
import type { LoadedConfig, Manifest } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { withRetries } from './copy.js';
import { decrypterFor } from './crypt.js';
import { decryptedView, decryptingReader, passphraseSample } from './decrypt-set.js';
import type { StoredReader } from './stored-part.js';
import { expectedFiles } from './verify.js';

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
  damagedHint: (id: string) => string,
): RemoteFiles {
  return {
    destination: dest.name,
    async open(m) {
      const raw = checkedReader(dest, source, m, damagedHint(m.id));
      if (!m.encryption) return { manifest: m, read: raw };
      const sample = passphraseSample(m, (path) => Promise.resolve(raw(path)));
      const decrypter = await decrypterFor(cfg, m.encryption, m.id, sample);
      return { manifest: decryptedView(m), read: decryptingReader(decrypter, raw, m) };
    },
    close: () => dest.close().catch(() => undefined),
  };
}

/**
 * The reader of set `m` at `dest`: each file streamed, its size and SHA-256 checked against the manifest as it
 * passes. A mismatch, or a file the manifest lists and the destination lacks, is a VerifyError raised in the
 * stream (before its end); opening it is retried on transient errors, a failure in the middle is not.
 */
export function checkedReader(dest: Destination, source: string, m: Manifest, hint: string): StoredReader {
  const expected = new Map(expectedFiles(m).map((w) => [w.path, w]));
  const where = (file: string) => `destination "${dest.name}": ${setKey(source, m.id)}/${file}`;
  async function* read(file: string): AsyncGenerator<Buffer> {
    const w = expected.get(file);
    if (!w) throw new VerifyError(`${where(file)} is not listed in its manifest.`, hint);
    const raw = await withRetries(() => dest.get(`${setKey(source, m.id)}/${file}`)).catch((err: unknown) => {
      if (err instanceof DestinationError && err.kind === 'notFound')
        throw new VerifyError(`${where(file)} is missing there, though its manifest lists it.`, hint);
      throw err;
    });
    const hash = createHash('sha256');
    const damaged = () =>
      new VerifyError(`${where(file)} does not match its manifest (changed or damaged there).`, hint);
    let bytes = 0;
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (w.bytes !== null && bytes > w.bytes) throw damaged();
      hash.update(chunk);
      yield chunk;
    }
    if (hash.digest('hex') !== w.sha256 || (w.bytes !== null && bytes !== w.bytes)) throw damaged();
  }
  return (file) => Readable.from(read(file), { objectMode: false });
}

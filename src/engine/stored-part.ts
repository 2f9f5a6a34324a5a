import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { NotFoundError, RespaldoError, VerifyError, errorMessage } from '../core/errors.js';
import type { DatabaseEntry } from '../core/types.js';
import { english, phrase } from '../core/phrases.js';
import { codecOfEntry } from './codec.js';
import { readChunkFor } from './fs-util.js';

/**
 * Opens the raw stored bytes of a file of one set by its path in the set (`users.sqlite.zst`), as a fresh
 * stream: read from the set's folder here, or streamed from a destination and checked on the way
 * (remote-read.ts). A file that turns out damaged errors the stream before its end.
 */
export type StoredReader = (file: string) => Readable;

/** The reader of the set in folder `dir`; a stored file that is gone is a damaged set (VerifyError, exit 5). */
export function localReader(dir: string, name: string): StoredReader {
  return (file) => Readable.from(readStored(join(dir, file), name), { objectMode: false });
}

/**
 * Opens the decompressed content of a stored part of a database entry (`main`, or an extra by its
 * role) in the set folder `dir` (or through `read`), as a fresh stream. A read or decompression error
 * reaches the reader; a stored file that is gone is a damaged set (VerifyError, exit 5), not a raw ENOENT.
 */
export function openStoredPart(dir: string | StoredReader, entry: DatabaseEntry, role = 'main'): Readable {
  const part = role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role);
  const where = typeof dir === 'string' ? ` in ${dir}` : '';
  if (!part?.file) throw new NotFoundError(`The backup of ${entry.name} has no ${role} file${where}.`);
  const raw = (typeof dir === 'string' ? localReader(dir, entry.name) : dir)(part.file);
  const codec = codecOfEntry(part);
  if (!codec) return raw;
  const decoded = pipeline(raw, codec.decompressor(), () => undefined);
  return Readable.from(undecodableIsDamage(decoded, part.file, entry.name), { objectMode: false });
}

/**
 * The decompressed bytes of `file` (stored for `name`: a database, or a restored file's path), where data the
 * decompressor cannot decode is a damaged stored file (VerifyError, exit 5), not an internal error: a file streamed
 * from a destination may reach the decompressor's complaint before its own hash is checked at its end, and one whose
 * hashes were rewritten with it matches them. Read errors and interruptions pass.
 */
export async function* undecodableIsDamage(decoded: Readable, file: string, name: string): AsyncGenerator<Buffer> {
  try {
    yield* decoded as AsyncIterable<Buffer>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    const passes =
      err instanceof RespaldoError ||
      (err as Error | null)?.name === 'AbortError' ||
      (typeof code === 'string' && (/^E[A-Z]+$/.test(code) || code.startsWith('ERR_')));
    if (passes) throw err;
    // Read here or streamed from a destination: the hint names both places another set can come from.
    const message = phrase('error.storedNotDecompressing', { file, name, error: errorMessage(err) });
    const hint = phrase('error.storedNotDecompressingHint');
    throw new VerifyError(english(message), english(hint)).withPhrases(message, hint);
  }
}

async function* readStored(path: string, name: string): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new VerifyError(`The stored file ${path} of ${name} is missing.`);
  }
  // A read buffer no larger than the file (readChunkFor). The stream closes the handle when it ends or is destroyed.
  const size = await handle.stat().then(
    (st) => st.size,
    () => 1 << 20,
  );
  yield* handle.createReadStream({ highWaterMark: readChunkFor(size) }) as AsyncIterable<Buffer>;
}

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { NotFoundError, VerifyError } from '../core/errors.js';
import type { DatabaseEntry } from '../core/types.js';
import { codecOfEntry } from './codec.js';

/**
 * Opens the decompressed content of a stored part of a database entry (`main`, or an extra by its
 * role) in the set folder `dir`, as a fresh stream. A read or decompression error reaches the reader;
 * a stored file that is gone is a damaged set (VerifyError, exit 5), not a raw ENOENT.
 */
export function openStoredPart(dir: string, entry: DatabaseEntry, role = 'main'): Readable {
  const part = role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role);
  if (!part?.file) throw new NotFoundError(`The backup of ${entry.name} has no ${role} file in ${dir}.`);
  const path = join(dir, part.file);
  const raw = Readable.from(readStored(path, entry.name), { objectMode: false });
  const codec = codecOfEntry(part);
  return codec ? pipeline(raw, codec.decompressor(), () => undefined) : raw;
}

async function* readStored(path: string, name: string): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new VerifyError(`The stored file ${path} of ${name} is missing.`);
  }
  // The stream closes the handle when it ends or is destroyed.
  yield* handle.createReadStream({ highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
}

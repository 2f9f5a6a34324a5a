import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { NotFoundError } from '../core/errors.js';
import type { DatabaseEntry } from '../core/types.js';
import { codecOfEntry } from './codec.js';

/**
 * Opens the decompressed content of a stored part of a database entry (`main`, or an extra by its
 * role) in the set folder `dir`, as a fresh stream. A read or decompression error reaches the reader.
 */
export function openStoredPart(dir: string, entry: DatabaseEntry, role = 'main'): Readable {
  const part = role === 'main' ? entry : (entry.extras ?? []).find((x) => x.role === role);
  if (!part?.file) throw new NotFoundError(`The backup of ${entry.name} has no ${role} file in ${dir}.`);
  const raw = createReadStream(join(dir, part.file), { highWaterMark: 1 << 20 });
  const codec = codecOfEntry(part);
  return codec ? pipeline(raw, codec.decompressor(), () => undefined) : raw;
}

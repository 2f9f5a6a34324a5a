import type { FileHandle } from 'node:fs/promises';
import { promises as fsp } from 'node:fs';
import type { BlockReader } from './types.js';

/** Files read as BlockReaders: into the caller's buffers, which it reuses (the engine's compressor, S3's parts). */

/**
 * An open file, which nothing changes meanwhile, read from its start as a BlockReader (into the caller's
 * buffers, each filled whole but the last); `close` closes it.
 */
export function handleBlockReader(fh: FileHandle): BlockReader {
  let pos = 0;
  return {
    async read(into) {
      let filled = 0;
      while (filled < into.length) {
        const { bytesRead } = await fh.read(into, filled, into.length - filled, pos);
        if (bytesRead === 0) break;
        filled += bytesRead;
        pos += bytesRead;
      }
      return filled;
    },
    close: () => fh.close(),
  };
}

/** handleBlockReader of the file at `path`, opened at the first read. */
export function fileBlockReader(path: string): BlockReader {
  let reader: BlockReader | undefined;
  return {
    async read(into) {
      reader ??= handleBlockReader(await fsp.open(path, 'r'));
      return reader.read(into);
    },
    close: async () => reader?.close(),
  };
}

import { readFileSync, writeFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { codec, defaultCodecName } from '../../src/engine/codec.js';

/** Suffix of the compressed files of a set made with the default codec on this Node (`.zst`, else `.gz`). */
export const STORED_EXT = codec(defaultCodecName()).extension;

type Zstd = { zstdDecompressSync(b: Buffer): Buffer; zstdCompressSync(b: Buffer): Buffer };

/** The content of a stored file, decompressed by its suffix (`.gz`, `.zst`; anything else as it is). */
export function readStored(path: string): Buffer {
  const raw = readFileSync(path);
  if (path.endsWith('.gz')) return zlib.gunzipSync(raw);
  if (path.endsWith('.zst')) return (zlib as unknown as Zstd).zstdDecompressSync(raw);
  return raw;
}

/** Writes `content` compressed the way `path`'s suffix says; returns the bytes written. */
export function writeStored(path: string, content: Buffer): Buffer {
  const out = path.endsWith('.gz')
    ? zlib.gzipSync(content)
    : path.endsWith('.zst')
      ? (zlib as unknown as Zstd).zstdCompressSync(content)
      : content;
  writeFileSync(path, out);
  return out;
}

/**
 * files-to-send.ts: the files a copy sends, their SHA-256 kept as bytes in one array (a copy of 100 000 files held
 * 8 MiB of hex strings for them) and given back exactly as the manifest had them.
 */
import { describe, expect, it } from 'vitest';
import { FilesToSend } from '../src/engine/files-to-send.js';

const hex = (i: number) => i.toString(16).padStart(64, '0');

describe('FilesToSend', () => {
  it('gives back each file as added, past the room first made, with a hash that is not hex or none', () => {
    const out = new FilesToSend(2);
    for (let i = 0; i < 300; i++) out.add(`application/f${i}.zst`, i * 7, hex(i * 7919));
    out.add('application/odd.zst', 1, 'ABC'); // not lowercase hex: kept as it is
    out.add('application/none.zst', 2, null);
    out.add('application/last.zst', 3, 'f'.repeat(64));
    const got = out.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
    expect(got).toEqual([
      ...Array.from({ length: 300 }, (_, i) => ({ path: `application/f${i}.zst`, size: i * 7, sha256: hex(i * 7919) })),
      { path: 'application/odd.zst', size: 1, sha256: 'ABC' },
      { path: 'application/none.zst', size: 2, sha256: null },
      { path: 'application/last.zst', size: 3, sha256: 'f'.repeat(64) },
    ]);
  });
});

/**
 * A copy's rerun tells the set at the destination by the start of its manifest there (startedAtThere), not by
 * fetching all of it: 58 MB for a set of 100 000 files, over the network for an off-site store.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Destination } from '../src/destinations/destination.js';
import { HEAD_BYTES, startedAtThere } from '../src/engine/remote-head.js';
import { manifestText } from '../src/engine/manifest.js';
import type { FileEntry, Manifest } from '../src/core/types.js';

/** A destination holding `text` at every key: only `get` is used; counts the bytes its streams handed out. */
function holding(text: string | Error): { dest: Destination; read: () => number } {
  let read = 0;
  const dest = {
    name: 'nas',
    async get(): Promise<Readable> {
      if (text instanceof Error) throw text;
      const body = Buffer.from(text);
      return Readable.from(
        (function* () {
          for (let at = 0; at < body.length; at += 16 << 10) {
            const chunk = body.subarray(at, at + (16 << 10));
            read += chunk.length;
            yield chunk;
          }
        })(),
      );
    },
  } as unknown as Destination;
  return { dest, read: () => read };
}

const entry = (i: number): FileEntry => ({
  group: 'application',
  source: `/srv/app/uploads/f${i}.bin`,
  relative: `uploads/f${i}.bin`,
  kind: 'file',
  stored: `application/uploads/f${i}.bin.zst`,
  linkTarget: null,
  size: 100,
  mode: 0o644,
  mtime: '2026-12-07T10:00:00.000Z',
  md5: 'd41d8cd98f00b204e9800998ecf8427e',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
});

const manifest = (files: number): Manifest =>
  ({
    schemaVersion: 1,
    id: '20261207_100000',
    type: 'full',
    description: 'before the upgrade, "v2"',
    startedAt: '2026-12-07T10:00:00.125Z',
    completedAt: '2026-12-07T10:01:00.000Z',
    status: 'completed',
    tool: { name: 'respaldo', version: '0.1.0' },
    host: 'app1',
    job: null,
    ranBy: { user: 'root', host: 'app1', pid: 1, command: 'respaldo create' },
    databases: [],
    files: Array.from({ length: files }, (_, i) => entry(i)),
    totals: { files, storedBytes: 0 },
  }) as unknown as Manifest;

describe('startedAtThere', () => {
  it('reads the startedAt of a manifest as respaldo writes it from its start, not its 8 MB of files', async () => {
    const text = [...manifestText(manifest(20_000))].join('');
    expect(text.length).toBeGreaterThan(8 << 20);
    const { dest, read } = holding(text);
    expect(await startedAtThere(dest, 'app1/20261207_100000/manifest.json')).toBe('2026-12-07T10:00:00.125Z');
    // What one read ahead may take past the bytes looked at, at most.
    expect(read()).toBeLessThanOrEqual(HEAD_BYTES + (64 << 10));
  });

  it('says nothing of another layout, a field of a nested object, a cut start or a file it cannot read', async () => {
    const m = manifest(3);
    const said = async (text: string | Error) => startedAtThere(holding(text).dest, 'k');
    // Written on one line (not by respaldo): the whole manifest is read instead.
    expect(await said(JSON.stringify(m))).toBeNull();
    // Only inside an object of the manifest, never the manifest's own field.
    const { startedAt: _s, ...noOwn } = m as unknown as Record<string, unknown>;
    expect(await said(JSON.stringify({ ...noOwn, job: { startedAt: 'x' } }, null, 2))).toBeNull();
    expect(await said('')).toBeNull();
    expect(await said('{\n  "schemaVersion": 1,\n  "id": "20261207_100000",\n  "star')).toBeNull();
    expect(await said(new Error('ECONNRESET'))).toBeNull();
    // An escaped quote in the value is not a time respaldo writes: not read as one.
    expect(await said('{\n  "startedAt": "2026\\"x",\n')).toBeNull();
    expect(await said('{\n  "startedAt": "2026-12-07T10:00:00.125Z"\n}')).toBe('2026-12-07T10:00:00.125Z');
  });
});

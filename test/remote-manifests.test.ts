/**
 * Manifests read from a destination several at once (readRemoteManifests): each read costs round trips, so a
 * listing of a distant destination's sets no longer takes one round trip after another per set. At most
 * MANIFESTS_AT_ONCE are read at once, the sets come back in the order asked, and a bad manifest among them still
 * makes only its own set damaged. Against a stand-in destination whose reads take a while.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Destination } from '../src/destinations/destination.js';
import { MANIFESTS_AT_ONCE, readRemoteManifests } from '../src/engine/remote.js';

describe('manifests read from a destination', () => {
  it(`are read ${MANIFESTS_AT_ONCE} at once, in order, a bad one named alone`, async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `20261202_0700${String(i).padStart(2, '0')}`);
    let reading = 0;
    let most = 0;
    // Each read makes its scratch folder first (real I/O), so under load the first reads could end before the last
    // began: the reads wait until as many as may be are under way (or 2 s, for a limit that lets fewer through).
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const late = setTimeout(() => open(), 2000);
    const dest = {
      name: 'far',
      describe: () => 'sftp://far/backups',
      async get(key: string) {
        reading++;
        most = Math.max(most, reading);
        if (reading === MANIFESTS_AT_ONCE) open();
        await gate;
        await new Promise((r) => setTimeout(r, 5));
        reading--;
        const id = key.split('/')[1]!;
        const text =
          id === ids[7]
            ? '{ not json'
            : JSON.stringify({
                schemaVersion: 1,
                id,
                type: 'full',
                status: 'completed',
                startedAt: '2026-12-02T07:00:00.000Z',
                completedAt: '2026-12-02T07:00:01.000Z',
                totals: { storedBytes: 0, rawBytes: 0, files: 0 },
                databases: [],
                files: [],
              });
        return Readable.from([Buffer.from(text)]);
      },
    } as unknown as Destination;
    const { manifests, damaged } = await readRemoteManifests(
      dest,
      ids.map((id) => ({ source: 'srv1', id })),
    );
    clearTimeout(late);
    expect(most).toBe(MANIFESTS_AT_ONCE);
    expect(manifests.map((x) => x.m.id)).toEqual(ids.filter((id) => id !== ids[7]));
    expect(damaged.map((d) => d.id)).toEqual([ids[7]]);
    expect(damaged[0]!.problem).toMatch(/unreadable manifest/);
  });
});

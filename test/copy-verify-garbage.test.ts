/**
 * `copy --verify` reads back every file at the destination: what each read leaves (its stream, its chunks) counts
 * towards the collections of garbage.ts, as a file sent or fetched does. Uncounted, a read back of 100 000 small files
 * left 300 MiB of garbage in V8's old generation (peak RSS 445 MiB plain, 667 encrypted).
 */
import { describe, expect, it, vi } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { silentReporter } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, withNas } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

vi.mock('../src/engine/garbage.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/engine/garbage.js')>();
  return { ...real, madeGarbage: vi.fn(real.madeGarbage) };
});
const { madeGarbage, SMALL_ITEM_COST } = await import('../src/engine/garbage.js');
const { copySets } = await import('../src/engine/copy.js');

describe('copy --verify, the garbage of reading back', () => {
  it('each file read back there counts for a small file, and its bytes as they come', async () => {
    const s = demoSetup();
    withNas(s);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const stored = m.databases.filter((d) => d.file).length + m.files.filter((f) => f.stored).length;
    const bytes = m.databases.reduce((n, d) => n + d.storedBytes, 0);
    const cfg = await loadConfig({ configPath: s.configFile });
    const before = vi.mocked(madeGarbage).mock.calls.length;

    const [r] = await copySets(cfg, { id: m.id, to: 'nas' }, silentReporter, { verify: true });

    expect(r?.ok).toBe(true);
    expect(r?.reread).toBe(stored + 1); // and the manifest
    const counted = vi
      .mocked(madeGarbage)
      .mock.calls.slice(before)
      .map(([n]) => n);
    expect(counted.filter((n) => n === SMALL_ITEM_COST).length).toBeGreaterThanOrEqual(stored + 1);
    // Every chunk read back counted too: the databases' bytes at least, beside the per-file counts.
    expect(counted.filter((n) => n !== SMALL_ITEM_COST).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(bytes);
  });
});

/**
 * A stored file cut short at a destination is named with its size and the manifest's by `verify --from` (exit 5)
 * and by `copy --verify`, which sends it again, in the words a local `verify` uses (verify.ts sizeProblem): the three
 * wrote the sentence out each. Real CLI, a folder destination.
 */
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, withNas } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

describe('a stored file cut short at a destination', () => {
  it('is said with both sizes by verify --from and copy --verify, which sends it again', async () => {
    const s = demoSetup();
    const nas = withNas(s);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const db = m.databases.find((d) => d.name === 'users')!.file!;
    const there = join(nas, 'srv1', m.id, db);
    const size = statSync(there).size;
    truncateSync(there, size - 10);
    const problem = `size ${size - 10} bytes, manifest says ${size} (truncated or changed)`;

    const v = await cli(s, ['verify', m.id, '--from', 'nas'], 5);
    expect(v.stdout).toContain(`${db}: ${problem}`);

    const r = parseJsonOutput<{ resent?: { path: string; problem: string }[] }[]>(
      (await cli(s, ['copy', m.id, '--to', 'nas', '--verify', '--json'])).stdout,
    );
    expect(r[0]!.resent).toEqual([{ path: db, problem }]);
    expect(statSync(there).size).toBe(size);
    await cli(s, ['verify', m.id, '--from', 'nas', '--read-data']);
  });
});

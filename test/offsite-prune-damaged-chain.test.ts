/**
 * `prune --from` at a real folder destination keeps what a set whose manifest is damaged there may need, as the local
 * `prune` does (keepForDamaged): the bases its manifest's text still names, or, when it names none (unreadable), every
 * older set back to the newest full before it. Else a damaged differential, copied there again once repaired, would
 * find its full pruned.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

interface Plan {
  sets: { id: string; action: string; reasons: string[] }[];
  damaged: { id: string }[];
}

describe('prune --from keeps the chain of a set whose manifest is damaged there', () => {
  it('the full a damaged differential names is kept; with nothing readable, the sets back to the full before it', async () => {
    const manual = { days: 0, keepLast: 1 };
    const s = demoSetup({ retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual } });
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1', copyAfterBackup: false }],
      }),
    );
    const create = async (args: string[]) =>
      parseJsonOutput<Manifest>((await cli(s, ['create', '--json', ...args])).stdout);
    const full = await create([]);
    const diff = await create(['--type', 'differential', '--db', 'users', '--no-files']);
    const newer = await create([]);
    expect(diff.databases.find((d) => d.name === 'users')!.base).toBe(full.id);
    await cli(s, ['copy', '--to', 'nas']);
    const manifestThere = join(nas, 'srv1', diff.id, 'manifest.json');
    const text = readFileSync(manifestThere, 'utf8');

    // Cut short: the JSON does not parse, but its text still names its base.
    writeFileSync(manifestThere, text.slice(0, text.indexOf('"files"')));
    const dry = await cli(s, ['prune', '--from', 'nas', '--dry-run', '--json'], 5);
    const plan = parseJsonOutput<Plan>(dry.stdout);
    expect(plan.damaged.map((d) => d.id)).toEqual([diff.id]);
    expect(plan.sets.map((x) => [x.id, x.action])).toEqual([
      [newer.id, 'keep'],
      [full.id, 'keep'],
    ]);
    expect(plan.sets[1]!.reasons).toEqual([`may be needed by ${diff.id} (damaged manifest; chain)`]);

    // Nothing readable: its chain is unknown, so every older set back to the newest full before it is kept.
    writeFileSync(manifestThere, '{"broken');
    await cli(s, ['prune', '--from', 'nas', '--json'], 5);
    for (const id of [newer.id, diff.id, full.id]) expect(existsSync(join(nas, 'srv1', id)), id).toBe(true);
    expect(existsSync(join(nas, 'srv1', full.id, 'manifest.json'))).toBe(true);

    // Repaired (copied there again), the differential finds its chain, and the retention applies as usual.
    await cli(s, ['copy', diff.id, '--to', 'nas']);
    expect(readFileSync(manifestThere, 'utf8')).toBe(text);
    const after = parseJsonOutput<Plan>((await cli(s, ['prune', '--from', 'nas', '--dry-run', '--json'])).stdout);
    expect(after.damaged).toEqual([]);
    expect(after.sets.find((x) => x.id === full.id)!.reasons).toEqual([`needed by ${diff.id} (chain)`]);
  });
});

/**
 * Two configs sharing a `source` copy two different sets of one id to one folder destination at the very same moment.
 * Each had checked that no manifest was there before sending: both sent their files over each other's and both
 * wrote their manifest, both saying "copied". Now each claims the set first (copy-claim.ts): never do both send; the
 * one refused sent nothing; what is there reads back whole, and no claim is left behind.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Manifest } from '../src/core/types.js';
import { copySet, type CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { FakeReporter } from './helpers/reporter.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

function withNas(s: DemoSetup, root: string): void {
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  const destinations = [{ name: 'nas', type: 'folder', path: root, source: 'srv1', copyAfterBackup: false }];
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations }));
}

describe('two copies of two sets of one id at the same moment', () => {
  it('never both send: one is copied whole or both refuse, nothing sent by the one refused', async () => {
    const a = demoSetup();
    const b = demoSetup();
    const root = join(a.dir, 'nas');
    mkdirSync(root);
    withNas(a, root);
    withNas(b, root);
    const made = parseJsonOutput<Manifest>((await cli(b, ['create', '--db', 'inventario', '--json'])).stdout);
    // The other config made its own set (another database) in that very second: same id, another start time.
    const own = parseJsonOutput<Manifest>((await cli(a, ['create', '--db', 'users', '--json'])).stdout);
    renameSync(join(a.backupDir, own.id), join(a.backupDir, made.id));
    const later = new Date(Date.parse(made.startedAt) + 1).toISOString();
    writeFileSync(
      join(a.backupDir, made.id, 'manifest.json'),
      JSON.stringify({ ...own, id: made.id, startedAt: later }, null, 2),
    );
    const [cfgA, cfgB] = await Promise.all([a, b].map((s) => loadConfig({ configPath: s.configFile, env: {} })));

    const results = await Promise.all([
      copySet(cfgA!, made.id, 'nas', new FakeReporter()),
      copySet(cfgB!, made.id, 'nas', new FakeReporter()),
    ]);
    const done = results.filter((r) => r.ok);
    expect(done.length, JSON.stringify(results)).toBeLessThanOrEqual(1);
    for (const r of results.filter((x) => !x.ok)) {
      expect(r.filesSent).toBe(0);
      expect(r.error).toMatch(/not this one/);
    }

    // Run again one after the other: the first to get there is copied, the other refused, the set there whole.
    const winner = done.length ? (results[0]!.ok ? a : b) : a;
    const loser = winner === a ? b : a;
    if (!done.length) await cli(winner, ['copy', made.id, '--to', 'nas']);
    const again = parseJsonOutput<CopyResult[]>(
      (await cli(loser, ['copy', made.id, '--to', 'nas', '--json'], 12)).stdout,
    );
    expect(again[0]).toMatchObject({ ok: false, filesSent: 0 });
    expect(again[0]!.error).toContain(`already holds a set ${made.id} of source "srv1" that is not this one`);
    const there = JSON.parse(readFileSync(join(root, 'srv1', made.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(there.startedAt).toBe(winner === a ? later : made.startedAt);
    await cli(winner, ['verify', made.id, '--from', 'nas', '--read-data']);
    const claims = join(root, 'srv1', '.respaldo-claims');
    expect(existsSync(claims) ? readdirSync(claims) : []).toEqual([]);
    // The listing there is not troubled by the claims' folder.
    await cli(winner, ['list', '--from', 'nas']);
  });
  it("a claim left by another set's copy cut short refuses this one, naming it; removed by hand, it goes through", async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    withNas(s, root);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const claims = join(root, 'srv1', '.respaldo-claims');
    mkdirSync(claims, { recursive: true });
    const left = join(claims, `${m.id}.0123456789abcdef`);
    writeFileSync(left, '{}\n');
    const r = await cli(s, ['copy', m.id, '--to', 'nas', '--json'], 12);
    const [result] = parseJsonOutput<CopyResult[]>(r.stdout);
    expect(result).toMatchObject({ ok: false, filesSent: 0 });
    expect(result!.error).toContain(`another set ${m.id} of source "srv1", not this one, is being copied there`);
    expect(result!.hint).toContain(`${m.id}.0123456789abcdef there by hand first`);
    expect(readdirSync(claims)).toEqual([`${m.id}.0123456789abcdef`]);
    expect(existsSync(join(root, 'srv1', m.id))).toBe(false);
    rmSync(left);
    await cli(s, ['copy', m.id, '--to', 'nas']);
    expect(existsSync(claims)).toBe(false); // its claim removed, then the folder left empty
    await cli(s, ['verify', m.id, '--from', 'nas']);
  });
});

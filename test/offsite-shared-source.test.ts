/**
 * Two configs on one server copying to one destination under the same `source` (it defaults to the host name): two
 * daily jobs at 02:00 make sets of one id there. The second copy sent its files and its manifest over the first's,
 * and that set was gone from the listing there (its files left unlisted). Now it refuses, names both and what to set.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

function withNas(s: DemoSetup, root: string): void {
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  const destinations = [{ name: 'nas', type: 'folder', path: root, source: 'srv1' }];
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations }));
}

describe('copy onto a set of the same id that is not this one', () => {
  it('refuses (exit 12), nothing sent; the set there stays whole', async () => {
    const a = demoSetup();
    const b = demoSetup();
    const root = join(a.dir, 'nas');
    mkdirSync(root);
    withNas(a, root);
    withNas(b, root);
    const made = parseJsonOutput<Manifest>((await cli(b, ['create', '--db', 'inventario', '--json'])).stdout);
    const there = join(root, 'srv1', made.id, 'manifest.json');
    const before = readFileSync(there, 'utf8');
    // The other config made a set in that very second: same id, another set (here its manifest, a millisecond later).
    cpSync(join(b.backupDir, made.id), join(a.backupDir, made.id), { recursive: true });
    const mine = JSON.parse(readFileSync(join(a.backupDir, made.id, 'manifest.json'), 'utf8')) as Manifest;
    const later = new Date(Date.parse(mine.startedAt) + 1).toISOString();
    writeFileSync(join(a.backupDir, made.id, 'manifest.json'), JSON.stringify({ ...mine, startedAt: later }));
    writeFileSync(join(a.backupDir, made.id, 'copies.json'), '{}');

    const r = await cli(a, ['copy', made.id, '--to', 'nas', '--json'], 12);
    const [result] = parseJsonOutput<CopyResult[]>(r.stdout);
    expect(result).toMatchObject({ setId: made.id, ok: false, filesSent: 0 });
    expect(result!.error).toContain(`already holds a set ${made.id} of source "srv1" that is not this one`);
    expect(result!.hint).toContain('Give each config its own "source"');
    expect(readFileSync(there, 'utf8')).toBe(before);
    // The same set again (its own config) is no collision.
    await cli(b, ['copy', made.id, '--to', 'nas', '--json']);
  });

  it("prune --from never removes a set holding none of this config's databases (another config's), nor counts it", async () => {
    const short = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } };
    const one = (s: DemoSetup, db: string, root: string) => {
      const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
      const databases = [{ name: db, engine: 'sqlite', path: `./data/${db}.db` }];
      const destinations = [{ name: 'nas', type: 'folder', path: root, source: 'srv1' }];
      writeFileSync(s.configFile, JSON.stringify({ ...doc, databases, retention: short, destinations }));
    };
    const a = demoSetup();
    const b = demoSetup();
    const root = join(a.dir, 'nas');
    mkdirSync(root);
    one(a, 'users', root);
    one(b, 'inventario', root);
    // Each set in a second of its own: two configs' sets of one id are refused (the test above).
    const made = async (s: DemoSetup) => {
      const second = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) === second) await new Promise((r) => setTimeout(r, 20));
      return parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--json'])).stdout).id;
    };
    const b1 = await made(b);
    const b2 = await made(b);
    const a1 = await made(a);
    const a2 = await made(a);
    const r = parseJsonOutput<{ sets: { id: string; action: string; reasons: string[] }[]; removed: string[] }>(
      (await cli(a, ['prune', '--from', 'nas', '--json'])).stdout,
    );
    expect(r.removed).toEqual([a1]);
    expect(r.sets.map((x) => x.id)).toEqual([a2, a1, b2, b1]);
    for (const id of [b1, b2])
      expect(r.sets.find((x) => x.id === id)!.reasons[0]).toContain(
        "holds none of this config's databases (inventario): another config's under the same source, or databases taken out of this config?",
      );
    expect(r.sets.find((x) => x.id === a2)!.reasons).toContain('by hand, newest 1 of 1');
  });

  it('prune --from names each set of a database taken out of the config, kept, and how to remove it', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    withNas(s, root);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    const short = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } };
    writeFileSync(s.configFile, JSON.stringify({ ...doc, retention: short }));
    const made = async (db: string) => {
      const second = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) === second) await new Promise((r) => setTimeout(r, 20));
      return parseJsonOutput<Manifest>((await cli(s, ['create', '--db', db, '--no-files', '--json'])).stdout).id;
    };
    const old1 = await made('auditoria');
    const old2 = await made('auditoria');
    const u1 = await made('users');
    const u2 = await made('users');
    // auditoria taken out of the config: its sets there are this server's, kept by prune --from, each said so.
    const now = JSON.parse(readFileSync(s.configFile, 'utf8')) as { databases: { name: string }[] };
    now.databases = now.databases.filter((d) => d.name !== 'auditoria');
    writeFileSync(s.configFile, JSON.stringify(now));
    const p = await cli(s, ['prune', '--from', 'nas']);
    for (const id of [old1, old2])
      expect(p.stdout).toMatch(
        new RegExp(
          `^${id} .* keep +holds none of this config's databases \\(auditoria\\): its database\\(s\\) were taken out ` +
            `of this config \\(this server's backup folder holds the set\\)\\. Never removed by this one's retention ` +
            `\\(\`respaldo delete ${id} --from nas\` removes it\\)`,
          'm',
        ),
      );
    expect(p.stdout).toMatch(new RegExp(`^${u1} .* remove`, 'm'));
    expect(p.stdout).toMatch(new RegExp(`^${u2} .* keep`, 'm'));
    await cli(s, ['delete', old1, '--from', 'nas', '--yes']);
    expect((await cli(s, ['list', '--from', 'nas'])).stdout).not.toContain(old1);
  });
});

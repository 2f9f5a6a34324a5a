import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefusedError } from '../src/core/errors.js';
import { silentReporter } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { listSets, setKeep } from '../src/engine/catalog.js';
import { createBackup } from '../src/engine/create.js';
import { pruneSets } from '../src/engine/prune.js';
import { demoSetup } from './helpers/tmp.js';
import { FakeReporter } from './helpers/reporter.js';

async function setupWithSets(n: number, retention: Record<string, number>) {
  const setup = demoSetup({ retention: { keepLast: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, ...retention } });
  const cfg = await loadConfig({ configPath: setup.configFile });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createBackup(cfg, { files: false }, silentReporter)).id);
  return { setup, cfg, ids: ids.reverse() /* newest first */ };
}

function logLines(backupDir: string): Array<Record<string, unknown>> {
  const dir = join(backupDir, 'logs');
  return readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('pruneSets (real SQLite sets)', () => {
  it('dry run shows each decision and removes nothing; a real run removes what the plan removes', async () => {
    const { cfg, ids } = await setupWithSets(3, { keepLast: 1 });
    const dry = await pruneSets(cfg, { dryRun: true }, silentReporter);
    expect(dry.plan.map((p) => [p.set.id, p.decision.action])).toEqual([
      [ids[0], 'keep'],
      [ids[1], 'remove'],
      [ids[2], 'remove'],
    ]);
    expect(dry.plan[0]!.decision.reasons).toEqual(['last 1', 'newest of users', 'newest of inventario', 'newest of auditoria']);
    expect(dry.removed).toEqual([]);
    expect((await listSets(cfg)).length).toBe(3);

    const reporter = new FakeReporter();
    const real = await pruneSets(cfg, {}, reporter);
    expect(real.removed.sort()).toEqual([ids[1], ids[2]].sort());
    expect(real.failed).toEqual([]);
    expect((await listSets(cfg)).map((s) => s.id)).toEqual([ids[0]]);
    expect(existsSync(join(cfg.backupDir, ids[1]!))).toBe(false);
    expect(reporter.ofType('run-end')).toEqual([expect.objectContaining({ ok: true })]);
    const prunes = logLines(cfg.backupDir).filter((l) => l.event === 'prune');
    expect(prunes.map((l) => l.outcome)).toEqual(['dry-run', 'ok']);
    expect((prunes[1]!.removed as string[]).sort()).toEqual([ids[1], ids[2]].sort());
  });

  it('never removes a set marked keep', async () => {
    const { cfg, ids } = await setupWithSets(3, { keepLast: 1 });
    await setKeep(cfg, ids[2]!, true);
    const r = await pruneSets(cfg, {}, silentReporter);
    expect(r.removed).toEqual([ids[1]]);
    expect(r.plan.find((p) => p.set.id === ids[2])!.decision).toEqual({ id: ids[2], action: 'keep', reasons: ['keep mark'] });
    expect((await listSets(cfg)).map((s) => s.id)).toEqual([ids[0], ids[2]]);
  });

  it('refuses when the newest set is partial, and removes nothing', async () => {
    const { setup, cfg, ids } = await setupWithSets(2, { keepLast: 1 });
    renameSync(setup.dbs.auditoria, setup.dbs.auditoria + '.gone');
    const partial = await createBackup(cfg, { files: false }, silentReporter);
    expect(partial.status).toBe('partial');
    await expect(pruneSets(cfg, {}, silentReporter)).rejects.toThrow(RefusedError);
    await expect(pruneSets(cfg, {}, silentReporter)).rejects.toThrow(/Nothing pruned: the newest backup set .* is partial \(auditoria failed\)/);
    expect((await listSets(cfg)).length).toBe(3);
    const dry = await pruneSets(cfg, { dryRun: true }, silentReporter);
    expect(dry.refused).toMatch(/is partial/);
    // The partial set holds users and inventario, which have no newer completed set: kept.
    expect(dry.plan.find((p) => p.set.id === partial.id)!.decision.action).toBe('keep');
    expect(dry.plan.find((p) => p.set.id === ids[1])!.decision.action).toBe('remove');
    expect(logLines(cfg.backupDir).some((l) => l.event === 'prune' && l.outcome === 'refused')).toBe(true);
  });
});

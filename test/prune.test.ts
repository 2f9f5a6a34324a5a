import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
import { logLines } from './helpers/logs.js';

/** `n` sets made by the scheduler job `daily` (the job's retention applies to them). */
async function setupWithSets(n: number, retention: Record<string, number>) {
  const setup = demoSetup({ retention: { keepLast: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, ...retention } });
  const cfg = await loadConfig({ configPath: setup.configFile });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createBackup(cfg, { files: false, job: 'daily' }, silentReporter)).id);
  return { setup, cfg, ids: ids.reverse() /* newest first */ };
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
    expect(dry.plan[0]!.decision.reasons).toEqual([
      'last 1',
      'newest of users',
      'newest of inventario',
      'newest of auditoria',
    ]);
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
    expect(r.plan.find((p) => p.set.id === ids[2])!.decision).toEqual({
      id: ids[2],
      action: 'keep',
      reasons: ['keep mark'],
    });
    expect((await listSets(cfg)).map((s) => s.id)).toEqual([ids[0], ids[2]]);
  });

  it('refuses when the newest set is partial, and removes nothing', async () => {
    const { setup, cfg, ids } = await setupWithSets(2, { keepLast: 1 });
    renameSync(setup.dbs.auditoria, setup.dbs.auditoria + '.gone');
    const partial = await createBackup(cfg, { files: false }, silentReporter);
    expect(partial.status).toBe('partial');
    await expect(pruneSets(cfg, {}, silentReporter)).rejects.toThrow(RefusedError);
    await expect(pruneSets(cfg, {}, silentReporter)).rejects.toThrow(
      /Nothing pruned: the newest backup set .* is partial \(auditoria failed\)/,
    );
    expect((await listSets(cfg)).length).toBe(3);
    const dry = await pruneSets(cfg, { dryRun: true }, silentReporter);
    expect(dry.refused).toMatch(/is partial/);
    // The partial set holds users and inventario, which have no newer completed set: kept.
    expect(dry.plan.find((p) => p.set.id === partial.id)!.decision.action).toBe('keep');
    expect(dry.plan.find((p) => p.set.id === ids[1])!.decision.action).toBe('remove');
    expect(logLines(cfg.backupDir).some((l) => l.event === 'prune' && l.outcome === 'refused')).toBe(true);
  });

  it('a set made by hand survives the catch-up sets of the jobs made after it the same day (issue 10 #7)', async () => {
    // The tiered preset's retention; an operator's "before upgrade 4.2" set, then monthly, weekly and daily
    // catch-up sets.
    const setup = demoSetup({ retention: { keepLast: 3, daily: 30, weekly: 12, monthly: 12, yearly: 5 } });
    const cfg = await loadConfig({ configPath: setup.configFile });
    expect(cfg.retention.manual).toEqual({ days: 30, keepLast: 5 });
    const manual = await createBackup(cfg, { files: true, description: 'before upgrade 4.2' }, silentReporter);
    for (const job of ['monthly', 'weekly', 'daily']) await createBackup(cfg, { files: true, job }, silentReporter);
    const r = await pruneSets(cfg, {}, silentReporter);
    expect(r.removed).toEqual([]);
    const d = r.plan.find((p) => p.set.id === manual.id)!;
    expect(d.job).toBeNull();
    const reasons = ['by hand, 0 days old (kept 30 days)', 'by hand, newest 1 of 5'];
    expect(d.decision).toEqual({ id: manual.id, action: 'keep', reasons });
    expect((await listSets(cfg)).map((s) => s.id)).toContain(manual.id);
  });

  it('a set without a job mark follows the job the log names; without a log line it is made by hand', async () => {
    const { cfg, ids } = await setupWithSets(3, { keepLast: 1 });
    const byHand = await createBackup(cfg, { files: false }, silentReporter);
    // Made before job marks existed: the manifests of the two older sets carry no `job` field.
    for (const id of [ids[1]!, ids[2]!]) {
      const file = join(cfg.backupDir, id, 'manifest.json');
      const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      delete m.job;
      writeFileSync(file, JSON.stringify(m, null, 2));
    }
    // …and the log of one of them is gone: only the other is attributed to `daily` by its create-start line.
    const logDir = join(cfg.backupDir, 'logs');
    for (const f of readdirSync(logDir)) {
      const kept = readFileSync(join(logDir, f), 'utf8')
        .split('\n')
        .filter((l) => !l.includes(`"setId":"${ids[2]}"`));
      writeFileSync(join(logDir, f), kept.join('\n'));
    }
    const dry = await pruneSets(cfg, { dryRun: true }, silentReporter);
    const of = (id: string) => dry.plan.find((p) => p.set.id === id)!;
    expect(of(ids[1]!)).toMatchObject({ job: 'daily', decision: { action: 'remove' } });
    expect(of(ids[1]!).decision.reasons).toEqual(['not kept by any rule']);
    const reasons = ['by hand, 0 days old (kept 30 days)', 'by hand, newest 2 of 5'];
    expect(of(ids[2]!)).toMatchObject({ job: null, decision: { action: 'keep', reasons } });
    expect(of(byHand.id)).toMatchObject({ job: null, decision: { action: 'keep' } });
    expect(of(ids[0]!)).toMatchObject({ job: 'daily', decision: { action: 'keep' } });
    expect(of(ids[0]!).decision.reasons).toContain('last 1');
  });
});

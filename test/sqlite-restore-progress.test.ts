/**
 * A SQLite restore says how far its write has got (a restore of gigabytes showed 0 % until its end), then that it
 * checks the copy.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { silentReporter } from '../src/core/events.js';
import { FakeReporter } from './helpers/reporter.js';
import { execSql, makeBigDb } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';
import { join } from 'node:path';

describe('SQLite restore progress', () => {
  it('reports the bytes written as they grow, then the check of the copy', async () => {
    const s = demoSetup();
    makeBigDb(s.dbs.inventario, 48);
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['inventario'], files: false }, silentReporter);
    const plan = await planRestore(cfg, m.id, { databases: ['inventario'], to: join(s.dir, 'inv-copy.db') });
    const reporter = new FakeReporter();
    await executeRestore(cfg, plan, reporter);
    const progress = reporter.ofType('item-progress').filter((e) => e.item === 'inventario');
    const writing = progress.filter((e) => e.message === 'writing the copy');
    const total = m.databases[0]!.rawBytes!;
    expect(writing.length).toBeGreaterThanOrEqual(2);
    expect(writing.every((e) => e.totalBytes === total && e.bytes > 0 && e.bytes <= total)).toBe(true);
    expect(writing.map((e) => e.bytes)).toEqual([...writing.map((e) => e.bytes)].sort((a, b) => a - b));
    const checking = progress.findIndex((e) => e.message === 'checking the copy (integrity_check, row counts)');
    expect(checking).toBeGreaterThan(progress.indexOf(writing.at(-1)!));
  });

  it('an incremental: the bytes of its chain (the full, then each delta) as they are written', async () => {
    const s = demoSetup();
    makeBigDb(s.dbs.inventario, 48);
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const full = await createBackup(cfg, { databases: ['inventario'], files: false }, silentReporter);
    execSql(s.dbs.inventario, 'UPDATE blobs SET data = randomblob(65536) WHERE id % 50 = 0');
    const inc = await createBackup(
      cfg,
      { databases: ['inventario'], files: false, type: 'incremental' },
      silentReporter,
    );
    expect(inc.databases[0]!.base).toBe(full.id);
    const plan = await planRestore(cfg, inc.id, { databases: ['inventario'], to: join(s.dir, 'inv-chain.db') });
    const reporter = new FakeReporter();
    await executeRestore(cfg, plan, reporter);
    const progress = reporter.ofType('item-progress').filter((e) => e.item === 'inventario');
    const writing = progress.filter((e) => e.message === 'writing the copy');
    const total = full.databases[0]!.rawBytes + inc.databases[0]!.rawBytes;
    // It showed nothing until the check (0 % over 48 MB, as if hung), then counted against the last delta alone.
    expect(writing.length).toBeGreaterThanOrEqual(2);
    expect(writing.every((e) => e.totalBytes === total && e.bytes > 0 && e.bytes <= total)).toBe(true);
    expect(writing.map((e) => e.bytes)).toEqual([...writing.map((e) => e.bytes)].sort((a, b) => a - b));
    expect(progress.find((e) => e.message === 'checking the copy (integrity_check, row counts)')).toMatchObject({
      bytes: total,
      totalBytes: total,
    });
  });
});

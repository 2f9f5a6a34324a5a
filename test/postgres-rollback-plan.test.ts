/**
 * The pure planners of the rollback (swap back) and of leftovers, as tables; and the engine asking
 * the driver's capability (`swapBack`), not its engine name, when a set keeps a renamed database.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { english } from '../src/core/phrases.js';
import { describeLeftovers, planPgRestore, planPgSwapBack, swapBackSql } from '../src/drivers/postgres/plan.js';
import { planRestore } from '../src/engine/restore.js';

const db = { name: 'inventario', engine: 'postgres' as const, url: 'postgresql://app@db1:5432/inventario' };

describe('swapBackSql', () => {
  test.each([
    [
      'inventario',
      'inventario__pre_restore_1',
      'inventario__pre_restore_2',
      [
        'BEGIN',
        'ALTER DATABASE "inventario" RENAME TO "inventario__pre_restore_2"',
        'ALTER DATABASE "inventario__pre_restore_1" RENAME TO "inventario"',
        'COMMIT',
      ],
    ],
    [
      'inventario',
      'inventario__pre_restore_1',
      null,
      ['BEGIN', 'ALTER DATABASE "inventario__pre_restore_1" RENAME TO "inventario"', 'COMMIT'],
    ],
    [
      'we"ird',
      'we"ird__pre_restore_1',
      'we"ird__pre_restore_2',
      [
        'BEGIN',
        'ALTER DATABASE "we""ird" RENAME TO "we""ird__pre_restore_2"',
        'ALTER DATABASE "we""ird__pre_restore_1" RENAME TO "we""ird"',
        'COMMIT',
      ],
    ],
  ])('%s: %s back, live kept as %s', (live, safety, newSafety, sql) =>
    expect(swapBackSql(live, safety, newSafety)).toEqual(sql),
  );
});

describe('planPgSwapBack / planPgRestore of a kept database', () => {
  const entry = {
    name: 'inventario',
    engine: 'postgres',
    file: null,
    safetyDatabase: 'inventario__pre_restore_20261122_101010',
  } as never;
  test('an entry with safetyDatabase and no file plans the swap back', () => {
    const plan = planPgRestore({ db, entry, setId: '20261122_111111', target: { kind: 'in-place' } });
    expect(plan).toEqual(
      planPgSwapBack({ db, safetyName: 'inventario__pre_restore_20261122_101010', setId: '20261122_111111' }),
    );
    expect(plan).toMatchObject({
      replaces: true,
      staging: 'inventario__pre_restore_20261122_101010',
      safety: { kind: 'renamed-database', name: 'inventario__pre_restore_20261122_111111' },
    });
    expect(plan.steps.join('\n')).toMatch(
      /in one transaction: rename "inventario" to "inventario__pre_restore_20261122_111111".*"inventario__pre_restore_20261122_101010" to "inventario"/,
    );
    expect(plan.rollback).toMatch(/respaldo restore <that set id> --db inventario --yes/);
    expect(plan.stepPhrases?.map(english)).toEqual(plan.steps);
  });
});

describe('describeLeftovers', () => {
  test.each([
    ['nothing left', ['inventario', 'postgres', 'inventario__pre_restore_1'], false, []],
    [
      'a killed restore',
      ['inventario', 'inventario__restore_7'],
      false,
      [/temporary database "inventario__restore_7".*set 7.*restore or drill of inv drops it/],
    ],
    [
      'a swap cut between its renames',
      ['inventario__pre_restore_7', 'inventario__restore_7'],
      true,
      [
        /"inventario" is missing: .*"inventario__pre_restore_7".*renames it back/,
        /temporary database "inventario__restore_7"/,
      ],
    ],
    [
      'the second restore of a set cut between its renames',
      ['inventario__pre_restore_7', 'inventario__pre_restore_7__2', 'inventario__restore_7'],
      true,
      [
        /"inventario" is missing: .*"inventario__pre_restore_7__2" is the database as it was before.*renames it back/,
        /temporary database "inventario__restore_7"/,
      ],
    ],
    [
      'only the safety copy',
      ['inventario__pre_restore_7', 'postgres'],
      true,
      [
        /"inventario" is missing, and no interrupted restore explains it: it was dropped or renamed .*as "inventario__pre_restore_7".*respaldo restore <its pre_restore set id> --db inv --yes/,
      ],
    ],
    ['another database entirely', ['postgres', 'otra__restore_7'], false, []],
    ['missing, never restored', ['postgres'], false, []],
  ])('%s', (_, names, missing, lines) => {
    const out = describeLeftovers('inventario', 'inv', names);
    expect(out.liveMissing).toBe(missing);
    // Only a restore's own copy shows a restore was cut; safety copies alone were kept by restores that ended.
    expect(out.interrupted).toBe(missing && names.some((n) => n.startsWith('inventario__restore_')));
    expect(out.lines).toHaveLength(lines.length);
    lines.forEach((re, i) => expect(out.lines[i]).toMatch(re));
  });
});

describe('the engine asks the capability, not the engine name', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  test('a kept database whose driver has no swapBack is refused with a hint, not run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-noswap-'));
    new Database(join(dir, 'users.db')).close();
    writeFileSync(
      join(dir, 'backup_config.json'),
      JSON.stringify({ backupDir: 'backups', databases: [{ name: 'users', engine: 'sqlite', path: 'users.db' }] }),
    );
    const id = '20261122_101010';
    mkdirSync(join(dir, 'backups', id), { recursive: true });
    const entry = {
      name: 'users',
      engine: 'sqlite',
      file: null,
      format: 'sqlite-db',
      compressed: false,
      rawBytes: 0,
      storedBytes: 0,
      md5: null,
      sha256: null,
      tables: null,
      durationMs: 0,
      error: null,
      details: {},
      safetyDatabase: 'users__pre_restore_1',
    };
    const manifest = {
      schemaVersion: 1,
      id,
      type: 'pre_restore',
      description: null,
      startedAt: new Date().toISOString(),
      completedAt: new Date().toISOString(),
      status: 'completed',
      tool: { name: 'respaldo', version: '0' },
      host: 'h',
      job: null,
      restoreOf: null,
      compressionLevel: 6,
      databases: [entry],
      files: [],
      warnings: [],
      totals: { storedBytes: 0, rawBytes: 0, files: 0 },
    };
    writeFileSync(join(dir, 'backups', id, 'manifest.json'), JSON.stringify(manifest));
    const cfg = await loadConfig({ configPath: join(dir, 'backup_config.json') });
    const plan = await planRestore(cfg, id, {});
    expect(plan.databases).toEqual([]);
    expect(plan.refusals).toEqual([
      expect.objectContaining({
        kind: 'failed-entry',
        database: 'users',
        message: expect.stringMatching(/cannot swap it back/),
      }),
    ]);
  });
});

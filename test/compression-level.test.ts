import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_GZIP_LEVEL, gzipLevelFor, planBackup } from '../src/engine/create.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

/** A config with one SQLite and one PostgreSQL database; `compression` and per-database levels vary. */
async function config(opts: { level?: number; sqliteLevel?: number; pgLevel?: number }) {
  const { configFile } = writeConfig(makeTmpDir(), (base) => ({
    ...base,
    databases: [
      { name: 'users', engine: 'sqlite', path: './data/users.db', ...(opts.sqliteLevel ? { compressionLevel: opts.sqliteLevel } : {}) },
      { name: 'inventario', url: 'postgresql://app@db1:5432/inventario', ...(opts.pgLevel ? { compressionLevel: opts.pgLevel } : {}) },
    ],
    compression: opts.level ? { level: opts.level } : {},
  }));
  return loadConfig({ configPath: configFile, env: {} });
}

describe('gzip level of each dump', () => {
  it.each([
    // config                            sqlite  postgres  files
    [{}, 6, 1, 6],
    [{ level: 9 }, 9, 9, 9],
    [{ level: 1 }, 1, 1, 1],
    [{ pgLevel: 6 }, 6, 6, 6],
    [{ level: 2, sqliteLevel: 8 }, 8, 2, 2],
    [{ level: 9, pgLevel: 3 }, 9, 3, 9],
  ])('%j → sqlite %i, postgres %i, files %i', async (opts, sqlite, postgres, files) => {
    const cfg = await config(opts);
    expect(gzipLevelFor(cfg, cfg.databases[0]!)).toBe(sqlite);
    expect(gzipLevelFor(cfg, cfg.databases[1]!)).toBe(postgres);
    const plan = planBackup(cfg, {});
    expect(plan.databases.map((d) => [d.name, d.compressionLevel])).toEqual([
      ['users', sqlite],
      ['inventario', postgres],
    ]);
    expect(plan.compressionLevel).toBe(files);
  });

  it('an unset compression.level is not filled in by the schema', async () => {
    const cfg = await config({});
    expect(cfg.compression.level).toBeUndefined();
    expect(DEFAULT_GZIP_LEVEL).toBe(6);
  });
});

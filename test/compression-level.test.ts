import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ConfigError, UsageError } from '../src/core/errors.js';
import type { CodecName } from '../src/core/types.js';
import { codec, defaultCodecName } from '../src/engine/codec.js';
import { DEFAULT_GZIP_LEVEL, codecFor, gzipLevelFor, levelFor, planBackup } from '../src/engine/create.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

interface Opts {
  codec?: CodecName;
  level?: number;
  sqliteLevel?: number;
  pgLevel?: number;
}

/**
 * A config with one SQLite and one PostgreSQL database; the codec, `compression.level` and per-database levels vary.
 */
async function config(opts: Opts) {
  const { configFile } = writeConfig(makeTmpDir(), (base) => ({
    ...base,
    databases: [
      {
        name: 'users',
        engine: 'sqlite',
        path: './data/users.db',
        ...(opts.sqliteLevel ? { compressionLevel: opts.sqliteLevel } : {}),
      },
      {
        name: 'inventario',
        url: 'postgresql://app@db1:5432/inventario',
        ...(opts.pgLevel ? { compressionLevel: opts.pgLevel } : {}),
      },
    ],
    compression: { ...(opts.codec ? { codec: opts.codec } : {}), ...(opts.level ? { level: opts.level } : {}) },
  }));
  return loadConfig({ configPath: configFile, env: {} });
}

const zstdHere = codec('zstd').available();

describe('codec and level of each dump', () => {
  it.each([
    // config                                   sqlite  postgres  files
    [{ codec: 'gzip' }, 6, 1, 6],
    [{ codec: 'gzip', level: 9 }, 9, 9, 9],
    [{ codec: 'gzip', level: 1 }, 1, 1, 1],
    [{ codec: 'gzip', pgLevel: 6 }, 6, 6, 6],
    [{ codec: 'gzip', level: 2, sqliteLevel: 8 }, 8, 2, 2],
    [{ codec: 'gzip', level: 9, pgLevel: 3 }, 9, 3, 9],
    [{ codec: 'zstd' }, 3, 3, 3],
    [{ codec: 'zstd', level: 12 }, 12, 12, 12],
    [{ codec: 'zstd', level: 1, sqliteLevel: 19 }, 19, 1, 1],
    [{ codec: 'zstd', pgLevel: 1 }, 3, 1, 3],
  ] as [Opts, number, number, number][])(
    '%j → sqlite %i, postgres %i, files %i',
    async (opts, sqlite, postgres, files) => {
      const cfg = await config(opts);
      if (opts.codec === 'zstd' && !zstdHere) {
        expect(() => planBackup(cfg, {})).toThrow(UsageError);
        return;
      }
      expect(levelFor(cfg, cfg.databases[0]!, opts.codec!)).toBe(sqlite);
      expect(levelFor(cfg, cfg.databases[1]!, opts.codec!)).toBe(postgres);
      const plan = planBackup(cfg, {});
      expect(plan.codec).toBe(opts.codec);
      expect(plan.databases.map((d) => [d.name, d.compressionLevel])).toEqual([
        ['users', sqlite],
        ['inventario', postgres],
      ]);
      expect(plan.compressionLevel).toBe(files);
    },
  );

  it('no codec in the config: zstd where this Node has it, else gzip with the engine defaults', async () => {
    const cfg = await config({});
    expect(cfg.compression.level).toBeUndefined();
    expect(codecFor(cfg)).toBe(defaultCodecName());
    const plan = planBackup(cfg, {});
    expect(plan.codec).toBe(zstdHere ? 'zstd' : 'gzip');
    expect(plan.databases.map((d) => d.compressionLevel)).toEqual(zstdHere ? [3, 3] : [6, 1]);
    expect(gzipLevelFor(cfg, cfg.databases[1]!)).toBe(1);
    expect(DEFAULT_GZIP_LEVEL).toBe(6);
  });

  it.each([
    [{ codec: 'gzip', level: 12 }, 'compression.level'],
    [{ codec: 'gzip', pgLevel: 10 }, 'databases[1].compressionLevel'],
  ] as [Opts, string][])('a gzip level past 9 is a config error naming the field: %j', async (opts, field) => {
    const err = await config(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain(field);
  });
});

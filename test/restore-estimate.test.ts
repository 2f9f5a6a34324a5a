/**
 * The restore plan's "once restored" size: the database size recorded at backup time, said to be
 * an estimate; sets without it fall back to the dump size and say so. Pure pieces as tables, then
 * a real PostgreSQL database whose dump is much smaller than the database.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sizeLine } from '../src/cli/commands/restore.js';
import { EXIT } from '../src/core/exit-codes.js';
import { formatBytes } from '../src/core/format.js';
import { restoredSizeEstimate, type DatabaseRestorePlan } from '../src/engine/restore.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, type SyncCliResult, writePgConfig } from './helpers/pg-cli.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `es-${Math.random().toString(36).slice(2, 10)}`;

describe('restoredSizeEstimate', () => {
  test.each([
    [
      { rawBytes: 14e6, details: { databaseSizeBytes: 64e6 } },
      { estimatedRestoredBytes: 64e6, estimateSource: 'recorded-database-size' },
    ],
    [
      { rawBytes: 5e6, details: { sizeBytes: 9e6 } },
      { estimatedRestoredBytes: 9e6, estimateSource: 'recorded-database-size' },
    ],
    [
      { rawBytes: 14e6, details: {} },
      { estimatedRestoredBytes: 14e6, estimateSource: 'dump-size' },
    ],
    [
      { rawBytes: 14e6, details: { databaseSizeBytes: 0 } },
      { estimatedRestoredBytes: 14e6, estimateSource: 'dump-size' },
    ],
    [
      { rawBytes: 1, details: undefined },
      { estimatedRestoredBytes: 1, estimateSource: 'dump-size' },
    ],
    [
      { rawBytes: 5e6, format: 'sqlite-db' },
      { estimatedRestoredBytes: 5e6, estimateSource: 'database-file' },
    ],
  ])('%j', (entry, out) => expect(restoredSizeEstimate(entry as never)).toEqual(out));
});

describe('sizeLine (CLI plan)', () => {
  const base = { storedBytes: 3 << 20, rawBytes: 14 << 20 } as DatabaseRestorePlan;
  test.each([
    [
      { estimatedRestoredBytes: 64 << 20, estimateSource: 'recorded-database-size' },
      /stored 3(\.0)? MB, about 64(\.0)? MB once restored \(estimate: the database size when the backup was taken\)/,
    ],
    [
      { estimatedRestoredBytes: 14 << 20, estimateSource: 'dump-size' },
      /about 14(\.0)? MB once restored \(estimate from the dump size: this set recorded no database size/,
    ],
    [
      { estimatedRestoredBytes: 8 << 20, estimateSource: 'kept-database', swapsBack: 'x__pre_restore_1' },
      /rolls back: the kept database x__pre_restore_1 \(about 8(\.0)? MB\)/,
    ],
  ])('%j', (extra, re) => expect(sizeLine({ ...base, ...extra } as DatabaseRestorePlan)).toMatch(re));
});

let cluster: PgCluster;
let work: string;

function cli(config: string, args: string[]): SyncCliResult {
  return pgCli(config, PASSWORD, args);
}

describe.skipIf(!available)(
  'the PostgreSQL restore plan estimates the restored size from the database size (live)',
  () => {
    beforeAll(async () => {
      if (!existsSync(join(ROOT, 'dist/cli/main.js')))
        throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
      work = mkdtempSync(join(tmpdir(), 'respaldo-estimate-'));
      cluster = await startPgCluster({ password: PASSWORD });
    });
    afterAll(async () => {
      await cluster?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('dry-run shows the recorded database size, far above the dump size; an old set says it only has the dump size', () => {
      cluster.createDatabase('grande');
      // Indexes are not in the dump's data: the database is several times the dump.
      cluster.psql(
        `CREATE TABLE t (id int PRIMARY KEY, a text, b text); INSERT INTO t SELECT g, md5(g::text), md5((g * 7)::text) FROM generate_series(1, 60000) g;
       CREATE INDEX t_a ON t (a); CREATE INDEX t_b ON t (b); CREATE INDEX t_ab ON t (a, b);`,
        'grande',
      );
      const config = writePgConfig(cluster, work, ['grande']);
      const created = cli(config, ['create', '--no-files', '--json']);
      expect(created.code, created.stderr).toBe(EXIT.ok);
      const entry = created.json.databases[0];
      const recorded = entry.details.databaseSizeBytes as number;
      expect(recorded).toBeGreaterThan(entry.rawBytes * 2);

      const dry = cli(config, ['restore', created.json.id, '--dry-run', '--json']);
      expect(dry.code, dry.stderr).toBe(EXIT.ok);
      expect(dry.json.databases[0]).toMatchObject({
        estimatedRestoredBytes: recorded,
        estimateSource: 'recorded-database-size',
        rawBytes: entry.rawBytes,
      });
      const text = cli(config, ['restore', created.json.id, '--dry-run']).stdout;
      expect(text).toMatch(/about \S+ MB once restored \(estimate: the database size when the backup was taken\)/);

      // A directory dump stores a toc.dat as its file and each table's data as an extra: the plan counts them all.
      expect(entry.format).toBe('pg-directory');
      const extras = entry.extras as { storedBytes: number }[];
      const stored = entry.storedBytes + extras.reduce((s, x) => s + x.storedBytes, 0);
      expect(stored).toBeGreaterThan(entry.storedBytes * 2);
      expect(dry.json.databases[0].storedBytes).toBe(stored);
      expect(text).toContain(`stored ${formatBytes(stored)}, about`);

      const manifestPath = join(work, 'backups', created.json.id, 'manifest.json');
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      delete m.databases[0].details.databaseSizeBytes;
      writeFileSync(manifestPath, JSON.stringify(m));
      const old = cli(config, ['restore', created.json.id, '--dry-run', '--json']);
      expect(old.json.databases[0]).toMatchObject({
        estimatedRestoredBytes: entry.rawBytes,
        estimateSource: 'dump-size',
      });
      expect(cli(config, ['restore', created.json.id, '--dry-run']).stdout).toMatch(
        /this set recorded no database size/,
      );
    });
  },
);

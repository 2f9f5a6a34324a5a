/**
 * `--table` with a partitioned table's own name restores it with all its partitions (at every
 * level): the manifest records partitioned tables, and the TOC selection follows TABLE ATTACH.
 * Real cluster, real CLI; plus the pure pieces as tables.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import { resolveTables } from '../src/drivers/postgres/plan.js';
import { parseTocList, selectTables } from '../src/drivers/postgres/toc.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, type SyncCliResult, writePgConfig } from './helpers/pg-cli.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `pt-${Math.random().toString(36).slice(2, 10)}`;

describe('resolveTables with partitioned tables', () => {
  const keys = ['public.m_2024', 'public.m_2025', 'public.other'];
  test.each([
    [{ partitioned: [['public', 'm', 42]] as const }, ['public.m'], [{ schema: 'public', table: 'm', oid: 42 }]],
    [{ partitioned: 'unknown' as const }, ['public.m'], [{ schema: 'public', table: 'm' }]],
    [{ partitioned: [] }, ['public.m_2024'], [{ schema: 'public', table: 'm_2024' }]],
  ])('%j %j', (extra, req, out) => expect(resolveTables(req, { keys, ...extra })).toEqual(out));
  test('a name that is neither a table nor a partitioned table of a new set is refused', () => {
    expect(() => resolveTables(['public.m'], { keys, partitioned: [] })).toThrow(/not in this backup/);
  });
});

describe('selectTables follows TABLE ATTACH down from a partitioned table, not up from a partition', () => {
  const toc = [
    '10; 2615 2200 SCHEMA - public pg',
    '20; 1259 100 TABLE public m pg',
    ';\tdepends on: 10',
    '21; 1259 101 TABLE public m_2024 pg',
    ';\tdepends on: 10',
    '22; 1259 102 TABLE public m_2025 pg',
    ';\tdepends on: 10',
    '23; 0 101 TABLE ATTACH public m_2024 pg',
    ';\tdepends on: 20 21',
    '24; 0 102 TABLE ATTACH public m_2025 pg',
    ';\tdepends on: 20 22',
    '25; 0 101 TABLE DATA public m_2024 pg',
    ';\tdepends on: 21',
    '26; 0 102 TABLE DATA public m_2025 pg',
    ';\tdepends on: 22',
  ].join('\n');
  const entries = parseTocList(toc);
  test('the parent brings every partition, their attachments and data', () => {
    const s = selectTables(entries, [{ schema: 'public', table: 'm', oid: 100 }]);
    expect(s.ids).toEqual([10, 20, 21, 22, 23, 24, 25, 26]);
    expect(s.partitions).toEqual([
      { schema: 'public', table: 'm_2024', oid: 101 },
      { schema: 'public', table: 'm_2025', oid: 102 },
    ]);
  });
  test('one partition does not bring its siblings', () => {
    const s = selectTables(entries, [{ schema: 'public', table: 'm_2024', oid: 101 }]);
    expect(s.ids).not.toContain(22);
    expect(s.partitions).toEqual([]);
  });
});

let cluster: PgCluster;
let work: string;

function cli(config: string, args: string[]): SyncCliResult {
  return pgCli(config, PASSWORD, args);
}

describe.skipIf(!available)('partitioned tables restored by name (live)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-partitioned-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('--table measurement restores the partitioned table with all its partitions, sub-partitions included', () => {
    cluster.createDatabase('ventas');
    cluster.psql(
      `CREATE TABLE measurement (id int, at date NOT NULL, v int) PARTITION BY RANGE (at);
       CREATE TABLE m_2024 PARTITION OF measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
       CREATE TABLE m_2025 PARTITION OF measurement FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (v);
       CREATE TABLE m_2025_even PARTITION OF m_2025 FOR VALUES IN (0);
       CREATE TABLE m_2025_odd PARTITION OF m_2025 FOR VALUES IN (1);
       CREATE TABLE other (x int);
       INSERT INTO measurement SELECT g, date '2024-01-01' + g, g % 2 FROM generate_series(0, 700) g;`,
      'ventas',
    );
    const config = writePgConfig(cluster, work, ['ventas']);
    const created = cli(config, ['create', '--no-files', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const id = created.json.id as string;
    expect(created.json.databases[0].details.partitionedTables).toEqual([
      ['public', 'm_2025', expect.any(Number)],
      ['public', 'measurement', expect.any(Number)],
    ]);

    const r = cli(config, ['restore', id, '--db', 'ventas', '--to', 'ventas_m', '--table', 'measurement', '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(EXIT.ok);
    const tables = cluster.psql(
      `SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace`,
      'ventas_m',
    );
    expect(tables).toBe('m_2024,m_2025,m_2025_even,m_2025_odd,measurement');
    expect(cluster.psql('SELECT count(*) FROM measurement', 'ventas_m')).toBe('701');
    expect(cluster.psql('SELECT count(*) FROM m_2025_odd', 'ventas_m')).toBe(
      cluster.psql('SELECT count(*) FROM m_2025_odd', 'ventas'),
    );

    // A set made before partitioned tables were recorded: the archive decides.
    const manifestPath = join(work, 'backups', id, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    delete m.databases[0].details.partitionedTables;
    writeFileSync(manifestPath, JSON.stringify(m));
    const old = cli(config, [
      'restore',
      id,
      '--db',
      'ventas',
      '--to',
      'ventas_old',
      '--table',
      'public.measurement',
      '--yes',
    ]);
    expect(old.code, old.stderr + old.stdout).toBe(EXIT.ok);
    expect(cluster.psql('SELECT count(*) FROM measurement', 'ventas_old')).toBe('701');
    const missing = cli(config, [
      'restore',
      id,
      '--db',
      'ventas',
      '--to',
      'ventas_none',
      '--table',
      'public.nope',
      '--yes',
    ]);
    expect(missing.code).not.toBe(EXIT.ok);
    expect(missing.stderr + missing.stdout).toMatch(/not in the archive/);
  });
});

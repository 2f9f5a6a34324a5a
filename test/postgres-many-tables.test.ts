/**
 * A PostgreSQL database of many small tables: the restore's row counts are asked in a few statements, not one per
 * table (a restore of 5000 tables spent 8 s on 5000 round trips on a loaded machine). The server logs every
 * statement the restore sends (log_statement for the role); the count statements are read from its log. Each
 * table holds its own number of rows, so counts given to the wrong table fail the restore's check. And its many small
 * data files are written out while pg_restore makes the schema (BESIDE_SCHEMA_FILES): the database comes back the
 * same, and a stored file found damaged as it is written stops the schema's pg_restore and leaves the live database
 * as it was. Real cluster, real CLI, in place (the swap) and side by side with `--table`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COUNT_BATCH } from '../src/drivers/postgres/catalog.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { BESIDE_SCHEMA_FILES } from '../src/drivers/postgres/restore-dump.js';
import { pgCli, plainDump, writePgConfig } from './helpers/pg-cli.js';
import { makeTmpDir } from './helpers/tmp.js';

const available = pgAvailable();
const PASSWORD = `many-${Math.random().toString(36).slice(2, 10)}`;
const TABLES = 300;

describe.skipIf(!available)('a PostgreSQL database of many tables', () => {
  let cluster: PgCluster;
  let log: string;
  beforeAll(async () => {
    cluster = await startPgCluster({ password: PASSWORD });
    log = join(dirname(cluster.dataDir), 'server.log');
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The statements counting rows the server logged while `run` ran. */
  const countStatements = (run: () => void): string[] => {
    const from = statSync(log).size;
    run();
    const text = readFileSync(log).subarray(from).toString('utf8');
    return text.split('\n').filter((l) => /LOG: {2}statement: SELECT .*count\(\*\)::bigint AS n FROM ONLY /.test(l));
  };

  test(`${TABLES} tables: the restore counts their rows in ${Math.ceil(TABLES / COUNT_BATCH)} statements`, () => {
    cluster.createDatabase('tienda');
    // Table k holds k % 7 rows; one name needs quoting; an inheritance child (ONLY counts the parent's own rows).
    cluster.psql(
      `DO $$ BEGIN FOR k IN 1..${TABLES - 2} LOOP
         EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', k);
         EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text) FROM generate_series(1, %s) g', k, k % 7);
       END LOOP; END $$;
       CREATE TABLE "Precios ""2026""" (n int); INSERT INTO "Precios ""2026""" VALUES (1), (2), (3);
       CREATE TABLE hija (extra int) INHERITS (t1); INSERT INTO hija VALUES (100, 'x', 1), (101, 'y', 2);`,
      'tienda',
    );
    const config = writePgConfig(cluster, makeTmpDir(), ['tienda']);
    const made = pgCli(config, PASSWORD, ['create', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const id = String(made.json.id);
    expect(Object.keys(made.json.databases[0].tables)).toHaveLength(TABLES);

    cluster.psql(`ALTER ROLE ${cluster.user} SET log_statement = 'all'`);
    try {
      let restored!: ReturnType<typeof pgCli>;
      const counted = countStatements(() => {
        restored = pgCli(config, PASSWORD, ['restore', id, '--db', 'tienda', '--yes', '--json']);
      });
      expect(restored.code, restored.stderr).toBe(0);
      // One statement per table before (300); a statement per COUNT_BATCH tables now.
      expect(counted.length).toBe(Math.ceil(TABLES / COUNT_BATCH));
      expect(cluster.psql('SELECT count(*) FROM ONLY t1', 'tienda')).toBe('1');
      expect(cluster.psql('SELECT count(*) FROM t1', 'tienda')).toBe('3');
      expect(cluster.psql('SELECT count(*) FROM t298', 'tienda')).toBe(String(298 % 7));
      expect(cluster.psql('SELECT count(*) FROM "Precios ""2026"""', 'tienda')).toBe('3');

      const some = pgCli(config, PASSWORD, [
        'restore',
        id,
        '--db',
        'tienda',
        '--to',
        'tienda_parte',
        '--table',
        't5',
        '--table',
        'public.Precios "2026"',
        '--yes',
        '--json',
      ]);
      expect(some.code, some.stderr).toBe(0);
      expect(cluster.psql('SELECT count(*) FROM t5', 'tienda_parte')).toBe('5');
    } finally {
      cluster.psql(`ALTER ROLE ${cluster.user} RESET log_statement`);
    }
  }, 300_000);

  test('its small data files written out beside the schema step: the same database back; one damaged stops both', () => {
    const n = BESIDE_SCHEMA_FILES + 20;
    cluster.createDatabase('almacen');
    // Indexes, a foreign key and a view: what pg_restore makes after the data (post-data) comes back too.
    cluster.psql(
      `CREATE TABLE base (id int PRIMARY KEY);
       INSERT INTO base SELECT generate_series(1, 10);
       DO $$ BEGIN FOR k IN 1..${n} LOOP
         EXECUTE format('CREATE TABLE s%s (id int PRIMARY KEY, b int REFERENCES base, v text)', k);
         EXECUTE format('CREATE INDEX ON s%s (v)', k);
         EXECUTE format('INSERT INTO s%s SELECT g, 1 + g %% 10, md5(g::text) FROM generate_series(1, %s) g', k, k % 5);
       END LOOP; END $$;
       CREATE VIEW todas AS SELECT id FROM s1 UNION ALL SELECT id FROM s2;`,
      'almacen',
    );
    const before = plainDump(cluster, 'almacen');
    const dir = makeTmpDir();
    const config = writePgConfig(cluster, dir, ['almacen']);
    const made = pgCli(config, PASSWORD, ['create', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const id = String(made.json.id);

    const copy = pgCli(config, PASSWORD, [
      'restore',
      id,
      '--db',
      'almacen',
      '--to',
      'almacen_copia',
      '--yes',
      '--json',
    ]);
    expect(copy.code, copy.stderr).toBe(0);
    expect(plainDump(cluster, 'almacen_copia')).toBe(before);

    // One small stored data file damaged (a byte of its compressed data flipped, its size kept).
    const setDir = join(dir, 'backups', id);
    const stored = readdirSync(setDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\d+\.dat\.zst$/.test(f))
      .map((f) => join(setDir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(stored);
    bytes[bytes.length >> 1]! ^= 0x55;
    writeFileSync(stored, bytes);
    cluster.psql('INSERT INTO s3 VALUES (100, 1, $$después$$)', 'almacen');
    const changed = plainDump(cluster, 'almacen');
    const failed = pgCli(config, PASSWORD, ['restore', id, '--db', 'almacen', '--yes']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(5);
    expect(failed.stderr).toMatch(/damaged|does not match/i);
    expect(plainDump(cluster, 'almacen')).toBe(changed);
    expect(cluster.databases().filter((d) => d.startsWith('almacen__'))).toEqual([]);
    const left = spawnSync('pgrep', ['-f', `pg_restore.*almacen__restore`], { encoding: 'utf8' });
    expect(left.stdout).toBe('');
  }, 300_000);
});

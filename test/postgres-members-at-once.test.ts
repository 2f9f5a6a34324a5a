/**
 * A PostgreSQL directory dump's table files are stored several at once: a large table's file, read while pg_dump
 * writes it, no longer holds back the small tables' files (their stores overlap). Each file holds its own table
 * (the restore's row counts check every table), and the set verifies and restores identical. Real cluster, real CLI.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, plainDump, writePgConfig } from './helpers/pg-cli.js';
import { makeTmpDir } from './helpers/tmp.js';

const available = pgAvailable();
const PASSWORD = `atonce-${Math.random().toString(36).slice(2, 10)}`;
// Many small tables: pg_dump's second worker dumps tiny tables at a few a millisecond, and respaldo sees the large
// table's file only at its next listing of the folder (every 50 ms, later on a loaded machine). With 60, in two full
// runs, every small table's file was stored before the large one's was handed (nothing left to overlap).
const SMALL = 400;

describe.skipIf(!available)('PostgreSQL table files stored at once', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster({ password: PASSWORD });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test(`a large table and ${SMALL} small ones: their files are stored at once; every table's rows counted`, () => {
    cluster.createDatabase('almacen');
    // pg_dump starts the largest table first; with two jobs its other worker writes the small ones meanwhile.
    cluster.psql(
      `CREATE TABLE grande (id int PRIMARY KEY, v text);
       INSERT INTO grande SELECT g, md5(g::text) || md5((g * 3)::text) || md5((g * 7)::text) FROM generate_series(1, 600000) g;
       DO $$ BEGIN FOR k IN 1..${SMALL} LOOP
         EXECUTE format('CREATE TABLE p%s (id int PRIMARY KEY, v text)', k);
         EXECUTE format('INSERT INTO p%s SELECT g, md5(g::text) FROM generate_series(1, %s) g', k, 1 + k % 5);
       END LOOP; END $$;`,
      'almacen',
    );
    const dir = makeTmpDir();
    const config = writePgConfig(cluster, dir, ['almacen']);
    const made = pgCli(config, PASSWORD, ['create', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const id = String(made.json.id);
    const entry = made.json.databases[0];
    expect(entry.tables['public.grande']).toBe(600000);
    for (let k = 1; k <= SMALL; k++) expect(entry.tables[`public.p${k}`]).toBe(1 + (k % 5));

    const setDir = join(dir, 'backups', id);
    const members = (entry.extras as { role: string; file: string; rawBytes: number }[]).filter((x) =>
      x.role.startsWith('pgdir:'),
    );
    expect(members.length).toBeGreaterThan(SMALL);
    expect(members.some((x) => x.rawBytes > 20 << 20)).toBe(true);
    // Each file's store, from its creation (its birth time: a temporary name, renamed once written) to its last
    // write. One after another, each began after the one before was written; stored at once, they overlap. Which
    // file pg_dump's folder lists first is not fixed (the large one may be handed after small ones), so any two.
    const spans = members.map((x) => {
      const st = statSync(join(setDir, x.file));
      return { from: st.birthtimeMs, to: st.mtimeMs };
    });
    expect(spans.every((x) => x.from > 0)).toBe(true);
    const overlapping = spans.filter((a, i) => spans.some((b, j) => i !== j && a.from < b.to && b.from < a.to));
    expect(overlapping.length, 'files whose store overlapped another').toBeGreaterThan(1);

    const verified = pgCli(config, PASSWORD, ['verify', id, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const restored = pgCli(config, PASSWORD, ['restore', id, '--db', 'almacen', '--to', 'almacen_copia', '--yes']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(plainDump(cluster, 'almacen_copia')).toBe(plainDump(cluster, 'almacen'));
  }, 240_000);
});

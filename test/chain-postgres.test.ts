import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { pgAvailable, plainDump as plainDumpOf, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

/**
 * PostgreSQL chains end to end through the built CLI against a real cluster: every kind of change
 * between two sets (INSERT, UPDATE, DELETE, TRUNCATE, COPY, a rewriting ALTER TABLE, a dropped and
 * recreated table, pg_stat_reset(), an immediate shutdown) is in the chain, and restoring any set, by
 * id or `--at` its point, gives a database whose pg_dump equals the one taken at that point.
 */

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const BIN = process.env['RESPALDO_CLI'] ?? join(ROOT, 'bin/respaldo.js');
const PASSWORD = `chain'pw:${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;
let configFile: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON outputs of several shapes
type Json = any;

function cli(args: string[], expectCode = 0): { stdout: string; stderr: string; json: Json } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', configFile], {
    encoding: 'utf8',
    env: { ...process.env, DB_PASSWORD: PASSWORD, CI: 'true', NO_COLOR: '1' },
    cwd: work,
    maxBuffer: 64 << 20,
    timeout: 180_000,
  });
  expect(r.status, `respaldo ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(expectCode);
  let json: unknown = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = null;
  }
  return { stdout: r.stdout, stderr: r.stderr, json };
}

/** Plain pg_dump of a database (without the random `\restrict` key lines of newer minors). */
const plainDump = (database: string): string => plainDumpOf(cluster, database);

function create(type: string): Manifest {
  return cli(['create', '--type', type, '--db', 'inventario', '--no-files', '--json']).json as Manifest;
}

/** Stored data files of the set's entry (`pgdir:` extras), by role. */
function storedFiles(m: Manifest): string[] {
  return (m.databases[0]!.extras ?? []).flatMap((x) => (x.role?.startsWith('pgdir:') ? [x.role] : []));
}

/** Bytes the set stores for the database (its TOC and every extra). */
function storedBytes(m: Manifest): number {
  const e = m.databases[0]!;
  return e.storedBytes + (e.extras ?? []).reduce((s, x) => s + x.storedBytes, 0);
}

// Rows of a table no change touches: its data file (about 1.3 MB) dwarfs what a delta of one small table
// stores, so storing it again would show; each of the ~40 restores and dumps below pays for its size.
const UNTOUCHED_ROWS = 10_000;

const SEED = `
CREATE TABLE untouched (id int PRIMARY KEY, body text);
INSERT INTO untouched SELECT i, md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) || md5((i * 31)::text)
  FROM generate_series(1, ${UNTOUCHED_ROWS}) i;
CREATE TABLE t_ins (id serial PRIMARY KEY, v text);
INSERT INTO t_ins (v) SELECT 'ins ' || i FROM generate_series(1, 100) i;
CREATE TABLE t_upd (id int PRIMARY KEY, v text);
INSERT INTO t_upd SELECT i, 'upd ' || i FROM generate_series(1, 100) i;
CREATE TABLE t_del (id int PRIMARY KEY, v text);
INSERT INTO t_del SELECT i, 'del ' || i FROM generate_series(1, 100) i;
CREATE TABLE t_trunc (id int PRIMARY KEY, v text);
INSERT INTO t_trunc SELECT i, 'trunc ' || i FROM generate_series(1, 100) i;
CREATE TABLE t_copy (id int, v text);
CREATE TABLE t_alter (id int PRIMARY KEY, v int);
INSERT INTO t_alter SELECT i, i FROM generate_series(1, 100) i;
CREATE TABLE t_recreate (id int PRIMARY KEY, v text);
INSERT INTO t_recreate SELECT i, 'old ' || i FROM generate_series(1, 100) i;
CREATE TABLE empty_one (id int);
SELECT lo_from_bytea(0, 'a large object');
`;

describe.skipIf(!available)('PostgreSQL chains on a real cluster', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgchain-'));
    cluster = await startPgCluster({ password: PASSWORD });
    cluster.createDatabase('inventario');
    cluster.psql(SEED, 'inventario');
    configFile = join(work, 'backup_config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        backupDir: './backups',
        databases: [
          {
            name: 'inventario',
            url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/inventario`,
          },
        ],
        files: { config: [], application: [] },
        compression: { level: 1 },
        retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } },
        schedule: { jobs: [] },
      }),
    );
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('each change is in the chain; restore by id and --at gives the pg_dump of that point', () => {
    const sets: Manifest[] = [];
    const dumps = new Map<string, string>();
    const take = (type: string, expectedBase?: string): Manifest => {
      const m = create(type);
      expect(m.type, `${type}: ${JSON.stringify(m.chainNotes)}`).toBe(type);
      if (expectedBase) expect(m.databases[0]!.base).toBe(expectedBase);
      sets.push(m);
      dumps.set(m.id, plainDump('inventario'));
      return m;
    };

    const full = take('full');
    expect(full.databases[0]!.extras?.some((x) => x.role === 'pgchain')).toBe(true);
    const fullFiles = storedFiles(full).length;

    cluster.psql("INSERT INTO t_ins (v) VALUES ('inserted')", 'inventario');
    const i1 = take('incremental', full.id);
    // only t_ins's data changed: one data file stored; the rows of `untouched` cost nothing
    expect(storedFiles(i1)).toHaveLength(1);
    expect(i1.databases[0]!.details['unchangedFiles']).toBe(fullFiles - 1);
    expect(storedBytes(i1)).toBeLessThan(storedBytes(full) / 20);
    expect(i1.databases[0]!.tables).toMatchObject({ 'public.untouched': UNTOUCHED_ROWS, 'public.t_ins': 101 });

    cluster.psql("UPDATE t_upd SET v = 'updated' WHERE id = 5", 'inventario');
    const i2 = take('incremental', i1.id);
    expect(storedFiles(i2)).toHaveLength(1);

    // large objects are files of the dump too (blobs.toc and one file each)
    cluster.psql("SELECT lo_from_bytea(0, 'another large object')", 'inventario');
    take('incremental', i2.id);

    cluster.psql('DELETE FROM t_del WHERE id > 50', 'inventario');
    const i3 = take('incremental');
    expect(storedFiles(i3)).toHaveLength(1);

    // statistics do not see a TRUNCATE's rows; the content does (here: the bytes of an empty table)
    cluster.psql('TRUNCATE t_trunc', 'inventario');
    const i4 = take('incremental', i3.id);
    expect(storedFiles(i4)).toEqual([]);
    expect(i4.databases[0]!.tables).toMatchObject({ 'public.t_trunc': 0 });

    const copyFile = join(work, 'rows.tsv');
    writeFileSync(copyFile, Array.from({ length: 50 }, (_, i) => `${i}\tcopied ${i}`).join('\n') + '\n');
    cluster.psql(`\\copy t_copy FROM '${copyFile}'`, 'inventario');
    const d1 = take('differential', full.id);
    // what changed since the full: t_ins, t_upd, t_del, t_copy, the large objects' list and the new one
    // (t_trunc now holds the bytes of an empty table, which the full has)
    expect(storedFiles(d1)).toHaveLength(6);

    // a rewrite that changes no statistics counter
    cluster.psql('ALTER TABLE t_alter ALTER COLUMN v TYPE numeric(10, 2)', 'inventario');
    const i5 = take('incremental', d1.id);
    expect(storedFiles(i5)).toHaveLength(1);

    cluster.psql(
      `DROP TABLE t_recreate; CREATE TABLE t_recreate (id int PRIMARY KEY, v text, extra int);
       INSERT INTO t_recreate SELECT i, 'new ' || i, i FROM generate_series(1, 60) i`,
      'inventario',
    );
    take('incremental', i5.id);

    cluster.psql("UPDATE t_upd SET v = 'after reset' WHERE id = 6; SELECT pg_stat_reset()", 'inventario');
    take('incremental');

    // committed durably (the test cluster runs with synchronous_commit off), then an immediate shutdown
    cluster.psql("SET synchronous_commit = on; UPDATE t_ins SET v = 'before the crash' WHERE id = 1", 'inventario');
    cluster.crash();
    cluster.start();
    const last = take('incremental');
    expect(storedFiles(last)).toHaveLength(1);

    // the chain of the last set, checked as a whole
    const v = cli(['verify', '--chain', last.id, '--json']).json;
    expect(v).toMatchObject({ ok: true });
    expect(v.chain).toEqual([full.id, d1.id, ...sets.slice(sets.indexOf(d1) + 1).map((s) => s.id)]);

    // Every set restores by id; `--at` its point plans that set and its chain, and is restored for the full, the
    // differential and the last (the same restore once planned; each restore here costs about a second).
    const chainOf = (m: Manifest): string[] => {
      const at = sets.indexOf(m);
      if (m.type === 'full') return [m.id];
      if (m.type === 'differential') return [full.id, m.id];
      return [...chainOf(sets[at - 1]!), m.id];
    };
    sets.forEach((m, n) => {
      const byId = `by_id_${n}`;
      cli(['restore', m.id, '--db', 'inventario', '--to', byId, '--yes']);
      expect(plainDump(byId), `restore ${m.id} (${m.type})`).toBe(dumps.get(m.id));
      const plan = cli([
        'restore',
        '--at',
        m.completedAt,
        '--db',
        'inventario',
        '--to',
        `at_${n}`,
        '--dry-run',
        '--json',
      ]).json as { at: { setId: string; order: string[] } };
      expect(plan.at, `restore --at ${m.completedAt}`).toMatchObject({ setId: m.id, order: chainOf(m) });
      if (m !== full && m !== d1 && m !== last) return;
      cli(['restore', '--at', m.completedAt, '--db', 'inventario', '--to', `at_${n}`, '--yes']);
      expect(plainDump(`at_${n}`), `restore --at ${m.completedAt} (${m.id})`).toBe(dumps.get(m.id));
    });

    // selected tables of a chain set, side by side
    cli(['restore', i3.id, '--db', 'inventario', '--table', 'public.t_del', '--to', 'tables_i3', '--yes']);
    expect(cluster.psql('SELECT count(*), max(id) FROM t_del', 'tables_i3')).toBe('50|50');
    expect(cluster.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'untouched'", 'tables_i3')).toBe('0');

    // a drill of a chain set restores the chain into scratch and checks it
    expect(cli(['drill', last.id]).stdout).toMatch(/passed\s+inventario/);

    // in place: the same verified beside-then-swap path
    cli(['restore', i2.id, '--db', 'inventario', '--yes', '--terminate-connections']);
    expect(plainDump('inventario')).toBe(dumps.get(i2.id));

    // retention keeps what the newest set needs, removes the rest, and the chain still restores
    const dry = cli(['prune', '--dry-run', '--json']).json as {
      sets: { id: string; action: string; reasons: string[] }[];
    };
    const action = new Map(dry.sets.map((s) => [s.id, `${s.action} ${s.reasons.join('; ')}`]));
    for (const id of [full.id, d1.id, ...sets.slice(sets.indexOf(d1) + 1).map((s) => s.id)])
      expect(action.get(id), id).toMatch(/^keep/);
    for (const s of sets.slice(1, sets.indexOf(d1))) expect(action.get(s.id), s.id).not.toMatch(/^keep/);
    cli(['prune']);
    for (const s of sets.slice(1, sets.indexOf(d1))) expect(existsSync(join(work, 'backups', s.id))).toBe(false);
    cli(['restore', last.id, '--db', 'inventario', '--to', 'after_prune', '--yes']);
    expect(plainDump('after_prune')).toBe(dumps.get(last.id));
  }, 900_000);

  test('a full made before content maps is a base: its stored data files are hashed', () => {
    const main = configFile;
    configFile = join(work, 'old_config.json');
    writeFileSync(configFile, readFileSync(main, 'utf8').replace('./backups', './old-backups'));
    try {
      cluster.createDatabase('old_map');
      cluster.psql(SEED, 'old_map');
      writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('/inventario"', '/old_map"'));
      const full = create('full');
      // as a set made before content maps: no pgchain extra
      const file = join(work, 'old-backups', full.id, 'manifest.json');
      const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
      const map = m.databases[0]!.extras!.find((x) => x.role === 'pgchain')!;
      rmSync(join(work, 'old-backups', full.id, map.file));
      m.databases[0]!.extras = m.databases[0]!.extras!.filter((x) => x !== map);
      writeFileSync(file, JSON.stringify(m, null, 2));

      cluster.psql("UPDATE t_upd SET v = 'changed' WHERE id = 1", 'old_map');
      const inc = create('incremental');
      expect(inc.type).toBe('incremental');
      expect(storedFiles(inc)).toHaveLength(1);
      const wanted = plainDump('old_map');
      cli(['restore', inc.id, '--db', 'inventario', '--to', 'old_map_restored', '--yes']);
      expect(plainDump('old_map_restored')).toBe(wanted);
    } finally {
      configFile = main;
    }
  }, 300_000);

  test('a base whose content map cannot be read: the incremental is stored as a full, saying why', () => {
    const main = configFile;
    configFile = join(work, 'damaged_config.json');
    writeFileSync(configFile, readFileSync(main, 'utf8').replace('./backups', './damaged-backups'));
    try {
      const full = create('full');
      const map = full.databases[0]!.extras!.find((x) => x.role === 'pgchain')!;
      // same size (the engine checks sizes before choosing a base), other bytes
      writeFileSync(join(work, 'damaged-backups', full.id, map.file), Buffer.alloc(map.storedBytes, 'x'));
      const next = create('incremental');
      expect(next.type).toBe('full');
      expect(next.chainNotes?.[0]).toMatch(
        new RegExp(`^inventario: stored as a full, not an incremental: the base set ${full.id} could not be read`),
      );
      expect(storedFiles(next).length).toBe(storedFiles(full).length);
    } finally {
      configFile = main;
    }
  }, 300_000);
});

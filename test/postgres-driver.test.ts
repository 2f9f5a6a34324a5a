import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
  mkdirSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { FREE_SLOTS_SQL } from '../src/drivers/postgres/catalog.js';
import { createGzip, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { CollectingReporter } from '../src/core/events.js';
import { InterruptedError, RefusedError, RespaldoError } from '../src/core/errors.js';
import type { DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { Driver, DriverContext, DumpFacts, OpenedDump, RestoreTarget } from '../src/drivers/driver.js';
import { createPostgresDriver, postgresDriver } from '../src/drivers/postgres/index.js';
import { driverFor } from '../src/drivers/registry.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { pgAvailable, processesMentioning, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

/**
 * The PostgreSQL driver against a real throwaway cluster. The engine (gzip, manifest) is
 * simulated here: dumps are piped through node:zlib into files, restores read them back.
 */

const available = pgAvailable();
const PASSWORD = `Pw'd:@\\x-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;

function dbConfig(database: string, extra: Partial<DatabaseConfig> = {}): DatabaseConfig {
  return { name: database.replace(/[^\w]/g, '_') || 'db', engine: 'postgres', url: cluster.url(database), ...extra };
}

function warnings(ctx: { reporter: CollectingReporter }, type: 'warning' | 'info' = 'warning'): string[] {
  return ctx.reporter.events.flatMap((e) => (e.type === type ? [e.message] : []));
}

/** The steps a restore reported (its `item-progress` messages). */
function steps(ctx: { reporter: CollectingReporter }): (string | undefined)[] {
  return ctx.reporter.events.flatMap((e) => (e.type === 'item-progress' ? [e.message] : []));
}

function makeCtx(): DriverContext & { reporter: CollectingReporter; logs: string[] } {
  const scratchDir = mkdtempSync(join(work, 'scratch-'));
  const logs: string[] = [];
  return {
    reporter: new CollectingReporter(),
    signal: new AbortController().signal,
    scratchDir,
    log: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    logs,
  };
}

interface StoredDump {
  scratchDir: string;
  facts: DumpFacts;
  files: Record<string, string>;
  /** Raw (uncompressed) size of each stored member of a directory dump, as the manifest records it. */
  raw: Record<string, number>;
  formats: Record<string, string>;
}

let dumpCounter = 0;
/**
 * Runs a backup the way the engine does: parts in order, each gzip'ed to a file while `finished` is awaited.
 * `beforeReading` runs once the main part is open (its snapshot taken) and before a byte of it is read.
 */
async function dump(
  db: DatabaseConfig,
  type: 'full' | 'schema' = 'full',
  ctx = makeCtx(),
  beforeReading?: (opened: OpenedDump) => Promise<void>,
  driver?: Driver,
): Promise<StoredDump> {
  const session = await (driver ?? postgresDriver).backup({ db, type, purpose: 'backup' }, ctx);
  const files: Record<string, string> = {};
  const raw: Record<string, number> = {};
  const formats: Record<string, string> = {};
  let facts: DumpFacts | undefined;
  try {
    for (const part of session.parts) {
      const file = join(work, `dump-${++dumpCounter}.${part.role}.${part.extension}.gz`);
      const opened = await part.open();
      if (part.role === 'main' && beforeReading) await beforeReading(opened);
      // Members of a directory dump, stored one after another as the engine does.
      const members = (async () => {
        for await (const m of opened.members ?? []) {
          const memberFile = join(work, `dump-${dumpCounter}.${m.name}.gz`);
          raw[m.role] = 0;
          const source = m.open();
          source.on('data', (c: Buffer) => (raw[m.role]! += c.length));
          await pipeline(source, createGzip({ level: 1 }), createWriteStream(memberFile));
          files[m.role] = memberFile;
          await m.stored();
        }
      })();
      const [stored, finished, membered] = await Promise.allSettled([
        pipeline(opened.stream, createGzip({ level: 1 }), createWriteStream(file)),
        opened.finished,
        members,
      ]);
      if (finished.status === 'rejected') throw finished.reason;
      if (membered.status === 'rejected') throw membered.reason;
      if (stored.status === 'rejected') throw stored.reason;
      files[part.role] = file;
      formats[part.role] = part.format;
      if (part.role === 'main') facts = finished.value;
    }
  } finally {
    await session.cleanup();
  }
  return { scratchDir: ctx.scratchDir, facts: facts!, files, raw, formats };
}

function entryOf(db: DatabaseConfig, d: StoredDump): DatabaseEntry {
  const extras = Object.entries(d.files)
    .filter(([role]) => role !== 'main')
    .map(([role, file]) => ({
      role,
      file,
      compressed: true,
      rawBytes: d.raw[role] ?? 0,
      storedBytes: 0,
      md5: '',
      sha256: '',
    }));
  return {
    name: db.name,
    engine: 'postgres',
    file: d.files['main']!,
    format: d.formats['main']!,
    compressed: true,
    rawBytes: 0,
    storedBytes: 0,
    md5: null,
    sha256: null,
    tables: d.facts.tables,
    durationMs: 0,
    error: null,
    details: d.facts.details,
    ...(extras.length ? { extras } : {}),
  };
}

async function restore(
  db: DatabaseConfig,
  d: StoredDump,
  target: RestoreTarget,
  opts: {
    setId?: string;
    tables?: string[];
    terminate?: boolean;
    createRoles?: boolean;
    entry?: DatabaseEntry;
    ctx?: ReturnType<typeof makeCtx>;
    driver?: Driver;
    openPart?: (role?: string) => Readable;
  } = {},
) {
  const ctx = opts.ctx ?? makeCtx();
  const result = await (opts.driver ?? postgresDriver).restore(
    {
      db,
      entry: opts.entry ?? entryOf(db, d),
      setId: opts.setId ?? '20261122_101010',
      target,
      openPart: opts.openPart ?? ((role = 'main') => createReadStream(d.files[role]!).pipe(createGunzip())),
      ...(opts.tables ? { tables: opts.tables } : {}),
      terminateConnections: opts.terminate ?? false,
      ...(opts.createRoles ? { createRoles: true } : {}),
    },
    ctx,
  );
  return { result, ctx };
}

/** Plain pg_dump (schema and data) of a database, without the per-run \restrict keys. */
function plainDump(database: string, extra: string[] = []): string {
  const r = spawnSync(
    join(cluster.binDir, 'pg_dump'),
    [
      '--no-password',
      ...extra,
      `--dbname=host=${cluster.host} port=${cluster.port} user=${cluster.user} dbname='${database.replace(/'/g, "\\'")}'`,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: cluster.password },
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}

function loadChinook(database: string): void {
  cluster.createDatabase(database);
  const sql = readFileSync(join(__dirname, 'fixtures/chinook/Chinook_PostgreSql.sql'), 'utf8')
    .replace(/^DROP DATABASE IF EXISTS chinook;$/m, '')
    .replace(/^CREATE DATABASE chinook;$/m, '')
    .replace(/^\\c chinook;$/m, '');
  const file = join(work, `chinook-${database}.sql`);
  writeFileSync(file, sql);
  cluster.psqlFile(file, database);
}

/** Fixture databases tests only read (or restore over, expecting them unchanged), made by the first that needs one. */
const FIXTURES: Record<'chinook' | 'tricky' | 'ledger' | 'bank', () => void> = {
  chinook: () => loadChinook('chinook'),
  tricky: () => {
    cluster.createDatabase('tricky');
    const file = join(work, 'tricky.sql');
    writeFileSync(file, TRICKY_SQL);
    cluster.psqlFile(file, 'tricky');
    cluster.psql(
      `ALTER DATABASE tricky SET work_mem = '8MB'; ALTER DATABASE tricky SET search_path = "$user", public; REVOKE CONNECT ON DATABASE tricky FROM PUBLIC; GRANT CONNECT ON DATABASE tricky TO app_reader;
      ALTER DATABASE tricky CONNECTION LIMIT 50; COMMENT ON DATABASE tricky IS 'the ''sly'' one';
      ALTER ROLE app_reader IN DATABASE tricky SET statement_timeout = '33s';`,
    );
  },
  ledger: () => {
    cluster.createDatabase('ledger');
    cluster.psql(
      `CREATE TABLE entries (id int PRIMARY KEY, amount numeric);
      INSERT INTO entries SELECT g, g * 1.5 FROM generate_series(1, 1000) g;`,
      'ledger',
    );
  },
  bank: () => {
    cluster.createDatabase('bank');
    cluster.psql(BANK_SQL, 'bank');
    cluster.psql(
      `INSERT INTO history (a, b, delta, filler)
      SELECT g, 1001 - g, g, repeat('x', 200) FROM generate_series(1, 1000) g`,
      'bank',
    );
  },
};
const made = new Set<string>();

/** The name of a fixture database, made now if no test made it yet (in this file's cluster). */
function fixture(name: keyof typeof FIXTURES): string {
  if (!made.has(name)) {
    FIXTURES[name]();
    made.add(name);
  }
  return name;
}

const BANK_SQL = `
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 1000) g;
CREATE TABLE history (id bigserial PRIMARY KEY, a int, b int, delta int, filler text);
CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 150000) g;
`;

const TRICKY_SQL = `
CREATE EXTENSION pgcrypto;
CREATE SCHEMA "Ünïcode ""esquema"" x" AUTHORIZATION app_owner;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE SEQUENCE custom_seq START 1000 INCREMENT 7;
CREATE TABLE people (
  id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  mood mood,
  age positive_int,
  doc jsonb,
  pic bytea,
  shout text GENERATED ALWAYS AS (upper(name)) STORED,
  ticket int DEFAULT nextval('custom_seq'),
  secret bytea DEFAULT gen_random_bytes(4)
);
ALTER TABLE people OWNER TO app_owner;
GRANT SELECT ON people TO app_reader;
COMMENT ON TABLE people IS 'gente ☃';
CREATE TABLE audit (id bigserial PRIMARY KEY, what text, at timestamptz DEFAULT now());
CREATE FUNCTION audit_people() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit(what) VALUES (TG_OP || ':' || NEW.name);
  RETURN NEW;
END $$;
CREATE TRIGGER people_audit AFTER INSERT ON people FOR EACH ROW EXECUTE FUNCTION audit_people();
CREATE TABLE measurements (id bigserial, at date NOT NULL, v numeric(10,2)) PARTITION BY RANGE (at);
CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE "Ünïcode ""esquema"" x"."tabla con espacios y ""comillas"" ñ" (id int PRIMARY KEY, "valor é" text);
INSERT INTO people(name, mood, age, doc, pic) SELECT 'persona ' || g, (ARRAY['sad','ok','happy'])[1 + g % 3]::mood, 1 + g % 90,
  jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'ü', g)), decode(md5(g::text), 'hex') FROM generate_series(1, 500) g;
INSERT INTO measurements(at, v) SELECT date '2024-01-01' + (g % 700), g / 7.0 FROM generate_series(1, 2000) g;
INSERT INTO "Ünïcode ""esquema"" x"."tabla con espacios y ""comillas"" ñ" VALUES (1, 'uno ✓'), (2, E'dos\\ttab'), (3, NULL);
CREATE VIEW happy_people AS SELECT id, name FROM people WHERE mood = 'happy';
CREATE MATERIALIZED VIEW mood_counts AS SELECT mood, count(*) AS n FROM people GROUP BY mood;
SELECT lo_from_bytea(0, '\\xdeadbeef00ff'::bytea);
SELECT lo_from_bytea(0, convert_to(repeat('large object ñ ', 1000), 'UTF8'));
SELECT setval('custom_seq', 99999);
`;

describe.skipIf(!available)('postgres driver (real cluster)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgtest-'));
    cluster = await startPgCluster({ password: PASSWORD });
    cluster.psql('CREATE ROLE app_owner; CREATE ROLE app_reader;');
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('registry maps postgres to this driver; describe and validate never show the password', () => {
    expect(driverFor('postgres')).toBe(postgresDriver);
    const db = dbConfig('inventario');
    expect(postgresDriver.validateConfig(db)).toEqual([]);
    const text = postgresDriver.describe(db);
    expect(text).toContain('inventario');
    expect(text).not.toContain(PASSWORD);
  });

  test('Chinook: backup records versions, size and exact row counts; side-by-side restore is identical', async () => {
    const db = dbConfig(fixture('chinook'));
    const d = await dump(db);
    expect(d.formats['main']).toBe('pg-directory');
    expect(d.facts.tables).toMatchObject({
      'public.album': 347,
      'public.artist': 275,
      'public.track': 3503,
      'public.invoice_line': 2240,
    });
    expect(d.facts.details).toMatchObject({
      rowCounts: 'exact',
      rowCountsFrom: 'dump',
      snapshot: true,
      jobs: expect.any(Number),
      serverVersionNum: expect.any(Number),
      pgDumpVersion: expect.stringMatching(/^\d+\.\d+/),
    });
    expect(d.facts.details['jobs']).toBeGreaterThanOrEqual(2);
    expect(d.facts.details['databaseSizeBytes']).toBeGreaterThan(1_000_000);
    expect(JSON.stringify(d.facts)).not.toContain(PASSWORD);
    // The main file is the directory dump's table of contents; each table's data is its own member (-Z0 inside).
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(readFileSync(d.files['main']!)).subarray(0, 5).toString()).toBe('PGDMP');
    const members = Object.keys(d.files).filter((r) => r.startsWith('pgdir:'));
    expect(members.length).toBeGreaterThanOrEqual(11);
    expect(members.every((r) => /^pgdir:\d+\.dat$/.test(r))).toBe(true);
    expect(members.some((r) => gunzipSync(readFileSync(d.files[r]!)).includes(Buffer.from('Jagged Little Pill')))).toBe(
      true,
    );
    // The scratch copies of the dump are deleted as each file is stored.
    expect(readdirSync(join(d.scratchDir, 'pg-directory')).filter((f) => f !== 'toc.dat')).toEqual([]);

    const { result } = await restore(db, d, { kind: 'side-by-side', name: 'chinook_copy' });
    expect(result.restoredTo).toBe('chinook_copy');
    expect(result.safetyDatabase).toBeUndefined();
    expect(result.tables).toEqual(d.facts.tables);
    expect(plainDump('chinook_copy')).toBe(plainDump('chinook'));
    expect(cluster.databases().filter((n) => n.includes('__restore_'))).toEqual([]);
  });

  test('row counts from the dump lines: values with newlines, backslashes and a lone \\. are one row each; empty tables count 0', async () => {
    cluster.createDatabase('lines');
    cluster.psql(
      `CREATE TABLE t (v text); CREATE TABLE empty (v int);
      INSERT INTO t VALUES (E'a\\nb'), (E'\\\\.'), ('.'), (''), (NULL), (E'x\\r\\n\\\\.\\n'), (repeat('z', 200000))`,
      'lines',
    );
    const db = dbConfig('lines');
    const d = await dump(db);
    expect(d.facts.tables).toEqual({ 'public.t': 7, 'public.empty': 0 });
    const { result } = await restore(db, d, { kind: 'side-by-side', name: 'lines_copy' });
    expect(result.tables).toEqual({ 'public.t': 7, 'public.empty': 0 });
    expect(plainDump('lines_copy')).toBe(plainDump('lines'));
  });

  test('a pg-custom set (one pg_dump -Fc stream, made before the directory format) restores whole and by table as before', async () => {
    const db = dbConfig(fixture('tricky'));
    const d = await dump(db, 'full', makeCtx(), undefined, createPostgresDriver({ format: 'custom' }));
    expect(d.formats['main']).toBe('pg-custom');
    expect(Object.keys(d.files).some((r) => r.startsWith('pgdir:'))).toBe(false);
    const { gunzipSync } = await import('node:zlib');
    const raw = gunzipSync(readFileSync(d.files['main']!));
    expect(raw.subarray(0, 5).toString()).toBe('PGDMP');
    expect(raw.includes(Buffer.from('COPY public.people'))).toBe(true);
    expect(d.facts.details).toMatchObject({ rowCounts: 'exact', snapshot: true });
    expect(d.facts.details['rowCountsFrom']).toBeUndefined();
    const { result } = await restore(db, d, { kind: 'side-by-side', name: 'tricky_from_custom' });
    expect(result.tables).toEqual(d.facts.tables);
    expect(plainDump('tricky_from_custom')).toBe(plainDump('tricky'));
    const one = await restore(
      db,
      d,
      { kind: 'side-by-side', name: 'tricky_custom_people' },
      { tables: ['public.people'] },
    );
    expect(one.result.tables).toEqual({ 'public.people': 500 });
  });

  test('tricky objects round trip: schema, data, large objects, owners, privileges and database settings identical', async () => {
    const db = dbConfig(fixture('tricky'));
    const d = await dump(db);
    expect(d.facts.tables).toMatchObject({
      'public.people': 500,
      'public.audit': 500,
      'public.measurements_2024': expect.any(Number),
      'Ünïcode "esquema" x.tabla con espacios y "comillas" ñ': 3,
    });
    expect(d.facts.tables!['public.measurements_2024']! + d.facts.tables!['public.measurements_2025']!).toBe(2000);

    await restore(db, d, { kind: 'side-by-side', name: 'tricky restored ü' });
    expect(plainDump('tricky restored ü')).toBe(plainDump('tricky'));
    expect(plainDump('tricky restored ü', ['--schema-only'])).toBe(plainDump('tricky', ['--schema-only']));
    const props = (name: string) =>
      cluster
        .psql(
          `SELECT pg_encoding_to_char(encoding), datcollate, pg_get_userbyid(datdba), (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(datacl) a), (SELECT array_to_string(setconfig, ';') FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0), datconnlimit, shobj_description(d.oid, 'pg_database'), (SELECT string_agg(pg_get_userbyid(setrole) || ':' || array_to_string(setconfig, ';'), ',') FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole <> 0) FROM pg_database d WHERE datname = '${name.replace(/'/g, "''")}'`,
        )
        .replace(/tricky restored ü|tricky/g, 'X');
    expect(props('tricky restored ü')).toBe(props('tricky'));
    expect(props('tricky')).toContain('app_reader=c/');
    expect(props('tricky')).toContain("|50|the 'sly' one|app_reader:statement_timeout=33s");
    expect(cluster.psql(`SELECT count(*) FROM pg_largeobject_metadata`, 'tricky restored ü')).toBe('2');
    expect(
      cluster.psql(`SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'people'`, 'tricky restored ü'),
    ).toBe('app_owner');
  });

  test('selected tables bring what they need: enum, domain, sequences and their values, identity, extension, trigger function, grants, comments; a partition brings its parent', async () => {
    const db = dbConfig(fixture('tricky'));
    const d = await dump(db);
    const { result, ctx } = await restore(
      db,
      d,
      { kind: 'side-by-side', name: 'tricky_people' },
      { tables: ['public.people', 'public.measurements_2024'] },
    );
    expect(result.tables).toEqual({
      'public.people': 500,
      'public.measurements_2024': d.facts.tables!['public.measurements_2024'],
    });
    const peopleDump = (database: string) => plainDump(database, ['--table=public.people']);
    expect(peopleDump('tricky_people')).toBe(peopleDump('tricky'));
    expect(peopleDump('tricky_people')).toMatch(
      /GENERATED ALWAYS AS IDENTITY[\s\S]*people_audit[\s\S]*GRANT SELECT ON TABLE public.people TO app_reader/,
    );
    expect(cluster.psql(`SELECT last_value FROM custom_seq`, 'tricky_people')).toBe('99999');
    expect(
      cluster.psql(`SELECT enum_range(NULL::mood)::text, pg_typeof(age)::text FROM people LIMIT 1`, 'tricky_people'),
    ).toBe('{sad,ok,happy}|positive_int');
    // Everything works as before: identity, sequence default, extension function default, trigger function.
    cluster.psql(
      `CREATE TABLE audit (id bigserial, what text, at timestamptz); INSERT INTO people(name) VALUES ('nueva')`,
      'tricky_people',
    );
    expect(
      cluster.psql(`SELECT id, ticket, length(secret), shout FROM people WHERE name = 'nueva'`, 'tricky_people'),
    ).toBe('501|100006|4|NUEVA');
    expect(cluster.psql(`SELECT what FROM audit`, 'tricky_people')).toBe('INSERT:nueva');
    // The partition came with its (empty) parent; views over people and the other partition did not.
    expect(
      cluster.psql(
        `SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relkind IN ('r', 'p', 'v', 'm') AND relnamespace = 'public'::regnamespace`,
        'tricky_people',
      ),
    ).toBe('audit,measurements,measurements_2024,people');
    expect(cluster.psql(`SELECT count(*) FROM measurements`, 'tricky_people')).toBe(
      String(d.facts.tables!['public.measurements_2024']),
    );
    const w = warnings(ctx).join('\n');
    expect(warnings(ctx, 'info')).toContain(
      'tricky: also restored TABLE public measurements (a selected table is its partition or child)',
    );
    expect(w).toMatch(/not restored: VIEW public happy_people/);
    expect(w).toMatch(/not restored: MATERIALIZED VIEW public mood_counts/);
    // The menu shows them in the operator's language, the reason too.
    const spanish = ctx.reporter.events.flatMap((e) =>
      e.type === 'warning' && e.phrase?.id.startsWith('note.notRestored') ? [say('es', e.phrase, e.message)] : [],
    );
    expect(spanish).toContain('no restaurado: VIEW public happy_people (con --table solo se restauran tablas)');
  });

  test('database names starting with "-" and containing "=" and quotes are names, not options', async () => {
    const name = `-odd=name 'q' ü`;
    cluster.createDatabase(name);
    cluster.psql(`CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 42);`, name);
    const db: DatabaseConfig = {
      name: 'odd',
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      user: cluster.user,
      password: PASSWORD,
      database: name,
      globals: true,
    };
    const d = await dump(db);
    expect(d.facts.tables).toEqual({ 'public.t': 42 });
    expect(d.files['globals']).toBeDefined();
    const globals = (await import('node:zlib')).gunzipSync(readFileSync(d.files['globals']!)).toString();
    expect(globals).toContain('CREATE ROLE app_owner');
    await restore(db, d, { kind: 'side-by-side', name: `=copy -of 'odd'` });
    expect(cluster.psql('SELECT sum(x) FROM t', `=copy -of 'odd'`)).toBe(String((42 * 43) / 2));
  });

  test('schema-only backup restores tables without rows', async () => {
    const db = dbConfig(fixture('chinook'));
    const d = await dump(db, 'schema');
    expect(d.facts.tables).toBeNull();
    await restore(db, d, { kind: 'side-by-side', name: 'chinook_schema' });
    expect(cluster.psql('SELECT count(*) FROM album', 'chinook_schema')).toBe('0');
    expect(plainDump('chinook_schema', ['--schema-only'])).toBe(plainDump('chinook', ['--schema-only']));
  });

  test('selected tables restore into a side-by-side database only', async () => {
    const db = dbConfig(fixture('chinook'));
    const d = await dump(db);
    const { result, ctx } = await restore(
      db,
      d,
      { kind: 'side-by-side', name: 'chinook_some' },
      { tables: ['public.album', 'public.artist'] },
    );
    expect(result.tables).toEqual({ 'public.album': 347, 'public.artist': 275 });
    expect(
      cluster.psql(
        `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'`,
        'chinook_some',
      ),
    ).toBe('album,artist');
    // Not only definition and rows (what pg_restore -t gives): keys, the foreign key between them, indexes.
    const tableDump = (database: string) => plainDump(database, ['--table=public.album', '--table=public.artist']);
    expect(tableDump('chinook_some')).toBe(tableDump('chinook'));
    expect(tableDump('chinook_some')).toMatch(
      /album_pkey PRIMARY KEY[\s\S]*album_artist_id_idx[\s\S]*album_artist_id_fkey FOREIGN KEY/,
    );
    expect(warnings(ctx)).toEqual([]);
    // A table whose foreign keys point at tables left out: its own key and indexes come, those foreign keys are
    // reported.
    const alone = await restore(db, d, { kind: 'side-by-side', name: 'chinook_track' }, { tables: ['public.track'] });
    expect(alone.result.tables).toEqual({ 'public.track': 3503 });
    expect(
      cluster.psql(
        `SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'track'::regclass`,
        'chinook_track',
      ),
    ).toBe('track_pkey');
    expect(
      cluster.psql(
        `SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'track'`,
        'chinook_track',
      ),
    ).toBe('track_album_id_idx,track_genre_id_idx,track_media_type_id_idx,track_pkey');
    expect(warnings(alone.ctx).join('\n')).toMatch(/not restored: FK CONSTRAINT public track track_album_id_fkey/);
    await expect(restore(db, d, { kind: 'in-place' }, { tables: ['public.album'] })).rejects.toBeInstanceOf(
      RefusedError,
    );
    await expect(
      restore(db, d, { kind: 'side-by-side', name: 'chinook_none' }, { tables: ['public.nope'] }),
    ).rejects.toThrow(/not in this backup/);
    await expect(restore(db, d, { kind: 'side-by-side', name: 'chinook_some' })).rejects.toThrow(/already exists/);
  });

  test('in place: refuses while sessions are connected, swaps with --terminate-connections, keeps the safety copy; dropSafetyCopy', async () => {
    loadChinook('shop');
    const db = dbConfig('shop');
    const d = await dump(db);
    const before = plainDump('shop');
    cluster.psql(`DELETE FROM invoice_line; UPDATE artist SET name = 'changed'`, 'shop');
    const changed = plainDump('shop');

    const holder = await cluster.client('shop');
    try {
      const err = await restore(db, d, { kind: 'in-place' }, { setId: 'S1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RefusedError);
      expect((err as RefusedError).message).toMatch(/connected session/);
      expect((err as RefusedError).hint).toMatch(/--terminate-connections/);
      expect(plainDump('shop')).toBe(changed);
      expect(cluster.databases().filter((n) => n.startsWith('shop__'))).toEqual([]);

      const { result } = await restore(db, d, { kind: 'in-place' }, { setId: 'S1', terminate: true });
      expect(result).toMatchObject({ restoredTo: 'shop', safetyDatabase: 'shop__pre_restore_S1' });
    } finally {
      await holder.end().catch(() => undefined);
    }
    expect(plainDump('shop')).toBe(before);
    expect(plainDump('shop__pre_restore_S1')).toBe(changed);
    expect(await postgresDriver.inspectTarget(db, { kind: 'in-place' })).toMatchObject({ exists: true, inUseBy: [] });
    // The cluster runs here: the disk of its data folder is seen (see restore-room.ts).
    expect(await postgresDriver.inspectTarget(db, { kind: 'side-by-side', name: 'nope' })).toEqual({
      exists: false,
      sizeBytes: null,
      inUseBy: [],
      disk: expect.objectContaining({ path: cluster.dataDir, server: true }),
      roles: expect.arrayContaining([cluster.user, 'app_owner']),
    });

    // The same set again: its safety name is taken, so the database it replaces is kept beside it (round 2).
    cluster.psql(`UPDATE artist SET name = 'again'`, 'shop');
    const written = plainDump('shop');
    const { result: again } = await restore(db, d, { kind: 'in-place' }, { setId: 'S1' });
    expect(again).toMatchObject({ restoredTo: 'shop', safetyDatabase: 'shop__pre_restore_S1__2' });
    expect(plainDump('shop__pre_restore_S1')).toBe(changed);
    expect(plainDump('shop__pre_restore_S1__2')).toBe(written);
    expect(plainDump('shop')).toBe(before);
    await postgresDriver.dropSafetyCopy!(db, 'shop__pre_restore_S1__2');

    await expect(postgresDriver.dropSafetyCopy!(db, 'chinook')).rejects.toBeInstanceOf(RefusedError);
    await expect(postgresDriver.dropSafetyCopy!(db, 'shop')).rejects.toBeInstanceOf(RefusedError);
    await expect(postgresDriver.dropSafetyCopy!(db, 'other__pre_restore_S1')).rejects.toBeInstanceOf(RefusedError);
    await postgresDriver.dropSafetyCopy!(db, 'shop__pre_restore_S1');
    expect(cluster.databases()).not.toContain('shop__pre_restore_S1');
    expect(cluster.databases()).toContain('shop');
  });

  test('the restored copy cannot take the live name: the original is put back, said so with a hint, nothing left', async () => {
    loadChinook('swapfail');
    const db = dbConfig('swapfail');
    const d = await dump(db);
    cluster.psql(`UPDATE artist SET name = 'changed'`, 'swapfail');
    const changed = plainDump('swapfail');
    const query = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
      this: pg.Client,
      ...args: unknown[]
    ) {
      if (
        typeof args[0] === 'string' &&
        /^ALTER DATABASE "swapfail__restore_[^"]*" RENAME TO "swapfail"$/.test(args[0])
      )
        return Promise.reject(new Error('database "swapfail" already exists'));
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    let err: unknown;
    try {
      err = await restore(db, d, { kind: 'in-place' }, { setId: 'W1', terminate: true }).catch((e: unknown) => e);
    } finally {
      spy.mockRestore();
    }
    expect(err).toBeInstanceOf(RespaldoError);
    expect((err as RespaldoError).message).toContain(
      'the restored copy could not take the name "swapfail" (database "swapfail" already exists); the original was put back under its name, unchanged.',
    );
    expect((err as RespaldoError).hint).toContain('"swapfail" is as it was before the restore.');
    expect(say('es', (err as RespaldoError).phrases?.message, '')).toContain(
      'se volvió a poner con su nombre, sin cambios',
    );
    expect(plainDump('swapfail')).toBe(changed);
    expect(cluster.databases().filter((n) => n.startsWith('swapfail__'))).toEqual([]);
  });

  test('a failing restore (role that no longer exists) leaves the live database identical and no temp database', async () => {
    cluster.createDatabase('ghostly');
    cluster.psql(
      `CREATE ROLE ghost; CREATE TABLE entries (id int PRIMARY KEY, amount numeric); INSERT INTO entries SELECT g, g * 1.5 FROM generate_series(1, 1000) g; ALTER TABLE entries OWNER TO ghost;`,
      'ghostly',
    );
    const db = dbConfig('ghostly');
    const d = await dump(db);
    cluster.psql(`ALTER TABLE entries OWNER TO postgres; UPDATE entries SET amount = 0 WHERE id <= 10;`, 'ghostly');
    cluster.psql(`DROP ROLE ghost`);
    const checksum = () => cluster.psql(`SELECT md5(string_agg(e::text, ',' ORDER BY id)) FROM entries e`, 'ghostly');
    const before = checksum();
    const err = await restore(db, d, { kind: 'in-place' }, { setId: 'F1', terminate: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RespaldoError);
    expect((err as RespaldoError).message).toMatch(/pg_restore/);
    expect((err as RespaldoError).message).toMatch(/role "ghost" does not exist/);
    // No roles stored: every missing role is to be created at once (pg_restore names only the first).
    expect((err as RespaldoError).hint).toMatch(/did not store the roles .*names only the first one missing/);
    expect((err as RespaldoError).hint).toMatch(/pg_dumpall --globals-only/);
    expect((err as RespaldoError).hint).not.toMatch(/restore again with --create-roles/);
    expect(JSON.stringify((err as RespaldoError).toJSON())).not.toContain(PASSWORD);
    expect(checksum()).toBe(before);
    expect(cluster.databases().filter((n) => n.startsWith('ghostly__'))).toEqual([]);
  });

  test('--create-roles: a server without the roles gets only the missing ones from the stored globals; a failed restore drops them again', async () => {
    cluster.createDatabase('staff');
    cluster.psql(
      `CREATE ROLE staff_owner LOGIN PASSWORD 'owner-pw-1'; CREATE ROLE "staff reader ü"; CREATE ROLE staff_keep; GRANT "staff reader ü" TO staff_owner;`,
    );
    cluster.psql(
      `CREATE TABLE people (id int PRIMARY KEY, name text); INSERT INTO people SELECT g, 'p' || g FROM generate_series(1, 50) g; ALTER TABLE people OWNER TO staff_owner; GRANT SELECT ON people TO "staff reader ü";`,
      'staff',
    );
    const db: DatabaseConfig = { ...dbConfig('staff'), globals: true };
    const d = await dump(db);
    // The new server: the database and its roles are gone; staff_keep exists with other attributes.
    cluster.psql(`DROP DATABASE staff`);
    cluster.psql(`DROP ROLE staff_owner; DROP ROLE "staff reader ü"; ALTER ROLE staff_keep CREATEDB`);
    const roles = () =>
      cluster.psql(
        `SELECT string_agg(rolname || ':' || rolcanlogin || ':' || rolcreatedb, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'staff%'`,
      );
    expect(roles()).toBe('staff_keep:false:true');

    // Without the flag: the hint names it; nothing is left behind.
    const err = await restore(db, d, { kind: 'side-by-side', name: 'staff_a' }).catch((e: unknown) => e);
    expect((err as RespaldoError).hint).toMatch(/--create-roles/);
    expect(cluster.databases().filter((n) => n.startsWith('staff'))).toEqual([]);

    // With the flag but a restore that fails its check: the roles it created are dropped again.
    const entry = entryOf(db, d);
    entry.tables = { 'public.people': 49 };
    await expect(
      restore(db, d, { kind: 'side-by-side', name: 'staff_b' }, { createRoles: true, entry }),
    ).rejects.toThrow(/does not match the backup/);
    expect(roles()).toBe('staff_keep:false:true');
    expect(cluster.databases().filter((n) => n.startsWith('staff'))).toEqual([]);

    const { result, ctx } = await restore(db, d, { kind: 'in-place' }, { createRoles: true });
    expect(result.tables).toEqual({ 'public.people': 50 });
    // staff_keep not altered
    expect(roles()).toBe('staff reader ü:false:false,staff_keep:false:true,staff_owner:true:false');
    expect(warnings(ctx, 'info')).toEqual(
      expect.arrayContaining([
        'staff: created role "staff_owner" (LOGIN, password)',
        'staff: created role "staff reader ü" (NOLOGIN)',
      ]),
    );
    expect(JSON.stringify(ctx.reporter.events) + ctx.logs.join('\n')).not.toMatch(/owner-pw-1|SCRAM-SHA-256\$/);
    expect(cluster.psql(`SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'people'`, 'staff')).toBe(
      'staff_owner',
    );
    expect(
      cluster.psql(
        `SELECT has_table_privilege('staff reader ü', 'people', 'SELECT'), has_table_privilege('staff_keep', 'people', 'SELECT')`,
        'staff',
      ),
    ).toBe('t|f');
    expect(cluster.psql(`SELECT pg_has_role('staff_owner', 'staff reader ü', 'MEMBER')`)).toBe('t');
    // The stored password hash came back: the owner logs in with its old password.
    const c = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      user: 'staff_owner',
      password: 'owner-pw-1',
      database: 'staff',
    });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM people')).rows[0].n).toBe(50);
    await c.end();
  });

  test('row counts that do not match the manifest stop the restore before the swap', async () => {
    const db = dbConfig(fixture('ledger'));
    const d = await dump(db);
    const entry = entryOf(db, d);
    entry.tables = { ...entry.tables!, 'public.entries': 999 };
    const before = plainDump('ledger');
    const err = (await restore(db, d, { kind: 'in-place' }, { setId: 'M1', entry, terminate: true }).catch(
      (e: unknown) => e,
    )) as RespaldoError;
    // The CLI's words as before; the menu says them (as its restore outcome does) in Spanish too
    expect(err.message).toMatch(
      /^Database ledger: the restored copy does not match the backup \(.*public\.entries: 1000 rows, expected 999/,
    );
    expect(err.hint).toMatch(/^Nothing was replaced\. Verify the set/);
    expect(sayMessage('es', err.phrases, err.message)).toMatch(
      /^Base ledger: la copia restaurada no coincide con la copia de seguridad \(.*public\.entries: 1000 filas, se esperaban 999/,
    );
    expect(say('es', err.phrases?.hint, err.hint ?? '')).toMatch(/^No se ha sustituido nada\. Verifique la copia/);
    expect(plainDump('ledger')).toBe(before);
    expect(cluster.databases().filter((n) => n.startsWith('ledger__'))).toEqual([]);
  });

  test('recover rolls back a swap interrupted between the renames, and drops stale temp databases', async () => {
    cluster.createDatabase('halfway');
    cluster.psql(`CREATE TABLE t (v text); INSERT INTO t VALUES ('original')`, 'halfway');
    cluster.createDatabase('halfway__restore_X1');
    cluster.psql(`ALTER DATABASE halfway RENAME TO "halfway__pre_restore_X1"`);
    const db = dbConfig('halfway');
    const ctx = makeCtx();
    const actions = (await postgresDriver.recover(db, ctx)).map((a) => a.message);
    expect(actions).toHaveLength(2);
    expect(actions[0]).toMatch(/renamed "halfway__pre_restore_X1" back to "halfway"/);
    expect(actions[1]).toMatch(/dropped "halfway__restore_X1"/);
    expect(cluster.psql('SELECT v FROM t', 'halfway')).toBe('original');
    expect(cluster.databases().filter((n) => n.startsWith('halfway'))).toEqual(['halfway']);

    cluster.createDatabase('halfway__restore_X2');
    expect((await postgresDriver.recover(db, makeCtx())).map((a) => a.message)).toEqual([
      expect.stringMatching(/dropped "halfway__restore_X2"/),
    ]);
    expect(await postgresDriver.recover(db, makeCtx())).toEqual([]);
  });

  test('recover: a leftover that cannot be dropped stays, said; the others are still dropped and nothing is thrown', async () => {
    cluster.createDatabase('stuck');
    cluster.createDatabase('stuck__restore_Y1');
    cluster.createDatabase('stuck__restore_Y2');
    const query = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
      this: pg.Client,
      ...args: unknown[]
    ) {
      if (typeof args[0] === 'string' && /^DROP DATABASE (IF EXISTS )?"stuck__restore_Y1"/.test(args[0]))
        return Promise.reject(
          Object.assign(new Error('must be owner of database stuck__restore_Y1'), { code: '42501' }),
        );
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    const ctx = makeCtx();
    let actions: string[];
    try {
      actions = (await postgresDriver.recover(dbConfig('stuck'), ctx)).map((a) => a.message);
    } finally {
      spy.mockRestore();
    }
    expect(actions).toEqual([expect.stringMatching(/dropped "stuck__restore_Y2"/)]);
    const warnings = ctx.reporter.events
      .filter((e) => e.type === 'warning')
      .map((e) => (e as { message: string }).message);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^could not drop "stuck__restore_Y1", left by an interrupted restore or drill: .*must be owner.*It stays/,
      ),
    ]);
    expect(cluster.databases().filter((n) => n.startsWith('stuck'))).toEqual(['stuck', 'stuck__restore_Y1']);
    expect((await postgresDriver.recover(dbConfig('stuck'), makeCtx())).map((a) => a.message)).toEqual([
      expect.stringMatching(/dropped "stuck__restore_Y1"/),
    ]);
  });

  test('concurrent writer: commits made during the dump are not in it, counts are exact, the sums hold', async () => {
    cluster.createDatabase('transfers');
    cluster.psql(BANK_SQL, 'transfers');
    const writer = await cluster.client('transfers');
    let stop = false;
    /** history ids of the committed transfers, in commit order. */
    const committed: number[] = [];
    let onCommit: (() => void) | undefined;
    const commitsReach = (n: number) =>
      new Promise<void>((resolve) => {
        onCommit = () => {
          if (committed.length < n) return;
          onCommit = undefined;
          resolve();
        };
        onCommit();
      });
    const writing = (async () => {
      while (!stop) {
        const a = 1 + Math.floor(Math.random() * 1000);
        const b = 1 + Math.floor(Math.random() * 1000);
        const delta = 1 + Math.floor(Math.random() * 100);
        await writer.query('BEGIN');
        await writer.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [delta, a]);
        await writer.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [delta, b]);
        const insert = `INSERT INTO history (a, b, delta, filler) VALUES ($1, $2, $3, repeat('x', 200)) RETURNING id`;
        const r = await writer.query(insert, [a, b, delta]);
        await writer.query('COMMIT');
        committed.push(Number(r.rows[0].id));
        onCommit?.();
      }
    })();
    writing.catch(() => undefined);
    try {
      await commitsReach(200);
      const db = dbConfig('transfers');
      let dumpEnded = false;
      let duringDump: number[] = [];
      // The dump's snapshot is taken when its part opens; nothing of it is read until the writer has committed
      // 200 more transfers, so they are committed after the snapshot and before the dump ends.
      const d = await dump(db, 'full', makeCtx(), async (opened) => {
        opened.finished.then(
          () => (dumpEnded = true),
          () => (dumpEnded = true),
        );
        const from = committed.length;
        await commitsReach(from + 201);
        expect(dumpEnded, 'the dump is still running (blocked on its unread pipe)').toBe(false);
        // The first commit counted after the snapshot may have been under way while it was taken: not counted.
        duringDump = committed.slice(from + 1);
      });
      stop = true;
      await writing;
      expect(duringDump.length).toBeGreaterThanOrEqual(200);
      const recorded = d.facts.tables!['public.history']!;
      expect(recorded).toBeGreaterThanOrEqual(200);
      const { result } = await restore(db, d, { kind: 'side-by-side', name: 'transfers_copy' });
      expect(result.tables!['public.history']).toBe(recorded);
      const inList = `id IN (${duringDump.join(',')})`;
      expect(cluster.psql(`SELECT count(*) FROM history WHERE ${inList}`, 'transfers_copy')).toBe('0');
      expect(cluster.psql(`SELECT count(*) FROM history WHERE ${inList}`, 'transfers')).toBe(String(duringDump.length));
      expect(cluster.psql('SELECT sum(balance) FROM accounts', 'transfers_copy')).toBe('0');
      const live = Number(cluster.psql('SELECT count(*) FROM history', 'transfers'));
      expect(live).toBeGreaterThanOrEqual(recorded + duringDump.length);
      // Every committed transfer in the copy is complete: balances equal the history's net flows.
      expect(
        cluster.psql(
          `SELECT count(*) FROM accounts ac WHERE balance <> (SELECT coalesce(sum(CASE WHEN h.b = ac.id THEN delta ELSE 0 END) - sum(CASE WHEN h.a = ac.id THEN delta ELSE 0 END), 0) FROM history h WHERE h.a = ac.id OR h.b = ac.id)`,
          'transfers_copy',
        ),
      ).toBe('0');
    } finally {
      stop = true;
      await writing.catch(() => undefined);
      await writer.end();
    }
  });

  test('the password never appears in /proc/*/cmdline of any process while pg_dump runs, and only in the child env', async () => {
    const db = dbConfig(fixture('bank'), { globals: true });
    expect(process.env['PGPASSWORD']).toBeUndefined();
    const ctx = makeCtx();
    const session = await postgresDriver.backup({ db, type: 'full', purpose: 'backup' }, ctx);
    // A migration holding a table keeps pg_dump alive (waiting for its lock) while the processes are read.
    const locker = new pg.Client({ connectionString: cluster.url(fixture('bank')) });
    await locker.connect();
    try {
      const table = cluster.psql(
        `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' LIMIT 1`,
        fixture('bank'),
      );
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const opened = await session.parts[0]!.open();
      let seen = 0;
      const sink = () =>
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            seen += chunk.length;
            cb();
          },
        });
      const piping = Promise.all([
        pipeline(opened.stream, sink()),
        (async () => {
          for await (const m of opened.members ?? []) {
            await pipeline(m.open(), sink());
            await m.stored();
          }
        })(),
      ]);
      let sawDump = false;
      let sawEnvPassword = false;
      const encoded = encodeURIComponent(PASSWORD);
      for (let i = 0; i < 20; i++) {
        for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
          let cmd: string;
          try {
            cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            continue;
          }
          expect(cmd.includes(PASSWORD) || cmd.includes(encoded)).toBe(false);
          // Only this test's pg_dump (a child of this process): other test files may run theirs at the same time.
          if (cmd.includes('pg_dump') && cmd.includes('--dbname=') && parentOf(pid) === process.pid) {
            sawDump = true;
            expect(cmd).toContain('--compress=0');
            expect(cmd).toContain('--snapshot=');
            try {
              if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`PGPASSWORD=${PASSWORD}`))
                sawEnvPassword = true;
            } catch {
              /* exited */
            }
          }
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(sawDump).toBe(true);
      expect(sawEnvPassword).toBe(true);
      await locker.query('ROLLBACK');
      await piping;
      await opened.finished;
      expect(seen).toBeGreaterThan(1000);
      expect(process.env['PGPASSWORD']).toBeUndefined();
      expect(ctx.logs.join('\n')).not.toContain(PASSWORD);
    } finally {
      await locker.end().catch(() => undefined);
      await session.cleanup();
    }
  });

  test('a non-superuser owner with CREATEDB can back up (globals without role passwords) and restore in place', async () => {
    const appPassword = `app-${Math.random().toString(36).slice(2)}`;
    cluster.psql(`CREATE ROLE app LOGIN CREATEDB PASSWORD '${appPassword}'`);
    cluster.psql('CREATE DATABASE appdb OWNER app');
    const db: DatabaseConfig = {
      name: 'appdb',
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      user: 'app',
      password: appPassword,
      database: 'appdb',
      globals: true,
    };
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      user: 'app',
      password: appPassword,
      database: 'appdb',
    });
    await client.connect();
    await client.query(
      `CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) SELECT 'nota ' || g FROM generate_series(1, 300) g;`,
    );
    await client.end();
    const ctx = makeCtx();
    const d = await dump(db, 'full', ctx);
    expect(d.facts.tables).toEqual({ 'public.notes': 300 });
    expect(ctx.reporter.events).toContainEqual(
      expect.objectContaining({ type: 'warning', message: expect.stringMatching(/without role passwords/) }),
    );
    const globals = (await import('node:zlib')).gunzipSync(readFileSync(d.files['globals']!)).toString();
    expect(globals).toContain('CREATE ROLE app');
    expect(globals).not.toMatch(/SCRAM-SHA-256\$/);
    cluster.psql(`DELETE FROM notes WHERE id > 100`, 'appdb');
    const { result } = await restore(db, d, { kind: 'in-place' }, { setId: 'N1' });
    expect(result).toMatchObject({
      restoredTo: 'appdb',
      safetyDatabase: 'appdb__pre_restore_N1',
      tables: { 'public.notes': 300 },
    });
    expect(cluster.psql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'`)).toBe('app');
    expect(cluster.psql('SELECT count(*) FROM notes', 'appdb__pre_restore_N1')).toBe('100');
    await postgresDriver.dropSafetyCopy!(db, 'appdb__pre_restore_N1');
    expect(cluster.databases()).not.toContain('appdb__pre_restore_N1');
  });

  test("a database owner's login (no superuser) sees the sessions of other roles: the plan lists them and the swap refuses at once", async () => {
    const ownerPassword = `own-${Math.random().toString(36).slice(2)}`;
    cluster.psql(`CREATE ROLE tienda_owner LOGIN CREATEDB PASSWORD '${ownerPassword}'`);
    cluster.psql(`CREATE ROLE tienda_clerk LOGIN PASSWORD '${ownerPassword}'`);
    cluster.psql('CREATE DATABASE tienda OWNER tienda_owner');
    cluster.psql(
      `SET ROLE tienda_owner; CREATE TABLE sales (id int PRIMARY KEY); INSERT INTO sales SELECT generate_series(1, 40);`,
      'tienda',
    );
    const db: DatabaseConfig = {
      name: 'tienda',
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      user: 'tienda_owner',
      password: ownerPassword,
      database: 'tienda',
    };
    const d = await dump(db);
    // The application's session, under its own role.
    const { default: pg } = await import('pg');
    const app = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      user: 'tienda_clerk',
      password: ownerPassword,
      database: 'tienda',
      application_name: 'tienda',
    });
    app.on('error', () => undefined);
    await app.connect();
    try {
      const state = await postgresDriver.inspectTarget(db, { kind: 'in-place' });
      expect(state.inUseBy).toEqual([expect.stringMatching(/^tienda_clerk@\? \(pid \d+, tienda\)$/)]);
      const started = Date.now();
      const err = (await restore(db, d, { kind: 'in-place' }, { setId: 'S1' }).catch(
        (e: unknown) => e,
      )) as RespaldoError;
      expect(err).toBeInstanceOf(RespaldoError);
      expect(err.message).toMatch(/"tienda" has 1 connected session\(s\): tienda_clerk@/);
      expect(Date.now() - started).toBeLessThan(15_000); // refused, not waited on (PostgreSQL waits 5 s a rename)
      // --terminate-connections, by a login that may not end another role's session: what to do about it.
      const denied = (await restore(db, d, { kind: 'in-place' }, { setId: 'S2', terminate: true }).catch(
        (e: unknown) => e,
      )) as RespaldoError;
      expect(denied.hint).toMatch(
        /may not end the sessions of other roles: .*GRANT pg_signal_backend TO "tienda_owner"\)/,
      );
      expect((await app.query('SELECT 1 AS one')).rows[0].one).toBe(1); // its session was left alone
      expect(cluster.psql('SELECT count(*) FROM sales', 'tienda')).toBe('40');
      expect(cluster.databases().filter((n) => n.startsWith('tienda__'))).toEqual([]);
    } finally {
      await app.end();
    }
  });

  test('an interrupted restore (abort while pg_restore runs) drops the staging database and leaves live as it was', async () => {
    const db = dbConfig(fixture('bank'));
    const d = await dump(db);
    const checksum = () =>
      cluster.psql(`SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM accounts a`, 'bank') +
      cluster.psql('SELECT count(*) FROM history', 'bank');
    const before = checksum();
    const ac = new AbortController();
    const ctx = { ...makeCtx(), signal: ac.signal };
    // Stopped once pg_restore has started and opened a table's data (through a named pipe): that data never comes,
    // so the restore cannot finish before the stop (a stop on a timer could come after a fast machine's swap).
    const viaPipes = createPostgresDriver({ pipedMinBytes: 1 });
    let started = false;
    let dataAsked = false;
    const stopWhenBoth = () => {
      if (started && dataAsked) ac.abort();
    };
    ctx.reporter.emit = (e) => {
      if (!started && e.type === 'item-progress' && e.message?.startsWith('pg_restore')) {
        started = true;
        stopWhenBoth();
      }
    };
    const openPart = (role = 'main'): Readable => {
      if (!role.startsWith('pgdir:')) return createReadStream(d.files[role]!).pipe(createGunzip());
      dataAsked = true;
      setImmediate(stopWhenBoth);
      return new PassThrough();
    };
    const err = await restore(
      db,
      d,
      { kind: 'in-place' },
      {
        setId: 'A1',
        terminate: true,
        ctx,
        openPart,
        driver: viaPipes,
      },
    ).catch((e: unknown) => e);
    expect(started).toBe(true);
    expect(dataAsked).toBe(true);
    expect(ac.signal.aborted).toBe(true);
    expect(err).toBeInstanceOf(InterruptedError);
    // Said in the menu's language: the Spanish menu showed it in English.
    const said = (err as InterruptedError).phrases?.message;
    expect(said && say('es', said, (err as Error).message)).toBe(
      'Restauración interrumpida antes del cambio; la base en uso no se modificó.',
    );
    expect(checksum()).toBe(before);
    expect(cluster.databases().filter((n) => n.startsWith('bank__'))).toEqual([]);
  });

  /**
   * The stored files `openPart` opened for a directory restore, and which of them were named pipes in the
   * scratch folder at that moment (a piped file is opened when pg_restore opens its pipe).
   */
  function watchedOpen(d: StoredDump, scratchDir: string, damaged: Record<string, string> = {}) {
    const opened: string[] = [];
    const piped: string[] = [];
    const openPart = (role = 'main') => {
      if (role.startsWith('pgdir:')) {
        const name = role.slice('pgdir:'.length);
        opened.push(name);
        const stage = readdirSync(scratchDir).find((f) => f.startsWith('pg-directory-'));
        if (stage && lstatSync(join(scratchDir, stage, name), { throwIfNoEntry: false })?.isFIFO()) piped.push(name);
      }
      return createReadStream(damaged[role] ?? d.files[role]!).pipe(createGunzip());
    };
    return { opened, piped, openPart };
  }

  test('data files through named pipes: a whole restore is identical (large objects too); a --table restore opens only its table', async () => {
    const viaPipes = createPostgresDriver({ pipedMinBytes: 1 });
    const tricky = dbConfig(fixture('tricky'));
    const d = await dump(tricky);
    const ctx = makeCtx();
    const watch = watchedOpen(d, ctx.scratchDir);
    const { result } = await restore(
      tricky,
      d,
      { kind: 'side-by-side', name: 'tricky_piped' },
      { driver: viaPipes, ctx, openPart: watch.openPart },
    );
    const members = Object.keys(d.files).filter((r) => r.startsWith('pgdir:'));
    expect(members.length).toBeGreaterThan(5);
    expect(watch.piped.sort()).toEqual(members.map((r) => r.slice('pgdir:'.length)).sort());
    expect(result.tables).toEqual(d.facts.tables);
    expect(plainDump('tricky_piped')).toBe(plainDump('tricky'));
    expect(cluster.psql('SELECT count(*) FROM pg_largeobject_metadata', 'tricky_piped')).toBe('2');

    // pg_restore never opens the pipes of the tables left out: they are given up once it ends, nothing waits.
    const bank = dbConfig(fixture('bank'));
    const b = await dump(bank);
    const tctx = makeCtx();
    const tw = watchedOpen(b, tctx.scratchDir);
    const some = await restore(
      bank,
      b,
      { kind: 'side-by-side', name: 'bank_accounts' },
      { driver: viaPipes, ctx: tctx, tables: ['public.accounts'], openPart: tw.openPart },
    );
    expect(some.result.tables).toEqual({ 'public.accounts': 1000 });
    expect(tw.opened).toHaveLength(1);
    expect(tw.piped).toEqual(tw.opened);
    expect(tctx.logs.join('\n')).toMatch(/data files pg_restore did not read \{"files":2\}/);
  });

  test('data files written out while pg_restore makes the schema: each small one is read once the schema step made its table; the same database', async () => {
    const beside = createPostgresDriver({ besideSchemaFiles: 1 });
    const db = dbConfig(fixture('tricky'));
    const d = await dump(db);
    const ctx = makeCtx();
    const setId = '20261206_020202';
    // Tables pg_restore's schema step made so far in the restore's database (none while it does not exist).
    const madeTables = async (staging = `${db.name}__restore_${setId}`): Promise<number> => {
      const c = new pg.Client({ connectionString: cluster.url(staging) });
      c.on('error', () => undefined); // the restore's end drops the database, ending this connection
      try {
        await c.connect();
        const r = await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
        return (r.rows[0] as { n: number }).n;
      } catch {
        return 0;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    const openPart = (role = 'main'): Readable => {
      const stored = () => createReadStream(d.files[role]!).pipe(createGunzip());
      if (!role.startsWith('pgdir:')) return stored();
      // Written out before the schema step, as before, this waits for a table that never comes: the restore fails.
      const out = new PassThrough();
      void (async () => {
        const t0 = Date.now();
        while ((await madeTables()) === 0) {
          if (Date.now() - t0 > 30_000) return void out.destroy(new Error('no table made while data files are read'));
          await new Promise((r) => setTimeout(r, 25));
        }
        stored().pipe(out);
      })();
      return out;
    };
    const { result } = await restore(
      db,
      d,
      { kind: 'side-by-side', name: 'tricky_beside' },
      { driver: beside, ctx, setId, openPart },
    );
    expect(result.tables).toEqual(d.facts.tables);
    expect(plainDump('tricky_beside')).toBe(plainDump(fixture('tricky')));
    const steps = ctx.reporter.events.flatMap((e) => (e.type === 'item-progress' && e.phrase ? [e.phrase.id] : []));
    expect(steps).toContain('step.pgRestoreJobs');
    expect(cluster.databases().filter((n) => n.startsWith(`${db.name}__`))).toEqual([]);

    // Interrupted while both run (the schema made a table, a data file is being written out): both stop, the
    // restore's database is dropped, no pg_restore is left.
    const ac = new AbortController();
    const stopped = { ...makeCtx(), signal: ac.signal };
    const stopId = '20261206_030303';
    // Each data file opened watches for the first table, until one of them stops the restore (each connection to the
    // restore's database is a server process naming it: all are over before the processes are looked at).
    const watching: Promise<void>[] = [];
    const stopAtSchema = (role = 'main'): Readable => {
      if (!role.startsWith('pgdir:')) return createReadStream(d.files[role]!).pipe(createGunzip());
      watching.push(
        (async () => {
          const t0 = Date.now();
          while (!ac.signal.aborted && Date.now() - t0 < 30_000) {
            if ((await madeTables(`${db.name}__restore_${stopId}`)) > 0) ac.abort();
            else await new Promise((r) => setTimeout(r, 25));
          }
        })(),
      );
      return new PassThrough();
    };
    const err = await restore(
      db,
      d,
      { kind: 'side-by-side', name: 'tricky_stopped' },
      { driver: beside, ctx: stopped, setId: stopId, openPart: stopAtSchema },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    await Promise.all(watching);
    expect(cluster.databases().filter((n) => n.startsWith(`${db.name}__`) || n === 'tricky_stopped')).toEqual([]);
    // No pg_restore left (restoreStep waits for its exit); the server's own processes for the database, a watcher's
    // connection ended by the drop among them, go on their own.
    const named = `${db.name}__restore_${stopId}`;
    const command = (p: string) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    expect(processesMentioning(named).filter((p) => command(p).startsWith('pg_restore'))).toEqual([]);
    await vi.waitFor(() => expect(processesMentioning(named)).toEqual([]), { timeout: 10_000, interval: 50 });
  });

  test('a stored data file that breaks mid-stream stops pg_restore: the restore fails naming it, live unchanged, nothing left running', async () => {
    const db = dbConfig(fixture('bank'));
    const d = await dump(db);
    // The largest file (the filler table, tens of MiB raw) goes through a pipe by default; cut its stored copy.
    const [role] = Object.entries(d.raw).sort(([, a], [, b]) => b - a)[0]!;
    expect(d.raw[role]).toBeGreaterThan(8 << 20);
    const cut = join(work, 'bank-cut.gz');
    const stored = readFileSync(d.files[role]!);
    writeFileSync(cut, stored.subarray(0, Math.floor(stored.length / 2)));
    const checksum = () =>
      cluster.psql(`SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM accounts a`, 'bank') +
      cluster.psql('SELECT count(*) FROM filler', 'bank');
    const before = checksum();
    const ctx = makeCtx();
    const watch = watchedOpen(d, ctx.scratchDir, { [role]: cut });
    const err = await restore(
      db,
      d,
      { kind: 'in-place' },
      { setId: 'D1', terminate: true, ctx, openPart: watch.openPart },
    ).catch((e: unknown) => e);
    expect(watch.piped).toContain(role.slice('pgdir:'.length));
    expect(err).toBeInstanceOf(RespaldoError);
    expect((err as RespaldoError).message).toContain(
      `Reading the stored dump of bank failed (${role.slice('pgdir:'.length)})`,
    );
    expect((err as RespaldoError).message).toMatch(/unexpected end of file/);
    expect(checksum()).toBe(before);
    expect(cluster.databases().filter((n) => n.startsWith('bank__'))).toEqual([]);
    expect(processesMentioning('bank__restore_D1')).toEqual([]);
    expect(readdirSync(ctx.scratchDir).filter((f) => f.startsWith('pg-directory-'))).toEqual([]);
  });

  test('tables loaded by several sessions at once: the same schema and rows (in another physical order), triggers and indexes only after the data; --table too', async () => {
    const split = createPostgresDriver({ splitMinBytes: 1, jobs: 2 });
    const tricky = dbConfig(fixture('tricky'));
    const t = await dump(tricky);
    const tctx = makeCtx();
    const whole = await restore(
      tricky,
      t,
      { kind: 'side-by-side', name: 'tricky_split' },
      { driver: split, ctx: tctx },
    );
    expect(whole.result.tables).toEqual(t.facts.tables);
    expect(steps(tctx)).toContainEqual(
      expect.stringMatching(/^loading the data \(\d+ large tables, 2 sessions each\)$/),
    );
    expect(steps(tctx)).toContain('pg_restore --jobs=2: indexes and constraints');
    // The trigger on people (it writes to audit) was made after the data: audit holds what it held.
    expect(plainDump('tricky_split', ['--schema-only'])).toBe(plainDump('tricky', ['--schema-only']));
    const sorted = (database: string) => plainDump(database).split('\n').sort().join('\n');
    expect(sorted('tricky_split')).toBe(sorted('tricky'));

    // bank's filler table (150 000 rows, ~40 MB raw) is cut among the two sessions: its rows are all there,
    // and its data went through neither pg_restore's list nor the disk.
    const bank = dbConfig(fixture('bank'));
    const b = await dump(bank);
    const bctx = makeCtx();
    const watch = watchedOpen(b, bctx.scratchDir);
    const big = createPostgresDriver({ splitMinBytes: 1 << 20, jobs: 2 });
    const { result } = await restore(
      bank,
      b,
      { kind: 'side-by-side', name: 'bank_split' },
      { driver: big, ctx: bctx, openPart: watch.openPart },
    );
    expect(result.tables).toEqual(b.facts.tables);
    const digest = `SELECT md5(string_agg(id || ':' || pad, ',' ORDER BY id)) FROM filler`;
    expect(cluster.psql(digest, 'bank_split')).toBe(cluster.psql(digest, 'bank'));
    // Loaded by two sessions (their rows may interleave on disk, or not when one finished first: not asserted).
    expect(steps(bctx)).toContain('loading the data (1 large table, 2 sessions each)');
    expect(cluster.psql(`SELECT indexdef FROM pg_indexes WHERE tablename = 'history'`, 'bank_split')).toMatch(/UNIQUE/);

    // A --table restore of the split table: its own sessions, the table alone.
    const some = await restore(
      bank,
      b,
      { kind: 'side-by-side', name: 'bank_filler' },
      { driver: big, tables: ['public.filler'] },
    );
    expect(some.result.tables).toEqual({ 'public.filler': 150000 });
    expect(cluster.psql(digest, 'bank_filler')).toBe(cluster.psql(digest, 'bank'));
  });

  test('a server with few free connection slots: pg_dump and pg_restore take only those, no table is split, and both say so', async () => {
    const db = dbConfig(fixture('bank'));
    const wide = createPostgresDriver({ splitMinBytes: 1 << 20, jobs: 4 });
    // Hold idle sessions until the server has 4 slots free beside one more session (the driver's own).
    const probe = await cluster.client();
    const freeBeside = Number((await probe.query(FREE_SLOTS_SQL)).rows[0].free); // counts the probe itself
    // The probe stays open as one of the held sessions: ended, its slot came free only some time after (its server
    // process still exiting), and the dump sometimes counted it (3 free slots, --jobs=1).
    const held = [probe, ...(await Promise.all(Array.from({ length: freeBeside - 5 }, () => cluster.client())))];
    try {
      const bctx = makeCtx();
      const d = await dump(db, 'full', bctx, undefined, wide);
      // pg_dump --jobs=N holds N + 1 connections; one slot stays free.
      expect(warnings(bctx, 'info')).toContain(
        'bank: the server has 4 free connection slot(s): pg_dump runs with --jobs=2 instead of 4',
      );
      expect(d.facts.details['jobs']).toBe(2);

      const rctx = makeCtx();
      const { result } = await restore(
        db,
        d,
        { kind: 'side-by-side', name: 'bank_few_slots' },
        { driver: wide, ctx: rctx },
      );
      expect(result.tables).toEqual(d.facts.tables);
      expect(warnings(rctx, 'info')).toContain(
        'bank: the server has 4 free connection slot(s): pg_restore runs with --jobs=3 instead of 4',
      );
      // The split load would have needed 3 more sessions for filler: one pg_restore of three jobs instead.
      expect(steps(rctx)).toContain('pg_restore --jobs=3 into "bank__restore_20261122_101010"');
      expect(steps(rctx).some((m) => m?.startsWith('loading the data'))).toBe(false);
      const digest = `SELECT md5(string_agg(id || ':' || pad, ',' ORDER BY id)) FROM filler`;
      expect(cluster.psql(digest, 'bank_few_slots')).toBe(cluster.psql(digest, 'bank'));
    } finally {
      await Promise.all(held.map((c) => c.end()));
    }
    // With the slots back, the same driver splits the table again.
    const d = await dump(db, 'full', makeCtx(), undefined, wide);
    const ctx = makeCtx();
    await restore(db, d, { kind: 'side-by-side', name: 'bank_all_slots' }, { driver: wide, ctx });
    expect(steps(ctx)).toContain('loading the data (1 large table, 4 sessions each)');
    expect(warnings(ctx, 'info')).toEqual([]);
  });

  test('databases[].jobs sets the jobs of pg_dump and pg_restore for that database, over the cores', async () => {
    const wide = createPostgresDriver({ splitMinBytes: 1 << 20, jobs: 4 });
    const bctx = makeCtx();
    const one = dbConfig(fixture('bank'), { jobs: 1 });
    const d = await dump(one, 'full', bctx, undefined, wide);
    expect(d.facts.details['jobs']).toBe(1);
    expect(bctx.logs.some((l) => l.includes('pg_dump jobs') && l.includes('"jobs":1,"wanted":1'))).toBe(true);
    const rctx = makeCtx();
    const { result } = await restore(
      one,
      d,
      { kind: 'side-by-side', name: 'bank_one_job' },
      { driver: wide, ctx: rctx },
    );
    expect(result.tables).toEqual(d.facts.tables);
    // One job: pg_restore alone, and no table split among sessions (the driver would split with its own 4).
    expect(steps(rctx).some((m) => m?.startsWith('pg_restore --jobs=1 into'))).toBe(true);
    expect(steps(rctx).some((m) => m?.startsWith('loading the data'))).toBe(false);
    expect(warnings(rctx, 'info')).toEqual([]);
    // More than the driver's own: taken as asked (the server has the slots).
    const three = await dump(
      dbConfig(fixture('bank'), { jobs: 3 }),
      'full',
      makeCtx(),
      undefined,
      createPostgresDriver({ jobs: 2 }),
    );
    expect(three.facts.details['jobs']).toBe(3);
  });

  test('a split table whose rows a session refuses, whose stored file breaks mid-way, or whose load is interrupted, stops every session: live unchanged, nothing left', async () => {
    const db = dbConfig(fixture('bank'));
    const d = await dump(db);
    const big = createPostgresDriver({ splitMinBytes: 1 << 20, jobs: 2 });
    const [role] = Object.entries(d.raw).sort(([, a], [, b]) => b - a)[0]!;
    const name = role.slice('pgdir:'.length);
    const rows = gunzipSync(readFileSync(d.files[role]!)).toString().split('\n');
    expect(rows.length).toBeGreaterThan(100000);
    const checksum = () =>
      cluster.psql(`SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM accounts a`, 'bank') +
      cluster.psql('SELECT count(*) FROM filler', 'bank');
    const before = checksum();
    const refused = join(work, 'bank-refused.gz');
    rows[90000] = 'not a number\tpad';
    writeFileSync(refused, gzipSync(rows.join('\n'), { level: 1 }));
    const cut = join(work, 'bank-split-cut.gz');
    const stored = readFileSync(d.files[role]!);
    writeFileSync(cut, stored.subarray(0, Math.floor(stored.length / 2)));
    for (const [damaged, expected] of [
      [refused, /pg_restore of bank failed: .*invalid input syntax for type integer: "not a number"/s],
      [cut, new RegExp(`Reading the stored dump of bank failed \\(${name}\\): unexpected end of file`)],
    ] as const) {
      const ctx = makeCtx();
      const watch = watchedOpen(d, ctx.scratchDir, { [role]: damaged });
      const err = await restore(
        db,
        d,
        { kind: 'in-place' },
        { setId: 'S1', terminate: true, ctx, driver: big, openPart: watch.openPart },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RespaldoError);
      expect((err as RespaldoError).message).toMatch(expected);
      expect(checksum()).toBe(before);
      expect(cluster.databases().filter((n) => n.startsWith('bank__'))).toEqual([]);
      expect(processesMentioning('bank__restore_S1')).toEqual([]);
      expect(readdirSync(ctx.scratchDir).filter((f) => f.startsWith('pg-directory-'))).toEqual([]);
    }

    // Interrupted while the sessions load the table (as its stored file is first read): stopped, nothing left.
    const ac = new AbortController();
    const ctx = { ...makeCtx(), signal: ac.signal };
    let opened = 0;
    const openPart = (r = 'main') => {
      if (r === role && opened++ === 0) setImmediate(() => ac.abort());
      return createReadStream(d.files[r]!).pipe(createGunzip());
    };
    const err = await restore(
      db,
      d,
      { kind: 'in-place' },
      { setId: 'S2', terminate: true, ctx, driver: big, openPart },
    ).catch((e: unknown) => e);
    expect(opened).toBe(1);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(checksum()).toBe(before);
    expect(cluster.databases().filter((n) => n.startsWith('bank__'))).toEqual([]);
    expect(processesMentioning('bank__restore_S2')).toEqual([]);
  });

  test('wrong password, missing database and missing or old pg_dump are operator errors with hints, without the password', async () => {
    fixture('bank');
    fixture('ledger');
    const wrong: DatabaseConfig = {
      name: 'bank',
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      user: cluster.user,
      password: 'not-the-password',
      database: 'bank',
    };
    const e1 = await postgresDriver
      .backup({ db: wrong, type: 'full', purpose: 'backup' }, makeCtx())
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(RespaldoError);
    expect((e1 as RespaldoError).kind).toBe('failed');
    expect((e1 as RespaldoError).message).toMatch(/password authentication failed/);
    expect((e1 as RespaldoError).hint).toMatch(/password/);
    expect(JSON.stringify((e1 as RespaldoError).toJSON())).not.toContain('not-the-password');

    const e2 = await postgresDriver
      .backup({ db: dbConfig('no_such_db'), type: 'full', purpose: 'backup' }, makeCtx())
      .catch((e: unknown) => e);
    expect((e2 as RespaldoError).message).toMatch(/database "no_such_db" does not exist/);

    const empty = mkdtempSync(join(work, 'nobin-'));
    const e3 = await postgresDriver
      .backup({ db: dbConfig('bank', { binPath: empty }), type: 'full', purpose: 'backup' }, makeCtx())
      .catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(RespaldoError);
    expect((e3 as RespaldoError).message).toMatch(/pg_dump not found/);
    expect((e3 as RespaldoError).hint).toMatch(/postgresql-client/);

    const old = join(work, 'oldbin');
    mkdirSync(old);
    writeFileSync(join(old, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.22"\n');
    chmodSync(join(old, 'pg_dump'), 0o755);
    const e4 = await postgresDriver
      .backup({ db: dbConfig('bank', { binPath: old }), type: 'full', purpose: 'backup' }, makeCtx())
      .catch((e: unknown) => e);
    expect(e4).toBeInstanceOf(RespaldoError);
    expect((e4 as RespaldoError).message).toMatch(/pg_dump 12 cannot dump a PostgreSQL 15 server/);

    writeFileSync(join(old, 'pg_restore'), '#!/bin/sh\necho "pg_restore (PostgreSQL) 12.22"\n');
    chmodSync(join(old, 'pg_restore'), 0o755);
    const d = await dump(dbConfig('ledger'));
    const e5 = await restore(dbConfig('ledger', { binPath: old }), d, {
      kind: 'side-by-side',
      name: 'ledger_old_tools',
    }).catch((e: unknown) => e);
    expect(e5).toBeInstanceOf(RespaldoError);
    expect((e5 as RespaldoError).message).toMatch(/pg_restore 12\.22 cannot read a dump made by pg_dump 15/);
    expect(cluster.databases()).not.toContain('ledger_old_tools');
  });

  test('lockWaitTimeout: a table locked by a migration fails the dump after the timeout with a hint, instead of waiting', async () => {
    cluster.createDatabase('busy');
    cluster.psql(`CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 10)`, 'busy');
    const migration = await cluster.client('busy');
    try {
      await migration.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      const db: DatabaseConfig = { ...dbConfig('busy'), lockWaitTimeout: '700ms' };
      const t0 = Date.now();
      const err = await dump(db).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(err).toBeInstanceOf(RespaldoError);
      expect((err as RespaldoError).message).toMatch(/timeout[\s\S]*LOCK TABLE public\.t/);
      expect((err as RespaldoError).hint).toMatch(/lockWaitTimeout/);
      // The stderr quoted by the error (--json shows it) is pg_dump's messages, not its --verbose progress.
      const tail = ((err as RespaldoError).details as { stderrTail: string }).stderrTail;
      expect(tail).toMatch(/^pg_dump: error: .*timeout/);
      expect(tail).not.toMatch(/pg_dump: (reading|last built-in OID|saving|dumping)/);
      await migration.query('ROLLBACK');
      // Without the lock the same config dumps normally.
      expect((await dump(db)).facts.tables).toEqual({ 'public.t': 10 });
    } finally {
      await migration.end();
    }
  });

  test('server stopped before and during a dump: clear errors, the dump is reported failed even though its stream ended', async () => {
    const other = await startPgCluster({ password: PASSWORD });
    try {
      other.createDatabase('big');
      other.psql(
        `CREATE TABLE pad AS SELECT g AS id, repeat(md5(g::text), 16) AS pad FROM generate_series(1, 200000) g`,
        'big',
      );
      const db: DatabaseConfig = { name: 'big', engine: 'postgres', url: other.url('big') };
      const ctx = makeCtx();
      const session = await postgresDriver.backup({ db, type: 'full', purpose: 'backup' }, ctx);
      let failure: unknown;
      let memberFailure: unknown;
      const handed: string[] = [];
      const readWhole: string[] = [];
      try {
        const opened = await session.parts[0]!.open();
        const sink = () =>
          new Writable({
            write(_chunk, _enc, cb) {
              cb();
            },
          });
        // The data file pg_dump is writing is handed over before it is finished; its read fails with
        // pg_dump: nothing of it counts as stored.
        const consuming = (async () => {
          for await (const m of opened.members ?? []) {
            handed.push(m.name);
            await pipeline(m.open(), sink());
            readWhole.push(m.name);
          }
        })();
        const storing = pipeline(opened.stream, sink());
        // Stopped once pg_dump has started writing the table's data file and it is being read.
        const dir = join(ctx.scratchDir, 'pg-directory');
        for (;;) {
          const file = handed.find((f) => /^\d+\.dat$/.test(f));
          if (file && statSync(join(dir, file)).size > 0) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        other.pause();
        const [, consumed] = await Promise.allSettled([storing, consuming]);
        memberFailure = consumed.status === 'rejected' ? consumed.reason : null;
        failure = await opened.finished.then(
          () => null,
          (e: unknown) => e,
        );
      } finally {
        await session.cleanup();
      }
      expect(failure).toBeInstanceOf(RespaldoError);
      expect((failure as RespaldoError).message).toMatch(/pg_dump of big failed/);
      expect(handed.filter((n) => /^\d+\.dat$/.test(n))).toHaveLength(1);
      expect(readWhole).toEqual([]);
      expect((memberFailure as RespaldoError).message).toMatch(/pg_dump of big failed/);
      expect(JSON.stringify((failure as RespaldoError).toJSON())).not.toContain(PASSWORD);

      const e2 = await postgresDriver
        .backup({ db, type: 'full', purpose: 'backup' }, makeCtx())
        .catch((e: unknown) => e);
      expect(e2).toBeInstanceOf(RespaldoError);
      expect((e2 as RespaldoError).message).toMatch(/refused the connection/);
      expect((e2 as RespaldoError).hint).toMatch(/running/);
      const e3 = await postgresDriver.inspectTarget(db, { kind: 'in-place' }).catch((e: unknown) => e);
      expect((e3 as RespaldoError).message).toMatch(/refused the connection/);
    } finally {
      await other.stop();
    }
  });
});

/** The parent process id of `pid` (from /proc/<pid>/stat), or null when it exited. */
function parentOf(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

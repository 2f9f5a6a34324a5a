/**
 * PostgreSQL, encrypted, off-site, on the real cluster: an encrypted set (and a plain set copied
 * encrypted) goes to a folder destination, the local backup folder and the database are lost, and
 * `restore latest --from` brings back a database whose pg_dump is identical.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, plainDump, writePgConfig, type SyncCliResult } from './helpers/pg-cli.js';
import { ageKeygen } from './helpers/age.js';
import { strayFiles } from '../src/engine/before-delete.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `enc-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;

function run(dir: string, args: string[], code = 0): SyncCliResult {
  const r = pgCli(join(dir, 'backup_config.json'), PASSWORD, args, { cwd: dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(code);
  return r;
}

function seed(db: string, big = false): void {
  cluster.createDatabase(db);
  // A table whose dump file is over 8 MiB: restored through a named pipe fed as pg_restore reads it.
  if (big)
    cluster.psql(
      `CREATE TABLE archive AS SELECT i, repeat(md5(i::text), 3) AS body FROM generate_series(1, 90000) i;`,
      db,
    );
  cluster.psql(
    `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, photo bytea, joined timestamptz DEFAULT now());
     INSERT INTO customers (name, photo) SELECT 'customer ' || i, decode(md5(i::text), 'hex') FROM generate_series(1, 5000) i;
     CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, total numeric(12,2));
     INSERT INTO orders (customer, total) SELECT 1 + i % 5000, i * 1.25 FROM generate_series(1, 20000) i;
     CREATE INDEX orders_customer ON orders (customer);
     CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000;`,
    db,
  );
}

/** A working folder whose config backs up `db` encrypted as `encryption` says, with a folder destination. */
function setup(db: string, encryption: Record<string, unknown>, dest: Record<string, unknown> = {}): string {
  const dir = join(work, db);
  mkdirSync(join(dir, 'nas'), { recursive: true });
  const key = join(dir, 'key.txt');
  const recipient = ageKeygen(key);
  writePgConfig(cluster, dir, [db], {
    source: 'srv1',
    encryption: { recipients: [recipient], identityFile: key, ...encryption },
    destinations: [{ name: 'nas', type: 'folder', path: './nas', ...dest }],
  });
  return dir;
}

/** Loses the backup folder and the database, restores from the destination, and compares pg_dump. */
function newServerDay(dir: string, db: string, m: Manifest): void {
  const before = plainDump(cluster, db);
  rmSync(join(dir, 'backups'), { recursive: true, force: true });
  cluster.psql(`DROP DATABASE ${db}`);
  const listed = run(dir, ['list', '--from', 'nas', '--json']).json as { id: string }[];
  expect(listed.map((s) => s.id)).toEqual([m.id]);
  const r = run(dir, ['restore', 'latest', '--from', 'nas', '--db', db, '--yes']);
  expect(r.stdout).toContain(`Set ${m.id} fetched from destination "nas"`);
  expect(plainDump(cluster, db)).toBe(before);
  const left = readdirSync(join(dir, 'backups')).filter((n) => n.startsWith('.') || /^\d{8}_/.test(n));
  expect(left).toEqual([]);
}

describe.skipIf(!available)('PostgreSQL encrypted off-site round trip (live)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-pg-offsite-'));
    cluster = await startPgCluster({ password: PASSWORD });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('an encrypted set, copied as it is: every file at the destination is age ciphertext', () => {
    seed('erp_enc');
    const dir = setup('erp_enc', {});
    const m = run(dir, ['create', '--json']).json as Manifest;
    expect(m.status).toBe('completed');
    expect(m.encryption?.format).toBe('age');
    const stored = readdirSync(join(dir, 'nas', 'srv1', m.id, 'databases'));
    expect(stored.length).toBeGreaterThan(2); // the directory dump: a table of contents and a file per table
    expect(stored.every((f) => f.endsWith('.age'))).toBe(true);
    run(dir, ['verify', m.id, '--from', 'nas', '--read-data']);
    run(dir, ['verify', m.id]);
    // Nothing respaldo wrote counts as an operator's file (prune would keep the set, delete would name it).
    expect(strayFiles(join(dir, 'backups', m.id), m)).toEqual([]);
    newServerDay(dir, 'erp_enc', m);
  });

  test('streamed (--stream): each file decrypted as pg_restore reads it; a damaged one stops it before the swap', async () => {
    seed('erp_stream', true);
    const dir = setup('erp_stream', {});
    const m = run(dir, ['create', '--json']).json as Manifest;
    const before = plainDump(cluster, 'erp_stream');
    rmSync(join(dir, 'backups'), { recursive: true, force: true });
    const r = run(dir, ['restore', m.id, '--from', 'nas', '--stream', '--to', 'erp_stream_side', '--yes']);
    expect(r.stdout).toContain('each is streamed into the restore and checked as it is read (--stream)');
    expect(plainDump(cluster, 'erp_stream_side')).toBe(before);
    expect(readdirSync(join(dir, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
    // One table, streamed: the table of contents read from the destination to pick it.
    const args = ['restore', m.id, '--from', 'nas', '--stream', '--table', 'public.customers'];
    run(dir, [...args, '--to', 'erp_stream_customers', '--yes']);
    const tables = "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'";
    expect(cluster.psql(tables, 'erp_stream_customers')).toBe('customers');
    expect(cluster.psql('SELECT count(*) FROM customers', 'erp_stream_customers')).toBe('5000');

    // The largest file (the archive table's, fed through a named pipe) damaged at the destination.
    const entry = m.databases[0]!;
    const largest = [...(entry.extras ?? [])].sort((a, b) => b.storedBytes - a.storedBytes)[0]!;
    expect(largest.rawBytes).toBeGreaterThan(8 << 20);
    const file = join(dir, 'nas', 'srv1', m.id, largest.file);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(file, bytes);
    const bad = run(dir, ['restore', m.id, '--from', 'nas', '--stream', '--to', 'erp_stream_bad', '--yes'], 5);
    expect(bad.stdout).toMatch(/FAILED\s+erp_stream: .*failed authentication while decrypting/);
    const dbs = await cluster.query("SELECT datname FROM pg_database WHERE datname LIKE 'erp_stream%' ORDER BY 1");
    expect(dbs.map((x) => (x as { datname: string }).datname)).toEqual([
      'erp_stream',
      'erp_stream_customers',
      'erp_stream_side',
    ]);
    expect(readdirSync(join(dir, 'backups')).filter((n) => n !== 'logs')).toEqual([]);
  });

  test('a plain local set copied encrypted (local: false, encrypt: true)', () => {
    seed('erp_sealed');
    const dir = setup('erp_sealed', { local: false }, { encrypt: true });
    const m = run(dir, ['create', '--json']).json as Manifest;
    expect(m.encryption).toBeUndefined();
    const stored = readdirSync(join(dir, 'nas', 'srv1', m.id, 'databases'));
    expect(stored.every((f) => f.endsWith('.age'))).toBe(true);
    expect(strayFiles(join(dir, 'backups', m.id), m)).toEqual([]);
    newServerDay(dir, 'erp_sealed', m);
  });
});

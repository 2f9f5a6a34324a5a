#!/usr/bin/env node
/**
 * PostgreSQL chains: time and stored size of a full against incrementals and a differential through the
 * real CLI, on a database whose volume is spread over tables that change (orders, an audit log) and tables
 * that do not (customers, last year's archive); then the time of restoring the chain against the full alone.
 * Prints figures; not a test.
 *
 *   node scripts/bench-pg-chain.mjs [--size-mb 300] [--keep]
 *
 * Needs `dist/` (npm run build) and the PostgreSQL server binaries (initdb, pg_ctl; as root the server
 * runs as the `postgres` user).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { findPgBin, freePort } from './lib/pg.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'respaldo.js');
const args = process.argv.slice(2);
const sizeMb = Number(args.includes('--size-mb') ? args[args.indexOf('--size-mb') + 1] : 300);
const keep = args.includes('--keep');

const bin = findPgBin();
const pgUser = process.getuid?.() === 0 ? 'postgres' : null;
function run(cmd, argv, asServer = false) {
  const [file, a] = pgUser && asServer ? ['runuser', ['-u', pgUser, '--', cmd, ...argv]] : [cmd, argv];
  const r = spawnSync(file, a, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
const port = await freePort();

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
const work = mkdtempSync(join(tmpdir(), 'respaldo-bench-pgchain-'));
chmodSync(work, 0o755);
const password = `bench-${randomBytes(6).toString('hex')}`;
const dataDir = join(work, 'data');
try {
  const pw = join(work, 'pw');
  writeFileSync(pw, password + '\n');
  if (pgUser) {
    chownSync(work, Number(run('id', ['-u', pgUser]).trim()), Number(run('id', ['-g', pgUser]).trim()));
    chownSync(pw, Number(run('id', ['-u', pgUser]).trim()), Number(run('id', ['-g', pgUser]).trim()));
  }
  run(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', `--pwfile=${pw}`, '--auth=scram-sha-256', '--no-sync'],
    true,
  );
  run('mkdir', ['-m', '0700', join(work, 'sock')], true);
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${join(work, 'sock')}'\nfsync = off\nsynchronous_commit = off\nmax_wal_size = 4GB\n`,
  );
  run(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(work, 'server.log'), '-w', 'start'], true);
  const connect = async (database) => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
    await c.connect();
    return c;
  };
  const admin = await connect('postgres');
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const c = await connect('bench');
  const row = `md5(random()::text) || ' ' || md5(random()::text) || ' ' || md5(random()::text)`;
  await c.query(`
    CREATE TABLE customers (id bigint PRIMARY KEY, name text, notes text);
    CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint, status text, amount numeric(12,2), note text);
    CREATE TABLE archive_2025 (id bigint PRIMARY KEY, customer_id bigint, amount numeric(12,2), note text);
    CREATE TABLE audit (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), what text);
    CREATE TABLE products (id int PRIMARY KEY, name text);
    INSERT INTO products SELECT i, 'product ' || i FROM generate_series(1, 2000) i;`);
  // About 15 % customers, 40 % archive, 35 % orders, 10 % audit.
  const rowsFor = (share) => Math.round((sizeMb * 1048576 * share) / 160);
  await c.query(`INSERT INTO customers SELECT g, 'customer ' || g, ${row} FROM generate_series(1, ${rowsFor(0.15)}) g`);
  await c.query(
    `INSERT INTO archive_2025 SELECT g, g % 50000, (g % 9000) / 3.0, ${row} FROM generate_series(1, ${rowsFor(0.4)}) g`,
  );
  await c.query(
    `INSERT INTO orders (customer_id, status, amount, note) SELECT g % 50000, 'paid', (g % 7000) / 3.0, ${row} FROM generate_series(1, ${rowsFor(0.35)}) g`,
  );
  await c.query(`INSERT INTO audit (what) SELECT ${row} FROM generate_series(1, ${rowsFor(0.1)})`);
  await c.query('VACUUM ANALYZE');
  const size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
  console.log(`database: ${mib(size)} (customers, archive_2025, orders, audit, products)`);

  const config = join(work, 'backup_config.json');
  writeFileSync(
    config,
    JSON.stringify({
      backupDir: './backups',
      databases: [
        { name: 'bench', url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/bench` },
      ],
      files: { config: [], application: [] },
      retention: { keepLast: 10, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
    }),
  );
  const respaldo = (argv) =>
    execFileSync(process.execPath, [cli, ...argv, '--config', config], { cwd: work, maxBuffer: 1 << 26 });
  function create(label, type) {
    const t0 = Date.now();
    const m = JSON.parse(respaldo(['create', '--type', type, '--no-files', '--json']).toString());
    const e = m.databases[0];
    const files = (e.extras ?? []).filter((x) => x.role.startsWith('pgdir:')).length;
    const unchanged =
      e.details.unchangedFiles !== undefined ? `, ${e.details.unchangedFiles} unchanged by reference` : '';
    console.log(
      `${label.padEnd(46)} ${m.type.padEnd(12)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${mib(m.totals.storedBytes).padStart(10)}  ${files} data files stored${unchanged}`,
    );
    return m;
  }

  const full = create('full', 'full');
  await c.query(`INSERT INTO audit (what) SELECT ${row} FROM generate_series(1, 2000)`);
  create('incremental: audit rows added', 'incremental');
  await c.query(`UPDATE orders SET status = 'shipped' WHERE id % 100 = 0`);
  await c.query(`INSERT INTO audit (what) SELECT ${row} FROM generate_series(1, 2000)`);
  const inc = create('incremental: 1% of orders updated, audit rows', 'incremental');
  create('differential (both days)', 'differential');
  await c.end();

  let t = Date.now();
  respaldo(['restore', inc.id, '--db', 'bench', '--to', 'bench_chain', '--yes']);
  console.log(`restore of the chain (full + 2 incrementals): ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  respaldo(['restore', full.id, '--db', 'bench', '--to', 'bench_full', '--yes']);
  console.log(`restore of the full alone: ${((Date.now() - t) / 1000).toFixed(1)} s`);
} finally {
  spawnSync(pgUser ? 'runuser' : join(bin, 'pg_ctl'), [
    ...(pgUser ? ['-u', pgUser, '--', join(bin, 'pg_ctl')] : []),
    '-D',
    dataDir,
    '-m',
    'immediate',
    'stop',
  ]);
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

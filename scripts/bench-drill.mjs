#!/usr/bin/env node
/**
 * Benchmark (not a test): `respaldo drill` of one SQLite database and of one PostgreSQL database next to
 * the plain native restore of the same stored file, in the same run:
 *   SQLite:     `zstd -dc` (or `gunzip -c`) of the stored file + `PRAGMA integrity_check`
 *   PostgreSQL: `zstd -dc`/`gunzip -c` of the stored dump to a file + `pg_restore -j2` into a new database
 * and prints the drill's ratio to it (the goal: at most 1.3×). The drill does more on top (hashes of the
 * stored files, row counts against the manifest, pg_amcheck, the drop, bookkeeping): that is its overhead.
 *
 *   node scripts/bench-drill.mjs [--sqlite-mib 1024] [--pg-mb 1200] [--only sqlite|postgres] [--dir /tmp/…] [--keep]
 *
 * Needs dist/ (npx tsc -p .), sqlite3, zstd, gzip, and the PostgreSQL server binaries (initdb, pg_ctl) to start
 * a throwaway cluster (as root it runs as the `postgres` user).
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { findPgBin, freePort } from './lib/pg.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const sqliteMib = Number(opt('sqlite-mib', '1024'));
const pgMb = Number(opt('pg-mb', '1200'));
const only = opt('only', 'all');
const keep = args.includes('--keep');
const work = mkdtempSync(join(resolve(opt('dir', tmpdir())), 'respaldo-bench-drill-'));
chmodSync(work, 0o755);
const bin = join(root, 'bin', 'respaldo.js');

/** Runs a command under /usr/bin/time: wall seconds and peak RSS (KiB, largest process). */
function timed(cmd, argv, opts = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', cmd, ...argv], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    ...opts,
  });
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m)
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return { seconds: Number(m[1]), rssKb: Number(m[2]), stdout: r.stdout };
}

function run(cmd, argv, opts = {}) {
  const [file, a] = opts.asUser ? ['runuser', ['-u', opts.asUser, '--', cmd, ...argv]] : [cmd, argv];
  const r = spawnSync(file, a, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The stored main file of the only database of the newest set, and the command that decompresses it to stdout. */
function storedFile(backupDir) {
  const id = readdirSync(backupDir)
    .filter((n) => /^\d{8}_\d{6}/.test(n))
    .sort()
    .at(-1);
  const m = JSON.parse(readFileSync(join(backupDir, id, 'manifest.json'), 'utf8'));
  const d = m.databases[0];
  const file = join(backupDir, id, d.file);
  return {
    id,
    file,
    decompress: file.endsWith('.zst') ? 'zstd -dc' : 'gunzip -c',
    counts: Object.keys(d.tables ?? {}).length,
    // A PostgreSQL directory dump (`pg-directory`): the main file is toc.dat, each table's file an extra
    // `pgdir:<name>`.
    members:
      d.format === 'pg-directory'
        ? [
            { name: 'toc.dat', file },
            ...(d.extras ?? [])
              .filter((x) => x.role.startsWith('pgdir:'))
              .map((x) => ({ name: x.role.slice('pgdir:'.length), file: join(backupDir, id, x.file) })),
          ]
        : null,
    storedBytes: [d.storedBytes, ...(d.extras ?? []).map((x) => x.storedBytes)].reduce((a, b) => a + b, 0),
  };
}

const mb = (b) => (b / 1048576).toFixed(0);
const rows = [];
const report = (what, native, drill, notes) => {
  rows.push({ what, native, drill, notes });
  console.log(
    `${what}: native ${native.toFixed(1)} s, drill ${drill.toFixed(1)} s, ${(drill / native).toFixed(2)}× (${notes})`,
  );
};

/** SQLite: a database of realistic rows (orders with names, addresses, JSON), about `mib` MiB. */
function generateSqlite(file, mib) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, email TEXT, address TEXT, status TEXT,
    total_cents INTEGER, created_at TEXT, items TEXT); CREATE INDEX orders_created ON orders (created_at)`);
  const names = ['Ana García', 'Luis Martínez', 'María López', 'José Pérez', 'Carmen Núñez', 'Jorge Ibáñez'];
  const statuses = ['pendiente', 'pagado', 'enviado', 'entregado', 'devuelto'];
  const ins = db.prepare(
    'INSERT INTO orders (customer, email, address, status, total_cents, created_at, items) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let s = 7;
  const r = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let i = 0;
  for (;;) {
    db.transaction(() => {
      for (let k = 0; k < 50000; k++, i++) {
        const n = names[Math.floor(r() * names.length)];
        const items = Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({
          sku: `SKU-${Math.floor(r() * 99999)}`,
          qty: 1 + Math.floor(r() * 9),
        }));
        ins.run(
          n,
          `${n.split(' ')[0].toLowerCase()}${i}@example.com`,
          `Calle Mayor ${Math.floor(r() * 200)}, Madrid`,
          statuses[i % 5],
          Math.floor(r() * 1e6),
          new Date(1.7e12 + i * 60000).toISOString(),
          JSON.stringify(items),
        );
      }
    })();
    if (db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true }) >= mib * 1048576) break;
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

function benchSqlite() {
  const dir = join(work, 'sqlite');
  mkdirSync(dir);
  const file = join(dir, 'orders.db');
  process.stdout.write(`\n## SQLite, ${sqliteMib} MiB: generating… `);
  generateSqlite(file, sqliteMib);
  console.log(`${mb(statSync(file).size)} MiB`);
  const cfg = join(dir, 'backup_config.json');
  writeFileSync(
    cfg,
    JSON.stringify({ backupDir: join(dir, 'backups'), databases: [{ name: 'orders', engine: 'sqlite', path: file }] }),
  );
  run(process.execPath, [bin, 'create', '--config', cfg, '--no-files', '--json']);
  const st = storedFile(join(dir, 'backups'));
  const restored = join(dir, 'restored.db');
  // The drill's scratch file lives in the backup folder; the native restore writes to the same disk.
  const native = timed('bash', [
    '-c',
    `${st.decompress} "${st.file}" > "${restored}" && sqlite3 "${restored}" 'PRAGMA integrity_check;' | grep -qx ok`,
  ]);
  rmSync(restored);
  const drill = timed(process.execPath, [bin, 'drill', st.id, '--config', cfg, '--json']);
  const out = JSON.parse(drill.stdout);
  if (!out.ok) throw new Error(`drill failed: ${drill.stdout}`);
  report(
    `SQLite ${mb(statSync(file).size)} MiB (stored ${mb(statSync(st.file).size)} MiB)`,
    native.seconds,
    drill.seconds,
    `${st.decompress} + integrity_check vs respaldo drill: hashes, restore, integrity_check, row counts; drill peak RSS ${(drill.rssKb / 1024).toFixed(0)} MiB`,
  );
}

async function benchPostgres() {
  const pgBin = findPgBin();
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dir = join(work, 'pg');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  const password = `bench-${randomBytes(6).toString('hex')}`;
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const host = '127.0.0.1';
  const pw = join(dir, 'pw');
  writeFileSync(pw, password + '\n');
  if (asUser) {
    const uid = Number(run('id', ['-u', asUser]).trim());
    const gid = Number(run('id', ['-g', asUser]).trim());
    chownSync(dir, uid, gid);
    chownSync(pw, uid, gid);
  }
  run(
    join(pgBin, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      `--pwfile=${pw}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ],
    { asUser },
  );
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\nsynchronous_commit = off\nshared_buffers = 256MB\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\n`,
  );
  run(join(pgBin, 'pg_ctl'), ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', 'start'], { asUser });
  const env = {
    ...process.env,
    PGPASSWORD: password,
    BENCH_PG_PASSWORD: password,
    PATH: `${pgBin}:${process.env.PATH}`,
  };
  const conn = ['-h', host, '-p', String(port), '-U', 'postgres', '--no-password'];
  try {
    const admin = new pg.Client({ host, port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    const c = new pg.Client({ host, port, user: 'postgres', password, database: 'bench' });
    await c.connect();
    process.stdout.write(`\n## PostgreSQL, ${pgMb} MB: generating… `);
    await c.query(`CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, city text);
      INSERT INTO customers SELECT g, 'Cliente ' || g, 'c' || g || '@example.com', (ARRAY['Madrid','Lima','Bogotá','Quito'])[1 + g % 4] FROM generate_series(1, 100000) g;
      CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, status text NOT NULL,
        amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL, items jsonb NOT NULL, comment text)`);
    let size = 0;
    while (size < pgMb * 1e6) {
      await c.query(`INSERT INTO orders (customer_id, status, amount, created_at, items, comment)
        SELECT 1 + (random() * 99999)::int, (ARRAY['new','paid','shipped','delivered'])[1 + (random() * 3)::int], round((random() * 5000)::numeric, 2),
               now() - random() * interval '3 years',
               jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (random() * 99999)::int, 'qty', 1 + (random() * 9)::int)),
               CASE WHEN random() < 0.4 THEN 'entregar por la tarde; ref ' || substr(md5(random()::text), 1, 16) END
          FROM generate_series(1, 250000)`);
      size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
    }
    await c.query('CREATE INDEX ON orders (customer_id); CREATE INDEX ON orders (created_at)');
    await c.query('VACUUM ANALYZE');
    size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
    await c.end();
    console.log(`${(size / 1e6).toFixed(0)} MB`);

    const cfg = join(dir, 'backup_config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        backupDir: join(dir, 'backups'),
        databases: [{ name: 'bench', url: `postgresql://postgres:\${BENCH_PG_PASSWORD}@${host}:${port}/bench` }],
        files: { config: [], application: [] },
      }),
    );
    run(process.execPath, [bin, 'create', '--config', cfg, '--no-files', '--json'], { env });
    const st = storedFile(join(dir, 'backups'));
    const dump = join(dir, 'bench.dump');
    // Native: the stored dump decompressed (a directory dump: every member into a folder, as pg_restore -j reads
    // it; a custom-format dump: to a file), a new database, pg_restore -j2.
    const unpack = st.members
      ? `mkdir "${dump}" && ` + st.members.map((x) => `${st.decompress} "${x.file}" > "${dump}/${x.name}"`).join(' && ')
      : `${st.decompress} "${st.file}" > "${dump}"`;
    const native = timed(
      'bash',
      [
        '-c',
        `${unpack} && createdb ${conn.join(' ')} bench_native && pg_restore ${conn.join(' ')} --exit-on-error -j2 -d bench_native "${dump}"`,
      ],
      { env },
    );
    await admin.query('DROP DATABASE bench_native');
    rmSync(dump, { recursive: true });
    const drill = timed(process.execPath, [bin, 'drill', st.id, '--config', cfg, '--json'], { env });
    const out = JSON.parse(drill.stdout);
    if (!out.ok) throw new Error(`drill failed: ${drill.stdout}`);
    const phases = out.results[0].checks.map((k) => `${k.name}${k.skipped ? ' (skipped)' : ''}`).join(', ');
    report(
      `PostgreSQL ${(size / 1e6).toFixed(0)} MB (stored ${mb(st.storedBytes)} MiB)`,
      native.seconds,
      drill.seconds,
      `${st.decompress} + pg_restore -j2 vs respaldo drill: ${phases}; drill peak RSS ${(drill.rssKb / 1024).toFixed(0)} MiB`,
    );
    await admin.end();
  } finally {
    try {
      run(join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { asUser });
    } catch {
      /* not running */
    }
  }
}

console.log(`# respaldo drill benchmark — ${work} (${run('nproc', []).trim()} cores)`);
try {
  if (only !== 'postgres') benchSqlite();
  if (only !== 'sqlite') await benchPostgres();
  console.log('\n| database | native restore | respaldo drill | ratio |\n| --- | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(
      `| ${r.what} | ${r.native.toFixed(1)} s | ${r.drill.toFixed(1)} s | ${(r.drill / r.native).toFixed(2)}× |`,
    );
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

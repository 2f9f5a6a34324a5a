#!/usr/bin/env node
/**
 * PostgreSQL benchmark: respaldo create of a ~1 GiB database of realistic rows next to plain
 * `pg_dump -Fc` (and -Z0, and -Z0 | gzip -1) in the same run, peak RSS, and restore time next to
 * pg_restore of the same data. Prints figures; it is not a test.
 *
 *   node scripts/bench-postgres.mjs [--size-mb 1024] [--levels default,1,6] [--dist DIR] [--keep]
 *
 * Needs `dist/` (npx tsc -p .), the PostgreSQL server binaries (initdb, pg_ctl) to start a
 * throwaway cluster (as root it runs as the `postgres` user), and pg_dump/pg_restore.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const sizeMb = Number(opt('size-mb', '1024'));
/** gzip levels to run respaldo at; `default` leaves compression to the engine's default (3 for PostgreSQL). */
const levels = opt('levels', 'default,1,6').split(',').map((l) => (l === 'default' ? l : Number(l)));
const keep = args.includes('--keep');
/** Folder of the compiled sources (default dist/; e.g. a private `tsc --outDir` build). */
const dist = resolve(opt('dist', join(root, 'dist')));

function findBin() {
  const base = '/usr/lib/postgresql';
  const dirs = [process.env.PG_BIN_PATH, ...(existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)).map((v) => join(base, v, 'bin')) : [])].filter(Boolean);
  for (const d of dirs) if (existsSync(join(d, 'initdb'))) return d;
  throw new Error('initdb not found — install the postgresql package (or set PG_BIN_PATH)');
}
const bin = findBin();
const asRoot = process.getuid?.() === 0;
const pgUser = asRoot ? 'postgres' : null;

function run(cmd, argv, opts = {}) {
  const [file, a] = pgUser && opts.asServer ? ['runuser', ['-u', pgUser, '--', cmd, ...argv]] : [cmd, argv];
  const r = spawnSync(file, a, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS (KiB, largest process). */
function timed(cmd, argv, opts = {}) {
  const fmt = '__TIME__ %e %M';
  const r = spawnSync('/usr/bin/time', ['-f', fmt, cmd, ...argv], { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`${cmd} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return { seconds: Number(m[1]), rssKb: Number(m[2]), stdout: r.stdout };
}

const mb = (b) => (b / 1048576).toFixed(1);
const work = mkdtempSync(join(tmpdir(), 'respaldo-bench-pg-'));
chmodSync(work, 0o755);
const password = `bench-${randomBytes(6).toString('hex')}`;
const dataDir = join(work, 'data');
const sock = join(work, 'sock');
const port = await freePort();
const host = '127.0.0.1';
const env = { ...process.env, PGPASSWORD: password };
const conn = ['-h', host, '-p', String(port), '-U', 'postgres'];

console.log(`# respaldo PostgreSQL benchmark — target ${sizeMb} MiB, gzip levels ${levels.join(',')}, ${bin}`);
try {
  const pw = join(work, 'pw');
  writeFileSync(pw, password + '\n');
  if (pgUser) {
    const uid = Number(run('id', ['-u', pgUser]).trim());
    const gid = Number(run('id', ['-g', pgUser]).trim());
    chownSync(work, uid, gid);
    chownSync(pw, uid, gid);
  }
  run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', `--pwfile=${pw}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], { asServer: true });
  run('mkdir', ['-m', '0700', sock], { asServer: true });
  appendFileSync(join(dataDir, 'postgresql.conf'), `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${sock}'\nfsync = off\nsynchronous_commit = off\nshared_buffers = 256MB\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\n`);
  run(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(work, 'server.log'), '-w', 'start'], { asServer: true });

  const admin = new pg.Client({ host, port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const c = new pg.Client({ host, port, user: 'postgres', password, database: 'bench' });
  await c.connect();
  const t0 = Date.now();
  await c.query(`
    CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, city text, country text, created_at timestamptz NOT NULL, notes text);
    CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL,
                         created_at timestamptz NOT NULL, items jsonb NOT NULL, shipping_address text, comment text);
    CREATE TABLE words (i int PRIMARY KEY, w text);
    INSERT INTO words SELECT i, (ARRAY['mesa','silla','tornillo','cable','monitor','teclado','papel','caja','lámpara','batería','filtro','bomba','válvula','sensor','motor','correa','rodamiento','tuerca','arandela','perno'])[1 + i % 20] FROM generate_series(0, 19) i;`);
  await c.query(`INSERT INTO customers SELECT g, initcap(md5(g::text)::varchar(8)) || ' ' || initcap(substr(md5((g*7)::text), 1, 10)),
      substr(md5(g::text), 1, 12) || '@example.' || (ARRAY['com','es','mx','ar'])[1 + g % 4],
      (ARRAY['Madrid','Lima','Bogotá','Quito','Sevilla','Rosario','Cusco','León','Mérida','Valencia'])[1 + g % 10],
      (ARRAY['ES','PE','CO','EC','AR','MX'])[1 + g % 6], now() - (g % 2000) * interval '1 day',
      CASE WHEN g % 3 = 0 THEN 'cliente preferente; ' || md5(g::text) END FROM generate_series(1, 200000) g`);
  let size = 0;
  let batch = 0;
  while (size < sizeMb * 1048576) {
    await c.query(`INSERT INTO orders (customer_id, status, amount, created_at, items, shipping_address, comment)
      SELECT 1 + (random() * 199999)::int, (ARRAY['new','paid','shipped','delivered','returned'])[1 + (random() * 4)::int],
             round((random() * 5000)::numeric, 2), now() - random() * interval '3 years',
             jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (random() * 99999)::int, 'qty', 1 + (random() * 9)::int, 'name', (SELECT w FROM words WHERE i = (g % 20)), 'price', round((random() * 300)::numeric, 2)),
                               jsonb_build_object('sku', 'SKU-' || (random() * 99999)::int, 'qty', 1 + (random() * 3)::int, 'name', (SELECT w FROM words WHERE i = ((g / 7) % 20)))),
             'Calle ' || (random() * 300)::int || ' nº ' || (random() * 99)::int || ', ' || (ARRAY['Madrid','Lima','Bogotá','Quito','Sevilla'])[1 + g % 5],
             CASE WHEN random() < 0.4 THEN 'entregar por la tarde; ref ' || substr(md5(random()::text), 1, 16) END
        FROM generate_series(1, 250000) g`);
    batch++;
    size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
  }
  await c.query('CREATE INDEX ON orders (customer_id); CREATE INDEX ON orders (created_at)');
  await c.query('VACUUM ANALYZE');
  size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
  const rows = Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n);
  await c.end();
  console.log(`database: ${mb(size)} MiB, ${rows} orders + 200000 customers (generated in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);

  const dbconn = [...conn, '-d', 'bench'];
  const results = [];
  const fileFc = join(work, 'bench.Fc.dump');
  const a = timed('pg_dump', ['-Fc', '-f', fileFc, ...dbconn], { env });
  results.push(['pg_dump -Fc', a.seconds, a.rssKb, statSync(fileFc).size]);
  const fileZ0 = join(work, 'bench.Z0.dump');
  const b = timed('pg_dump', ['-Fc', '-Z0', '-f', fileZ0, ...dbconn], { env });
  results.push(['pg_dump -Fc -Z0', b.seconds, b.rssKb, statSync(fileZ0).size]);
  rmSync(fileZ0);
  {
    const t = Date.now();
    const dump = spawn('pg_dump', ['-Fc', '-Z0', ...dbconn], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const gz = spawn('gzip', ['-1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out = createWriteStream(join(work, 'bench.Z0.gz'));
    dump.stdout.pipe(gz.stdin);
    gz.stdout.pipe(out);
    await new Promise((r) => out.on('finish', r));
    results.push(['pg_dump -Fc -Z0 | gzip -1', (Date.now() - t) / 1000, null, statSync(join(work, 'bench.Z0.gz')).size]);
    rmSync(join(work, 'bench.Z0.gz'));
  }

  // respaldo create through the real engine, in its own process (peak RSS = largest of node and pg_dump).
  const runner = join(work, 'runner.mjs');
  writeFileSync(
    runner,
    `import { loadConfig } from ${JSON.stringify(join(dist, 'config/load.js'))};
     import { createBackup } from ${JSON.stringify(join(dist, 'engine/create.js'))};
     import { planRestore, executeRestore } from ${JSON.stringify(join(dist, 'engine/restore.js'))};
     const [op, configPath, arg] = process.argv.slice(2);
     const cfg = await loadConfig({ configPath });
     const reporter = { emit: () => undefined };
     const t = Date.now();
     let out;
     if (op === 'create') {
       const m = await createBackup(cfg, {}, reporter);
       out = { id: m.id, status: m.status, stored: m.totals.storedBytes, raw: m.totals.rawBytes, error: m.databases[0].error, rowCounts: m.databases[0].details.rowCounts, gzipLevel: m.databases[0].details.gzipLevel };
     } else if (op === 'restore-table') {
       const plan = await planRestore(cfg, arg, { databases: ['bench'], to: 'bench_respaldo_customers', tables: ['public.customers'] });
       const o = await executeRestore(cfg, plan, reporter);
       out = { ok: o.ok, databases: o.databases };
     } else {
       const plan = await planRestore(cfg, arg, { databases: ['bench'], to: 'bench_respaldo_restored' });
       const o = await executeRestore(cfg, plan, reporter);
       out = { ok: o.ok, databases: o.databases };
     }
     console.log(JSON.stringify({ ms: Date.now() - t, nodeMaxRssKb: process.resourceUsage().maxRSS, ...out }));`,
  );
  const sets = {};
  for (const level of levels) {
    const cfgDir = mkdtempSync(join(work, `cfg-${level}-`));
    const cfgFile = join(cfgDir, 'backup_config.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        backupDir: join(cfgDir, 'backups'),
        databases: [{ name: 'bench', url: `postgresql://postgres:\${BENCH_PG_PASSWORD}@${host}:${port}/bench` }],
        files: { config: [], application: [] },
        ...(level === 'default' ? {} : { compression: { level } }),
        retention: { keepLast: 3, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
        schedule: { jobs: [] },
      }),
    );
    const r = timed(process.execPath, [runner, 'create', cfgFile], { env: { ...process.env, BENCH_PG_PASSWORD: password } });
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    if (info.status !== 'completed') throw new Error(`respaldo create failed: ${JSON.stringify(info)}`);
    sets[level] = { cfgFile, id: info.id };
    results.push([`respaldo create (gzip ${level === 'default' ? `default, -${info.gzipLevel}` : `-${level}`}, ${info.rowCounts} counts; ${(info.ms / 1000).toFixed(1)} s in-process)`, r.seconds, r.rssKb, info.stored, info.nodeMaxRssKb]);
  }

  // Where the time goes: the driver alone (pg_dump -Z0 from the exported snapshot + exact counts),
  // and the driver into node's gzip on the libuv pool (no hashing, no fsync).
  {
    const { createPostgresDriver } = await import(join(dist, 'drivers/postgres.js'));
    const { createGzip } = await import('node:zlib');
    const { pipeline } = await import('node:stream/promises');
    const { Writable } = await import('node:stream');
    const driver = createPostgresDriver();
    const db = { name: 'bench', engine: 'postgres', host, port, user: 'postgres', password, database: 'bench' };
    const ctx = { reporter: { emit: () => undefined }, signal: new AbortController().signal, scratchDir: work, log: () => undefined };
    const once = async (sink) => {
      const t = Date.now();
      const session = await driver.backup({ db, type: 'full', purpose: 'backup' }, ctx);
      try {
        const opened = await session.parts[0].open();
        let bytes = 0;
        await Promise.all([pipeline(opened.stream, ...sink((n) => (bytes += n))), opened.finished]);
        return { s: (Date.now() - t) / 1000, bytes };
      } finally {
        await session.cleanup();
      }
    };
    const discard = (count) => [new Writable({ highWaterMark: 1 << 20, write(c, _e, cb) { count(c.length); cb(); } })];
    const d1 = await once(discard);
    results.push(['driver only (pg_dump -Z0 + exact counts) → discard', d1.s, null, d1.bytes]);
    for (const level of levels.filter((l) => l !== 'default')) {
      const d2 = await once((count) => [createGzip({ level, chunkSize: 1 << 18 }), new Writable({ highWaterMark: 1 << 20, write(c, _e, cb) { count(c.length); cb(); } })]);
      results.push([`driver → node gzip -${level} → discard`, d2.s, null, d2.bytes]);
    }
  }

  console.log('\n## create');
  const base = results[0][1];
  console.log('what'.padEnd(62), 'seconds', ' ×pg_dump -Fc', '  size MiB', ' peak RSS MiB');
  for (const [what, s, rss, bytes, nodeRss] of results) {
    console.log(what.padEnd(62), s.toFixed(1).padStart(7), (s / base).toFixed(2).padStart(13), mb(bytes).padStart(10), rss ? `${(rss / 1024).toFixed(0).padStart(12)}${nodeRss ? ` (node ${(nodeRss / 1024).toFixed(0)})` : ''}` : '           -');
  }

  console.log('\n## restore (side by side, into a new database)');
  {
    const a2 = new pg.Client({ host, port, user: 'postgres', password, database: 'postgres' });
    await a2.connect();
    await a2.query('CREATE DATABASE bench_pg_restore');
    await a2.end();
  }
  const pr = timed('pg_restore', ['--exit-on-error', '--no-password', ...conn, '-d', 'bench_pg_restore', fileFc], { env });
  console.log('pg_restore -d (from pg_dump -Fc file)'.padEnd(62), pr.seconds.toFixed(1).padStart(7));
  const level = levels[0];
  const rr = timed(process.execPath, [runner, 'restore', sets[level].cfgFile, sets[level].id], { env: { ...process.env, BENCH_PG_PASSWORD: password } });
  const rinfo = JSON.parse(rr.stdout.trim().split('\n').pop());
  if (!rinfo.ok) throw new Error(`respaldo restore failed: ${JSON.stringify(rinfo)}`);
  console.log(`respaldo restore --to (gzip ${level} set)`.padEnd(62), rr.seconds.toFixed(1).padStart(7), `  (in-process ${(rinfo.ms / 1000).toFixed(1)} s: verify, gunzip, pg_restore, row counts; peak RSS ${(rr.rssKb / 1024).toFixed(0)} MiB)`);
  // One table out of the whole dump (TOC selection; pg_restore still reads past the other tables' data).
  const rt = timed(process.execPath, [runner, 'restore-table', sets[level].cfgFile, sets[level].id], { env: { ...process.env, BENCH_PG_PASSWORD: password } });
  const tinfo = JSON.parse(rt.stdout.trim().split('\n').pop());
  if (!tinfo.ok) throw new Error(`respaldo restore --table failed: ${JSON.stringify(tinfo)}`);
  console.log(`respaldo restore --to --table public.customers (200k rows)`.padEnd(62), rt.seconds.toFixed(1).padStart(7), `  (peak RSS ${(rt.rssKb / 1024).toFixed(0)} MiB)`);
} finally {
  try {
    run(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { asServer: true });
  } catch {
    /* not running */
  }
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

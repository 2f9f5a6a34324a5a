#!/usr/bin/env node
/**
 * PostgreSQL benchmark: respaldo create of a database of realistic rows next to the best native pipeline,
 * `pg_dump -Fd -j<cores> -Z1` (and its -Z0 floor), and respaldo restore next to `pg_restore -j<cores>` of
 * that directory, in the same run on the same data: seconds, ratios, peak RSS and how busy the cores
 * were. `--multi` adds a set of three databases at once. Prints figures; it is not a test.
 *
 *   node scripts/bench-postgres.mjs [--size-mb 512] [--runs 3] [--level N] [--multi] [--tables N] [--dist DIR] [--keep]
 *
 * Needs `dist/` (npx tsc -p .), the PostgreSQL server binaries (initdb, pg_ctl) to start a
 * throwaway cluster (as root it runs as the `postgres` user), and pg_dump/pg_restore.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
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
const sizeMb = Number(opt('size-mb', '512'));
/** Compression level of respaldo's sets; `default` leaves it to the codec's default. */
const level = opt('level', 'default') === 'default' ? 'default' : Number(opt('level', 'default'));
const runs = Number(opt('runs', '3'));
const multi = args.includes('--multi');
/** A database of this many small tables instead of the orders and customers (`--tables 5000`). */
const tables = Number(opt('tables', '0'));
const keep = args.includes('--keep');
/** Folder of the compiled sources (default dist/; e.g. a private `tsc --outDir` build). */
const dist = resolve(opt('dist', join(root, 'dist')));

const bin = findPgBin();
const asRoot = process.getuid?.() === 0;
const pgUser = asRoot ? 'postgres' : null;

function run(cmd, argv, opts = {}) {
  const [file, a] = pgUser && opts.asServer ? ['runuser', ['-u', pgUser, '--', cmd, ...argv]] : [cmd, argv];
  const r = spawnSync(file, a, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs a command under /usr/bin/time; returns wall seconds, CPU seconds of it and its children (user,
 * sys; the server's backends are not included) and peak RSS (KiB, largest process).
 */
function timed(cmd, argv, opts = {}) {
  const fmt = '__TIME__ %e %U %S %M';
  const r = spawnSync('/usr/bin/time', ['-f', fmt, cmd, ...argv], { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  const m = /__TIME__ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`${cmd} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return { seconds: Number(m[1]), user: Number(m[2]), sys: Number(m[3]), rssKb: Number(m[4]), stdout: r.stdout };
}

/** The fastest of several runs (the machine is shared; the best run is the least disturbed). */
const best = (rs) => rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

/** Bytes of the files directly in `dir`. */
const dirSize = (dir) => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

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

console.log(
  `# respaldo PostgreSQL benchmark — target ${sizeMb} MiB, ${runs} runs, Node ${process.versions.node}, ${bin}`,
);
try {
  const pw = join(work, 'pw');
  writeFileSync(pw, password + '\n');
  if (pgUser) {
    const uid = Number(run('id', ['-u', pgUser]).trim());
    const gid = Number(run('id', ['-g', pgUser]).trim());
    chownSync(work, uid, gid);
    chownSync(pw, uid, gid);
  }
  run(
    join(bin, 'initdb'),
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
    { asServer: true },
  );
  run('mkdir', ['-m', '0700', sock], { asServer: true });
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${sock}'\nfsync = off\nsynchronous_commit = off\nshared_buffers = 256MB\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\n` +
      // pg_dump -j locks every table in its own session and again in the worker dumping it
      (tables > 0 ? `max_locks_per_transaction = 256\n` : ''),
  );
  run(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(work, 'server.log'), '-w', 'start'], { asServer: true });

  const admin = new pg.Client({ host, port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const c = new pg.Client({ host, port, user: 'postgres', password, database: 'bench' });
  await c.connect();
  const t0 = Date.now();
  if (tables > 0) {
    // Many small tables (--tables N): each a serial primary key, a text and a timestamp, 1–7 rows.
    for (let i = 0; i < tables; i += 250) {
      let sql = '';
      for (let j = i; j < Math.min(tables, i + 250); j++)
        sql += `CREATE TABLE t${j} (id serial PRIMARY KEY, name text NOT NULL, created timestamptz DEFAULT now());
                INSERT INTO t${j} (name) SELECT 'n' || g FROM generate_series(1, ${1 + (j % 7)}) g;\n`;
      await c.query(sql);
    }
    await c.query('VACUUM ANALYZE');
    const size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
    await c.end();
    console.log(
      `database: ${mb(size)} MiB, ${tables} small tables (generated in ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  } else {
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
    while (size < sizeMb * 1048576) {
      await c.query(`INSERT INTO orders (customer_id, status, amount, created_at, items, shipping_address, comment)
        SELECT 1 + (random() * 199999)::int, (ARRAY['new','paid','shipped','delivered','returned'])[1 + (random() * 4)::int],
               round((random() * 5000)::numeric, 2), now() - random() * interval '3 years',
               jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (random() * 99999)::int, 'qty', 1 + (random() * 9)::int, 'name', (SELECT w FROM words WHERE i = (g % 20)), 'price', round((random() * 300)::numeric, 2)),
                                 jsonb_build_object('sku', 'SKU-' || (random() * 99999)::int, 'qty', 1 + (random() * 3)::int, 'name', (SELECT w FROM words WHERE i = ((g / 7) % 20)))),
               'Calle ' || (random() * 300)::int || ' nº ' || (random() * 99)::int || ', ' || (ARRAY['Madrid','Lima','Bogotá','Quito','Sevilla'])[1 + g % 5],
               CASE WHEN random() < 0.4 THEN 'entregar por la tarde; ref ' || substr(md5(random()::text), 1, 16) END
          FROM generate_series(1, 250000) g`);
      size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
    }
    await c.query('CREATE INDEX ON orders (customer_id); CREATE INDEX ON orders (created_at)');
    await c.query('VACUUM ANALYZE');
    size = Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
    const rows = Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n);
    await c.end();
    console.log(
      `database: ${mb(size)} MiB, ${rows} orders + 200000 customers (generated in ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }

  const jobs = availableParallelism();
  const dbconn = [...conn, '-d', 'bench'];
  const cpuOf = (r) => r.user + r.sys;

  // The peers: pg_dump's directory format with as many jobs as cores, compressed (-Z1) and not (-Z0, the floor).
  const dirZ1 = join(work, 'bench.Fd.Z1');
  const peers = [];
  for (let i = 0; i < runs; i++) {
    rmSync(dirZ1, { recursive: true, force: true });
    peers.push(timed('pg_dump', ['-Fd', `-j${jobs}`, '-Z1', '-f', dirZ1, ...dbconn], { env }));
  }
  const peer = best(peers);
  const dirZ0 = join(work, 'bench.Fd.Z0');
  const floors = [];
  for (let i = 0; i < runs; i++) {
    rmSync(dirZ0, { recursive: true, force: true });
    floors.push(timed('pg_dump', ['-Fd', `-j${jobs}`, '-Z0', '-f', dirZ0, ...dbconn], { env }));
  }
  const floor = best(floors);
  rmSync(dirZ0, { recursive: true, force: true });

  // respaldo create through the real engine, in its own process (peak RSS = largest of node and pg_dump).
  const runner = join(work, 'runner.mjs');
  writeFileSync(
    runner,
    `import { loadConfig } from ${JSON.stringify(join(dist, 'config/load.js'))};
     import { createBackup } from ${JSON.stringify(join(dist, 'engine/create.js'))};
     import { planRestore, executeRestore } from ${JSON.stringify(join(dist, 'engine/restore.js'))};
     import { boundYoungGeneration } from ${JSON.stringify(join(dist, 'engine/garbage.js'))};
     // As the CLI does first (cli/start.ts): without it V8's young generation grows to 128 MiB here and the peak
     // RSS measured is not the one an operator gets (5000 small tables: 186-211 MiB instead of 157-162).
     boundYoungGeneration();
     const [op, configPath, arg, db] = process.argv.slice(2);
     const cfg = await loadConfig({ configPath });
     const reporter = { emit: () => undefined };
     const t = Date.now();
     let out;
     if (op === 'create') {
       const m = await createBackup(cfg, {}, reporter);
       const d = m.databases[0];
       out = { id: m.id, status: m.status, stored: m.totals.storedBytes, codec: m.codec, level: d.details[m.codec + 'Level'], rowCounts: d.details.rowCounts, format: d.format, errors: m.databases.map((x) => x.error).filter(Boolean) };
     } else {
       const plan = await planRestore(cfg, arg, { databases: [db], to: db + '_respaldo_restored' });
       const o = await executeRestore(cfg, plan, reporter);
       out = { ok: o.ok, databases: o.databases };
     }
     console.log(JSON.stringify({ ms: Date.now() - t, nodeMaxRssKb: process.resourceUsage().maxRSS, ...out }));`,
  );
  const config = (name, databases) => {
    const cfgDir = mkdtempSync(join(work, `cfg-${name}-`));
    const cfgFile = join(cfgDir, 'backup_config.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        backupDir: join(cfgDir, 'backups'),
        databases: databases.map((d) => ({
          name: d,
          url: `postgresql://postgres:\${BENCH_PG_PASSWORD}@${host}:${port}/${d}`,
        })),
        files: { config: [], application: [] },
        ...(level === 'default' ? {} : { compression: { level } }),
        retention: { keepLast: 10, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
        schedule: { jobs: [] },
      }),
    );
    return cfgFile;
  };
  const runnerEnv = { ...process.env, BENCH_PG_PASSWORD: password };
  const cfgOne = config('one', ['bench']);
  const creates = [];
  for (let i = 0; i < runs; i++) {
    const r = timed(process.execPath, [runner, 'create', cfgOne], { env: runnerEnv });
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    if (info.status !== 'completed') throw new Error(`respaldo create failed: ${JSON.stringify(info)}`);
    creates.push({ ...r, info });
  }
  const create = best(creates);

  // Restores side by side into a new database, each timed alone: pg_restore -j of the -Z1 directory, respaldo's set.
  const psqlAdmin = (sql) => run('psql', [...conn, '-d', 'postgres', '-X', '-q', '-c', sql], { env });
  const restores = [];
  const peerRestores = [];
  for (let i = 0; i < runs; i++) {
    psqlAdmin('DROP DATABASE IF EXISTS bench_pg_restore');
    psqlAdmin('CREATE DATABASE bench_pg_restore');
    peerRestores.push(
      timed('pg_restore', ['--exit-on-error', '--no-password', `-j${jobs}`, ...conn, '-d', 'bench_pg_restore', dirZ1], {
        env,
      }),
    );
    psqlAdmin('DROP DATABASE IF EXISTS bench_respaldo_restored');
    const r = timed(process.execPath, [runner, 'restore', cfgOne, create.info.id, 'bench'], { env: runnerEnv });
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    if (!info.ok) throw new Error(`respaldo restore failed: ${JSON.stringify(info)}`);
    restores.push({ ...r, info });
  }
  const peerRestore = best(peerRestores);
  const restore = best(restores);

  // Three databases in one set (copies of bench): cores kept busy (CPU seconds / wall / cores) and peak RSS.
  let three = null;
  if (multi) {
    for (const d of ['bench2', 'bench3']) {
      psqlAdmin(`DROP DATABASE IF EXISTS ${d}`);
      psqlAdmin(`CREATE DATABASE ${d} TEMPLATE bench`);
    }
    const cfgThree = config('three', ['bench', 'bench2', 'bench3']);
    const r = timed(process.execPath, [runner, 'create', cfgThree], { env: runnerEnv });
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    if (info.status !== 'completed') throw new Error(`respaldo create (3 databases) failed: ${JSON.stringify(info)}`);
    const peer3 = timed(
      'bash',
      [
        '-c',
        ['bench', 'bench2', 'bench3']
          .map((d) => `pg_dump -Fd -j${jobs} -Z1 -f ${join(work, `three-${d}`)} ${conn.join(' ')} -d ${d} &`)
          .join(' ') + ' wait',
      ],
      { env },
    );
    three = { r, info, peer3 };
  }

  const ratio = (a, b) => (a.seconds / b.seconds).toFixed(2);
  const busy = (r) => `${((cpuOf(r) / r.seconds / jobs) * 100).toFixed(0)} %`;
  console.log(
    `\n## create (best of ${runs}; ${jobs} cores; respaldo ${create.info.format}, ${create.info.codec} level ${create.info.level}, ${create.info.rowCounts} row counts)`,
  );
  console.log('what'.padEnd(44), 'seconds', '  ratio', ' size MiB', ' peak RSS MiB', ' cores busy');
  const line = (what, r, base, bytes) =>
    console.log(
      what.padEnd(44),
      r.seconds.toFixed(2).padStart(7),
      (base ? ratio(r, base) : '').padStart(7),
      (bytes === null ? '-' : mb(bytes)).padStart(9),
      (r.rssKb / 1024).toFixed(0).padStart(13),
      busy(r).padStart(11),
    );
  line(`pg_dump -Fd -j${jobs} -Z1`, peer, peer, dirSize(dirZ1));
  line(`pg_dump -Fd -j${jobs} -Z0 (floor, no compression)`, floor, peer, null);
  line('respaldo create', create, peer, create.info.stored);
  console.log(`\n## restore (side by side into a new database; best of ${runs})`);
  line(`pg_restore -j${jobs} of the -Z1 directory`, peerRestore, peerRestore, null);
  line('respaldo restore --to (verify, counts, rename)', restore, peerRestore, null);
  if (three) {
    console.log('\n## three databases in one set');
    line(`3 × pg_dump -Fd -j${jobs} -Z1 at once`, three.peer3, three.peer3, null);
    line('respaldo create (3 databases)', three.r, three.peer3, three.info.stored);
  }
  console.log(
    `\nratios: create ${ratio(create, peer)}× pg_dump -Fd -j${jobs} -Z1 (goal ≤ 0.8), restore ${ratio(restore, peerRestore)}× pg_restore -j${jobs} (goal ≤ 0.9)` +
      (three ? `, 3-database peak RSS ${(three.r.rssKb / 1024).toFixed(0)} MiB (goal < 150)` : ''),
  );
} finally {
  try {
    run(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { asServer: true });
  } catch {
    /* not running */
  }
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

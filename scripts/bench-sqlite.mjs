// Benchmark (not a test): respaldo `create`, `verify` and `restore` of one SQLite database against, in the same
// run on the same file, the do-it-yourself script `sqlite3 .backup && gzip -6` and the best physical pipeline
// an expert would write: `sqlite3 .backup` + `zstd -3 -T<cores>` + md5sum + sha256sum; restore against
// `zstd -d` + `PRAGMA integrity_check`; verify against md5sum + sha256sum. Peak RSS from /usr/bin/time.
// Usage: node scripts/bench-sqlite.mjs [--sizes 256,1024] [--dir /tmp/respaldo-bench] [--codec zstd|gzip] [--level N]
// [--rounds N] [--multi]. With --rounds, each command runs once per round, in turn, and the median run is shown;
// before each, `sync` and a read of the database, so that none pays for the writes of the one before.
import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const sizes = String(opt('sizes', '1024')).split(',').map(Number);
const dir = resolve(opt('dir', '/tmp/respaldo-bench'));
const codec = String(opt('codec', 'zstd'));
const level = opt('level', undefined) === undefined ? undefined : Number(opt('level'));
const cores = execFileSync('nproc').toString().trim();
const multi = args.includes('--multi');
const rounds = Number(opt('rounds', '1'));
/** The run of median time (peak RSS and CPU of that same run). */
const median = (rs) => [...rs].sort((a, b) => a.seconds - b.seconds)[Math.floor((rs.length - 1) / 2)];
const repo = resolve(new URL('..', import.meta.url).pathname);
mkdirSync(dir, { recursive: true });

/** A database of realistic rows (orders with names, addresses, JSON), about `mib` MiB. */
function generate(file, mib) {
  if (existsSync(file) && statSync(file).size >= mib * 1024 * 1024 * 0.97) return;
  rmSync(file, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, email TEXT, address TEXT, status TEXT,
    total_cents INTEGER, created_at TEXT, items TEXT)`);
  const names = [
    'Ana García',
    'Luis Martínez',
    'María López',
    'José Pérez',
    'Carmen Núñez',
    'Jorge Ibáñez',
    'Lucía Gómez',
  ];
  const streets = ['Calle Mayor', 'Avenida de la Paz', 'Plaza España', 'Calle del Sol', 'Paseo Colón'];
  const statuses = ['pendiente', 'pagado', 'enviado', 'entregado', 'devuelto'];
  const ins = db.prepare(
    'INSERT INTO orders (customer, email, address, status, total_cents, created_at, items) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let s = 7;
  const r = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const target = mib * 1024 * 1024;
  let i = 0;
  while (true) {
    db.transaction(() => {
      for (let k = 0; k < 50000; k++, i++) {
        const n = names[Math.floor(r() * names.length)];
        const items = Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({
          sku: `SKU-${Math.floor(r() * 99999)}`,
          qty: 1 + Math.floor(r() * 9),
          price: Math.floor(r() * 10000),
        }));
        ins.run(
          n,
          `${n.split(' ')[0].toLowerCase()}${i}@example.com`,
          `${streets[Math.floor(r() * streets.length)]} ${Math.floor(r() * 200)}, ${10000 + Math.floor(r() * 40000)} Madrid`,
          statuses[Math.floor(r() * statuses.length)],
          Math.floor(r() * 1e6),
          new Date(1.7e12 + i * 60000).toISOString(),
          JSON.stringify(items),
        );
      }
    })();
    const size = db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
    if (size >= target) break;
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Runs a command under /usr/bin/time: wall seconds, peak RSS (KiB), CPU percent. */
function timed(cmd, argv, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M %P', cmd, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('BENCH '));
  if (r.status !== 0 || !line)
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const [, secs, kib, cpu] = line.split(' ');
  return { seconds: Number(secs), peakMiB: Number(kib) / 1024, cpu };
}

function respaldoConfig(name, files, backupDir) {
  const cfg = join(dir, `${name}.json`);
  writeFileSync(
    cfg,
    JSON.stringify({
      backupDir,
      databases: files.map((f, i) => ({ name: `db${i}`, engine: 'sqlite', path: f })),
      compression: { codec, ...(level ? { level } : {}) },
    }),
  );
  return cfg;
}

console.log(
  `respaldo SQLite benchmark: ${codec}${level ? ` level ${level}` : ' (default level)'}, ${dir} (${cores} cores)`,
);
const line = (label, r, peer) =>
  console.log(
    `${label.padEnd(52)} ${r.seconds.toFixed(1).padStart(6)} s  ${peer ? `${(r.seconds / peer.seconds).toFixed(2)}x` : '     '}  peak RSS ${r.peakMiB.toFixed(0)} MiB${r.cpu ? `, CPU ${r.cpu}` : ''}`,
  );
const respaldo = (argv) => timed(process.execPath, [join(repo, 'bin/respaldo.js'), ...argv]);
for (const mib of sizes) {
  const file = join(dir, `bench_${mib}.db`);
  process.stdout.write(`\n== ${mib} MiB database: generating... `);
  generate(file, mib);
  console.log(`${(statSync(file).size / 1048576).toFixed(0)} MiB; ratios are against the zstd pipeline`);
  const out = join(dir, 'baseline.db');
  const clean = () => ['', '.gz', '.zst'].forEach((x) => rmSync(`${out}${x}`, { force: true }));
  const restored = join(dir, 'restored.db');
  const backupDir = join(dir, 'backups');
  const cfg = respaldoConfig(`one_${mib}`, [file], backupDir);
  // Before each timed command: what the one before wrote goes to disk (sync) and the database is read into the
  // page cache, so no command pays for the writes of the one before it or finds the database evicted.
  const settle = () => {
    spawnSync('sync');
    spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
  };
  const runs = { diy: [], pipe: [], ours: [], pipeVerify: [], ourVerify: [], pipeRestore: [], ourRestore: [] };
  for (let round = 0; round < rounds; round++) {
    clean();
    if (round === 0) {
      settle();
      runs.diy.push(timed('bash', ['-c', `sqlite3 "${file}" ".backup '${out}'" && gzip -6 "${out}"`]));
      clean();
    }
    settle();
    runs.pipe.push(
      timed('bash', [
        '-c',
        `sqlite3 "${file}" ".backup '${out}'" && zstd -q -3 -T${cores} --rm "${out}" && md5sum "${out}.zst" >/dev/null && sha256sum "${out}.zst" >/dev/null`,
      ]),
    );
    settle();
    runs.pipeVerify.push(timed('bash', ['-c', `md5sum "${out}.zst" >/dev/null && sha256sum "${out}.zst" >/dev/null`]));
    rmSync(restored, { force: true });
    settle();
    runs.pipeRestore.push(
      timed('bash', [
        '-c',
        `zstd -q -d "${out}.zst" -o "${restored}" && sqlite3 "${restored}" 'PRAGMA integrity_check;' >/dev/null`,
      ]),
    );
    rmSync(restored, { force: true });
    clean();
    rmSync(backupDir, { recursive: true, force: true });
    settle();
    runs.ours.push(respaldo(['create', '--config', cfg, '--no-files', '--json']));
    const setId = execFileSync('ls', [backupDir])
      .toString()
      .split('\n')
      .find((n) => /^\d{8}_/.test(n));
    settle();
    runs.ourVerify.push(respaldo(['verify', setId, '--config', cfg, '--json']));
    settle();
    runs.ourRestore.push(respaldo(['restore', setId, '--config', cfg, '--to', restored, '--yes', '--json']));
    rmSync(restored, { force: true });
    rmSync(backupDir, { recursive: true, force: true });
  }
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
  if (rounds > 1) console.log(`median of ${rounds} rounds (each command once per round, in turn)`);
  line('sqlite3 .backup && gzip -6 (do-it-yourself)', m.diy, m.pipe);
  line(`sqlite3 .backup + zstd -3 -T${cores} + md5sum + sha256sum`, m.pipe);
  line(`respaldo create (${codec}; integrity_check, row counts)`, m.ours, m.pipe);
  line('md5sum + sha256sum of the stored file', m.pipeVerify);
  line('respaldo verify', m.ourVerify, m.pipeVerify);
  line('zstd -d + PRAGMA integrity_check', m.pipeRestore);
  line('respaldo restore --to (verify, integrity, row counts)', m.ourRestore, m.pipeRestore);
  if (multi) {
    const half = Math.max(64, Math.floor(mib / 2));
    const a = join(dir, `bench_${half}_a.db`);
    const b = join(dir, `bench_${half}_b.db`);
    generate(a, half);
    generate(b, half);
    const two = respaldo([
      'create',
      '--config',
      respaldoConfig(`two_${half}`, [a, b], backupDir),
      '--no-files',
      '--json',
    ]);
    line(`respaldo create, a set of 2 x ${half} MiB (200% CPU = both cores)`, two);
    rmSync(backupDir, { recursive: true, force: true });
  }
}

// Benchmark (not a test): respaldo `create` against the do-it-yourself baseline
// `sqlite3 db ".backup x" && gzip -6 x` on the same file, with peak RSS.
// Usage: node scripts/bench-sqlite.mjs [--sizes 256,1024] [--dir /tmp/respaldo-bench] [--level 6] [--multi]
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
const level = Number(opt('level', '6'));
const multi = args.includes('--multi');
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
  const names = ['Ana García', 'Luis Martínez', 'María López', 'José Pérez', 'Carmen Núñez', 'Jorge Ibáñez', 'Lucía Gómez'];
  const streets = ['Calle Mayor', 'Avenida de la Paz', 'Plaza España', 'Calle del Sol', 'Paseo Colón'];
  const statuses = ['pendiente', 'pagado', 'enviado', 'entregado', 'devuelto'];
  const ins = db.prepare('INSERT INTO orders (customer, email, address, status, total_cents, created_at, items) VALUES (?, ?, ?, ?, ?, ?, ?)');
  let s = 7;
  const r = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const target = mib * 1024 * 1024;
  let i = 0;
  while (true) {
    db.transaction(() => {
      for (let k = 0; k < 50000; k++, i++) {
        const n = names[Math.floor(r() * names.length)];
        const items = Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({ sku: `SKU-${Math.floor(r() * 99999)}`, qty: 1 + Math.floor(r() * 9), price: Math.floor(r() * 10000) }));
        ins.run(n, `${n.split(' ')[0].toLowerCase()}${i}@example.com`, `${streets[Math.floor(r() * streets.length)]} ${Math.floor(r() * 200)}, ${10000 + Math.floor(r() * 40000)} Madrid`, statuses[Math.floor(r() * statuses.length)], Math.floor(r() * 1e6), new Date(1.7e12 + i * 60000).toISOString(), JSON.stringify(items));
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
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M %P', cmd, ...argv], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('BENCH '));
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const [, secs, kib, cpu] = line.split(' ');
  return { seconds: Number(secs), peakMiB: Number(kib) / 1024, cpu };
}

function respaldoConfig(name, files, backupDir) {
  const cfg = join(dir, `${name}.json`);
  writeFileSync(cfg, JSON.stringify({ backupDir, databases: files.map((f, i) => ({ name: `db${i}`, engine: 'sqlite', path: f })), compression: { level } }));
  return cfg;
}

console.log(`respaldo SQLite benchmark: gzip level ${level}, ${dir} (${execFileSync('nproc').toString().trim()} cores)`);
for (const mib of sizes) {
  const file = join(dir, `bench_${mib}.db`);
  process.stdout.write(`\n== ${mib} MiB database: generating... `);
  generate(file, mib);
  console.log(`${(statSync(file).size / 1048576).toFixed(0)} MiB`);
  const out = join(dir, 'baseline.db');
  rmSync(out, { force: true });
  rmSync(`${out}.gz`, { force: true });
  const base = timed('bash', ['-c', `sqlite3 "${file}" ".backup '${out}'" && gzip -${level} "${out}"`]);
  const backupDir = join(dir, 'backups');
  rmSync(backupDir, { recursive: true, force: true });
  const ours = timed(process.execPath, [join(repo, 'bin/respaldo.js'), 'create', '--config', respaldoConfig(`one_${mib}`, [file], backupDir), '--no-files', '--json']);
  const stored = statSync(join(backupDir, execFileSync('ls', [backupDir]).toString().split('\n').find((n) => /^\d{8}_/.test(n)), 'databases')).size;
  void stored;
  console.log(`baseline  sqlite3 .backup + gzip -${level}: ${base.seconds.toFixed(1)} s, peak RSS ${base.peakMiB.toFixed(0)} MiB`);
  console.log(`respaldo  create:                     ${ours.seconds.toFixed(1)} s, peak RSS ${ours.peakMiB.toFixed(0)} MiB, CPU ${ours.cpu}`);
  console.log(`ratio     respaldo / baseline:        ${(ours.seconds / base.seconds).toFixed(2)}x (target <= 0.8x)`);
  rmSync(`${out}.gz`, { force: true });
  rmSync(backupDir, { recursive: true, force: true });
  if (multi) {
    const half = Math.max(64, Math.floor(mib / 2));
    const a = join(dir, `bench_${half}_a.db`);
    const b = join(dir, `bench_${half}_b.db`);
    generate(a, half);
    generate(b, half);
    const two = timed(process.execPath, [join(repo, 'bin/respaldo.js'), 'create', '--config', respaldoConfig(`two_${half}`, [a, b], backupDir), '--no-files', '--json']);
    console.log(`respaldo  set of 2 x ${half} MiB:          ${two.seconds.toFixed(1)} s, peak RSS ${two.peakMiB.toFixed(0)} MiB, CPU ${two.cpu} (200% = both cores busy)`);
    rmSync(backupDir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
// Measures a SQLite full backup against an incremental (page deltas) through the real CLI:
// time and stored size of each, after changing 1% of the rows in two ways (rows spread over the
// whole table, and rows grouped at its end, as recent orders are), and the time of restoring the
// chain. Prints figures; not a test.
//
//   node scripts/bench-sqlite-chain.mjs [sizeMiB=300] [folder=a new temp folder]
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'respaldo.js');
const sizeMiB = Number(process.argv[2] ?? 300);
const dir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'respaldo-bench-chain-'));
const dbFile = join(dir, 'orders.db');
const config = join(dir, 'backup_config.json');
writeFileSync(
  config,
  JSON.stringify({
    backupDir: './backups',
    databases: [{ name: 'orders', engine: 'sqlite', path: './orders.db' }],
    files: { config: [], application: [] },
    retention: { keepLast: 10, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
  }),
);

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
const db = new Database(dbFile);
db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL, note TEXT)');
const insert = db.prepare('INSERT INTO orders (customer, amount, note) VALUES (?, ?, ?)');
const note = () => `order note ${Math.random().toString(36).repeat(6)}`.slice(0, 180);
let t = Date.now();
while (statSync(dbFile).size + (statSync(dbFile + '-wal', { throwIfNoEntry: false })?.size ?? 0) < sizeMiB * 1048576) {
  db.transaction(() => {
    for (let i = 0; i < 20000; i++) insert.run(`customer ${i % 5000}`, Math.random() * 1000, note());
  })();
}
db.pragma('wal_checkpoint(TRUNCATE)');
const rows = db.prepare('SELECT count(*) FROM orders').pluck().get();
console.log(
  `database: ${mib(statSync(dbFile).size)}, ${rows} rows (made in ${((Date.now() - t) / 1000).toFixed(1)} s)`,
);

function create(type) {
  const t0 = Date.now();
  const out = execFileSync(
    process.execPath,
    [bin, 'create', '--type', type, '--no-files', '--json', '--config', config],
    { maxBuffer: 1 << 26 },
  );
  const m = JSON.parse(out.toString());
  const e = m.databases[0];
  return {
    id: m.id,
    type: m.type,
    seconds: (Date.now() - t0) / 1000,
    stored: m.totals.storedBytes,
    changed: e.details.changedPages,
    pages: e.details.pageCount,
  };
}
function show(label, r) {
  const pages = r.changed !== undefined ? `, ${r.changed} of ${r.pages} pages changed` : '';
  console.log(
    `${label.padEnd(34)} ${r.type.padEnd(12)} ${r.seconds.toFixed(1).padStart(6)} s  ${mib(r.stored).padStart(10)}${pages}`,
  );
}

const full = create('full');
show('full', full);

const onePercent = Math.round(rows / 100);
const update = db.prepare("UPDATE orders SET amount = amount + 1, note = 'changed ' || note WHERE id = ?");
db.transaction(() => {
  for (let i = 0; i < onePercent; i++) update.run(1 + Math.floor(Math.random() * rows));
})();
db.pragma('wal_checkpoint(TRUNCATE)');
show('incremental: 1% of rows, spread', create('incremental'));

db.transaction(() => {
  const half = Math.round(onePercent / 2);
  for (let i = 0; i < half; i++) update.run(rows - i);
  for (let i = 0; i < half; i++) insert.run('new customer', 1, note());
})();
db.pragma('wal_checkpoint(TRUNCATE)');
const grouped = create('incremental');
show('incremental: 1% of rows, recent', grouped);
show('differential (both changes)', create('differential'));
db.close();

t = Date.now();
const to = join(dir, 'restored.db');
execFileSync(process.execPath, [bin, 'restore', grouped.id, '--to', to, '--yes', '--config', config], {
  maxBuffer: 1 << 26,
});
console.log(`restore of the chain (full + 2 incrementals): ${((Date.now() - t) / 1000).toFixed(1)} s`);
t = Date.now();
execFileSync(
  process.execPath,
  [bin, 'restore', full.id, '--to', join(dir, 'restored-full.db'), '--yes', '--config', config],
  { maxBuffer: 1 << 26 },
);
console.log(`restore of the full alone: ${((Date.now() - t) / 1000).toFixed(1)} s`);
if (!process.argv[3]) rmSync(dir, { recursive: true, force: true });

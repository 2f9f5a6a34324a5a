/**
 * The driver conformance suite (conformance.ts) run for the SQLite driver on real files. The live
 * database is in WAL mode with committed rows only in its -wal after `change`, so a restore killed
 * around its swap must give those rows back (the journals set aside are the swap's first step).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, vi } from 'vitest';
import type { DatabaseConfig } from '../../src/core/types.js';
import { sqliteDriver } from '../../src/drivers/sqlite/index.js';
import { driverConformance, KillSwitch, type DriverUnderTest, type KillPoint, type Killing } from './conformance.js';

let work: string;
let rowsAdded = 0;

function pathOf(db: DatabaseConfig): string {
  return db.path!;
}

function content(file: string): unknown {
  if (!existsSync(file)) return null;
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = conn
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((t) => [t, conn.prepare(`SELECT * FROM "${t.replace(/"/g, '""')}" ORDER BY rowid`).all()]),
    );
  } finally {
    conn.close();
  }
}

/**
 * Commits rows that stay in the -wal: they are written to a copy whose writer holds the WAL open
 * (no checkpoint), and the database with its -wal is copied over the live one.
 */
function changeKeepingWal(file: string): void {
  const side = mkdtempSync(join(work, 'writer-'));
  const copy = join(side, 'db');
  copyFileSync(file, copy);
  const writer = new Database(copy);
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0');
  writer.pragma('wal_checkpoint(TRUNCATE)');
  writer.prepare('INSERT INTO items (v) VALUES (?)').run(`written later ${++rowsAdded}`);
  writer.prepare(`UPDATE "Notes ü" SET n = n || ' (edited)'`).run();
  for (const suffix of ['-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
  copyFileSync(copy, file);
  copyFileSync(`${copy}-wal`, `${file}-wal`);
  writer.close();
  rmSync(side, { recursive: true, force: true });
}

function killing(db: DatabaseConfig, point: KillPoint): Killing {
  const staging = `.${pathOf(db).split('/').pop()}.respaldo-restore-`;
  const ks = new KillSwitch(
    point,
    (op) => op.startsWith('rename '),
    (op) => op.startsWith('rename ') && op.includes(staging),
  );
  const rename = fsp.rename.bind(fsp);
  const rm = fsp.rm.bind(fsp);
  const spies = [
    vi
      .spyOn(fsp, 'rename')
      .mockImplementation((from, to) => ks.call(`rename ${String(from)} ${String(to)}`, () => rename(from, to))),
    vi.spyOn(fsp, 'rm').mockImplementation((path, opts) => ks.call(`rm ${String(path)}`, () => rm(path, opts))),
  ];
  return {
    driver: sqliteDriver,
    killed: ks.killed,
    release: async () => spies.forEach((s) => s.mockRestore()),
  };
}

/** Another process holding the database open (this process's own handles do not count). */
async function holdOpen(db: DatabaseConfig): Promise<() => Promise<void>> {
  const script = [
    `const c = new (require('better-sqlite3'))(process.argv[1]);`,
    `c.prepare('SELECT 1').get(); console.log('ready'); setInterval(() => {}, 1000);`,
  ].join(' ');
  const child = spawn(process.execPath, ['-e', script, pathOf(db)], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
}

const dut: DriverUnderTest = {
  driver: sqliteDriver,
  workDir: () => work,
  async makeDatabase(name) {
    const dir = mkdtempSync(join(work, 'db-'));
    const file = join(dir, `${name}.db`);
    const conn = new Database(file);
    conn.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE "Notes ü" (n TEXT);`);
    const insert = conn.prepare('INSERT INTO items (v) VALUES (?)');
    for (let i = 0; i < 25; i++) insert.run(`row ${i} ☃`);
    conn.prepare(`INSERT INTO "Notes ü" VALUES (?)`).run(`it's "quoted"`);
    conn.close();
    return { name: 'app', engine: 'sqlite', path: file };
  },
  async change(db) {
    changeKeepingWal(pathOf(db));
  },
  async content(db, name) {
    return content(name ?? pathOf(db));
  },
  liveName: (db) => pathOf(db),
  sideName: (db, label) => join(dirname(pathOf(db)), `${label}.db`),
  oddNames: ['with space', `it's "quoted"`, 'ünïcode ☃ 数据', 'MixedCase'],
  async leftovers(db) {
    return readdirSync(dirname(pathOf(db))).filter((n) => n.includes('.respaldo-'));
  },
  killing,
  holdOpen,
  async addBulk(db) {
    const conn = new Database(pathOf(db));
    try {
      conn.exec('CREATE TABLE bulk (id INTEGER PRIMARY KEY, v TEXT)');
      const insert = conn.prepare('INSERT INTO bulk (v) VALUES (?)');
      conn.transaction(() => {
        for (let i = 0; i < 3000; i++) insert.run(`bulk row ${i} `.padEnd(120, 'x'));
      })();
    } finally {
      conn.close();
    }
  },
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'respaldo-conformance-sqlite-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

driverConformance('sqlite (files)', () => dut);

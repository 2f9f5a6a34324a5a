import { existsSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { copySnapshot } from '../src/drivers/sqlite/snapshot.js';
import { startNode, waitFor } from './helpers/cli.js';
import { integrityCheck } from './helpers/sqlite.js';
import { makeTmpDir } from './helpers/tmp.js';

/**
 * The snapshot copied under a read transaction (snapshot.ts), taken again and again while another process
 * commits and checkpoints: every copy must be a database SQLite finds whole, holding whole transactions only.
 */

const ACCOUNTS = 300;
const START = 1000;

/**
 * A writer: transfers between accounts, each one transaction that also logs it (a page-sized row); in WAL mode it
 * checkpoints now and then in each of SQLite's ways (PASSIVE copies frames into the file while readers read,
 * RESTART and TRUNCATE start the WAL over), so the database file and the WAL change under the copy.
 */
const WRITER = `
const Database = require('better-sqlite3');
const [file, mode] = process.argv.slice(1);
const db = new Database(file);
db.pragma('journal_mode = ' + mode);
db.pragma('busy_timeout = 10000');
db.pragma('wal_autocheckpoint = 0');
db.pragma('synchronous = OFF');
const debit = db.prepare('UPDATE accounts SET balance = balance - ? WHERE id = ?');
const credit = db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ?');
const log = db.prepare('INSERT INTO transfers (src, dst, amount, pad) VALUES (?, ?, ?, randomblob(3000))');
const transfer = db.transaction((a, b, x) => { debit.run(x, a); credit.run(x, b); log.run(a, b, x); });
const ways = ['PASSIVE', 'PASSIVE', 'RESTART', 'TRUNCATE'];
let n = 0;
setInterval(() => process.stdout.write('count ' + n + '\\n'), 10);
function loop() {
  for (let i = 0; i < 20; i++) {
    const a = 1 + Math.floor(Math.random() * ${ACCOUNTS});
    const b = 1 + Math.floor(Math.random() * ${ACCOUNTS});
    transfer(a, b, 1 + Math.floor(Math.random() * 50));
    n++;
  }
  if (mode === 'wal' && n % 100 === 0) db.pragma('wal_checkpoint(' + ways[(n / 100) % ways.length] + ')');
  // a rollback-journal writer that never paused would keep readers from ever taking their lock
  if (mode === 'wal') setImmediate(loop); else setTimeout(loop, 2);
}
loop();
`;

function makeBank(file: string, mode: string): void {
  const db = new Database(file);
  db.pragma(`journal_mode = ${mode}`);
  db.exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE transfers (id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER, pad BLOB);
    CREATE INDEX transfers_src ON transfers (src);`);
  db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ACCOUNTS}) INSERT INTO accounts SELECT i, ${START} FROM n`,
  ).run();
  db.close();
}

function facts(file: string): { total: number; accounts: number; transfers: number; moved: number } {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT (SELECT sum(balance) FROM accounts) AS total, (SELECT count(*) FROM accounts) AS accounts,
          (SELECT count(*) FROM transfers) AS transfers,
          (SELECT sum(abs(balance - ${START})) FROM accounts) AS moved`,
      )
      .get() as { total: number; accounts: number; transfers: number; moved: number };
  } finally {
    db.close();
  }
}

/** Keeps a child process that committed `rows` rows in WAL mode with its commits still in the -wal. */
const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('wal_autocheckpoint = 0');
const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
for (let i = 0; i < Number(process.argv[2]); i++) ins.run('r' + i);
process.stdout.write('held\\n');
setInterval(() => {}, 1000);
`;

describe('SQLite snapshot copied under a read transaction', () => {
  for (const mode of ['wal', 'delete']) {
    it(`${mode} mode: each copy taken while another process commits${mode === 'wal' ? ' and checkpoints' : ''} is whole and consistent`, async () => {
      const dir = makeTmpDir();
      const bank = join(dir, 'bank.db');
      makeBank(bank, mode);
      const writer = startNode(['-e', WRITER, bank, mode]);
      let out = '';
      let errOut = '';
      writer.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      writer.stderr!.setEncoding('utf8').on('data', (d: string) => (errOut += d));
      const count = () => Number([...out.matchAll(/count (\d+)/g)].pop()?.[1] ?? 0);
      const seen: number[] = [];
      try {
        await waitFor(() => count() > 300, 'the writer to commit transfers', 30_000);
        for (let i = 0; i < 20; i++) {
          const before = count();
          const snapshot = join(dir, `snap-${i}.db`);
          const conn = new Database(bank, { readonly: true, fileMustExist: true });
          conn.pragma('busy_timeout = 10000');
          let copied;
          try {
            copied = await copySnapshot(conn, bank, snapshot);
          } finally {
            conn.close();
          }
          expect(copied, `copy ${i}`).toMatchObject({ mode });
          expect(existsSync(`${snapshot}-wal`) || existsSync(`${snapshot}-shm`), `copy ${i} side files`).toBe(false);
          expect(statSync(snapshot).mode & 0o777).toBe(0o600);
          expect(statSync(snapshot).size).toBe(copied!.pageCount * copied!.pageSize);
          expect(integrityCheck(snapshot), `copy ${i}`).toEqual(['ok']);
          const f = facts(snapshot);
          // every transfer is whole: money neither made nor lost, and its log row there with it
          expect(f.total, `copy ${i}`).toBe(ACCOUNTS * START);
          expect(f.accounts).toBe(ACCOUNTS);
          seen.push(f.transfers);
          await waitFor(() => count() > before + 40, 'the writer to keep committing', 30_000);
        }
      } finally {
        writer.kill('SIGKILL');
        await new Promise((r) => writer.once('close', r));
      }
      expect(errOut).toBe('');
      // the copies were taken at different moments of the writer's work, each later than the one before
      expect(new Set(seen).size).toBeGreaterThan(10);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    }, 120_000);
  }

  it('a database path that is a symlink: the -wal beside the real file is copied too (its commits are in the copy)', async () => {
    const dir = makeTmpDir();
    mkdirSync(join(dir, 'real'));
    mkdirSync(join(dir, 'link'));
    const real = join(dir, 'real', 'app.db');
    const link = join(dir, 'link', 'app.db');
    const db = new Database(real);
    db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('base')");
    db.close();
    symlinkSync(real, link);
    const holder = startNode(['-e', HOLDER, link, '100']);
    let out = '';
    holder.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await waitFor(() => out.includes('held'), 'the holder to commit', 30_000);
      expect(statSync(`${real}-wal`).size).toBeGreaterThan(0);
      const conn = new Database(link, { readonly: true, fileMustExist: true });
      const snapshot = join(dir, 'snap.db');
      try {
        expect(await copySnapshot(conn, link, snapshot)).toMatchObject({ mode: 'wal' });
      } finally {
        conn.close();
      }
      expect(integrityCheck(snapshot)).toEqual(['ok']);
      const copy = new Database(snapshot, { readonly: true });
      try {
        expect(copy.prepare('SELECT count(*) FROM t').pluck().get()).toBe(101);
      } finally {
        copy.close();
      }
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('close', r));
    }
  });

  it('two copies of one file at once in this process (two config entries naming it): neither is torn', async () => {
    const dir = makeTmpDir();
    const bank = join(dir, 'bank.db');
    makeBank(bank, 'delete');
    // bulk, so that each copy takes a moment
    const db = new Database(bank);
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)');
    db.prepare(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO filler (data) SELECT randomblob(8000) FROM n',
    ).run();
    db.close();
    const writer = startNode(['-e', WRITER, bank, 'delete']);
    let out = '';
    let errOut = '';
    writer.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    writer.stderr!.setEncoding('utf8').on('data', (d: string) => (errOut += d));
    const count = () => Number([...out.matchAll(/count (\d+)/g)].pop()?.[1] ?? 0);
    try {
      await waitFor(() => count() > 100, 'the writer to commit transfers', 30_000);
      for (let round = 0; round < 8; round++) {
        const before = count();
        const copies = ['a', 'b'].map(async (name) => {
          const conn = new Database(bank, { readonly: true, fileMustExist: true });
          conn.pragma('busy_timeout = 10000');
          const snapshot = join(dir, `${name}-${round}.db`);
          try {
            await copySnapshot(conn, bank, snapshot);
          } finally {
            conn.close();
          }
          return snapshot;
        });
        for (const snapshot of await Promise.all(copies)) {
          expect(integrityCheck(snapshot), snapshot).toEqual(['ok']);
          expect(facts(snapshot).total, snapshot).toBe(ACCOUNTS * START);
        }
        await waitFor(() => count() > before + 10, 'the writer to keep committing', 30_000);
      }
    } finally {
      writer.kill('SIGKILL');
      await new Promise((r) => writer.once('close', r));
    }
    expect(errOut).toBe('');
  }, 120_000);
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { inspectWithPageRows, TABLES_SQL } from '../src/drivers/sqlite/inspect.js';
import { PageRowCounter } from '../src/drivers/sqlite/page-rows.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { rowCounts } from './helpers/sqlite.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

/**
 * Row counts read from a SQLite file's b-tree pages as its bytes pass (page-rows.ts) must be SQLite's own
 * count(*) of every table, whatever the page size, the cut of the blocks and the kinds of tables; anything that
 * does not add up gives no counts (the caller then counts with SQL).
 */

/** Rowid tables big and small (overflow pages), a WITHOUT ROWID one, an empty one, indexes, and free pages. */
function makeDb(file: string, pageSize: number, scale = 1): void {
  const db = new Database(file);
  db.pragma(`page_size = ${pageSize}`);
  db.pragma('auto_vacuum = NONE');
  db.exec(`
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total INTEGER, note TEXT);
    CREATE INDEX orders_customer ON orders (customer);
    CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB);
    CREATE TABLE tags (tag TEXT PRIMARY KEY, weight INTEGER) WITHOUT ROWID;
    CREATE TABLE "empty ""one""" (x);
    CREATE TABLE sqliteish (x);
    INSERT INTO sqliteish VALUES (1), (2), (3);
    CREATE TABLE scratch (id INTEGER PRIMARY KEY, pad BLOB);`);
  const n = 3000 * scale;
  db.prepare(
    `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ${n})
     INSERT INTO orders (customer, total, note) SELECT 'cliente ' || (n % 97), n * 7, printf('%.*c', n % 300, 'x') FROM i`,
  ).run();
  db.prepare(
    `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ${40 * scale})
     INSERT INTO blobs (data) SELECT randomblob(3 * ${pageSize} + n) FROM i`,
  ).run();
  db.prepare(
    `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ${2500 * scale})
     INSERT INTO tags SELECT 'etiqueta-' || n || printf('%.*c', n % 50, 'y'), n FROM i`,
  ).run();
  // pages freed by a deleted table and deleted rows stay in the file, as they were: free pages
  db.prepare(
    `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ${500 * scale})
     INSERT INTO scratch (pad) SELECT randomblob(200) FROM i`,
  ).run();
  db.exec('DELETE FROM orders WHERE id % 3 = 0; DROP TABLE scratch;');
  db.close();
}

function roots(file: string): [string, number][] {
  const db = new Database(file, { readonly: true });
  try {
    const names = db.prepare(TABLES_SQL).pluck().all() as string[];
    const root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
    return names.map((n) => [n, root.get(n) as number]);
  } finally {
    db.close();
  }
}

/** Passes `bytes` through a counter in blocks of `block` bytes. */
function counted(bytes: Buffer, block: number): PageRowCounter {
  const counter = new PageRowCounter(bytes.length);
  for (let at = 0; at < bytes.length; at += block) counter.observe(bytes.subarray(at, at + block));
  return counter;
}

describe('PageRowCounter', () => {
  for (const pageSize of [512, 4096, 65536]) {
    it(`pages of ${pageSize} bytes, in blocks of every cut: SQLite's count(*) of every table`, () => {
      const file = join(makeTmpDir(), 'db.sqlite');
      makeDb(file, pageSize);
      const bytes = readFileSync(file);
      const expected = rowCounts(file);
      expect(Object.keys(expected)).toHaveLength(5);
      expect(expected['tags']).toBe(2500);
      // a table whose name starts with "sqlite" is the user's (only "sqlite_" is SQLite's own)
      expect(expected['sqliteish']).toBe(3);
      for (const block of [1 << 20, pageSize, 777, 100_003]) {
        const counter = counted(bytes, block);
        expect(counter.rows(roots(file)), `blocks of ${block}`).toEqual(expected);
        expect(counter.pages).toEqual({ pageSize, pageCount: bytes.length / pageSize });
      }
    });
  }

  it('a file that did not pass whole, or a tree that does not add up: no counts', () => {
    const file = join(makeTmpDir(), 'db.sqlite');
    makeDb(file, 4096);
    const bytes = readFileSync(file);
    const r = roots(file);
    // the last page never came
    const short = new PageRowCounter(bytes.length);
    short.observe(bytes.subarray(0, bytes.length - 4096));
    expect(short.rows(r)).toBeUndefined();
    // not a SQLite file
    expect(counted(Buffer.alloc(8192, 0x5a), 1 << 20).rows(r)).toBeUndefined();
    // a root that is no tree page, or past the end
    expect(counted(bytes, 1 << 20).rows([['orders', bytes.length / 4096 + 1]])).toBeUndefined();
    // an interior page of orders whose first child is its own root: the tree loops
    const orders = r.find(([n]) => n === 'orders')![1];
    const looped = Buffer.from(bytes);
    const page = looped.subarray((orders - 1) * 4096, orders * 4096);
    expect(page[0]).toBe(0x05); // orders' root is an interior page of a table b-tree
    page.writeUInt32BE(orders, page.readUInt16BE(12));
    expect(counted(looped, 1 << 20).rows(r)).toBeUndefined();
  });

  it('a file of more pages than it notes gives no counts, and notes nothing', () => {
    const big = new PageRowCounter(512 * (2 ** 21 + 1));
    const header = Buffer.alloc(512);
    header.write('SQLite format 3\0', 'latin1');
    header.writeUInt16BE(512, 16);
    big.observe(header);
    expect(big.pages).toEqual({ pageSize: 0, pageCount: 0 });
    expect(big.rows([['t', 2]])).toBeUndefined();
  });
});

describe('inspectWithPageRows', () => {
  it('rows from the pages; a virtual table or a file not read to its end: counted with SQL, the same', async () => {
    const dir = makeTmpDir();
    const file = join(dir, 'db.sqlite');
    makeDb(file, 4096, 16); // over 16 MiB: checked off this thread
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(16 << 20);
    const expected = rowCounts(file);
    const pages = await inspectWithPageRows(file, counted(bytes, 1 << 20), Promise.resolve(true));
    expect(pages).toMatchObject({ rowsFrom: 'pages', integrity: ['ok'], tables: expected, pageSize: 4096 });
    const cut = new PageRowCounter(bytes.length);
    cut.observe(bytes.subarray(0, 1 << 20));
    const unread = await inspectWithPageRows(file, cut, Promise.resolve(false));
    expect(unread).toMatchObject({ rowsFrom: 'sql', integrity: ['ok'], tables: expected });

    const db = new Database(file);
    db.exec("CREATE VIRTUAL TABLE notes USING fts5(body); INSERT INTO notes VALUES ('uno'), ('dos');");
    db.close();
    const withFts = readFileSync(file);
    const ftsCounts = rowCounts(file);
    expect(ftsCounts['notes']).toBe(2);
    const virtual = await inspectWithPageRows(file, counted(withFts, 1 << 20), Promise.resolve(true));
    expect(virtual).toMatchObject({ rowsFrom: 'sql', integrity: ['ok'], tables: ftsCounts });
  });

  it('a create of a database over 16 MiB records the rows counted from its pages, and its restore checks them', async () => {
    const dir = makeTmpDir();
    makeDb(join(dir, 'big.db'), 4096, 16);
    const s = writeConfig(dir, { databases: [{ name: 'big', path: './big.db' }], files: undefined }, { demo: false });
    const r = await runCli(['create', '--json', '--config', s.configFile], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(0);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(m.databases[0]!.tables).toEqual(rowCounts(join(dir, 'big.db')));
    const logs = join(s.backupDir, 'logs');
    const log = readdirSync(logs)
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('');
    expect(log).toMatch(/"message":"sqlite snapshot checked"[^\n]*"rowsFrom":"pages"/);
    // the restore counts the restored copy with SQL and compares: the numbers must agree
    const to = join(dir, 'back.db');
    const back = await runCli(['restore', m.id, '--to', to, '--yes', '--config', s.configFile], { cwd: dir });
    expect(back.code, describeResult(back)).toBe(0);
    expect(rowCounts(to)).toEqual(m.databases[0]!.tables);
  });
});

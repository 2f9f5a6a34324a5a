import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli, startNode, waitFor } from './helpers/cli.js';
import { integrityCheck, rowCounts } from './helpers/sqlite.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

const ACCOUNTS = 200;
const START_BALANCE = 1000;
const TOTAL = ACCOUNTS * START_BALANCE;

/** A writer process: random transfers between accounts in WAL mode, each in one transaction. */
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 10000');
const debit = db.prepare('UPDATE accounts SET balance = balance - ? WHERE id = ?');
const credit = db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ?');
const log = db.prepare('INSERT INTO transfers (src, dst, amount, pad) VALUES (?, ?, ?, randomblob(512))');
const transfer = db.transaction((a, b, x) => { debit.run(x, a); credit.run(x, b); log.run(a, b, x); });
let n = 0;
setInterval(() => process.stdout.write('count ' + n + '\\n'), 20);
process.stdout.write('ready\\n');
function loop() {
  for (let i = 0; i < 50; i++) {
    const a = 1 + Math.floor(Math.random() * ${ACCOUNTS});
    const b = 1 + Math.floor(Math.random() * ${ACCOUNTS});
    transfer(a, b, 1 + Math.floor(Math.random() * 50));
    n++;
  }
  setImmediate(loop);
}
loop();
`;

function makeBank(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE transfers (id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER, pad BLOB);
    CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB);`);
  db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ACCOUNTS}) INSERT INTO accounts SELECT i, ${START_BALANCE} FROM n`,
  ).run();
  // some bulk so that a snapshot takes a moment while the writer commits
  db.prepare(
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) INSERT INTO filler (data) SELECT randomblob(16384) FROM n',
  ).run();
  db.close();
}

function bankFacts(file: string): { total: number; accounts: number } {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT sum(balance) AS total, count(*) AS accounts FROM accounts').get() as {
      total: number;
      accounts: number;
    };
  } finally {
    db.close();
  }
}

describe('backup while another process writes in WAL mode', () => {
  it('every snapshot passes integrity_check and keeps the writers’ invariant', async () => {
    const dir = makeTmpDir();
    mkdirSync(join(dir, 'data'));
    const bank = join(dir, 'data', 'bank.db');
    makeBank(bank);
    const s = writeConfig(
      dir,
      { databases: [{ name: 'bank', path: './data/bank.db' }], files: undefined },
      { demo: false },
    );

    const writer = startNode(['-e', WRITER, bank]);
    let out = '';
    let errOut = '';
    writer.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    writer.stderr!.setEncoding('utf8').on('data', (d: string) => (errOut += d));
    const count = () => {
      const all = [...out.matchAll(/count (\d+)/g)];
      return all.length ? Number(all[all.length - 1]![1]) : 0;
    };
    const manifests: Manifest[] = [];
    try {
      await waitFor(() => count() > 200, 'the writer to commit transfers', 30_000);
      for (let i = 0; i < 4; i++) {
        const before = count();
        const r = await runCli(['create', '--json', '--config', s.configFile], { cwd: dir });
        expect(r.code, describeResult(r)).toBe(0);
        manifests.push(parseJsonOutput<Manifest>(r.stdout));
        await waitFor(() => count() > before + 50, 'the writer to keep committing', 30_000);
        expect(writer.exitCode, errOut).toBeNull();
      }
    } finally {
      writer.kill('SIGKILL');
      await new Promise((r) => writer.once('close', r));
    }
    expect(errOut).toBe('');

    const transferCounts = new Set<number>();
    for (const [i, m] of manifests.entries()) {
      expect(m.status).toBe('completed');
      expect(m.databases[0]!.details['integrityCheck']).toBe('ok');
      const to = join(dir, `restored-${i}.db`);
      const r = await runCli(['restore', m.id, '--to', to, '--yes', '--config', s.configFile], { cwd: dir });
      expect(r.code, describeResult(r)).toBe(0);
      expect(integrityCheck(to)).toEqual(['ok']);
      expect(bankFacts(to)).toEqual({ total: TOTAL, accounts: ACCOUNTS });
      const counts = rowCounts(to);
      expect(counts).toEqual(m.databases[0]!.tables);
      transferCounts.add(counts['transfers']!);
    }
    // the snapshots were taken at different moments of the writer's work
    expect(transferCounts.size).toBeGreaterThan(1);
    // and the live database is still consistent after all that
    expect(bankFacts(bank).total).toBe(TOTAL);
  });
});

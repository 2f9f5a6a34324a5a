import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import { sqliteError } from '../src/drivers/sqlite/connection.js';
import { collect, describeResult, runCli, REPO_ROOT, startNode, waitFor } from './helpers/cli.js';
import { leaveHotJournal } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/**
 * A live SQLite database respaldo cannot open read-only: each reason its own message and hint, not SQLite's code
 * with "run integrity_check" (a hot journal, a WAL file whose -shm cannot be made, a lock held past the wait).
 */

function makeDb(file: string, mode: 'wal' | 'delete'): void {
  const db = new Database(file);
  db.pragma(`journal_mode = ${mode}`);
  db.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1), (2)');
  db.close();
}

const sqliteErr = (code: string) => Object.assign(new Error(`sqlite said ${code}`), { code });

function explained(file: string, code: string): RespaldoError {
  const err = sqliteError({ name: 'app', engine: 'sqlite', path: file }, file, sqliteErr(code));
  expect(err).toBeInstanceOf(RespaldoError);
  return err as RespaldoError;
}

describe('a live SQLite database respaldo cannot open', () => {
  it('a hot journal (a writer killed mid-transaction): create says so and how to roll it back, the file untouched', async () => {
    const s = demoSetup();
    const live = s.dbs.inventario;
    leaveHotJournal(live, "UPDATE products SET name = name || ' (half)'");
    const half = readFileSync(live);
    const journal = readFileSync(`${live}-journal`);

    const made = await runCli(['create', '--db', 'inventario', '--no-files', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(7);
    const said = made.stdout + made.stderr;
    expect(said).toContain(`${live} has a hot journal (inventario.db-journal): a process stopped in the middle`);
    expect(said).toContain(`sqlite3 ${live} 'PRAGMA integrity_check' rolls the unfinished transaction back`);
    expect(said).not.toContain('SQLITE_READONLY_ROLLBACK');
    expect(readFileSync(live).equals(half)).toBe(true);
    expect(readFileSync(`${live}-journal`).equals(journal)).toBe(true);

    // as the hint says: opened once read-write, the transaction is rolled back, and the backup runs
    const rw = new Database(live);
    rw.prepare('PRAGMA integrity_check').get();
    expect(rw.prepare("SELECT count(*) FROM products WHERE name LIKE '% (half)'").pluck().get()).toBe(0);
    rw.close();
    expect(existsSync(`${live}-journal`)).toBe(false);
    const ok = await runCli(['create', '--db', 'inventario', '--no-files', '--config', s.configFile], { cwd: s.dir });
    expect(ok.code, describeResult(ok)).toBe(0);
  });

  it('a lock held past the wait: in WAL mode, says the holder has it exclusively and names it; otherwise, the writer', async () => {
    const dir = makeTmpDir();
    const wal = join(dir, 'wal.db');
    const rollback = join(dir, 'rollback.db');
    makeDb(wal, 'wal');
    makeDb(rollback, 'delete');
    const holder = startNode(
      [
        '-e',
        `const D = require('better-sqlite3'); const a = new D(process.argv[1]); a.pragma('locking_mode = EXCLUSIVE');
         a.exec("INSERT INTO t VALUES (3)"); const b = new D(process.argv[2]); b.prepare('SELECT 1 FROM t').get();
         console.log('held'); setInterval(() => {}, 1000);`,
        wal,
        rollback,
      ],
      { cwd: REPO_ROOT },
    );
    try {
      let out = '';
      holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('held'), 'the holder to open both databases');
      const onWal = explained(wal, 'SQLITE_BUSY');
      expect(onWal.message).toBe(
        `SQLite database app is in WAL mode, where readers do not wait for writers, yet another process (pid ${holder.pid} (node)) kept it locked for 10 s: it holds it exclusively (PRAGMA locking_mode=EXCLUSIVE), or a checkpoint or recovery of it has not finished.`,
      );
      expect(onWal.hint).toContain('Back it up while that application is stopped');
      expect(onWal.phrases?.message?.id).toBe('sqlite.lockedWal');
      const onRollback = explained(rollback, 'SQLITE_BUSY_RECOVERY');
      expect(onRollback.message).toBe(`SQLite database app is locked by another process (pid ${holder.pid} (node)).`);
      expect(onRollback.hint).toContain('in WAL mode (PRAGMA journal_mode=WAL) backups do not wait for writers');
    } finally {
      holder.kill('SIGKILL');
      await collect(holder);
    }
  });

  it("a WAL file whose -shm the user cannot make (a folder it cannot write): says so, not SQLite's code alone", () => {
    const dir = makeTmpDir();
    const wal = join(dir, 'wal.db');
    makeDb(wal, 'wal');
    for (const code of ['SQLITE_READONLY_DIRECTORY', 'SQLITE_READONLY_CANTINIT', 'SQLITE_CANTOPEN']) {
      const err = explained(wal, code);
      expect(err.message).toContain(`${wal} is in WAL mode, and SQLite reads such a file only with its -shm and -wal`);
      expect(err.message).toContain(`cannot create or write in ${dir} (${code})`);
      expect(err.hint).toContain("Run respaldo as the application's user");
    }
    // a file in rollback-journal mode that cannot be opened is a matter of its own permissions
    const plain = join(dir, 'plain.db');
    makeDb(plain, 'delete');
    expect(explained(plain, 'SQLITE_CANTOPEN').hint).toBe(
      'Check that the file and its folder are readable by the user running respaldo.',
    );
  });
});

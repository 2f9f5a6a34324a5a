import { copyFileSync, existsSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CollectingReporter } from '../src/core/events.js';
import type { DriverContext } from '../src/drivers/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import type { LoadedConfig } from '../src/core/types.js';
import { findDatabaseLeftovers } from '../src/engine/status.js';
import { describeResult, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

const ctx = (dir: string): DriverContext => ({
  reporter: new CollectingReporter(),
  signal: new AbortController().signal,
  scratchDir: dir,
  log: () => undefined,
});

/**
 * A live WAL-mode database as a crash leaves it: committed rows still only in `-wal` (copied while
 * the writer holds it open, so nothing was checkpointed), and that WAL set aside by a restore that
 * was killed around its swap.
 */
function killedAroundSwap(beforeSwap: boolean) {
  const src = makeTmpDir();
  const dir = makeTmpDir();
  const writer = new Database(join(src, 'app.db'));
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0');
  writer.exec('CREATE TABLE t (v TEXT)');
  writer.pragma('wal_checkpoint(TRUNCATE)');
  writer.prepare('INSERT INTO t VALUES (?)').run('committed, only in the WAL');
  copyFileSync(join(src, 'app.db'), join(dir, 'app.db'));
  copyFileSync(join(src, 'app.db-wal'), join(dir, 'app.db-wal'));
  writer.close();
  renameSync(join(dir, 'app.db-wal'), join(dir, 'app.db-wal.respaldo-aside-4242'));
  if (beforeSwap) writeFileSync(join(dir, '.app.db.respaldo-restore-20261122_101010.tmp'), 'half a restore');
  return { dir, db: { name: 'app', engine: 'sqlite' as const, path: join(dir, 'app.db') } };
}

const rows = (file: string) => {
  const c = new Database(file, { readonly: true });
  try {
    return c.prepare('SELECT v FROM t').all();
  } finally {
    c.close();
  }
};

describe('sqlite recover after a restore killed around its swap', () => {
  it('killed before the swap: the set-aside WAL goes back to the live database, so its committed rows are not lost', async () => {
    const { dir, db } = killedAroundSwap(true);
    const actions = (await sqliteDriver.recover(db, ctx(dir))).map((a) => a.message);
    expect(actions).toEqual([
      `put back ${join(dir, 'app.db-wal')}, set aside by a restore interrupted before its swap`,
      `removed an unfinished restore file ${join(dir, '.app.db.respaldo-restore-20261122_101010.tmp')}`,
    ]);
    expect(rows(db.path)).toEqual([{ v: 'committed, only in the WAL' }]);
  });

  it('killed after the swap: the WAL belongs to the replaced database (kept in the pre_restore set) and is removed', async () => {
    const { dir, db } = killedAroundSwap(false);
    const actions = (await sqliteDriver.recover(db, ctx(dir))).map((a) => a.message);
    expect(actions).toEqual([
      `removed a stale journal set aside by an interrupted restore: ${join(dir, 'app.db-wal.respaldo-aside-4242')}`,
    ]);
    expect(readdirSync(dir).sort()).toEqual(['app.db']);
    expect(existsSync(join(dir, 'app.db-wal'))).toBe(false);
  });
});

describe('a database path that is a symlink: the restore worked beside the file it names', () => {
  it('recover puts the set-aside WAL back beside that file; status lists what is there', async () => {
    const { dir, db } = killedAroundSwap(true);
    const linkDir = makeTmpDir();
    symlinkSync(db.path, join(linkDir, 'app.db'));
    const linked = { ...db, path: join(linkDir, 'app.db') };
    const cfg = { databases: [linked] } as unknown as LoadedConfig;
    const listed = (await findDatabaseLeftovers(cfg))[0]!.leftovers;
    expect(listed).toHaveLength(2);
    expect(listed.join('\n')).toContain(join(dir, '.app.db.respaldo-restore-20261122_101010.tmp'));
    expect(listed.join('\n')).toContain(join(dir, 'app.db-wal.respaldo-aside-4242'));
    const actions = (await sqliteDriver.recover(linked, ctx(dir))).map((a) => a.message);
    expect(actions).toEqual([
      `put back ${join(dir, 'app.db-wal')}, set aside by a restore interrupted before its swap`,
      `removed an unfinished restore file ${join(dir, '.app.db.respaldo-restore-20261122_101010.tmp')}`,
    ]);
    expect(rows(linked.path)).toEqual([{ v: 'committed, only in the WAL' }]);
  });
});

describe('what a killed in-place restore left beside one database', () => {
  it('status lists it; the next create of another database removes it, the live file untouched', async () => {
    const s = demoSetup();
    const made = await runCli(['create', '--json', '--db', 'inventario', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const before = dbDigest(s.dbs.inventario);
    // as a restore killed while writing it leaves it (the name is what recovery goes by)
    const staging = join(dirname(s.dbs.inventario), `.inventario.db.respaldo-restore-20261201_020000.tmp`);
    writeFileSync(staging, Buffer.alloc(64 * 1024, 7));
    const st = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
    expect(st.stdout).toContain(
      `Interrupted restores:\n  inventario: ${staging}: the unfinished copy of a killed restore; the next create or restore removes it`,
    );
    const other = await runCli(['create', '--db', 'users', '--no-files', '--config', s.configFile], { cwd: s.dir });
    expect(other.code, describeResult(other)).toBe(0);
    expect(other.stdout + other.stderr).toContain(`removed an unfinished restore file ${staging}`);
    expect(existsSync(staging)).toBe(false);
    expect(dbDigest(s.dbs.inventario)).toEqual(before);
    expect((await runCli(['status', '--config', s.configFile], { cwd: s.dir })).stdout).not.toContain(
      'Interrupted restores:',
    );
  });
});

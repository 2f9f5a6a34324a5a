import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startNode, waitFor } from './helpers/cli.js';
import { dbDigest, execSql, rowCounts } from './helpers/sqlite.js';
import { readStored, STORED_EXT, writeStored } from './helpers/stored.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

async function create(s: DemoSetup, args: string[] = [], expectCode = 0): Promise<Manifest> {
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json', ...args], expectCode)).stdout);
}

async function sets(s: DemoSetup): Promise<SetSummary[]> {
  return parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
}

const stagingLeftovers = (dir: string) =>
  readdirSync(dir).filter((n) => n.includes('.respaldo-restore-') || n.includes('.respaldo-aside-'));

describe('SQLite driver', () => {
  it('--type schema stores SQL; a side-by-side restore gives the same schema with empty tables', async () => {
    const s = demoSetup();
    const m = await create(s, ['--type', 'schema', '--no-files']);
    expect(m.type).toBe('schema');
    expect(m.files).toEqual([]);
    for (const d of m.databases) {
      expect(d.format).toBe('sqlite-sql');
      expect(d.file).toBe(`databases/${d.name}_${m.id}.sql${STORED_EXT}`);
      const sql = readStored(join(s.backupDir, m.id, d.file!)).toString('utf8');
      expect(sql).toMatch(/CREATE TABLE/);
      expect(sql).not.toMatch(/INSERT/i);
    }
    const usersSql = readStored(join(s.backupDir, m.id, m.databases.find((d) => d.name === 'users')!.file!)).toString(
      'utf8',
    );
    expect(usersSql).toContain('CREATE INDEX users_email');
    expect(usersSql).not.toContain('scrypt$'); // no data, no password hashes

    for (const [name, live] of Object.entries(s.dbs)) {
      const to = join(s.dir, `${name}-schema.db`);
      await cli(s, ['restore', m.id, '--db', name, '--to', to, '--yes']);
      const restored = dbDigest(to);
      expect(restored.schema).toEqual(dbDigest(live).schema);
      expect(Object.values(rowCounts(to)).every((n) => n === 0)).toBe(true);
      expect(Object.keys(restored.tables).length).toBeGreaterThan(0);
    }
  });

  it('an in-place restore of a schema set is refused and the database is unchanged', async () => {
    const s = demoSetup();
    const m = await create(s, ['--type', 'schema']);
    const before = readFileSync(s.dbs.users);
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 9);
    expect(r.stderr).toContain('only the schema');
    expect(readFileSync(s.dbs.users).equals(before)).toBe(true);
    expect((await sets(s)).filter((x) => x.type === 'pre_restore')).toEqual([]);
  });

  it('restore in place is refused while another process holds the database open', async () => {
    const s = demoSetup();
    const m = await create(s);
    execSql(s.dbs.inventario, 'DELETE FROM stock_movements WHERE id > 100');
    const before = dbDigest(s.dbs.inventario);
    const beforeBytes = readFileSync(s.dbs.inventario);
    const holder = startNode([
      '-e',
      `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.prepare('SELECT count(*) FROM products').get(); process.stdout.write('open\\n'); setInterval(() => {}, 1000);`,
      s.dbs.inventario,
    ]);
    const held = collect(holder);
    let out = '';
    holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('open'), 'the holder to open the database');
      const r = await cli(s, ['restore', m.id, '--db', 'inventario', '--yes'], 9);
      expect(r.stderr).toContain('open in another process');
      expect(r.stderr).toContain(`pid ${holder.pid}`);
      expect(r.stderr).toMatch(/hint: Stop the application/);
      // the plan shows it too
      const plan = await cli(s, ['restore', m.id, '--db', 'inventario', '--dry-run'], 9);
      expect(plan.stdout).toContain(`in use by: pid ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
      await held;
    }
    expect(readFileSync(s.dbs.inventario).equals(beforeBytes)).toBe(true);
    expect(dbDigest(s.dbs.inventario)).toEqual(before);
    expect((await sets(s)).filter((x) => x.type === 'pre_restore')).toEqual([]);
    // once the holder is gone the same restore works
    await cli(s, ['restore', m.id, '--db', 'inventario', '--yes']);
    expect(rowCounts(s.dbs.inventario)['stock_movements']).toBe(5000);
  });

  it('a stored database that passes verify but fails integrity_check leaves the target byte-identical', async () => {
    const s = demoSetup();
    const m = await create(s);
    const entry = m.databases.find((d) => d.name === 'auditoria')!;
    const stored = join(s.backupDir, m.id, entry.file!);
    const raw = readStored(stored);
    // damage b-tree pages in the middle of the file (not the header)
    const pageSize = raw.readUInt16BE(16);
    for (let p = 5; p < 12; p++) raw.fill(0xa5, p * pageSize + 8, (p + 1) * pageSize - 8);
    const gz = writeStored(stored, raw);
    const manifestFile = join(s.backupDir, m.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    const e = doc.databases.find((d) => d.name === 'auditoria')!;
    e.md5 = createHash('md5').update(gz).digest('hex');
    e.sha256 = createHash('sha256').update(gz).digest('hex');
    e.storedBytes = gz.length;
    writeFileSync(manifestFile, JSON.stringify(doc, null, 2));
    await cli(s, ['verify', m.id]);

    execSql(s.dbs.auditoria, "DELETE FROM events WHERE action = 'login'");
    const before = readFileSync(s.dbs.auditoria);
    const r = await cli(s, ['restore', m.id, '--db', 'auditoria', '--yes'], 7);
    expect(r.stdout + r.stderr).toMatch(/FAILED\s+auditoria/);
    expect(r.stdout + r.stderr).toMatch(/integrity_check|corrupt|malformed|rows/i);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(readFileSync(s.dbs.auditoria).equals(before)).toBe(true);
    expect(stagingLeftovers(s.dataDir)).toEqual([]);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    // side by side: the same refusal, and no file is left at the --to path
    const to = join(s.dir, 'aud-copy.db');
    await cli(s, ['restore', m.id, '--db', 'auditoria', '--to', to, '--yes'], 7);
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(s.dir).filter((n) => n.includes('respaldo-restore'))).toEqual([]);
  });

  it('a database file that does not exist makes the set partial (exit 4); the others are backed up', async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: [...(c.databases as object[]), { name: 'ghost', path: './data/ghost.db' }],
    }));
    const m = await create(s, [], 4);
    expect(m.status).toBe('partial');
    const ghost = m.databases.find((d) => d.name === 'ghost')!;
    expect(ghost.error?.message).toContain('file not found');
    expect(ghost.error?.message).toContain(join(s.dataDir, 'ghost.db'));
    expect(ghost.file).toBeNull();
    expect(existsSync(join(s.dataDir, 'ghost.db'))).toBe(false);
    for (const d of m.databases.filter((x) => x.name !== 'ghost')) {
      expect(d.error).toBeNull();
      expect(existsSync(join(s.backupDir, m.id, d.file!))).toBe(true);
    }
    expect(m.files.length).toBeGreaterThan(0);
    const listed = await sets(s);
    expect(listed[0]).toMatchObject({ id: m.id, status: 'partial', failedDatabases: ['ghost'] });
    expect(listed[0]!.databases.sort()).toEqual(['auditoria', 'inventario', 'users']);
    // the others restore from it; the failed one is refused with a hint
    await cli(s, ['restore', m.id, '--db', 'users', '--to', join(s.dir, 'u.db'), '--yes']);
    const r = await cli(s, ['restore', m.id, '--db', 'ghost', '--to', join(s.dir, 'g.db'), '--yes'], 9);
    expect(r.stderr).toContain('ghost failed in set');
    // text output says so too
    const text = await cli(s, ['create'], 4);
    expect(text.stdout).toContain('PARTIAL');
    expect(text.stdout).toContain('ghost');
  });

  it('nothing backed up at all is a failure with no set (exit 7)', async () => {
    const s = demoSetup((c) => ({ ...c, databases: [{ name: 'ghost', path: './data/ghost.db' }], files: undefined }));
    const r = await cli(s, ['create'], 7);
    expect(r.stderr).toContain('file not found');
    expect(await sets(s)).toEqual([]);
    // the database's own sentence, then the summary's: one full stop between them
    writeFileSync(join(s.dir, 'data', 'ghost.db'), 'a text file where the database should be, '.repeat(4));
    const junk = await cli(s, ['create'], 7);
    expect(junk.stderr).toMatch(
      /Nothing could be backed up: SQLite database ghost: .*is not a SQLite database\. No set/,
    );
    expect(junk.stderr).not.toContain('..');
  });

  it('SQLite files inside an application folder are stored as snapshots; a databases entry there is skipped with a warning', async () => {
    const s = demoSetup();
    copyFileSync(s.dbs.users, join(s.appDir, 'local-cache.db'));
    writeFileSync(join(s.appDir, 'other.sqlite-wal'), 'wal frames');
    writeFileSync(join(s.appDir, 'other.sqlite-shm'), 'shm');
    writeFileSync(join(s.appDir, 'not-a-db.db'), 'just text that happens to end in .db');
    // a configured database inside the app folder
    copyFileSync(s.dbs.inventario, join(s.appDir, 'inv.db'));
    const s2 = demoSetup((c) => ({
      ...c,
      databases: [...(c.databases as object[]), { name: 'appinv', path: join(s.appDir, 'inv.db') }],
      files: { config: [], application: [{ path: s.appDir }] },
    }));
    const m = await create(s2);
    const rel = m.files.map((f) => f.relative);
    expect(rel).not.toContain('app/inv.db');
    expect(m.warnings.find((w) => w.includes('inv.db'))).toContain('through its databases entry');
    // A -wal/-shm with no database beside it is an ordinary file.
    for (const stored of ['local-cache.db', 'other.sqlite-wal', 'other.sqlite-shm', 'not-a-db.db'])
      expect(rel).toContain(`app/${stored}`);
    expect(m.warnings.filter((w) => w.includes('local-cache.db') || w.includes('other.sqlite'))).toEqual([]);
    expect(m.status).toBe('completed');
    expect(m.databases.find((d) => d.name === 'appinv')!.error).toBeNull();
  });

  it('an in-place restore never replays a stale -wal of the replaced database', async () => {
    const s = demoSetup();
    const m = await create(s);
    const before = dbDigest(s.dbs.users);
    // a writer dies with committed frames still in users.db-wal
    const crash = startNode([
      '-e',
      `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.pragma('wal_autocheckpoint = 0'); db.exec('DELETE FROM users WHERE id > 20'); process.kill(process.pid, 'SIGKILL');`,
      s.dbs.users,
    ]);
    const c = await collect(crash);
    expect(c.signal).toBe('SIGKILL');
    expect(statSync(`${s.dbs.users}-wal`).size).toBeGreaterThan(0);
    await cli(s, ['restore', m.id, '--db', 'users', '--yes']);
    expect(existsSync(`${s.dbs.users}-wal`) && statSync(`${s.dbs.users}-wal`).size > 0).toBe(false);
    expect(stagingLeftovers(s.dataDir)).toEqual([]);
    expect(dbDigest(s.dbs.users)).toEqual(before);
    // the safety copy holds the state with the WAL applied (20 users)
    const safety = (await sets(s)).find((x) => x.type === 'pre_restore')!;
    const shown = parseJsonOutput<Manifest>((await cli(s, ['show', safety.id, '--json'])).stdout);
    expect(shown.databases[0]!.tables!['users']).toBe(20);
  });

  it('an in-place restore of a database whose path is a symlink replaces the file it names: the link stays, the -wal beside the file is set aside', async () => {
    const s = demoSetup();
    const m = await create(s);
    const before = dbDigest(s.dbs.users);
    const realDir = join(s.dir, 'volume');
    mkdirSync(realDir);
    const real = join(realDir, 'users.db');
    renameSync(s.dbs.users, real);
    symlinkSync('../volume/users.db', s.dbs.users);
    // a writer dies with committed frames in the -wal, which SQLite keeps beside the file the link names
    const crash = startNode([
      '-e',
      `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.pragma('wal_autocheckpoint = 0'); db.exec('DELETE FROM users WHERE id > 20'); process.kill(process.pid, 'SIGKILL');`,
      s.dbs.users,
    ]);
    expect((await collect(crash)).signal).toBe('SIGKILL');
    expect(statSync(`${real}-wal`).size).toBeGreaterThan(0);
    await cli(s, ['restore', m.id, '--db', 'users', '--yes']);
    expect(lstatSync(s.dbs.users).isSymbolicLink()).toBe(true);
    expect(readlinkSync(s.dbs.users)).toBe('../volume/users.db');
    expect(dbDigest(real)).toEqual(before);
    expect(existsSync(`${real}-wal`) && statSync(`${real}-wal`).size > 0).toBe(false);
    expect([...stagingLeftovers(s.dataDir), ...stagingLeftovers(realDir)]).toEqual([]);
    const safety = (await sets(s)).find((x) => x.type === 'pre_restore')!;
    const shown = parseJsonOutput<Manifest>((await cli(s, ['show', safety.id, '--json'])).stdout);
    expect(shown.databases[0]!.tables!['users']).toBe(20);
  });

  it('an in-place restore keeps the mode of the file it replaces', async () => {
    const s = demoSetup();
    const m = await create(s);
    chmodSync(s.dbs.users, 0o640);
    await cli(s, ['restore', m.id, '--db', 'users', '--yes']);
    expect(statSync(s.dbs.users).mode & 0o777).toBe(0o640);
  });
});

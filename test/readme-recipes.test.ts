import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { REPO_ROOT, describeResult, runCli, startNode, collect } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import Database from 'better-sqlite3';
import { dbDigest, integrityCheck, leaveHotJournal, rowCounts } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/**
 * The README's "Restoring by hand, without respaldo" recipes, taken from the README text (each is the
 * ```sh block after a `<!-- recipe: NAME -->` marker) and run literally with bash against a set made by
 * the real CLI. Only the variables a recipe assigns on its first lines (SET=…, DB=…) get this test's values.
 */

const SECTION = '## Restoring by hand, without respaldo';

/** The shell block of one recipe, from the README's "Restoring by hand" section. */
function recipe(name: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(SECTION);
  expect(start, `README has a "${SECTION}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + SECTION.length);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const block = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(section);
  expect(block, `"${SECTION}" has a \`<!-- recipe: ${name} -->\` marker followed by a sh block`).not.toBeNull();
  return block![1]!;
}

/**
 * The recipe with the values of the variables it assigns on its first lines replaced by `values`
 * (every one of them must be given, and only those); all other lines are kept as written.
 */
function withValues(script: string, values: Record<string, string>): string {
  const lines = script.split('\n');
  const assigned: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Z_][A-Z0-9_]*)=\S*(\s+#.*)?$/.exec(lines[i]!);
    if (!m) break;
    const name = m[1]!;
    assigned.push(name);
    if (values[name] !== undefined) lines[i] = `${name}='${values[name]!.replace(/'/g, `'\\''`)}'`;
  }
  expect(assigned.sort(), 'the variables the recipe defines on its first lines').toEqual(Object.keys(values).sort());
  return lines.join('\n');
}

function bash(script: string, env: Record<string, string> = {}) {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    cwd: makeTmpDir(),
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function onlySet(backupDir: string): { dir: string; manifest: Manifest } {
  const ids = readdirSync(backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
  expect(ids).toHaveLength(1);
  const dir = join(backupDir, ids[0]!);
  return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest };
}

describe('README: restoring by hand, SQLite', () => {
  test('the check recipe passes on a set made by the CLI and fails on a damaged copy', async () => {
    const s = demoSetup();
    const c = await runCli(['create', '--config', s.configFile]);
    expect(c.code, describeResult(c)).toBe(0);
    const set = onlySet(s.backupDir);
    const ok = bash(withValues(recipe('check'), { SET: set.dir }));
    expect(ok.code, describeResult(ok)).toBe(0);
    for (const d of set.manifest.databases) expect(ok.stdout).toContain(`${d.file}: OK`);

    const damaged = join(makeTmpDir(), 'damaged');
    cpSync(set.dir, damaged, { recursive: true });
    const file = join(damaged, set.manifest.databases[0]!.file!);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(file, bytes);
    const bad = bash(withValues(recipe('check'), { SET: damaged }));
    expect(bad.code, describeResult(bad)).not.toBe(0);
    expect(bad.stdout).toContain(`${set.manifest.databases[0]!.file}: FAILED`);
  });

  test('the SQLite recipe puts the backup in place and keeps the broken file together with its -wal', async () => {
    const s = demoSetup();
    const c = await runCli(['create', '--config', s.configFile]);
    expect(c.code, describeResult(c)).toBe(0);
    const backedUp = dbDigest(s.dbs.users);
    const set = onlySet(s.backupDir);
    const dump = set.manifest.databases.find((d) => d.name === 'users')!.file!;

    // After the backup the application commits more (in WAL mode) and dies: its last commits are only in users.db-wal.
    const app = startNode(
      [
        '--input-type=module',
        '-e',
        `
      import Database from 'better-sqlite3';
      const db = new Database(process.argv[1]);
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec("DELETE FROM users WHERE id > 10; CREATE TABLE after_backup (note TEXT)");
      db.exec("INSERT INTO after_backup VALUES ('late commit')");
      process.kill(process.pid, 'SIGKILL');
    `,
        s.dbs.users,
      ],
      { cwd: REPO_ROOT },
    );
    const died = await collect(app);
    expect(died.signal, describeResult(died)).toBe('SIGKILL');
    expect(existsSync(`${s.dbs.users}-wal`)).toBe(true);

    const r = bash(withValues(recipe('sqlite'), { SET: set.dir, DUMP: dump, DB: s.dbs.users }));
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('ok');
    expect(existsSync(`${s.dbs.users}-wal`), 'no -wal of the broken file beside the restored file').toBe(false);

    // The backup is back, with nothing of the broken file's WAL applied to it.
    expect(dbDigest(s.dbs.users)).toEqual(backedUp);
    expect(integrityCheck(s.dbs.users)).toEqual(['ok']);
    // The broken file kept its -wal under its new name: its last commits are still there.
    expect(existsSync(`${s.dbs.users}.broken-wal`)).toBe(true);
    const broken = rowCounts(`${s.dbs.users}.broken`);
    expect(broken).toMatchObject({ users: 10, after_backup: 1 });
  });
});

describe('README: restoring by hand, SQLite, after a writer died mid-transaction', () => {
  test('the broken file keeps its hot -journal (set aside, not rolled into the restored file)', async () => {
    const s = demoSetup();
    const c = await runCli(['create', '--config', s.configFile]);
    expect(c.code, describeResult(c)).toBe(0);
    const backedUp = dbDigest(s.dbs.inventario);
    const set = onlySet(s.backupDir);
    const dump = set.manifest.databases.find((d) => d.name === 'inventario')!.file!;
    const committed = dbDigest(s.dbs.inventario);
    leaveHotJournal(s.dbs.inventario, "UPDATE products SET name = name || ' (half)'");
    expect(existsSync(`${s.dbs.inventario}-journal`)).toBe(true);

    const r = bash(withValues(recipe('sqlite'), { SET: set.dir, DUMP: dump, DB: s.dbs.inventario }));
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('ok');
    expect(dbDigest(s.dbs.inventario)).toEqual(backedUp);
    // The broken file with its journal rolls back to its last commit, as SQLite would have done.
    expect(existsSync(`${s.dbs.inventario}.broken-journal`)).toBe(true);
    const broken = new Database(`${s.dbs.inventario}.broken`); // read-write: the first read rolls the journal back
    broken.prepare('SELECT count(*) FROM sqlite_master').get();
    broken.close();
    expect(existsSync(`${s.dbs.inventario}.broken-journal`)).toBe(false);
    expect(dbDigest(`${s.dbs.inventario}.broken`)).toEqual(committed);
  });
});

const available = pgAvailable();

describe.skipIf(!available)('README: restoring by hand, PostgreSQL', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test('the PostgreSQL recipe restores into a new database and renames it over the live one', async () => {
    cluster.createDatabase('inventario');
    cluster.psql(
      `CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, stock int NOT NULL);
       INSERT INTO products SELECT g, 'producto ' || g, g % 17 FROM generate_series(1, 500) g;`,
      'inventario',
    );
    const checksum = (db: string) =>
      cluster.psql(`SELECT count(*) || ':' || md5(string_agg(p::text, ',' ORDER BY id)) FROM products p`, db);
    const backedUp = checksum('inventario');
    const dir = makeTmpDir();
    const configFile = join(dir, 'backup_config.json');
    const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/inventario`;
    const files = { config: [], application: [] };
    const databases = [{ name: 'inventario', url }];
    writeFileSync(configFile, JSON.stringify({ backupDir: './backups', databases, files }));
    const c = await runCli(['create', '--config', configFile], { env: { DB_PASSWORD: cluster.password } });
    expect(c.code, describeResult(c)).toBe(0);
    const set = onlySet(join(dir, 'backups'));
    const dump = set.manifest.databases[0]!.file!;

    cluster.psql(`DELETE FROM products WHERE id > 100; UPDATE products SET stock = -1`, 'inventario');
    const damaged = checksum('inventario');
    expect(damaged).not.toBe(backedUp);

    // The operator's role, like most, has no database of its own name (where psql without -d would connect).
    cluster.psql(`CREATE ROLE dba LOGIN SUPERUSER PASSWORD 'dba-pw'`);
    expect(cluster.databases()).not.toContain('dba');
    const env = {
      PATH: `${cluster.binDir}:${process.env['PATH']}`,
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: 'dba',
      PGPASSWORD: 'dba-pw',
    };
    const r = bash(withValues(recipe('postgres'), { SET: set.dir, DUMP: dump, DB: 'inventario' }), env);
    expect(r.code, describeResult(r)).toBe(0);
    expect(checksum('inventario')).toBe(backedUp);
    expect(checksum('inventario_old')).toBe(damaged);
    expect(cluster.databases()).not.toContain('inventario_restored');
  });

  test('the PostgreSQL chain recipe rebuilds an incremental from its chain, checking every file', async () => {
    cluster.createDatabase('ventas');
    cluster.psql(
      `CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL);
       INSERT INTO orders SELECT g, g % 97 FROM generate_series(1, 500) g;
       CREATE TABLE archive (id int PRIMARY KEY, note text NOT NULL);
       INSERT INTO archive SELECT g, 'old ' || g FROM generate_series(1, 500) g;`,
      'ventas',
    );
    const checksum = (db: string) =>
      cluster.psql(
        `SELECT (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o) || ':' ||
                (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM archive a)`,
        db,
      );
    const dir = makeTmpDir();
    const configFile = join(dir, 'backup_config.json');
    const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/ventas`;
    const files = { config: [], application: [] };
    writeFileSync(configFile, JSON.stringify({ backupDir: './backups', databases: [{ name: 'ventas', url }], files }));
    const create = async (type: string) => {
      const c = await runCli(['create', '--type', type, '--json', '--config', configFile], {
        env: { DB_PASSWORD: cluster.password },
      });
      expect(c.code, describeResult(c)).toBe(0);
      return JSON.parse(c.stdout) as Manifest;
    };
    await create('full');
    cluster.psql('UPDATE orders SET amount = -1 WHERE id = 7', 'ventas');
    const inc = await create('incremental');
    // only `orders` is stored in the incremental: `archive` is read from the full
    expect(inc.databases[0]!.extras!.filter((x) => x.role?.startsWith('pgdir:'))).toHaveLength(1);
    const backedUp = checksum('ventas');
    cluster.psql('DELETE FROM archive; UPDATE orders SET amount = 0', 'ventas');
    const damaged = checksum('ventas');

    cluster.psql(`CREATE ROLE dba2 LOGIN SUPERUSER PASSWORD 'dba-pw'`);
    const env = {
      PATH: `${cluster.binDir}:${process.env['PATH']}`,
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: 'dba2',
      PGPASSWORD: 'dba-pw',
    };
    const values = { SET: join(dir, 'backups', inc.id), DUMP: inc.databases[0]!.file!, DB: 'ventas' };
    const r = bash(withValues(recipe('postgres-chain'), values), env);
    expect(r.code, describeResult(r)).toBe(0);
    expect(checksum('ventas')).toBe(backedUp);
    expect(checksum('ventas_old')).toBe(damaged);
  });
});

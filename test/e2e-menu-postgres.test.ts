/**
 * Issue 4: the menu works unchanged on PostgreSQL. The real binary in tmux, against a throwaway
 * cluster: back up from the menu, restore side by side, then in place while a client is connected
 * (the menu shows the session and asks before closing it). The password comes from a `.env`
 * beside the config, as operators keep it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { TmuxScreen } from './helpers/tty.js';

const available = pgAvailable();
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'respaldo.js');
const PASSWORD = `menu pw ${Math.random().toString(36).slice(2, 8)}`;

let cluster: PgCluster;
let dir: string;

const open = (name: string) =>
  TmuxScreen.open(
    `${name}-${process.pid}`,
    `cd ${dir} && env LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${BIN} --config ${join(dir, 'backup_config.json')}; echo EXIT=$?; sleep 60`,
    100,
    32,
  );

/** Option 4, the latest set: returns the screen listing what to restore (inventario already ticked). */
async function restoreLatest(t: TmuxScreen): Promise<string> {
  await t.key('4');
  await t.waitFor('Choose the backup set to restore from');
  await t.key('Enter');
  return t.waitFor('[x] inventario (postgres)');
}

const checksum = (database: string) =>
  cluster.psql(`SELECT count(*) || ':' || md5(string_agg(p::text, ',' ORDER BY id)) FROM pedidos p`, database);

describe.skipIf(!available)('menu end to end on PostgreSQL (real binary in tmux, real cluster)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is missing: build first (npm test does).');
    dir = mkdtempSync(join(tmpdir(), 'respaldo-menu-pg-'));
    cluster = await startPgCluster({ password: PASSWORD });
    cluster.createDatabase('inventario');
    cluster.psql(
      `CREATE TABLE pedidos (id int PRIMARY KEY, cliente text, total numeric(10,2)); INSERT INTO pedidos SELECT g, 'cliente ' || g, g * 1.5 FROM generate_series(1, 500) g; CREATE TABLE clientes (id int PRIMARY KEY, nombre text); INSERT INTO clientes SELECT g, 'nombre ' || g FROM generate_series(1, 20) g;`,
      'inventario',
    );
    writeFileSync(join(dir, '.env'), `DB_PASSWORD=${PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'backup_config.json'),
      JSON.stringify({
        backupDir: 'backups',
        databases: [
          {
            name: 'inventario',
            url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/inventario`,
            globals: true,
          },
        ],
        files: { config: [] },
      }),
    );
  });

  afterAll(async () => {
    TmuxScreen.closeAll();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up, restores side by side, and in place after asking to close the connected session', async () => {
    const t = await open('respaldo-e2e-pg');
    let s = await t.waitFor((x) => x.includes('1. Create backup now') && x.includes('no backups yet'));

    await t.key('1');
    s = await t.waitFor('Start backup');
    expect(s).toContain('[x] inventario');
    await t.key('Enter');
    s = await t.waitFor('Backup finished', 60_000);
    expect(s).toMatch(/Status\s+OK/);
    expect(s).toMatch(/inventario\s+\S+\s+100%.*OK/);
    expect(s).not.toContain(PASSWORD);
    await t.key('Escape');
    await t.waitFor((x) => x.includes('1. Create backup now') && x.includes('1 set'));

    // 4: restore the latest set beside the live database.
    const before = checksum('inventario');
    s = await restoreLatest(t);
    expect(s).toContain('[ ] PostgreSQL roles: create those missing on the server (stored in this set)');
    await t.key('Enter');
    await t.waitFor('Where to restore');
    await t.key('Down');
    await t.waitFor('New path or name');
    await t.type('inventario_check');
    await t.key('Enter');
    s = await t.waitFor('Tables of inventario to restore into the new database');
    expect(s).toMatch(/› \[x\] All tables: the whole database/);
    expect(s).toMatch(/\[ \] public\.pedidos 500 rows/);
    await t.key('Enter');
    s = await t.waitFor('Type RESTORE and press Enter');
    expect(s).toMatch(/Will create inventario → new database "inventario_check"/);
    expect(s).toMatch(/1\. create the empty database "inventario__restore_\d{8}_\d{6}"/);
    expect(cluster.databases()).not.toContain('inventario_check');
    await t.typeWord('RESTORE');
    await t.key('Enter');
    s = await t.waitFor('Restore finished', 60_000);
    expect(s).toContain('OK inventario → inventario_check');
    expect(checksum('inventario_check')).toBe(before);
    await t.key('Escape');
    await t.waitFor('1. Create backup now');

    // In place, with an application connected: the menu shows the session and asks (default no).
    const app = await cluster.client('inventario');
    await app.query(`SET application_name = 'facturacion'`);
    cluster.psql(`UPDATE pedidos SET total = 0 WHERE id <= 10`, 'inventario');
    await restoreLatest(t);
    await t.key('Enter');
    await t.waitFor('Where to restore');
    await t.key('Enter');
    s = await t.waitFor('Close these sessions at the swap?');
    expect(s).toMatch(/inventario \(database "inventario" on .*\): 1 session connected/);
    expect(s).toMatch(/› No: leave them connected/);
    await t.key('Down');
    await t.waitFor(/› Yes: close them/);
    await t.key('Enter');
    s = await t.waitFor('Type RESTORE and press Enter');
    expect(s).toContain('Will replace inventario');
    expect(s).toContain('You chose to close the session connected to inventario at the swap.');
    await t.typeWord('RESTORE');
    await t.key('Enter');
    s = await t.waitFor('Restore finished', 60_000);
    // The outcome names the renamed database (the CLI's rollback advice), not a bare `respaldo restore <set>`.
    expect(s.replace(/\s+/g, ' ')).toMatch(
      /Safety copy of inventario: database inventario__pre_restore_\S+ \(listed in set \d{8}_\d{6}\)/,
    );
    expect(checksum('inventario')).toBe(before);
    // The replaced database is kept, with the change made after the backup.
    const safety = cluster.databases().find((n) => n.startsWith('inventario__pre_restore_'));
    expect(safety).toBeDefined();
    expect(cluster.psql(`SELECT count(*) FROM pedidos WHERE total = 0`, safety)).toBe('10');
    await expect(app.query('SELECT 1')).rejects.toThrow();
    await app.end().catch(() => undefined);

    await t.key('Escape');
    await t.waitFor('1. Create backup now');

    // One table only, beside the live database.
    await restoreLatest(t);
    await t.key('Enter');
    await t.waitFor('Where to restore');
    await t.key('Down');
    await t.waitFor('New path or name');
    await t.type('solo_clientes');
    await t.key('Enter');
    await t.waitFor('[ ] public.clientes 20 rows');
    await t.key('Down');
    await t.key('Space');
    await t.waitFor((x) => /\[x\] public\.clientes/.test(x) && /\[ \] All tables/.test(x));
    await t.key('Enter');
    s = await t.waitFor('Type RESTORE and press Enter');
    expect(s).toMatch(/pg_restore only public\.clientes into/);
    await t.typeWord('RESTORE');
    await t.key('Enter');
    s = await t.waitFor('Restore finished', 60_000);
    expect(s).toContain('OK inventario → solo_clientes');
    expect(
      cluster.psql(`SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'`, 'solo_clientes'),
    ).toBe('clientes');
    expect(cluster.psql(`SELECT count(*) FROM clientes`, 'solo_clientes')).toBe('20');

    await t.key('Escape');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');
  });
});

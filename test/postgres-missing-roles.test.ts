/**
 * A PostgreSQL set whose objects belong to and are granted to roles the server lacks (a new server), restored from a
 * folder destination on the real cluster: the plan names every missing role from the manifest and refuses (exit 7,
 * with the hint pg_restore's failure would have had) before anything is fetched or staged; with the roles stored
 * (`globals: true`) --create-roles then restores it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, plainDump, writePgConfig, type SyncCliResult } from './helpers/pg-cli.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `roles-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;

function run(dir: string, args: string[], code = 0): SyncCliResult {
  const r = pgCli(join(dir, 'backup_config.json'), PASSWORD, args, { cwd: dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(code);
  return r;
}

/** `db` with a table owned by `owner` and another granted to `reader`, backed up to a folder destination. */
function backedUp(db: string, owner: string, reader: string, globals: boolean): { dir: string; m: Manifest } {
  cluster.psql(`CREATE ROLE ${owner} NOLOGIN; CREATE ROLE ${reader} NOLOGIN`);
  cluster.createDatabase(db);
  cluster.psql(
    `CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 50) i;
     ALTER TABLE items OWNER TO ${owner};
     CREATE TABLE prices (id int, price numeric); INSERT INTO prices VALUES (1, 2.5);
     GRANT SELECT ON prices TO ${reader};`,
    db,
  );
  const dir = join(work, db);
  mkdirSync(join(dir, 'nas'), { recursive: true });
  writePgConfig(cluster, dir, [db], {
    source: 'srv1',
    destinations: [{ name: 'nas', type: 'folder', path: './nas' }],
    ...(globals
      ? {
          databases: [
            {
              name: db,
              url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/${db}`,
              globals,
            },
          ],
        }
      : {}),
  });
  const m = run(dir, ['create', '--json']).json as Manifest;
  expect(m.status).toBe('completed');
  expect(m.databases[0]?.details?.['referencedRoles']).toEqual([owner, reader, cluster.user].sort());
  return { dir, m };
}

/** The new server's day: the backup folder, the database and its roles are gone. */
function lose(dir: string, db: string, roles: string[]): void {
  rmSync(join(dir, 'backups'), { recursive: true, force: true });
  cluster.psql(`DROP DATABASE ${db}`);
  cluster.psql(roles.map((r) => `DROP ROLE ${r};`).join(' '));
}

/** What the refused restore left: no database of that name, no staging one, nothing fetched into the backup folder. */
function nothingLeft(dir: string, db: string): void {
  expect(cluster.databases().filter((n) => n.startsWith(db))).toEqual([]);
  const left = existsSync(join(dir, 'backups')) ? readdirSync(join(dir, 'backups')) : [];
  expect(left.filter((n) => n !== 'logs' && n !== '.respaldo.lock')).toEqual([]);
}

describe.skipIf(!available)('PostgreSQL roles the server lacks, found in the plan (live)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-pg-roles-'));
    cluster = await startPgCluster({ password: PASSWORD });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a set that stored no roles: every missing role named before the fetch, exit 7; restored once they exist', () => {
    const { dir, m } = backedUp('stock', 'stock_owner', 'stock_reader', false);
    const before = plainDump(cluster, 'stock');
    lose(dir, 'stock', ['stock_owner', 'stock_reader']);

    const dry = run(dir, ['restore', 'latest', '--from', 'nas', '--db', 'stock', '--dry-run'], 7);
    expect(dry.stdout).toMatch(/REFUSED: Database stock: the backup names 2 role\(s\) this server lacks/);
    expect(dry.stdout).toContain('"stock_owner", "stock_reader"');

    const r = run(dir, ['restore', 'latest', '--from', 'nas', '--db', 'stock', '--yes'], 7);
    expect(r.stderr).toContain('"stock_owner", "stock_reader"');
    expect(r.stderr).toContain('pg_dumpall --globals-only');
    expect(r.stdout).not.toContain(`Set ${m.id} fetched`);
    nothingLeft(dir, 'stock');

    cluster.psql('CREATE ROLE stock_owner NOLOGIN; CREATE ROLE stock_reader NOLOGIN');
    run(dir, ['restore', 'latest', '--from', 'nas', '--db', 'stock', '--yes']);
    expect(plainDump(cluster, 'stock')).toBe(before);
  });

  test('a set that stored its roles: refused with the --create-roles hint, then restored with --create-roles', () => {
    const { dir } = backedUp('ledger', 'ledger_owner', 'ledger_reader', true);
    const before = plainDump(cluster, 'ledger');
    lose(dir, 'ledger', ['ledger_owner', 'ledger_reader']);

    const r = run(dir, ['restore', 'latest', '--from', 'nas', '--db', 'ledger', '--yes'], 7);
    expect(r.stderr).toContain('"ledger_owner", "ledger_reader"');
    expect(r.stderr).toContain('restore again with --create-roles');
    nothingLeft(dir, 'ledger');

    run(dir, ['restore', 'latest', '--from', 'nas', '--db', 'ledger', '--create-roles', '--yes']);
    expect(plainDump(cluster, 'ledger')).toBe(before);
    // Roles the server has already: nothing to refuse, the restore in place goes on.
    run(dir, ['restore', 'latest', '--from', 'nas', '--db', 'ledger', '--yes', '--terminate-connections']);
  });
});

/**
 * What killed restores leave on a real PostgreSQL server, seen by `status` and finished by
 * `create` (through the built CLI): a temporary `__restore_` database, a swap cut between its two
 * renames, and a live database missing with only its safety copy left.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, type SyncCliResult, writePgConfig } from './helpers/pg-cli.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `lo-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;

/** A config folder with one PostgreSQL database `name`. */
function configFor(name: string): string {
  return writePgConfig(cluster, mkdtempSync(join(work, `${name}-`)), [name]);
}

function cli(config: string, args: string[]): SyncCliResult {
  return pgCli(config, PASSWORD, args);
}

function seed(name: string): void {
  cluster.createDatabase(name);
  cluster.psql(`CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 200);`, name);
}

describe.skipIf(!available)('leftovers of interrupted PostgreSQL restores', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-leftovers-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a temporary __restore_ database: status lists it, create drops it and says so', () => {
    seed('uno');
    const config = configFor('uno');
    cluster.createDatabase('uno__restore_20250101_000000');

    const status = cli(config, ['status', '--json']);
    expect(status.code, status.stderr).toBe(EXIT.ok);
    expect(status.json.databaseLeftovers).toEqual([
      {
        database: 'uno',
        engine: 'postgres',
        leftovers: [expect.stringMatching(/temporary database "uno__restore_20250101_000000".*respaldo create/)],
      },
    ]);
    expect(cli(config, ['status']).stdout).toMatch(
      /Interrupted restores:\n {2}uno: temporary database "uno__restore_20250101_000000"/,
    );
    expect(cluster.databases()).toContain('uno__restore_20250101_000000'); // status changed nothing

    const created = cli(config, ['create', '--no-files']);
    expect(created.code, created.stderr + created.stdout).toBe(EXIT.ok);
    expect(created.stderr).toMatch(/finished an interrupted restore: dropped "uno__restore_20250101_000000"/);
    expect(cluster.databases()).not.toContain('uno__restore_20250101_000000');
    expect(cli(config, ['status', '--json']).json.databaseLeftovers[0].leftovers).toEqual([]);
  });

  test('a swap cut between its renames: status says the live database is missing, create puts it back and backs it up', () => {
    seed('dos');
    const config = configFor('dos');
    const before = cluster.psql('SELECT count(*) FROM t', 'dos');
    cluster.psql('ALTER DATABASE dos RENAME TO dos__pre_restore_20250101_000000');
    cluster.createDatabase('dos__restore_20250101_000000');

    const status = cli(config, ['status', '--json']);
    expect(status.json.databaseLeftovers[0].leftovers[0]).toMatch(
      /database "dos" is missing: a restore was interrupted during its swap.*renames it back/,
    );

    const created = cli(config, ['create', '--no-files', '--json']);
    expect(created.code, created.stderr + created.stdout).toBe(EXIT.ok);
    expect(created.stderr).toMatch(/renamed \\"dos__pre_restore_20250101_000000\\" back to \\"dos\\"/);
    expect(created.json.databases[0]).toMatchObject({ name: 'dos', error: null, tables: { 'public.t': 200 } });
    expect(cluster.psql('SELECT count(*) FROM t', 'dos')).toBe(before);
    expect(cluster.databases().filter((n) => n.startsWith('dos__'))).toEqual([]);
  });

  test('live database missing with only a safety copy (dropped or renamed since): create says so, not that a restore was interrupted', () => {
    seed('tres');
    const config = configFor('tres');
    // An earlier restore, run to its end, kept the database it replaced; then a DBA renamed the live one away.
    cluster.createDatabase('tres__pre_restore_20250101_000000');
    cluster.psql('ALTER DATABASE tres RENAME TO tres_old');

    const created = cli(config, ['create', '--no-files']);
    expect(created.code).not.toBe(EXIT.ok);
    const said = created.stderr + created.stdout;
    expect(said).not.toMatch(/restore was interrupted/);
    expect(said).toMatch(/database "tres" does not exist \(dropped or renamed: no interrupted restore explains it\)/);
    expect(said).toMatch(/point the config at its new name/);
    expect(said).toMatch(
      /"tres__pre_restore_20250101_000000".*respaldo restore <its pre_restore set id> --db tres --yes/s,
    );
    expect(said).not.toMatch(/psql -l/);
    expect(cluster.databases()).toEqual(expect.arrayContaining(['tres__pre_restore_20250101_000000', 'tres_old'])); // nothing guessed, nothing renamed

    const status = cli(config, ['status', '--json']);
    const line = status.json.databaseLeftovers[0].leftovers[0];
    expect(line).toMatch(
      /database "tres" is missing, and no interrupted restore explains it: it was dropped or renamed/,
    );
    expect(line).not.toMatch(/restore was interrupted/);
  });

  test('a __restore_ database with a session connected (a restore still running from another config): status says so, create leaves it', async () => {
    seed('cuatro');
    const config = configFor('cuatro');
    const running = 'cuatro__restore_20250101_000000';
    cluster.createDatabase(running);
    const session = await cluster.client(running); // as pg_restore of that restore holds it
    try {
      const status = cli(config, ['status', '--json']);
      expect(status.json.databaseLeftovers[0].leftovers).toEqual([
        `temporary database "${running}" left by an interrupted restore or drill (set 20250101_000000); respaldo create or the next restore or drill of cuatro drops it. It has 1 session(s) connected now: a restore or drill still working on it from another backup folder, config or host is left alone until they end.`,
      ]);
      const created = cli(config, ['create', '--no-files']);
      expect(created.code, created.stderr + created.stdout).toBe(EXIT.ok);
      expect(created.stderr + created.stdout).toContain(`database "${running}" has 1 session(s) connected`);
      expect(created.stderr).not.toContain(`dropped "${running}"`);
      expect(cluster.databases()).toContain(running);
      expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await session.end();
    }
    // once that run is over, the next create drops it
    const after = cli(config, ['create', '--no-files']);
    expect(after.code, after.stderr + after.stdout).toBe(EXIT.ok);
    expect(after.stderr).toMatch(new RegExp(`dropped "${running}"`));
    expect(cluster.databases()).not.toContain(running);
  });

  test('the __restore_ database of the same set with a session connected (that restore running from another config): a restore of the set refuses, dropping nothing', async () => {
    seed('seis');
    const config = configFor('seis');
    const made = cli(config, ['create', '--no-files', '--json']);
    expect(made.code, made.stderr).toBe(EXIT.ok);
    const id = made.json.id as string;
    cluster.psql('INSERT INTO t VALUES (1000)', 'seis');
    const running = `seis__restore_${id}`;
    cluster.createDatabase(running);
    const session = await cluster.client(running); // as pg_restore of that other restore holds it
    try {
      const r = cli(config, ['restore', id, '--db', 'seis', '--yes']);
      expect(r.code, r.stderr + r.stdout).toBe(EXIT.refused);
      expect(r.stderr).toContain(
        `"${running}", which a restore of set ${id} is written into, has 1 session(s) connected`,
      );
      expect(r.stderr).toMatch(/another restore of this set is running\. Nothing was changed\./);
      expect(cluster.databases()).toContain(running);
      expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(cluster.psql('SELECT count(*) FROM t', 'seis')).toBe('201'); // the live database as it was
      expect(cluster.databases().filter((n) => n.startsWith('seis__pre_restore_'))).toEqual([]);
    } finally {
      await session.end();
    }
  });

  test('a leftover the configured login may not drop: create says so (it was only logged), backs up, status still lists it', () => {
    cluster.psql(`CREATE ROLE lowly LOGIN PASSWORD '${PASSWORD}'`);
    cluster.psql('CREATE DATABASE cinco OWNER lowly');
    cluster.psql('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)', 'cinco');
    cluster.psql('ALTER TABLE t OWNER TO lowly', 'cinco');
    const left = 'cinco__restore_20250101_000000';
    cluster.createDatabase(left); // owned by the superuser, as a restore run by another login leaves it
    const url = `postgresql://lowly:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/cinco`;
    const config = writePgConfig(cluster, mkdtempSync(join(work, 'cinco-')), [], {
      databases: [{ name: 'cinco', url }],
    });
    const created = cli(config, ['create', '--no-files']);
    expect(created.code, created.stderr + created.stdout).toBe(EXIT.ok);
    expect(created.stderr).toMatch(
      /could not drop "cinco__restore_\S+", left by an interrupted restore or drill: .*must be owner.*It stays \(respaldo status lists it\)/,
    );
    expect(cluster.databases()).toContain(left);
    expect(cli(config, ['status', '--json']).json.databaseLeftovers[0].leftovers[0]).toContain(left);
  });
});

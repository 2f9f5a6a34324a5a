/**
 * `restore --create-roles` killed outright (SIGKILL) once it made the roles, while pg_restore loads the rows: the
 * roles stay on the server (nothing drops them: by then an application may log in with one), and respaldo names
 * them. `status` (and its `--json`: `createdRoles`) lists them with the `DROP ROLE` to run; the next restore of that
 * database that completes says them once more and forgets them. Real cluster, real CLI, a real kill -9.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const PASSWORD = `rk-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

describe.skipIf(!available)('restore --create-roles killed with SIGKILL after it made the roles', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgroleskill-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('status names the roles it made and how to drop them; the next completed restore forgets them', async () => {
    cluster.psql('CREATE ROLE cajero NOLOGIN');
    cluster.createDatabase('caja');
    cluster.psql(
      `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 600000) g;
       ALTER TABLE t OWNER TO cajero;`,
      'caja',
    );
    const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/caja`;
    const doc = { backupDir: './backups', databases: [{ name: 'caja', url, globals: true, jobs: 1 }] };
    const config = join(work, 'backup_config.json');
    writeFileSync(config, JSON.stringify({ ...doc, files: { config: [], application: [] } }));
    const env = { DB_PASSWORD: PASSWORD, PATH: `${process.env.PATH}:${cluster.binDir}` };
    const cli = (args: string[]) => runCli([...args, '--config', config], { cwd: work, env });
    const made = await cli(['create', '--json']);
    expect(made.code, describeResult(made)).toBe(EXIT.ok);
    const id = parseJsonOutput<Manifest>(made.stdout).id;
    cluster.psql('DROP DATABASE caja');
    cluster.psql('DROP ROLE cajero');

    const args = ['restore', id, '--db', 'caja', '--to', 'caja_nueva', '--create-roles', '--yes', '--config', config];
    const child = startCli(args, { cwd: work, env });
    const ended = collect(child, 120_000);
    await waitFor(
      async () => (await cluster.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY public.t %'")).length > 0,
      'pg_restore loading the rows (the roles made before it)',
      120_000,
    );
    child.kill('SIGKILL');
    expect((await ended).signal).toBe('SIGKILL');
    expect(cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'cajero'").trim()).toBe('1');

    const status = await cli(['status']);
    expect(status.stdout.replace(/\s+/g, ' ')).toMatch(
      new RegExp(
        `caja: "cajero" on 127\\.0\\.0\\.1:${cluster.port} \\(set ${id}, [^)]+\\); if unwanted: DROP ROLE "cajero";`,
      ),
    );
    const json = await cli(['status', '--json']);
    expect(parseJsonOutput<{ createdRoles: unknown[] }>(json.stdout).createdRoles).toMatchObject([
      { database: 'caja', setId: id, roles: ['cajero'], dropSql: 'DROP ROLE "cajero";' },
    ]);

    // Run again: it completes (the role is there now), says the roles once more and forgets them.
    const again = await cli(['restore', id, '--db', 'caja', '--to', 'caja_nueva', '--create-roles', '--yes']);
    expect(again.code, describeResult(again)).toBe(EXIT.ok);
    expect(again.stderr.replace(/\s+/g, ' ')).toContain(
      `roles "cajero" on 127.0.0.1:${cluster.port}, created by a restore of set ${id} that was killed`,
    );
    expect(parseJsonOutput<{ createdRoles: unknown[] }>((await cli(['status', '--json'])).stdout).createdRoles).toEqual(
      [],
    );
    expect(existsSync(join(work, 'backups', '.created-roles'))).toBe(false);
  }, 240_000);
});

/**
 * The PostgreSQL server restarted (pg_ctl restart -m fast) while pg_restore loads the rows: the restore fails
 * (exit 7), and what it made for itself is removed on a new session once the server is back, not left behind because
 * the session that made it died with the server: the temporary `<name>__restore_<set>` database, and the roles
 * `--create-roles` created; and the hint says the server restarted (or, a server process killed, that it ended the
 * restore's sessions and recovered) and the restore can run again, not "Is the server running?". Real cluster, real
 * CLI.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const PASSWORD = `rst-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

const env = () => ({ DB_PASSWORD: PASSWORD, PATH: `${process.env.PATH}:${cluster.binDir}` });

describe.skipIf(!available)('the server restarted under a restore: the restore cleans up once it is back', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgrestart-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('no temporary database and no created role is left after the restart', async () => {
    cluster.psql('CREATE ROLE cajero NOLOGIN');
    cluster.createDatabase('caja');
    cluster.psql(
      `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) || md5((g + 1)::text) FROM generate_series(1, 1500000) g;
       ALTER TABLE t OWNER TO cajero;`,
      'caja',
    );
    const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/caja`;
    const doc = {
      backupDir: './backups',
      databases: [{ name: 'caja', url, globals: true, jobs: 1 }],
      files: { config: [], application: [] },
    };
    const config = join(work, 'backup_config.json');
    writeFileSync(config, JSON.stringify(doc));
    const cli = (args: string[]) => runCli([...args, '--config', config], { cwd: dirname(config), env: env() });
    const made = await cli(['create', '--json']);
    expect(made.code, describeResult(made)).toBe(EXIT.ok);
    const m = parseJsonOutput<Manifest>(made.stdout);
    // The new server's day: the role is missing, so --create-roles makes it for this restore.
    cluster.psql('DROP DATABASE caja');
    cluster.psql('DROP ROLE cajero');

    const restoring = cli(['restore', m.id, '--db', 'caja', '--to', 'caja_nueva', '--create-roles', '--yes']);
    await waitFor(
      async () => (await cluster.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY public.t %'")).length > 0,
      'pg_restore loading the rows',
      120_000,
    );
    cluster.pause();
    cluster.start();
    const r = await restoring;
    expect(r.code, describeResult(r)).toBe(EXIT.failed);
    expect(r.stdout + r.stderr).not.toMatch(/could not drop/);
    // The hint says what happened (a restart, the server up again), not to check whether the server runs.
    expect(r.stderr).not.toMatch(/Is the (PostgreSQL )?server/);
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(
      /hint: The server at 127\.0\.0\.1:\d+ restarted \(up again since [^)]+\) while the restore ran, which ended its sessions: the restore stopped there and nothing was changed \(the temporary database was dropped\)\. Run the same restore again\./,
    );
    expect(cluster.databases().filter((d) => d.startsWith('caja'))).toEqual([]);
    expect(cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'cajero'").trim()).toBe('0');
    // The roles dropped again: no record of them is left for status.
    expect(existsSync(join(work, 'backups', '.created-roles'))).toBe(false);

    // A server process killed (kill -9) under pg_restore: the server ends every session and recovers, its start time
    // unchanged. The restore stops; the hint says the server ended its sessions and is back, not "Is it running?".
    const again = cli(['restore', m.id, '--db', 'caja', '--to', 'caja_nueva', '--create-roles', '--yes']);
    const copying = await waitFor(
      async () =>
        (
          await cluster.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY public.t %'")
        )[0],
      'pg_restore loading the rows again',
      120_000,
    );
    process.kill(copying.pid, 'SIGKILL');
    const crashed = await again;
    expect(crashed.code, describeResult(crashed)).toBe(EXIT.failed);
    expect(crashed.stderr).not.toMatch(/Is the (PostgreSQL )?server/);
    expect(crashed.stderr.replace(/\s+/g, ' ')).toMatch(
      /hint: The server at 127\.0\.0\.1:\d+ ended every session of the restore \(a server process crashed and the server recovered, or the sessions were terminated\) and takes connections again: the restore stopped there and nothing was changed/,
    );
    expect(cluster.databases().filter((d) => d.startsWith('caja'))).toEqual([]);
  }, 240_000);
});

/**
 * A set whose tables live in a tablespace the restoring server lacks (a new server, or one rebuilt without it): the
 * restore fails before anything is made (exit 7), and its hint names the tablespace and how to create it, instead of
 * "Read pg_restore's own message above". Real cluster, real CLI.
 */
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const PASSWORD = `tsp-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

describe.skipIf(!available)('a tablespace the restoring server lacks', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgts-'));
    chmodSync(work, 0o755); // the server's own user reaches its tablespace folder
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the restore stops (exit 7) with a hint naming the tablespace; nothing is left', async () => {
    const folder = join(work, 'rapido');
    mkdirSync(folder);
    const owner = statSync(cluster.dataDir);
    chownSync(folder, owner.uid, owner.gid);
    cluster.psql(`CREATE TABLESPACE rapido LOCATION '${folder}'`);
    cluster.createDatabase('almacen');
    cluster.psql(
      'CREATE TABLE stock (id int PRIMARY KEY, n int) TABLESPACE rapido; INSERT INTO stock SELECT g, g FROM generate_series(1, 100) g;',
      'almacen',
    );
    const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/almacen`;
    const config = join(work, 'backup_config.json');
    writeFileSync(
      config,
      JSON.stringify({ backupDir: './backups', databases: [{ name: 'almacen', url }], files: { config: [] } }),
    );
    const env = { DB_PASSWORD: PASSWORD, PATH: `${process.env.PATH}:${cluster.binDir}` };
    const cli = (args: string[]) => runCli([...args, '--config', config], { cwd: dirname(config), env });
    const made = await cli(['create', '--json']);
    expect(made.code, describeResult(made)).toBe(EXIT.ok);
    const m = parseJsonOutput<Manifest>(made.stdout);
    // This server loses the tablespace, as a new server never had it.
    cluster.psql('DROP DATABASE almacen');
    cluster.psql('DROP TABLESPACE rapido');

    const r = await cli(['restore', m.id, '--db', 'almacen', '--to', 'almacen_nuevo', '--yes', '--json']);
    expect(r.code, describeResult(r)).toBe(EXIT.failed);
    const out = parseJsonOutput<{ databases: { name: string; error: string; hint: string }[] }>(r.stdout);
    expect(out.databases[0]!.error).toContain('Tablespace "rapido" does not exist');
    expect(out.databases[0]!.hint).toMatch(
      /^The backup puts tables in the tablespace "rapido", which this server lacks.*CREATE TABLESPACE "rapido" LOCATION/,
    );
    expect(cluster.databases().filter((d) => d.startsWith('almacen'))).toEqual([]);
  });
});

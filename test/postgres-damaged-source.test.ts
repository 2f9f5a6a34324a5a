/**
 * The nightly backup after a table's file was damaged on the server: the database is not stored, the error quotes
 * the server, and the hint says the data is damaged and to restore the last good set (not "read pg_dump's message");
 * `restore latest` still picks the set made before the damage. Real cluster (its relation file overwritten while it is
 * stopped), real CLI.
 */
import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const PASSWORD = `dm-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;

describe.skipIf(!available)('a PostgreSQL table whose file is damaged', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pg-damaged-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('create fails naming the damage and what to do; the set made before it stays latest', async () => {
    cluster.createDatabase('inventario');
    cluster.psql(
      "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) g;",
      'inventario',
    );
    const config = join(work, 'backup_config.json');
    writeFileSync(
      config,
      JSON.stringify({
        backupDir: './backups',
        databases: [
          {
            name: 'inventario',
            url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/inventario`,
          },
        ],
      }),
    );
    const cli = (args: string[]) =>
      runCli([...args, '--config', config], { cwd: work, env: { DB_PASSWORD: PASSWORD } });
    const good = await cli(['create', '--no-files', '--json']);
    expect(good.code, describeResult(good)).toBe(0);
    const goodId = parseJsonOutput<Manifest>(good.stdout).id;

    // The file of items, its second page's header overwritten while the server is stopped
    const file = join(cluster.dataDir, cluster.psql("SELECT pg_relation_filepath('items')", 'inventario').trim());
    cluster.pause();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(24, 0xde), 0, 24, 8192);
    closeSync(fd);
    cluster.start();

    const bad = await cli(['create', '--no-files']);
    expect(bad.code, describeResult(bad)).toBe(EXIT.failed);
    const out = bad.stdout + bad.stderr;
    expect(out).toMatch(/invalid page in block 1 of relation/);
    expect(out).toContain('hint: The server found damaged data in database "inventario"');
    expect(out).toContain('restore the newest set that holds it without error');
    expect(out).not.toContain("Read pg_dump's own message");

    const listed = parseJsonOutput<SetSummary[]>((await cli(['list', '--json'])).stdout);
    expect(listed.map((s) => s.id)).toEqual([goodId]);
    const plan = await cli(['restore', 'latest', '--db', 'inventario', '--to', 'inventario_check', '--dry-run']);
    expect(plan.code, describeResult(plan)).toBe(0);
    expect(plan.stdout).toContain(`latest is set ${goodId}`);
  });
});

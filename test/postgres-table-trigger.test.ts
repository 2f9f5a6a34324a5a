/**
 * `restore --table T` where T has a trigger whose function writes to a table that is not selected (an audit log):
 * pg_restore makes the trigger after the data, so the load never fires it, but the new database lacks what it
 * wrote and every write to T there fails. The restore says so, naming the trigger and the table. Real cluster,
 * real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import { tablesNamedIn } from '../src/drivers/postgres/toc.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const PASSWORD = `trg-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

describe('tablesNamedIn', () => {
  const leftOut = [
    { schema: 'public', table: 'audit' },
    { schema: 'ventas', table: 'Libro' },
  ];
  test.each([
    ['INSERT INTO public.audit(id) VALUES (NEW.id)', [], ['public.audit']],
    ['INSERT INTO audit VALUES (NEW.id)', [], ['public.audit']],
    ['INSERT INTO "ventas"."Libro" VALUES (1)', [], ['ventas.Libro']],
    ['UPDATE auditoria SET n = n + 1', [], []],
    ['INSERT INTO otro.audit VALUES (1)', [], []],
    // An unqualified name that a restored table also has is that table.
    ['INSERT INTO audit VALUES (1)', [{ schema: 'otro', table: 'audit' }], []],
  ])('%s', (source, restored, expected) => {
    expect(tablesNamedIn(source, leftOut, restored).map((t) => `${t.schema}.${t.table}`)).toEqual(expected);
  });
});

describe.skipIf(!available)('restore --table of a table whose trigger writes to a table not restored', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgtrigger-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the restore warns, naming the trigger, its function and the table it writes', async () => {
    cluster.createDatabase('caja');
    cluster.psql(
      `CREATE TABLE venta (id int PRIMARY KEY, total numeric);
       CREATE TABLE registro (at timestamptz DEFAULT now(), venta int);
       CREATE TABLE cliente (id int PRIMARY KEY);
       CREATE FUNCTION anota() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN INSERT INTO public.registro(venta) VALUES (NEW.id); RETURN NEW; END $$;
       CREATE TRIGGER venta_anota AFTER INSERT ON venta FOR EACH ROW EXECUTE FUNCTION anota();
       INSERT INTO venta SELECT g, g * 10 FROM generate_series(1, 50) g;
       INSERT INTO cliente VALUES (1);`,
      'caja',
    );
    const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/caja`;
    const config = join(work, 'backup_config.json');
    writeFileSync(
      config,
      JSON.stringify({
        backupDir: './backups',
        databases: [{ name: 'caja', url }],
        files: { config: [], application: [] },
      }),
    );
    const env = { DB_PASSWORD: PASSWORD, PATH: `${process.env.PATH}:${cluster.binDir}` };
    const cli = (args: string[]) => runCli([...args, '--config', config], { cwd: work, env });
    const made = await cli(['create', '--json']);
    expect(made.code, describeResult(made)).toBe(EXIT.ok);
    const id = parseJsonOutput<Manifest>(made.stdout).id;

    const r = await cli(['restore', id, '--db', 'caja', '--table', 'public.venta', '--to', 'caja_ventas', '--yes']);
    expect(r.code, describeResult(r)).toBe(EXIT.ok);
    expect(r.stderr.replace(/\s+/g, ' ')).toContain(
      'trigger venta_anota on public.venta runs public.anota(), which names public.registro, not restored: what it wrote there for these rows is not in "caja_ventas"',
    );
    // The load did not fire it; the warning is about what the new database lacks.
    expect(cluster.psql('SELECT count(*) FROM venta', 'caja_ventas')).toBe('50');

    // A selection whose triggers write nothing outside it: no such warning.
    const quiet = await cli(['restore', id, '--db', 'caja', '--table', 'public.cliente', '--to', 'caja_cli', '--yes']);
    expect(quiet.code, describeResult(quiet)).toBe(EXIT.ok);
    expect(quiet.stderr).not.toMatch(/trigger/);
  }, 120_000);
});

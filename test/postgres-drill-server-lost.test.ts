/**
 * A drill whose PostgreSQL server cannot go on is a drill that did not run, never a set called bad: exit 7, nothing
 * recorded in `drilled.json`, `status --check` healthy. Two ways of it on a real cluster: the disk the scratch
 * database is written on fills under pg_restore ("could not extend file …: No space left on device", its tablespace
 * on a small tmpfs while the server's data folder has room, so no refusal stops it first), and the server shut down
 * while the drill counts the restored rows (after pg_restore ended; the count held on a lock until the server stops).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { RespaldoError } from '../src/core/errors.js';
import type { ProgressEvent } from '../src/core/events.js';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import { runDrill } from '../src/engine/drill.js';
import { describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';

const available = pgAvailable();
const PASSWORD = `lost-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

function configFor(name: string): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/${name}`;
  const doc = { backupDir: './backups', databases: [{ name, url }], files: { config: [], application: [] } };
  writeFileSync(join(dir, 'backup_config.json'), JSON.stringify(doc));
  return join(dir, 'backup_config.json');
}

const env = () => ({ DB_PASSWORD: PASSWORD, PATH: `${process.env.PATH}:${cluster.binDir}` });

async function cli(config: string, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', config], { cwd: dirname(config), env: env() });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

function seed(name: string, rows: number): void {
  cluster.createDatabase(name);
  cluster.psql(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, ${rows}) g;`,
    name,
  );
}

describe.skipIf(!available)('a drill whose PostgreSQL server cannot go on did not run (exit 7), never FAILED', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pglost-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    unmountAllSmallDisks();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the disk of the scratch database fills under pg_restore ("could not extend file"): stopped, not FAILED', async (ctx) => {
    const problem = tmpfsProblem();
    if (problem) {
      if (process.env['CI']) throw new Error(`CI must mount a tmpfs: ${problem}`);
      return ctx.skip();
    }
    seed('llena', 300_000);
    const config = configFor('llena');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    // New databases (CREATE DATABASE … TEMPLATE template0) go to a tablespace on a 24 MB disk: template0 and the
    // scratch database's copy of it fit, its ~30 MB of rows do not. The server's own data disk has room: no refusal.
    const disk = mountSmallDisk(join(work, 'small'), 24 << 20);
    const owner = statSync(cluster.dataDir);
    chmodSync(work, 0o755); // the server's own user reaches its tablespace folder
    mkdirSync(join(disk.dir, 'ts'));
    chownSync(disk.dir, owner.uid, owner.gid);
    chownSync(join(disk.dir, 'ts'), owner.uid, owner.gid);
    cluster.psql(`CREATE TABLESPACE small LOCATION '${join(disk.dir, 'ts')}'`);
    cluster.psql('ALTER DATABASE template0 SET TABLESPACE small');
    let r: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli(config, ['drill', m.id], EXIT.failed);
    } finally {
      cluster.psql('ALTER DATABASE template0 SET TABLESPACE pg_default');
    }
    expect(r.stderr).toMatch(/could not extend file .*No space left on device/);
    expect(r.stderr).toContain(
      `The drill of set ${m.id} stopped (the disk of llena's server filled during its scratch restore)`,
    );
    expect(r.stdout + r.stderr).not.toMatch(/drill FAILED|FAILED\s+llena/);
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
    expect((await cli(config, ['status', '--check'])).stdout).toMatch(/^healthy/);
    expect(cluster.databases().filter((d) => d.startsWith('llena__'))).toEqual([]);
    // With room again the same set drills OK.
    const again = parseJsonOutput<{ ok: boolean }>((await cli(config, ['drill', m.id, '--json'])).stdout);
    expect(again.ok).toBe(true);
  });

  test('the server shut down while the drill counts the restored rows: stopped, not FAILED, nothing recorded', async () => {
    seed('contada', 50_000);
    const config = configFor('contada');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const cfg = await loadConfig({ configPath: config, env: { DB_PASSWORD: PASSWORD } });
    // A session on the scratch database, connected while pg_restore still loads it; when the drill says it counts
    // the rows, it locks the table, so the count waits on it until the server is shut down.
    let locker: pg.Client | null = null;
    let connecting = false;
    let locked: Promise<unknown> | null = null;
    const watch = setInterval(() => {
      if (connecting) return;
      const scratch = cluster.databases().find((d) => d.startsWith('contada__'));
      if (!scratch) return;
      connecting = true;
      void cluster.client(scratch).then((c) => {
        c.on('error', () => undefined);
        locker = c;
      });
    }, 20);
    const reporter = {
      emit: (e: ProgressEvent) => {
        if (e.type === 'item-progress' && JSON.stringify(e).includes('step.counting') && !locked) {
          if (!locker) throw new Error('no session on the scratch database before the counts');
          locked = locker.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE').catch((err: unknown) => err);
        }
      },
    };
    const path = process.env.PATH;
    process.env.PATH = env().PATH;
    let err: unknown;
    const drilled = runDrill(cfg, m.id, {}, reporter).catch((e: unknown) => e);
    try {
      const counting = async () =>
        locked !== null &&
        (
          await cluster.query(
            // the counts' statement (a UNION ALL of a count of each table since 5119889)
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT % count(*)::bigint AS n FROM ONLY %'",
          )
        ).length > 0;
      await waitFor(counting, 'the row count waiting on the lock', 120_000);
      cluster.pause(); // as a server shut down under the drill
      err = await drilled;
    } finally {
      clearInterval(watch);
      process.env.PATH = path;
      await (locker as pg.Client | null)?.end().catch(() => undefined);
      if (!cluster.running()) cluster.start();
    }
    expect(err).toBeInstanceOf(RespaldoError);
    const e = err as RespaldoError;
    expect(e.details?.['drillNotRun'], e.message).toBe(true);
    expect(e.message).toContain(`The drill of set ${m.id} stopped (contada's server could not be used any more)`);
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
    const status = await cli(config, ['status', '--check']);
    expect(status.stdout).toMatch(/^healthy/);
    // its scratch database, left on the stopped server, is dropped by the next drill, which passes
    const again = parseJsonOutput<{ ok: boolean }>((await cli(config, ['drill', m.id, '--json'])).stdout);
    expect(again.ok).toBe(true);
    expect(cluster.databases().filter((d) => d.startsWith('contada__'))).toEqual([]);
  });
});

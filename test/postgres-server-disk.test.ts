/**
 * A restore needs room on the database server's disk for a whole new database (built beside the one it replaces,
 * which stays as the safety copy). When the server runs on this machine respaldo sees that disk, and refuses before
 * anything is written a restore that would fill it: filled, PostgreSQL cannot write its WAL and stops every session
 * and restarts (as the test shows when the operator lifts the refusal). The live database stays as it was. A real
 * cluster whose data folder is on a small disk (a tmpfs, mounted as CI's root can); elsewhere the live test skips
 * with one loud line. `serverDisk` alone, for a server it cannot see, is checked without a server.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PgConnection } from '../src/drivers/postgres/config.js';
import { serverDisk } from '../src/drivers/postgres/restore.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/cli.js';
import { pgCli, plainDump, writePgConfig } from './helpers/pg-cli.js';

const PASSWORD = `disk-${Math.random().toString(36).slice(2, 10)}`;

/** A connection to `host` (none: the default Unix socket). */
const conn = (host?: string): PgConnection => ({ ...(host ? { host } : {}), database: 'x', params: {} });

describe('serverDisk: a server whose disk respaldo cannot see is not judged', () => {
  const answering = (row: Record<string, unknown>) => ({
    query: async () => ({ rows: [row] }),
    end: async () => undefined,
  });
  test('a server reached on another host: not asked at all', async () => {
    const client = {
      query: async () => {
        throw new Error('asked');
      },
      end: async () => undefined,
    };
    expect(await serverDisk(client, conn('db.example.com'))).toBeNull();
    expect(await serverDisk(client, conn('10.0.0.5,127.0.0.1'))).toBeNull();
  });
  test('a role that may not read data_directory, a data folder not on this machine, a process that is not its server', async () => {
    const refused = {
      query: async () => {
        throw new Error('permission denied to examine "data_directory"');
      },
      end: async () => undefined,
    };
    expect(await serverDisk(refused, conn('127.0.0.1'))).toBeNull();
    // a server in a container behind a forwarded port: its data folder is not here
    const elsewhere = answering({ pid: process.pid, dir: '/var/lib/postgresql/data-not-here' });
    expect(await serverDisk(elsewhere, conn('localhost'))).toBeNull();
    // the folder exists here, but the process serving the connection is not a postgres here (this test's node)
    const notItsServer = answering({ pid: process.pid, dir: tmpdir() });
    expect(await serverDisk(notItsServer, conn())).toBeNull();
  });
});

let cluster: PgCluster | undefined;
let mnt = '';
let work = '';
/** Without a tmpfs or a cluster: skipped here, a failure in CI (it runs as root, and must run these). */
function skipOrFail(ctx: { skip: () => void }): void {
  if (process.env['CI']) throw new Error('CI must mount a tmpfs and start PostgreSQL for the server-disk tests.');
  ctx.skip();
}

let mounted = false;

describe.skipIf(!pgAvailable())('PostgreSQL restore onto a server whose disk has no room for it (live)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pg-disk-'));
    mnt = mkdtempSync(join(tmpdir(), 'respaldo-pg-small-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=320m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      if (process.env['CI']) throw new Error('CI must be able to mount a tmpfs (it runs as root).');
      console.log(`SKIPPED PostgreSQL server-disk test: cannot mount a tmpfs here (${(err as Error).message}).`);
      return;
    }
    chmodSync(mnt, 0o755); // the cluster's own user makes its folder there
    cluster = await startPgCluster({ password: PASSWORD, under: mnt });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    if (mounted) execFileSync('umount', [mnt]);
    for (const d of [work, mnt]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /**
   * Database `name` on the cluster (a table of `rows` rows, indexed when `index`), its application folder with a
   * config (`extra` over writePgConfig's), and a first set made of it.
   */
  function appWith(name: string, rows: number, opts: { index?: boolean; extra?: Record<string, unknown> } = {}) {
    const pg = cluster!;
    pg.createDatabase(name);
    pg.psql(
      `CREATE TABLE items AS SELECT i, md5(i::text) || repeat('x', 80) AS body FROM generate_series(1, ${rows}) i;` +
        (opts.index ? ' CREATE INDEX ON items (i);' : ''),
      name,
    );
    const dir = join(work, name);
    mkdirSync(dir);
    const config = writePgConfig(pg, dir, [name], opts.extra);
    const cli = (args: string[]) => pgCli(config, PASSWORD, args, { cwd: dir });
    const made = cli(['create', '--json']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    return { pg, dir, cli, setId: (made.json as { id: string }).id };
  }

  /** Fills the small disk (with `file`, on it) so that `bytes` stay free. */
  function leaveFree(bytes: number, file = join(mnt, 'filler')): void {
    const st = statfsSync(mnt);
    writeFileSync(file, Buffer.alloc(st.bavail * st.bsize - bytes));
  }

  test('a restore that would fill the server disk is refused before anything is written; lifted, it fails and the live database stays', async (ctx) => {
    if (!mounted || !cluster) return skipOrFail(ctx);
    // About 37 MB once restored: the set stores a few MB of it.
    const { pg, dir, cli, setId } = appWith('users', 180000, { index: true });
    /** The dry run's plan; a plan that refuses exits 9. */
    const plan = (code = 0) => {
      const r = cli(['restore', 'latest', '--db', 'users', '--dry-run', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(code);
      return r.json as {
        warnings: string[];
        refusals: { kind: string; database: string | null; message: string }[];
        databases: { state: { disk?: Record<string, unknown> } }[];
      };
    };
    /** The databases named users…, or none while the server does not answer. */
    const databases = (): string[] => {
      try {
        return pg
          .psql("SELECT datname FROM pg_database WHERE datname LIKE 'users%' ORDER BY 1")
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    };

    // Room enough: the disk is seen (the cluster's data folder, on the small disk), nothing said.
    const roomy = plan();
    expect(roomy.databases[0]!.state.disk).toMatchObject({ path: pg.dataDir, server: true });
    expect(roomy.warnings.join('\n')).not.toMatch(/restoring needs about/);
    expect(roomy.refusals).toEqual([]);

    // Then the disk filled to 6 MB free: refused before anything is written, with the figures and the folder.
    leaveFree(6 << 20);
    const before = plainDump(pg, 'users');
    const short = plan(9);
    expect(short.refusals).toHaveLength(1);
    expect(short.refusals[0]).toMatchObject({ kind: 'no-room', database: 'users' });
    expect(short.refusals[0]!.message).toMatch(
      new RegExp(
        `^users: restoring needs about \\d+(\\.\\d)? MB on the database server's disk \\(${pg.dataDir}\\), ` +
          `which has \\d+(\\.\\d)? MB free\\. Filled, the server would stop every session and restart`,
      ),
    );
    const refused = cli(['restore', 'latest', '--db', 'users', '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(9);
    expect(refused.stderr).toMatch(/hint: Free space on that disk .* run the restore with --ignore-free-space \(CLI\)/);
    expect(databases()).toEqual(['users']);
    // A drill, which restores into a scratch database on the same server, does not run either (it proves nothing of
    // the set: not recorded as a failed drill).
    const drill = cli(['drill', 'latest']);
    expect(drill.code, drill.stdout + drill.stderr).toBe(9);
    expect(drill.stderr).toMatch(/^respaldo: users: restoring needs about .* on the database server's disk/m);
    expect(drill.stderr).toMatch(/hint: Free space on that disk, or drill on a server with room \(`drill\.server`/);
    expect(existsSync(join(dir, 'backups', setId, 'drilled.json'))).toBe(false);
    const logs = join(dir, 'backups', 'logs');
    const log = readdirSync(logs)
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('');
    expect(log).toMatch(/"event":"drill-end".*"outcome":"not-run".*restoring needs about/);
    expect(databases()).toEqual(['users']);

    // Lifted by the operator: the restore fills the disk, the server stops every session and restarts (what the
    // refusal spares), the live database stays as it was; the next restore, with room, completes.
    const forced = cli(['restore', 'latest', '--db', 'users', '--yes', '--ignore-free-space']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(7);
    expect(forced.stdout + forced.stderr).toMatch(/restoring all the same \(--ignore-free-space\)/);
    // Which write fails first is the server's: a data file (an error) or the WAL (a PANIC that ends every session,
    // pg_restore's with it): both said as its disk filling.
    expect(forced.stdout + forced.stderr).toMatch(/The database server ran out of disk space/);
    rmSync(join(mnt, 'filler'));
    // PostgreSQL restarts itself after the PANIC; when its recovery found the disk still full (the filler goes only
    // now), it gave up and stopped, and is started again here, as an operator would have to.
    await waitFor(() => databases().includes('users') || !pg.running(), 'the server answering, or stopped', 60_000);
    if (!databases().includes('users') && !pg.running()) pg.start();
    await waitFor(() => databases().includes('users'), 'the server accepting connections again', 60_000);
    expect(plainDump(pg, 'users')).toBe(before);
    const again = cli(['restore', 'latest', '--db', 'users', '--yes']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(plainDump(pg, 'users')).toBe(before);
    expect(databases().filter((n) => n.startsWith('users__restore_'))).toEqual([]);
  });

  test('a staging database another restore is still filling (sessions on it) is not counted as room recovery frees', async (ctx) => {
    if (!mounted || !cluster) return skipOrFail(ctx);
    const { pg, cli } = appWith('shop', 120000);
    // A restore of shop run from another config or host (the folder lock does not reach it): its staging database,
    // with its session on it. Recovery leaves such a database alone (planPgRecovery: in-use).
    const other = 'shop__restore_20260101_000000';
    pg.createDatabase(other);
    pg.psql(`CREATE TABLE t AS SELECT repeat('y', 200) AS body FROM generate_series(1, 60000) i;`, other);
    const session = await pg.client(other);
    try {
      const plan = (code: number) => {
        const r = cli(['restore', 'latest', '--db', 'shop', '--dry-run', '--json']);
        expect(r.code, r.stdout + r.stderr).toBe(code);
        return r.json as {
          refusals: { kind: string }[];
          databases: { estimatedRestoredBytes: number }[];
        };
      };
      const needed = plan(0).databases[0]!.estimatedRestoredBytes;
      // Free: a few MB short of what the restore needs, far less than it plus the staging database in use.
      leaveFree(needed - (3 << 20), join(mnt, 'filler-shop'));
      try {
        expect(plan(9).refusals.map((r) => r.kind)).toEqual(['no-room']);
      } finally {
        rmSync(join(mnt, 'filler-shop'));
      }
    } finally {
      await session.end();
      pg.psql(`DROP DATABASE "${other}"`);
    }
  });

  test("a backup whose folder is on the server's data disk, short of what the last set needed, is refused", (ctx) => {
    if (!mounted || !cluster) return skipOrFail(ctx);
    const backups = join(mnt, 'backups-stock');
    const { cli } = appWith('stock', 150000, { extra: { backupDir: backups } });
    const sets = () => readdirSync(backups).filter((n) => /^\d{8}_\d{6}/.test(n));
    expect(sets()).toHaveLength(1);

    // The disk then left with less than the staged dump of the last set took: refused before anything is written.
    leaveFree(4 << 20);
    try {
      const refused = cli(['create']);
      expect(refused.code, refused.stdout + refused.stderr).toBe(9);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^respaldo: Not backing up: the backup folder ${backups} is on the disk the PostgreSQL server of stock ` +
            `writes its data on, which has \\S+ MB free; this backup is estimated to need about \\S+ MB \\(what the ` +
            `last full set, \\S+, stored \\(\\S+ \\S+\\), with the database snapshots and dump files written ` +
            `beside it, and a fifth to spare\\)\\.`,
          'm',
        ),
      );
      expect(refused.stderr).toMatch(/hint: .* run respaldo create --ignore-free-space\./);
      expect(sets()).toHaveLength(1);
      expect(readdirSync(backups).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    } finally {
      rmSync(join(mnt, 'filler'));
    }
    const again = cli(['create']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(sets()).toHaveLength(2);
  });

  test('what a killed backup left in the folder is not counted against the next one: removed first, not refused', (ctx) => {
    if (!mounted || !cluster) return skipOrFail(ctx);
    const backups = join(mnt, 'backups-ware');
    const { cli } = appWith('ware', 150000, { extra: { backupDir: backups } });
    // A backup killed (kill -9, a power cut) while it wrote: its staging folder takes the room the next one needs.
    const leftover = join(backups, '.tmp-20260101_000000');
    mkdirSync(leftover);
    leaveFree(4 << 20, join(leftover, 'ware.dump'));
    const next = cli(['create']);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(existsSync(leftover)).toBe(false);
  });
});

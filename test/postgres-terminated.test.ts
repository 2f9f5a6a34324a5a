/**
 * A pg_dump whose session the server terminates (pg_terminate_backend) is reported with the
 * server's own reason, not as "is the server running?": real cluster, real CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import { resolveConnection } from '../src/drivers/postgres/config.js';
import { hintForStderr, sessionEndedBy } from '../src/drivers/postgres/plan.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'bin/respaldo.js');
const PASSWORD = `tb-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;

describe('sessionEndedBy / hintForStderr: the server says why it ended a session', () => {
  const conn = resolveConnection({ name: 'x', engine: 'postgres', url: 'postgresql://u@db1:5432/x' });
  test.each([
    [
      'pg_dump: error: query failed: FATAL:  terminating connection due to administrator command\nserver closed the connection unexpectedly',
      /pg_terminate_backend\(\).*shut down/,
    ],
    [
      'pg_dump: error: Dumping the contents of table "t" failed: PQgetCopyData() failed.\npg_dump: detail: Error message from server: ERROR:  could not extend file "base/1/2": No space left on device',
      /ran out of disk space/,
    ],
    [
      'pg_dump: error: could not write to output file: No space left on device\npg_dump: error: a worker process died unexpectedly',
      /disk pg_dump writes the dump to is full: the backup folder's/,
    ],
    ['FATAL:  terminating connection due to idle-in-transaction timeout', /idle_in_transaction_session_timeout/],
    ['FATAL:  terminating connection due to conflict with recovery', /standby/],
    ['FATAL:  terminating connection because of crash of another server process', /crashed/],
  ])('%s', (stderr, hint) => {
    expect(sessionEndedBy(stderr)?.hint).toMatch(hint);
    expect(hintForStderr(stderr, { tool: 'pg_dump', conn })).toMatch(hint);
    expect(hintForStderr(stderr, { tool: 'pg_dump', conn })).not.toMatch(/Is the PostgreSQL server/);
  });
  test('a refused connection still asks whether the server runs', () => {
    expect(sessionEndedBy('could not connect to server: Connection refused')).toBeNull();
    expect(
      hintForStderr('connection to server at "db1", port 5432 failed: Connection refused', { tool: 'pg_dump', conn }),
    ).toMatch(/running/);
  });
  test('the lock-wait timeout keeps its own hint', () => {
    const s =
      'pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout\npg_dump: detail: Query was: LOCK TABLE public.t IN ACCESS SHARE MODE';
    expect(hintForStderr(s, { tool: 'pg_dump', conn })).toMatch(/lockWaitTimeout/);
  });
});

describe.skipIf(!available)('pg_dump terminated by the server (live)', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-terminated-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('pg_terminate_backend on the dump session: the error quotes the server and names the cause', async () => {
    cluster.createDatabase('victima');
    cluster.psql('CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100);', 'victima');
    const config = join(work, 'backup_config.json');
    writeFileSync(
      config,
      JSON.stringify({
        backupDir: './backups',
        databases: [
          {
            name: 'victima',
            url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/victima`,
          },
        ],
        files: { config: [], application: [] },
        retention: { keepLast: 3, daily: 7, weekly: 4, monthly: 6, yearly: 1 },
        schedule: { jobs: [] },
      }),
    );
    // Hold the table so pg_dump waits in its LOCK TABLE, where its session is easy to find.
    const holder = await cluster.client('victima');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
    const child = spawn(process.execPath, [BIN, 'create', '--no-files', '--config', config], {
      env: { ...process.env, DB_PASSWORD: PASSWORD, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      let pid: number | undefined;
      for (const deadline = Date.now() + 60_000; pid === undefined && Date.now() < deadline;) {
        const rows = await cluster.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = 'victima' AND wait_event_type = 'Lock' AND query ILIKE 'LOCK TABLE%'`,
        );
        pid = rows[0]?.pid;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(pid, `pg_dump never waited on the lock:\n${output}`).toBeDefined();
      await cluster.query('SELECT pg_terminate_backend($1)', 'postgres', [pid]);
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end().catch(() => undefined);
    }
    const code = await exited;
    expect(code, output).toBe(EXIT.failed);
    expect(output).toMatch(/terminating connection due to administrator command/);
    expect(output).toMatch(/pg_terminate_backend\(\)/);
    expect(output).not.toMatch(/Is the PostgreSQL server at .* running and reachable/);
  });
});

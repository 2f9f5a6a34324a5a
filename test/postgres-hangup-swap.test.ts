/**
 * A dropped SSH connection (the terminal closed: SIGHUP) at the moment of a PostgreSQL restore's swap, with the
 * built CLI in a real terminal (tmux) and a real server: the swap is held on the catalog (a session holding
 * pg_database locked, as a busy server can) until the restore waits on it, the terminal is closed then, and the
 * catalog let go. The live database is then either the old one or the restored one, never missing nor half: here
 * the restored one (the renames under way are finished, the signal is checked before the swap only), the old one
 * kept as the safety copy and listed in a pre_restore set, which `status` names; nothing left over.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from './helpers/cli.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, writePgConfig } from './helpers/pg-cli.js';
import { startRecordedInTmux, type RecordedTtySession } from './helpers/tty.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `hu-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;
const sessions: RecordedTtySession[] = [];

describe.skipIf(!available)('SIGHUP during a PostgreSQL restore’s swap', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-hangup-swap-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    for (const s of sessions) s.closeTerminal();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the terminal closed while the swap waits: the live database is the old or the new one; status says so', async () => {
    cluster.createDatabase('tres');
    // Large enough that pg_restore runs for a while after the temporary database is made.
    cluster.psql('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000000);', 'tres');
    const dir = mkdtempSync(join(work, 'tres-'));
    const config = writePgConfig(cluster, dir, ['tres']);
    const made = pgCli(config, PASSWORD, ['create', '--no-files', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const setId = (made.json as { id: string }).id;
    // The live database moves on: 1 000 100 rows; the set has 1 000 000.
    cluster.psql('INSERT INTO t SELECT generate_series(1000001, 1000100);', 'tres');

    process.env['DB_PASSWORD'] = PASSWORD;
    const holder = await cluster.client('postgres');
    // The live database's row of the catalog held (as a busy server can): the swap's rename of it waits there.
    await holder.query('BEGIN');
    await holder.query("SELECT 1 FROM pg_database WHERE datname = 'tres' FOR UPDATE");
    const tty = startRecordedInTmux(['restore', setId, '--yes', '--config', config], dir);
    sessions.push(tty);
    // The restore reached the swap: its step is on the screen and its rename waits on the catalog.
    await tty.waitForScreen('swapping "tres"', 60_000).catch(async (e: unknown) => {
      const w = await holder.query(
        'SELECT pid, wait_event_type, wait_event, state, left(query, 120) AS q FROM pg_stat_activity WHERE pid <> pg_backend_pid()',
      );
      throw new Error(`${String(e)}\n${tty.screen()}\n${JSON.stringify(w.rows, null, 1)}`);
    });
    await waitFor(
      async () => {
        const r = await holder.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'ALTER DATABASE%RENAME%'",
        );
        return (r.rows[0] as { n: number }).n > 0 ? true : null;
      },
      'the swap to wait on the catalog',
      60_000,
      20,
    );
    tty.closeTerminal();
    await holder.query('COMMIT');
    await holder.end();
    const end = await tty.ended(120_000);
    // Stopped by the hang-up (re-raised once the run ended), not by a crash.
    expect(end).toEqual({ code: null, signal: 'SIGHUP' });

    // The renames were under way: they are finished, never cut between them (the run checks the signal before the
    // swap, never inside it). The live database is the restored one, the old one kept as the safety copy.
    const dbs = cluster.databases();
    expect(dbs, 'the live database is there').toContain('tres');
    expect(Number(cluster.psql('SELECT count(*) FROM t', 'tres').trim())).toBe(1_000_000);
    const safety = dbs.filter((d) => d.startsWith('tres__pre_restore_'));
    expect(safety).toHaveLength(1);
    expect(Number(cluster.psql('SELECT count(*) FROM t', safety[0]).trim())).toBe(1_000_100);
    expect(dbs.filter((d) => d.includes('__restore_'))).toEqual([]);
    // The log and status say it: the restore ended OK, its safety copy listed in a pre_restore set; nothing left over.
    const logDir = join(dir, 'backups', 'logs');
    const log = readdirSync(logDir)
      .map((f) => readFileSync(join(logDir, f), 'utf8'))
      .join('');
    expect(log).toMatch(/"event":"restore-end"[^\n]*"outcome":"ok"/);
    const status = pgCli(config, PASSWORD, ['status']);
    expect(status.code, status.stderr).toBe(0);
    const json = pgCli(config, PASSWORD, ['status', '--json']).json as {
      safetySets: string[];
      leftovers: string[];
      lock: { held: boolean };
    };
    expect(json.safetySets).toHaveLength(1);
    expect(status.stdout).toContain(`Safety sets: ${json.safetySets[0]} (pre_restore)`);
    expect(json.leftovers).toEqual([]);
    expect(json.lock.held).toBe(false);
    const shown = pgCli(config, PASSWORD, ['show', json.safetySets[0]!]);
    expect(shown.stdout).toContain(safety[0]);
  }, 300_000);
});

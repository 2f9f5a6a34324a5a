/**
 * The progress of a PostgreSQL create and restore, recorded on a real cluster: the bytes done of a database never go
 * backwards. After the dump (or the pg_restore) has read its bytes, the steps that follow (the row counts, the swap
 * of a restore in place) are named, with the bytes kept where they were: the menu's bar and the CLI's line dropped
 * to 0 B there. Its end says the bytes stored of all its files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter, type ProgressEvent } from '../src/core/events.js';
import type { LoadedConfig } from '../src/core/types.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { FakeReporter } from './helpers/reporter.js';

const available = pgAvailable();
const PASSWORD = `steps-pw-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

type Progress = Extract<ProgressEvent, { type: 'item-progress' }>;

/** The bytes of `item`'s progress events, in order, each with its step. */
function steps(reporter: FakeReporter, item: string): Progress[] {
  return reporter.ofType('item-progress').filter((e) => e.item === item);
}

/** Where the bytes done of `events` went down (none when they never do). */
function drops(events: Progress[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < events.length; i++)
    if (events[i]!.bytes < events[i - 1]!.bytes)
      out.push(
        `${events[i - 1]!.bytes} (${events[i - 1]!.message ?? '-'}) → ${events[i]!.bytes} (${events[i]!.message ?? '-'})`,
      );
  return out;
}

async function config(name: string, db: Record<string, unknown>): Promise<LoadedConfig> {
  const dir = join(work, name);
  const configFile = join(work, `${name}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      backupDir: `${dir}/backups`,
      databases: [
        {
          name: 'ventas',
          url: `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/ventas`,
          ...db,
        },
      ],
    }),
  );
  return loadConfig({ configPath: configFile, env: { DB_PASSWORD: PASSWORD } });
}

describe.skipIf(!available)('PostgreSQL progress: bytes never go back, the last steps are named', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgsteps-'));
    cluster = await startPgCluster({ password: PASSWORD });
    cluster.createDatabase('ventas');
    cluster.psql(
      `CREATE TABLE big (id int PRIMARY KEY, body text);
       INSERT INTO big SELECT i, md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 30000) i;
       CREATE TABLE small (id int PRIMARY KEY, v text);
       INSERT INTO small VALUES (1, 'one');`,
      'ventas',
    );
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('create: the dump, then its row counts named at its bytes, then the roles counting on', async () => {
    const cfg = await config('create', { jobs: 1, globals: true });
    const created = new FakeReporter();
    const m = await createBackup(cfg, { databases: ['ventas'], files: false }, created);
    expect(m.status).toBe('completed');
    expect(m.databases[0]!.extras?.some((x) => x.role === 'globals')).toBe(true);
    const made = steps(created, 'ventas');
    expect(made.length).toBeGreaterThan(0);
    expect(drops(made), JSON.stringify(made)).toEqual([]);
    const counting = made.filter((e) => e.message === 'checking row counts');
    expect(counting.length, JSON.stringify(made)).toBe(1);
    expect(counting[0]!.bytes).toBeGreaterThanOrEqual(m.databases[0]!.rawBytes);
    // Its end says what was stored of it all, not its table of contents alone ("299 MB → 685 B").
    const entry = m.databases[0]!;
    const stored = entry.storedBytes + (entry.extras ?? []).reduce((n, x) => n + x.storedBytes, 0);
    expect(created.ofType('item-end').find((e) => e.item === 'ventas')?.bytes).toBe(stored);
  }, 300_000);

  it('restore in place: pg_restore, then the row counts and the swap named with the bar full', async () => {
    const cfg = await config('restore', { jobs: 1 });
    const m = await createBackup(cfg, { databases: ['ventas'], files: false }, silentReporter);
    const plan = await planRestore(cfg, m.id, { databases: ['ventas'], terminateConnections: true });
    const restored = new FakeReporter();
    const outcome = await executeRestore(cfg, plan, restored);
    expect(outcome.databases[0]).toMatchObject({ ok: true });
    const read = steps(restored, 'ventas');
    expect(drops(read), JSON.stringify(read)).toEqual([]);
    const total = read.at(-1)!.totalBytes!;
    const said = read.map((e) => e.message ?? '');
    const counted = said.indexOf('checking row counts');
    const swapped = said.findIndex((x) => x.startsWith('swapping'));
    expect(counted, JSON.stringify(read)).toBeGreaterThan(0);
    expect(swapped, JSON.stringify(read)).toBeGreaterThan(counted);
    expect(read[counted]!.bytes).toBe(total);
    expect(read[swapped]!.bytes).toBe(total);
  }, 300_000);
});

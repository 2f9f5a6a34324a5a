/**
 * The driver conformance suite (conformance.ts) run for the PostgreSQL driver against a real
 * throwaway cluster (test/helpers/pg-cluster.ts). A kill is simulated through the driver's
 * connection factory: the swap's renames are its statements.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { DatabaseConfig } from '../../src/core/types.js';
import {
  createPostgresDriver,
  postgresDriver,
  type PgConnectSettings,
  type PgQueryable,
} from '../../src/drivers/postgres/index.js';
import { quoteIdent } from '../../src/drivers/postgres/args.js';
import { parseDerivedName, preRestoreDbName } from '../../src/drivers/postgres/plan.js';
import { pgAvailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { driverConformance, KillSwitch, type DriverUnderTest, type KillPoint, type Killing } from './conformance.js';

const available = pgAvailable();
const SKIP_LINE = 'SKIPPED PostgreSQL driver conformance: no PostgreSQL server binaries (initdb, pg_ctl) found';
if (!available) console.log(SKIP_LINE);

let cluster: PgCluster;
let work: string;
let changes = 0;

const liveOf = (db: DatabaseConfig): string => decodeURIComponent(new URL(db.url!).pathname.slice(1));

async function withClient<T>(database: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await cluster.client(database);
  try {
    return await use(c);
  } finally {
    await c.end();
  }
}

async function exists(name: string): Promise<boolean> {
  const rows = await cluster.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
    'postgres',
    [name],
  );
  return rows[0]!.n > 0;
}

async function content(name: string): Promise<unknown> {
  if (!(await exists(name))) return null;
  return withClient(name, async (c) => ({
    items: (await c.query('SELECT id, v FROM items ORDER BY id')).rows,
    notes: (await c.query('SELECT n FROM "Notes ü" ORDER BY n')).rows,
  }));
}

/** Connections of a run that dies at `point`: every statement goes through the kill switch. */
function killing(db: DatabaseConfig, point: KillPoint): Killing {
  const live = liveOf(db);
  const ks = new KillSwitch(
    point,
    (sql) => / RENAME TO /.test(sql),
    (sql) => / RENAME TO /.test(sql) && sql.endsWith(`RENAME TO ${quoteIdent(live)}`),
  );
  const clients: pg.Client[] = [];
  const connect = async (settings: PgConnectSettings): Promise<PgQueryable> => {
    const client = new pg.Client(settings);
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return {
      query: (text, values) => ks.call(text, async () => client.query(text, values)),
      end: () => ks.call('end', () => client.end()),
    };
  };
  return {
    driver: createPostgresDriver({ connect }),
    killed: ks.killed,
    // The server sees the dead process's connections close.
    release: async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    },
  };
}

const dut: DriverUnderTest = {
  driver: postgresDriver,
  workDir: () => work,
  async makeDatabase(name) {
    cluster.createDatabase(name);
    await withClient(name, async (c) => {
      await c.query(`CREATE TABLE items (id int PRIMARY KEY, v text); CREATE TABLE "Notes ü" (n text)`);
      await c.query(`INSERT INTO items SELECT g, 'row ' || g || ' ☃' FROM generate_series(1, 25) g`);
      await c.query(`INSERT INTO "Notes ü" VALUES ($1)`, [`it's "quoted"`]);
    });
    return { name: 'app', engine: 'postgres', url: cluster.url(name) };
  },
  async change(db) {
    await withClient(liveOf(db), async (c) => {
      await c.query(`INSERT INTO items VALUES (100 + $1, 'written later')`, [++changes]);
      await c.query(`UPDATE "Notes ü" SET n = n || ' (edited)'`);
    });
  },
  content: (db, name) => content(name ?? liveOf(db)),
  liveName: (db) => liveOf(db),
  sideName: (_db, label) => `${label} side`,
  safetyName: (db, setId) => preRestoreDbName(liveOf(db), setId),
  oddNames: ['with space', `it's "quoted"`, 'ünïcode ☃ 数据', 'MixedCase', '-starts-with-dash=x'],
  async leftovers(db) {
    const live = liveOf(db);
    return cluster.databases().filter((n) => ['restore', 'drill'].includes(parseDerivedName(live, n)?.kind ?? ''));
  },
  killing,
  async holdOpen(db) {
    const c = await cluster.client(liveOf(db));
    return async () => {
      await c.end().catch(() => undefined);
    };
  },
  async addBulk(db) {
    await withClient(liveOf(db), async (c) => {
      await c.query(
        `CREATE TABLE bulk AS SELECT g AS id, repeat(md5(g::text), 4) AS v FROM generate_series(1, 3000) g`,
      );
    });
  },
};

if (available) {
  beforeAll(async () => {
    cluster = await startPgCluster();
    work = mkdtempSync(join(tmpdir(), 'respaldo-conformance-pg-'));
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });
  driverConformance('postgres (real cluster)', () => dut);
} else {
  describe.skip(SKIP_LINE, () => it('needs PostgreSQL', () => undefined));
}

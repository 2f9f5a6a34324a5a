/**
 * The driver conformance suite (conformance.ts) run for the SQL Server driver against the
 * in-process fake of its connection (test/helpers/sqlserver-fake.ts): the executor's sequencing,
 * journal and recovery, not T-SQL semantics (the live run, sqlserver-live.conformance.test.ts,
 * covers those). Each database lives on its own fake server (its config's `server`), with its own
 * shared backup folder, so cases cannot see each other's journals or files.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { DatabaseConfig } from '../../src/core/types.js';
import {
  createSqlServerDriver,
  type ConnectionSettings,
  type SqlConnection,
} from '../../src/drivers/sqlserver/index.js';
import { parseDrillName, parseStagingName, quoteName, stagingNames } from '../../src/drivers/sqlserver/names.js';
import { FakeServer, PASSWORD, SERVER_DIR } from '../helpers/sqlserver-fake.js';
import { driverConformance, KillSwitch, type DriverUnderTest, type KillPoint, type Killing } from './conformance.js';

let work: string;
const servers = new Map<string, FakeServer>();
let made = 0;

function serverOf(host: string | undefined): FakeServer {
  const server = servers.get(host ?? '');
  if (!server) throw new Error(`no fake server ${host}`);
  return server;
}

const liveOf = (db: DatabaseConfig): string => db.database!;
const connect = (settings: ConnectionSettings): Promise<SqlConnection> => serverOf(settings.server).connector(settings);
const driver = createSqlServerDriver({ connect });

function killing(db: DatabaseConfig, point: KillPoint): Killing {
  const live = quoteName(liveOf(db));
  const ks = new KillSwitch(
    point,
    (sql) => sql.includes(' MODIFY NAME = '),
    (sql) => !sql.startsWith('BEGIN') && sql.endsWith(`MODIFY NAME = ${live}`),
  );
  const dying = async (settings: ConnectionSettings): Promise<SqlConnection> => {
    const conn = await connect(settings);
    return {
      query: (sql, params, options) => ks.call(sql, () => conn.query(sql, params, options)),
      close: () => ks.call('close', () => conn.close()),
    };
  };
  return { driver: createSqlServerDriver({ connect: dying }), killed: ks.killed, release: async () => undefined };
}

const dut: DriverUnderTest = {
  driver,
  workDir: () => work,
  async makeDatabase(name) {
    const host = `db${++made}`;
    const localDir = join(work, host);
    mkdirSync(localDir);
    const server = new FakeServer(localDir);
    servers.set(host, server);
    server.addDb(name, { 'dbo.Items': 25, 'dbo.Notes ü': 1 }, { id: `${name}#${host}` });
    return {
      name: host,
      engine: 'sqlserver',
      server: host,
      user: 'backup',
      password: PASSWORD,
      database: name,
      trustServerCertificate: true,
      serverBackupDir: SERVER_DIR,
      localBackupDir: localDir,
    };
  },
  async change(db) {
    // A write the fake's log keeps (log backups carry it), as the content (`tables`) shows.
    const server = serverOf(db.server);
    const tables = server.dbs.get(liveOf(db))!.tables;
    server.write(liveOf(db), { ...tables, 'dbo.Items': (tables['dbo.Items'] ?? 0) + 1 });
  },
  async content(db, name) {
    const found = serverOf(db.server).dbs.get(name ?? liveOf(db));
    return found ? { id: found.id, tables: found.tables, userAccess: found.userAccess } : null;
  },
  liveName: (db) => liveOf(db),
  sideName: (_db, label) => `${label} side`,
  safetyName: (db, setId) => stagingNames(liveOf(db), setId).safety,
  oddNames: ['with space', `it's ]bracket[ "quoted"`, 'ünïcode ☃ 数据', 'MixedCase'],
  async leftovers(db) {
    const live = liveOf(db);
    const server = serverOf(db.server);
    const temp = [...server.dbs.keys()].filter(
      (n) => parseStagingName(n, live)?.kind === 'temp' || parseDrillName(n, live) !== null,
    );
    const single = [...server.dbs].filter(([, d]) => d.userAccess !== 'MULTI_USER').map(([n]) => `${n} (SINGLE_USER)`);
    return [...temp, ...single, ...readdirSync(db.localBackupDir!)];
  },
  killing,
  async holdOpen(db) {
    const live = serverOf(db.server).dbs.get(liveOf(db))!;
    live.sessions.push('app@app1');
    return async () => {
      live.sessions = live.sessions.filter((s) => s !== 'app@app1');
    };
  },
  chainConfig: (db) => ({ ...db, chain: true }),
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'respaldo-conformance-mssql-fake-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

driverConformance('sqlserver (fake connection)', () => dut);

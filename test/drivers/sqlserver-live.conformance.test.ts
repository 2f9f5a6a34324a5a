/**
 * The driver conformance suite (conformance.ts) run for the SQL Server driver against a real SQL
 * Server, only when RESPALDO_MSSQL_URL is set (see docs/sqlserver.md and test/sqlserver-live.test.ts
 * for the variables); otherwise a SKIPPED line says so. Every database it makes carries this run's
 * suffix and is dropped afterwards.
 *
 *   RESPALDO_MSSQL_URL                 sqlserver://sa:<password>@localhost:1433?trustServerCertificate=true
 *   RESPALDO_MSSQL_SERVER_BACKUP_DIR   folder as the server sees it (default /var/opt/mssql/backup)
 *   RESPALDO_MSSQL_LOCAL_BACKUP_DIR    the same folder as this machine sees it (default: the same path)
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { DatabaseConfig } from '../../src/core/types.js';
import {
  createSqlServerDriver,
  mssqlConnector,
  resolveSettings,
  type ConnectionSettings,
  type SqlConnection,
} from '../../src/drivers/sqlserver/index.js';
import {
  parseDrillName,
  parseStagingName,
  quoteName,
  restoreFilePrefix,
  stagingNames,
} from '../../src/drivers/sqlserver/names.js';
import { driverConformance, KillSwitch, type DriverUnderTest, type KillPoint, type Killing } from './conformance.js';

const url = process.env.RESPALDO_MSSQL_URL;
const SKIP_LINE = 'SKIPPED sqlserver live driver conformance: RESPALDO_MSSQL_URL not set';
if (!url) console.log(SKIP_LINE);

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const serverBackupDir = process.env.RESPALDO_MSSQL_SERVER_BACKUP_DIR ?? '/var/opt/mssql/backup';
const localBackupDir = process.env.RESPALDO_MSSQL_LOCAL_BACKUP_DIR ?? serverBackupDir;
const driver = createSqlServerDriver();
let conn: SqlConnection;
let work: string;
let changes = 0;

const liveOf = (db: DatabaseConfig): string => db.database!;

/** Runs a batch inside database `name`. */
async function inDb(
  name: string,
  batch: string,
  params: Record<string, string | number> = {},
): Promise<Record<string, unknown>[]> {
  return conn.query(`EXEC ${quoteName(name)}.sys.sp_executesql @batch`, { batch, ...params });
}

async function content(name: string): Promise<unknown> {
  const [row] = await conn.query('SELECT DB_ID(@name) AS id', { name });
  if (row?.id === null || row?.id === undefined) return null;
  const q = quoteName(name);
  return {
    items: await conn.query(`SELECT id, v FROM ${q}.dbo.items ORDER BY id`),
    notes: await conn.query(`SELECT n FROM ${q}.dbo.${quoteName('Notes ü')} ORDER BY n`),
  };
}

function killing(db: DatabaseConfig, point: KillPoint): Killing {
  const live = quoteName(liveOf(db));
  const ks = new KillSwitch(
    point,
    (sql) => sql.includes(' MODIFY NAME = '),
    (sql) => !sql.startsWith('BEGIN') && sql.endsWith(`MODIFY NAME = ${live}`),
  );
  const opened: SqlConnection[] = [];
  const dying = async (settings: ConnectionSettings): Promise<SqlConnection> => {
    const c = await mssqlConnector(settings);
    opened.push(c);
    return {
      query: (sql, params, options) => ks.call(sql, () => c.query(sql, params, options)),
      close: () => ks.call('close', () => c.close()),
    };
  };
  return {
    driver: createSqlServerDriver({ connect: dying }),
    killed: ks.killed,
    release: async () => {
      await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    },
  };
}

const dut: DriverUnderTest = {
  driver,
  workDir: () => work,
  async makeDatabase(name) {
    const database = `${name} ${suffix}`;
    await conn.query(`CREATE DATABASE ${quoteName(database)}`);
    await inDb(
      database,
      `CREATE TABLE dbo.items (id int PRIMARY KEY, v nvarchar(100)); ` +
        `CREATE TABLE dbo.${quoteName('Notes ü')} (n nvarchar(100));`,
    );
    const rows =
      `DECLARE @i int = 1; WHILE @i <= 25 ` +
      `BEGIN INSERT INTO dbo.items VALUES (@i, CONCAT(N'row ', @i, N' ☃')); SET @i += 1; END`;
    await inDb(database, rows);
    await inDb(database, `INSERT INTO dbo.${quoteName('Notes ü')} VALUES (N'it''s "quoted"')`);
    return { name: 'conformance', engine: 'sqlserver', url, database, serverBackupDir, localBackupDir };
  },
  async change(db) {
    await inDb(
      liveOf(db),
      `INSERT INTO dbo.items VALUES (${100 + ++changes}, N'written later'); ` +
        `UPDATE dbo.${quoteName('Notes ü')} SET n = n + N' (edited)';`,
    );
  },
  content: (db, name) => content(name ?? liveOf(db)),
  liveName: (db) => liveOf(db),
  sideName: (_db, label) => `${label} side ${suffix}`,
  safetyName: (db, setId) => stagingNames(liveOf(db), setId).safety,
  oddNames: ['with space', `it's ]bracket[ "quoted"`, 'ünïcode ☃ 数据', 'MixedCase'],
  async leftovers(db) {
    const live = liveOf(db);
    const rows = await conn.query(`SELECT name, user_access_desc AS access FROM sys.databases`);
    const temp = rows
      .map((r) => String(r.name))
      .filter((n) => parseStagingName(n, live)?.kind === 'temp' || parseDrillName(n, live) !== null);
    const single = rows
      .filter((r) => String(r.name).includes(suffix) && r.access !== 'MULTI_USER')
      .map((r) => `${String(r.name)} (${String(r.access)})`);
    return [...temp, ...single, ...readdirSync(localBackupDir).filter((n) => n.startsWith(restoreFilePrefix(live)))];
  },
  killing,
  async holdOpen(db) {
    const session = await mssqlConnector(resolveSettings(db));
    await session.query(`USE ${quoteName(liveOf(db))}`);
    return () => session.close();
  },
};

if (url) {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-conformance-mssql-live-'));
    conn = await mssqlConnector(
      resolveSettings({ name: 'conformance', engine: 'sqlserver', url, serverBackupDir, localBackupDir }),
    );
  });
  afterAll(async () => {
    if (conn) {
      const mine = await conn.query('SELECT name FROM sys.databases WHERE CHARINDEX(@suffix, name) > 0', { suffix });
      for (const { name } of mine) {
        const q = quoteName(String(name));
        await conn
          .query(`ALTER DATABASE ${q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ${q};`)
          .catch((err: unknown) => console.error(`cleanup of ${String(name)} failed: ${String(err)}`));
      }
      await conn.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });
  driverConformance('sqlserver (live, RESPALDO_MSSQL_URL)', () => dut);
} else {
  describe.skip(SKIP_LINE, () => it('needs RESPALDO_MSSQL_URL', () => undefined));
}

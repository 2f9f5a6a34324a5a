/**
 * A restore drill against a real SQL Server through the built CLI, when RESPALDO_MSSQL_URL is set
 * (like sqlserver-live.test.ts): the set restores into <db>__drill_<set>, passes DBCC CHECKDB and
 * row counts, and the scratch database is dropped; the live database is untouched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../src/core/types.js';
import type { DrillOutcome } from '../src/engine/drill.js';
import { mssqlConnector, resolveSettings, type SqlConnection } from '../src/drivers/sqlserver/index.js';
import { quoteName } from '../src/drivers/sqlserver/names.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';

const url = process.env.RESPALDO_MSSQL_URL;
const SKIP_LINE = 'SKIPPED sqlserver drill live test: RESPALDO_MSSQL_URL not set';
if (!url) console.log(SKIP_LINE);

describe.skipIf(!url)(url ? 'sqlserver drill (RESPALDO_MSSQL_URL)' : SKIP_LINE, () => {
  const source = `respaldo_drill_${process.pid}_${Date.now().toString(36)}`;
  const serverBackupDir = process.env.RESPALDO_MSSQL_SERVER_BACKUP_DIR ?? '/var/opt/mssql/backup';
  const localBackupDir = process.env.RESPALDO_MSSQL_LOCAL_BACKUP_DIR ?? serverBackupDir;
  let conn: SqlConnection;
  let work: string;
  let config: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-mssql-drill-'));
    const db: DatabaseConfig = {
      name: 'drilldb',
      engine: 'sqlserver',
      url: url!,
      database: source,
      serverBackupDir,
      localBackupDir,
    };
    conn = await mssqlConnector(resolveSettings(db));
    await conn.query(`CREATE DATABASE ${quoteName(source)}`);
    const q = quoteName(source);
    await conn.query(`EXEC ${q}.sys.sp_executesql N'CREATE TABLE dbo.t (id int PRIMARY KEY, v nvarchar(40))'`);
    await conn.query(
      `EXEC ${q}.sys.sp_executesql N'INSERT INTO dbo.t SELECT TOP 1000 ROW_NUMBER() OVER (ORDER BY (SELECT 1)), N''x'' FROM sys.all_objects'`,
    );
    config = join(work, 'backup_config.json');
    writeFileSync(
      config,
      JSON.stringify({ backupDir: './backups', databases: [db], files: { config: [], application: [] } }),
    );
  }, 120_000);

  afterAll(async () => {
    if (conn) {
      const rows = await conn.query(`SELECT name FROM sys.databases WHERE name LIKE @p`, { p: `${source}%` });
      for (const r of rows) {
        const name = String(r['name']);
        await conn.query(
          `ALTER DATABASE ${quoteName(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ${quoteName(name)}`,
        );
      }
      await conn.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('drills the newest set: DBCC CHECKDB passes and the scratch database is dropped', async () => {
    const created = await runCli(['create', '--config', config], { cwd: work });
    expect(created.code, describeResult(created)).toBe(0);
    const r = await runCli(['drill', '--json', '--config', config], { cwd: work });
    expect(r.code, describeResult(r)).toBe(0);
    const out = parseJsonOutput<DrillOutcome>(r.stdout);
    const result = out.results[0]!;
    expect(result.scratch).toBe(`${source}__drill_${out.setId}`);
    expect(result.checks.find((c) => c.name === 'DBCC CHECKDB')).toMatchObject({ ok: true });
    const names = result.checks.map((c) => c.name);
    expect(names.indexOf('RESTORE VERIFYONLY')).toBeGreaterThan(-1);
    expect(names.indexOf('RESTORE VERIFYONLY')).toBeLessThan(names.indexOf('restore'));
    const left = await conn.query(`SELECT name FROM sys.databases WHERE name LIKE @p`, { p: `${source}__%` });
    expect(left).toEqual([]);
  }, 300_000);
});

/**
 * Live suite against a real SQL Server, run only when RESPALDO_MSSQL_URL is set (see
 * docs/sqlserver.md): loads Chinook into a fresh database, backs it up through the driver,
 * restores it side by side and in place, and compares row counts and per-table checksums; then
 * sessions in use, settings put back, rollback (swapBack), an interrupted restore and the
 * recovery of a swap cut in the middle.
 *
 *   RESPALDO_MSSQL_URL                 sqlserver://sa:<password>@localhost:1433?trustServerCertificate=true
 *   RESPALDO_MSSQL_SERVER_BACKUP_DIR   folder as the server sees it (default /var/opt/mssql/backup)
 *   RESPALDO_MSSQL_LOCAL_BACKUP_DIR    the same folder as this machine sees it (default: the same path)
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../src/core/errors.js';
import { CollectingReporter } from '../src/core/events.js';
import type { DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { DriverContext, DumpFacts, RestoreRequest } from '../src/drivers/driver.js';
import {
  mssqlConnector,
  resolveSettings,
  sqlserverDriver,
  type SqlConnection,
} from '../src/drivers/sqlserver/index.js';
import { quoteName, stagingNames } from '../src/drivers/sqlserver/names.js';

const url = process.env.RESPALDO_MSSQL_URL;
const SKIP_LINE = 'SKIPPED sqlserver live suite: RESPALDO_MSSQL_URL not set';
if (!url) console.log(SKIP_LINE);

const FIXTURE = new URL('./fixtures/chinook/Chinook_SqlServer.sql', import.meta.url);

/** The Chinook script's batches (split on GO lines), without its own DROP/CREATE/USE of [Chinook]. */
function chinookBatches(): string[] {
  return readFileSync(FIXTURE, 'utf8')
    .split(/^\s*GO\s*$/im)
    .map((b) => b.trim())
    .filter((b) => b !== '' && !/\[Chinook\]|N'Chinook'/.test(b));
}

describe.skipIf(!url)(url ? 'sqlserver live suite (RESPALDO_MSSQL_URL)' : SKIP_LINE, () => {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const source = `respaldo_chinook_${suffix}`;
  const copy = `respaldo_chinook_copy_${suffix}`;
  const setId = `live-${suffix}`;
  const busySet = `busy-${suffix}`;
  const backSet = `back-${suffix}`;
  const stopSet = `stop-${suffix}`;
  const cutSet = `cut-${suffix}`;
  const serverBackupDir = process.env.RESPALDO_MSSQL_SERVER_BACKUP_DIR ?? '/var/opt/mssql/backup';
  const localBackupDir = process.env.RESPALDO_MSSQL_LOCAL_BACKUP_DIR ?? serverBackupDir;
  let db: DatabaseConfig;
  let conn: SqlConnection;
  let work: string;
  let stored: string;
  let facts: DumpFacts;
  const reporter = new CollectingReporter();
  const ctx = (): DriverContext => ({
    reporter,
    signal: new AbortController().signal,
    scratchDir: work,
    log: () => undefined,
  });

  async function tableStats(database: string): Promise<Record<string, { rows: number; checksum: string }>> {
    const q = quoteName(database);
    const tables = await conn.query(
      `SELECT s.name AS s, t.name AS t FROM ${q}.sys.tables t JOIN ${q}.sys.schemas s ON s.schema_id = t.schema_id WHERE t.is_ms_shipped = 0`,
    );
    const out: Record<string, { rows: number; checksum: string }> = {};
    for (const { s, t } of tables) {
      const [row] = await conn.query(
        `SELECT COUNT_BIG(*) AS n, CHECKSUM_AGG(BINARY_CHECKSUM(*)) AS c FROM ${q}.${quoteName(String(s))}.${quoteName(String(t))}`,
      );
      out[`${String(s)}.${String(t)}`] = { rows: Number(row!.n), checksum: String(row!.c) };
    }
    return out;
  }

  async function dropIfExists(name: string): Promise<void> {
    await conn.query(
      `IF DB_ID(@name) IS NOT NULL BEGIN ALTER DATABASE ${quoteName(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ${quoteName(name)}; END`,
      { name },
    );
  }

  function entryFor(f: DumpFacts): DatabaseEntry {
    return {
      name: 'chinook',
      engine: 'sqlserver',
      file: 'databases/chinook.bak',
      format: 'mssql-bak',
      compressed: false,
      rawBytes: 0,
      storedBytes: 0,
      md5: null,
      sha256: null,
      tables: f.tables,
      durationMs: 0,
      error: null,
      details: f.details,
    };
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-mssql-live-'));
    stored = join(work, 'chinook.bak');
    db = { name: 'chinook', engine: 'sqlserver', url, database: source, serverBackupDir, localBackupDir };
    expect(sqlserverDriver.validateConfig(db)).toEqual([]);
    conn = await mssqlConnector(resolveSettings(db));
    await conn.query(`CREATE DATABASE ${quoteName(source)}`);
    for (const batch of chinookBatches())
      await conn.query(`EXEC ${quoteName(source)}.sys.sp_executesql @batch`, { batch });
    // RESTORE resets TRUSTWORTHY: the driver must put it back after an in-place restore.
    await conn.query(`ALTER DATABASE ${quoteName(source)} SET TRUSTWORTHY ON`);
  });

  afterAll(async () => {
    if (conn) {
      const kept = [setId, busySet, backSet, stopSet, cutSet].flatMap((id) => Object.values(stagingNames(source, id)));
      for (const name of [source, copy, ...kept, stagingNames(copy, setId).temp]) {
        await dropIfExists(name).catch((err: unknown) => console.error(`cleanup of ${name} failed: ${String(err)}`));
      }
      await conn.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('loaded Chinook', async () => {
    const stats = await tableStats(source);
    expect(stats['dbo.Track']?.rows).toBe(3503);
    expect(stats['dbo.InvoiceLine']?.rows).toBe(2240);
    expect(Object.keys(stats)).toHaveLength(11);
  });

  it('backs up through the driver: verified .bak streamed from localBackupDir, facts recorded, server file removed', async () => {
    const session = await sqlserverDriver.backup({ db, type: 'full', purpose: 'backup' }, ctx());
    try {
      expect(session.parts).toHaveLength(1);
      const part = session.parts[0]!;
      expect(part).toMatchObject({ role: 'main', format: 'mssql-bak', extension: 'bak' });
      const opened = await part.open();
      await pipeline(opened.stream, createWriteStream(stored, { mode: 0o600 }));
      facts = await opened.finished;
      expect(part.compress).toBe(facts.details.compression !== true);
    } finally {
      await session.cleanup();
    }
    const stats = await tableStats(source);
    expect(facts.tables).toEqual(Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v.rows])));
    expect(facts.details).toMatchObject({ database: source, copyOnly: true, checksum: true });
    expect(typeof facts.details.serverVersion).toBe('string');
    expect((facts.details.logicalFiles as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect(reporter.events.some((e) => e.type === 'item-progress' && e.percent === 100)).toBe(true);
    const backupFile = String(facts.details.backupFile);
    const local = join(localBackupDir, backupFile.slice(backupFile.search(/respaldo-[^\\/]*$/)));
    expect(() => readFileSync(local)).toThrow(/ENOENT/);
  });

  it('restores side by side and the copy matches row counts and checksums per table', async () => {
    const result = await sqlserverDriver.restore(
      {
        db,
        entry: entryFor(facts),
        setId,
        target: { kind: 'side-by-side', name: copy },
        openPart: () => createReadStream(stored),
        terminateConnections: false,
      },
      ctx(),
    );
    expect(result.restoredTo).toBe(copy);
    expect(result.tables).toEqual(facts.tables);
    expect(await tableStats(copy)).toEqual(await tableStats(source));
    expect(await sqlserverDriver.inspectTarget(db, { kind: 'side-by-side', name: copy })).toMatchObject({
      exists: true,
      inUseBy: [],
    });
  });

  it('restores in place: the old database becomes the safety copy, the new one matches, and the safety copy can be dropped', async () => {
    const before = await tableStats(source);
    await conn.query(`DELETE FROM ${quoteName(source)}.dbo.InvoiceLine WHERE InvoiceLineId > 2000`);
    const result = await sqlserverDriver.restore(
      {
        db,
        entry: entryFor(facts),
        setId,
        target: { kind: 'in-place' },
        openPart: () => createReadStream(stored),
        terminateConnections: true,
      },
      ctx(),
    );
    const safety = stagingNames(source, setId).safety;
    expect(result).toMatchObject({ restoredTo: source, safetyDatabase: safety });
    expect(await tableStats(source)).toEqual(before);
    expect((await tableStats(safety))['dbo.InvoiceLine']?.rows).toBe(2000);
    const access = await conn.query('SELECT name, user_access_desc AS a FROM sys.databases WHERE name IN (@x, @y)', {
      x: source,
      y: safety,
    });
    expect(access.map((r) => r.a)).toEqual(['MULTI_USER', 'MULTI_USER']);
    expect(await sqlserverDriver.recover(db, ctx())).toEqual([]);
    await sqlserverDriver.dropSafetyCopy!(db, safety);
    expect(await conn.query('SELECT name FROM sys.databases WHERE name = @x', { x: safety })).toEqual([]);
  });
  const fromStored = (): Pick<RestoreRequest, 'db' | 'entry' | 'openPart'> => ({
    db,
    entry: entryFor(facts),
    openPart: () => createReadStream(stored),
  });
  const inPlace = (id: string, terminateConnections: boolean, signal?: AbortSignal): Promise<unknown> =>
    sqlserverDriver.restore(
      { ...fromStored(), setId: id, target: { kind: 'in-place' }, terminateConnections },
      { ...ctx(), ...(signal ? { signal } : {}) },
    );
  const names = async (...xs: string[]): Promise<string[]> =>
    (await conn.query('SELECT name FROM sys.databases')).map((r) => String(r.name)).filter((n) => xs.includes(n));

  it('put TRUSTWORTHY back after the in-place restore (RESTORE resets it)', async () => {
    const sql = 'SELECT CAST(is_trustworthy_on AS int) AS t FROM sys.databases WHERE name = @x';
    const [row] = await conn.query(sql, { x: source });
    expect(row!.t).toBe(1);
  });

  it('refuses an in-place restore while another session uses the database; terminateConnections ends it', async () => {
    const other = await mssqlConnector(resolveSettings(db));
    try {
      await other.query(`USE ${quoteName(source)}`);
      const state = await sqlserverDriver.inspectTarget(db, { kind: 'in-place' });
      expect(state.inUseBy.length).toBeGreaterThan(0);
      const err = await inPlace(busySet, false).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RefusedError);
      expect(await names(...Object.values(stagingNames(source, busySet)))).toEqual([]);
      const result = (await inPlace(busySet, true)) as { safetyDatabase?: string };
      expect(result.safetyDatabase).toBe(stagingNames(source, busySet).safety);
    } finally {
      await other.close().catch(() => undefined);
    }
  });

  it('rolls back the in-place restore (swapBack): the kept database is live again, the replaced one kept', async () => {
    const kept = stagingNames(source, busySet).safety;
    await conn.query(`DELETE FROM ${quoteName(kept)}.dbo.InvoiceLine WHERE InvoiceLineId > 2100`);
    const expected = await tableStats(kept);
    const req = { db, safetyName: kept, setId: backSet, terminateConnections: true };
    const result = await sqlserverDriver.swapBack!(req, ctx());
    expect(result).toMatchObject({ restoredTo: source, safetyDatabase: stagingNames(source, backSet).safety });
    expect(await tableStats(source)).toEqual(expected);
    expect(await names(kept, stagingNames(source, backSet).safety)).toEqual([stagingNames(source, backSet).safety]);
    expect(await sqlserverDriver.recover(db, ctx())).toEqual([]);
    expect(await sqlserverDriver.findLeftovers!(db)).toEqual([]);
  });

  it('an interrupted in-place restore leaves the live database as it was and nothing behind', async () => {
    const before = await tableStats(source);
    const ac = new AbortController();
    const stopping = new CollectingReporter();
    stopping.emit = (e) => {
      if (e.type === 'item-progress' && (e.percent ?? 0) >= 5) ac.abort();
    };
    const err = (await sqlserverDriver
      .restore(
        { ...fromStored(), setId: stopSet, target: { kind: 'in-place' }, terminateConnections: true },
        { ...ctx(), reporter: stopping, signal: ac.signal },
      )
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.kind).toBe('interrupted');
    expect(await tableStats(source)).toEqual(before);
    await sqlserverDriver.recover(db, ctx());
    expect(await names(...Object.values(stagingNames(source, stopSet)))).toEqual([]);
    expect(await sqlserverDriver.findLeftovers!(db)).toEqual([]);
  });

  it('recover puts back a swap cut right after the live database was renamed', async () => {
    const cut = stagingNames(source, cutSet).safety;
    const q = quoteName(source);
    await conn.query(`ALTER DATABASE ${q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;`);
    await conn.query(`ALTER DATABASE ${q} MODIFY NAME = ${quoteName(cut)}`);
    const leftovers = await sqlserverDriver.findLeftovers!(db);
    expect(leftovers.some((l) => l.includes('a swap was cut in the middle'))).toBe(true);
    const actions = (await sqlserverDriver.recover(db, ctx())).map((a) => a.message);
    expect(actions).toContain(`rolled back an interrupted swap: renamed ${cut} back to ${source}`);
    const [row] = await conn.query('SELECT user_access_desc AS a FROM sys.databases WHERE name = @x', { x: source });
    expect(row!.a).toBe('MULTI_USER');
  });
});

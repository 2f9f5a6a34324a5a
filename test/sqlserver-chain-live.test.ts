/**
 * Native chains against a real SQL Server, run only when RESPALDO_MSSQL_URL is set (same variables as
 * test/sqlserver-live.test.ts, see docs/sqlserver.md): a database in FULL recovery with `chain: true` gets a
 * full, a differential and two log backups with rows inserted between them; the chain is restored side by side
 * to its end and STOPAT a time between two inserts; a log backup taken outside respaldo makes the next
 * incremental a full; SIMPLE recovery makes an incremental a full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingReporter } from '../src/core/events.js';
import type { BackupType, DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { DriverContext } from '../src/drivers/driver.js';
import {
  mssqlConnector,
  resolveSettings,
  sqlserverDriver,
  type SqlConnection,
} from '../src/drivers/sqlserver/index.js';
import { quoteName } from '../src/drivers/sqlserver/names.js';
import { headerOf } from '../src/drivers/sqlserver/chain-plan.js';

const url = process.env.RESPALDO_MSSQL_URL;
const SKIP_LINE = 'SKIPPED sqlserver chain live suite: RESPALDO_MSSQL_URL not set';
if (!url) console.log(SKIP_LINE);

interface Stored {
  setId: string;
  entry: DatabaseEntry;
  content: Buffer;
  fellBack?: string;
}

describe.skipIf(!url)(url ? 'sqlserver chain live suite (RESPALDO_MSSQL_URL)' : SKIP_LINE, () => {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const source = `respaldo_chain_${suffix}`;
  const toEnd = `respaldo_chain_end_${suffix}`;
  const toTime = `respaldo_chain_at_${suffix}`;
  const serverBackupDir = process.env.RESPALDO_MSSQL_SERVER_BACKUP_DIR ?? '/var/opt/mssql/backup';
  const localBackupDir = process.env.RESPALDO_MSSQL_LOCAL_BACKUP_DIR ?? serverBackupDir;
  let db: DatabaseConfig;
  let conn: SqlConnection;
  let work: string;
  let n = 0;
  const reporter = new CollectingReporter();
  const ctx = (): DriverContext => ({
    reporter,
    signal: new AbortController().signal,
    scratchDir: work,
    log: () => {},
  });
  const q = (name: string): string => quoteName(name);

  async function rows(database: string): Promise<number> {
    const [r] = await conn.query(`SELECT COUNT_BIG(*) AS n FROM ${q(database)}.dbo.t`);
    return Number(r!.n);
  }
  async function insert(count: number): Promise<void> {
    await conn.query(`INSERT INTO ${q(source)}.dbo.t (v) SELECT TOP (@count) 1 FROM sys.all_objects`, { count });
  }

  async function backup(type: BackupType, base?: Stored): Promise<Stored> {
    const session = await sqlserverDriver.backup(
      {
        db,
        type,
        purpose: 'backup',
        ...(base
          ? { base: { setId: base.setId, entry: base.entry, openPart: () => Readable.from([base.content]) } }
          : {}),
      },
      ctx(),
    );
    try {
      const opened = await session.parts[0]!.open();
      const chunks: Buffer[] = [];
      for await (const c of opened.stream) chunks.push(Buffer.from(c as Buffer));
      const facts = await opened.finished;
      const setId = `chain-${suffix}-${n++}`;
      const entry: DatabaseEntry = {
        name: 'chained',
        engine: 'sqlserver',
        file: `databases/${setId}.bak`,
        format: 'mssql-bak',
        compressed: false,
        rawBytes: 0,
        storedBytes: 0,
        md5: null,
        sha256: null,
        tables: facts.tables,
        durationMs: 0,
        error: null,
        details: facts.details,
        ...(base && !session.fellBack ? { base: base.setId } : {}),
      };
      return {
        setId,
        entry,
        content: Buffer.concat(chunks),
        ...(session.fellBack ? { fellBack: session.fellBack } : {}),
      };
    } finally {
      await session.cleanup();
    }
  }

  async function restore(chain: Stored[], name: string, stopAt?: string): Promise<void> {
    const last = chain.at(-1)!;
    await sqlserverDriver.restore(
      {
        db,
        entry: last.entry,
        setId: last.setId,
        target: { kind: 'side-by-side', name },
        openPart: () => Readable.from([last.content]),
        terminateConnections: false,
        chain: chain.slice(0, -1).map((m) => ({
          setId: m.setId,
          entry: m.entry,
          openPart: () => Readable.from([m.content]),
        })),
        ...(stopAt ? { stopAt } : {}),
      },
      ctx(),
    );
  }

  async function dropIfExists(name: string): Promise<void> {
    await conn.query(
      `IF DB_ID(@name) IS NOT NULL BEGIN ALTER DATABASE ${q(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ${q(name)}; END`,
      { name },
    );
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-mssql-chain-live-'));
    db = { name: 'chained', engine: 'sqlserver', url, database: source, serverBackupDir, localBackupDir, chain: true };
    expect(sqlserverDriver.validateConfig(db)).toEqual([]);
    conn = await mssqlConnector(resolveSettings(db));
    await conn.query(`CREATE DATABASE ${q(source)}`);
    await conn.query(`ALTER DATABASE ${q(source)} SET RECOVERY FULL`);
    await conn.query(`CREATE TABLE ${q(source)}.dbo.t (id int IDENTITY PRIMARY KEY, v int NOT NULL)`);
    await insert(10);
  });

  afterAll(async () => {
    if (conn) {
      for (const name of [source, toEnd, toTime])
        await dropIfExists(name).catch((err: unknown) => console.error(`cleanup of ${name} failed: ${String(err)}`));
      await conn.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('full, differential, logs: restored to the end, and STOPAT between two inserts', async () => {
    const full = await backup('full');
    expect(headerOf(full.entry.details)).toMatchObject({ kind: 'full', copyOnly: false });
    await insert(20); // 30
    const diff = await backup('differential', full);
    expect(diff.fellBack).toBeUndefined();
    expect(headerOf(diff.entry.details)!.databaseBackupLsn).toBe(headerOf(full.entry.details)!.checkpointLsn);
    await insert(5); // 35
    const log1 = await backup('incremental', diff);
    expect(log1.fellBack).toBeUndefined();
    await insert(7); // 42
    await conn.query("WAITFOR DELAY '00:00:01.500'");
    const [{ t }] = (await conn.query('SELECT SYSUTCDATETIME() AS t')) as [{ t: Date }];
    await conn.query("WAITFOR DELAY '00:00:01.500'");
    await insert(8); // 50
    const log2 = await backup('incremental', log1);
    expect(headerOf(log2.entry.details)!.firstLsn).toBe(headerOf(log1.entry.details)!.lastLsn);

    await restore([full, diff, log1, log2], toEnd);
    expect(await rows(toEnd)).toBe(50);
    await restore([full, diff, log1, log2], toTime, t.toISOString());
    expect(await rows(toTime)).toBe(42);
  });

  it('a log backup taken outside respaldo makes the next incremental a full, naming it', async () => {
    const full = await backup('full');
    await insert(1);
    const outside = `${serverBackupDir}${serverBackupDir.includes('\\') ? '\\' : '/'}respaldo-live-outside-${suffix}.trn`;
    await conn.query(`BACKUP LOG ${q(source)} TO DISK = @path WITH INIT, FORMAT`, { path: outside });
    const next = await backup('incremental', full);
    expect(next.fellBack).toMatch(/taken outside respaldo .*gap/);
    expect(headerOf(next.entry.details)!.kind).toBe('full');
  });

  it('SIMPLE recovery: an incremental is a full, saying why', async () => {
    const full = await backup('full');
    await conn.query(`ALTER DATABASE ${q(source)} SET RECOVERY SIMPLE`);
    const next = await backup('incremental', full);
    expect(next.fellBack).toMatch(/SIMPLE recovery model/);
    await conn.query(`ALTER DATABASE ${q(source)} SET RECOVERY FULL`);
  });
});

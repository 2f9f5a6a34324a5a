/**
 * The SQL Server driver's executor run against an in-process fake of the small connection
 * interface it uses (`SqlConnection`). The fake interprets the driver's statements against an
 * in-memory catalogue of databases, writes and reads real .bak stand-in files in a temp folder
 * (standing for the folder shared between SQL Server and respaldo), records every statement, and
 * injects errors at chosen statements. No SQL Server is involved: these tests check the
 * executor's sequencing, cleanup and error handling, not T-SQL semantics.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../src/core/errors.js';
import { CollectingReporter } from '../src/core/events.js';
import type { DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { DriverContext, RestoreRequest, SwapBackRequest } from '../src/drivers/driver.js';
import {
  compareRowCounts,
  createSqlServerDriver,
  mapSqlError,
  parseSqlServerUrl,
  type ConnectionSettings,
} from '../src/drivers/sqlserver/index.js';
import { resolveSettings } from '../src/drivers/sqlserver/config.js';
import { fileStem, restoreFilePrefix, stagingNames } from '../src/drivers/sqlserver/names.js';
import { FakeServer, LOCKED, PASSWORD, SERVER_DIR, fakeMssqlConfig, sqlError } from './helpers/sqlserver-fake.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

let dir: string;
let localDir: string;
let server: FakeServer;
let reporter: CollectingReporter;
let logLines: string[];

function ctx(signal = new AbortController().signal): DriverContext {
  return { reporter, signal, scratchDir: join(dir, 'scratch'), log: (m) => logLines.push(m) };
}

function cfg(extra: Partial<DatabaseConfig> = {}): DatabaseConfig {
  return fakeMssqlConfig(localDir, extra);
}

const LIVE_TABLES = { 'dbo.Album': 347, 'dbo.Artist': 275 };
const BACKUP_TABLES = { 'dbo.Album': 300, 'dbo.Artist': 250 };

function entry(tables: Record<string, number> | null = BACKUP_TABLES): DatabaseEntry {
  return {
    name: 'users',
    engine: 'sqlserver',
    file: 'databases/users.bak',
    format: 'mssql-bak',
    compressed: false,
    rawBytes: 1000,
    storedBytes: 1000,
    md5: null,
    sha256: null,
    tables,
    durationMs: 1,
    error: null,
    details: {},
  };
}

function bakContent(tables: Record<string, number> = BACKUP_TABLES): string {
  return JSON.stringify({ magic: 'FAKEBAK', database: 'users', id: 'users#from-backup', tables, compressed: true });
}

function restoreReq(over: Partial<RestoreRequest> = {}, content = bakContent()): RestoreRequest {
  return {
    db: cfg(),
    entry: entry(),
    setId: '20261122_101500',
    target: { kind: 'in-place' },
    openPart: () => Readable.from([Buffer.from(content)]),
    terminateConnections: false,
    ...over,
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-mssql-fake-'));
  localDir = join(dir, 'shared');
  mkdirSync(localDir);
  server = new FakeServer(localDir);
  reporter = new CollectingReporter();
  logLines = [];
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const statementsOf = (s: FakeServer): string[] => s.log.map((r) => r.sql.split('\n')[0]!);

// ---------------------------------------------------------------------------------------------
// Backup

describe('sqlserver executor (fake connection): backup', () => {
  it('runs BACKUP, VERIFYONLY, HEADERONLY, FILELISTONLY and row counts, then streams the .bak and removes it on cleanup', async () => {
    server.addDb('users', LIVE_TABLES);
    const driver = createSqlServerDriver({ connect: server.connector });
    const session = await driver.backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx());

    const backup = server.log.find((r) => r.sql.startsWith('BACKUP DATABASE'))!;
    const backupSql =
      'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, COMPRESSION, STATS = 1';
    expect(backup.sql).toBe(backupSql);
    expect(backup.params.db).toBe('users');
    const serverPath = String(backup.params.path);
    expect(serverPath).toMatch(/^\/var\/opt\/mssql\/backup\/respaldo-users-[0-9a-f]{8}-\d{8}T\d{6}Z-[0-9a-f]{6}\.bak$/);
    const order = statementsOf(server).map((s) => s.replace(/ @.*$/, ''));
    expect(order.indexOf('BACKUP DATABASE')).toBeLessThan(order.indexOf('RESTORE VERIFYONLY FROM DISK ='));
    const onFile = server.log.filter((r) => r.params.path === serverPath).map((r) => r.sql.split(' FROM')[0]);
    expect(onFile).toEqual([backupSql, 'RESTORE VERIFYONLY', 'RESTORE HEADERONLY', 'RESTORE FILELISTONLY']);
    expect(server.closed).toBe(server.opened);

    expect(session.parts).toHaveLength(1);
    const part = session.parts[0]!;
    expect(part).toMatchObject({ role: 'main', format: 'mssql-bak', extension: 'bak', compress: false });
    const opened = await part.open();
    const localFile = join(localDir, basename(serverPath));
    expect(opened.totalBytes).toBe(readFileSync(localFile).length);
    expect(JSON.parse(await readAll(opened.stream)).id).toBe('users#original');
    const facts = await opened.finished;
    expect(facts.tables).toEqual(LIVE_TABLES);
    expect(facts.details).toMatchObject({
      serverVersion: '16.0.4135.4',
      edition: 'Developer Edition (64-bit)',
      recoveryModel: 'FULL',
      sizeBytes: 16777216,
      compression: true,
      copyOnly: true,
      backupFile: serverPath,
      logicalFiles: [
        { logicalName: 'users', type: 'D' },
        { logicalName: 'users_log', type: 'L' },
      ],
    });
    expect(JSON.stringify(facts)).not.toContain(PASSWORD);

    expect(existsSync(localFile)).toBe(true);
    await session.cleanup();
    expect(existsSync(localFile)).toBe(false);
  });

  it('turns STATS info messages into item-progress events with percent', async () => {
    server.addDb('users', LIVE_TABLES);
    await createSqlServerDriver({ connect: server.connector }).backup(
      { db: cfg(), type: 'full', purpose: 'backup' },
      ctx(),
    );
    expect(server.log.find((r) => r.sql.startsWith('BACKUP'))!.sql).toMatch(/, STATS = 1$/);
    const progress = reporter.events.filter((e) => e.type === 'item-progress');
    expect(progress).toHaveLength(100);
    const rows = progress.map((e) => (e.type === 'item-progress' ? [e.item, e.percent, e.bytes, e.totalBytes] : null));
    expect(rows.filter((_, i) => [0, 4, 49, 99].includes(i))).toEqual([
      ['users', 1, 167772, 16777216],
      ['users', 5, 838861, 16777216],
      ['users', 50, 8388608, 16777216],
      ['users', 100, 16777216, 16777216],
    ]);
    const labelled = progress.every(
      (e) => e.type === 'item-progress' && e.message === `SQL Server BACKUP ${e.percent}%`,
    );
    expect(labelled).toBe(true);
    expect(logLines.some((l) => l.includes('Processed 352 pages'))).toBe(true);
  });

  it('on Express backs up without COMPRESSION and lets the engine gzip the .bak', async () => {
    server.edition = 'Express Edition (64-bit)';
    server.engineEdition = 4;
    server.addDb('users', LIVE_TABLES);
    const session = await createSqlServerDriver({ connect: server.connector }).backup(
      { db: cfg(), type: 'full', purpose: 'backup' },
      ctx(),
    );
    const backupSql = 'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, STATS = 1';
    expect(server.log.find((r) => r.sql.startsWith('BACKUP'))!.sql).toBe(backupSql);
    expect(session.parts[0]!.compress).toBe(true);
    const opened = await session.parts[0]!.open();
    await readAll(opened.stream);
    expect((await opened.finished).details).toMatchObject({
      compression: false,
      compressionNote: 'not supported by the Express Edition (64-bit) edition',
    });
    await session.cleanup();
  });

  it('falls back to an uncompressed backup when the server refuses COMPRESSION (error 1844) and says so', async () => {
    server.edition = 'Standard Edition (64-bit)';
    server.engineEdition = 2;
    const driver = createSqlServerDriver({ connect: server.connector });
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) =>
      sql.includes('COMPRESSION')
        ? sqlError(1844, 'BACKUP DATABASE WITH COMPRESSION is not supported on Standard Edition.')
        : null;
    const session = await driver.backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx());
    const backups = server.log.filter((r) => r.sql.startsWith('BACKUP'));
    expect(backups.map((r) => r.sql.includes('COMPRESSION'))).toEqual([true, false]);
    expect(backups[0]!.params.path).toBe(backups[1]!.params.path);
    expect(session.parts[0]!.compress).toBe(true);
    expect(reporter.events.some((e) => e.type === 'warning' && e.message.includes('uncompressed'))).toBe(true);
    await session.cleanup();
  });

  it('a RESTORE VERIFYONLY failure fails the database and removes the .bak', async () => {
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) =>
      sql.startsWith('RESTORE VERIFYONLY')
        ? sqlError(
            3013,
            'VERIFY DATABASE is terminating abnormally. The backup set on file 1 is not valid (checksum failure).',
          )
        : null;
    const err = await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RespaldoError);
    expect((err as RespaldoError).kind).toBe('failed');
    expect((err as RespaldoError).message).toMatch(/RESTORE VERIFYONLY rejected the backup of users/);
    expect((err as RespaldoError).hint).toMatch(/not usable/);
    expect(readdirSync(localDir)).toEqual([]);
    expect(server.closed).toBe(server.opened);
  });

  it('for a safety copy (purpose safety) a damaged database is stored as it is: CONTINUE_AFTER_ERROR, and a VERIFYONLY failure is a warning', async () => {
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) =>
      sql.startsWith('RESTORE VERIFYONLY')
        ? sqlError(3013, 'VERIFY DATABASE is terminating abnormally (checksum failure).')
        : null;
    const session = await createSqlServerDriver({ connect: server.connector }).backup(
      { db: cfg(), type: 'full', purpose: 'safety' },
      ctx(),
    );
    expect(server.log.find((r) => r.sql.startsWith('BACKUP'))!.sql).toBe(
      'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, CONTINUE_AFTER_ERROR, ' +
        'COPY_ONLY, INIT, FORMAT, COMPRESSION, STATS = 1',
    );
    expect(
      reporter.events.some((e) => e.type === 'warning' && e.message.includes('RESTORE VERIFYONLY rejected it')),
    ).toBe(true);
    const opened = await session.parts[0]!.open();
    await readAll(opened.stream);
    expect(String((await opened.finished).details.verified)).toMatch(/failed/);
    await session.cleanup();
  });

  it('fails with a hint about serverBackupDir/localBackupDir when localBackupDir does not exist (before touching the server)', async () => {
    server.addDb('users', LIVE_TABLES);
    const err = (await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg({ localBackupDir: join(dir, 'not-mounted') }), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.message).toContain('not-mounted');
    expect(err.hint).toMatch(/localBackupDir .* serverBackupDir/);
    expect(server.log).toEqual([]);
  });

  it('fails with the same hint when the server wrote the .bak where respaldo cannot see it', async () => {
    server.addDb('users', LIVE_TABLES);
    server.writeDir = mkdtempSync(join(dir, 'elsewhere-'));
    const err = (await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err.message).toMatch(
      /SQL Server wrote \/var\/opt\/mssql\/backup\/respaldo-users-.*but respaldo cannot see it/,
    );
    expect(err.hint).toMatch(/localBackupDir .* must be the same folder SQL Server writes to as serverBackupDir/);
    expect(err.hint).toMatch(/still on the server/);
  });

  it.each([
    [
      'login failed',
      Object.assign(new Error("Login failed for user 'backup'."), { name: 'ConnectionError', code: 'ELOGIN' }),
      /refused the login for user "backup"/,
      /user and password/,
    ],
    [
      'unreachable',
      Object.assign(new Error('Failed to connect to db1:1433 - getaddrinfo ENOTFOUND db1'), {
        name: 'ConnectionError',
        code: 'ESOCKET',
      }),
      /Cannot reach SQL Server at db1:1433/,
      /port \(1433\)/,
    ],
    [
      'timeout',
      Object.assign(new Error('Failed to connect to db1:1433 in 15000ms'), {
        name: 'ConnectionError',
        code: 'ETIMEOUT',
      }),
      /Cannot reach SQL Server/,
      /firewall/,
    ],
    [
      'self-signed certificate',
      Object.assign(new Error('Failed to connect: self-signed certificate in certificate chain'), {
        name: 'ConnectionError',
        code: 'ESOCKET',
      }),
      /Cannot reach/,
      /trustServerCertificate/,
    ],
  ])('maps a connection error (%s) to an operator error without the password', async (_label, error, message, hint) => {
    server.connectError = error;
    const err = (await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.kind).toBe('failed');
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(hint);
    expect(JSON.stringify(err.toJSON())).not.toContain(PASSWORD);
  });

  it('a refused login names the ${VAR} its password came from, never its value', async () => {
    server.connectError = Object.assign(new Error("Login failed for user 'backup'."), {
      name: 'ConnectionError',
      code: 'ELOGIN',
    });
    const err = (await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg({ passwordVariable: 'MSSQL_PASSWORD' }), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err.message).toMatch(/refused the login for user "backup"/);
    expect(err.hint).toMatch(
      /^The password comes from MSSQL_PASSWORD: check MSSQL_PASSWORD in the environment or \.env/,
    );
    expect(JSON.stringify(err.toJSON())).not.toContain(PASSWORD);
  });

  it.each([
    [
      'BACKUP permission',
      [
        sqlError(262, "BACKUP DATABASE permission denied in database 'users'."),
        sqlError(3013, 'BACKUP DATABASE is terminating abnormally.'),
      ],
      /Permission denied/,
      /db_backupoperator/,
    ],
    [
      'access denied for the service account',
      [
        sqlError(
          3201,
          "Cannot open backup device '/var/opt/mssql/backup/x.bak'. Operating system error 5(Access is denied.).",
        ),
        sqlError(3013, 'BACKUP DATABASE is terminating abnormally.'),
      ],
      /access denied/,
      /service account/,
    ],
    [
      'path not found on the server',
      [
        sqlError(
          3201,
          "Cannot open backup device 'D:\\Nope\\x.bak'. Operating system error 3(The system cannot find the path specified.).",
        ),
        sqlError(3013, 'BACKUP DATABASE is terminating abnormally.'),
      ],
      /path not found/,
      /as the \*server\* sees it/,
    ],
  ])('maps a BACKUP failure (%s) to an operator hint', async (_label, errors, message, hint) => {
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) => {
      if (!sql.startsWith('BACKUP')) return null;
      const last = errors[errors.length - 1]!;
      return Object.assign(last, { precedingErrors: errors.slice(0, -1) });
    };
    const err = (await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(hint);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('fails clearly when the database does not exist on the server', async () => {
    const err = (await createSqlServerDriver({ connect: server.connector })
      .backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err.message).toBe('Database "users" does not exist on SQL Server at db1:1433.');
  });

  it('refuses a schema backup instead of faking one', async () => {
    server.addDb('users', LIVE_TABLES);
    const driver = createSqlServerDriver({ connect: server.connector });
    expect(driver.types).toEqual(['full', 'differential', 'incremental']);
    await expect(driver.backup({ db: cfg(), type: 'schema', purpose: 'backup' }, ctx())).rejects.toThrow(
      /not possible with native BACKUP DATABASE/,
    );
    expect(server.log).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Restore

describe('sqlserver executor (fake connection): restore', () => {
  const setId = '20261122_101500';
  const { temp, safety } = stagingNames('users', setId);

  it('restores into the temporary database, checks row counts, swaps, and keeps the old database as the safety copy', async () => {
    server.addDb('users', LIVE_TABLES);
    const driver = createSqlServerDriver({ connect: server.connector });
    const result = await driver.restore(restoreReq(), ctx());
    expect(result).toEqual({ safetyDatabase: safety, tables: BACKUP_TABLES, restoredTo: 'users' });
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#from-backup', userAccess: 'MULTI_USER' });
    expect(server.dbs.get(safety)).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect(server.dbs.has(temp)).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
    const restore = server.log.find((r) => r.sql.startsWith('RESTORE DATABASE'))!;
    expect(restore.params.db).toBe(temp);
    const swapAt = server.log.findIndex((r) => r.sql.startsWith('BEGIN TRY'));
    expect(server.log.slice(swapAt, swapAt + 3).map((r) => r.sql)).toEqual([
      [
        'BEGIN TRY',
        '  ALTER DATABASE [users] SET SINGLE_USER WITH NO_WAIT;',
        `  ALTER DATABASE [users] MODIFY NAME = [${safety}];`,
        'END TRY',
        'BEGIN CATCH',
        '  THROW;',
        'END CATCH',
      ].join('\n'),
      `ALTER DATABASE [${temp}] MODIFY NAME = [users]`,
      `ALTER DATABASE [${safety}] SET MULTI_USER WITH ROLLBACK IMMEDIATE`,
    ]);
    const percents = reporter.events.flatMap((e) => (e.type === 'item-progress' ? [e.percent] : []));
    expect(percents).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(server.closed).toBe(server.opened);
    // a completed restore leaves nothing for recover() to do; the safety copy stays
    expect(await driver.recover(cfg(), ctx())).toEqual([]);
    expect(server.dbs.has(safety)).toBe(true);
  });

  it('writes the stored .bak to localBackupDir under a unique name and hands the server its serverBackupDir path', async () => {
    server.addDb('users', LIVE_TABLES);
    let seen: string[] = [];
    server.inject = (sql) => {
      if (sql.startsWith('RESTORE FILELISTONLY')) seen = readdirSync(localDir);
      return null;
    };
    await createSqlServerDriver({ connect: server.connector }).restore(restoreReq(), ctx());
    const bak = seen.find((n) => n.endsWith('.bak'))!;
    expect(bak).toMatch(/^respaldo-restore-users-[0-9a-f]{8}-20261122_101500-\d{8}T\d{6}Z-[0-9a-f]{6}\.bak$/);
    expect(seen.some((n) => n.endsWith('.journal.json'))).toBe(true);
    expect(server.log.find((r) => r.sql.startsWith('RESTORE FILELISTONLY'))!.params.path).toBe(`${SERVER_DIR}/${bak}`);
  });

  it('restores onto a server where the database does not exist yet (no safety copy)', async () => {
    const result = await createSqlServerDriver({ connect: server.connector }).restore(restoreReq(), ctx());
    expect(result).toEqual({ tables: BACKUP_TABLES, restoredTo: 'users' });
    expect([...server.dbs.keys()]).toEqual(['users']);
  });

  // The statements of a successful in-place restore, in order; a failure is injected at each.
  async function happyStatements(): Promise<string[]> {
    const probe = new FakeServer(localDir);
    probe.addDb('users', LIVE_TABLES);
    await createSqlServerDriver({ connect: probe.connector }).restore(restoreReq(), ctx());
    return probe.log.map((r) => r.sql);
  }

  const multiUserSafety = `ALTER DATABASE [${safety}] SET MULTI_USER WITH ROLLBACK IMMEDIATE`;

  it('a failure at every restore step leaves the live database untouched and MULTI_USER, the temporary database dropped and no file behind', async () => {
    const statements = await happyStatements();
    const lastMultiUser = statements.findIndex((sql) => sql === multiUserSafety);
    expect(lastMultiUser).toBeGreaterThan(0);
    expect(statements.length).toBeGreaterThanOrEqual(12);
    for (let i = 0; i < lastMultiUser; i++) {
      server = new FakeServer(localDir);
      server.addDb('users', LIVE_TABLES);
      reporter = new CollectingReporter();
      server.inject = (_sql, _p, index) => (index === i ? sqlError(50000, `injected failure at step ${i}`) : null);
      const err = await createSqlServerDriver({ connect: server.connector })
        .restore(restoreReq(), ctx())
        .catch((e: unknown) => e);
      const label = `step ${i}: ${statements[i]!.split('\n')[0]}`;
      expect(err, label).toBeInstanceOf(RespaldoError);
      expect((err as Error).message, label).toContain(`injected failure at step ${i}`);
      expect(server.dbs.get('users'), label).toMatchObject({
        id: 'users#original',
        userAccess: 'MULTI_USER',
        tables: LIVE_TABLES,
      });
      expect([...server.dbs.keys()], label).toEqual(['users']);
      expect(readdirSync(localDir), label).toEqual([]);
      expect(server.closed, label).toBe(server.opened);
    }
  });

  it('when the rename back also fails, the old database is kept as the safety copy and recover() puts it back', async () => {
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) =>
      sql.startsWith(`ALTER DATABASE [${temp}] MODIFY NAME`) ||
      sql === `ALTER DATABASE [${safety}] MODIFY NAME = [users]`
        ? sqlError(5030, 'The database could not be exclusively locked to perform the operation.')
        : null;
    const driver = createSqlServerDriver({ connect: server.connector });
    const err = (await driver.restore(restoreReq(), ctx()).catch((e: unknown) => e)) as RespaldoError;
    expect(err.message).toMatch(/renaming the previous database back failed too/);
    expect(err.hint).toContain(`ALTER DATABASE [${safety}] MODIFY NAME = [users]`);
    expect(server.dbs.get(safety)).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect(server.dbs.has('users')).toBe(false);
    expect(server.dbs.has(temp)).toBe(false);
    expect(readdirSync(localDir).filter((n) => n.endsWith('.journal.json'))).toHaveLength(1);

    server.inject = () => null;
    const actions = (await driver.recover(cfg(), ctx())).map((a) => a.message);
    expect(actions[0]).toBe(`rolled back an interrupted swap: renamed ${safety} back to users`);
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('a failure of the final MULTI_USER after a complete swap is a warning naming the statement to run', async () => {
    server.addDb('users', LIVE_TABLES);
    const lockFailed = sqlError(5061, 'ALTER DATABASE failed because a lock could not be placed');
    server.inject = (sql) => (sql === multiUserSafety ? lockFailed : null);
    const result = await createSqlServerDriver({ connect: server.connector }).restore(
      restoreReq({ terminateConnections: true }),
      ctx(),
    );
    expect(result.restoredTo).toBe('users');
    const warning = reporter.events.find((e) => e.type === 'warning');
    expect(warning && warning.type === 'warning' ? warning.message : '').toContain(`Run: ${multiUserSafety}`);
    expect(server.log.filter((r) => r.sql === multiUserSafety)).toHaveLength(5);
  });

  it('a corrupt stored stream fails before anything is restored', async () => {
    server.addDb('users', LIVE_TABLES);
    const req = restoreReq({
      openPart: () =>
        new Readable({
          read() {
            this.destroy(new Error('unexpected end of file'));
          },
        }),
    });
    const err = (await createSqlServerDriver({ connect: server.connector })
      .restore(req, ctx())
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.message).toMatch(/unexpected end of file/);
    expect(server.log.some((r) => r.sql.startsWith('RESTORE'))).toBe(false);
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('row counts that differ from the manifest (estimates) are a warning with the figures, not a refusal', async () => {
    server.addDb('users', LIVE_TABLES);
    const e = entry({ 'dbo.Album': 301, 'dbo.Artist': 250 });
    e.details = { rowCountsDrift: ['dbo.Album: 301 rows, expected 299'] };
    const result = await createSqlServerDriver({ connect: server.connector }).restore(restoreReq({ entry: e }), ctx());
    expect(result.safetyDatabase).toBe(safety);
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
    const warning = reporter.events.find((ev) => ev.type === 'warning');
    expect(warning && warning.type === 'warning' ? warning.message : '').toBe(
      "Row counts of users differ from the manifest's estimates (the database was written during the backup): " +
        'dbo.Album: 300 rows, expected 301',
    );
  });

  it('refuses when other sessions use the live database and --terminate-connections was not given', async () => {
    server.addDb('users', LIVE_TABLES, { sessions: ['app'] });
    const err = await createSqlServerDriver({ connect: server.connector })
      .restore(restoreReq(), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).message).toContain('app@app1 (session 60, app)');
    expect((err as RefusedError).hint).toContain('--terminate-connections');
    expect(server.log.some((r) => r.sql.startsWith('RESTORE'))).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('a session that connects during the restore still blocks the swap (NO_WAIT), and nothing is replaced', async () => {
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) => {
      if (sql.startsWith('RESTORE DATABASE')) server.dbs.get('users')!.sessions.push('late');
      return null;
    };
    const err = await createSqlServerDriver({ connect: server.connector })
      .restore(restoreReq(), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).hint).toContain('--terminate-connections');
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect([...server.dbs.keys()]).toEqual(['users']);
  });

  it('with --terminate-connections closes the sessions (ROLLBACK IMMEDIATE) and swaps', async () => {
    server.addDb('users', LIVE_TABLES, { sessions: ['app'] });
    const result = await createSqlServerDriver({ connect: server.connector }).restore(
      restoreReq({ terminateConnections: true }),
      ctx(),
    );
    expect(result.safetyDatabase).toBe(safety);
    const closing = '  ALTER DATABASE [users] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\n';
    expect(server.log.some((r) => r.sql.includes(closing))).toBe(true);
  });

  it('refuses without --terminate-connections when the login cannot see other sessions', async () => {
    server.addDb('users', LIVE_TABLES);
    server.canViewServerState = 0;
    const err = await createSqlServerDriver({ connect: server.connector })
      .restore(restoreReq(), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).hint).toMatch(/--terminate-connections|VIEW SERVER STATE/);
  });

  it('the same set restored again while its earlier safety copy is kept: a new one beside it (round 2), said, never overwritten', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb(safety, LIVE_TABLES, { id: 'users#first-safety' });
    const driver = createSqlServerDriver({ connect: server.connector });
    const second = `${safety}__2`;
    const result = await driver.restore(restoreReq(), ctx());
    expect(result).toEqual({ safetyDatabase: second, tables: BACKUP_TABLES, restoredTo: 'users' });
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
    expect(server.dbs.get(safety)!.id).toBe('users#first-safety');
    expect(server.dbs.get(second)).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    const notes = reporter.events.flatMap((e) =>
      e.type === 'warning' && e.phrase?.id === 'note.safetyRound' ? [e] : [],
    );
    expect(notes.map((e) => e.message)).toEqual([
      `an earlier restore of this set still keeps its safety copy "${safety}"; this one keeps the database it replaces as "${second}", beside it`,
    ]);
    expect(await driver.recover(cfg(), ctx())).toEqual([]);
  });

  it('stops before touching anything when interrupted', async () => {
    server.addDb('users', LIVE_TABLES);
    const ac = new AbortController();
    ac.abort();
    const err = (await createSqlServerDriver({ connect: server.connector })
      .restore(restoreReq(), ctx(ac.signal))
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err.kind).toBe('interrupted');
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(readdirSync(localDir)).toEqual([]);
  });

  describe('side by side', () => {
    it('restores under the new name and leaves the live database alone', async () => {
      server.addDb('users', LIVE_TABLES, { sessions: ['app'] });
      const result = await createSqlServerDriver({ connect: server.connector }).restore(
        restoreReq({ target: { kind: 'side-by-side', name: 'users_copy' } }),
        ctx(),
      );
      expect(result).toEqual({ tables: BACKUP_TABLES, restoredTo: 'users_copy' });
      expect(server.dbs.get('users')).toMatchObject({
        id: 'users#original',
        sessions: ['app'],
        userAccess: 'MULTI_USER',
      });
      expect(server.dbs.get('users_copy')!.id).toBe('users#from-backup');
      expect(server.log.some((r) => r.sql.includes('SINGLE_USER'))).toBe(false);
    });

    it("a drill's scratch target: RESTORE VERIFYONLY of the copied .bak before FILELISTONLY and RESTORE … WITH MOVE", async () => {
      const target = { kind: 'side-by-side' as const, name: 'users__drill_1', scratch: true };
      const result = await createSqlServerDriver({ connect: server.connector }).restore(restoreReq({ target }), ctx());
      expect(result.preChecks).toEqual([{ name: 'RESTORE VERIFYONLY', ok: true, detail: 'WITH CHECKSUM' }]);
      const order = statementsOf(server).filter((l) => l.startsWith('RESTORE'));
      expect(order.map((l) => l.split(' FROM')[0])).toEqual([
        'RESTORE VERIFYONLY',
        'RESTORE FILELISTONLY',
        'RESTORE DATABASE @db',
      ]);
      const onFile = server.log.filter((r) => r.sql.startsWith('RESTORE')).map((r) => r.params.path);
      expect(new Set(onFile).size).toBe(1);
      expect(server.dbs.get('users__drill_1')!.id).toBe('users#from-backup');
    });

    it('a drill whose backup VERIFYONLY rejects fails as verifyFailed before anything is restored, leaving nothing behind', async () => {
      server.inject = (sql) =>
        sql.startsWith('RESTORE VERIFYONLY') ? sqlError(3189, 'Damage to the backup set was detected.') : null;
      const target = { kind: 'side-by-side' as const, name: 'users__drill_1', scratch: true };
      const err = (await createSqlServerDriver({ connect: server.connector })
        .restore(restoreReq({ target }), ctx())
        .catch((e: unknown) => e)) as RespaldoError;
      expect(err).toBeInstanceOf(RespaldoError);
      expect(err.kind).toBe('verifyFailed');
      expect(err.message).toMatch(/RESTORE VERIFYONLY rejected the stored backup of users: .*Damage to the backup set/);
      expect(server.log.some((r) => r.sql.startsWith('RESTORE DATABASE'))).toBe(false);
      expect([...server.dbs.keys()].some((n) => n.includes('__'))).toBe(false);
      expect(readdirSync(localDir)).toEqual([]);
    });

    it('a plain side-by-side restore reads the .bak once (no VERIFYONLY)', async () => {
      const result = await createSqlServerDriver({ connect: server.connector }).restore(
        restoreReq({ target: { kind: 'side-by-side', name: 'users_copy' } }),
        ctx(),
      );
      expect(result.preChecks).toBeUndefined();
      expect(server.log.some((r) => r.sql.startsWith('RESTORE VERIFYONLY'))).toBe(false);
    });

    it('refuses a target that exists', async () => {
      server.addDb('users', LIVE_TABLES);
      server.addDb('users_copy', {});
      const err = await createSqlServerDriver({ connect: server.connector })
        .restore(restoreReq({ target: { kind: 'side-by-side', name: 'users_copy' } }), ctx())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RefusedError);
      expect(server.log.some((r) => r.sql.startsWith('RESTORE'))).toBe(false);
    });

    it('keeps the copy but warns when row counts differ', async () => {
      const result = await createSqlServerDriver({ connect: server.connector }).restore(
        restoreReq({
          target: { kind: 'side-by-side', name: 'users_copy' },
          entry: entry({ 'dbo.Album': 1, 'dbo.Artist': 250 }),
        }),
        ctx(),
      );
      expect(result.restoredTo).toBe('users_copy');
      expect(
        reporter.events.some((e) => e.type === 'warning' && e.message.includes('dbo.Album: 300 rows, expected 1')),
      ).toBe(true);
    });

    it('quotes hostile target names', async () => {
      const name = "x]; DROP DATABASE users--'";
      await createSqlServerDriver({ connect: server.connector }).restore(
        restoreReq({ target: { kind: 'side-by-side', name } }),
        ctx(),
      );
      expect(server.dbs.has(name)).toBe(true);
      expect(server.log.find((r) => r.sql.includes('MODIFY NAME'))!.sql).toBe(
        `ALTER DATABASE [${stagingNames(name, setId).temp.replaceAll(']', ']]')}] MODIFY NAME = [x]]; DROP DATABASE users--']`,
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Recover, safety copies, inspect

describe('sqlserver executor (fake connection): recover, dropSafetyCopy, inspectTarget', () => {
  const setId = 's1';
  const { temp, safety } = stagingNames('users', setId);

  it('reports nothing when nothing was left', async () => {
    server.addDb('users', LIVE_TABLES);
    expect(await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).toEqual([]);
  });

  it('drops a temporary database left before the swap and removes leftover files', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb(temp, BACKUP_TABLES, { state: 'RESTORING' });
    const mine = `${restoreFilePrefix('users')}s1-20261122T101500Z-abcdef.bak`;
    const other = `${restoreFilePrefix('users2')}s1-20261122T101500Z-abcdef.bak`;
    writeFileSync(join(localDir, mine), 'x');
    writeFileSync(join(localDir, other), 'x');
    const actions = (await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).map(
      (a) => a.message,
    );
    expect(actions[0]).toBe(
      `rolled back an interrupted restore: dropped the temporary database ${temp} (users was not touched)`,
    );
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(actions).toContain(`removed the leftover restore file ${join(localDir, mine)}`);
    // only files with this database's exact prefix are removed
    expect(readdirSync(localDir)).toEqual([other]);
  });

  it('finishes a swap interrupted after the live database was renamed', async () => {
    server.addDb(safety, LIVE_TABLES, { userAccess: 'SINGLE_USER' });
    server.addDb(temp, BACKUP_TABLES, { id: 'users#from-backup' });
    const actions = (await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).map(
      (a) => a.message,
    );
    expect(actions).toEqual([
      `finished an interrupted swap: renamed the restored database ${temp} to users (previous database kept as ${safety})`,
      `set the safety copy ${safety} back to MULTI_USER`,
    ]);
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
    expect(server.dbs.get(safety)!.userAccess).toBe('MULTI_USER');
  });

  it('a temporary database left RESTORING beside a safety copy is never renamed in: the safety copy goes back', async () => {
    server.addDb(safety, LIVE_TABLES, { userAccess: 'SINGLE_USER' });
    server.addDb(temp, BACKUP_TABLES, { id: 'users#half-restored', state: 'RESTORING' });
    const actions = (await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).map(
      (a) => a.message,
    );
    expect(actions).toEqual([
      `rolled back an interrupted swap: renamed ${safety} back to users`,
      'set users back to MULTI_USER',
      `dropped the leftover temporary database ${temp}`,
    ]);
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(server.dbs.get('users')!.id).toBe(`${safety}#original`);
    // Dropped as it is: ALTER DATABASE … SET SINGLE_USER fails on a RESTORING database (5052).
    expect(server.log.at(-1)!.sql).toBe(`IF DB_ID(@name) IS NOT NULL DROP DATABASE [${temp}]`);
  });

  it("a second restore of the set cut after the live database was renamed: its swap finished, naming that restore's own safety copy", async () => {
    server.addDb(safety, LIVE_TABLES, { id: 'users#first-safety' });
    server.addDb(`${safety}__2`, LIVE_TABLES, { userAccess: 'SINGLE_USER' });
    server.addDb(temp, BACKUP_TABLES, { id: 'users#from-backup' });
    const actions = (await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).map(
      (a) => a.message,
    );
    expect(actions).toEqual([
      `finished an interrupted swap: renamed the restored database ${temp} to users (previous database kept as ${safety}__2)`,
      `set the safety copy ${safety}__2 back to MULTI_USER`,
    ]);
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
    expect(server.dbs.get(safety)!.id).toBe('users#first-safety');
  });

  it('a second restore of the set cut with no temporary database left: its own safety copy (the newest) takes the name back', async () => {
    server.addDb(safety, LIVE_TABLES, { id: 'users#first-safety' });
    server.addDb(`${safety}__2`, LIVE_TABLES, { id: 'users#before-second', userAccess: 'SINGLE_USER' });
    await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx());
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#before-second', userAccess: 'MULTI_USER' });
    expect(server.dbs.get(safety)!.id).toBe('users#first-safety');
  });

  it('with a journal in phase swapping, finishes a first restore whose rename was interrupted; without one, drops the temporary database', async () => {
    const journal = (phase: string) =>
      writeFileSync(
        join(localDir, `respaldo-restore-${fileStem('users')}.journal.json`),
        JSON.stringify({
          tool: 'respaldo',
          config: 'users',
          live: 'users',
          temp,
          safety: null,
          setId,
          kind: 'in-place',
          phase,
          bakFile: 'x.bak',
          startedAt: '2026-11-22T10:00:00Z',
        }),
      );
    journal('swapping');
    server.addDb(temp, BACKUP_TABLES, { id: 'users#from-backup' });
    const driver = createSqlServerDriver({ connect: server.connector });
    const actions = (await driver.recover(cfg(), ctx())).map((a) => a.message);
    expect(actions[0]).toBe(`finished an interrupted restore: renamed the verified database ${temp} to users`);
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
    expect(readdirSync(localDir)).toEqual([]);

    server.dbs.clear();
    journal('restoring');
    server.addDb(temp, BACKUP_TABLES);
    expect((await driver.recover(cfg(), ctx()))[0]?.message).toBe(
      `rolled back an interrupted restore: dropped the temporary database ${temp}`,
    );
    expect(server.dbs.size).toBe(0);
  });

  it('uses the journal to find an interrupted side-by-side restore', async () => {
    const side = stagingNames('users_copy', setId);
    writeFileSync(
      join(localDir, `respaldo-restore-${fileStem('users_copy')}.journal.json`),
      JSON.stringify({
        tool: 'respaldo',
        config: 'users',
        live: 'users_copy',
        temp: side.temp,
        safety: null,
        setId,
        kind: 'side-by-side',
        phase: 'restoring',
        bakFile: 'x.bak',
        startedAt: '2026-11-22T10:00:00Z',
      }),
    );
    server.addDb('users', LIVE_TABLES);
    server.addDb(side.temp, BACKUP_TABLES, { state: 'RESTORING' });
    const actions = (await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).map(
      (a) => a.message,
    );
    expect(actions[0]).toBe(`rolled back an interrupted restore: dropped the temporary database ${side.temp}`);
    expect([...server.dbs.keys()]).toEqual(['users']);
    // a journal of another configured database is not this one's business
    writeFileSync(
      join(localDir, `respaldo-restore-${fileStem('inv')}.journal.json`),
      JSON.stringify({
        tool: 'respaldo',
        config: 'inventario',
        live: 'inv',
        temp: 'inv__restore_s1',
        setId,
        phase: 'restoring',
      }),
    );
    server.addDb('inv__restore_s1', {});
    expect(await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).toEqual([]);
    expect(server.dbs.has('inv__restore_s1')).toBe(true);
  });

  it('leaves other databases alone', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb('users2__restore_s1', {});
    server.addDb('inventario__pre_restore_s1', {});
    expect(await createSqlServerDriver({ connect: server.connector }).recover(cfg(), ctx())).toEqual([]);
    expect(server.dbs.size).toBe(3);
  });

  it('dropSafetyCopy drops only __pre_restore_ copies of this database', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb(safety, LIVE_TABLES, { sessions: ['x'] });
    const driver = createSqlServerDriver({ connect: server.connector });
    await expect(driver.dropSafetyCopy!(cfg(), 'users')).rejects.toBeInstanceOf(RefusedError);
    await expect(driver.dropSafetyCopy!(cfg(), temp)).rejects.toBeInstanceOf(RefusedError);
    await expect(driver.dropSafetyCopy!(cfg(), 'inventario__pre_restore_s1')).rejects.toBeInstanceOf(RefusedError);
    expect(server.log).toEqual([]);
    await driver.dropSafetyCopy!(cfg(), safety);
    expect([...server.dbs.keys()]).toEqual(['users']);
  });

  it('inspectTarget reports existence, size and sessions', async () => {
    server.addDb('users', LIVE_TABLES, { sessions: ['app'] });
    const driver = createSqlServerDriver({ connect: server.connector });
    expect(await driver.inspectTarget(cfg(), { kind: 'in-place' })).toEqual({
      exists: true,
      sizeBytes: 16777216,
      inUseBy: ['app@app1 (session 60, app)'],
      keptSafeties: [],
    });
    expect(await driver.inspectTarget(cfg(), { kind: 'side-by-side', name: 'nope' })).toEqual({
      exists: false,
      sizeBytes: null,
      inUseBy: [],
    });
    server.canViewServerState = 0;
    expect((await driver.inspectTarget(cfg(), { kind: 'in-place' })).inUseBy[0]).toMatch(/VIEW SERVER STATE/);
  });
});

// ---------------------------------------------------------------------------------------------
// Config

describe('sqlserver config', () => {
  const driver = createSqlServerDriver({ connect: async () => Promise.reject(new Error('not used')) });

  it.each([
    [
      'sqlserver://sa:p%40ss@db1:1433/users?encrypt=false&trustServerCertificate=true',
      {
        server: 'db1',
        port: 1433,
        user: 'sa',
        password: 'p@ss',
        database: 'users',
        encrypt: false,
        trustServerCertificate: true,
      },
    ],
    [
      'mssql://u:p@db1/SQLEXPRESS/users',
      { server: 'db1', instance: 'SQLEXPRESS', database: 'users', user: 'u', password: 'p' },
    ],
    ['sqlserver://db1?instance=INST&database=inventario', { server: 'db1', instance: 'INST', database: 'inventario' }],
    ['sqlserver://db1?port=1444&databaseName=a%5Db', { server: 'db1', port: 1444, database: 'a]b' }],
  ])('parses %s', (url, fields) => {
    const parsed = parseSqlServerUrl(url);
    expect(parsed.problems).toEqual([]);
    expect(parsed.fields).toEqual(fields);
  });

  it.each([
    ['postgres://db1/users', /scheme postgres/],
    ['sqlserver://db1/users?encrypt=maybe', /encrypt=maybe/],
    ['sqlserver://db1/a/b/c', /more than two path segments/],
    ['sqlserver://db1/users?password=x', /user:password part/],
    ['not a url', /not a valid URL/],
  ])('rejects %s', (url, re) => {
    expect(parseSqlServerUrl(url).problems[0]!.problem).toMatch(re);
  });

  it('a valid config has no problems (fields or url)', () => {
    expect(driver.validateConfig(cfg())).toEqual([]);
    expect(
      driver.validateConfig({
        name: 'u',
        engine: 'sqlserver',
        url: 'sqlserver://sa:pw@db1/users',
        serverBackupDir: 'D:\\Backups',
        localBackupDir: '/mnt/db1-backups',
      }),
    ).toEqual([]);
  });

  it('names every missing field by path', () => {
    const problems = driver.validateConfig({ name: '', engine: 'sqlserver' });
    expect(problems.map((p) => p.path).sort()).toEqual([
      'database',
      'localBackupDir',
      'password',
      'server',
      'serverBackupDir',
      'user',
    ]);
    expect(problems.find((p) => p.path === 'serverBackupDir')!.hint).toMatch(/as SQL Server sees it/);
  });

  it.each([
    [{ port: 70000 }, 'port'],
    [{ instance: 'X', port: 1433 }, 'instance'],
    [{ database: 'x'.repeat(129) }, 'database'],
    [{ serverBackupDir: 'relative\\dir' }, 'serverBackupDir'],
    [{ localBackupDir: 'relative' }, 'localBackupDir'],
    [{ encrypt: 'yes' as unknown as boolean }, 'encrypt'],
  ])('flags %j', (extra, path) => {
    expect(driver.validateConfig(cfg(extra)).map((p) => p.path)).toContain(path);
  });

  it('a server written HOST\\INSTANCE (as sqlcmd and SSMS write it) is that host and named instance', () => {
    const s = resolveSettings(cfg({ server: 'db1\\SQLEXPRESS' }));
    expect([s.server, s.instance, s.port]).toEqual(['db1', 'SQLEXPRESS', undefined]);
    expect(driver.describe(cfg({ server: 'db1\\SQLEXPRESS' }))).toBe(
      'SQL Server database "users" on db1\\SQLEXPRESS as backup',
    );
    // an unreachable named instance is said with the Browser service, not a port it does not use
    const down = mapSqlError(
      Object.assign(new Error('Failed to connect'), { name: 'ConnectionError', code: 'EINSTLOOKUP' }),
      'back up',
      s,
    );
    expect((down as RespaldoError).hint).toMatch(/SQL Server Browser service/);
    // a port beside it is flagged (the instance's port is looked up), as with the instance field
    expect(driver.validateConfig(cfg({ server: 'db1\\SQLEXPRESS', port: 1433 })).map((p) => p.path)).toContain(
      'instance',
    );
    expect(driver.validateConfig(cfg({ server: 'db1\\SQLEXPRESS', instance: 'OTHER' })).map((p) => p.path)).toContain(
      'server',
    );
  });

  it('the database defaults to the entry name (as the config schema says)', () => {
    const { database: _omit, ...rest } = cfg();
    expect(driver.validateConfig(rest)).toEqual([]);
    expect(driver.describe(rest)).toBe('SQL Server database "users" on db1:1433 as backup');
    expect(driver.describe({ ...rest, url: 'sqlserver://db1/inventario' })).toBe(
      'SQL Server database "inventario" on db1:1433 as backup',
    );
  });

  it('explicit fields win over the url, and the connector gets the merged settings', async () => {
    server.addDb('users', {});
    const d = createSqlServerDriver({ connect: server.connector });
    await d.inspectTarget(cfg({ url: 'sqlserver://x:y@far:1500/old', server: undefined }), { kind: 'in-place' });
    expect(server.lastSettings).toMatchObject({
      server: 'far',
      port: 1500,
      user: 'backup',
      password: PASSWORD,
      database: 'users',
      encrypt: true,
      trustServerCertificate: true,
    });
  });

  it('describe never shows the password', () => {
    expect(driver.describe(cfg())).toBe('SQL Server database "users" on db1:1433 as backup');
    const d = driver.describe({
      name: 'u',
      engine: 'sqlserver',
      url: `sqlserver://sa:${PASSWORD}@db1/SQLEXPRESS/users`,
    });
    expect(d).toBe('SQL Server database "users" on db1\\SQLEXPRESS as sa');
    expect(d).not.toContain(PASSWORD);
  });

  it('planRestore describes the staging, safety and rollback names', () => {
    const plan = driver.planRestore({ db: cfg(), entry: entry(), setId: 's1', target: { kind: 'in-place' } });
    expect(plan).toMatchObject({
      database: 'users',
      target: 'database "users" on db1:1433',
      replaces: true,
      staging: 'database "users__restore_s1"',
      safety: { kind: 'renamed-database', name: 'users__pre_restore_s1' },
    });
    expect(plan.rollback).toContain('ALTER DATABASE [users__pre_restore_s1] MODIFY NAME = [users]');
    const side = driver.planRestore({
      db: cfg(),
      entry: entry(),
      setId: 's1',
      target: { kind: 'side-by-side', name: 'copy' },
    });
    expect(side).toMatchObject({ replaces: false, safety: { kind: 'none' }, target: 'database "copy" on db1:1433' });
  });

  it('inspectTarget lists the kept safety copies of the database; the plan then names the next round', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb('users__pre_restore_s1', LIVE_TABLES);
    server.addDb('other__pre_restore_s1', LIVE_TABLES);
    const live = createSqlServerDriver({ connect: server.connector });
    const state = await live.inspectTarget(cfg(), { kind: 'in-place' });
    expect(state.keptSafeties).toEqual(['users__pre_restore_s1']);
    const plan = live.planRestore({
      db: cfg(),
      entry: entry(),
      setId: 's1',
      target: { kind: 'in-place' },
      keptSafeties: state.keptSafeties!,
    });
    expect(plan.safety).toEqual({ kind: 'renamed-database', name: 'users__pre_restore_s1__2' });
    expect(plan.rollback).toContain('ALTER DATABASE [users__pre_restore_s1__2] MODIFY NAME = [users]');
  });

  it('planRestore in place onto a server without the database: no set-aside, no safety copy, the rollback drops it', () => {
    const plan = driver.planRestore({
      db: cfg(),
      entry: entry(),
      setId: 's1',
      target: { kind: 'in-place' },
      targetExists: false,
    });
    expect(plan).toMatchObject({
      replaces: true,
      safety: { kind: 'none', reason: 'database "users" does not exist now; nothing is replaced' },
    });
    expect(plan.steps.slice(-2)).toEqual([
      'Rename "users__restore_s1" to "users" (refused if "users" exists)',
      'Remove the temporary .bak',
    ]);
    expect(plan.steps.join('\n')).not.toMatch(/pre_restore|SINGLE_USER/);
    expect(plan.rollback).toBe('Drop "users" when you no longer need it (DROP DATABASE [users]).');
  });

  it('compareRowCounts lists missing, different and unexpected tables', () => {
    expect(compareRowCounts({ 'dbo.a': 1, 'dbo.b': 2 }, { 'dbo.a': 1, 'dbo.c': 3 })).toEqual([
      'dbo.b: missing (expected 2 rows)',
      "dbo.c: not in the backup's manifest",
    ]);
    expect(compareRowCounts(null, { 'dbo.a': 1 })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The real mssql connector, against a port where nothing listens (no SQL Server needed)

describe('sqlserver driver with the real mssql client: unreachable server', () => {
  it('maps a refused connection to an operator error with a hint, without the password', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const driver = createSqlServerDriver();
    const err = (await driver
      .inspectTarget(
        {
          name: 'users',
          engine: 'sqlserver',
          url: `sqlserver://sa:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/users`,
          serverBackupDir: SERVER_DIR,
          localBackupDir: localDir,
        },
        { kind: 'in-place' },
      )
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.kind).toBe('failed');
    expect(err.message).toMatch(new RegExp(`Cannot reach SQL Server at 127\\.0\\.0\\.1:${port}`));
    expect(err.hint).toMatch(/firewall/);
    expect(JSON.stringify(err.toJSON()) + err.message).not.toContain(PASSWORD);
  });
});

// ---------------------------------------------------------------------------------------------
// Issue 16: server behaviour the driver must survive

/** Backs `users` up through the driver and returns the stored content and the manifest entry. */
async function backupThroughDriver(
  driver = createSqlServerDriver({ connect: server.connector, retryDelayMs: () => 0 }),
  purpose: 'backup' | 'safety' = 'backup',
  c = ctx(),
): Promise<{ content: string; entry: DatabaseEntry }> {
  const session = await driver.backup({ db: cfg(), type: 'full', purpose }, c);
  const opened = await session.parts[0]!.open();
  const content = await readAll(opened.stream);
  const facts = await opened.finished;
  await session.cleanup();
  return { content, entry: { ...entry(facts.tables), details: facts.details } };
}

const noDelay = (): ReturnType<typeof createSqlServerDriver> =>
  createSqlServerDriver({ connect: server.connector, retryDelayMs: () => 0 });
const warnings = (): string[] => reporter.events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));

describe('issue 16: SQL Server behaviour modelled in the fake', () => {
  const setId = '20261122_101500';
  const { safety } = stagingNames('users', setId);

  it('16.1 rows written during BACKUP: counts are estimates with the drift; in-place restore warns', async () => {
    const live = server.addDb('users', { ...LIVE_TABLES });
    server.duringBackup = () => {
      live.tables['dbo.Album'] = 350;
      live.id = 'users#written-during-backup';
    };
    const { content, entry: e } = await backupThroughDriver();
    expect(e.tables).toEqual({ 'dbo.Album': 350, 'dbo.Artist': 275 });
    expect(e.details.rowCounts).toMatch(/^estimate: .*written during the backup/);
    expect(e.details.rowCountsDrift).toEqual(['dbo.Album: 350 rows, expected 347']);
    // the server's own consistency point differs again from what sys.partitions said (approximate)
    const bak = JSON.parse(content);
    bak.tables['dbo.Album'] = 349;
    const result = await noDelay().restore(restoreReq({ entry: e }, JSON.stringify(bak)), ctx());
    expect(result.restoredTo).toBe('users');
    expect(server.dbs.get('users')!.tables['dbo.Album']).toBe(349);
    expect(warnings()).toContain(
      "Row counts of users differ from the manifest's estimates (the database was written during the backup): " +
        'dbo.Album: 349 rows, expected 350',
    );
  });

  it('16.2 restoring the same set in place a second time does not collide on physical file names', async () => {
    server.addDb('users', LIVE_TABLES);
    const driver = noDelay();
    await driver.restore(restoreReq(), ctx());
    const firstFiles = server.dbs.get('users')!.files;
    await driver.dropSafetyCopy!(cfg(), safety);
    await driver.restore(restoreReq(), ctx());
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
    expect(server.dbs.get('users')!.files).not.toEqual(firstFiles);
    expect(server.dbs.get(safety)!.files).toEqual(firstFiles);
  });

  it('16.3 a connection that takes the single-user slot between round trips cannot break the swap', async () => {
    server.addDb('users', LIVE_TABLES);
    server.competitors = 5;
    const result = await noDelay().restore(restoreReq(), ctx());
    expect(result.safetyDatabase).toBe(safety);
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#from-backup', userAccess: 'MULTI_USER', holder: null });
    // the competitor took the safety copy's slot after the batch; MULTI_USER WITH ROLLBACK IMMEDIATE ended it
    expect(server.dbs.get(safety)).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER', holder: null });
    expect(server.competitors).toBeLessThan(5);
  });

  it('16.3 the two-statement swap of before fails against the same competitor (the fake models the race)', async () => {
    server.addDb('users', LIVE_TABLES);
    server.competitors = 1;
    const conn = await server.connector({} as ConnectionSettings);
    await conn.query('ALTER DATABASE [users] SET SINGLE_USER WITH NO_WAIT');
    const rename = conn.query(`ALTER DATABASE [users] MODIFY NAME = [${safety}]`);
    await expect(rename).rejects.toMatchObject({ number: 5030 });
  });

  it('16.3 a lock lost at the swap is retried a bounded number of times, then refused', async () => {
    server.addDb('users', LIVE_TABLES);
    let failures = 2;
    server.inject = (sql) => (sql.startsWith('BEGIN TRY') && failures-- > 0 ? sqlError(5030, LOCKED) : null);
    await noDelay().restore(restoreReq(), ctx());
    expect(server.log.filter((r) => r.sql.startsWith('BEGIN TRY'))).toHaveLength(3);
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');

    server = new FakeServer(localDir);
    server.addDb('users', LIVE_TABLES);
    server.inject = (sql) => (sql.startsWith('BEGIN TRY') ? sqlError(5030, LOCKED) : null);
    const err = await noDelay()
      .restore(restoreReq(), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(server.log.filter((r) => r.sql.startsWith('BEGIN TRY'))).toHaveLength(5);
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect([...server.dbs.keys()]).toEqual(['users']);
  });

  it('16.3 dropping a safety copy closes sessions and drops in one batch', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb(safety, LIVE_TABLES, { sessions: ['inspector'] });
    server.competitors = 3;
    await noDelay().dropSafetyCopy!(cfg(), safety);
    expect(server.dbs.has(safety)).toBe(false);
  });

  it('16.4 owner, TRUSTWORTHY and Service Broker reset by RESTORE are put back after an in-place restore', async () => {
    const settings = { owner: 'appowner', trustworthy: true, brokerEnabled: true, compatibilityLevel: 150 };
    server.addDb('users', LIVE_TABLES, settings);
    const { content, entry: e } = await backupThroughDriver();
    expect(e.details.settings).toEqual({ ...settings, recoveryModel: 'FULL', readOnly: false });
    const driver = noDelay();
    const plan = driver.planRestore({ db: cfg(), entry: e, setId, target: { kind: 'in-place' } });
    expect(plan.steps.some((st) => st.includes('TRUSTWORTHY'))).toBe(true);
    await driver.restore(restoreReq({ entry: e }, content), ctx());
    expect(server.dbs.get('users')).toMatchObject(settings);
    expect(server.dbs.get(safety)).toMatchObject({ id: 'users#original', brokerEnabled: false });
    expect(warnings()).toEqual([]);
  });

  it('16.4 what cannot be put back is reported with the statement to run; the restore stands', async () => {
    server.addDb('users', LIVE_TABLES, { trustworthy: true, owner: 'gone_login' });
    const { content, entry: e } = await backupThroughDriver();
    await noDelay().restore(restoreReq({ entry: e }, content), ctx());
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', trustworthy: true, owner: 'backup' });
    const reported = /^Restored users, but could not put back: owner gone_login \(.*run: ALTER AUTHORIZATION ON /;
    const whole = new RegExp(`${reported.source}DATABASE::\\[users\\] TO \\[gone_login\\]\\)$`);
    expect(warnings()).toEqual([expect.stringMatching(whole)]);
  });

  it('16.5 TDE: the backup warns and records the certificate; a restore where it is missing names it', async () => {
    server.certificates.set('AB12CD', 'TDECert_users');
    server.addDb('users', LIVE_TABLES, { tdeThumbprint: 'AB12CD' });
    const { content, entry: e } = await backupThroughDriver();
    expect(e.details.tde).toEqual({ encrypted: true, certificate: 'TDECert_users', thumbprint: 'AB12CD' });
    expect(warnings()[0]).toMatch(/encrypted with TDE \(certificate TDECert_users\).*Back the certificate up/);

    server = new FakeServer(localDir);
    server.addDb('users', LIVE_TABLES);
    const err = (await noDelay()
      .restore(restoreReq({ entry: e }, content), ctx())
      .catch((x: unknown) => x)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.message).toContain('under certificate "TDECert_users" (thumbprint AB12CD)');
    expect(err.hint).toMatch(/^Restore the certificate "TDECert_users" into master/);
    expect(server.dbs.get('users')!.id).toBe('users#original');
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it.each([
    [5, /Azure SQL Database/],
    [8, /Managed Instance/],
  ])('16.6 engine edition %s is refused before any BACKUP or RESTORE', async (edition, text) => {
    server.engineEdition = edition;
    server.addDb('users', LIVE_TABLES);
    const driver = noDelay();
    const b = await driver.backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx()).catch((x: unknown) => x);
    expect(b).toBeInstanceOf(RefusedError);
    expect((b as Error).message).toMatch(text);
    const r = await driver.restore(restoreReq(), ctx()).catch((x: unknown) => x);
    expect(r).toBeInstanceOf(RefusedError);
    expect(server.log.some((x) => /^(BACKUP|RESTORE)/.test(x.sql))).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('16.6 a database in an availability group: in-place restore refused up front, side by side allowed', async () => {
    server.addDb('users', LIVE_TABLES, { replicaId: '7C9E6679-7425-40DE-944B-E07FC1F90AE7' });
    const driver = noDelay();
    const err = await driver.restore(restoreReq(), ctx()).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).message).toMatch(/availability group/);
    expect((err as RefusedError).hint).toMatch(/--to NAME/);
    expect(server.log.some((x) => x.sql.startsWith('RESTORE'))).toBe(false);
    const side = await driver.restore(restoreReq({ target: { kind: 'side-by-side', name: 'users_copy' } }), ctx());
    expect(side.restoredTo).toBe('users_copy');
  });

  it.each([
    ['OFFLINE', /is OFFLINE, not ONLINE/, /ALTER DATABASE \[users\] SET ONLINE/],
    ['SUSPECT', /is SUSPECT, not ONLINE \(damaged, or its files are missing\)/, /--to users_restored, check it/],
    ['RECOVERY_PENDING', /is RECOVERY_PENDING, not ONLINE/, /MODIFY NAME = \[users\]/],
    ['EMERGENCY', /is EMERGENCY, not ONLINE/, /DROP DATABASE \[users\]/],
    ['RESTORING', /not ONLINE \(a restore is under way, or it is a log-shipping secondary/, /WITH RECOVERY/],
  ])(
    'a live database %s is not replaced in place: refused before anything is copied, side by side allowed',
    async (state, message, hint) => {
      server.addDb('users', LIVE_TABLES, { state });
      const driver = noDelay();
      const err = await driver.restore(restoreReq(), ctx()).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(RefusedError);
      expect((err as RefusedError).message).toMatch(message);
      expect((err as RefusedError).hint).toMatch(hint);
      expect(server.log.some((x) => /^(RESTORE|ALTER)/.test(x.sql))).toBe(false);
      expect(readdirSync(localDir)).toEqual([]);
      expect([...server.dbs.keys()]).toEqual(['users']);
      expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', state });
      const side = await driver.restore(
        restoreReq({ target: { kind: 'side-by-side', name: 'users_restored' } }),
        ctx(),
      );
      expect(side.restoredTo).toBe('users_restored');
    },
  );

  it('change data capture: kept in place WITH KEEP_CDC (on the step that recovers) with the jobs to add; not on a copy beside', async () => {
    server.addDb('users', LIVE_TABLES, { cdcEnabled: true });
    const { content, entry: e } = await backupThroughDriver();
    expect(e.details.cdcEnabled).toBe(true);
    const driver = noDelay();
    await driver.restore(restoreReq({ entry: e }, content), ctx());
    expect(server.log.find((r) => r.sql.startsWith('RESTORE DATABASE'))!.sql).toMatch(/, RECOVERY, KEEP_CDC, STATS/);
    expect(server.dbs.get('users')!.cdcEnabled).toBe(true);
    expect(warnings()).toContainEqual(expect.stringMatching(/^Change data capture of users was kept .*sp_cdc_add_job/));
    reporter.events.length = 0;
    server.log = [];
    await driver.restore(
      restoreReq({ entry: e, target: { kind: 'side-by-side', name: 'users_copy' } }, content),
      ctx(),
    );
    expect(server.log.some((r) => r.sql.includes('KEEP_CDC'))).toBe(false);
    expect(server.dbs.get('users_copy')!.cdcEnabled).toBe(false);
    expect(warnings().some((w) => w.includes('Change data capture'))).toBe(false);
  });

  it('a live database published for replication is not replaced in place: refused before anything is copied', async () => {
    server.addDb('users', LIVE_TABLES, { published: true });
    const driver = noDelay();
    const err = await driver.restore(restoreReq(), ctx()).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).message).toMatch(/is published for replication/);
    expect((err as RefusedError).hint).toMatch(/--to users_restored .*sp_removedbreplication N'users'/);
    expect(server.log.some((x) => /^(RESTORE|ALTER)/.test(x.sql))).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
    const side = await driver.restore(restoreReq({ target: { kind: 'side-by-side', name: 'users_restored' } }), ctx());
    expect(side.restoredTo).toBe('users_restored');
  });

  it('16.7 a safety copy of a damaged database restores WITH CONTINUE_AFTER_ERROR; the plan says so', async () => {
    server.addDb('users', LIVE_TABLES, { damaged: true });
    const { content, entry: e } = await backupThroughDriver(undefined, 'safety');
    expect(e.details.continueAfterError).toBe(true);
    const driver = noDelay();
    const plan = driver.planRestore({ db: cfg(), entry: e, setId, target: { kind: 'in-place' } });
    expect(plan.steps.some((st) => st.includes('WITH CONTINUE_AFTER_ERROR'))).toBe(true);
    const target = { kind: 'side-by-side' as const, name: 'users_damaged' };
    await driver.restore(restoreReq({ entry: e, target }, content), ctx());
    expect(server.dbs.get('users_damaged')).toMatchObject({ id: 'users#original', damaged: true });
    const restoreSql = server.log.find((r) => r.sql.startsWith('RESTORE DATABASE'))!.sql;
    expect(restoreSql).toContain('WITH CHECKSUM, CONTINUE_AFTER_ERROR, MOVE');
    expect(warnings().some((w) => w.includes('CONTINUE_AFTER_ERROR') && w.includes('DBCC CHECKDB'))).toBe(true);
  });

  it('16.8 on a Linux server a backslash in serverBackupDir is part of a name, not a separator', async () => {
    server.serverDir = '/var/opt/mssql/back\\up';
    server.addDb('users', LIVE_TABLES);
    const db = cfg({ serverBackupDir: '/var/opt/mssql/back\\up' });
    await noDelay().backup({ db, type: 'full', purpose: 'backup' }, ctx());
    const path = String(server.log.find((r) => r.sql.startsWith('BACKUP'))!.params.path);
    expect(path).toMatch(/^\/var\/opt\/mssql\/back\\up\/respaldo-users-/);
  });

  it('16.8 SQL Server 2016 (no sys.dm_os_host_info) is Windows', async () => {
    server.hostPlatform = null;
    server.serverDir = 'D:\\Backups';
    server.addDb('users', LIVE_TABLES);
    server.writeDir = localDir;
    server.local = (p: string): string => join(localDir, p.slice('D:\\Backups\\'.length));
    await noDelay().backup({ db: cfg({ serverBackupDir: 'D:\\Backups' }), type: 'full', purpose: 'backup' }, ctx());
    const path = String(server.log.find((r) => r.sql.startsWith('BACKUP'))!.params.path);
    expect(path).toMatch(/^D:\\Backups\\respaldo-users-/);
  });

  it('16.9 a cancel during BACKUP says what was interrupted and leaves no .bak', async () => {
    server.addDb('users', LIVE_TABLES);
    const ac = new AbortController();
    server.duringBackup = () => ac.abort();
    const err = (await noDelay()
      .backup({ db: cfg(), type: 'full', purpose: 'backup' }, ctx(ac.signal))
      .catch((x: unknown) => x)) as RespaldoError;
    expect(err.kind).toBe('interrupted');
    expect(err.message).toMatch(/^Interrupted while trying to back up database users to .*; the backup of users/);
    expect(err.message).toContain('the database was not changed, the unfinished .bak is removed');
    expect(err.message).not.toContain('nothing was replaced');
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('16.10 RESTORE runs WITH STATS = 1 and every percent reaches item-progress', async () => {
    server.addDb('users', LIVE_TABLES);
    await noDelay().restore(restoreReq(), ctx());
    expect(server.log.find((r) => r.sql.startsWith('RESTORE DATABASE'))!.sql).toMatch(/, STATS = 1$/);
    const pcts = reporter.events.flatMap((e) => (e.type === 'item-progress' && e.item === 'users' ? [e.percent] : []));
    expect(pcts).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});

// ---------------------------------------------------------------------------------------------
// Issue 10.1: rolling back an in-place restore (swap back)

describe('swapBack: rolling back an in-place restore', () => {
  const setA = '20261122_101500';
  const setB = '20261122_113000';
  const keptA = stagingNames('users', setA).safety;
  const keptB = stagingNames('users', setB).safety;
  const swapReq = (over: Partial<SwapBackRequest> = {}): SwapBackRequest => ({
    db: cfg(),
    safetyName: keptA,
    setId: setB,
    terminateConnections: false,
    ...over,
  });

  async function restoredInPlace(): Promise<ReturnType<typeof createSqlServerDriver>> {
    server.addDb('users', LIVE_TABLES);
    const driver = noDelay();
    await driver.restore(restoreReq({ setId: setA }), ctx());
    expect(server.dbs.get(keptA)!.id).toBe('users#original');
    return driver;
  }

  it('swaps the kept database in, keeps the replaced one as a new safety copy; a 2nd rollback undoes it', async () => {
    const driver = await restoredInPlace();
    const result = await driver.swapBack!(swapReq(), ctx());
    expect(result).toEqual({ safetyDatabase: keptB, tables: LIVE_TABLES, restoredTo: 'users' });
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect(server.dbs.get(keptB)).toMatchObject({ id: 'users#from-backup', userAccess: 'MULTI_USER' });
    expect(server.dbs.has(keptA)).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
    expect(await driver.recover(cfg(), ctx())).toEqual([]);

    const again = await driver.swapBack!(swapReq({ safetyName: keptB, setId: '20261122_120000' }), ctx());
    expect(again.safetyDatabase).toBe(stagingNames('users', '20261122_120000').safety);
    expect(server.dbs.get('users')!.id).toBe('users#from-backup');
  });

  it('with no live database only renames the kept copy', async () => {
    server.addDb(keptA, LIVE_TABLES);
    const result = await noDelay().swapBack!(swapReq(), ctx());
    expect(result).toEqual({ tables: LIVE_TABLES, restoredTo: 'users' });
    expect([...server.dbs.keys()]).toEqual(['users']);
    const renames = server.log.filter((r) => r.sql.includes('MODIFY NAME')).map((r) => r.sql);
    expect(renames).toEqual([`ALTER DATABASE [${keptA}] MODIFY NAME = [users]`]);
  });

  it('a kept copy left SINGLE_USER (by an interrupted swap) is MULTI_USER once swapped back in', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb(keptA, BACKUP_TABLES, { id: 'kept', userAccess: 'SINGLE_USER' });
    await noDelay().swapBack!(swapReq(), ctx());
    expect(server.dbs.get('users')).toMatchObject({ id: 'kept', userAccess: 'MULTI_USER' });
  });

  it('refuses when the kept copy is gone, when it is no safety copy, and while sessions use the live one', async () => {
    server.addDb('users', LIVE_TABLES, { sessions: ['app'] });
    const driver = noDelay();
    const gone = (await driver.swapBack!(swapReq(), ctx()).catch((x: unknown) => x)) as RespaldoError;
    expect(gone.kind).toBe('failed');
    expect(gone.message).toMatch(/no longer exists/);
    const other = driver.swapBack!(swapReq({ safetyName: 'orders__pre_restore_x' }), ctx());
    await expect(other).rejects.toBeInstanceOf(RefusedError);
    server.addDb(keptA, LIVE_TABLES);
    const busy = (await driver.swapBack!(swapReq(), ctx()).catch((x: unknown) => x)) as RefusedError;
    expect(busy).toBeInstanceOf(RefusedError);
    expect(busy.hint).toContain('--terminate-connections');
    const untouched = { id: 'users#original', sessions: ['app'], userAccess: 'MULTI_USER' };
    expect(server.dbs.get('users')).toMatchObject(untouched);
    expect(server.log.some((r) => r.sql.includes('MODIFY NAME'))).toBe(false);
    const done = await driver.swapBack!(swapReq({ terminateConnections: true }), ctx());
    expect(done.safetyDatabase).toBe(keptB);
  });

  it('survives a competing connection like the restore swap; refuses a database in an availability group', async () => {
    const driver = await restoredInPlace();
    server.competitors = 3;
    await driver.swapBack!(swapReq(), ctx());
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER', holder: null });
    expect(server.dbs.get(keptB)).toMatchObject({ userAccess: 'MULTI_USER', holder: null });

    server.dbs.get('users')!.replicaId = 'AG-1';
    server.addDb(stagingNames('users', 'x').safety, {});
    const req = swapReq({ safetyName: stagingNames('users', 'x').safety, setId: 'y' });
    const err = await driver.swapBack!(req, ctx()).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as Error).message).toMatch(/availability group/);

    server.dbs.get('users')!.replicaId = null;
    server.dbs.get('users')!.state = 'SUSPECT';
    const suspect = await driver.swapBack!(req, ctx()).catch((x: unknown) => x);
    expect(suspect).toBeInstanceOf(RefusedError);
    expect((suspect as Error).message).toMatch(/is SUSPECT, not ONLINE/);
  });

  it('a failure at any step leaves both databases under the names they had', async () => {
    const probe = await restoredInPlace();
    const before = server.log.length;
    await probe.swapBack!(swapReq(), ctx());
    const sent = [...new Set(server.log.slice(before).map((r) => r.sql))];
    const cleanup = (sql: string): boolean => /^ALTER DATABASE \S+ SET MULTI_USER/.test(sql) || sql.includes('.sys.');
    const statements = sent.filter((sql) => !cleanup(sql));
    expect(statements.length).toBeGreaterThanOrEqual(6);
    for (const failing of statements) {
      server = new FakeServer(localDir);
      server.addDb('users', LIVE_TABLES);
      server.addDb(keptA, BACKUP_TABLES, { id: 'kept' });
      let fired = false;
      server.inject = (sql) => (sql === failing && !fired ? ((fired = true), sqlError(50000, 'injected')) : null);
      const err = await noDelay().swapBack!(swapReq(), ctx()).catch((x: unknown) => x);
      const label = failing.split('\n')[0]!;
      expect(fired, label).toBe(true);
      expect(err, label).toBeInstanceOf(RespaldoError);
      expect([...server.dbs.keys()].sort(), label).toEqual(['users', keptA].sort());
      expect(server.dbs.get('users'), label).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
      expect(server.dbs.get(keptA), label).toMatchObject({ id: 'kept', userAccess: 'MULTI_USER' });
      expect(readdirSync(localDir), label).toEqual([]);
    }
  });

  it('a swap back cut in the middle (live renamed, kept not) is finished by recover from its journal', async () => {
    const driver = await restoredInPlace();
    const blocked = [keptA, keptB].map((name) => `ALTER DATABASE [${name}] MODIFY NAME = [users]`);
    server.inject = (sql) => (blocked.includes(sql) ? sqlError(5030, LOCKED) : null);
    const err = (await driver.swapBack!(swapReq(), ctx()).catch((x: unknown) => x)) as RespaldoError;
    expect(err.message).toMatch(/renaming the previous database back failed too/);
    expect(server.dbs.has('users')).toBe(false);
    expect(readdirSync(localDir).filter((n) => n.endsWith('.journal.json'))).toHaveLength(1);
    const leftovers = await driver.findLeftovers!(cfg());
    expect(leftovers.some((l) => l.startsWith('"users" is missing: a swap was cut in the middle'))).toBe(true);
    expect(leftovers.some((l) => /^journal .* of an interrupted rollback of users/.test(l))).toBe(true);

    server.inject = () => null;
    const actions = (await driver.recover(cfg(), ctx())).map((a) => a.message);
    expect(actions[0]).toBe(
      `finished an interrupted rollback: renamed the safety copy ${keptA} to users ` +
        `(the database it replaces is kept as ${keptB})`,
    );
    expect(server.dbs.get('users')).toMatchObject({ id: 'users#original', userAccess: 'MULTI_USER' });
    expect(server.dbs.get(keptB)).toMatchObject({ id: 'users#from-backup', userAccess: 'MULTI_USER' });
    expect(readdirSync(localDir)).toEqual([]);
    expect(await driver.findLeftovers!(cfg())).toEqual([]);
  });

  it('recover does not guess between two safety copies when the live database and the journal are gone', async () => {
    server.addDb(keptA, {});
    server.addDb(keptB, {});
    const err = (await noDelay()
      .recover(cfg(), ctx())
      .catch((x: unknown) => x)) as RespaldoError;
    expect(err.message).toMatch(/cannot tell which one was live last/);
    expect([...server.dbs.keys()].sort()).toEqual([keptA, keptB].sort());
  });

  it('planRestore of a pre_restore entry (safetyDatabase, no file) describes the swap back; --to is refused', () => {
    const driver = noDelay();
    const e: DatabaseEntry = { ...entry(null), file: null, safetyDatabase: keptA };
    const plan = driver.planRestore({ db: cfg(), entry: e, setId: setB, target: { kind: 'in-place' } });
    expect(plan).toMatchObject({ replaces: true, safety: { kind: 'renamed-database', name: keptB } });
    expect(plan.steps).toEqual([
      `Check that the safety copy "${keptA}" exists and is ONLINE; ` +
        'refuse if sessions use "users" (unless --terminate-connections)',
      'If "users" exists: set it SINGLE_USER (closing other sessions only with --terminate-connections) ' +
        `and rename it to "${keptB}" (the safety copy) in one batch, tried again if another connection takes it first`,
      `Rename "${keptA}" to "users", then set "${keptB}" back to MULTI_USER`,
      `If "users" does not exist: only rename "${keptA}" to "users"`,
    ]);
    expect(plan.stepPhrases).toHaveLength(4);
    expect(plan.rollback).toContain(keptB);
    expect(plan.steps.join(' ')).not.toContain('.bak');
    const side = { kind: 'side-by-side' as const, name: 'x' };
    const planSide = (): unknown => driver.planRestore({ db: cfg(), entry: e, setId: setB, target: side });
    expect(planSide).toThrow(/only be swapped back in place/);
  });

  it('findLeftovers is read-only and lists a temporary database, a leftover restore file and a journal', async () => {
    server.addDb('users', LIVE_TABLES);
    server.addDb(stagingNames('users', 's9').temp, {});
    writeFileSync(join(localDir, `${restoreFilePrefix('users')}s9-T.bak`), 'x');
    const lines = await noDelay().findLeftovers!(cfg());
    const how = 'respaldo recovers it at the start of the next restore or backup of users';
    expect(lines).toEqual([
      `temporary database "${stagingNames('users', 's9').temp}" left by an interrupted restore of users; ${how}`,
      `restore file ${join(localDir, `${restoreFilePrefix('users')}s9-T.bak`)} left by an interrupted restore; ${how}`,
    ]);
    expect(server.log.every((r) => r.sql.startsWith('SELECT'))).toBe(true);
    expect(server.dbs.has(stagingNames('users', 's9').temp)).toBe(true);
  });
});

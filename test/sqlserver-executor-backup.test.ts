/**
 * The SQL Server driver's backup, its config and its errors, run against an in-process fake of the connection
 * interface it uses (test/helpers/sqlserver-fake.ts; fixtures in test/helpers/sqlserver-executor.ts), and the real
 * mssql client against a port where nothing listens. No SQL Server is involved: these tests check the executor's
 * sequencing, cleanup and error handling, not T-SQL semantics.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import {
  compareRowCounts,
  createSqlServerDriver,
  mapSqlError,
  parseSqlServerUrl,
} from '../src/drivers/sqlserver/index.js';
import { resolveSettings } from '../src/drivers/sqlserver/config.js';
import {
  LIVE_TABLES,
  cfg,
  ctx,
  dir,
  entry,
  localDir,
  logLines,
  readAll,
  reporter,
  server,
  statementsOf,
  useExecutorFixtures,
} from './helpers/sqlserver-executor.js';
import { PASSWORD, SERVER_DIR, sqlError } from './helpers/sqlserver-fake.js';

useExecutorFixtures();

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

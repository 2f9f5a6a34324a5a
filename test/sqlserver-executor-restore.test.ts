/**
 * The SQL Server driver's restore (in place and side by side) and its rollback by swapping a kept safety copy back,
 * run against an in-process fake of the connection interface it uses (test/helpers/sqlserver-fake.ts; fixtures in
 * test/helpers/sqlserver-executor.ts). No SQL Server is involved: these tests check the executor's sequencing,
 * cleanup and error handling, not T-SQL semantics.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../src/core/errors.js';
import type { DatabaseEntry } from '../src/core/types.js';
import type { SwapBackRequest } from '../src/drivers/driver.js';
import { createSqlServerDriver } from '../src/drivers/sqlserver/index.js';
import { restoreFilePrefix, stagingNames } from '../src/drivers/sqlserver/names.js';
import {
  BACKUP_TABLES,
  LIVE_TABLES,
  cfg,
  ctx,
  entry,
  localDir,
  noDelay,
  reporter,
  restoreReq,
  server,
  statementsOf,
  resetServer,
  resetReporter,
  useExecutorFixtures,
} from './helpers/sqlserver-executor.js';
import { FakeServer, LOCKED, SERVER_DIR, sqlError } from './helpers/sqlserver-fake.js';

useExecutorFixtures();

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
      resetServer();
      server.addDb('users', LIVE_TABLES);
      resetReporter();
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
      resetServer();
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

/**
 * The SQL Server driver's recover, dropSafetyCopy and inspectTarget, and server behaviour it must survive (issue 16:
 * rows written during BACKUP, locks, states, CDC, replication, …), run against an in-process fake of the connection
 * interface it uses (test/helpers/sqlserver-fake.ts; fixtures in test/helpers/sqlserver-executor.ts). No SQL Server
 * is involved: these tests check the executor's sequencing, cleanup and error handling, not T-SQL semantics.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../src/core/errors.js';
import { english } from '../src/core/phrases.js';
import { createSqlServerDriver, type ConnectionSettings } from '../src/drivers/sqlserver/index.js';
import { fileStem, restoreFilePrefix, stagingNames } from '../src/drivers/sqlserver/names.js';
import {
  BACKUP_TABLES,
  LIVE_TABLES,
  backupThroughDriver,
  cfg,
  ctx,
  localDir,
  noDelay,
  reporter,
  restoreReq,
  server,
  resetServer,
  useExecutorFixtures,
  warnings,
} from './helpers/sqlserver-executor.js';
import { LOCKED, sqlError } from './helpers/sqlserver-fake.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';

useExecutorFixtures();

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
// Issue 16: server behaviour the driver must survive
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

    resetServer();
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

    resetServer();
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
    // The menu says it in the operator's language: the refusal carries its phrases.
    const said = (err as RefusedError).phrases!;
    expect(english(said.message!)).toBe((err as RefusedError).message);
    expect(PHRASES_ES[said.message!.id](said.message!.params)).toMatch(
      /^La base "users" en .* está en un grupo de disponibilidad: .* la restauración en su sitio no es posible\.$/,
    );
    expect(PHRASES_ES[said.hint!.id](said.hint!.params)).toMatch(/^Restaure al lado con --to NOMBRE/);
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

/**
 * SQL Server native chains through the driver, against the fake connection (test/helpers/sqlserver-fake.ts),
 * which keeps LSNs, the differential base, the log chain and msdb's history as SQL Server does, answers
 * RESTORE HEADERONLY with LSNs as the driver receives them (doubles), and applies differential and log backups
 * WITH NORECOVERY / STOPAT with SQL Server's refusals (3136, 4305, 4326).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../src/core/errors.js';
import { formatLocal } from '../src/core/format.js';
import { CollectingReporter } from '../src/core/events.js';
import type { BackupType, DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { DriverContext, RestoreRequest } from '../src/drivers/driver.js';
import { createSqlServerDriver } from '../src/drivers/sqlserver/index.js';
import { headerOf, type BackupHeader } from '../src/drivers/sqlserver/chain-plan.js';
import { FakeServer, fakeMssqlConfig, sqlError } from './helpers/sqlserver-fake.js';

let dir: string;
let localDir: string;
let server: FakeServer;
let reporter: CollectingReporter;

function ctx(): DriverContext {
  return { reporter, signal: new AbortController().signal, scratchDir: join(dir, 'scratch'), log: () => undefined };
}

function cfg(extra: Partial<DatabaseConfig> = {}): DatabaseConfig {
  return fakeMssqlConfig(localDir, { chain: true, ...extra });
}

/** A stored backup: its set id, manifest entry and the .bak content. */
interface Stored {
  setId: string;
  entry: DatabaseEntry;
  content: Buffer;
  fellBack?: string;
}

let seq = 0;
async function backup(type: BackupType, base?: Stored, db = cfg()): Promise<Stored> {
  const driver = createSqlServerDriver({ connect: server.connector });
  const req = {
    db,
    type,
    purpose: 'backup' as const,
    ...(base ? { base: { setId: base.setId, entry: base.entry, openPart: () => Readable.from([base.content]) } } : {}),
  };
  const session = await driver.backup(req, ctx());
  const opened = await session.parts[0]!.open();
  const chunks: Buffer[] = [];
  for await (const c of opened.stream) chunks.push(Buffer.from(c as Buffer));
  const facts = await opened.finished;
  await session.cleanup();
  const setId = `2026112${Math.floor(seq / 10)}_0${seq++ % 10}0000`;
  const entry: DatabaseEntry = {
    name: 'users',
    engine: 'sqlserver',
    file: `databases/users_${setId}.bak`,
    format: 'mssql-bak',
    compressed: false,
    rawBytes: 1000,
    storedBytes: 1000,
    md5: null,
    sha256: null,
    tables: facts.tables,
    durationMs: 1,
    error: null,
    details: facts.details,
    ...(base && !session.fellBack ? { base: base.setId } : {}),
  };
  return { setId, entry, content: Buffer.concat(chunks), ...(session.fellBack ? { fellBack: session.fellBack } : {}) };
}

function restoreReq(chain: Stored[], over: Partial<RestoreRequest> = {}): RestoreRequest {
  const last = chain.at(-1)!;
  return {
    db: cfg(),
    entry: last.entry,
    setId: last.setId,
    target: { kind: 'in-place' },
    openPart: () => Readable.from([last.content]),
    terminateConnections: false,
    chain: chain.slice(0, -1).map((m) => ({
      setId: m.setId,
      entry: m.entry,
      openPart: () => Readable.from([m.content]),
    })),
    ...over,
  };
}

const backups = (): string[] => server.log.map((r) => r.sql).filter((q) => q.startsWith('BACKUP'));
const restores = (): string[] =>
  server.log.map((r) => r.sql.split('\n').at(-1)!).filter((q) => q.startsWith('RESTORE ') && !q.includes('ONLY'));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-mssql-chain-'));
  localDir = join(dir, 'shared');
  mkdirSync(localDir);
  server = new FakeServer(localDir);
  reporter = new CollectingReporter();
  seq = 0;
  server.addDb('users', { 'dbo.t': 1 });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('backups of a chained SQL Server database', () => {
  it('without chain: true a full stays COPY_ONLY and a differential is a COPY_ONLY full, saying why', async () => {
    const f = await backup('full', undefined, cfg({ chain: false }));
    const d = await backup('differential', f, cfg({ chain: false }));
    expect(backups().every((q) => q.includes('COPY_ONLY') && !q.includes('DIFFERENTIAL'))).toBe(true);
    expect(d.fellBack).toMatch(/need "chain": true in its database entry .*stored a COPY_ONLY full/);
    expect(server.dbs.get('users')!.diffBase).toBeNull();
  });

  it('full, differential, log: native statements, exact HEADERONLY facts in the manifest', async () => {
    const f = await backup('full');
    server.write('users', { 'dbo.t': 2 });
    const d = await backup('differential', f);
    server.write('users', { 'dbo.t': 3 });
    const l = await backup('incremental', d);
    expect(backups().map((q) => q.split(' WITH ')[1]!.split(', ')[0])).toEqual([
      'CHECKSUM',
      'DIFFERENTIAL',
      'CHECKSUM',
    ]);
    expect(backups()[0]).not.toContain('COPY_ONLY');
    expect(backups()[2]).toMatch(/^BACKUP LOG @db TO DISK = @path WITH CHECKSUM, INIT/);
    const [hf, hd, hl] = [f, d, l].map((x) => headerOf(x.entry.details)!) as [BackupHeader, BackupHeader, BackupHeader];
    const truth = server.history.map((h) => h.header);
    // LSNs beyond 2^53 reach the driver as doubles: the manifest holds msdb's exact ones.
    expect(hf).toMatchObject({ kind: 'full', copyOnly: false, checkpointLsn: truth[0]!.checkpoint });
    expect(hd).toMatchObject({ kind: 'differential', databaseBackupLsn: hf.checkpointLsn, lastLsn: truth[1]!.last });
    expect(hl).toMatchObject({ kind: 'log', firstLsn: truth[0]!.first, lastLsn: truth[2]!.last });
    expect(hl.startedAt).toBe(new Date(truth[2]!.started).toISOString());
    expect(hl.forkId).toBe(server.dbs.get('users')!.fork);
    expect([f, d, l].map((x) => x.fellBack)).toEqual([undefined, undefined, undefined]);
    expect(l.entry.details).toMatchObject({ backupKind: 'log', copyOnly: false });
  });

  it('an incremental of a SIMPLE recovery database is a full, with the hint', async () => {
    const f = await backup('full');
    server.dbs.get('users')!.recoveryModel = 'SIMPLE';
    const l = await backup('incremental', f);
    expect(l.fellBack).toMatch(/SIMPLE recovery model.*SET RECOVERY FULL/);
    expect(backups().some((q) => q.startsWith('BACKUP LOG'))).toBe(false);
    expect(headerOf(l.entry.details)!.kind).toBe('full');
  });

  it('an incremental after SIMPLE recovery (now FULL again, no log chain: error 4214) is a full', async () => {
    const f = await backup('full');
    const db = server.dbs.get('users')!;
    db.recoveryModel = 'SIMPLE';
    db.logFrom = null; // switching to SIMPLE ends the log chain
    db.recoveryModel = 'FULL';
    const l = await backup('incremental', f);
    expect(l.fellBack).toMatch(/no log chain to continue .*error 4214.*starts a new chain/);
    expect(backups().some((q) => q.startsWith('BACKUP LOG'))).toBe(false);
    expect(headerOf(l.entry.details)).toMatchObject({ kind: 'full', copyOnly: false });
    const next = await backup('incremental', l);
    expect(next.fellBack).toBeUndefined();
    expect(headerOf(next.entry.details)!.kind).toBe('log');
  });

  it("a DBA's COPY_ONLY log backup is no gap: the incremental stays a log backup and the chain restores", async () => {
    const f = await backup('full');
    server.write('users', { 'dbo.t': 2 });
    server.takeBackup('users', 'log', true, 'D:\\dba\\users_copy.trn');
    server.write('users', { 'dbo.t': 3 });
    const l = await backup('incremental', f);
    expect(l.fellBack).toBeUndefined();
    expect(headerOf(l.entry.details)!.kind).toBe('log');
    const driver = createSqlServerDriver({ connect: server.connector });
    await driver.restore(restoreReq([f, l]), ctx());
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 3 });
  });

  it('a full taken outside respaldo (seen in msdb) makes the differential a full that starts a new chain', async () => {
    const f = await backup('full');
    server.takeBackup('users', 'full', false, 'D:\\dba\\users.bak');
    const d = await backup('differential', f);
    expect(d.fellBack).toMatch(/differential base of users is a full taken outside respaldo .*D:\\dba\\users\.bak/);
    expect(backups().some((q) => q.includes('DIFFERENTIAL'))).toBe(false);
    // the new full is the base respaldo's next differential applies on
    const d2 = await backup('differential', d);
    expect(d2.fellBack).toBeUndefined();
  });

  it('a log backup taken outside respaldo makes the incremental a full (a gap)', async () => {
    const f = await backup('full');
    server.write('users', { 'dbo.t': 2 });
    server.takeBackup('users', 'log', false, '/dba/users.trn');
    const l = await backup('incremental', f);
    expect(l.fellBack).toMatch(/log backup of users was taken outside respaldo \(\/dba\/users\.trn\).*gap/);
    expect(backups().some((q) => q.startsWith('BACKUP LOG'))).toBe(false);
  });

  it('a restored database (another recovery fork) makes the incremental a full', async () => {
    const f = await backup('full');
    server.dbs.get('users')!.fork = 'C3C3C3C3-0000-0000-0000-000000000003';
    const l = await backup('incremental', f);
    expect(l.fellBack).toMatch(/another recovery fork/);
  });

  it('a full taken outside respaldo during the backup: the differential is checked from its own header, dropped, replaced by a full', async () => {
    const f = await backup('full');
    let raced = false;
    server.inject = (sql) => {
      if (sql.includes('DIFFERENTIAL') && !raced)
        raced = Boolean(server.takeBackup('users', 'full', false, '/dba/u.bak'));
      return null;
    };
    const d = await backup('differential', f);
    expect(backups().filter((q) => q.includes('DIFFERENTIAL'))).toHaveLength(1);
    expect(d.fellBack).toMatch(/a full was taken outside respaldo meanwhile; stored a full/);
    expect(reporter.events.some((e) => e.type === 'warning' && /was not kept/.test(e.message))).toBe(true);
    expect(headerOf(d.entry.details)!.kind).toBe('full');
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('msdb not readable: no log backup is taken; the full says which grant is missing', async () => {
    const f = await backup('full');
    server.msdbDenied = true;
    const l = await backup('incremental', f);
    expect(l.fellBack).toMatch(
      /msdb's backup history is not readable .*Grant the login SELECT on msdb\.dbo\.backupset/,
    );
    // no BACKUP LOG is taken that could not be checked (it would truncate the log for nothing)
    expect(backups().some((q) => q.startsWith('BACKUP LOG'))).toBe(false);
    expect(l.entry.details.headerProblem).toMatch(/no exact firstLsn.*msdb is not readable/);
    expect(headerOf(l.entry.details)).toBeNull();
  });

  it('a base made before chain: true (COPY_ONLY, no chain) is not continued', async () => {
    const f = await backup('full', undefined, cfg({ chain: false }));
    const d = await backup('differential', f);
    expect(d.fellBack).toMatch(/COPY_ONLY full \(made before "chain": true\)/);
    expect(backups()[1]).not.toContain('COPY_ONLY');
  });
});

describe('restoring a chain', () => {
  async function month(): Promise<Stored[]> {
    const f = await backup('full');
    server.write('users', { 'dbo.t': 2 });
    const l1 = await backup('incremental', f);
    server.write('users', { 'dbo.t': 3 });
    const d = await backup('differential', f);
    server.write('users', { 'dbo.t': 4 });
    server.write('users', { 'dbo.t': 5 });
    const l2 = await backup('incremental', d);
    return [f, l1, d, l2];
  }

  it('full, differential, log: NORECOVERY until the last, then the swap; the shared folder is left empty', async () => {
    const [f, , d, l2] = await month();
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    const result = await driver.restore(restoreReq([f!, d!, l2!]), ctx());
    expect(restores()).toEqual([
      expect.stringMatching(/^RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE .*, NORECOVERY, STATS = 1$/),
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, NORECOVERY, STATS = 1',
      'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, RECOVERY, STATS = 1',
    ]);
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 5 });
    expect(server.dbs.get('users')!.state).toBe('ONLINE');
    expect(result.safetyDatabase).toBeTruthy();
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('a file added after the full (ADD FILE on a disk this server lacks) is moved by the step that brings it', async () => {
    const f = await backup('full');
    const added = { logicalName: 'users_archive', physicalName: 'E:\\SQLData\\users_archive.ndf', type: 'D' };
    server.dbs.get('users')!.addedFiles = [added];
    server.write('users', { 'dbo.t': 2 });
    const d = await backup('differential', f);
    server.write('users', { 'dbo.t': 3 });
    const l = await backup('incremental', d);
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    await driver.restore(restoreReq([f, d, l]), ctx());
    expect(restores()).toEqual([
      expect.stringMatching(/^RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE .*, NORECOVERY, STATS = 1$/),
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, NORECOVERY, STATS = 1',
      'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, RECOVERY, STATS = 1',
    ]);
    const diffStep = server.log.find((r) => r.sql.includes('MOVE @l1 TO @p1, NORECOVERY') && !r.params.l2)!;
    expect(diffStep.params.l1).toBe('users_archive');
    expect(String(diffStep.params.p1)).toMatch(/^\/var\/opt\/mssql\/data\/users-[0-9a-f]{8}-.+\.ndf$/);
    const live = server.dbs.get('users')!;
    expect(live.tables).toEqual({ 'dbo.t': 3 });
    expect(live.files).toContain(String(diffStep.params.p1));
    expect(new Set(live.files).size).toBe(live.files.length);
  });

  it('STOPAT: restore --at inside the last log backup stops there', async () => {
    const [f, , d, l2] = await month();
    const writes = server.dbs.get('users')!.writes;
    const between = new Date(writes.at(-2)!.at + 1000).toISOString(); // after t=4, before t=5
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    await driver.restore(restoreReq([f!, d!, l2!], { stopAt: between }), ctx());
    const last = server.log.find((r) => r.sql.includes('STOPAT'))!;
    expect(last.params.stopAt).toBe(between);
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 4 });
    // the row counts of the set are of its end, not of the STOPAT point: no warning about them
    expect(reporter.events.some((e) => e.type === 'warning' && /Row counts/.test(e.message))).toBe(false);
  });

  it('STOPAT after the last record of the log backup (before its end): said with the span, the temporary database dropped', async () => {
    const [f, , d, l2] = await month();
    const header = l2!.entry.details.header as { startedAt: string; finishedAt: string };
    const stopAt = new Date(Date.parse(header.startedAt) + 5000).toISOString();
    expect(Date.parse(stopAt)).toBeLessThan(Date.parse(header.finishedAt));
    const before = server.dbs.get('users')!;
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    const err = await driver.restore(restoreReq([f!, d!, l2!], { stopAt }), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RespaldoError);
    const { message, hint } = err as RespaldoError;
    const at = (iso: string): string => formatLocal(iso, { seconds: true });
    expect(message).toContain(`is after the last record the log backup of set ${l2!.setId} holds`);
    expect(message).toContain(`left "users__restore_${l2!.setId}" RESTORING`);
    expect(message).toContain(`${f!.setId} full LSN`);
    expect(message).toContain(`${l2!.setId} log LSN`);
    expect(message).toContain('The live database "users" was not touched; the temporary database is dropped');
    expect(hint).toContain(`at or before ${at(header.startedAt)}`);
    expect(hint).toContain(`at or after ${at(header.finishedAt)}`);
    expect(hint).toContain(`respaldo restore ${l2!.setId} without --at`);
    // The leftover RESTORING database is dropped as it is, the live one stays, nothing is left in the shared folder.
    expect(server.log.at(-1)!.sql).toBe(`IF DB_ID(@name) IS NOT NULL DROP DATABASE [users__restore_${l2!.setId}]`);
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(server.dbs.get('users')).toBe(before);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it("when the server's times put the point inside an earlier log backup, the later ones are not applied", async () => {
    const f = await backup('full');
    server.write('users', { 'dbo.t': 2 });
    const at = new Date(server.clock + 1000).toISOString();
    server.write('users', { 'dbo.t': 3 });
    const l1 = await backup('incremental', f);
    server.write('users', { 'dbo.t': 4 });
    const l2 = await backup('incremental', l1);
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    await driver.restore(restoreReq([f, l1, l2], { stopAt: at }), ctx());
    expect(restores()).toHaveLength(2);
    expect(restores()[1]).toContain('STOPAT');
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 2 });
  });

  it('a time after the last log restores it whole (no STOPAT)', async () => {
    const [f, l1] = await month();
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    await driver.restore(restoreReq([f!, l1!], { stopAt: '2027-01-01T00:00:00.000Z' }), ctx());
    expect(server.log.some((r) => r.sql.includes('STOPAT'))).toBe(false);
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 2 });
  });

  it('the plan of a chained entry says NORECOVERY, then the differential and log backups in order', async () => {
    const [f, , d] = await month();
    const driver = createSqlServerDriver({ connect: server.connector });
    const plan = driver.planRestore({ db: cfg(), entry: d!.entry, setId: d!.setId, target: { kind: 'in-place' } });
    expect(plan.steps.join('\n')).toMatch(/from the chain's full .*NORECOVERY; then its differential and log backups/);
    const whole = driver.planRestore({ db: cfg(), entry: f!.entry, setId: f!.setId, target: { kind: 'in-place' } });
    expect(whole.steps.join('\n')).not.toContain('NORECOVERY');
  });

  it('a drill of a chain proves every backup with VERIFYONLY; a damaged one fails as a verification failure', async () => {
    const [f, , d, l2] = await month();
    const driver = createSqlServerDriver({ connect: server.connector });
    const target = { kind: 'side-by-side' as const, name: `users__drill_${l2!.setId}`, scratch: true };
    const ok = await driver.restore(restoreReq([f!, d!, l2!], { target }), ctx());
    expect(ok.preChecks?.map((c) => c.name)).toEqual([
      'RESTORE VERIFYONLY',
      `RESTORE VERIFYONLY (${d!.setId})`,
      `RESTORE VERIFYONLY (${l2!.setId})`,
    ]);
    expect(server.dbs.get(target.name)!.tables).toEqual({ 'dbo.t': 5 });
    server.dbs.delete(target.name);
    const damaged = { ...d!, content: Buffer.from('not a backup') };
    await expect(driver.restore(restoreReq([f!, damaged, l2!], { target }), ctx())).rejects.toMatchObject({
      kind: 'verifyFailed',
      message: expect.stringContaining(`in set ${d!.setId}`),
    });
    expect(server.dbs.has(target.name)).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
  });

  it('a chain with a gap is refused before anything is touched', async () => {
    const f = await backup('full');
    server.write('users', { 'dbo.t': 2 });
    const l1 = await backup('incremental', f);
    server.write('users', { 'dbo.t': 3 });
    const l2 = await backup('incremental', l1);
    server.log = [];
    const driver = createSqlServerDriver({ connect: server.connector });
    await expect(driver.restore(restoreReq([f, l2]), ctx())).rejects.toThrow(
      /chain of users that ends with set .* cannot be restored: the log backups have a gap/,
    );
    expect(server.log).toEqual([]);
  });

  it('a differential or log backup given without its chain is refused before anything is touched', async () => {
    const [, l1, d] = await month();
    const driver = createSqlServerDriver({ connect: server.connector });
    for (const delta of [l1!, d!]) {
      server.log = [];
      const err = await driver.restore(restoreReq([delta]), ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RefusedError);
      expect(String((err as Error).message)).toMatch(
        new RegExp(`Set ${delta.setId} holds a (log|differential) backup of users on set \\d+_\\d+; the sets`),
      );
      expect(server.log).toEqual([]);
    }
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 5 });
  });

  it('a differential on another full is refused, naming the set', async () => {
    const f = await backup('full');
    const outside = await backup('full');
    const d = await backup('differential', outside);
    const driver = createSqlServerDriver({ connect: server.connector });
    await expect(driver.restore(restoreReq([f, d]), ctx())).rejects.toThrow(
      new RegExp(`set ${d.setId} does not continue the chain of ${f.setId}: its base`),
    );
  });

  it('a failing log step drops the temporary database and leaves the live one as it was', async () => {
    const [f, , d, l2] = await month();
    const before = server.dbs.get('users')!;
    server.log = [];
    server.inject = (sql) => (sql.startsWith('RESTORE LOG') ? sqlError(3203, 'Read on "x" failed: 23(CRC).') : null);
    const driver = createSqlServerDriver({ connect: server.connector });
    await expect(driver.restore(restoreReq([f!, d!, l2!]), ctx())).rejects.toThrow(/CRC/);
    expect(server.dbs.get('users')).toBe(before);
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(readdirSync(localDir)).toEqual([]);
  });
});

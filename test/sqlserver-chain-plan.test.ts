/**
 * SQL Server native chains, pure (src/drivers/sqlserver/chain-plan.ts): HEADERONLY parsing, the restore chain
 * chosen as the SQL Server tools choose it (gaps, forks, out-of-band fulls, times before the first full and
 * after the last log), the decision of what a backup makes, and the statements, as tables.
 */
import { describe, expect, it } from 'vitest';
import { planNewFileMoves, restoreStatement } from '../src/drivers/sqlserver/swap-plan.js';
import {
  afterBackupProblem,
  chainBackupStatement,
  chainStepStatement,
  chainStateStatement,
  parseChainState,
  checkChain,
  decideBackup,
  exactLsn,
  headerTime,
  parseHeader,
  selectChain,
  type BackupHeader,
  type ChainMember,
} from '../src/drivers/sqlserver/chain-plan.js';

const L = (n: number): string => (34000000000000000n + BigInt(n)).toString();
const FORK = 'AAAAAAAA-0000-0000-0000-000000000001';
const FORK2 = 'BBBBBBBB-0000-0000-0000-000000000002';
const day = (d: number, h = 0): string => new Date(Date.UTC(2026, 10, d, h)).toISOString();

function full(setId: string, at: string, first: number, opts: Partial<BackupHeader> = {}): ChainMember {
  return {
    setId,
    header: {
      kind: 'full',
      copyOnly: false,
      firstLsn: L(first),
      lastLsn: L(first + 5),
      checkpointLsn: L(first + 1),
      databaseBackupLsn: L(0),
      firstForkId: FORK,
      forkId: FORK,
      startedAt: at,
      finishedAt: at,
      backupSetId: null,
      ...opts,
    },
  };
}
function diff(setId: string, at: string, first: number, base: ChainMember, opts: Partial<BackupHeader> = {}) {
  return full(setId, at, first, { kind: 'differential', databaseBackupLsn: base.header.checkpointLsn, ...opts });
}
function log(setId: string, at: string, from: number, to: number, opts: Partial<BackupHeader> = {}): ChainMember {
  return full(setId, at, from, { kind: 'log', lastLsn: L(to), checkpointLsn: L(from), ...opts });
}

// A month: full F1 (day 1), logs every day, a differential on day 8, a second full on day 15.
const F1 = full('F1', day(1), 100); // last 105
const L2 = log('L2', day(2), 105, 200);
const L3 = log('L3', day(3), 200, 300);
const D8 = diff('D8', day(8), 700, F1); // last 705
const L9 = log('L9', day(9), 300, 900); // covers D8's 705
const L10 = log('L10', day(10), 900, 1000);
const F15 = full('F15', day(15), 1500);
const L16 = log('L16', day(16), 1000, 1600);
const all = [F1, L2, L3, D8, L9, L10, F15, L16];
const ids = (s: ReturnType<typeof selectChain>): string =>
  'problem' in s ? `! ${s.problem}` : s.steps.map((m) => m.setId).join(' ');

describe('selectChain: the restore chain of a time, as the SQL Server tools choose it', () => {
  const cases: { name: string; backups: ChainMember[]; at: string | null; steps: string; stopAt?: string | null }[] = [
    { name: 'the end of a log backup exactly: no STOPAT', backups: all, at: day(3), steps: 'F1 L2 L3', stopAt: null },
    { name: 'inside a log backup: STOPAT on it', backups: all, at: day(2, 12), steps: 'F1 L2 L3', stopAt: day(2, 12) },
    { name: 'between the full and its first log', backups: all, at: day(1, 6), steps: 'F1 L2', stopAt: day(1, 6) },
    { name: 'the differential replaces the logs before it', backups: all, at: day(9, 12), steps: 'F1 D8 L9 L10' },
    { name: 'a newer full starts the chain', backups: all, at: day(16), steps: 'F15 L16', stopAt: null },
    { name: 'after the last log: as far as it reaches', backups: all, at: day(20), steps: 'F15 L16', stopAt: null },
    { name: 'no time: everything', backups: all, at: null, steps: 'F15 L16', stopAt: null },
    { name: 'a time before the first full', backups: all, at: day(0), steps: '! no full backup ends at or before' },
    { name: 'no full at all', backups: [L2, L3], at: null, steps: '! no full backup in the chain' },
    {
      name: 'a gap: a log backup made elsewhere is missing',
      backups: [F1, L2, log('L4', day(4), 250, 400)],
      at: day(4),
      steps: '! the log backups have a gap: set L2 reaches LSN 34000000000000200 and the next log backup (set L4)',
    },
    {
      name: 'a fork change: the database was restored in between',
      backups: [F1, L2, log('L3', day(3), 200, 300, { firstForkId: FORK2, forkId: FORK2 })],
      at: day(3),
      steps: '! set L3 is a log backup of another recovery fork',
    },
    {
      name: 'a differential on a full taken outside respaldo is passed over (logs still apply)',
      backups: [F1, L2, L3, diff('Dx', day(8), 700, full('outside', day(5), 500)), L9],
      at: day(9),
      steps: 'F1 L2 L3 L9',
    },
    {
      name: 'a COPY_ONLY full restores with logs but is no differential base',
      backups: [full('C1', day(1), 100, { copyOnly: true }), L2, diff('D', day(2), 200, F1)],
      at: day(2),
      steps: 'C1 L2',
    },
    { name: 'logs of an older chain are skipped', backups: [F15, L2, L3, L16], at: day(16), steps: 'F15 L16' },
    {
      name: 'a time inside a log backup with bulk-logged changes: refused (SQL Server restores it only whole)',
      backups: [F1, L2, log('L3', day(3), 200, 300, { bulkLogged: true })],
      at: day(2, 12),
      steps: '! set L3 is a log backup holding bulk-logged changes',
    },
    {
      name: 'the end of a log backup with bulk-logged changes: restored whole',
      backups: [F1, L2, log('L3', day(3), 200, 300, { bulkLogged: true })],
      at: day(3),
      steps: 'F1 L2 L3',
      stopAt: null,
    },
    {
      name: 'a bulk-logged log backup before the time is applied whole, STOPAT in the next one',
      backups: [F1, log('L2', day(2), 105, 200, { bulkLogged: true }), L3],
      at: day(2, 12),
      steps: 'F1 L2 L3',
      stopAt: day(2, 12),
    },
  ];
  it.each(cases)('$name', ({ backups, at, steps, stopAt }) => {
    const got = selectChain(backups, at ? new Date(at) : null);
    if (steps.startsWith('!')) expect(ids(got)).toContain(steps);
    else expect(ids(got)).toBe(steps);
    if (stopAt !== undefined && !('problem' in got)) expect(got.stopAt).toBe(stopAt);
  });

  it('the point reached is STOPAT, else the end of the last backup applied', () => {
    const inside = selectChain(all, new Date(day(2, 12)));
    expect('point' in inside && inside.point).toBe(day(2, 12));
    const after = selectChain(all, new Date(day(20)));
    expect('point' in after && after.point).toBe(day(16));
  });
});

describe('checkChain: the chain the engine hands over is the one SQL Server can apply', () => {
  const cases: { name: string; members: ChainMember[]; at: string | null; want: string }[] = [
    { name: 'full, differential, logs', members: [F1, D8, L9, L10], at: null, want: 'F1 D8 L9 L10' },
    { name: 'full and logs up to a time', members: [F1, L2, L3], at: day(2, 12), want: 'F1 L2 L3' },
    {
      name: 'a differential on another base',
      members: [F1, diff('Dx', day(8), 700, full('outside', day(5), 500))],
      at: null,
      want: '! set Dx does not continue the chain of F1: its base (checkpoint LSN 34000000000000501) is not the full',
    },
    { name: 'a gap', members: [F1, L3], at: null, want: '! the log backups have a gap' },
    {
      name: "the server's clock passes the time in an earlier log: the later ones are left out",
      members: [F1, L2, L3],
      at: day(1, 12),
      want: 'F1 L2',
    },
    {
      name: 'but never a member in the middle (without it, the rest does not apply)',
      members: [F1, D8, L9],
      at: day(7),
      want: '! the log backups have a gap: set F1 reaches',
    },
  ];
  it.each(cases)('$name', ({ members, at, want }) => {
    const got = checkChain(members, at ? new Date(at) : null);
    if (want.startsWith('!')) expect(ids(got)).toContain(want);
    else expect(ids(got)).toBe(want);
  });
});

describe('decideBackup: what a backup of a SQL Server database makes', () => {
  const base = { setId: 'L3', header: L3.header };
  const dbase = { setId: 'F1', header: F1.header };
  const ok = { forkId: FORK, newestFull: { checkpointLsn: F1.header.checkpointLsn, finishedAt: null, device: null } };
  const state = (over: object = {}) => ({
    ...ok,
    newestLog: { lastLsn: L(300), finishedAt: null, device: null },
    ...over,
  });
  const cases: {
    name: string;
    in: Partial<Parameters<typeof decideBackup>[0]>;
    kind: string;
    copyOnly: boolean;
    fallback?: string;
  }[] = [
    { name: 'full without chain: COPY_ONLY', in: { type: 'full', chain: false }, kind: 'full', copyOnly: true },
    { name: 'full with chain: the differential base', in: { type: 'full' }, kind: 'full', copyOnly: false },
    {
      name: 'safety copies are always COPY_ONLY',
      in: { type: 'full', purpose: 'safety' },
      kind: 'full',
      copyOnly: true,
    },
    {
      name: 'differential without chain',
      in: { type: 'differential', chain: false, base: dbase },
      kind: 'full',
      copyOnly: true,
      fallback: 'need "chain": true',
    },
    {
      name: 'differential',
      in: { type: 'differential', base: dbase, state: state() },
      kind: 'differential',
      copyOnly: false,
    },
    { name: 'incremental', in: { type: 'incremental', base, state: state() }, kind: 'log', copyOnly: false },
    {
      name: 'incremental, msdb not read',
      in: { type: 'incremental', base, state: null },
      kind: 'log',
      copyOnly: false,
    },
    {
      name: 'incremental on SIMPLE recovery',
      in: { type: 'incremental', base, recoveryModel: 'SIMPLE' },
      kind: 'full',
      copyOnly: false,
      fallback: 'SIMPLE recovery model',
    },
    {
      name: 'incremental with no log chain to continue (SIMPLE since the base, now FULL): error 4214 avoided',
      in: { type: 'incremental', base, state: state({ logBackupFrom: null }) },
      kind: 'full',
      copyOnly: false,
      fallback: 'last_log_backup_lsn is NULL',
    },
    {
      name: 'incremental with a log chain (last_log_backup_lsn read)',
      in: { type: 'incremental', base, state: state({ logBackupFrom: L(300) }) },
      kind: 'log',
      copyOnly: false,
    },
    {
      name: 'a differential does not need the log chain',
      in: { type: 'differential', base: dbase, state: state({ logBackupFrom: null }) },
      kind: 'differential',
      copyOnly: false,
    },
    {
      name: 'differential on SIMPLE recovery is fine',
      in: { type: 'differential', base: dbase, recoveryModel: 'SIMPLE', state: state() },
      kind: 'differential',
      copyOnly: false,
    },
    {
      name: 'a full taken outside respaldo is the server differential base',
      in: {
        type: 'differential',
        base: dbase,
        state: state({ newestFull: { checkpointLsn: L(555), finishedAt: day(5), device: 'D:\\dba\\users.bak' } }),
      },
      kind: 'full',
      copyOnly: false,
      fallback: 'full taken outside respaldo at 2026-11-05T00:00:00.000Z to D:\\dba\\users.bak',
    },
    {
      name: 'a log backup taken outside respaldo after the base: gap',
      in: {
        type: 'incremental',
        base,
        state: state({ newestLog: { lastLsn: L(350), finishedAt: null, device: 'x.trn' } }),
      },
      kind: 'full',
      copyOnly: false,
      fallback: 'the log chain has a gap',
    },
    {
      name: 'msdb not readable',
      in: { type: 'incremental', base, state: { ...state(), msdbUnreadable: 'SELECT permission was denied' } },
      kind: 'full',
      copyOnly: false,
      fallback: 'Grant the login SELECT on msdb.dbo.backupset',
    },
    {
      name: 'another recovery fork',
      in: { type: 'incremental', base, state: state({ forkId: FORK2 }) },
      kind: 'full',
      copyOnly: false,
      fallback: 'another recovery fork',
    },
    {
      name: 'a base made before chain: true (no header)',
      in: { type: 'incremental', base: { ...base, header: null } },
      kind: 'full',
      copyOnly: false,
      fallback: 'holds no backup header',
    },
    {
      name: 'a COPY_ONLY full as the chain start',
      in: { type: 'differential', base: { ...dbase, header: { ...F1.header, copyOnly: true } } },
      kind: 'full',
      copyOnly: false,
      fallback: 'is a COPY_ONLY full',
    },
  ];
  it.each(cases)('$name', (c) => {
    const got = decideBackup({
      name: 'users',
      type: 'full',
      chain: true,
      purpose: 'backup',
      recoveryModel: 'FULL',
      ...c.in,
    });
    expect({ kind: got.kind, copyOnly: got.copyOnly }).toEqual({ kind: c.kind, copyOnly: c.copyOnly });
    if (c.fallback) expect(got.fallback).toContain(c.fallback);
    else expect(got.fallback).toBeUndefined();
  });

  it('after the backup: a differential on another full, a log with a gap or on another fork', () => {
    const b = { setId: 'L3', header: L3.header };
    const f = { setId: 'F1', header: F1.header };
    expect(afterBackupProblem(diff('D', day(8), 700, F1).header, f)).toBeNull();
    expect(afterBackupProblem(diff('D', day(8), 700, F15).header, f)).toContain('a full was taken outside respaldo');
    expect(afterBackupProblem(log('L', day(4), 300, 400).header, b)).toBeNull();
    expect(afterBackupProblem(log('L', day(4), 350, 400).header, b)).toContain('a gap');
    expect(afterBackupProblem(log('L', day(4), 300, 400, { firstForkId: FORK2 }).header, b)).toContain('fork');
  });
});

describe('HEADERONLY', () => {
  it.each([
    ['34000000012300001', '34000000012300001'],
    [34000000012300001n, '34000000012300001'],
    [12345, '12345'],
    [Number('34000000012300001'), null], // a double beyond 2^53 cannot be exact
    [null, null],
    ['-1', null],
  ])('exactLsn(%s) = %s', (v, want) => expect(exactLsn(v)).toBe(want));

  it('times are the server local time (read as UTC by the driver) minus TimeZone × 15 minutes', () => {
    expect(headerTime(new Date('2026-11-22T14:30:00Z'), 4)).toBe('2026-11-22T13:30:00.000Z');
    expect(headerTime(new Date('2026-11-22T14:30:00Z'), -12)).toBe('2026-11-22T17:30:00.000Z');
    expect(headerTime(null, 0)).toBeNull();
  });

  it('parses a row, taking exact LSNs from msdb where the header lost digits', () => {
    const row = {
      BackupType: 5,
      IsCopyOnly: 0,
      FirstLSN: Number('34000000012300001'), // as the driver receives numeric(25,0)
      LastLSN: Number('34000000012500001'), // as the driver receives numeric(25,0)
      CheckpointLSN: Number('34000000012400001'), // as the driver receives numeric(25,0)
      DatabaseBackupLSN: Number('34000000010000001'), // as the driver receives numeric(25,0)
      FirstRecoveryForkID: FORK.toLowerCase(),
      RecoveryForkID: FORK.toLowerCase(),
      BackupStartDate: new Date('2026-11-22T02:00:00Z'),
      BackupFinishDate: new Date('2026-11-22T02:01:00Z'),
      TimeZone: 0,
      BackupSetGUID: 'c0ffee00-0000-0000-0000-000000000000',
    };
    expect(parseHeader(row)).toEqual({
      problem: expect.stringContaining('no exact firstLsn, lastLsn, databaseBackupLsn'),
    });
    const exact = {
      firstLsn: '34000000012300001',
      lastLsn: '34000000012500001',
      checkpointLsn: '34000000012400001',
      databaseBackupLsn: '34000000010000001',
    };
    expect(parseHeader(row, exact)).toEqual({
      kind: 'differential',
      copyOnly: false,
      ...exact,
      firstForkId: FORK,
      forkId: FORK,
      startedAt: '2026-11-22T02:00:00.000Z',
      finishedAt: '2026-11-22T02:01:00.000Z',
      backupSetId: 'C0FFEE00-0000-0000-0000-000000000000',
    });
    expect(parseHeader({ ...row, BackupType: 4 })).toEqual({ problem: expect.stringContaining('BackupType 4') });
    // a log backup needs its range only
    const log = { ...row, BackupType: 2, CheckpointLSN: null, DatabaseBackupLSN: null };
    expect(parseHeader(log, { firstLsn: exact.firstLsn, lastLsn: exact.lastLsn })).toMatchObject({
      kind: 'log',
      firstLsn: exact.firstLsn,
      lastLsn: exact.lastLsn,
    });
    // HasBulkLoggedData: a log backup SQL Server cannot stop inside (kept only when set)
    expect(parseHeader({ ...log, HasBulkLoggedData: 1 }, exact)).toMatchObject({ kind: 'log', bulkLogged: true });
    expect(parseHeader({ ...log, HasBulkLoggedData: 0 }, exact)).not.toHaveProperty('bulkLogged');
    expect(parseHeader(log, { firstLsn: exact.firstLsn })).toEqual({
      problem: expect.stringContaining('no exact lastLsn'),
    });
  });
});

describe('statements', () => {
  it.each([
    [
      { kind: 'full', copyOnly: true },
      'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, COMPRESSION, STATS = 1',
    ],
    [
      { kind: 'full', copyOnly: false },
      'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, INIT, FORMAT, COMPRESSION, STATS = 1',
    ],
    [
      { kind: 'differential', copyOnly: false },
      'BACKUP DATABASE @db TO DISK = @path WITH DIFFERENTIAL, CHECKSUM, INIT, FORMAT, COMPRESSION, STATS = 1',
    ],
    [
      { kind: 'log', copyOnly: false },
      'BACKUP LOG @db TO DISK = @path WITH CHECKSUM, INIT, FORMAT, COMPRESSION, STATS = 1',
    ],
  ] as const)('%o', (o, sql) => {
    const st = chainBackupStatement({ database: 'users]x', serverPath: '/b/u.bak', compression: true, ...o });
    expect(st.sql).toBe(sql);
    expect(st.params).toEqual({ db: 'users]x', path: '/b/u.bak' });
  });

  it('the full of a chain is restored WITH MOVE and NORECOVERY; alone, WITH RECOVERY', () => {
    const moves = [{ logicalName: 'u', physicalName: '/d/u.mdf', type: 'D' }];
    expect(restoreStatement('t', '/b/f.bak', moves, { recovery: false }).sql).toBe(
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, NORECOVERY, STATS = 1',
    );
    expect(restoreStatement('t', '/b/f.bak', moves).sql).toMatch(/MOVE @l1 TO @p1, RECOVERY, STATS = 1$/);
  });

  it('restore steps: NORECOVERY until the last, STOPAT on the last log converted to server time', () => {
    const p = { target: 'users__restore_1', serverPath: '/b/x.bak' };
    expect(chainStepStatement({ ...p, kind: 'differential', last: false }).sql).toBe(
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, NORECOVERY, STATS = 1',
    );
    expect(chainStepStatement({ ...p, kind: 'log', last: true }).sql).toBe(
      'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, RECOVERY, STATS = 1',
    );
    const stop = chainStepStatement({ ...p, kind: 'log', last: true, stopAt: '2026-11-22T14:30:00.000Z' });
    expect(stop.sql).toMatch(/^DECLARE @t datetime = CONVERT\(datetime,\n.*SYSDATETIMEOFFSET/);
    expect(stop.sql.split('\n').at(-1)).toBe(
      'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, RECOVERY, STOPAT = @t, STATS = 1',
    );
    expect(stop.params).toEqual({ db: 'users__restore_1', path: '/b/x.bak', stopAt: '2026-11-22T14:30:00.000Z' });
    // STOPAT only on the last step
    expect(chainStepStatement({ ...p, kind: 'log', last: false, stopAt: 'x' }).sql).not.toContain('STOPAT');
  });

  it.each([
    // a summer log backup (CEST, +02:00: TimeZone 8) restored in winter: converted with +120, not today's +60
    { timeZone: 8, offset: '120' },
    { timeZone: -20, offset: '-300' },
    { timeZone: 0, offset: '0' },
    // unknown (127) or not recorded: the server's offset now, as before
    { timeZone: 127, offset: 'DATEPART(TZOFFSET, SYSDATETIMEOFFSET())' },
  ])('STOPAT is converted with the offset the log backup recorded (TimeZone $timeZone)', ({ timeZone, offset }) => {
    const row = {
      BackupType: 2,
      IsCopyOnly: 0,
      FirstLSN: '34000000012300001',
      LastLSN: '34000000012500001',
      BackupStartDate: new Date('2026-07-22T02:00:00Z'),
      BackupFinishDate: new Date('2026-07-22T02:01:00Z'),
      TimeZone: timeZone,
    };
    const header = parseHeader(row);
    if ('problem' in header) throw new Error(header.problem);
    const stop = chainStepStatement({
      target: 'users__restore_1',
      serverPath: '/b/x.bak',
      kind: 'log',
      last: true,
      stopAt: '2026-07-22T01:30:00.000Z',
      stopAtOffsetMinutes: header.utcOffsetMinutes ?? null,
    });
    expect(stop.sql.split('\n')[1]).toBe(`  SWITCHOFFSET(CONVERT(datetimeoffset, @stopAt), ${offset}));`);
  });

  it("msdb's newest full and log backup leave COPY_ONLY ones out (they change neither base nor log chain)", () => {
    const st = chainStateStatement("o'dd]name");
    expect(st.sql).toContain("b.type = 'D' AND b.is_copy_only = 0");
    expect(st.sql).toContain("b.type = 'L' AND b.is_copy_only = 0");
    expect(st.sql).toContain('CAST(rs.last_log_backup_lsn AS varchar(30)) AS lastLogBackupLsn');
    expect(st.params).toEqual({ db: "o'dd]name" });
  });

  it("msdb's times (the server's local time, read by the driver as UTC) are said as the server's clock, not as UTC", () => {
    const row = {
      forkId: 'a1',
      lastLogBackupLsn: '34000000000000300',
      fullCheckpointLsn: '34000000000000555',
      fullFinishedAt: new Date('2026-11-05T10:00:00.000Z'), // 10:00 on the server's clock
      fullDevice: 'D:\\dba\\users.bak',
      logLastLsn: null,
    };
    const st = parseChainState(row);
    expect(st.newestFull).toEqual({
      checkpointLsn: '34000000000000555',
      finishedAt: '2026-11-05 10:00:00 (server time)',
      device: 'D:\\dba\\users.bak',
    });
    expect(st.logBackupFrom).toBe('34000000000000300');
    expect(st.newestLog).toBeNull();
    expect(parseChainState({ forkId: 'a1' }).logBackupFrom).toBeUndefined(); // not read: unknown, not NULL
  });

  it('a step that adds files MOVEs them (by parameter), also with STOPAT', () => {
    const p = { target: 'users__restore_1', serverPath: '/b/x.bak' };
    const moves = [{ logicalName: "ar'chive]", physicalName: '/var/opt/mssql/data/u-1.ndf' }];
    const diff = chainStepStatement({ ...p, kind: 'differential', last: false, moves });
    expect(diff.sql).toBe(
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, NORECOVERY, STATS = 1',
    );
    expect(diff.params).toEqual({
      ...{ db: p.target, path: p.serverPath },
      l1: "ar'chive]",
      p1: moves[0]!.physicalName,
    });
    const stop = chainStepStatement({ ...p, kind: 'log', last: true, stopAt: '2026-11-22T14:30:00.000Z', moves });
    expect(stop.sql.split('\n').at(-1)).toBe(
      'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, RECOVERY, STOPAT = @t, STATS = 1',
    );
    expect(stop.params).toMatchObject({ l1: "ar'chive]", stopAt: '2026-11-22T14:30:00.000Z' });
  });

  it.each([
    { name: 'nothing added', files: ['users:D', 'users_log:L'], want: [] },
    { name: 'a data file added', files: ['users:D', 'users_log:L', 'archive:D'], want: ['archive .ndf data'] },
    { name: 'a second log file added', files: ['users:D', 'users_log:L', 'log2:L'], want: ['log2 .ldf log'] },
    { name: 'logical names compare case-insensitively', files: ['USERS:D', 'Users_Log:L'], want: [] },
    { name: 'a FILESTREAM container added', files: ['users:D', 'users_log:L', 'docs:S'], want: ['docs  data'] },
  ])('planNewFileMoves: $name', ({ files, want }) => {
    const list = files.map((x) => {
      const [logicalName, type] = x.split(':') as [string, string];
      return { logicalName, physicalName: `E:\\Old\\${logicalName}.xdf`, type };
    });
    const opts = { live: 'users', setId: '20261122_0100', token: 'tok-1', dataDir: '/d/data/', logDir: '/d/log' };
    const got = planNewFileMoves(list, ['users', 'users_log'], { ...opts, pathStyle: 'posix' });
    const said = got.map((m) => {
      const ext = /\.[a-z]+$/.exec(m.physicalName)?.[0] ?? '';
      return `${m.logicalName} ${ext} ${m.physicalName.startsWith('/d/log/') ? 'log' : 'data'}`;
    });
    expect(said).toEqual(want);
  });
});

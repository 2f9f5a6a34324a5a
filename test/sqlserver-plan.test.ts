import { describe, expect, it } from 'vitest';
import {
  backupFileName,
  defaultFileDirs,
  dropIfExistsStatement,
  dropSafetyCopyStatements,
  fileStem,
  joinServerPath,
  MAX_SYSNAME,
  nameStem,
  parseStagingName,
  parseStatsPercent,
  planBackup,
  planMoves,
  planSwap,
  quoteName,
  renameStatement,
  restoreFileName,
  restoreStatement,
  rowCountsStatement,
  safeFilePart,
  serverDirname,
  serverDirProblem,
  serverPathStyle,
  sessionsStatement,
  singleUserStatement,
  stagingNames,
  supportsBackupCompression,
  databaseInfoStatement,
} from '../src/drivers/sqlserver-plan.js';

const long128 = 'n'.repeat(128);
const hostile = ['a]b', "a'b", 'x;DROP DATABASE y--', 'ünïcødé_データ', 'emoji😀db', '[already]', long128];

/** Inverse of QUOTENAME, as SQL Server parses a bracketed identifier. */
function unquote(q: string): string {
  expect(q.startsWith('[') && q.endsWith(']')).toBe(true);
  const inner = q.slice(1, -1);
  // every ] inside must be doubled
  expect(inner.replaceAll(']]', '').includes(']')).toBe(false);
  return inner.replaceAll(']]', ']');
}

describe('quoteName (QUOTENAME)', () => {
  it.each([
    ['users', '[users]'],
    ['a]b', '[a]]b]'],
    ["a'b", "[a'b]"],
    ['x;DROP DATABASE y--', '[x;DROP DATABASE y--]'],
    ['ünïcødé_データ', '[ünïcødé_データ]'],
    ['[already]', '[[already]]]'],
    [']]', '[]]]]]'],
    [long128, `[${long128}]`],
  ])('%s → %s', (name, quoted) => {
    expect(quoteName(name)).toBe(quoted);
    expect(unquote(quoteName(name))).toBe(name);
  });

  it.each([
    ['', /empty/],
    ['n'.repeat(129), /129 characters/],
    ['a\u0000b', /NUL/],
    ['   ', /spaces/],
  ])('refuses %j', (name, re) => {
    expect(() => quoteName(name)).toThrow(re);
  });

  it('counts length in UTF-16 units like sysname', () => {
    expect(() => quoteName('😀'.repeat(64))).not.toThrow(); // 128 units
    expect(() => quoteName('😀'.repeat(64) + 'x')).toThrow(/129/);
  });
});

describe('server paths', () => {
  it.each([
    ['D:\\Backups', 'windows', 'D:\\Backups\\f.bak'],
    ['D:\\Backups\\', 'windows', 'D:\\Backups\\f.bak'],
    ['D:\\', 'windows', 'D:\\f.bak'],
    ['\\\\nas\\sql\\backups', 'windows', '\\\\nas\\sql\\backups\\f.bak'],
    ['/var/opt/mssql/backup', 'posix', '/var/opt/mssql/backup/f.bak'],
    ['/var/opt/mssql/backup/', 'posix', '/var/opt/mssql/backup/f.bak'],
    ['/', 'posix', '/f.bak'],
  ])('%s (%s) + f.bak = %s', (dir, style, joined) => {
    expect(serverPathStyle(dir)).toBe(style);
    expect(joinServerPath(dir, 'f.bak')).toBe(joined);
  });

  it.each([
    ['D:\\Backups', null],
    ['\\\\nas\\share', null],
    ['/var/opt/mssql/backup', null],
    ['backups', /absolute/],
    ['D:relative', /absolute/],
    ['', /empty/],
  ])('serverDirProblem(%j)', (dir, expected) => {
    const p = serverDirProblem(dir);
    if (expected === null) expect(p).toBeNull();
    else expect(p).toMatch(expected);
  });

  it.each([
    ['C:\\Program Files\\MSSQL\\DATA\\master.mdf', 'C:\\Program Files\\MSSQL\\DATA'],
    ['C:\\master.mdf', 'C:\\'],
    ['/var/opt/mssql/data/master.mdf', '/var/opt/mssql/data'],
    ['/master.mdf', '/'],
  ])('serverDirname(%s) = %s', (p, d) => {
    expect(serverDirname(p)).toBe(d);
  });

  it('falls back to the folders of master when the instance defaults are unknown', () => {
    expect(defaultFileDirs({ defaultDataPath: null, defaultLogPath: null, masterDataFile: 'E:\\Data\\master.mdf', masterLogFile: 'F:\\Logs\\mastlog.ldf' })).toEqual({ dataDir: 'E:\\Data', logDir: 'F:\\Logs' });
    expect(defaultFileDirs({ defaultDataPath: '/var/opt/mssql/data/', defaultLogPath: '/var/opt/mssql/log/' })).toEqual({ dataDir: '/var/opt/mssql/data/', logDir: '/var/opt/mssql/log/' });
    expect(defaultFileDirs({})).toBeNull();
  });
});

describe('file names', () => {
  const invalidOnWindows = /[<>:"/\\|?*\u0000-\u001f]/;

  it.each(hostile.concat(['con', 'a/b', 'a\\b', 'a:b', 'a*b', 'trailing.', ' lead', 'a\tb']))('%j gives a safe file name', (name) => {
    const f = backupFileName(name, '20261122T162000Z-abc123');
    expect(f).not.toMatch(invalidOnWindows);
    expect(f).toMatch(/^respaldo-[A-Za-z0-9_-]+-[0-9a-f]{8}-20261122T162000Z-abc123\.bak$/);
    expect(f.length).toBeLessThanOrEqual(120);
  });

  it('keeps names unique when they differ only in characters invalid in file names or in case', () => {
    const names = ['a/b', 'a\\b', 'a:b', 'a*b', 'a?b', 'a_b', 'a b', 'A_b', 'a]b', "a'b", 'ä_b'];
    expect(new Set(names.map((n) => safeFilePart(n))).size).toBeLessThan(names.length); // sanitising alone collides
    const files = names.map((n) => backupFileName(n, 't1'));
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(names.length);
    expect(new Set(names.map((n) => restoreFileName(n, 'set1', 't1').toLowerCase())).size).toBe(names.length);
  });

  it('fileStem is readable and stable', () => {
    expect(fileStem('users')).toMatch(/^users-[0-9a-f]{8}$/);
    expect(fileStem('users')).toBe(fileStem('users'));
    expect(safeFilePart('x;DROP DATABASE y--')).toBe('x_DROP_DATABASE_y');
    expect(safeFilePart('データ')).toBe('db');
  });

  it('refuses tokens that could change the path', () => {
    expect(() => backupFileName('users', '../x')).toThrow(/token/);
    expect(() => backupFileName('users', '')).toThrow(/token/);
  });
});

describe('temporary and safety database names', () => {
  const setId = '20261122_162000';

  it.each(hostile)('%j: names fit in 128 characters and parse back', (live) => {
    const { temp, safety } = stagingNames(live, setId);
    expect(temp.length).toBeLessThanOrEqual(MAX_SYSNAME);
    expect(safety.length).toBeLessThanOrEqual(MAX_SYSNAME);
    expect(temp.endsWith(`__restore_${setId}`)).toBe(true);
    expect(safety.endsWith(`__pre_restore_${setId}`)).toBe(true);
    expect(() => quoteName(temp)).not.toThrow();
    expect(() => quoteName(safety)).not.toThrow();
    expect(parseStagingName(temp, live)).toEqual({ kind: 'temp', setId });
    expect(parseStagingName(safety, live)).toEqual({ kind: 'safety', setId });
  });

  it('uses the plain name when it fits', () => {
    expect(stagingNames('users', setId)).toEqual({ temp: `users__restore_${setId}`, safety: `users__pre_restore_${setId}` });
  });

  it('cuts long names and adds a hash, so two long names sharing a prefix stay distinct', () => {
    const a = 'p'.repeat(120) + 'A';
    const b = 'p'.repeat(120) + 'B';
    expect(nameStem(a, setId)).toMatch(/~[0-9a-f]{8}$/);
    expect(stagingNames(a, setId).safety).not.toBe(stagingNames(b, setId).safety);
    expect(parseStagingName(stagingNames(a, setId).safety, b)).toBeNull();
  });

  it('does not split a surrogate pair when cutting', () => {
    const live = '😀'.repeat(60);
    const { safety } = stagingNames(live, setId);
    expect(safety.length).toBeLessThanOrEqual(128);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(safety)).toBe(false);
  });

  it.each([
    ['users__restore_s1', 'users', { kind: 'temp', setId: 's1' }],
    ['users__pre_restore_s1', 'users', { kind: 'safety', setId: 's1' }],
    ['users__restore_x__restore_s2', 'users__restore_x', { kind: 'temp', setId: 's2' }],
    ['users__restore_x__restore_s2', 'users', { kind: 'temp', setId: 'x__restore_s2' }],
    ['users2__restore_s1', 'users', null],
    ['users', 'users', null],
    ['Users__pre_restore_s1', 'users', null],
    ['users__pre_restore_', 'users', null],
  ])('parseStagingName(%j, %j)', (candidate, live, expected) => {
    expect(parseStagingName(candidate, live)).toEqual(expected);
  });

  it('refuses set ids that are empty or too long', () => {
    expect(() => stagingNames('users', '')).toThrow(/set id/);
    expect(() => stagingNames('users', 'x'.repeat(65))).toThrow(/set id/);
  });
});

describe('backup plan', () => {
  it.each([
    [true, 'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, COMPRESSION, STATS = 5'],
    [false, 'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, STATS = 5'],
  ])('compression=%s', (compression, sql) => {
    const plan = planBackup({ database: 'users', serverBackupDir: 'D:\\Backups', token: 'T1', compression });
    expect(plan.backup.sql).toBe(sql);
    expect(plan.serverPath).toBe(`D:\\Backups\\${plan.fileName}`);
    expect(plan.backup.params).toEqual({ db: 'users', path: plan.serverPath });
    expect(plan.verify).toMatchObject({ sql: 'RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM', params: { path: plan.serverPath } });
    expect(plan.header).toMatchObject({ sql: 'RESTORE HEADERONLY FROM DISK = @path', params: { path: plan.serverPath } });
    expect(plan.fileList).toMatchObject({ sql: 'RESTORE FILELISTONLY FROM DISK = @path', params: { path: plan.serverPath } });
  });

  it('a safety copy continues after errors so a damaged database is still kept', () => {
    expect(planBackup({ database: 'u', serverBackupDir: '/b', token: 'T', compression: false, continueAfterError: true }).backup.sql).toBe(
      'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, CONTINUE_AFTER_ERROR, COPY_ONLY, INIT, FORMAT, STATS = 5',
    );
  });

  it.each(hostile)('%j travels only as a parameter in BACKUP', (name) => {
    const plan = planBackup({ database: name, serverBackupDir: '/var/opt/mssql/backup', token: 'T1', compression: false });
    expect(plan.backup.sql).not.toContain(name);
    expect(plan.backup.params.db).toBe(name);
    expect(plan.serverPath.startsWith('/var/opt/mssql/backup/respaldo-')).toBe(true);
    expect(plan.serverPath).not.toContain(name.length > 3 ? name : '\u0000');
  });

  it('refuses a 129-character database name', () => {
    expect(() => planBackup({ database: 'x'.repeat(129), serverBackupDir: '/b', token: 'T', compression: false })).toThrow(/129/);
  });

  it.each(hostile)('row counts of %j use the quoted three-part name', (name) => {
    const st = rowCountsStatement(name);
    const q = quoteName(name);
    expect(st.sql).toContain(`FROM ${q}.sys.tables t`);
    expect(st.sql).toContain(`JOIN ${q}.sys.partitions p ON p.object_id = t.object_id AND p.index_id IN (0, 1)`);
    expect(st.params).toEqual({});
  });

  it.each([
    ['Enterprise Edition (64-bit)', 3, true],
    ['Developer Edition (64-bit)', 3, true],
    ['Standard Edition (64-bit)', 2, true],
    ['Web Edition (64-bit)', 2, false],
    ['Express Edition (64-bit)', 4, false],
    ['Express Edition with Advanced Services (64-bit)', 4, false],
    ['SQL Azure', 8, true],
    [null, null, false],
  ])('compression for %s (EngineEdition %s) = %s', (edition, engineEdition, expected) => {
    expect(supportsBackupCompression(edition, engineEdition)).toBe(expected);
  });

  it('metadata statements take names as parameters', () => {
    expect(databaseInfoStatement("a'b")).toMatchObject({ params: { name: "a'b" } });
    expect(databaseInfoStatement("a'b").sql).toContain('WHERE d.name = @name');
    expect(sessionsStatement('x;DROP DATABASE y--').sql).toContain('DB_ID(@name)');
    expect(sessionsStatement('x;DROP DATABASE y--').sql).not.toContain('DROP');
  });
});

describe('restore plan', () => {
  const files = [
    { logicalName: 'users', physicalName: 'C:\\Data\\users.mdf', type: 'D' },
    { logicalName: 'users_2', physicalName: 'C:\\Data\\users_2.ndf', type: 'D' },
    { logicalName: 'users_log', physicalName: 'C:\\Data\\users_log.ldf', type: 'L' },
    { logicalName: "o'dd]name", physicalName: '/var/opt/mssql/data/fs', type: 'S' },
  ];

  it('moves every file to new names in the default data/log folders (Windows)', () => {
    const moves = planMoves(files, { live: 'users', setId: 's1', dataDir: 'D:\\SQLData\\', logDir: 'L:\\SQLLogs' });
    const stem = `${fileStem('users')}-s1`;
    expect(moves).toEqual([
      { logicalName: 'users', physicalName: `D:\\SQLData\\${stem}-1.mdf`, type: 'D' },
      { logicalName: 'users_2', physicalName: `D:\\SQLData\\${stem}-2.ndf`, type: 'D' },
      { logicalName: 'users_log', physicalName: `L:\\SQLLogs\\${stem}-3.ldf`, type: 'L' },
      { logicalName: "o'dd]name", physicalName: `D:\\SQLData\\${stem}-4`, type: 'S' },
    ]);
  });

  it('moves files on Linux, picking extensions by type when the original has none', () => {
    const moves = planMoves(
      [
        { logicalName: 'd', physicalName: '/x/d', type: 'D' },
        { logicalName: 'd2', physicalName: '/x/d2', type: 'D' },
        { logicalName: 'l', physicalName: '/x/l', type: 'L' },
      ],
      { live: 'a]b', setId: 's1', dataDir: '/var/opt/mssql/data/', logDir: '/var/opt/mssql/log' },
    );
    expect(moves.map((m) => m.physicalName)).toEqual([
      `/var/opt/mssql/data/${fileStem('a]b')}-s1-1.mdf`,
      `/var/opt/mssql/data/${fileStem('a]b')}-s1-2.ndf`,
      `/var/opt/mssql/log/${fileStem('a]b')}-s1-3.ldf`,
    ]);
  });

  it('gives databases that differ only in invalid file characters different physical files', () => {
    const a = planMoves(files.slice(0, 1), { live: 'a/b', setId: 's1', dataDir: '/d', logDir: '/l' });
    const b = planMoves(files.slice(0, 1), { live: 'a:b', setId: 's1', dataDir: '/d', logDir: '/l' });
    expect(a[0]!.physicalName).not.toBe(b[0]!.physicalName);
  });

  it('refuses an empty file list', () => {
    expect(() => planMoves([], { live: 'u', setId: 's', dataDir: '/d', logDir: '/l' })).toThrow(/no files/);
  });

  it('RESTORE passes target, path, logical and physical names as parameters', () => {
    const moves = planMoves(files, { live: "a'b", setId: 's1', dataDir: '/d', logDir: '/l' });
    const st = restoreStatement("a'b__restore_s1", '/b/r.bak', moves);
    expect(st.sql).toBe('RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, MOVE @l2 TO @p2, MOVE @l3 TO @p3, MOVE @l4 TO @p4, RECOVERY, STATS = 5');
    expect(st.params).toMatchObject({ db: "a'b__restore_s1", path: '/b/r.bak', l1: 'users', l4: "o'dd]name", p3: moves[2]!.physicalName });
    expect(st.sql).not.toContain("'");
  });
});

describe('swap and cleanup statements', () => {
  it.each(hostile)('swap of %j quotes every identifier', (live) => {
    const { temp, safety } = stagingNames(live, 's1');
    const plan = planSwap({ live, setId: 's1', liveExists: true, terminateConnections: true });
    expect(plan.steps.map((s) => s.sql)).toEqual([
      `ALTER DATABASE ${quoteName(live)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE`,
      `ALTER DATABASE ${quoteName(live)} MODIFY NAME = ${quoteName(safety)}`,
      `ALTER DATABASE ${quoteName(temp)} MODIFY NAME = ${quoteName(live)}`,
    ]);
    expect(plan.finallyAfterSwap!.sql).toBe(`ALTER DATABASE ${quoteName(safety)} SET MULTI_USER`);
    expect(plan.finallyBeforeRename!.sql).toBe(`ALTER DATABASE ${quoteName(live)} SET MULTI_USER`);
    expect(plan.rollbackRename!.sql).toBe(`ALTER DATABASE ${quoteName(safety)} MODIFY NAME = ${quoteName(live)}`);
  });

  it('without --terminate-connections SINGLE_USER fails instead of closing sessions', () => {
    expect(singleUserStatement('users', false).sql).toBe('ALTER DATABASE [users] SET SINGLE_USER WITH NO_WAIT');
    expect(planSwap({ live: 'users', setId: 's1', liveExists: true, terminateConnections: false }).steps[0]!.sql).toBe('ALTER DATABASE [users] SET SINGLE_USER WITH NO_WAIT');
  });

  it('a swap onto a database that does not exist is one rename and keeps no safety copy', () => {
    const plan = planSwap({ live: 'users', setId: 's1', liveExists: false, terminateConnections: false });
    expect(plan.steps.map((s) => s.sql)).toEqual(['ALTER DATABASE [users__restore_s1] MODIFY NAME = [users]']);
    expect(plan.safety).toBeNull();
  });

  it('drop statements check existence by parameter and quote the identifier', () => {
    expect(dropIfExistsStatement('a]b__restore_s1')).toEqual({ purpose: 'drop database a]b__restore_s1', sql: 'IF DB_ID(@name) IS NOT NULL DROP DATABASE [a]]b__restore_s1]', params: { name: 'a]b__restore_s1' } });
    expect(dropSafetyCopyStatements('u__pre_restore_s1').map((s) => s.sql)).toEqual([
      'IF DB_ID(@name) IS NOT NULL ALTER DATABASE [u__pre_restore_s1] SET SINGLE_USER WITH ROLLBACK IMMEDIATE',
      'IF DB_ID(@name) IS NOT NULL DROP DATABASE [u__pre_restore_s1]',
    ]);
    expect(renameStatement('x;DROP DATABASE y--', "a'b").sql).toBe("ALTER DATABASE [x;DROP DATABASE y--] MODIFY NAME = [a'b]");
  });
});

describe('STATS messages', () => {
  it.each([
    ['10 percent processed.', 10],
    ['5 percent processed.', 5],
    ['100 percent processed.', 100],
    ['Processed 352 pages for database \'users\', file \'users\' on file 1.', null],
    ['BACKUP DATABASE successfully processed 354 pages in 0.030 seconds (92.122 MB/sec).', null],
    ['101 percent processed.', null],
  ])('%j → %s', (msg, pct) => {
    expect(parseStatsPercent(msg)).toBe(pct);
  });
});

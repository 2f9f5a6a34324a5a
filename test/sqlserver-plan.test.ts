import { readFileSync } from 'node:fs';
import { english } from '../src/core/phrases.js';
import { describe, expect, it } from 'vitest';
import {
  backupFileName,
  fileStem,
  joinServerPath,
  MAX_SYSNAME,
  nameStem,
  parseStagingName,
  quoteName,
  restoreFileName,
  safeFilePart,
  serverDirname,
  serverDirProblem,
  serverPathStyle,
  stagingNames,
  hostPathStyle,
} from '../src/drivers/sqlserver/names.js';
import { chainStepStatement } from '../src/drivers/sqlserver/chain-plan.js';
import {
  planBackup,
  rowCountsStatement,
  sessionsStatement,
  supportsBackupCompression,
  databaseInfoStatement,
  encryptionStatement,
  planSettings,
  unsupportedEdition,
  newerThanServer,
  productName,
  type DbSettings,
} from '../src/drivers/sqlserver/plan.js';
import {
  defaultFileDirs,
  dropIfExistsStatement,
  dropSafetyCopyStatements,
  liveStateProblem,
  parseStatsPercent,
  planMoves,
  planSwap,
  renameStatement,
  restoreStatement,
  singleUserStatement,
  multiUserStatement,
  takeAndRenameStatement,
} from '../src/drivers/sqlserver/swap-plan.js';

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
    expect(
      defaultFileDirs({
        defaultDataPath: null,
        defaultLogPath: null,
        masterDataFile: 'E:\\Data\\master.mdf',
        masterLogFile: 'F:\\Logs\\mastlog.ldf',
      }),
    ).toEqual({ dataDir: 'E:\\Data', logDir: 'F:\\Logs' });
    expect(defaultFileDirs({ defaultDataPath: '/var/opt/mssql/data/', defaultLogPath: '/var/opt/mssql/log/' })).toEqual(
      { dataDir: '/var/opt/mssql/data/', logDir: '/var/opt/mssql/log/' },
    );
    expect(defaultFileDirs({})).toBeNull();
  });
});

describe('file names', () => {
  const invalidOnWindows = /[<>:"/\\|?*\u0000-\u001f]/;

  it.each(hostile.concat(['con', 'a/b', 'a\\b', 'a:b', 'a*b', 'trailing.', ' lead', 'a\tb']))(
    '%j gives a safe file name',
    (name) => {
      const f = backupFileName(name, '20261122T162000Z-abc123');
      expect(f).not.toMatch(invalidOnWindows);
      expect(f).toMatch(/^respaldo-[A-Za-z0-9_-]+-[0-9a-f]{8}-20261122T162000Z-abc123\.bak$/);
      expect(f.length).toBeLessThanOrEqual(120);
    },
  );

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
    expect(stagingNames('users', setId)).toEqual({
      temp: `users__restore_${setId}`,
      safety: `users__pre_restore_${setId}`,
    });
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
    [true, 'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, COMPRESSION, STATS = 1'],
    [false, 'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, COPY_ONLY, INIT, FORMAT, STATS = 1'],
  ])('compression=%s', (compression, sql) => {
    const plan = planBackup({ database: 'users', serverBackupDir: 'D:\\Backups', token: 'T1', compression });
    expect(plan.backup.sql).toBe(sql);
    expect(plan.serverPath).toBe(`D:\\Backups\\${plan.fileName}`);
    expect(plan.backup.params).toEqual({ db: 'users', path: plan.serverPath });
    expect(plan.verify).toMatchObject({
      sql: 'RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM',
      params: { path: plan.serverPath },
    });
    expect(plan.header).toMatchObject({
      sql: 'RESTORE HEADERONLY FROM DISK = @path',
      params: { path: plan.serverPath },
    });
    expect(plan.fileList).toMatchObject({
      sql: 'RESTORE FILELISTONLY FROM DISK = @path',
      params: { path: plan.serverPath },
    });
  });

  it('a safety copy continues after errors so a damaged database is still kept', () => {
    expect(
      planBackup({ database: 'u', serverBackupDir: '/b', token: 'T', compression: false, continueAfterError: true })
        .backup.sql,
    ).toBe(
      'BACKUP DATABASE @db TO DISK = @path WITH CHECKSUM, CONTINUE_AFTER_ERROR, COPY_ONLY, INIT, FORMAT, STATS = 1',
    );
  });

  it.each(hostile)('%j travels only as a parameter in BACKUP', (name) => {
    const plan = planBackup({
      database: name,
      serverBackupDir: '/var/opt/mssql/backup',
      token: 'T1',
      compression: false,
    });
    expect(plan.backup.sql).not.toContain(name);
    expect(plan.backup.params.db).toBe(name);
    expect(plan.serverPath.startsWith('/var/opt/mssql/backup/respaldo-')).toBe(true);
    expect(plan.serverPath).not.toContain(name.length > 3 ? name : '\u0000');
  });

  it('refuses a 129-character database name', () => {
    expect(() =>
      planBackup({ database: 'x'.repeat(129), serverBackupDir: '/b', token: 'T', compression: false }),
    ).toThrow(/129/);
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
    const dirs = { dataDir: 'D:\\SQLData\\', logDir: 'L:\\SQLLogs' };
    const moves = planMoves(files, { live: 'users', setId: 's1', token: 'T1', ...dirs });
    const stem = `${fileStem('users')}-s1-T1`;
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
      { live: 'a]b', setId: 's1', token: 'T1', dataDir: '/var/opt/mssql/data/', logDir: '/var/opt/mssql/log' },
    );
    expect(moves.map((m) => m.physicalName)).toEqual([
      `/var/opt/mssql/data/${fileStem('a]b')}-s1-T1-1.mdf`,
      `/var/opt/mssql/data/${fileStem('a]b')}-s1-T1-2.ndf`,
      `/var/opt/mssql/log/${fileStem('a]b')}-s1-T1-3.ldf`,
    ]);
  });

  it('gives databases that differ only in invalid file characters different physical files', () => {
    const a = planMoves(files.slice(0, 1), { live: 'a/b', setId: 's1', token: 'T1', dataDir: '/d', logDir: '/l' });
    const b = planMoves(files.slice(0, 1), { live: 'a:b', setId: 's1', token: 'T1', dataDir: '/d', logDir: '/l' });
    expect(a[0]!.physicalName).not.toBe(b[0]!.physicalName);
  });

  it('two restores of the same set get different physical files (issue 16.2)', () => {
    const opts = { live: 'users', setId: 's1', dataDir: '/d', logDir: '/l' };
    const first = planMoves(files, { ...opts, token: '20261201T001500Z-a1b2c3' });
    const second = planMoves(files, { ...opts, token: '20261201T002000Z-d4e5f6' });
    for (const [i, m] of first.entries()) expect(m.physicalName).not.toBe(second[i]!.physicalName);
    expect(() => planMoves(files, { ...opts, token: '../x' })).toThrow(/token/);
  });

  it.each([
    ['Linux', '/var/opt/mssql/data/', '/var/opt/mssql/data/'],
    ['Windows', 'D:\\Data', 'D:\\Data\\'],
  ])('on a %s host the data files go to %s', (platform, dataDir, prefix) => {
    const style = hostPathStyle(platform, dataDir);
    const opts = { live: 'u', setId: 's1', token: 'T', dataDir, logDir: dataDir, pathStyle: style };
    const moves = planMoves(files.slice(0, 1), opts);
    expect(moves[0]!.physicalName.startsWith(prefix)).toBe(true);
  });

  it('refuses an empty file list', () => {
    expect(() => planMoves([], { live: 'u', setId: 's', token: 'T', dataDir: '/d', logDir: '/l' })).toThrow(/no files/);
  });

  it('RESTORE passes target, path, logical and physical names as parameters', () => {
    const moves = planMoves(files, { live: "a'b", setId: 's1', token: 'T', dataDir: '/d', logDir: '/l' });
    const st = restoreStatement("a'b__restore_s1", '/b/r.bak', moves);
    expect(st.sql).toBe(
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, ' +
        'MOVE @l1 TO @p1, MOVE @l2 TO @p2, MOVE @l3 TO @p3, MOVE @l4 TO @p4, RECOVERY, STATS = 1',
    );
    expect(st.params).toMatchObject({
      db: "a'b__restore_s1",
      path: '/b/r.bak',
      l1: 'users',
      l4: "o'dd]name",
      p3: moves[2]!.physicalName,
    });
    expect(st.sql).not.toContain("'");
  });

  it.each([
    [false, 'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, RECOVERY, STATS = 1'],
    [
      true,
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, CONTINUE_AFTER_ERROR, ' +
        'MOVE @l1 TO @p1, RECOVERY, STATS = 1',
    ],
  ])('continueAfterError=%s (a safety copy of a damaged database, issue 16.7)', (continueAfterError, sql) => {
    const moves = planMoves(files.slice(0, 1), { live: 'u', setId: 's1', token: 'T', dataDir: '/d', logDir: '/l' });
    expect(restoreStatement('u__restore_s1', '/b/r.bak', moves, { continueAfterError }).sql).toBe(sql);
  });
});

describe('swap and cleanup statements', () => {
  it.each(hostile)('swap of %j quotes every identifier', (live) => {
    const { temp, safety } = stagingNames(live, 's1');
    const plan = planSwap({ live, setId: 's1', liveExists: true, terminateConnections: true });
    expect(plan.steps.map((s) => s.sql)).toEqual([
      [
        'BEGIN TRY',
        `  ALTER DATABASE ${quoteName(live)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;`,
        `  ALTER DATABASE ${quoteName(live)} MODIFY NAME = ${quoteName(safety)};`,
        'END TRY',
        'BEGIN CATCH',
        '  THROW;',
        'END CATCH',
      ].join('\n'),
      `ALTER DATABASE ${quoteName(temp)} MODIFY NAME = ${quoteName(live)}`,
    ]);
    expect(plan.steps.every((s) => Object.keys(s.params).length === 0)).toBe(true);
    const multi = (name: string): string => `ALTER DATABASE ${quoteName(name)} SET MULTI_USER WITH ROLLBACK IMMEDIATE`;
    expect(plan.finallyAfterSwap!.sql).toBe(multi(safety));
    expect(plan.finallyBeforeRename!.sql).toBe(multi(live));
    expect(plan.rollbackRename!.sql).toBe(`ALTER DATABASE ${quoteName(safety)} MODIFY NAME = ${quoteName(live)}`);
  });

  it.each([
    [undefined, 'users__pre_restore_s1'],
    [1, 'users__pre_restore_s1'],
    [2, 'users__pre_restore_s1__2'],
  ])("round %s keeps the live database as %s; the temporary database is the set's own", (round, safety) => {
    const plan = planSwap({ live: 'users', setId: 's1', liveExists: true, terminateConnections: false, round });
    expect(plan.safety).toBe(safety);
    expect(plan.steps[0]!.sql).toContain(`MODIFY NAME = [${safety}];`);
    expect(plan.steps[1]!.sql).toBe('ALTER DATABASE [users__restore_s1] MODIFY NAME = [users]');
    expect(plan.rollbackRename!.sql).toBe(`ALTER DATABASE [${safety}] MODIFY NAME = [users]`);
    expect(parseStagingName(safety, 'users')).toEqual({ kind: 'safety', setId: round === 2 ? 's1__2' : 's1' });
  });

  it('without --terminate-connections SINGLE_USER fails instead of closing sessions', () => {
    expect(singleUserStatement('users', false).sql).toBe('ALTER DATABASE [users] SET SINGLE_USER WITH NO_WAIT');
    const plan = planSwap({ live: 'users', setId: 's1', liveExists: true, terminateConnections: false });
    expect(plan.steps[0]!.sql).toContain('\n  ALTER DATABASE [users] SET SINGLE_USER WITH NO_WAIT;\n');
    expect(plan.finallyBeforeRename!.sql).toBe('ALTER DATABASE [users] SET MULTI_USER');
  });

  it.each([
    ['users', 'users__pre_restore_s1', true, 'ROLLBACK IMMEDIATE'],
    ['users', 'users__pre_restore_s1', false, 'NO_WAIT'],
    ['a]b', "a]b__pre_restore_s'1", false, 'NO_WAIT'],
  ])('take-and-rename %j → %j (terminate %s): one batch, SINGLE_USER WITH %s, MODIFY NAME', (from, to, close, mode) => {
    const st = takeAndRenameStatement(from, to, close);
    const lines = st.sql.split('\n');
    expect(lines[0]).toBe('BEGIN TRY');
    expect(lines[1]).toBe(`  ALTER DATABASE ${quoteName(from)} SET SINGLE_USER WITH ${mode};`);
    expect(lines[2]).toBe(`  ALTER DATABASE ${quoteName(from)} MODIFY NAME = ${quoteName(to)};`);
    expect(lines.slice(3)).toEqual(['END TRY', 'BEGIN CATCH', '  THROW;', 'END CATCH']);
  });

  it('a swap back renames the kept safety copy in, and keeps what it replaces under the new set id', () => {
    const back = { live: 'users', terminateConnections: false, incoming: 'users__pre_restore_s1' };
    const plan = planSwap({ ...back, setId: 's2', liveExists: true });
    expect(plan.incoming).toBe('users__pre_restore_s1');
    expect(plan.safety).toBe('users__pre_restore_s2');
    expect(plan.steps[0]!.sql).toContain('MODIFY NAME = [users__pre_restore_s2];');
    expect(plan.steps[1]!.sql).toBe('ALTER DATABASE [users__pre_restore_s1] MODIFY NAME = [users]');
    expect(plan.rollbackRename!.sql).toBe('ALTER DATABASE [users__pre_restore_s2] MODIFY NAME = [users]');
    expect(planSwap({ ...back, setId: 's2', liveExists: false }).steps.map((s) => s.sql)).toEqual([
      'ALTER DATABASE [users__pre_restore_s1] MODIFY NAME = [users]',
    ]);
    expect(() => planSwap({ ...back, setId: 's1', liveExists: true })).toThrow(/same name/);
  });

  it.each([
    [false, 'ALTER DATABASE [u] SET MULTI_USER'],
    [true, 'ALTER DATABASE [u] SET MULTI_USER WITH ROLLBACK IMMEDIATE'],
  ])('MULTI_USER closing sessions=%s', (close, sql) => {
    expect(multiUserStatement('u', close).sql).toBe(sql);
  });

  it('a swap onto a database that does not exist is one rename and keeps no safety copy', () => {
    const plan = planSwap({ live: 'users', setId: 's1', liveExists: false, terminateConnections: false });
    expect(plan.steps.map((s) => s.sql)).toEqual(['ALTER DATABASE [users__restore_s1] MODIFY NAME = [users]']);
    expect(plan.safety).toBeNull();
  });

  it('drop statements check existence by parameter and quote the identifier', () => {
    expect(dropIfExistsStatement('a]b__restore_s1')).toEqual({
      purpose: 'drop database a]b__restore_s1',
      sql: 'IF DB_ID(@name) IS NOT NULL DROP DATABASE [a]]b__restore_s1]',
      params: { name: 'a]b__restore_s1' },
    });
    expect(dropSafetyCopyStatements('u__pre_restore_s1').map((s) => [s.sql, s.params])).toEqual([
      [
        'IF DB_ID(@name) IS NOT NULL\nBEGIN\n' +
          '  ALTER DATABASE [u__pre_restore_s1] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\n' +
          '  DROP DATABASE [u__pre_restore_s1];\nEND',
        { name: 'u__pre_restore_s1' },
      ],
    ]);
    // A safety copy left RESTORING, SUSPECT, …: ALTER DATABASE … SET SINGLE_USER fails there (5052 on RESTORING).
    for (const state of ['RESTORING', 'SUSPECT', 'RECOVERY_PENDING', 'EMERGENCY', 'OFFLINE']) {
      expect(dropSafetyCopyStatements('u__pre_restore_s1', state).map((s) => [s.sql, s.params])).toEqual([
        ['IF DB_ID(@name) IS NOT NULL DROP DATABASE [u__pre_restore_s1]', { name: 'u__pre_restore_s1' }],
      ]);
    }
    expect(dropSafetyCopyStatements('u__pre_restore_s1', 'ONLINE')).toEqual(
      dropSafetyCopyStatements('u__pre_restore_s1'),
    );
    expect(renameStatement('x;DROP DATABASE y--', "a'b").sql).toBe(
      "ALTER DATABASE [x;DROP DATABASE y--] MODIFY NAME = [a'b]",
    );
  });
});

describe('STATS messages', () => {
  it.each([
    ['10 percent processed.', 10],
    ['5 percent processed.', 5],
    ['100 percent processed.', 100],
    ["Processed 352 pages for database 'users', file 'users' on file 1.", null],
    ['BACKUP DATABASE successfully processed 354 pages in 0.030 seconds (92.122 MB/sec).', null],
    ['101 percent processed.', null],
  ])('%j → %s', (msg, pct) => {
    expect(parseStatsPercent(msg)).toBe(pct);
  });
});

describe('server host platform decides the path style (issue 16.8)', () => {
  it.each([
    ['Linux', '/var/opt/mssql/back\\up', false, 'posix', '/var/opt/mssql/back\\up/f.bak'],
    ['Linux', '/srv/sql\\', false, 'posix', '/srv/sql\\/f.bak'],
    ['Windows', 'D:\\Backups', false, 'windows', 'D:\\Backups\\f.bak'],
    ['Windows', '\\\\nas\\sql\\', false, 'windows', '\\\\nas\\sql\\f.bak'],
    [null, 'D:\\Backups', true, 'windows', 'D:\\Backups\\f.bak'],
    [null, '/var/opt/mssql/backup', false, 'posix', '/var/opt/mssql/backup/f.bak'],
    ['FreeBSD?', '/b', false, 'posix', '/b/f.bak'],
  ])('host_platform %j, folder %j (view missing %s) → %s, %j', (platform, dir, missing, style, joined) => {
    const st = hostPathStyle(platform, dir, missing);
    expect(st).toBe(style);
    expect(joinServerPath(dir, 'f.bak', st)).toBe(joined);
  });

  it('a backup on a Linux server with a backslash in the folder keeps / as separator', () => {
    const opts = { database: 'u', serverBackupDir: '/var/opt/mssql/back\\up', token: 'T', compression: false };
    const plan = planBackup({ ...opts, pathStyle: 'posix' });
    expect(plan.serverPath).toBe(`/var/opt/mssql/back\\up/${plan.fileName}`);
    const guessed = planBackup(opts);
    expect(guessed.serverPath).toBe(`/var/opt/mssql/back\\up\\${guessed.fileName}`);
  });

  it('defaultFileDirs on Linux does not split at a backslash', () => {
    const master = { masterDataFile: '/data\\x/master.mdf', masterLogFile: '/data\\x/mastlog.ldf' };
    expect(defaultFileDirs(master, 'posix')).toEqual({ dataDir: '/data\\x', logDir: '/data\\x' });
  });
});

describe('refused up front (issue 16.6)', () => {
  it.each([
    [2, null],
    [3, null],
    [4, null],
    [5, /Azure SQL Database/],
    [8, /Managed Instance/],
    [null, null],
  ])('engine edition %s', (edition, expected) => {
    const r = unsupportedEdition(edition);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });

  it('database info reads replica_id (availability group), is_encrypted (TDE) and the settings by parameter', () => {
    const st = databaseInfoStatement('x;DROP DATABASE y--');
    const columns = ['d.replica_id', 'd.is_encrypted', 'SUSER_SNAME(d.owner_sid)', 'd.is_trustworthy_on'];
    columns.push('d.is_broker_enabled', 'd.compatibility_level', 'd.is_read_only', 'd.recovery_model_desc');
    for (const col of columns) {
      expect(st.sql).toContain(col);
    }
    expect(st.sql).not.toContain('DROP');
    expect(encryptionStatement("a'b")).toMatchObject({ params: { name: "a'b" } });
    expect(encryptionStatement("a'b").sql).toContain('sys.dm_database_encryption_keys k');
    expect(encryptionStatement("a'b").sql).toContain('DB_ID(@name)');
  });
});

describe('a backup of a later SQL Server version does not restore on an older server (error 3169)', () => {
  it.each([
    ['16.0.4135.4', '15.0.4153.1', true],
    ['15.0.2000.5', '16.0.1000.6', false],
    ['16.0.4135.4', '16.0.1000.6', false], // a later CU of the same version restores
    ['10.50.6000.34', '10.0.6000.29', true], // 2008 R2 is a later version than 2008
    ['10.0.6000.29', '10.50.6000.34', false],
    ['17.0.100.1', '16.0.4135.4', true],
    [null, '15.0.4153.1', false], // sets made before the version was recorded
    ['16.0.4135.4', null, false],
    ['garbage', '15.0.1', false],
  ])('backup %s on server %s: %s', (backup, server, refused) => {
    expect(newerThanServer(backup, server)).toBe(refused);
  });

  it.each([
    ['16.0.4135.4', 'SQL Server 2022 (16.0)'],
    ['10.50.6000.34', 'SQL Server 2008 R2 (10.50)'],
    ['99.0.1.1', 'SQL Server 99.0'],
    ['odd', 'odd'],
  ])('productName(%s) = %s', (v, want) => expect(productName(v)).toBe(want));
});

describe('settings put back after a restore (issue 16.4)', () => {
  const common = { recoveryModel: 'FULL', compatibilityLevel: 150, readOnly: false };
  const recorded: DbSettings = { owner: 'appowner', trustworthy: true, brokerEnabled: true, ...common };
  const afterRestore: DbSettings = { owner: 'backup', trustworthy: false, brokerEnabled: false, ...common };
  const enableBroker = 'ALTER DATABASE [users] SET ENABLE_BROKER WITH ROLLBACK IMMEDIATE';
  const plain = { owner: null, trustworthy: false, brokerEnabled: false };
  const authorize = 'ALTER AUTHORIZATION ON DATABASE::[users] TO ';

  it.each<[string, Partial<DbSettings>, Partial<DbSettings>, string | null, string[]]>([
    ['nothing differs', {}, recorded, null, []],
    [
      'RESTORE reset owner, TRUSTWORTHY and the broker (safety copy shares the broker id)',
      {},
      {},
      'users__pre_restore_s1',
      [
        'ALTER AUTHORIZATION ON DATABASE::[users] TO [appowner]',
        'ALTER DATABASE [users] SET TRUSTWORTHY ON',
        'ALTER DATABASE [users__pre_restore_s1] SET DISABLE_BROKER WITH ROLLBACK IMMEDIATE',
        'ALTER DATABASE [users] SET ENABLE_BROKER WITH ROLLBACK IMMEDIATE',
      ],
    ],
    ['no safety copy: broker enabled directly', { owner: null, trustworthy: false }, {}, null, [enableBroker]],
    [
      'recovery model, compatibility level, read-only last',
      { ...plain, recoveryModel: 'SIMPLE', compatibilityLevel: 130, readOnly: true },
      {},
      null,
      [
        'ALTER DATABASE [users] SET RECOVERY SIMPLE',
        'ALTER DATABASE [users] SET COMPATIBILITY_LEVEL = 130',
        'ALTER DATABASE [users] SET READ_ONLY WITH ROLLBACK IMMEDIATE',
      ],
    ],
    ['an owner that needs quoting', { ...plain, owner: 'dom]ain\\app' }, {}, null, [`${authorize}[dom]]ain\\app]`]],
    ['values that are not SQL are ignored', { ...plain, recoveryModel: 'X;Y', compatibilityLevel: 1.5 }, {}, null, []],
  ])('%s', (_label, rec, cur, shares, sql) => {
    const steps = planSettings('users', { ...recorded, ...rec }, { ...afterRestore, ...cur }, shares);
    expect(steps.map((s) => s.statement.sql)).toEqual(sql);
    expect(steps.every((s) => Object.keys(s.statement.params).length === 0 && s.setting.length > 0)).toBe(true);
  });
});

describe('in place over a live database that is not ONLINE (planned by sys.databases.state_desc)', () => {
  it.each<[string | null, RegExp | null, RegExp | null]>([
    ['ONLINE', null, null],
    [null, null, null],
    ['OFFLINE', /^Database "a\]b" is OFFLINE, not ONLINE: it cannot be taken and renamed aside/, /SET ONLINE/],
    ['SUSPECT', /is SUSPECT, not ONLINE \(damaged, or its files are missing\)/, /DROP DATABASE \[a\]\]b\]/],
    ['RECOVERY_PENDING', /is RECOVERY_PENDING, not ONLINE \(damaged/, /--to a\]b_restored/],
    ['EMERGENCY', /is EMERGENCY, not ONLINE \(damaged/, /MODIFY NAME = \[a\]\]b\]/],
    ['RESTORING', /a restore is under way, or it is a log-shipping secondary or a mirror/, /WITH RECOVERY/],
    ['RECOVERING', /is RECOVERING, not ONLINE/, /Wait until SQL Server has recovered it/],
  ])('%s: %s', (state, message, hint) => {
    const problem = liveStateProblem('a]b', state, 'restore');
    if (!message) return expect(problem).toBeNull();
    expect(english(problem!.message)).toMatch(message);
    expect(english(problem!.message)).toMatch(/an in-place restore was refused; nothing was changed\.$/);
    expect(english(problem!.hint)).toMatch(hint!);
  });
});

describe('the README names every state an in-place restore is refused in', () => {
  it('the list in its SQL Server section is the states liveStateProblem refuses (each of them, none other)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## SQL Server'));
    const listed = /not `ONLINE`\s+\(([^)]*)\)/.exec(section)?.[1] ?? '';
    const states = [...listed.matchAll(/`([A-Z_]+)`/g)].map((x) => x[1]!);
    const refused = ['OFFLINE', 'RESTORING', 'SUSPECT', 'RECOVERY_PENDING', 'EMERGENCY', 'RECOVERING'];
    expect(refused.every((st) => liveStateProblem('users', st, 'restore') !== null)).toBe(true);
    expect([...states].sort()).toEqual([...refused].sort());
  });
});

describe('KEEP_CDC only on the step that recovers (SQL Server refuses it WITH NORECOVERY)', () => {
  const moves = [{ logicalName: 'u', physicalName: '/d/u.mdf', type: 'D' }];
  it.each<[boolean | undefined, boolean, string]>([
    [
      true,
      true,
      'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, RECOVERY, KEEP_CDC, STATS = 1',
    ],
    [true, false, 'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, NORECOVERY, STATS = 1'],
    [false, true, 'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, RECOVERY, STATS = 1'],
    [undefined, true, 'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1, RECOVERY, STATS = 1'],
  ])('full: keepCdc %s, recovery %s', (keepCdc, recovery, sql) => {
    expect(restoreStatement('u__restore_1', '/b/u.bak', moves, { recovery, keepCdc }).sql).toBe(sql);
  });
  it.each<[boolean, 'log' | 'differential', string]>([
    [true, 'log', 'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, RECOVERY, KEEP_CDC, STATS = 1'],
    [false, 'log', 'RESTORE LOG @db FROM DISK = @path WITH CHECKSUM, NORECOVERY, STATS = 1'],
    [true, 'differential', 'RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, RECOVERY, KEEP_CDC, STATS = 1'],
  ])('chain step: last %s, %s', (last, kind, sql) => {
    expect(chainStepStatement({ target: 'u__restore_1', serverPath: '/b/l.bak', kind, last, keepCdc: true }).sql).toBe(
      sql,
    );
  });
});

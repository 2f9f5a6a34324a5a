/**
 * The SQL Server driver's drill methods (scratchName, drillChecks, dropScratch, and recover dropping
 * a dead drill's scratch database) run against an in-process fake of its connection interface
 * that records every statement: the sequencing and error handling, not T-SQL semantics (the
 * live suite, gated on RESPALDO_MSSQL_URL, covers those).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefusedError } from '../src/core/errors.js';
import { CollectingReporter } from '../src/core/events.js';
import type { DatabaseConfig } from '../src/core/types.js';
import type { DriverContext } from '../src/drivers/driver.js';
import { createSqlServerDriver, type SqlConnection } from '../src/drivers/sqlserver/index.js';
import {
  checkDbStatement,
  dropScratchStatement,
  drillName,
  parseDrillName,
  type Statement,
} from '../src/drivers/sqlserver/names.js';
import { planBeforeRestore } from '../src/drivers/sqlserver/plan.js';

interface Fake {
  log: { sql: string; params: Record<string, string | number> | undefined }[];
  databases: Set<string>;
  /** sys.databases.state_desc of a database other than ONLINE (RESTORING: a chain cut before its last step). */
  states: Map<string, string>;
  /** Makes a statement whose text starts with this fail with a SQL Server error. */
  failOn: { prefix: string; number: number; message: string } | null;
}

function sqlError(number: number, message: string): Error {
  return Object.assign(new Error(message), { number, class: 16 });
}

function connector(fake: Fake) {
  return async (): Promise<SqlConnection> => ({
    async query(sql, params) {
      fake.log.push({ sql, params });
      if (fake.failOn && sql.startsWith(fake.failOn.prefix)) throw sqlError(fake.failOn.number, fake.failOn.message);
      if (sql.startsWith('SELECT d.name AS name'))
        return [...fake.databases]
          .filter((name) => params?.['name'] === undefined || params['name'] === name)
          .map((name) => ({ name, state: fake.states.get(name) ?? 'ONLINE', userAccess: 'MULTI_USER' }));
      if (sql.startsWith('IF DB_ID(@name) IS NOT NULL')) {
        const name = String(params?.['name']);
        // As SQL Server says it: ALTER DATABASE cannot change the user access of a database being restored.
        if (sql.includes('SET SINGLE_USER') && fake.states.get(name) === 'RESTORING')
          throw sqlError(5052, `ALTER DATABASE is not permitted while a database is in the Restoring state.`);
        fake.databases.delete(name);
        return [];
      }
      if (sql.startsWith('DBCC CHECKDB')) return [];
      throw new Error(`fake SQL Server does not understand: ${sql}`);
    },
    async close() {},
  });
}

let dir: string;
let fake: Fake;
const ctx = (): DriverContext => ({
  reporter: new CollectingReporter(),
  signal: new AbortController().signal,
  scratchDir: join(dir, 's'),
  log: () => undefined,
});
const cfg = (): DatabaseConfig => ({
  name: 'users',
  engine: 'sqlserver',
  server: 'db1',
  user: 'backup',
  password: 'S3cret!pw',
  database: 'users',
  trustServerCertificate: true,
  serverBackupDir: '/var/opt/mssql/backup',
  localBackupDir: dir,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-mssql-drill-'));
  fake = { log: [], databases: new Set(['master', 'users']), failOn: null, states: new Map() };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SQL Server drill statements (planner, as data)', () => {
  it.each([
    ['users', '20261122_101010', 'users__drill_20261122_101010'],
    ['Ventas]2024', '20261122_101010', 'Ventas]2024__drill_20261122_101010'],
  ])('drillName(%s, %s) = %s, and parses back', (live, id, name) => {
    expect(drillName(live, id)).toBe(name);
    expect(parseDrillName(name, live)).toBe(id);
  });

  it('a long name is cut with a hash and still fits 128 characters and parses back', () => {
    const live = 'x'.repeat(128);
    const name = drillName(live, '20261122_101010');
    expect(name.length).toBeLessThanOrEqual(128);
    expect(parseDrillName(name, live)).toBe('20261122_101010');
  });

  it.each([
    ['users__drill_', 'users'],
    ['other__drill_1', 'users'],
    ['users__restore_1', 'users'],
    ['users', 'users'],
  ])('%s is not a drill scratch database of %s', (name, live) => {
    expect(parseDrillName(name, live)).toBeNull();
  });

  it.each<[Statement, string, Record<string, string>]>([
    [checkDbStatement('users__drill_1'), 'DBCC CHECKDB ([users__drill_1]) WITH NO_INFOMSGS, ALL_ERRORMSGS', {}],
    [checkDbStatement('a]b__drill_1'), 'DBCC CHECKDB ([a]]b__drill_1]) WITH NO_INFOMSGS, ALL_ERRORMSGS', {}],
    [
      dropScratchStatement('users__drill_1'),
      'IF DB_ID(@name) IS NOT NULL\nBEGIN\n  ALTER DATABASE [users__drill_1] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\n  DROP DATABASE [users__drill_1];\nEND',
      { name: 'users__drill_1' },
    ],
    ...['RESTORING', 'RECOVERY_PENDING', 'SUSPECT', 'EMERGENCY', 'OFFLINE'].map(
      (state): [Statement, string, Record<string, string>] => [
        dropScratchStatement('users__drill_1', state),
        'IF DB_ID(@name) IS NOT NULL DROP DATABASE [users__drill_1]',
        { name: 'users__drill_1' },
      ],
    ),
    [
      dropScratchStatement('users__drill_1', 'ONLINE'),
      'IF DB_ID(@name) IS NOT NULL\nBEGIN\n  ALTER DATABASE [users__drill_1] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\n  DROP DATABASE [users__drill_1];\nEND',
      { name: 'users__drill_1' },
    ],
  ])('%#: %j', (st, sql, params) => {
    expect(st.sql).toBe(sql);
    expect(st.params).toEqual(params);
  });

  it.each([
    [
      true,
      '/var/opt/mssql/backup/users.bak',
      [['RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM', { path: '/var/opt/mssql/backup/users.bak' }]],
    ],
    [
      true,
      'C:\\Backup\\a b.bak',
      [['RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM', { path: 'C:\\Backup\\a b.bak' }]],
    ],
    [false, '/var/opt/mssql/backup/users.bak', []],
  ])('before RESTORE … WITH MOVE, drill %s of %s runs %j', (drill, path, expected) => {
    expect(planBeforeRestore(path, { drill }).map((st) => [st.sql, st.params])).toEqual(expected);
  });
});

describe('SQL Server drill executor (fake connection)', () => {
  it('scratchName is <database>__drill_<set id> of the configured database', () => {
    const driver = createSqlServerDriver({ connect: connector(fake) });
    expect(driver.scratchName?.(cfg(), '20261122_101010')).toBe('users__drill_20261122_101010');
  });

  it('drillChecks runs DBCC CHECKDB on the scratch database and passes when it reports no error', async () => {
    const driver = createSqlServerDriver({ connect: connector(fake) });
    const checks = await driver.drillChecks!(cfg(), 'users__drill_1', ctx());
    expect(checks).toEqual([
      {
        name: 'DBCC CHECKDB',
        ok: true,
        detail: 'no errors',
        phrases: { detail: { id: 'drill.noErrors', params: {} } },
      },
    ]);
    expect(fake.log.map((l) => l.sql)).toEqual(['DBCC CHECKDB ([users__drill_1]) WITH NO_INFOMSGS, ALL_ERRORMSGS']);
  });

  it("a corruption reported by DBCC CHECKDB is a failed check carrying the server's message", async () => {
    fake.failOn = {
      prefix: 'DBCC CHECKDB',
      number: 8928,
      message: 'Object ID 901578250, index ID 1: Page (1:312) could not be processed.',
    };
    const driver = createSqlServerDriver({ connect: connector(fake) });
    const [check] = await driver.drillChecks!(cfg(), 'users__drill_1', ctx());
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain('Page (1:312) could not be processed');
  });

  it('dropScratch drops only a drill scratch database, closing its sessions in the same batch', async () => {
    fake.databases.add('users__drill_1');
    const driver = createSqlServerDriver({ connect: connector(fake) });
    await driver.dropScratch!(cfg(), 'users__drill_1', ctx());
    expect(fake.databases.has('users__drill_1')).toBe(false);
    await expect(driver.dropScratch!(cfg(), 'users', ctx())).rejects.toBeInstanceOf(RefusedError);
    await expect(driver.dropScratch!(cfg(), 'users__pre_restore_1', ctx())).rejects.toBeInstanceOf(RefusedError);
    expect(fake.databases.has('users')).toBe(true);
    expect(fake.log.filter((l) => l.sql.includes('DROP DATABASE'))).toHaveLength(1);
  });

  it('dropScratch drops a scratch database left RESTORING by DROP DATABASE alone (SINGLE_USER fails there: 5052)', async () => {
    fake.databases.add('users__drill_1');
    fake.states.set('users__drill_1', 'RESTORING');
    const driver = createSqlServerDriver({ connect: connector(fake) });
    await driver.dropScratch!(cfg(), 'users__drill_1', ctx());
    expect(fake.databases.has('users__drill_1')).toBe(false);
    expect(fake.log.at(-1)?.sql).toBe('IF DB_ID(@name) IS NOT NULL DROP DATABASE [users__drill_1]');
  });

  it("recover drops a dead drill's scratch database left RESTORING (a chain cut before its last step)", async () => {
    fake.databases.add('users__drill_20261122_101010');
    fake.states.set('users__drill_20261122_101010', 'RESTORING');
    const driver = createSqlServerDriver({ connect: connector(fake) });
    const actions = (await driver.recover(cfg(), ctx())).map((a) => a.message);
    expect(actions).toEqual([
      'dropped "users__drill_20261122_101010" (the scratch database of an interrupted restore drill)',
    ]);
    expect([...fake.databases].sort()).toEqual(['master', 'users']);
  });

  it("findLeftovers lists a dead drill's scratch database and changes nothing", async () => {
    fake.databases.add('users__drill_20261122_101010');
    const driver = createSqlServerDriver({ connect: connector(fake) });
    const lines = await driver.findLeftovers!(cfg());
    expect(lines).toEqual([
      expect.stringMatching(/^scratch database "users__drill_20261122_101010" left by an interrupted/),
    ]);
    expect(fake.databases.has('users__drill_20261122_101010')).toBe(true);
  });

  it("recover drops a dead drill's scratch database and nothing else", async () => {
    fake.databases.add('users__drill_20261122_101010');
    fake.databases.add('other__drill_20261122_101010');
    const driver = createSqlServerDriver({ connect: connector(fake) });
    const actions = (await driver.recover(cfg(), ctx())).map((a) => a.message);
    expect(actions).toEqual([
      'dropped "users__drill_20261122_101010" (the scratch database of an interrupted restore drill)',
    ]);
    expect([...fake.databases].sort()).toEqual(['master', 'other__drill_20261122_101010', 'users']);
  });
});

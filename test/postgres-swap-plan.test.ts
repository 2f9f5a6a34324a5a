/**
 * PostgreSQL's swap and recovery statements as data (src/drivers/postgres/swap-plan.ts), tested as tables:
 * what recover does for every mix of databases an interrupted restore, swap or drill can leave, and the SQL
 * of each step with odd names. The executors (src/drivers/postgres/restore.ts, safety.ts, recover.ts) run
 * these against the real cluster in test/drivers/postgres.conformance.test.ts (kills before, during and after the swap,
 * then recover).
 */
import { describe, expect, test } from 'vitest';
import {
  TERMINATE_SESSIONS_SQL,
  canForceDrop,
  dropDatabaseSql,
  planPgRecovery,
  planPgSwap,
  renameDatabaseSql,
  type PgRecoveryStep,
} from '../src/drivers/postgres/swap-plan.js';
import { parseDerivedName, preRestoreDbName } from '../src/drivers/postgres/plan.js';
import { firstFreeRound, parseRound, roundId } from '../src/drivers/shared/names.js';

describe('planPgSwap', () => {
  test.each([
    [
      'shop',
      'shop__restore_S1',
      'shop__pre_restore_S1',
      {
        setAside: 'ALTER DATABASE "shop" RENAME TO "shop__pre_restore_S1"',
        swapIn: 'ALTER DATABASE "shop__restore_S1" RENAME TO "shop"',
        undo: 'ALTER DATABASE "shop__pre_restore_S1" RENAME TO "shop"',
      },
    ],
    [
      'Mi "Tienda"',
      'Mi "Tienda"__restore_S1',
      'Mi "Tienda"__pre_restore_S1',
      {
        setAside: 'ALTER DATABASE "Mi ""Tienda""" RENAME TO "Mi ""Tienda""__pre_restore_S1"',
        swapIn: 'ALTER DATABASE "Mi ""Tienda""__restore_S1" RENAME TO "Mi ""Tienda"""',
        undo: 'ALTER DATABASE "Mi ""Tienda""__pre_restore_S1" RENAME TO "Mi ""Tienda"""',
      },
    ],
  ])('%s: staging %s in, live kept as %s', (live, staging, safety, plan) => {
    expect(planPgSwap(live, staging, safety)).toEqual(plan);
  });

  test('a side-by-side restore is published by one rename', () => {
    expect(renameDatabaseSql('copy__restore_S1', 'copy')).toBe('ALTER DATABASE "copy__restore_S1" RENAME TO "copy"');
  });
});

describe('dropDatabaseSql', () => {
  test.each([
    [{ ifExists: true, force: true }, 'DROP DATABASE IF EXISTS "a__restore_1" WITH (FORCE)'],
    [{ ifExists: true, force: false }, 'DROP DATABASE IF EXISTS "a__restore_1"'],
    [{ ifExists: false, force: false }, 'DROP DATABASE "a__restore_1"'],
  ])('%j', (opts, sql) => expect(dropDatabaseSql('a__restore_1', opts)).toBe(sql));

  test.each([
    [120017, false],
    [130000, true],
    [150004, true],
  ])('server_version_num %i can force a drop: %s', (n, yes) => expect(canForceDrop(n)).toBe(yes));

  test('sessions are closed by database, never our own', () => {
    expect(TERMINATE_SESSIONS_SQL).toContain('datname = $1');
    expect(TERMINATE_SESSIONS_SQL).toContain('pid <> pg_backend_pid()');
  });
});

describe('planPgRecovery', () => {
  const rename = (from: string, to: string): PgRecoveryStep => ({
    kind: 'rename-back',
    from,
    to,
    sql: renameDatabaseSql(from, to),
  });
  const drop = (name: string, of: 'restore' | 'drill' = 'restore'): PgRecoveryStep => ({ kind: 'drop', name, of });

  test.each<[string, string[], boolean, PgRecoveryStep[]]>([
    ['nothing left', ['postgres', 'shop', 'other'], false, []],
    ['killed before the swap: staging dropped', ['shop', 'shop__restore_S1'], false, [drop('shop__restore_S1')]],
    [
      'killed between the renames: the live database renamed back, staging dropped',
      ['shop__pre_restore_S1', 'shop__restore_S1'],
      false,
      [rename('shop__pre_restore_S1', 'shop'), drop('shop__restore_S1')],
    ],
    ['killed after the swap: the safety copy is kept', ['shop', 'shop__pre_restore_S1'], false, []],
    [
      'a second restore of the set killed between its renames: its own safety copy (round 2) renamed back',
      ['shop__pre_restore_S1', 'shop__restore_S1', 'shop__pre_restore_S1__2'],
      false,
      [rename('shop__pre_restore_S1__2', 'shop'), drop('shop__restore_S1')],
    ],
    [
      'rounds compared as numbers, not names',
      ['shop__pre_restore_S1__9', 'shop__restore_S1', 'shop__pre_restore_S1__10'],
      false,
      [rename('shop__pre_restore_S1__10', 'shop'), drop('shop__restore_S1')],
    ],
    [
      'a round of another set does not pair with this staging copy',
      ['shop__pre_restore_S0__2', 'shop__restore_S1'],
      false,
      [{ kind: 'no-live', safeties: ['shop__pre_restore_S0__2'] }, drop('shop__restore_S1')],
    ],
    [
      'live missing, a safety copy of another restore: said, nothing renamed',
      ['shop__pre_restore_S0', 'shop__restore_S1'],
      false,
      [{ kind: 'no-live', safeties: ['shop__pre_restore_S0'] }, drop('shop__restore_S1')],
    ],
    ['live missing and nothing of respaldo: nothing', ['postgres'], false, []],
    [
      'a dead drill: its scratch database dropped',
      ['shop', 'shop__drill_S2'],
      false,
      [drop('shop__drill_S2', 'drill')],
    ],
    [
      'names of other databases are never touched',
      ['shop', 'shopping__restore_S1', 'other__pre_restore_S1', 'shop__restore_'],
      false,
      [],
    ],
    [
      'on a drill server no live database is expected: only scratch and staging dropped',
      ['shop__pre_restore_S1', 'shop__restore_S1', 'shop__drill_S3'],
      true,
      [drop('shop__restore_S1'), drop('shop__drill_S3', 'drill')],
    ],
  ])('%s', (_title, names, drillServer, steps) => {
    expect(planPgRecovery('shop', names, { drillServer })).toEqual(steps);
  });

  test('a staging or scratch database with sessions connected is left (its run is alive); the others are dropped', () => {
    const names = ['shop', 'shop__restore_S1', 'shop__restore_S2', 'shop__drill_S3'];
    const sessions = new Map([
      ['shop__restore_S1', 2],
      ['shop__drill_S3', 1],
      ['shop', 5],
    ]);
    expect(planPgRecovery('shop', names, { drillServer: false, sessions })).toEqual([
      { kind: 'in-use', name: 'shop__restore_S1', of: 'restore', sessions: 2 },
      drop('shop__restore_S2'),
      { kind: 'in-use', name: 'shop__drill_S3', of: 'drill', sessions: 1 },
    ]);
  });
});

describe('safety copy rounds (a set restored in place again while its earlier safety copy is kept)', () => {
  test.each([
    ['S1', 1, 'S1'],
    ['S1', 2, 'S1__2'],
    ['20261203_055012_2', 3, '20261203_055012_2__3'],
  ])('%s, round %i: %s', (setId, round, id) => {
    expect(roundId(setId, round)).toBe(id);
    expect(parseRound(id)).toEqual({ setId, round });
  });

  test.each<[string, string[], string]>([
    ['nothing kept', ['shop'], 'shop__pre_restore_S1'],
    ['the first kept', ['shop', 'shop__pre_restore_S1'], 'shop__pre_restore_S1__2'],
    ['two kept', ['shop__pre_restore_S1', 'shop__pre_restore_S1__2'], 'shop__pre_restore_S1__3'],
    ['another set kept', ['shop__pre_restore_S0'], 'shop__pre_restore_S1'],
  ])('%s: %s', (_title, names, expected) => {
    const round = firstFreeRound(
      'S1',
      (id) => preRestoreDbName('shop', id),
      (n) => names.includes(n),
    );
    expect(preRestoreDbName('shop', roundId('S1', round))).toBe(expected);
    expect(parseDerivedName('shop', expected)).toEqual({ kind: 'pre_restore', id: roundId('S1', round) });
  });

  test('a live name long enough to be shortened keeps its rounds apart and recognised', () => {
    const live = 'x'.repeat(60);
    const second = preRestoreDbName(live, roundId('20261203_055012', 2));
    expect(Buffer.byteLength(second)).toBeLessThanOrEqual(63);
    expect(second).not.toBe(preRestoreDbName(live, '20261203_055012'));
    expect(parseDerivedName(live, second)).toEqual({ kind: 'pre_restore', id: '20261203_055012__2' });
  });
});

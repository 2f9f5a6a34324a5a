import { describe, expect, test } from 'vitest';
import type { DrillRecord, DrillResult, Manifest } from '../src/core/types.js';
import { MAX_IDENTIFIER_BYTES, byteLength, resolveConnection } from '../src/drivers/postgres/config.js';
import { pgAmcheckArgs } from '../src/drivers/postgres/args.js';
import { derivedName, describeLeftovers, parseDerivedName } from '../src/drivers/postgres/plan.js';
import { lastDrillOf } from '../src/engine/catalog.js';
import { drillScope } from '../src/engine/drill.js';

describe('drill scratch database names', () => {
  test.each([
    ['users', '20261122_101010', 'users__drill_20261122_101010'],
    ['Ñandú', '20261122_101010_2', 'Ñandú__drill_20261122_101010_2'],
    ['users__drill', '20261122_101010', 'users__drill__drill_20261122_101010'],
  ])('%s / %s -> %s', (live, id, expected) => {
    expect(derivedName(live, 'drill', id)).toBe(expected);
    expect(parseDerivedName(live, expected)).toEqual({ kind: 'drill', id });
  });

  test.each([['a'.repeat(63)], ['ü'.repeat(31)], ['inventario_central_de_la_empresa_con_nombre_largo']])(
    'long live names are shortened to 63 bytes and still recognised: %s',
    (live) => {
      const name = derivedName(live, 'drill', '20261122_101010');
      expect(byteLength(name)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
      expect(parseDerivedName(live, name)).toEqual({ kind: 'drill', id: '20261122_101010' });
      expect(derivedName(live + 'x', 'drill', '20261122_101010')).not.toBe(name);
    },
  );

  test.each([
    ['users', 'users__drill_'],
    ['users', 'other__drill_1'],
    ['users', 'xusers__drill_1'],
    ['users', 'users'],
  ])('%s does not own %s', (live, name) => {
    expect(parseDerivedName(live, name)).toBeNull();
  });

  test.each([
    ['users__restore_1', 'restore'],
    ['users__pre_restore_1', 'pre_restore'],
    ['users__drill_1', 'drill'],
  ])('%s is a %s name, never another kind', (name, kind) => {
    expect(parseDerivedName('users', name)?.kind).toBe(kind);
  });
});

describe('drill leftovers and pg_amcheck arguments', () => {
  test.each([
    [
      ['users', 'users__drill_1'],
      false,
      ['scratch database "users__drill_1" left by an interrupted restore drill (set 1)'],
    ],
    [['users__drill_1'], false, ['scratch database "users__drill_1"']],
    [
      ['users__restore_1', 'users__drill_2'],
      true,
      ['database "users" is missing', 'temporary database', 'scratch database'],
    ],
  ])('%j', (names, liveMissing, starts) => {
    const found = describeLeftovers('users', 'users', names);
    expect(found.liveMissing).toBe(liveMissing);
    expect(found.lines).toHaveLength(starts.length);
    starts.forEach((s, i) => expect(found.lines[i]).toContain(s));
  });

  test('pg_amcheck gets the scratch database as a connection string, without the password', () => {
    const conn = resolveConnection({ name: 'u', engine: 'postgres', url: 'postgresql://app:s3cret@db1:5433/users' });
    const args = pgAmcheckArgs({ conn, database: 'users__drill_1' });
    expect(args.slice(0, 3)).toEqual(['--no-password', '--heapallindexed', '--parent-check']);
    expect(args[3]).toContain("dbname='users__drill_1'");
    expect(args[3]).toContain("host='db1'");
    expect(args.join(' ')).not.toContain('s3cret');
  });
});

const result = (database: string, ok: boolean, at: string): DrillResult => ({
  database,
  engine: 'sqlite',
  ok,
  at,
  durationMs: 1,
  scratch: 'x',
  checks: [],
});

describe('drill records', () => {
  test.each<[DrillRecord | null, ReturnType<typeof lastDrillOf>]>([
    [null, null],
    [{ setId: 's', results: {} }, null],
    [
      { setId: 's', results: { a: result('a', true, '2026-01-01T00:00:00Z') } },
      { at: '2026-01-01T00:00:00Z', ok: true, failed: [] },
    ],
    [
      {
        setId: 's',
        results: { a: result('a', true, '2026-01-02T00:00:00Z'), b: result('b', false, '2026-01-01T00:00:00Z') },
      },
      { at: '2026-01-02T00:00:00Z', ok: false, failed: ['b'] },
    ],
  ])('lastDrillOf %#', (record, expected) => {
    expect(lastDrillOf(record)).toEqual(expected);
  });

  const m = {
    id: '20260101_000000',
    databases: [
      { name: 'a', file: 'databases/a.zst', error: null },
      { name: 'b', file: null, error: { message: 'failed' } },
      { name: 'c', file: null, safetyDatabase: 'c__pre_restore_1', error: null },
    ],
  } as unknown as Manifest;
  test.each<[{ databases?: string[]; files?: boolean }, string[]]>([
    [{}, ['a']],
    [{ files: true }, ['a']],
    [{ databases: ['a'] }, ['a']],
  ])('drillScope %j', (opts, expected) => {
    expect(drillScope(m, opts)).toEqual(expected);
  });
  test('a database the set does not hold is not found', () => {
    expect(() => drillScope(m, { databases: ['zz'] })).toThrow(/holds no database "zz"/);
  });
  test('the hint of a database not held names what the set keeps, and the command to drill it elsewhere', () => {
    const hint = (set: Manifest) => {
      try {
        drillScope(set, { databases: ['zz'] });
      } catch (err) {
        return (err as { hint?: string }).hint;
      }
      return expect.fail('refused');
    };
    expect(hint(m)).toBe(
      'It holds: a; kept on their servers by a restore, with nothing stored to drill: c. ' +
        'Drill the newest set that holds it: `respaldo drill latest --db zz`.',
    );
    // A pre_restore set of PostgreSQL databases only: it did say "It holds: no databases".
    const safety = { ...m, databases: [m.databases[2]] } as unknown as Manifest;
    expect(hint(safety)).toBe(
      'It holds: no stored database; kept on their servers by a restore, with nothing stored to drill: c. ' +
        'Drill the newest set that holds it: `respaldo drill latest --db zz`.',
    );
  });
  test('a database that failed in the set is refused as not found, never drilled (a failed drill would be recorded)', () => {
    expect(() => drillScope(m, { databases: ['b'] })).toThrow(/"b" failed in set 20260101_000000: nothing of it/);
  });
});

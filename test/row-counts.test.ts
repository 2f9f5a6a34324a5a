import { describe, expect, it } from 'vitest';
import { compareRowCounts } from '../src/drivers/shared/row-counts.js';

describe('compareRowCounts (every engine: restores, drills, SQL Server drift)', () => {
  const recorded = { a: 3, b: 2 };
  it.each([
    ['equal counts', recorded, { a: 3, b: 2 }, {}, []],
    ['a count differs', recorded, { a: 4, b: 2 }, {}, ['a: 4 rows, expected 3']],
    ['a table is missing', recorded, { a: 3 }, {}, ['b: missing (expected 2 rows)']],
    ['a table not recorded is ignored', recorded, { a: 3, b: 2, c: 9 }, {}, []],
    ['… or reported with extra', recorded, { a: 3, b: 2, c: 9 }, { extra: true }, ["c: not in the backup's manifest"]],
    ['only some tables (a restore of some tables)', recorded, { a: 3 }, { only: ['a'] }, []],
    ['only: a table the backup never had is not a difference', recorded, { a: 3 }, { only: ['a', 'z'] }, []],
    ['nothing recorded: nothing to compare', null, { a: 1 }, { extra: true }, []],
  ])('%s', (_what, expected, actual, opts, want) => {
    expect(compareRowCounts(expected, actual, opts)).toEqual(want);
  });
});

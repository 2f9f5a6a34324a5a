/**
 * Row counts compared the same way by every engine: a restored (or drilled) copy against the counts its
 * backup recorded, and SQL Server's counts before and after its own backup. One wording for every message.
 */

/** One table whose count differs: `actual` null when the table is missing, `expected` null when not recorded. */
export interface RowCountDifference {
  table: string;
  expected: number | null;
  actual: number | null;
}

/**
 * Pure: the tables whose rows in `actual` differ from `expected` (none when nothing was recorded). `only`
 * limits the comparison to those tables (a restore of some tables); `extra` also reports tables that
 * `actual` has and `expected` does not.
 */
export function rowCountDifferences(
  expected: Record<string, number> | null | undefined,
  actual: Record<string, number>,
  opts: { only?: readonly string[]; extra?: boolean } = {},
): RowCountDifference[] {
  if (!expected) return [];
  const out: RowCountDifference[] = [];
  for (const table of opts.only ?? Object.keys(expected)) {
    if (!(table in expected)) continue;
    const got = actual[table];
    if (got !== expected[table]) out.push({ table, expected: expected[table]!, actual: got ?? null });
  }
  if (opts.extra)
    for (const table of Object.keys(actual))
      if (!(table in expected)) out.push({ table, expected: null, actual: actual[table]! });
  return out;
}

/** Pure: `dbo.Album: 300 rows, expected 301`, `t: missing (expected 2 rows)`, `t: not in the backup's manifest`. */
export function describeRowCountDifference(d: RowCountDifference): string {
  if (d.actual === null) return `${d.table}: missing (expected ${d.expected} rows)`;
  if (d.expected === null) return `${d.table}: not in the backup's manifest`;
  return `${d.table}: ${d.actual} rows, expected ${d.expected}`;
}

/** Pure: the differences as messages (rowCountDifferences, then describeRowCountDifference). */
export function compareRowCounts(
  expected: Record<string, number> | null | undefined,
  actual: Record<string, number>,
  opts: { only?: readonly string[]; extra?: boolean } = {},
): string[] {
  return rowCountDifferences(expected, actual, opts).map(describeRowCountDifference);
}

/** fitBars: which progress bars fit in a number of lines, and which are counted on the last one instead. */
import { describe, expect, it } from 'vitest';
import { fitBars } from '../src/ui/components/fit-bars.js';
import type { ItemProgress } from '../src/ui/use-progress.js';

const item = (name: string, state: ItemProgress['state'], error?: string): ItemProgress =>
  ({ item: name, kind: 'database', state, bytes: 0, ...(error ? { error } : {}) }) as ItemProgress;

describe('fitBars', () => {
  const ok = Array.from({ length: 12 }, (_, i) => item(`db${i + 1}`, 'ok'));
  it.each([
    { name: 'all fit', items: ok.slice(0, 3), rows: 3, shown: ['db1', 'db2', 'db3'], lines: 3 },
    {
      name: 'too many: the first that fit and a line for the rest',
      items: ok,
      rows: 4,
      shown: ['db1', 'db2', 'db3'],
      lines: 4,
    },
    {
      name: 'a failed one (with its error line) is kept before finished ones, in order',
      items: [...ok.slice(0, 5), item('bad', 'failed', 'boom'), ...ok.slice(5)],
      rows: 5,
      shown: ['db1', 'db2', 'bad'],
      lines: 5,
    },
    { name: 'one line: only the count', items: ok, rows: 1, shown: [], lines: 1 },
  ])('$name', ({ items, rows, shown, lines }) => {
    const fit = fitBars(items, rows);
    expect(fit.shown.map((p) => p.item)).toEqual(shown);
    expect(fit.hidden.length).toBe(items.length - shown.length);
    expect(fit.lines).toBe(lines);
    expect(fit.lines).toBeLessThanOrEqual(rows);
  });
});

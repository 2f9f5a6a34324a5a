import { describe, expect, it } from 'vitest';
import { progressColumns, type ProgressColumns } from '../src/ui/components/ProgressBar.js';

/** The columns a progress row takes: name, bar, " 100% ", the optional ones with their spaces, the status word. */
function rowWidth(c: ProgressColumns, statusWidth: number): number {
  return c.name + 1 + c.bar + 6 + (c.bytes ? 18 : 0) + (c.rate ? 11 : 0) + (c.elapsed ? 10 : 0) + statusWidth;
}

describe('progressColumns: a progress row for the width of the terminal', () => {
  it('from 80 columns, what it always was: a name of 14, a bar of 8 to 30, every column', () => {
    expect(progressColumns(80, 9)).toEqual({ name: 14, bar: 11, bytes: true, rate: true, elapsed: true });
    expect(progressColumns(80, 7)).toEqual({ name: 14, bar: 11, bytes: true, rate: true, elapsed: true });
    expect(progressColumns(120, 9)).toEqual({ name: 14, bar: 30, bytes: true, rate: true, elapsed: true });
  });

  it.each([
    // width, status word (EN ESPERA: 9, PENDING: 7), what is left out
    [79, 9, { rate: true, elapsed: true, bytes: true }],
    [64, 9, { rate: false, elapsed: true, bytes: true }],
    [64, 7, { rate: false, elapsed: true, bytes: true }],
    [60, 9, { rate: false, elapsed: false, bytes: true }],
    [50, 9, { rate: false, elapsed: false, bytes: true }],
    [45, 9, { rate: false, elapsed: true, bytes: false }],
    [40, 9, { rate: false, elapsed: false, bytes: false }],
  ])('at %i columns (status word %i) the row fits on one line, a name of at least 8', (width, status, shown) => {
    const c = progressColumns(width, status);
    expect(c).toMatchObject(shown);
    expect(rowWidth(c, status)).toBeLessThan(width);
    expect(c.name).toBeGreaterThanOrEqual(8);
    expect(c.bar).toBeGreaterThanOrEqual(6);
  });
});

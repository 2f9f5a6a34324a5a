/**
 * fitBars: which progress bars fit in a number of lines, and which are counted on the last one instead; distinctNames:
 * names cut to a bar's name column so that no two read the same.
 */
import { describe, expect, it } from 'vitest';
import { distinctNames, fitBars } from '../src/ui/components/fit-bars.js';
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

describe('distinctNames', () => {
  const long = (n: number) =>
    `base_de_datos_contabilidad_sucursal_numero_${String(n).padStart(2, '0')}_con_nombre_largo`;
  it.each([
    { name: 'short names as they are', names: ['users', 'inventario'], out: ['users', 'inventario'] },
    {
      name: 'cut at the end when that tells them apart',
      names: ['inventario_norte', 'auditoria_sur_2026'],
      out: ['inventario_no…', 'auditoria_sur…'],
    },
    {
      name: 'a shared beginning: where they differ',
      names: [long(1), long(2), 'bd07'],
      out: ['…mero_01_con_n', '…mero_02_con_n', 'bd07'],
    },
  ])('$name', ({ names, out }) => {
    expect(distinctNames(names, 14, '…')).toEqual(out);
  });
});

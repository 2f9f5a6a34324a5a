import type { ItemProgress } from '../use-progress.js';

/** Lines the bar of `p` takes: one, and its error and hint under a failed one when `details`. */
export function barLines(p: ItemProgress, details = true): number {
  return 1 + (details && p.state === 'failed' && p.error ? (p.hint ? 2 : 1) : 0);
}

/**
 * Pure: the bars that fit in `rows` lines (a set of twelve databases and its files is more bars than a 24-line
 * screen has room for beside a summary): all of them when they fit, else as many as fit in `rows - 1` lines,
 * those not finished OK first (a failed, running or waiting one says more), in their order, and the items left out,
 * said on the last line ("+6 more: 6 OK").
 */
export function fitBars(
  items: ItemProgress[],
  rows: number,
  lines: (p: ItemProgress) => number = (p) => barLines(p),
): { shown: ItemProgress[]; hidden: ItemProgress[]; lines: number } {
  const total = items.reduce((n, p) => n + lines(p), 0);
  if (total <= rows) return { shown: items, hidden: [], lines: total };
  let room = Math.max(0, rows - 1);
  const keep = new Set<ItemProgress>();
  for (const p of [...items.filter((p) => p.state !== 'ok'), ...items.filter((p) => p.state === 'ok')]) {
    if (lines(p) > room) continue;
    keep.add(p);
    room -= lines(p);
  }
  const shown = items.filter((p) => keep.has(p));
  const hidden = items.filter((p) => !keep.has(p));
  return { shown, hidden, lines: shown.reduce((n, p) => n + lines(p), 0) + 1 };
}

/**
 * Pure: names cut to `width` so that no two read the same. A name that fits, or whose cut end no other shares, is cut
 * at its end as usual ("sucursal_01_c…"); names that would all read "base_de_datos…" (twelve databases named
 * `base_de_datos_contabilidad_sucursal_numero_01…`) show, after the ellipsis, the part where they start to differ
 * ("…umero_01_con_").
 */
export function distinctNames(names: string[], width: number, ellipsis: string): string[] {
  const room = width - ellipsis.length;
  const cut = (n: string): string => (n.length <= width || room <= 0 ? n : n.slice(0, room) + ellipsis);
  return names.map((n, i) => {
    const mine = cut(n);
    if (mine === n || !names.some((o, j) => j !== i && cut(o) === mine)) return mine;
    const shared = Math.max(
      ...names.map((o, j) => {
        if (j === i) return 0;
        let k = 0;
        while (k < n.length && n[k] === o[k]) k++;
        return k;
      }),
    );
    const start = Math.max(0, Math.min(n.length - room, shared - Math.floor(room / 2)));
    return ellipsis + n.slice(start, start + room);
  });
}

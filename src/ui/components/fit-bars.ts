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

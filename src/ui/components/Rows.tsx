import { Text } from 'ink';
import type { Row } from '../fold.js';
import { useUi } from '../use-ui.js';

/** Folded rows (see fold.ts), one Text element each, so what is drawn is exactly `rows.length` lines. */
export function Rows({ rows }: { rows: Row[] }) {
  return (
    <>
      {rows.map((r, i) => (
        <Text key={i} wrap="truncate-end">
          {r.length === 0 ? ' ' : null}
          {r.map((s, j) => (
            <Text key={j} bold={!!s.bold} {...(s.color ? { color: s.color } : {})}>
              {s.text}
            </Text>
          ))}
        </Text>
      ))}
    </>
  );
}

/**
 * Which rows of `total` a window of `height` lines shows from `top`: all of them when they fit,
 * else `height - 1` rows and a line saying which ones (top clamped so the last page is full).
 */
export function scrollWindow(
  total: number,
  height: number,
  top: number,
): { top: number; shown: number; scrolls: boolean; maxTop: number } {
  const h = Math.max(1, height);
  if (total <= h) return { top: 0, shown: total, scrolls: false, maxTop: 0 };
  const shown = Math.max(1, h - 1);
  const maxTop = total - shown;
  return { top: Math.max(0, Math.min(top, maxTop)), shown, scrolls: true, maxTop };
}

/** `rows` seen through a window of `height` lines starting at `top`, with the "lines a-b of n" line when it scrolls. */
export function ScrollRows({ rows, height, top }: { rows: Row[]; height: number; top: number }) {
  const { t, theme } = useUi();
  const w = scrollWindow(rows.length, height, top);
  return (
    <>
      <Rows rows={rows.slice(w.top, w.top + w.shown)} />
      {w.scrolls ? (
        <Text color={theme.colors.muted} wrap="truncate-end">
          {t.restore.scrollRows(w.top + 1, w.top + w.shown, rows.length)}
        </Text>
      ) : null}
    </>
  );
}

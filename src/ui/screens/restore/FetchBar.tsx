import { Text } from 'ink';
import { bar } from '../../components/ProgressBar.js';
import { formatBytes } from '../../format.js';
import type { ItemProgress, ProgressState } from '../../use-progress.js';
import { useScreenSize } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';

/**
 * Pure: the line of a set's files being fetched from a destination for `columns` columns: the bar, the
 * percent, bytes fetched of all the files', the rate. The bar takes what the numbers leave (at least 5
 * cells); the line never reaches the last column, so a resize redraws it whole.
 */
export function fetchLine(
  p: ItemProgress,
  columns: number,
  now: number,
  glyphs: { barFull: string; barEmpty: string },
  rate: (r: string) => string,
): { bar: string; text: string } {
  const total = p.totalBytes ?? 0;
  const done = p.state === 'ok' ? Math.max(p.bytes, total) : p.bytes;
  const fraction = total ? done / total : p.state === 'ok' ? 1 : 0;
  const elapsed = p.startedAt !== undefined ? (p.endedAt ?? now) - p.startedAt : 0;
  const speed = elapsed > 200 && done > 0 ? `  ${rate(formatBytes((done / elapsed) * 1000))}` : '';
  const text = ` ${Math.round(Math.min(1, fraction) * 100)}%  ${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}${speed}`;
  const width = Math.max(5, Math.min(40, columns - 1 - text.length));
  return { bar: bar(fraction, width, glyphs.barFull, glyphs.barEmpty), text };
}

/** The fetch's bar under the plan step's "fetching" line, once the engine said how much it fetches. */
export function FetchBar({ progress }: { progress: ProgressState }) {
  const { t, theme } = useUi();
  const { columns } = useScreenSize();
  const p = progress.items.find((x) => x.kind === 'fetch');
  if (!p) return null;
  const line = fetchLine(p, columns, Date.now(), theme.glyphs, t.progress.rate);
  return (
    <Text wrap="truncate-end">
      <Text color={theme.colors.accent}>{line.bar}</Text>
      {line.text}
    </Text>
  );
}

import { Box, Text } from 'ink';
import { formatBytes, formatDuration, padCell } from '../format.js';
import type { ItemProgress, ProgressState } from '../use-progress.js';
import type { Catalogue } from '../i18n/index.js';
import { useUi } from '../use-ui.js';
import { barLines, distinctNames, fitBars } from './fit-bars.js';
import { StatusWord } from './StatusWord.js';

/** The bar itself: `width` cells, filled to `fraction` (0..1). */
export function bar(fraction: number, width: number, full: string, empty: string): string {
  const f = Math.min(1, Math.max(0, fraction));
  const n = Math.round(f * width);
  return full.repeat(n) + empty.repeat(width - n);
}

/** The columns of a progress row: the name's and the bar's widths, and which optional columns are shown. */
export interface ProgressColumns {
  name: number;
  bar: number;
  bytes: boolean;
  rate: boolean;
  elapsed: boolean;
}

/**
 * Pure: the columns of a progress row `width` columns wide whose status word takes at most `statusWidth`. From 80
 * columns: a name of 14 and a bar of 8 to 30, every column. Narrower (an SSH window made smaller during a long run),
 * the row still fits on one line: the name (at least 8, truncated with an ellipsis) and a bar of 6 come first, then
 * a name up to 12, the elapsed time, a name up to 14, the rate and a longer bar; under about 50 columns the bytes
 * go too.
 */
export function progressColumns(width: number, statusWidth: number): ProgressColumns {
  if (width >= 80)
    return { name: 14, bar: Math.max(8, Math.min(30, width - 69)), bytes: true, rate: true, elapsed: true };
  // Always there: the space after the name, " 100% " and the status word; the bytes ("1.2 MiB/3.4 MiB ") if room.
  let budget = width - 1 - (1 + 6 + statusWidth);
  const bytes = budget - 18 >= 14;
  if (bytes) budget -= 18;
  let name = Math.min(8, Math.max(4, budget - 6));
  let bar = Math.max(4, Math.min(6, budget - name));
  budget -= name + bar;
  const widen = (to: number): void => {
    const by = Math.max(0, Math.min(to - name, budget));
    name += by;
    budget -= by;
  };
  const take = (cells: number): boolean => (budget >= cells ? ((budget -= cells), true) : false);
  widen(12);
  const elapsed = take(10);
  widen(14);
  const rate = take(11);
  bar += Math.max(0, Math.min(30 - bar, budget));
  return { name, bar, bytes, rate, elapsed };
}

/**
 * One line per item: name, bar, percent, bytes done (of total), rate, elapsed, status word, fitted to `width`
 * (progressColumns: narrower than 80 columns the name is truncated and rate, elapsed time, bytes left out in turn).
 * Without a known total the bar stays empty and the bytes still count up.
 */
export function ProgressBar({
  p,
  now,
  width = 80,
  details = true,
  label,
}: {
  p: ItemProgress;
  now: number;
  width?: number;
  /** The name to show, already fitted to its column (BarList: no two alike); unset, the item's own, cut at its end. */
  label?: string;
  /** A failed item's error and hint under its line (false where the screen shows them whole elsewhere). */
  details?: boolean;
}) {
  const { t, theme } = useUi();
  const end = p.endedAt ?? now;
  const elapsed = p.startedAt !== undefined ? end - p.startedAt : 0;
  const fraction =
    p.state === 'ok' ? 1 : p.percent !== undefined ? p.percent / 100 : p.totalBytes ? p.bytes / p.totalBytes : 0;
  const known = p.state === 'ok' || p.percent !== undefined || !!p.totalBytes;
  const rate = elapsed > 200 && p.bytes > 0 ? t.progress.rate(formatBytes((p.bytes / elapsed) * 1000)) : '';
  // The longest status word of the language (EN ESPERA: 9).
  const statusWidth = Math.max(
    ...(['ok', 'failed', 'running', 'pending'] as const).map((k) => t.common.status[k].length),
  );
  const cols = progressColumns(width, statusWidth);
  const arrow = theme.unicode ? '→' : '->';
  const bytes =
    p.state === 'ok' && p.storedBytes !== undefined && p.kind !== 'restore' && p.kind !== 'fetch'
      ? `${formatBytes(p.totalBytes ?? p.bytes)} ${arrow} ${formatBytes(p.storedBytes)}`
      : p.totalBytes
        ? `${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}`
        : formatBytes(p.bytes);
  const status =
    p.state === 'ok' ? 'ok' : p.state === 'failed' ? 'failed' : p.state === 'running' ? 'running' : 'pending';
  return (
    <Box flexDirection="column">
      <Box>
        <Text>{padCell(label ?? itemLabel(p, t), cols.name, 'left', theme.glyphs.ellipsis)} </Text>
        <Text color={p.state === 'failed' ? theme.colors.error : theme.colors.accent}>
          {bar(fraction, cols.bar, theme.glyphs.barFull, theme.glyphs.barEmpty)}
        </Text>
        <Text> {padCell(known ? `${Math.round(fraction * 100)}%` : '', 4, 'right')} </Text>
        {cols.bytes ? <Text>{padCell(bytes, 17, 'right')} </Text> : null}
        {cols.rate ? <Text color={theme.colors.muted}>{padCell(rate, 10, 'right')} </Text> : null}
        {cols.elapsed ? (
          <Text color={theme.colors.muted}>
            {padCell(p.startedAt !== undefined ? formatDuration(elapsed) : '', 9, 'right')}{' '}
          </Text>
        ) : null}
        <StatusWord status={status} />
      </Box>
      {details && p.state === 'failed' && p.error ? (
        <Box paddingLeft={2} flexDirection="column">
          <Text color={theme.colors.error} wrap="truncate-end">
            {p.error}
          </Text>
          {p.hint ? <Text wrap="truncate-end">{p.hint}</Text> : null}
        </Box>
      ) : null}
    </Box>
  );
}

/** The name of an item in the operator's language: the engine's `files` and `verify` items are words, not names. */
export function itemLabel(p: Pick<ItemProgress, 'item' | 'kind'>, t: Catalogue): string {
  if (p.kind === 'database') return p.item;
  // A set's files fetched from a destination before a restore (the item is `<set id> @ <destination>`).
  if (p.kind === 'fetch') return t.progress.fetch(p.item.slice(p.item.lastIndexOf(' @ ') + 3));
  if (p.item === 'files') return t.progress.files;
  if (p.item === 'verify') return t.progress.verify;
  return p.item;
}

/**
 * The step under way of the running items, the last `max` of them (a PostgreSQL dump's row counts after its bytes,
 * a restore's pg_restore, row counts, swap), one line each under the bars.
 */
export function StepLines({ progress, max = 2 }: { progress: ProgressState; max?: number }) {
  const { t, theme } = useUi();
  return (
    <>
      {progress.items
        .filter((p) => p.state === 'running' && p.message)
        .slice(-max)
        .map((p) => (
          <Text key={p.item} color={theme.colors.muted} wrap="truncate-end">
            {`${itemLabel(p, t)}: ${p.message}`}
          </Text>
        ))}
    </>
  );
}

/** The bars of `items` in at most `rows` lines (fitBars), the ones left out counted by state on the last line. */
export function BarList({
  items,
  rows,
  now,
  width,
  details = () => true,
}: {
  items: ItemProgress[];
  rows: number;
  now: number;
  width: number;
  details?: (p: ItemProgress) => boolean;
}) {
  const { t, theme } = useUi();
  const fit = fitBars(items, rows, (p) => barLines(p, details(p)));
  const statusWidth = Math.max(
    ...(['ok', 'failed', 'running', 'pending'] as const).map((k) => t.common.status[k].length),
  );
  const names = distinctNames(
    fit.shown.map((p) => itemLabel(p, t)),
    progressColumns(width, statusWidth).name,
    theme.glyphs.ellipsis,
  );
  const states = (['failed', 'running', 'pending', 'ok'] as const)
    .map((s) => [s, fit.hidden.filter((p) => p.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${t.common.status[s]}`)
    .join(', ');
  return (
    <>
      {fit.shown.map((p, i) => (
        <ProgressBar key={p.item} p={p} now={now} width={width} details={details(p)} label={names[i]} />
      ))}
      {fit.hidden.length ? (
        <Text color={theme.colors.muted} wrap="truncate-end">
          {t.progress.more(fit.hidden.length, states)}
        </Text>
      ) : null}
    </>
  );
}

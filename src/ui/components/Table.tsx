import { Box, Text } from 'ink';
import { padCell } from '../format.js';
import { useUi } from '../use-ui.js';

export interface Column {
  title: string;
  width: number;
  align?: 'left' | 'right';
}

export interface Cell {
  text: string;
  color?: string | undefined;
}

/** First visible row so that `index` stays in a window of `height` rows (kept near the middle). */
export function scrollTop(index: number, count: number, height: number): number {
  if (count <= height) return 0;
  return Math.min(Math.max(0, index - Math.floor(height / 2)), count - height);
}

/**
 * The items `[top, end)`, around `index`, of items that take `heights` lines each, in at most `room` lines (at
 * least the item at `index`, whatever its height), kept near the middle as scrollTop keeps a row.
 */
export function linesWindow(heights: number[], index: number, room: number): [number, number] {
  let top = index;
  let end = index + 1;
  let used = heights[index] ?? 1;
  for (;;) {
    const above = top > 0 && used + heights[top - 1]! <= room;
    const below = end < heights.length && used + heights[end]! <= room;
    if (!above && !below) return [top, end];
    if (above && (!below || index - top <= end - 1 - index)) used += heights[--top]!;
    else used += heights[end++]!;
  }
}

/**
 * A table that shows only `height` rows around the selected one, so it stays fast and fits the
 * screen with hundreds of rows. The selected row has a pointer and is drawn in inverse video.
 */
export function Table({
  columns,
  rows,
  index,
  height,
  footer,
}: {
  columns: Column[];
  rows: Cell[][];
  index: number;
  height: number;
  footer?: (from: number, to: number, total: number) => string;
}) {
  const { theme } = useUi();
  const top = scrollTop(index, rows.length, height);
  const visible = rows.slice(top, top + height);
  const line = (cells: Cell[], selected: boolean, key: string | number) => (
    <Box key={key}>
      <Text color={selected ? theme.colors.accent : undefined}>{selected ? theme.glyphs.pointer : ' '} </Text>
      {columns.map((c, i) => (
        <Text key={i} inverse={selected} color={selected ? undefined : cells[i]?.color}>
          {padCell(cells[i]?.text ?? '', c.width, c.align, theme.glyphs.ellipsis)}
          {i < columns.length - 1 ? ' ' : ''}
        </Text>
      ))}
    </Box>
  );
  return (
    <Box flexDirection="column">
      <Box>
        <Text>{'  '}</Text>
        {columns.map((c, i) => (
          <Text key={i} bold underline={theme.unicode}>
            {padCell(c.title, c.width, c.align, theme.glyphs.ellipsis)}
            {i < columns.length - 1 ? ' ' : ''}
          </Text>
        ))}
      </Box>
      {visible.map((r, i) => line(r, top + i === index, top + i))}
      {footer && rows.length > 0 ? (
        <Text color={theme.colors.muted}>
          {(top > 0 ? theme.glyphs.arrowUp : ' ') + (top + height < rows.length ? theme.glyphs.arrowDown : ' ')}{' '}
          {footer(top + 1, Math.min(rows.length, top + height), rows.length)}
        </Text>
      ) : null}
    </Box>
  );
}

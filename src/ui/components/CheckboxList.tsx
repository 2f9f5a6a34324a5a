import { Box, Text } from 'ink';
import { useUi } from '../use-ui.js';
import { scrollTop } from './Table.js';

export interface CheckboxItem {
  label: string;
  checked: boolean;
  disabled?: boolean;
  note?: string;
}

/**
 * Checkboxes `[x] name`; the cursor row has a pointer when the list has the focus. With `height`,
 * only that many rows around the cursor are drawn (long lists of databases still fit the screen).
 */
export function CheckboxList({
  items,
  cursor,
  focused,
  height,
}: {
  items: CheckboxItem[];
  cursor: number;
  focused: boolean;
  height?: number;
}) {
  const { theme } = useUi();
  const h = height && height < items.length ? Math.max(1, height) : items.length;
  const top = scrollTop(Math.min(Math.max(cursor, 0), items.length - 1), items.length, h);
  return (
    <Box flexDirection="column">
      {top > 0 ? <Text color={theme.colors.muted}> {theme.glyphs.arrowUp}</Text> : null}
      {items.slice(top, top + h).map((it, j) => {
        const i = top + j;
        const here = focused && i === cursor;
        return (
          <Box key={i}>
            <Text color={here ? theme.colors.accent : undefined}>{here ? theme.glyphs.pointer : ' '} </Text>
            <Text dimColor={it.disabled} inverse={here}>
              {it.checked ? theme.glyphs.checked : theme.glyphs.unchecked} {it.label}
            </Text>
            {it.note ? <Text color={theme.colors.muted}> {it.note}</Text> : null}
          </Box>
        );
      })}
      {top + h < items.length ? <Text color={theme.colors.muted}> {theme.glyphs.arrowDown}</Text> : null}
    </Box>
  );
}

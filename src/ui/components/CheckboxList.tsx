import { Box, Text } from 'ink';
import { wrapWords } from '../../core/format.js';
import { useScreenSize } from '../use-screen-size.js';
import { useUi } from '../use-ui.js';
import { linesWindow, scrollTop } from './Table.js';

export interface CheckboxItem {
  label: string;
  checked: boolean;
  disabled?: boolean;
  note?: string;
}

const len = (s: string): number => [...s].length;

/**
 * The lines of one item in `width` columns after the pointer: `[x] label note` when it fits; else the label folded
 * at its words with its continuation under the label's start, and the note after it on the last line or on a line
 * of its own. Nothing is cut (a name of 63 characters with its engine and size at 80 columns took two lines drawn
 * by Ink's flexbox, the pointer's space and a parenthesis lost).
 */
export function checkboxLines(box: string, item: CheckboxItem, width: number): CheckboxLine[] {
  const note = item.note ? ` ${item.note}` : '';
  const head = `${box} `;
  if (len(head) + len(item.label) + len(note) <= width) return [{ lead: '', text: head + item.label, note }];
  const indent = ' '.repeat(len(head));
  const lines = wrapWords(item.label, Math.max(1, width - len(head))).map((l, i) =>
    i === 0 ? { lead: '', text: head + l, note: '' } : { lead: indent, text: l, note: '' },
  );
  const last = lines[lines.length - 1]!;
  if (!note) return lines;
  if (len(last.lead + last.text) + len(note) <= width) last.note = note;
  else lines.push({ lead: indent, text: '', note: note.slice(1) });
  return lines;
}

/** One line of an item: `lead` (blank, under the box), `text` (highlighted on the cursor's item), `note` (muted). */
export interface CheckboxLine {
  lead: string;
  text: string;
  note: string;
}

/**
 * Checkboxes `[x] name`; the cursor row has a pointer when the list has the focus. With `height`,
 * only that many lines around the cursor are drawn (long lists of databases still fit the screen); an item too
 * wide for the screen is folded over more lines (checkboxLines), counted in `height`.
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
  const { columns } = useScreenSize();
  const at = Math.min(Math.max(cursor, 0), items.length - 1);
  const lines = items.map((it) =>
    checkboxLines(it.checked ? theme.glyphs.checked : theme.glyphs.unchecked, it, columns - 2),
  );
  const heights = lines.map((l) => l.length);
  const total = heights.reduce((a, b) => a + b, 0);
  const room = height ? Math.max(1, height) : total;
  const [top, end] =
    total <= room
      ? [0, items.length]
      : heights.every((h) => h === 1)
        ? [scrollTop(at, items.length, room), scrollTop(at, items.length, room) + room]
        : linesWindow(heights, at, room);
  return (
    <Box flexDirection="column">
      {top > 0 ? <Text color={theme.colors.muted}> {theme.glyphs.arrowUp}</Text> : null}
      {items.slice(top, end).map((it, j) => {
        const i = top + j;
        const here = focused && i === cursor;
        return lines[i]!.map((line, k) => (
          <Box key={`${i}.${k}`}>
            <Text color={here ? theme.colors.accent : undefined}>
              {here && k === 0 ? theme.glyphs.pointer : ' '} {line.lead}
            </Text>
            {line.text ? (
              <Text dimColor={it.disabled} inverse={here}>
                {line.text}
              </Text>
            ) : null}
            {line.note ? <Text color={theme.colors.muted}>{line.note}</Text> : null}
          </Box>
        ));
      })}
      {end < items.length ? <Text color={theme.colors.muted}> {theme.glyphs.arrowDown}</Text> : null}
    </Box>
  );
}

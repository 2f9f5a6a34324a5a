import { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { wrapWords } from '../../core/format.js';
import { useScreenSize } from '../use-screen-size.js';
import { editText, useKeys } from '../use-keys.js';
import { useUi } from '../use-ui.js';

/**
 * Pure: the prompt's lines at `columns` within `maxRows` lines for the whole question (the field and the message line
 * included). All of them when they fit; else the first lines, a line counting those left out (`more`), and the
 * sentence that says which word to type (`ask`, at the prompt's end) whole: deleting the newest set of twelve
 * databases says twelve notes, more than a 24-line screen holds, and the word to type must stay on it.
 */
export function promptLines(
  prompt: string,
  columns: number,
  maxRows: number | undefined,
  ask: string,
  more: (n: number) => string,
): string[] {
  const all = wrapWords(prompt, columns);
  if (maxRows === undefined || all.length + 2 <= maxRows || !prompt.endsWith(ask)) return all;
  const asked = wrapWords(ask, columns);
  const head = wrapWords(prompt.slice(0, prompt.length - ask.length).trim(), columns);
  const room = Math.max(1, maxRows - 2 - asked.length - 1);
  return [...head.slice(0, room), more(head.length - room), ...asked];
}

/** Lines TypedConfirm takes at `columns`: the folded prompt, the field and the message line (kept even when empty). */
export function typedConfirmRows(
  prompt: string,
  columns: number,
  fit?: { maxRows: number; ask: string; more: (n: number) => string },
): number {
  return (fit ? promptLines(prompt, columns, fit.maxRows, fit.ask, fit.more) : wrapWords(prompt, columns)).length + 2;
}

/**
 * Asks the operator to type `word` exactly (surrounding spaces ignored) and press Enter. A wrong
 * word clears the field, says so, and does nothing else. Esc cancels. An Enter that arrives in one
 * write with other keys (a paste) is ignored, the text typed is kept: confirming takes an Enter of its own. The
 * message line says so: typed quickly over a slow link, the last letter and the Enter arrive in one write too, and the
 * operator saw nothing happen.
 */
export function TypedConfirm({
  word,
  prompt,
  onConfirm,
  onCancel,
  active = true,
  maxRows,
}: {
  word: string;
  prompt: string;
  /** Lines the question may take (see promptLines); unset, all of them. */
  maxRows?: number;
  onConfirm: () => void;
  onCancel: () => void;
  active?: boolean;
}) {
  const { t, theme } = useUi();
  const { columns } = useScreenSize();
  const [value, setValue] = useState('');
  const [said, setSaid] = useState<'wrong' | 'enterAlone' | null>(null);
  const typed = useRef('');
  useKeys((input, key) => {
    if (key.escape) return onCancel();
    if (key.return) {
      if (key.chunked) return setSaid('enterAlone');
      if (typed.current.trim() === word) onConfirm();
      else {
        setSaid('wrong');
        typed.current = '';
        setValue('');
      }
      return;
    }
    const next = editText(typed.current, input, key);
    if (next === null) return;
    typed.current = next;
    setValue(next);
    setSaid(null);
  }, active);
  return (
    <Box flexDirection="column">
      {promptLines(prompt, columns, maxRows, t.restore.typeWord(word), t.common.moreLines).map((line, i) => (
        <Text key={i} bold wrap="truncate-end">
          {line}
        </Text>
      ))}
      <Box>
        <Text color={theme.colors.accent}>{theme.glyphs.pointer} </Text>
        <Text wrap="truncate-start">{value}</Text>
        <Text inverse> </Text>
      </Box>
      <Text color={theme.colors.error} wrap="truncate-end">
        {said === 'wrong' ? t.restore.wrongWord(word) : said === 'enterAlone' ? t.restore.enterAlone : ' '}
      </Text>
    </Box>
  );
}

import { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { wrapWords } from '../../core/format.js';
import { useScreenSize } from '../use-screen-size.js';
import { editText, useKeys } from '../use-keys.js';
import { useUi } from '../use-ui.js';

/**
 * Asks the operator to type `word` exactly (surrounding spaces ignored) and press Enter. A wrong
 * word clears the field, says so, and does nothing else. Esc cancels. An Enter that arrives in one
 * write with other keys (a paste) is ignored, the text typed is kept: confirming takes an Enter of its own.
 */
/** Lines TypedConfirm takes at `columns`: the folded prompt, the field and the message line (kept even when empty). */
export function typedConfirmRows(prompt: string, columns: number): number {
  return wrapWords(prompt, columns).length + 2;
}

export function TypedConfirm({
  word,
  prompt,
  onConfirm,
  onCancel,
  active = true,
}: {
  word: string;
  prompt: string;
  onConfirm: () => void;
  onCancel: () => void;
  active?: boolean;
}) {
  const { t, theme } = useUi();
  const { columns } = useScreenSize();
  const [value, setValue] = useState('');
  const [wrong, setWrong] = useState(false);
  const typed = useRef('');
  useKeys((input, key) => {
    if (key.escape) return onCancel();
    if (key.return) {
      if (key.chunked) return;
      if (typed.current.trim() === word) onConfirm();
      else {
        setWrong(true);
        typed.current = '';
        setValue('');
      }
      return;
    }
    const next = editText(typed.current, input, key);
    if (next === null) return;
    typed.current = next;
    setValue(next);
    setWrong(false);
  }, active);
  return (
    <Box flexDirection="column">
      {wrapWords(prompt, columns).map((line, i) => (
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
        {wrong ? t.restore.wrongWord(word) : ' '}
      </Text>
    </Box>
  );
}

import { Box, Text } from 'ink';
import { useUi } from '../use-ui.js';

/** A one-line text field (the screen owns the keys and edits `value` with editText). */
export function TextField({
  label,
  value,
  focused,
  placeholder,
  labelWidth = 0,
}: {
  label: string;
  value: string;
  focused: boolean;
  placeholder?: string;
  labelWidth?: number;
}) {
  const { theme } = useUi();
  return (
    <Box>
      <Text color={focused ? theme.colors.accent : undefined}>{focused ? theme.glyphs.pointer : ' '} </Text>
      <Text>{label.padEnd(labelWidth)}: </Text>
      {value ? <Text inverse={focused}>{value}</Text> : <Text color={theme.colors.muted}>{placeholder ?? ''}</Text>}
      {focused ? <Text inverse> </Text> : null}
    </Box>
  );
}

/** A field whose value cycles with ←/→ or Space, drawn as `‹ value ›`. */
export function ChoiceField({
  label,
  value,
  focused,
  labelWidth = 0,
}: {
  label: string;
  value: string;
  focused: boolean;
  labelWidth?: number;
}) {
  const { theme } = useUi();
  const [l, r] = theme.unicode ? ['‹', '›'] : ['<', '>'];
  return (
    <Box>
      <Text color={focused ? theme.colors.accent : undefined}>{focused ? theme.glyphs.pointer : ' '} </Text>
      <Text>{label.padEnd(labelWidth)}: </Text>
      <Text inverse={focused}>{focused ? `${l} ${value} ${r}` : value}</Text>
    </Box>
  );
}

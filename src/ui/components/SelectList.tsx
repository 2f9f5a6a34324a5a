import { Box, Text } from 'ink';
import { useUi } from '../use-ui.js';

/** A vertical list of choices, optionally numbered (`1. Create backup now`). */
export function SelectList({ items, index, numbered = false }: { items: string[]; index: number; numbered?: boolean }) {
  const { theme } = useUi();
  return (
    <Box flexDirection="column">
      {items.map((label, i) => {
        const here = i === index;
        return (
          <Box key={i}>
            <Text color={here ? theme.colors.accent : undefined}>{here ? theme.glyphs.pointer : ' '} </Text>
            <Text inverse={here} bold={here}>
              {numbered ? `${i + 1}. ` : ''}
              {label}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}

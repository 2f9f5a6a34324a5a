import { Box, Text } from 'ink';
import { useScreenSize, wrapHelp } from '../use-screen-size.js';
import { useUi } from '../use-ui.js';

/** The keys of the current screen, on the last lines (folded at word boundaries; see helpRows). */
export function HelpLine({ text }: { text: string }) {
  const { theme } = useUi();
  const { columns } = useScreenSize();
  const width = Math.min(columns, 100) - 1;
  return (
    <Box flexDirection="column" flexShrink={0}>
      <Text color={theme.colors.muted}>{theme.glyphs.hline.repeat(width)}</Text>
      {wrapHelp(text, width).map((line, i) => (
        <Text key={i} color={theme.colors.muted} wrap="truncate-end">
          {line}
        </Text>
      ))}
    </Box>
  );
}

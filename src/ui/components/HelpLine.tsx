import { Box, Text } from 'ink';
import { useScreenSize } from '../use-screen-size.js';
import { useUi } from '../use-ui.js';

/** The keys of the current screen, on the last line. */
export function HelpLine({ text }: { text: string }) {
  const { theme } = useUi();
  const { columns } = useScreenSize();
  return (
    <Box flexDirection="column">
      <Text color={theme.colors.muted}>{theme.glyphs.hline.repeat(Math.min(columns, 100) - 1)}</Text>
      <Text color={theme.colors.muted} wrap="wrap">
        {text}
      </Text>
    </Box>
  );
}

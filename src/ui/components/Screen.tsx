import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { useUi } from '../use-ui.js';
import { HelpLine } from './HelpLine.js';

/** A screen: bold title, body that takes the free rows (clipped, never pushing the help line off), help line. */
export function Screen({ title, help, children }: { title: string; help: string; children: ReactNode }) {
  const { theme } = useUi();
  return (
    <Box flexDirection="column" flexGrow={1}>
      <Text bold color={theme.colors.accent}>
        {title}
      </Text>
      <Box flexDirection="column" flexGrow={1} overflow="hidden">
        {children}
      </Box>
      <HelpLine text={help} />
    </Box>
  );
}

import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { useUi } from '../use-ui.js';
import { HelpLine } from './HelpLine.js';

/**
 * A screen: bold title, body that takes the free rows (clipped, never pushing anything else off),
 * an optional footer that always stays visible under the body (a prompt, an error), help line.
 * Title, footer and help line never shrink, and the body's content keeps its height and is cut at
 * the bottom when too tall, so nothing is ever drawn over anything else.
 */
export function Screen({
  title,
  help,
  footer,
  children,
}: {
  title: string;
  help: string;
  footer?: ReactNode;
  children: ReactNode;
}) {
  const { theme } = useUi();
  return (
    <Box flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden">
      <Box flexShrink={0}>
        <Text bold color={theme.colors.accent} wrap="truncate-end">
          {title}
        </Text>
      </Box>
      <Box flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden">
        <Box flexDirection="column" flexShrink={0}>
          {children}
        </Box>
      </Box>
      {footer ? (
        <Box flexDirection="column" flexShrink={0}>
          {footer}
        </Box>
      ) : null}
      <HelpLine text={help} />
    </Box>
  );
}

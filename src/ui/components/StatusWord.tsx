import { Text } from 'ink';
import { statusColor } from '../theme.js';
import { useUi } from '../use-ui.js';

export type StatusKind = 'ok' | 'completed' | 'partial' | 'failed' | 'running' | 'pending' | 'warn';

/** A status as a word (OK, PARTIAL, FAILED…), coloured when colour is on. */
export function StatusWord({ status }: { status: StatusKind }) {
  const { t, theme } = useUi();
  return (
    <Text color={statusColor(theme, status)} bold>
      {t.common.status[status]}
    </Text>
  );
}

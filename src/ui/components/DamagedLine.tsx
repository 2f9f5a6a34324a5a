import { Text } from 'ink';
import type { DamagedNote } from '../engine-facade.js';
import { useUi } from '../use-ui.js';

/**
 * One line under a set table naming the sets left out of it because their manifest fails its checks
 * (newest first), so that a set missing from the menu on the worst day is never a silent mystery. Nothing
 * when there are none.
 */
export function DamagedLine({ damaged, from }: { damaged: readonly DamagedNote[] | undefined; from?: string | null }) {
  const { t, theme } = useUi();
  if (!damaged?.length) return null;
  const ids = damaged.map((d) => (d.source ? `${d.source}/${d.id}` : d.id)).join(', ');
  return (
    <Text color={theme.colors.error} bold wrap="truncate-end">
      {from ? t.list.damagedAt(from, damaged.length, ids) : t.list.damaged(damaged.length, ids)}
    </Text>
  );
}

import { Box } from 'ink';
import { Screen } from '../../components/Screen.js';
import { SelectList } from '../../components/SelectList.js';
import type { WizardState } from '../../restore-wizard.js';
import { useUi } from '../../use-ui.js';
import { Para } from '../../components/Para.js';

/** Step 0, when destinations are configured: restore from this server's backup folder or from a destination. */
export function SourceStep({ state }: { state: WizardState }) {
  const { t, theme, facade } = useUi();
  const items = [
    t.restore.sourceLocal(facade.config().backupDir),
    ...state.destinations.map((d) => t.restore.sourceDestination(d)),
  ];
  return (
    <Screen title={`${t.restore.title}: ${t.restore.sourceTitle}`} help={t.help.pickSource}>
      <SelectList items={items} index={state.sourceIndex} />
      <Box marginTop={1}>
        <Para color={theme.colors.muted}>{t.restore.sourceNote}</Para>
      </Box>
    </Screen>
  );
}

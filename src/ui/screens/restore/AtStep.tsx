import { Box, Text } from 'ink';
import { CheckboxList } from '../../components/CheckboxList.js';
import { Screen } from '../../components/Screen.js';
import { TextField } from '../../components/TextField.js';
import type { WizardState } from '../../restore-wizard.js';
import { useBodyRows } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import { Para } from '../../components/Para.js';

/** "As of a date and time": the time (local) and the databases to bring back to it; then the target and the plan. */
export function AtStep({ state }: { state: WizardState }) {
  const { t, theme } = useUi();
  const body = useBodyRows();
  const items = state.databases.map((name, i) => ({ label: name, checked: !!state.atPicks[i] }));
  return (
    <Screen title={`${t.restore.title}: ${t.restore.atTitle}`} help={t.help.atForm}>
      <TextField
        label={t.restore.atTime}
        value={state.atText}
        focused={state.atCursor === 0}
        placeholder={t.restore.atPlaceholder}
      />
      <Box marginTop={1}>
        <Text bold>{t.restore.atDatabases}</Text>
      </Box>
      <CheckboxList
        items={items}
        cursor={state.atCursor - 1}
        focused={state.atCursor > 0}
        height={Math.max(3, body - 8)}
      />
      <Box marginTop={1}>
        <Para color={theme.colors.muted}>{t.restore.atNote}</Para>
      </Box>
      {state.problem ? <Text color={theme.colors.error}>{t.restore[state.problem]}</Text> : null}
    </Screen>
  );
}

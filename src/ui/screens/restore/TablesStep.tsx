import { Text } from 'ink';
import { CheckboxList } from '../../components/CheckboxList.js';
import { Screen } from '../../components/Screen.js';
import type { WizardDerived, WizardState } from '../../restore-wizard.js';
import { useBodyRows } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import { Para } from '../../components/Para.js';

/** Step 3b, one PostgreSQL database side by side: all its tables, or some of them. */
export function TablesStep({ state, derived }: { state: WizardState; derived: WizardDerived }) {
  const { t, theme } = useUi();
  const body = useBodyRows();
  const { onlyDb, tableNames } = derived;
  const items = [
    { label: t.restore.allTables, checked: !!state.tablePicks[0] },
    ...tableNames.map((n, i) => ({
      label: n,
      checked: !!state.tablePicks[i + 1],
      note: t.restore.rowsNote(onlyDb?.tables?.[n] ?? 0),
    })),
  ];
  return (
    <Screen title={`${t.restore.title}: ${state.manifest ? state.manifest.id : ''}`} help={t.help.pickTables}>
      <Text bold>{t.restore.pickTables(onlyDb?.name ?? '')}</Text>
      <CheckboxList items={items} cursor={state.tableCursor} focused height={Math.max(3, body - 5)} />
      <Para color={theme.colors.muted}>{t.restore.tablesNote}</Para>
    </Screen>
  );
}

import { Text } from 'ink';
import { DamagedLine } from '../../components/DamagedLine.js';
import { Screen } from '../../components/Screen.js';
import { setColumns, setRows } from '../../components/set-table.js';
import { Table } from '../../components/Table.js';
import type { WizardDerived, WizardState } from '../../restore-wizard.js';
import { useScreenSize } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';

/** Step 1: the sets, newest first, with `latest` on top when there is one. */
export function SetStep({
  state,
  derived,
  height,
  busyText,
}: {
  state: WizardState;
  derived: WizardDerived;
  height: number;
  busyText: string | null;
}) {
  const ui = useUi();
  const { t, now } = ui;
  const { columns } = useScreenSize();
  const { sets } = state;
  const { latest } = derived;
  const layout = setColumns(t, sets ?? [], columns, false);
  const rows = sets ? setRows(sets, ui, now(), layout) : [];
  const latestRow = latest && sets ? [{ text: t.restore.latest }, ...rows[sets.indexOf(latest)]!.slice(1)] : null;
  return (
    <Screen
      title={`${t.restore.title}: ${t.restore.pickSet}${state.from ? ` ${t.restore.atDestination(state.from)}` : ''}`}
      help={state.databases.length ? t.help.pickSetAt : t.help.pickSet}
    >
      {busyText || !sets ? <Text>{busyText ?? t.common.loading}</Text> : null}
      {sets && sets.length === 0 ? (
        <Text>
          {state.from && sets.source
            ? t.restore.noSetsOfSource(sets.source, sets.otherSources ?? [])
            : t.restore.noSets}
        </Text>
      ) : null}
      {sets && sets.length > 0 ? (
        <Table
          columns={layout.columns}
          rows={latestRow ? [latestRow, ...rows] : rows}
          index={derived.setIndex}
          height={height}
          footer={t.list.rows}
        />
      ) : null}
      <DamagedLine damaged={sets?.damaged} from={state.from} />
    </Screen>
  );
}

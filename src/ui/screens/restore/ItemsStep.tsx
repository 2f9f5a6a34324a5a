import { Box, Text } from 'ink';
import { CheckboxList } from '../../components/CheckboxList.js';
import { Screen } from '../../components/Screen.js';
import { SelectList } from '../../components/SelectList.js';
import { TextField } from '../../components/TextField.js';
import { formatBytes, formatDate } from '../../format.js';
import type { WizardDerived, WizardState } from '../../restore-wizard.js';
import { useBodyRows } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';

/** Steps 2 and 3: what to restore (databases, files, roles), then where (in place, or side by side, new name). */
export function ItemsStep({
  state,
  derived,
  busyText,
}: {
  state: WizardState;
  derived: WizardDerived;
  busyText: string | null;
}) {
  const { t, theme } = useUi();
  const body = useBodyRows();
  const { manifest, picked, step } = state;
  const { restorable, filesRow, rolesRow } = derived;
  const atItems = state.at
    ? state.databases.flatMap((name, i) => (state.atPicks[i] ? [{ label: name, checked: true }] : []))
    : [];
  const items = [
    ...atItems,
    ...restorable.map((d, i) => ({
      label: `${d.name} (${d.engine})`,
      checked: !!picked[i],
      note: formatBytes(d.rawBytes),
    })),
    ...(manifest && filesRow >= 0
      ? [{ label: t.restore.filesItem(state.fileCount ?? manifest.files.length), checked: derived.chosenFiles }]
      : []),
    ...(rolesRow >= 0 ? [{ label: t.restore.rolesItem, checked: derived.createRoles }] : []),
  ];
  const choosingTarget = step.name === 'target';
  return (
    <Screen
      title={`${t.restore.title}: ${state.at ? t.restore.asOf(state.atText.trim()) : manifest ? manifest.id : ''}`}
      help={choosingTarget ? (derived.filesOnly ? t.help.pickFolder : t.help.pickTarget) : t.help.pickItems}
    >
      {busyText ? <Text>{busyText}</Text> : null}
      {manifest ? (
        <Text color={theme.colors.muted}>
          {formatDate(manifest.startedAt)} {theme.glyphs.dot} {t.common.setType[manifest.type] ?? manifest.type}{' '}
          {theme.glyphs.dot}{' '}
          {state.chainProblems.length ? (
            <Text color={theme.colors.error}>{t.list.broken}</Text>
          ) : (
            t.common.status[manifest.status]
          )}
        </Text>
      ) : null}
      <Text bold>{t.restore.pickItems}</Text>
      <CheckboxList
        items={items}
        cursor={state.cursor}
        focused={!choosingTarget}
        height={Math.max(3, body - (choosingTarget ? 9 : 4))}
      />
      {choosingTarget ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{t.restore.pickTarget}</Text>
          {derived.filesOnly ? (
            <>
              <Text>{t.restore.filesOnlyTarget}</Text>
              <TextField label={t.restore.filesFolder} value={state.to} focused />
            </>
          ) : (
            <>
              <SelectList items={[t.restore.inPlace, t.restore.sideBySide]} index={state.sideBySide ? 1 : 0} />
              {state.sideBySide ? <TextField label={t.restore.newTarget} value={state.to} focused /> : null}
            </>
          )}
        </Box>
      ) : null}
      {state.problem ? <Text color={theme.colors.error}>{t.restore[state.problem]}</Text> : null}
    </Screen>
  );
}

import { useState } from 'react';
import { Box, Text } from 'ink';
import { silentReporter } from '../../core/events.js';
import { DamagedLine } from '../components/DamagedLine.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Screen } from '../components/Screen.js';
import { setColumns, setRows } from '../components/set-table.js';
import { Table } from '../components/Table.js';
import { verifyText } from './SetDetailsScreen.js';
import { TypedConfirm, typedConfirmRows } from '../components/TypedConfirm.js';
import { useLoad } from '../use-async.js';
import { useDeletePrompt } from '../use-delete-prompt.js';
import { isCtrlC, useHeldKeys, useKeys } from '../use-keys.js';
import { useListNavigation } from '../use-list-navigation.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi } from '../use-ui.js';

type Action =
  | { name: 'none' }
  | { name: 'busy'; text: string }
  | { name: 'confirm-delete'; id: string }
  | { name: 'message'; text: string; ok: boolean }
  | { name: 'error'; error: unknown };

/**
 * Option 3: sets newest first, scrolling for hundreds of rows. Enter opens the details; f cycles
 * the database filter; v verifies, r restores from, d deletes (after typing the delete word) the
 * selected set.
 */
export function ListScreen({
  onBack,
  onOpen,
  onRestore,
  onChanged,
  initialFilter,
}: {
  onBack: () => void;
  onOpen: (id: string) => void;
  onRestore: (id: string) => void;
  onChanged?: () => void;
  initialFilter?: string;
}) {
  const ui = useUi();
  const { t, theme, facade, now } = ui;
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const dbNames = facade.config().databases.map((d) => d.name);
  const [filter, setFilter] = useState<string | undefined>(initialFilter);
  const [sets, reload] = useLoad(() => facade.listSets(filter ? { database: filter } : {}), [filter]);
  const list = sets.state === 'done' ? sets.value : [];
  const damaged = sets.state === 'done' ? sets.value.damaged : undefined;
  const [action, setAction] = useState<Action>({ name: 'none' });
  const deletePrompt = useDeletePrompt(action.name === 'confirm-delete' ? action.id : null);
  // The question leaves the table its title, header and selected row (and the damaged sets' line).
  const fit = {
    maxRows: Math.max(4, body - 6 - (damaged?.length ? 1 : 0)),
    ask: t.restore.typeWord(t.deleteWord),
    more: t.common.moreLines,
  };
  const confirmRows = action.name === 'confirm-delete' ? typedConfirmRows(deletePrompt, columns, fit) : 0;
  const below = (confirmRows || (action.name === 'error' ? 5 : 1)) + (damaged?.length ? 1 : 0);
  const height = Math.max(3, body - 3 - below);
  const nav = useListNavigation(list.length, height);
  const selected = list[nav.index];
  // Keys typed while the sets load wait for the table (Esc leaves at once); typed while a set is verified or
  // deleted, they wait for its outcome and the list read again (dropped when it fails, before the error shows).
  useHeldKeys(sets.state === 'loading', (_, key) => key.escape);
  const failed = useHeldKeys(action.name === 'busy');

  const verify = async (id: string): Promise<void> => {
    setAction({ name: 'busy', text: t.details.verifying });
    try {
      const r = await facade.verifySet(id, silentReporter);
      setAction({ name: 'message', ok: r.ok && !r.chainProblems?.length, text: verifyText(r, t) });
      reload();
    } catch (error) {
      failed(() => setAction({ name: 'error', error }));
    }
  };
  const remove = async (id: string): Promise<void> => {
    setAction({ name: 'busy', text: t.details.deleting });
    try {
      await facade.deleteSet(id);
      onChanged?.();
      setAction({ name: 'message', ok: true, text: t.list.deleted(id) });
      reload();
    } catch (error) {
      failed(() => setAction({ name: 'error', error }));
    }
  };

  useKeys((input, key) => {
    if (isCtrlC(input, key)) return;
    if (action.name === 'busy') return;
    if (key.escape) {
      if (action.name === 'message' || action.name === 'error') return setAction({ name: 'none' });
      return onBack();
    }
    if (action.name !== 'none') setAction({ name: 'none' });
    if (nav.handle(input, key)) return;
    if (input === 'f') {
      const order = [undefined, ...dbNames];
      setFilter(order[(order.indexOf(filter) + 1) % order.length]);
      nav.setIndex(0);
      return;
    }
    if (!selected) return;
    if (key.return) return onOpen(selected.id);
    if (input === 'v') return void verify(selected.id);
    if (input === 'r') return onRestore(selected.id);
    if (input === 'd') return setAction({ name: 'confirm-delete', id: selected.id });
  }, action.name !== 'confirm-delete');

  const layout = setColumns(t, list, columns, true);
  const footer = (
    <Box flexDirection="column">
      {action.name === 'busy' ? <Text>{action.text}</Text> : null}
      {action.name === 'message' ? (
        <Text color={action.ok ? theme.colors.ok : theme.colors.error} bold>
          {action.text}
        </Text>
      ) : null}
      {action.name === 'error' ? <ErrorBox error={action.error} /> : null}
      {action.name === 'confirm-delete' ? (
        <TypedConfirm
          word={t.deleteWord}
          prompt={deletePrompt}
          maxRows={fit.maxRows}
          onCancel={() => setAction({ name: 'none' })}
          onConfirm={() => void remove(action.id)}
        />
      ) : null}
    </Box>
  );

  return (
    <Screen title={t.list.title} help={action.name === 'confirm-delete' ? t.help.confirm : t.help.list} footer={footer}>
      <Text color={theme.colors.muted} wrap="truncate-end">
        {filter ? t.list.filter(filter) : t.list.noFilter}
        {list.some((s) => s.notCopiedTo?.length) ? ` ${theme.glyphs.dot} ${t.list.offsiteLegend}` : ''}
      </Text>
      {sets.state === 'loading' ? <Text>{t.common.loading}</Text> : null}
      {sets.state === 'error' ? <ErrorBox error={sets.error} /> : null}
      {sets.state === 'done' && list.length === 0 ? (
        <Text>{filter ? t.list.emptyFilter(filter) : damaged?.length ? t.list.emptyButDamaged : t.list.empty}</Text>
      ) : null}
      {list.length > 0 ? (
        <Table
          columns={layout.columns}
          rows={setRows(list, ui, now(), layout)}
          index={nav.index}
          height={height}
          footer={t.list.rows}
        />
      ) : null}
      <DamagedLine damaged={damaged} />
    </Screen>
  );
}

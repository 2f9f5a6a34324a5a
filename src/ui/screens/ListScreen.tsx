import { useState } from 'react';
import { Box, Text } from 'ink';
import type { SetSummary } from '../../core/types.js';
import { silentReporter } from '../../core/events.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Screen } from '../components/Screen.js';
import { Table, type Cell, type Column } from '../components/Table.js';
import { TypedConfirm } from '../components/TypedConfirm.js';
import { formatAge, formatBytes, formatDate, formatShortDate } from '../format.js';
import { statusColor } from '../theme.js';
import { useLoad } from '../use-async.js';
import { isCtrlC, useKeys } from '../use-keys.js';
import { useListNavigation } from '../use-list-navigation.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi, type UiContextValue } from '../use-ui.js';

type Action =
  | { name: 'none' }
  | { name: 'busy'; text: string }
  | { name: 'confirm-delete'; id: string; safetySet: boolean }
  | { name: 'message'; text: string; ok: boolean }
  | { name: 'error'; error: unknown };

/** Table rows for sets (pure, so the column logic is testable without a terminal). */
export function setRows(sets: SetSummary[], ui: Pick<UiContextValue, 't' | 'theme'>, now: Date, shortDate = false): Cell[][] {
  const { t, theme } = ui;
  return sets.map((s) => {
    const dbs = [...s.databases, ...s.failedDatabases.map((d) => `!${d}`)];
    const dbText = (dbs.join(',') || '-') + (s.files > 0 ? `+${t.progress.files}` : '');
    const v = s.lastVerified;
    const dr = s.lastDrill;
    return [
      { text: s.id },
      { text: shortDate ? formatShortDate(s.startedAt) : formatDate(s.startedAt) },
      { text: t.common.setType[s.type] ?? s.type },
      { text: dbText },
      { text: formatBytes(s.storedBytes) },
      { text: t.common.status[s.status], color: statusColor(theme, s.status) },
      v
        ? { text: `${v.ok ? t.list.verifiedOk : t.list.verifiedBad} ${formatAge(now.getTime() - new Date(v.at).getTime())}`, color: v.ok ? theme.colors.ok : theme.colors.error }
        : { text: t.common.never, color: theme.colors.muted },
      dr
        ? dr.ok
          ? { text: t.list.drilledOk(formatAge(now.getTime() - new Date(dr.at).getTime())), color: theme.colors.ok }
          : { text: t.list.drilledBad(dr.failed), color: theme.colors.error }
        : { text: t.common.never, color: theme.colors.muted },
    ];
  });
}

/** Below 100 columns dates drop the year (the id carries it). */
export function shortDates(width: number): boolean {
  return width < 100;
}

/**
 * Columns for a set table that fit `width` (80 and up): the databases column takes what is left.
 * `verified` adds the last-verified and last-drilled columns.
 */
export function setColumns(t: UiContextValue['t'], sets: SetSummary[], width: number, verified: boolean): Column[] {
  const sample = sets.slice(0, 500);
  const idW = Math.max(15, ...sample.map((s) => s.id.length));
  const typeW = Math.max(4, t.list.columns.type.length, ...sample.map((s) => (t.common.setType[s.type] ?? s.type).length));
  const statusW = Math.max(t.list.columns.status.length, ...(['completed', 'partial', 'failed'] as const).map((k) => t.common.status[k].length));
  const verifiedW = verified ? Math.max(t.list.columns.verified.length, 9, t.common.never.length) : 0;
  const drilledW = verified ? Math.max(t.list.columns.drilled.length, 7, t.common.never.length) : 0;
  const dateW = shortDates(width) ? 11 : 16;
  const fixed = 2 + (idW + 1) + (dateW + 1) + (typeW + 1) + (7 + 1) + statusW + (verified ? 2 + verifiedW + drilledW : 0);
  const cols: Column[] = [
    { title: t.list.columns.id, width: idW },
    { title: t.list.columns.date, width: dateW },
    { title: t.list.columns.type, width: typeW },
    // At least 7 ("users,…"): with the Verified and Drilled columns a Spanish list at 80 columns fills every column.
    { title: t.list.columns.databases, width: Math.max(7, Math.min(48, width - fixed - 2)) },
    { title: t.list.columns.size, width: 7, align: 'right' },
    { title: t.list.columns.status, width: statusW },
  ];
  if (verified) cols.push({ title: t.list.columns.verified, width: verifiedW }, { title: t.list.columns.drilled, width: drilledW });
  return cols;
}

/**
 * Option 3: sets newest first, scrolling for hundreds of rows. Enter opens the details; f cycles
 * the database filter; v verifies, r restores from, d deletes (after typing the delete word) the
 * selected set.
 */
export function ListScreen({ onBack, onOpen, onRestore, onChanged, initialFilter }: { onBack: () => void; onOpen: (id: string) => void; onRestore: (id: string) => void; onChanged?: () => void; initialFilter?: string }) {
  const ui = useUi();
  const { t, theme, facade, now } = ui;
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const dbNames = facade.config().databases.map((d) => d.name);
  const [filter, setFilter] = useState<string | undefined>(initialFilter);
  const [sets, reload] = useLoad(() => facade.listSets(filter ? { database: filter } : {}), [filter]);
  const list = sets.state === 'done' ? sets.value : [];
  const [action, setAction] = useState<Action>({ name: 'none' });
  const below = action.name === 'confirm-delete' ? 4 : action.name === 'error' ? 5 : 1;
  const height = Math.max(3, body - 3 - below);
  const nav = useListNavigation(list.length, height);
  const selected = list[nav.index];

  const verify = async (id: string): Promise<void> => {
    setAction({ name: 'busy', text: t.details.verifying });
    try {
      const r = await facade.verifySet(id, silentReporter);
      setAction({ name: 'message', ok: r.ok, text: r.ok ? t.details.verifyOk(r.files.length) : t.details.verifyBad(r.files.filter((f) => !f.ok).length) });
      reload();
    } catch (error) {
      setAction({ name: 'error', error });
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
      setAction({ name: 'error', error });
    }
  };

  useKeys(
    (input, key) => {
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
      if (input === 'd') return setAction({ name: 'confirm-delete', id: selected.id, safetySet: selected.type === 'pre_restore' });
    },
    action.name !== 'confirm-delete',
  );

  const cols = setColumns(t, list, columns, true);
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
          prompt={`${t.details.deleteTitle(action.id, action.safetySet ? null : [])} ${t.restore.typeWord(t.deleteWord)}`}
          onCancel={() => setAction({ name: 'none' })}
          onConfirm={() => void remove(action.id)}
        />
      ) : null}
    </Box>
  );

  return (
    <Screen title={t.list.title} help={action.name === 'confirm-delete' ? t.help.confirm : t.help.list} footer={footer}>
      <Text color={theme.colors.muted}>{filter ? t.list.filter(filter) : t.list.noFilter}</Text>
      {sets.state === 'loading' ? <Text>{t.common.loading}</Text> : null}
      {sets.state === 'error' ? <ErrorBox error={sets.error} /> : null}
      {sets.state === 'done' && list.length === 0 ? <Text>{filter ? t.list.emptyFilter(filter) : t.list.empty}</Text> : null}
      {list.length > 0 ? <Table columns={cols} rows={setRows(list, ui, now(), shortDates(columns))} index={nav.index} height={height} footer={t.list.rows} /> : null}
    </Screen>
  );
}

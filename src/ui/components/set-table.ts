import type { SetSummary } from '../../core/types.js';
import { formatAge, formatBytes, formatDate, formatShortDate } from '../format.js';
import { statusColor } from '../theme.js';
import type { UiContextValue } from '../use-ui.js';
import type { Cell, Column } from './Table.js';

/** The columns and rows of a table of backup sets, shared by the list and the restore screens. */

/** Table rows for sets (pure, so the column logic is testable without a terminal). */
export function setRows(
  sets: SetSummary[],
  ui: Pick<UiContextValue, 't' | 'theme'>,
  now: Date,
  shortDate = false,
): Cell[][] {
  const { t, theme } = ui;
  return sets.map((s) => {
    const dbs = [...s.databases, ...s.failedDatabases.map((d) => `!${d}`)];
    const dbText = (dbs.join(',') || '-') + (s.files > 0 ? `+${t.progress.files}` : '');
    const v = s.lastVerified;
    const dr = s.lastDrill;
    const drillAge = dr ? formatAge(now.getTime() - new Date(dr.at).getTime()) : '';
    return [
      s.notCopiedTo?.length ? { text: `${s.id}!`, color: theme.colors.warn } : { text: s.id },
      { text: shortDate ? formatShortDate(s.startedAt) : formatDate(s.startedAt) },
      { text: t.common.setType[s.type] ?? s.type },
      { text: dbText },
      { text: formatBytes(s.storedBytes) },
      { text: t.common.status[s.status], color: statusColor(theme, s.status) },
      v
        ? {
            text: `${v.ok ? t.list.verifiedOk : t.list.verifiedBad} ${formatAge(now.getTime() - new Date(v.at).getTime())}`,
            color: v.ok ? theme.colors.ok : theme.colors.error,
          }
        : { text: t.common.never, color: theme.colors.muted },
      dr
        ? dr.ok
          ? { text: t.list.drilledOk(drillAge), color: theme.colors.ok }
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
  const idW = Math.max(15, ...sample.map((s) => s.id.length + (s.notCopiedTo?.length ? 1 : 0)));
  const typeW = Math.max(
    4,
    t.list.columns.type.length,
    ...sample.map((s) => (t.common.setType[s.type] ?? s.type).length),
  );
  const statusW = Math.max(
    t.list.columns.status.length,
    ...(['completed', 'partial', 'failed'] as const).map((k) => t.common.status[k].length),
  );
  const verifiedW = verified ? Math.max(t.list.columns.verified.length, 9, t.common.never.length) : 0;
  const drilledW = verified ? Math.max(t.list.columns.drilled.length, 7, t.common.never.length) : 0;
  const dateW = shortDates(width) ? 11 : 16;
  const fixed =
    2 + (idW + 1) + (dateW + 1) + (typeW + 1) + (7 + 1) + statusW + (verified ? 2 + verifiedW + drilledW : 0);
  const cols: Column[] = [
    { title: t.list.columns.id, width: idW },
    { title: t.list.columns.date, width: dateW },
    { title: t.list.columns.type, width: typeW },
    // What is left of the line (its space before it is the 1), 4 at least ("us…"): with the Verified and Drilled
    // columns a Spanish list at 80 columns leaves 7 ("users,…"), and an id of the same second (`_2`) takes 2 of
    // them (it was held at 7 whatever the id: the rows overflowed and ran together).
    { title: t.list.columns.databases, width: Math.max(4, Math.min(48, width - fixed - 1)) },
    { title: t.list.columns.size, width: 7, align: 'right' },
    { title: t.list.columns.status, width: statusW },
  ];
  if (verified)
    cols.push({ title: t.list.columns.verified, width: verifiedW }, { title: t.list.columns.drilled, width: drilledW });
  return cols;
}

import type { SetSummary } from '../../core/types.js';
import { formatAge, formatBytes, formatDate, truncate } from '../format.js';
import { statusColor } from '../theme.js';
import type { UiContextValue } from '../use-ui.js';
import type { Cell, Column } from './Table.js';

/** The columns and rows of a table of backup sets, shared by the list and the restore screens. */

/** How a set table is laid out at a width (setColumns); setRows fills it. */
export interface SetTableLayout {
  columns: Column[];
  /** The date column: none below 100 columns (the id is the local date and time), else the full date. */
  date: boolean;
  /** Width of the databases column: its names are fitted to it whole ("users,inventario +2"). */
  databasesWidth: number;
  /** Width of the drilled column (when `verified`). */
  drilledWidth: number;
  verified: boolean;
}

/**
 * Names fitted to `width`: all of them when they fit, else as many whole ones as fit and how many more
 * ("users,inventario +2"), else the first one cut and the count ("inve… +2"). Cut names told nothing
 * of what else a set holds ("users,inve…").
 */
export function fitNames(names: string[], width: number, ellipsis: string): string {
  const all = names.join(',');
  if (all.length <= width || names.length <= 1) return truncate(all, width, ellipsis);
  for (let k = names.length - 1; k >= 1; k--) {
    const text = `${names.slice(0, k).join(',')} +${names.length - k}`;
    if (text.length <= width) return text;
  }
  const more = ` +${names.length - 1}`;
  return truncate(names[0]!, width - more.length, ellipsis) + more;
}

/** An age that does not fit its cell loses its spaces ("✓ 59 min" in 7 columns is "✓59min"), never its unit. */
function fitAge(text: string, width: number): string {
  return text.length <= width ? text : text.replace(/ /g, '');
}

/**
 * A set's status as the list shows it: DAMAGED when its own last verification failed (`respaldo list` says FAILED under
 * VERIFIED, `status` that it may not restore), else BROKEN when its chain cannot be restored, else its run's status.
 */
export function statusCell(
  s: Pick<SetSummary, 'status' | 'lastVerified' | 'chainProblems'>,
  ui: Pick<UiContextValue, 't' | 'theme'>,
): Cell {
  const { t, theme } = ui;
  if (s.lastVerified?.ok === false) return { text: t.list.damagedStatus, color: statusColor(theme, 'failed') };
  if (s.chainProblems?.length) return { text: t.list.broken, color: statusColor(theme, 'failed') };
  return { text: t.common.status[s.status], color: statusColor(theme, s.status) };
}

/** Table rows for sets in `layout` (pure, so the column logic is testable without a terminal). */
export function setRows(
  sets: SetSummary[],
  ui: Pick<UiContextValue, 't' | 'theme'>,
  now: Date,
  layout: SetTableLayout,
): Cell[][] {
  const { t, theme } = ui;
  const ellipsis = theme.glyphs.ellipsis;
  return sets.map((s) => {
    const items = [
      ...s.databases,
      ...s.failedDatabases.map((d) => `!${d}`),
      ...(s.files > 0 ? [t.progress.files] : []),
    ];
    const v = s.lastVerified;
    const dr = s.lastDrill;
    const drillAge = dr ? formatAge(now.getTime() - new Date(dr.at).getTime()) : '';
    const bad = t.list.drilledBad([]);
    const row: Cell[] = [
      s.notCopiedTo?.length ? { text: `${s.id}!`, color: theme.colors.warn } : { text: s.id },
      ...(layout.date ? [{ text: formatDate(s.startedAt) }] : []),
      { text: t.common.setType[s.type] ?? s.type },
      { text: items.length ? fitNames(items, layout.databasesWidth, ellipsis) : '-' },
      { text: formatBytes(s.storedBytes) },
      statusCell(s, ui),
    ];
    if (!layout.verified) return row;
    row.push(
      v
        ? {
            text: `${v.ok ? t.list.verifiedOk : t.list.verifiedBad} ${formatAge(now.getTime() - new Date(v.at).getTime())}`,
            color: v.ok ? theme.colors.ok : theme.colors.error,
          }
        : { text: t.common.never, color: theme.colors.muted },
      dr
        ? dr.ok
          ? { text: fitAge(t.list.drilledOk(drillAge), layout.drilledWidth), color: theme.colors.ok }
          : {
              text: bad + fitNames(dr.failed, layout.drilledWidth - bad.length, ellipsis),
              color: theme.colors.error,
            }
        : { text: t.common.never, color: theme.colors.muted },
    );
    return row;
  });
}

/**
 * The columns of a set table that fit `width` (80 and up); below 100 columns there is no date column
 * (the id is the set's local date and time) and the databases column takes what is left.
 * `verified` adds the last-verified and last-drilled columns.
 */
export function setColumns(
  t: UiContextValue['t'],
  sets: SetSummary[],
  width: number,
  verified: boolean,
): SetTableLayout {
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
    t.list.broken.length,
    t.list.damagedStatus.length,
  );
  const verifiedW = verified ? Math.max(t.list.columns.verified.length, 9, t.common.never.length) : 0;
  const drilledW = verified ? Math.max(t.list.columns.drilled.length, 7, t.common.never.length) : 0;
  const date = width >= 100;
  const dateW = date ? 16 : 0;
  const fixed =
    2 +
    (idW + 1) +
    (date ? dateW + 1 : 0) +
    (typeW + 1) +
    (7 + 1) +
    statusW +
    (verified ? 2 + verifiedW + drilledW : 0);
  // The databases column takes what is left of the line (its space before it is the 1), 4 at least.
  const databasesWidth = Math.max(4, Math.min(48, width - fixed - 1));
  const cols: Column[] = [
    { title: t.list.columns.id, width: idW },
    ...(date ? [{ title: t.list.columns.date, width: dateW }] : []),
    { title: t.list.columns.type, width: typeW },
    { title: t.list.columns.databases, width: databasesWidth },
    { title: t.list.columns.size, width: 7, align: 'right' as const },
    { title: t.list.columns.status, width: statusW },
  ];
  if (verified)
    cols.push({ title: t.list.columns.verified, width: verifiedW }, { title: t.list.columns.drilled, width: drilledW });
  return { columns: cols, date, databasesWidth, drilledWidth: drilledW, verified };
}

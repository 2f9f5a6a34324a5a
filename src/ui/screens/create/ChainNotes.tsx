import { Rows } from '../../components/Rows.js';
import { foldText, type Row } from '../../fold.js';
import type { UiContextValue } from '../../use-ui.js';

/**
 * Pure: the databases a differential or incremental stores (or stored) as a full instead, with the
 * reason, folded to `width`: a heading (`heading`, else "stored as a full instead"), then each note whole, at most
 * `max` notes (then how many more). Empty when there are none.
 */
export function chainNoteRows(
  notes: readonly string[],
  max: number,
  ui: Pick<UiContextValue, 't' | 'theme'>,
  width: number,
  heading: string = ui.t.create.fellBack,
): Row[] {
  const { theme } = ui;
  if (!notes.length) return [];
  const warn = { color: theme.colors.warn };
  return [
    ...foldText(`${heading}:`, width, { ...warn, bold: true }),
    ...notes.slice(0, max).flatMap((n) => foldText(`  ${n}`, width, warn, '    ')),
    ...(notes.length > max ? foldText(`  +${notes.length - max}`, width, { color: theme.colors.muted }) : []),
  ];
}

/** chainNoteRows drawn. */
export function ChainNotes({ rows }: { rows: Row[] }) {
  return rows.length ? <Rows rows={rows} /> : null;
}

import type { Manifest } from '../../../core/types.js';
import { RespaldoError } from '../../../core/errors.js';
import { english, phrase } from '../../../core/phrases.js';
import { describeError } from '../../components/ErrorBox.js';
import type { OffsiteMark } from '../../engine-facade.js';
import { foldSegs, foldText, type Row } from '../../fold.js';
import { say, sayMessage } from '../../i18n/index.js';
import type { UiContextValue } from '../../use-ui.js';
import type { ItemProgress } from '../../use-progress.js';
import { chainNoteRows } from './ChainNotes.js';

/**
 * Pure: everything the create summary has to say beyond its fields, folded to `width`, each message
 * whole (continuations indented): copies not made and what to do, a destination's folder a copy created (once, as
 * the CLI says it: a mistyped "path" is created there), another set's claim a copy took over there, each failed
 * database with its error and hint, the databases stored as a full instead, the warnings, a verify that could not run.
 * The summary shows them through a scrolling window, so a long error is read to its end. `items`: the run's progress,
 * whose failed databases' error and hint are said in the menu's language (the manifest keeps the English); `said`:
 * the run's notes in the menu's language by their English message (ProgressState.said), for the chain notes.
 */
export function summaryNotices(
  m: Manifest,
  offsite: readonly OffsiteMark[],
  verifyError: unknown,
  ui: Pick<UiContextValue, 't' | 'theme' | 'lang'>,
  width: number,
  items: readonly Pick<ItemProgress, 'item' | 'error' | 'hint'>[] = [],
  said: Readonly<Record<string, string>> = {},
): Row[] {
  const { t, theme, lang } = ui;
  const error = { color: theme.colors.error, bold: true };
  const hint = (text: string): Row[] => foldText(`  ${t.common.hint}: ${text}`, width, {}, '    ');
  const notCopied = offsite.filter((o) => !o.ok);
  const rows: Row[] = notCopied.flatMap((o) =>
    foldText(
      t.create.notCopied(o.destination, o.error ? say(lang, o.errorPhrase, o.error, theme.unicode) : t.common.unknown),
      width,
      error,
      '  ',
    ),
  );
  if (notCopied.length) rows.push(...hint(t.create.notCopiedHint));
  for (const o of offsite) {
    if (!o.created) continue;
    const created = phrase('dest.created', { path: o.created, dest: o.destination });
    rows.push(...foldText(say(lang, created, english(created), theme.unicode), width, {}, '  '));
  }
  for (const o of offsite) {
    if (!o.retried) continue;
    const color = o.ok ? theme.colors.warn : theme.colors.error;
    rows.push(...foldText(say(lang, o.retried, english(o.retried), theme.unicode), width, { color }, '  '));
  }
  for (const p of offsite.flatMap((o) => o.claimsTakenOver ?? []))
    rows.push(
      ...foldText(
        `${t.common.status.warn}: ${say(lang, p, english(p), theme.unicode)}`,
        width,
        { color: theme.colors.warn },
        '  ',
      ),
    );
  for (const d of m.databases) {
    if (!d.error) continue;
    const said = items.find((p) => p.item === d.name && p.error !== undefined);
    const message = said?.error ?? d.error.message;
    rows.push(...foldSegs([{ text: `${t.create.dbFailed(d.name)}: ${message}`, ...error }], width, '  '));
    const h = said ? said.hint : d.error.hint;
    if (h) rows.push(...hint(h));
  }
  // A note of a database stored with a base is of one made on the full instead of on the newest backup.
  const onFull = (n: string) => m.databases.some((d) => d.base && n.startsWith(`${d.name}: `));
  const notes = m.chainNotes ?? [];
  const saidAll = (list: string[]) => list.map((n) => said[n] ?? n);
  rows.push(...chainNoteRows(saidAll(notes.filter((n) => !onFull(n))), Infinity, ui, width));
  rows.push(...chainNoteRows(saidAll(notes.filter(onFull)), Infinity, ui, width, t.create.onFull));
  for (const w of m.warnings)
    rows.push(...foldText(`${t.common.status.warn}: ${w}`, width, { color: theme.colors.warn }, '  '));
  if (verifyError) {
    const described = describeError(verifyError, t.common.bugHint);
    const phrases = verifyError instanceof RespaldoError ? verifyError.phrases : undefined;
    rows.push(
      ...foldText(
        `${t.common.error}: ${sayMessage(lang, phrases, described.message, theme.unicode)}`,
        width,
        error,
        '  ',
      ),
    );
    const h = say(lang, phrases?.hint, described.hint, theme.unicode);
    if (h) rows.push(...hint(h));
  }
  return rows;
}

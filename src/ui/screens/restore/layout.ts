import type { Row } from '../../fold.js';
import { foldText } from '../../fold.js';
import { fitBars } from '../../components/fit-bars.js';
import { typedConfirmRows } from '../../components/TypedConfirm.js';
import { connectedSessions, type WizardState } from '../../restore-wizard.js';
import type { ProgressState } from '../../use-progress.js';
import { helpRows } from '../../use-screen-size.js';
import type { UiContextValue } from '../../use-ui.js';
import { outcomeRows, planRows, refusalRows } from '../restore-rows.js';
import { sourceRows } from './at-rows.js';

/** The rows of the plan or the outcome, the lines left for them, what stays below them, and the help line. */
export interface RestoreLayout {
  rows: Row[];
  height: number;
  footer: Row[][];
  help: string;
  /** Lines for the progress bars above the outcome (BarList counts those left out on its last one). */
  bars: number;
}

/**
 * Pure: the layout of the plan and outcome steps for a body of `body` lines and `columns` columns:
 * the body minus what must stay visible (prompt, refusals, closing sessions, progress bars) and a
 * help line folded in two. Other steps have nothing to scroll.
 */
export function restoreLayout(
  s: WizardState,
  confirming: boolean,
  ui: Pick<UiContextValue, 't' | 'lang' | 'theme'>,
  size: { columns: number; body: number },
  progress: ProgressState,
  configFile?: string,
): RestoreLayout {
  const { t, theme } = ui;
  const { columns: width, body } = size;
  const { plan } = s;
  if (s.step.name === 'plan') {
    const closing = plan && plan.options.terminateConnections ? connectedSessions(plan) : [];
    const warn = closing.map((d) =>
      foldText(t.restore.willTerminate(d.database, d.state.inUseBy.length), width, {
        bold: true,
        color: theme.colors.warn,
      }),
    );
    const refusals = (plan?.refusals ?? []).map((r) => refusalRows(r, ui, width));
    const broken = !s.at && s.chainProblems.length > 0 && plan?.setId === s.manifest?.id;
    const rows = plan ? [...sourceRows(plan, s.from, ui, width), ...planRows(plan, ui, width, { broken })] : [];
    const fixed =
      warn.flat().length +
      refusals.reduce((n, r) => n + r.length + 2, 0) +
      (confirming ? 1 + typedConfirmRows(t.restore.typeWord(t.confirmWord), width) : 0) +
      (s.busy ? 1 : 0);
    // While the plan is made keys do nothing, while its set is fetched Esc stops it: the help says so.
    const help0 =
      s.busy === 'fetching' ? t.help.busyFetch : s.busy ? t.help.busy : confirming ? t.help.confirm : t.help.done;
    const scrolled = confirming ? t.help.confirmScroll : t.help.doneScroll;
    const fits = Math.max(3, body - fixed - (helpRows(help0, width) - 1));
    const help = rows.length > fits && !s.busy ? scrolled : help0;
    const height = Math.max(3, body - fixed - (helpRows(help, width) - 1));
    return { rows, height, footer: [...warn, ...refusals], help, bars: 0 };
  }
  if (s.step.name === 'outcome') {
    const rows = outcomeRows(s.step.outcome, plan, ui, width, progress.warnings, configFile);
    // What was restored, the safety copy and how to roll back keep half the room at least: a set of many
    // databases has more bars than a 24-line screen holds beside them, and the bars left out are counted.
    const room = body - 1 - (helpRows(t.help.doneScroll, width) - 1);
    const bars = fitBars(progress.items, Math.max(1, room - Math.min(rows.length, Math.ceil(room / 2)))).lines;
    const height = Math.max(3, room - bars);
    return { rows, height, footer: [], help: rows.length > height ? t.help.doneScroll : t.help.done, bars };
  }
  return { rows: [], height: 0, footer: [], help: '', bars: 0 };
}

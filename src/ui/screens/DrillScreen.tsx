import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { ErrorBox } from '../components/ErrorBox.js';
import { PassphrasePrompt } from '../components/PassphrasePrompt.js';
import { wrapWords } from '../../core/format.js';
import { BarList } from '../components/ProgressBar.js';
import { ScrollRows } from '../components/Rows.js';
import { Screen } from '../components/Screen.js';
import type { DrillResult } from '../../core/types.js';
import type { KeyLock, MenuDrillOutcome } from '../engine-facade.js';
import { foldText, type Row } from '../fold.js';
import type { Phrase } from '../../core/phrases.js';
import { formatDuration } from '../format.js';
import { say, sayMessage } from '../i18n/index.js';
import { useInterrupt } from '../use-interrupt.js';
import { isCtrlC, isDown, isUp, useHeldKeys, useKeys } from '../use-keys.js';
import { useProgress } from '../use-progress.js';
import { helpRows, useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi, type UiContextValue } from '../use-ui.js';

type Step =
  | { name: 'checking' }
  | { name: 'passphrase'; lock: KeyLock }
  | { name: 'running'; interruptWarned: boolean }
  | { name: 'outcome'; outcome: MenuDrillOutcome }
  | { name: 'error'; error: unknown };

/** One drill check as the menu says it: respaldo's own words in the operator's language, tools' words as they are. */
export function drillCheckText(
  c: DrillResult['checks'][number],
  ui: Pick<UiContextValue, 't' | 'theme' | 'lang'>,
): string {
  const { t, theme, lang } = ui;
  const words = (p: Phrase | undefined, english: string): string => say(lang, p, english, theme.unicode);
  const name = words(c.phrases?.name, c.name);
  if (c.skipped) return t.drill.skipped(name, words(c.phrases?.skipped, c.skipped));
  return t.drill.check(c.ok, name, c.detail === undefined ? undefined : words(c.phrases?.detail, c.detail));
}

/**
 * The outcome of a drill as rows folded to `width` (pure): a copy fetched from a destination says so first (with
 * the sets of its chain); per database (and files) passed or failed, its duration, every check with its detail
 * (skipped ones say why), the error and its hint; then what was cleaned up first, that the fetched copy was
 * removed from `backupDir`, and where the outcome is recorded (not at all for a set this server does not hold).
 */
export function drillOutcomeRows(
  o: MenuDrillOutcome,
  ui: Pick<UiContextValue, 't' | 'theme' | 'lang'>,
  width: number,
  warnings: readonly string[] = [],
  backupDir = '',
): Row[] {
  const { t, theme } = ui;
  const rows: Row[] = [];
  if (o.from) rows.push(...foldText(t.drill.fetchedFrom(o.from, o.chainIds ?? []), width, {}, '  '));
  for (const r of o.results) {
    const color = r.ok ? theme.colors.ok : theme.colors.error;
    rows.push(
      // The set's files (no engine): said in the menu's words, not by the engine's item name `files`
      ...foldText(
        t.drill.result(r.engine === null ? t.progress.files : r.database, r.ok, formatDuration(r.durationMs)),
        width,
        { bold: true, color },
      ),
    );
    for (const c of r.checks) {
      const text = drillCheckText(c, ui);
      const style = c.skipped ? { color: theme.colors.muted } : c.ok ? {} : { color: theme.colors.error };
      rows.push(...foldText(`  ${text}`, width, style, '    '));
    }
    if (!r.ok && r.error && !r.checks.some((c) => !c.ok && c.detail && r.error?.includes(c.detail))) {
      const error = sayMessage(ui.lang, r.phrases, r.error, theme.unicode);
      rows.push(...foldText(`  ${error}`, width, { color: theme.colors.error }, '    '));
    }
    if (!r.ok && r.hint) {
      const hint = say(ui.lang, r.phrases?.hint, r.hint, theme.unicode);
      rows.push(...foldText(`  ${t.common.hint}: ${hint}`, width, {}, '    '));
    }
  }
  o.recovered.forEach((what, i) => {
    const said = say(ui.lang, o.recoveredPhrases?.[i], what, theme.unicode);
    rows.push(...foldText(t.drill.recovered(said), width, { color: theme.colors.muted }, '  '));
  });
  if (o.from) rows.push(...foldText(t.drill.fetchedRemoved(backupDir), width, { color: theme.colors.muted }, '  '));
  if (o.results.length)
    rows.push(
      ...foldText(
        o.notHere ? t.drill.notHere(o.setId) : o.recorded ? t.drill.recorded : t.drill.notRecorded,
        width,
        { color: o.recorded || o.notHere ? theme.colors.muted : theme.colors.warn },
        '  ',
      ),
    );
  // What the drill warned of as it went (a scratch target it could not remove, a read resumed).
  for (const w of warnings)
    rows.push(...foldText(`${t.common.status.warn}: ${w}`, width, { color: theme.colors.warn }, '    '));
  return rows;
}

/**
 * A restore drill of set `id`, started as the screen opens: the same progress bars as a restore,
 * then, in their place, the outcome per database (checks, duration, error and hint), scrollable. Ctrl-C twice
 * interrupts it (the engine removes its scratch targets). Enter or Esc goes back once it ended, Esc also while the
 * set is read first. `from`: the copy at that destination, fetched first (a bar of the bytes fetched), removed after.
 */
export function DrillScreen({
  id,
  from,
  onBack,
  onDone,
}: {
  id: string;
  from?: string;
  onBack: () => void;
  onDone?: () => void;
}) {
  const ui = useUi();
  const { t, theme, facade } = ui;
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const { reporter, progress } = useProgress();
  const [step, setStep] = useState<Step>({ name: 'checking' });
  const [top, setTop] = useState(0);
  const abort = useRef(new AbortController());

  const live = useRef(true);
  useEffect(() => () => void (live.current = false), []);
  // Keys typed while the set is read (a passphrase typed ahead) wait for the prompt or the drill that follows; Esc
  // leaves at once. Dropped when the reading fails, before the error shows.
  const failed = useHeldKeys(step.name === 'checking', (_, key) => key.escape);
  const fail = (error: unknown): void => failed(() => void (live.current && setStep({ name: 'error', error })));
  const start = (): void => {
    setStep({ name: 'running', interruptWarned: false });
    facade
      .drillSet(id, reporter, abort.current.signal, from)
      .then((outcome) => live.current && setStep({ name: 'outcome', outcome }), fail);
  };
  // An encrypted set whose key is passphrase-protected (and not opened yet), or that is encrypted to a
  // passphrase no file gives: the passphrase first.
  useEffect(() => {
    // Its head alone (readSetDetails), here or there: a set of 100 000 files read whole took seconds and 200 MiB
    facade
      .readSetDetails(id, from)
      .then((d) => d.manifest)
      .then(async (m) => (m.encryption ? facade.keyLocked({ setId: m.id, ...(from ? { from } : {}) }) : null))
      .then((lock) => live.current && (lock ? setStep({ name: 'passphrase', lock }) : start()), fail);
  }, [id]);
  useEffect(() => {
    if (step.name === 'outcome' || step.name === 'error') onDone?.();
  }, [step.name]);

  useInterrupt(() => {
    if (step.name !== 'running') return;
    if (!step.interruptWarned) setStep({ name: 'running', interruptWarned: true });
    else abort.current.abort();
  }, step.name === 'running');

  const backupDir = facade.config().backupDir;
  const rows = step.name === 'outcome' ? drillOutcomeRows(step.outcome, ui, columns, progress.warnings, backupDir) : [];
  const fits = Math.max(3, body);
  const help =
    step.name === 'checking' && from
      ? t.help.busyFetch
      : step.name === 'running' || step.name === 'checking'
        ? t.help.running
        : rows.length > fits
          ? t.help.doneScroll
          : t.help.done;
  const height = Math.max(3, fits - (helpRows(help, columns) - 1));
  const maxTop = Math.max(0, rows.length - (height - 1));

  useKeys((input, key) => {
    if (isCtrlC(input, key) || step.name === 'running' || step.name === 'passphrase') return;
    // Reading the set (at a destination: over the network) is left with Esc; its answer is dropped.
    if (step.name === 'checking') return key.escape ? onBack() : undefined;
    if (key.escape || key.return) return onBack();
    if (isUp(input, key)) return setTop((x) => Math.max(0, x - 1));
    if (isDown(input, key)) return setTop((x) => Math.min(maxTop, x + 1));
    if (key.pageUp) return setTop((x) => Math.max(0, x - (height - 1)));
    if (key.pageDown) return setTop((x) => Math.min(maxTop, x + (height - 1)));
    if (key.home) return setTop(0);
    if (key.end) return setTop(maxTop);
  });

  const runTitle = from ? t.drill.titleFrom(id, from) : t.drill.title(id);
  if (step.name === 'passphrase')
    return (
      <PassphrasePrompt
        titlePrefix={runTitle}
        lock={step.lock}
        of={{ setId: id, ...(from ? { from } : {}) }}
        onUnlocked={start}
        onCancel={onBack}
      />
    );
  const nowMs = Date.now();
  // Under the title: what is drilled (folded when fetched from a destination) and the last warning.
  const drilling = from ? wrapWords(t.drill.runningFrom(id, from), columns).length : 1;
  const progressBars = (
    <BarList
      items={progress.items}
      rows={Math.max(1, body - drilling - Math.min(1, progress.warnings.length) - (helpRows(help, columns) - 1))}
      now={nowMs}
      width={columns}
    />
  );
  const title =
    step.name === 'outcome'
      ? step.outcome.ok
        ? t.drill.passed(step.outcome.setId)
        : t.drill.failed(step.outcome.setId)
      : runTitle;
  return (
    <Screen title={title} help={help}>
      {step.name === 'checking' && from ? (
        <Text color={theme.colors.muted} wrap="truncate-end">
          {t.restore.fetching}
        </Text>
      ) : null}
      {step.name === 'running' ? (
        <Text color={theme.colors.muted} wrap={from ? 'wrap' : 'truncate-end'}>
          {from ? t.drill.runningFrom(id, from) : t.drill.running(id)}
        </Text>
      ) : null}
      {/* The outcome says the same per database; an error stopped them (a bar would still say RUNNING). */}
      {step.name === 'outcome' || step.name === 'error' ? null : progressBars}
      {step.name === 'running'
        ? progress.warnings.slice(-1).map((w) => (
            <Text key={w} color={theme.colors.warn} wrap="truncate-end">
              {`${t.common.status.warn}: ${w}`}
            </Text>
          ))
        : null}
      {step.name === 'running' && step.interruptWarned ? (
        <Text color={theme.colors.warn}>{from ? t.drill.interruptAgainFrom : t.drill.interruptAgain}</Text>
      ) : null}
      {step.name === 'error' ? <ErrorBox error={step.error} /> : null}
      {step.name === 'error' && from ? (
        <Text color={theme.colors.muted} wrap="wrap">
          {t.drill.nothingKept(backupDir)}
        </Text>
      ) : null}
      {step.name === 'outcome' ? (
        <Box flexDirection="column">
          <ScrollRows rows={rows} height={height} top={top} />
        </Box>
      ) : null}
    </Screen>
  );
}

import { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import type { BackupType, Manifest } from '../../core/types.js';
import type { Catalogue } from '../i18n/en.js';
import { useChainFallbacks } from '../use-chain-preview.js';
import { ChainNotes, chainNoteRows } from './create/ChainNotes.js';
import { summaryNotices } from './create/summary-notices.js';
import { silentReporter } from '../../core/events.js';
import { CheckboxList } from '../components/CheckboxList.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { ScrollRows, scrollWindow } from '../components/Rows.js';
import { fitBars, barLines } from '../components/fit-bars.js';
import { BarList, StepLines } from '../components/ProgressBar.js';
import { Screen } from '../components/Screen.js';
import { StatusWord } from '../components/StatusWord.js';
import { ChoiceField, TextField } from '../components/TextField.js';
import type { OffsiteMark, VerifyReport } from '../engine-facade.js';
import { formatBytes, formatDuration } from '../format.js';
import { useInterrupt } from '../use-interrupt.js';
import { editText, isCtrlC, isDown, isUp, useKeys } from '../use-keys.js';
import { useProgress, type ItemProgress } from '../use-progress.js';
import { helpRows, useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useTick } from '../use-tick.js';
import { useUi } from '../use-ui.js';

type Phase =
  | { name: 'form'; problem: string | null }
  | { name: 'running'; interruptWarned: boolean }
  | { name: 'verifying'; manifest: Manifest }
  | { name: 'done'; manifest: Manifest; verify: VerifyReport | null; verifyError: unknown; offsite: OffsiteMark[] }
  | { name: 'error'; error: unknown };

/**
 * Option 1: choose databases (checkboxes), type, files, description; then one progress bar per
 * database and file group; then a summary with the set id, status, sizes, verified checksums, duration.
 */
export function CreateScreen({ onBack, onDone }: { onBack: () => void; onDone?: (setId: string) => void }) {
  const ui = useUi();
  const { t, theme, facade } = ui;
  const cfg = facade.config();
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const dbs = cfg.databases.map((d) => d.name);
  const hasFiles = cfg.fileSources > 0;
  const [checked, setChecked] = useState<boolean[]>(() => dbs.map(() => true));
  const [files, setFiles] = useState(hasFiles);
  const [type, setType] = useState<BackupType>('full');
  const [description, setDescription] = useState('');
  const [cursor, setCursor] = useState(0);
  const [phase, setPhase] = useState<Phase>({ name: 'form', problem: null });
  const { reporter, progress } = useProgress();
  const abort = useRef<AbortController | null>(null);
  useTick(500, phase.name === 'running');
  const fallbacks = useChainFallbacks(
    dbs.filter((_, i) => checked[i]),
    type,
  );
  const noteRows = [
    ...chainNoteRows(fallbacks.full, 2, ui, columns),
    ...chainNoteRows(fallbacks.onFull, 2, ui, columns, ui.t.create.onFull),
  ];

  // Rows: databases…, files (if configured), type, description, start.
  const filesRow = hasFiles ? dbs.length : -1;
  const typeRow = dbs.length + (hasFiles ? 1 : 0);
  const descRow = typeRow + 1;
  const startRow = descRow + 1;

  const start = async (): Promise<void> => {
    const chosen = dbs.filter((_, i) => checked[i]);
    if (chosen.length === 0 && !files) {
      setPhase({ name: 'form', problem: t.create.noneSelected });
      return;
    }
    abort.current = new AbortController();
    setPhase({ name: 'running', interruptWarned: false });
    let manifest: Manifest;
    try {
      manifest = await facade.createBackup(
        { databases: chosen, type, files, description: description.trim() || undefined },
        reporter,
        abort.current.signal,
      );
    } catch (error) {
      setPhase({ name: 'error', error });
      return;
    }
    // By its totals: `files` of a set just made is read from its manifest when asked for (all of them).
    const stored = manifest.databases.some((d) => d.file) || manifest.totals.files > 0;
    // Where the copies after the backup went (marks beside the set; never a network call).
    const offsite = await facade.offsite(manifest.id).catch(() => [] as OffsiteMark[]);
    if (manifest.status === 'failed' || !stored) {
      setPhase({ name: 'done', manifest, verify: null, verifyError: null, offsite });
      onDone?.(manifest.id);
      return;
    }
    setPhase({ name: 'verifying', manifest });
    try {
      const verify = await facade.verifySet(manifest.id, silentReporter);
      setPhase({ name: 'done', manifest, verify, verifyError: null, offsite });
    } catch (verifyError) {
      setPhase({ name: 'done', manifest, verify: null, verifyError, offsite });
    }
    onDone?.(manifest.id);
  };

  const [top, setTop] = useState(0);
  const summary = phase.name === 'done' ? summaryLayout() : null;
  /** The summary's rows: bars, fields, then the notices through a window of what is left (help line folded). */
  function summaryLayout() {
    if (phase.name !== 'done') return null;
    const m = phase.manifest;
    const notices = summaryNotices(m, phase.offsite, phase.verifyError, ui, columns, progress.items, progress.said);
    // A failed database's bar keeps to its line: its error and hint are among the notices, whole.
    const inNotices = (item: string): boolean => m.databases.some((d) => d.name === item && d.error);
    const lines = (p: ItemProgress): number => barLines(p, !inNotices(p.item));
    const copiedOnly = phase.offsite.some((o) => o.ok) && !phase.offsite.some((o) => !o.ok);
    const fields = 1 + 5 + (copiedOnly ? 1 : 0);
    const roomFor = (help: string): number => body - fields - (helpRows(help, columns) - 1);
    // The set's id, status and notices (not copied off-site, errors) keep half the room at least: a set of many
    // databases has more bars than a 24-line screen holds beside them, and the bars left out are counted.
    const room = roomFor(t.help.doneScroll);
    const barRows = Math.max(1, room - Math.min(notices.length, Math.ceil(room / 2)));
    const bars = fitBars(progress.items, barRows, lines).lines;
    const heightFor = (help: string): number => Math.max(2, roomFor(help) - bars);
    const scrolls = notices.length > heightFor(t.help.done);
    const help = scrolls ? t.help.doneScroll : t.help.done;
    const height = heightFor(help);
    return { notices, inNotices, help, height, barRows, window: scrollWindow(notices.length, height, top) };
  }

  useInterrupt(
    () => {
      if (phase.name !== 'running') return;
      if (!phase.interruptWarned) setPhase({ name: 'running', interruptWarned: true });
      else abort.current?.abort();
    },
    phase.name === 'running' || phase.name === 'verifying',
  );

  useKeys((input, key) => {
    if (isCtrlC(input, key)) return;
    if (phase.name === 'running' || phase.name === 'verifying') return;
    if (phase.name === 'done' || phase.name === 'error') {
      if (key.escape || key.return) return onBack();
      const w = summary?.window;
      if (!w?.scrolls) return;
      if (key.upArrow || isUp(input, key)) setTop(Math.max(0, w.top - 1));
      else if (key.downArrow || isDown(input, key)) setTop(Math.min(w.maxTop, w.top + 1));
      else if (key.pageUp) setTop(Math.max(0, w.top - w.shown));
      else if (key.pageDown) setTop(Math.min(w.maxTop, w.top + w.shown));
      else if (key.home) setTop(0);
      else if (key.end) setTop(w.maxTop);
      return;
    }
    if (key.escape) return onBack();
    const onText = cursor === descRow;
    if (key.upArrow || (!onText && isUp(input, key))) return setCursor((c) => Math.max(0, c - 1));
    if (key.downArrow || key.tab || (!onText && isDown(input, key))) return setCursor((c) => Math.min(startRow, c + 1));
    if (key.return) return void start();
    if (onText) {
      const next = editText(description, input, key);
      if (next !== null) setDescription(next.slice(0, 200));
      return;
    }
    if (input === 'a' && dbs.length > 0) {
      const all = checked.every(Boolean);
      return setChecked(dbs.map(() => !all));
    }
    const toggle = input === ' ' || key.leftArrow || key.rightArrow;
    if (!toggle) return;
    if (cursor < dbs.length) setChecked((c) => c.map((v, i) => (i === cursor ? !v : v)));
    else if (cursor === filesRow) setFiles((f) => !f);
    else if (cursor === typeRow) setType((x) => nextType(x, key.leftArrow ? -1 : 1));
    if (input === ' ' && cursor === startRow) void start();
  });

  if (phase.name === 'form') {
    const items = dbs.map((name, i) => ({
      label: name,
      checked: !!checked[i],
      note: `(${cfg.databases[i]?.engine ?? ''})`,
    }));
    return (
      <Screen title={t.create.title} help={t.help.checkboxForm}>
        <Text bold>{t.create.databases}</Text>
        <CheckboxList
          items={items}
          cursor={Math.min(cursor, dbs.length - 1)}
          focused={cursor < dbs.length}
          height={Math.max(3, body - 9 - noteRows.length)}
        />
        {hasFiles ? (
          <CheckboxList items={[{ label: t.create.files, checked: files }]} cursor={0} focused={cursor === filesRow} />
        ) : (
          <Text color={theme.colors.muted}>
            {'  '}
            {t.create.files}: {t.create.filesNone}
          </Text>
        )}
        <ChoiceField label={t.create.type} value={typeLabel(t, type)} focused={cursor === typeRow} />
        <ChainNotes rows={noteRows} />
        <TextField label={t.create.description} value={description} focused={cursor === descRow} />
        <Box marginTop={1}>
          <Text color={cursor === startRow ? theme.colors.accent : undefined}>
            {cursor === startRow ? theme.glyphs.pointer : ' '}{' '}
          </Text>
          <Text bold inverse={cursor === startRow}>
            [ {t.create.start} ]
          </Text>
        </Box>
        {phase.problem ? <Text color={theme.colors.error}>{phase.problem}</Text> : null}
      </Screen>
    );
  }

  if (phase.name === 'error') {
    return (
      <Screen title={t.create.title} help={t.help.done}>
        <ErrorBox error={phase.error} />
      </Screen>
    );
  }

  const now = Date.now();
  const below =
    Math.min(2, progress.items.filter((p) => p.state === 'running' && p.message).length) +
    Math.min(3, progress.warnings.length) +
    (phase.name === 'verifying' || (phase.name === 'running' && phase.interruptWarned) ? 1 : 0);
  const barRows = summary ? summary.barRows : Math.max(1, body - below - (helpRows(t.help.running, columns) - 1));
  const bars = (
    <BarList
      items={progress.items}
      rows={barRows}
      now={now}
      width={columns}
      details={(p) => !summary?.inNotices(p.item)}
    />
  );
  if (phase.name === 'running' || phase.name === 'verifying') {
    return (
      <Screen title={t.create.running} help={t.help.running}>
        {bars}
        <StepLines progress={progress} />
        {progress.warnings.slice(-3).map((w, i) => (
          <Text key={i} color={theme.colors.warn} wrap="truncate-end">
            {t.common.status.warn}: {w}
          </Text>
        ))}
        {phase.name === 'verifying' ? <Text>{t.create.verifying}</Text> : null}
        {phase.name === 'running' && phase.interruptWarned ? (
          <Text color={theme.colors.warn}>{t.create.interruptAgain}</Text>
        ) : null}
      </Screen>
    );
  }

  const m = phase.manifest;
  const duration = new Date(m.completedAt).getTime() - new Date(m.startedAt).getTime();
  // One column for every label, a space after the longest ("Sumas de control" is 16: it ran into its value).
  const labelWidth =
    1 +
    Math.max(
      15,
      ...[t.create.setId, t.create.status, t.create.size, t.create.checksums, t.create.duration, t.create.offsite].map(
        (l) => l.length,
      ),
    );
  const label = (s: string) => <Text bold>{s.padEnd(labelWidth)}</Text>;
  const v = phase.verify;
  const copied = phase.offsite.filter((o) => o.ok);
  const notCopied = phase.offsite.filter((o) => !o.ok);
  return (
    <Screen title={t.create.summaryTitle} help={summary!.help}>
      {bars}
      <Box marginTop={1} flexDirection="column">
        <Box>
          {label(t.create.setId)}
          <Text>{m.id}</Text>
        </Box>
        <Box>
          {label(t.create.status)}
          <StatusWord status={m.status} />
        </Box>
        <Box>
          {label(t.create.size)}
          <Text>
            {formatBytes(m.totals.storedBytes)} ({t.create.rawSize.toLowerCase()} {formatBytes(m.totals.rawBytes)})
          </Text>
        </Box>
        <Box>
          {label(t.create.checksums)}
          {v ? (
            v.ok ? (
              <Text color={theme.colors.ok}>{t.create.checksumsOk(v.checked ?? v.files.length)}</Text>
            ) : (
              <Text color={theme.colors.error} bold>
                {t.create.checksumsBad(v.files.filter((f) => !f.ok).length)}
              </Text>
            )
          ) : (
            <Text color={theme.colors.muted}>{t.create.checksumsSkipped}</Text>
          )}
        </Box>
        <Box>
          {label(t.create.duration)}
          <Text>{formatDuration(duration)}</Text>
        </Box>
        {copied.length && !notCopied.length ? (
          <Box>
            {label(t.create.offsite)}
            <Text color={theme.colors.ok} wrap="truncate-end">
              {t.create.copiedTo(copied.map((o) => o.destination).join(', '))}
            </Text>
          </Box>
        ) : null}
      </Box>
      <ScrollRows rows={summary!.notices} height={summary!.height} top={summary!.window.top} />
    </Screen>
  );
}

/** The backup types offered, in the order ←→ and Space cycle through them. */
const TYPES: readonly BackupType[] = ['full', 'schema', 'differential', 'incremental'];

function nextType(type: BackupType, by: 1 | -1): BackupType {
  return TYPES[(TYPES.indexOf(type) + by + TYPES.length) % TYPES.length]!;
}

function typeLabel(t: Catalogue, type: BackupType): string {
  const labels: Record<BackupType, string> = {
    full: t.create.typeFull,
    differential: t.create.typeDifferential,
    incremental: t.create.typeIncremental,
    schema: t.create.typeSchema,
  };
  return labels[type];
}

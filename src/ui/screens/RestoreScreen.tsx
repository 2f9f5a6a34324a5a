import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import type { Manifest, SetSummary } from '../../core/types.js';
import { CheckboxList } from '../components/CheckboxList.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { Screen } from '../components/Screen.js';
import { SelectList } from '../components/SelectList.js';
import { Table } from '../components/Table.js';
import { TextField } from '../components/TextField.js';
import { Rows, ScrollRows, scrollWindow } from '../components/Rows.js';
import { TypedConfirm, typedConfirmRows } from '../components/TypedConfirm.js';
import type { RestoreOutcome, RestorePlan } from '../engine-facade.js';
import { foldText, type Row } from '../fold.js';
import { outcomeRows, planRows, refusalRows } from './restore-rows.js';
import { formatBytes, formatDate } from '../format.js';
import { useInterrupt } from '../use-interrupt.js';
import { editText, isCtrlC, isDown, isUp, useKeys } from '../use-keys.js';
import { useListNavigation } from '../use-list-navigation.js';
import { useProgress } from '../use-progress.js';
import { helpRows, useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useTick } from '../use-tick.js';
import { useUi } from '../use-ui.js';
import { setColumns, setRows, shortDates } from '../components/set-table.js';

type Step =
  | { name: 'set' }
  | { name: 'items' }
  | { name: 'target' }
  | { name: 'tables' }
  | { name: 'plan' }
  | { name: 'sessions'; choice: 0 | 1 }
  | { name: 'running'; interruptWarned: boolean }
  | { name: 'outcome'; outcome: RestoreOutcome }
  | { name: 'error'; error: unknown; back: 'set' | 'items' | 'target' | 'plan' };

/**
 * Option 4: pick a set (or latest), what to restore, where (in place or side by side), then the
 * plan is shown before anything happens; the operator types the confirmation word to go on.
 * When an in-place restore of a server database is refused only because sessions are connected,
 * the sessions are shown and the operator is asked (default no) whether to close them at the swap;
 * yes plans again with terminateConnections and shows that plan before the confirmation word.
 * Progress follows, then the outcome with the safety set id to roll back to. One PostgreSQL
 * database restored side by side may be limited to some of its tables (the CLI's --table).
 */
export function RestoreScreen({ onBack, onDone, initialSetId }: { onBack: () => void; onDone?: () => void; initialSetId?: string }) {
  const ui = useUi();
  const { t, theme, facade, now } = ui;
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const [step, setStep] = useState<Step>(initialSetId ? { name: 'items' } : { name: 'set' });
  const [sets, setSets] = useState<SetSummary[] | null>(null);
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [picked, setPicked] = useState<boolean[]>([]);
  const [cursor, setCursor] = useState(0);
  const [sideBySide, setSideBySide] = useState(false);
  const [to, setTo] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  /** Row 0: all tables; then one row per table of `tableNames`. */
  const [tablePicks, setTablePicks] = useState<boolean[]>([]);
  const [tableCursor, setTableCursor] = useState(0);
  const [plan, setPlan] = useState<RestorePlan | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  /** First row of the plan (or of the outcome) shown when it does not fit. */
  const [scrollTop, setScrollTop] = useState(0);
  const abort = useRef<AbortController | null>(null);
  const { reporter, progress, reset } = useProgress();
  const height = Math.max(3, body - 3);
  // `latest` is what the engine calls latest: the newest set that is not a safety copy and did not fail.
  const latest = sets?.find((x) => x.type !== 'pre_restore' && x.status !== 'failed');
  const offset = latest ? 1 : 0;
  const setNav = useListNavigation((sets?.length ?? 0) + offset, height);
  useTick(500, step.name === 'running');

  const loadManifest = async (id: string): Promise<void> => {
    setBusy(t.common.loading);
    try {
      const m = await facade.readManifest(id);
      setManifest(m);
      const restorable = m.databases.filter((d) => !d.error && (d.file || d.safetyDatabase));
      setPicked([...restorable.map(() => restorable.length === 1), false, false]);
      setCursor(0);
      setStep({ name: 'items' });
    } catch (error) {
      setStep({ name: 'error', error, back: 'set' });
    } finally {
      setBusy(null);
    }
  };

  useEffect(() => {
    if (initialSetId) void loadManifest(initialSetId);
    else
      void facade.listSets().then(
        (s) => setSets(s),
        (error: unknown) => setStep({ name: 'error', error, back: 'set' }),
      );
  }, []);

  const restorable = manifest ? manifest.databases.filter((d) => !d.error && (d.file || d.safetyDatabase)) : [];
  // Rows after the databases: the files (when the set has any), then the roles choice (when a
  // PostgreSQL database of the set stored its roles).
  const filesRow = manifest && manifest.files.length > 0 ? restorable.length : -1;
  const rolesRow = restorable.some((d) => d.engine === 'postgres' && d.extras?.some((x) => x.role === 'globals')) ? restorable.length + (filesRow >= 0 ? 1 : 0) : -1;
  const itemRows = restorable.length + (filesRow >= 0 ? 1 : 0) + (rolesRow >= 0 ? 1 : 0);
  const chosenDbs = restorable.filter((_, i) => picked[i]).map((d) => d.name);
  const chosenFiles = filesRow >= 0 && !!picked[filesRow];
  const createRoles = rolesRow >= 0 && !!picked[rolesRow];
  // Side by side, one PostgreSQL database with recorded tables: the operator may pick some of them.
  const onlyDb = chosenDbs.length === 1 ? restorable.find((d) => d.name === chosenDbs[0]) : undefined;
  const tableNames = sideBySide && onlyDb?.engine === 'postgres' && onlyDb.tables ? Object.keys(onlyDb.tables).sort() : [];
  const chosenTables = tablePicks[0] === false ? tableNames.filter((_, i) => tablePicks[i + 1]) : [];

  /** Plans (changing nothing); `terminate` only after the operator said yes to closing the sessions. */
  const makePlan = async (terminate = false): Promise<void> => {
    if (!manifest) return;
    setStep({ name: 'plan' });
    setPlan(null);
    setScrollTop(0);
    setBusy(t.restore.planning);
    try {
      const p = await facade.planRestore({
        setId: manifest.id,
        databases: chosenDbs,
        files: chosenFiles,
        ...(sideBySide ? { to: to.trim() } : {}),
        ...(terminate ? { terminateConnections: true } : {}),
        ...(createRoles ? { createRoles: true } : {}),
        ...(chosenTables.length ? { tables: chosenTables } : {}),
      });
      setPlan(p);
      if (mayCloseSessions(p)) setStep({ name: 'sessions', choice: 0 });
    } catch (error) {
      setStep({ name: 'error', error, back: 'target' });
    } finally {
      setBusy(null);
    }
  };

  const execute = async (): Promise<void> => {
    if (!plan) return;
    reset();
    abort.current = new AbortController();
    setStep({ name: 'running', interruptWarned: false });
    try {
      const outcome = await facade.executeRestore(plan, reporter, abort.current.signal);
      setScrollTop(0);
      setStep({ name: 'outcome', outcome });
    } catch (error) {
      setStep({ name: 'error', error, back: 'plan' });
    }
    onDone?.();
  };

  useInterrupt(() => {
    if (step.name !== 'running') return;
    if (!step.interruptWarned) setStep({ name: 'running', interruptWarned: true });
    else abort.current?.abort();
  }, step.name === 'running');

  const confirming = step.name === 'plan' && plan !== null && plan.refusals.length === 0;
  const layout = scrollLayout();

  /**
   * The rows of the plan or the outcome and the lines left for them: the body minus what must stay
   * visible (prompt, refusals, closing sessions, progress bars) and a help line folded in two.
   */
  function scrollLayout(): { rows: Row[]; height: number; footer: Row[][]; help: string } {
    const width = columns;
    if (step.name === 'plan') {
      const closing = plan && plan.options.terminateConnections ? connectedSessions(plan) : [];
      const warn = closing.map((d) =>
        foldText(t.restore.willTerminate(d.database, d.state.inUseBy.length), width, {
          bold: true,
          color: theme.colors.warn,
        }),
      );
      const refusals = (plan?.refusals ?? []).map((r) => refusalRows(r, ui, width));
      const rows = plan ? planRows(plan, ui, width) : [];
      const fixed =
        warn.flat().length +
        refusals.reduce((n, r) => n + r.length + 2, 0) +
        (confirming ? 1 + typedConfirmRows(t.restore.typeWord(t.confirmWord), width) : 0) +
        (busy ? 1 : 0);
      const help0 = confirming ? t.help.confirm : t.help.done;
      const fits = Math.max(3, body - fixed - (helpRows(help0, columns) - 1));
      const help = rows.length > fits ? (confirming ? t.help.confirmScroll : t.help.doneScroll) : help0;
      const height = Math.max(3, body - fixed - (helpRows(help, columns) - 1));
      return { rows, height, footer: [...warn, ...refusals], help };
    }
    if (step.name === 'outcome') {
      const rows = outcomeRows(step.outcome, plan, ui, width);
      const bars = progress.items.reduce((n, p) => n + (p.state === 'failed' && p.error ? (p.hint ? 3 : 2) : 1), 0);
      const height = Math.max(3, body - bars - 1 - (helpRows(t.help.doneScroll, columns) - 1));
      return { rows, height, footer: [], help: rows.length > height ? t.help.doneScroll : t.help.done };
    }
    return { rows: [], height: 0, footer: [], help: '' };
  }

  /** ↑↓ (and j/k when nothing is typed), PgUp/PgDn move the window over the plan or the outcome. */
  const scroll = (input: string, key: Parameters<Parameters<typeof useKeys>[0]>[1], typing: boolean): boolean => {
    const w = scrollWindow(layout.rows.length, layout.height, scrollTop);
    const up = key.upArrow || (!typing && input === 'k');
    const down = key.downArrow || (!typing && input === 'j');
    const by = up ? -1 : down ? 1 : key.pageUp ? -w.shown : key.pageDown ? w.shown : 0;
    if (!by) return false;
    setScrollTop(Math.max(0, Math.min(w.maxTop, w.top + by)));
    return true;
  };

  useKeys(
    (input, key) => {
      if (isCtrlC(input, key) || busy || step.name === 'running') return;
      switch (step.name) {
        case 'set': {
          if (key.escape) return onBack();
          if (setNav.handle(input, key)) return;
          if (!key.return || !sets) return;
          const chosen = latest && setNav.index === 0 ? latest : sets[setNav.index - offset];
          if (chosen) void loadManifest(chosen.id);
          return;
        }
        case 'items': {
          if (key.escape) {
            if (initialSetId) return onBack();
            setProblem(null);
            return setStep({ name: 'set' });
          }
          if (isUp(input, key)) return setCursor((c) => Math.max(0, c - 1));
          if (isDown(input, key)) return setCursor((c) => Math.min(itemRows - 1, c + 1));
          if (input === ' ') return setPicked((p) => p.map((v, i) => (i === cursor ? !v : v)));
          if (input === 'a') return setPicked((p) => p.map((_, i) => i < restorable.length || i === filesRow));
          if (key.return) {
            if (chosenDbs.length === 0 && !chosenFiles) return setProblem(t.restore.nothingPicked);
            setProblem(null);
            return setStep({ name: 'target' });
          }
          return;
        }
        case 'target': {
          if (key.escape) {
            setProblem(null);
            return setStep({ name: 'items' });
          }
          if (key.upArrow) return setSideBySide(false);
          if (key.downArrow) return setSideBySide(true);
          if (key.return) {
            if (sideBySide && !to.trim()) return setProblem(t.restore.newTargetNeeded);
            setProblem(null);
            if (tableNames.length > 0) {
              if (tablePicks.length !== tableNames.length + 1) setTablePicks([true, ...tableNames.map(() => false)]);
              setTableCursor(0);
              return setStep({ name: 'tables' });
            }
            return void makePlan();
          }
          if (sideBySide) {
            const next = editText(to, input, key);
            if (next !== null) setTo(next);
          }
          return;
        }
        case 'tables': {
          if (key.escape) return setStep({ name: 'target' });
          if (isUp(input, key)) return setTableCursor((c) => Math.max(0, c - 1));
          if (isDown(input, key)) return setTableCursor((c) => Math.min(tableNames.length, c + 1));
          if (input === ' ') {
            if (tableCursor === 0) return setTablePicks([true, ...tableNames.map(() => false)]);
            return setTablePicks((p) => {
              const next = p.map((v, i) => (i === tableCursor ? !v : v));
              next[0] = !next.slice(1).some(Boolean);
              return next;
            });
          }
          if (key.return) return void makePlan();
          return;
        }
        case 'plan': {
          if (scroll(input, key, confirming)) return;
          if (key.escape && !confirming) return setStep({ name: 'target' });
          return;
        }
        case 'sessions': {
          const no = (): void => {
            setPlan(null);
            setStep({ name: 'target' });
          };
          if (key.escape) return no();
          if (isUp(input, key)) return setStep({ name: 'sessions', choice: 0 });
          if (isDown(input, key)) return setStep({ name: 'sessions', choice: 1 });
          if (key.return) return step.choice === 1 ? void makePlan(true) : no();
          return;
        }
        case 'outcome':
          if (scroll(input, key, false)) return;
          if (key.escape || key.return) return onBack();
          return;
        case 'error':
          if (key.escape || key.return) {
            if (step.back === 'set' && (initialSetId || !sets)) return onBack();
            return setStep(step.back === 'set' ? { name: 'set' } : step.back === 'items' ? { name: 'items' } : { name: 'target' });
          }
          return;
      }
    },
  );

  const title = t.restore.title;
  if (step.name === 'error') {
    return (
      <Screen title={title} help={t.help.done}>
        <ErrorBox error={step.error} />
      </Screen>
    );
  }

  if (step.name === 'set') {
    const cols = setColumns(t, sets ?? [], columns, false);
    const rows = sets ? setRows(sets, ui, now(), shortDates(columns)).map((r) => r.slice(0, 6)) : [];
    const latestRow = latest && sets ? [{ text: t.restore.latest }, ...rows[sets.indexOf(latest)]!.slice(1)] : null;
    return (
      <Screen title={`${title}: ${t.restore.pickSet}`} help={t.help.pickSet}>
        {busy || !sets ? <Text>{busy ?? t.common.loading}</Text> : null}
        {sets && sets.length === 0 ? <Text>{t.restore.noSets}</Text> : null}
        {sets && sets.length > 0 ? <Table columns={cols} rows={latestRow ? [latestRow, ...rows] : rows} index={setNav.index} height={height} footer={t.list.rows} /> : null}
      </Screen>
    );
  }

  if (step.name === 'items' || step.name === 'target') {
    const items = [
      ...restorable.map((d, i) => ({ label: `${d.name} (${d.engine})`, checked: !!picked[i], note: formatBytes(d.rawBytes) })),
      ...(manifest && filesRow >= 0 ? [{ label: t.restore.filesItem(manifest.files.length), checked: chosenFiles }] : []),
      ...(rolesRow >= 0 ? [{ label: t.restore.rolesItem, checked: createRoles }] : []),
    ];
    return (
      <Screen title={`${title}: ${manifest ? manifest.id : ''}`} help={step.name === 'items' ? t.help.pickItems : t.help.pickTarget}>
        {busy ? <Text>{busy}</Text> : null}
        {manifest ? (
          <Text color={theme.colors.muted}>
            {formatDate(manifest.startedAt)} {theme.glyphs.dot} {t.common.setType[manifest.type] ?? manifest.type} {theme.glyphs.dot} {t.common.status[manifest.status]}
          </Text>
        ) : null}
        <Text bold>{t.restore.pickItems}</Text>
        <CheckboxList items={items} cursor={cursor} focused={step.name === 'items'} height={Math.max(3, body - (step.name === 'target' ? 9 : 4))} />
        {step.name === 'target' ? (
          <Box flexDirection="column" marginTop={1}>
            <Text bold>{t.restore.pickTarget}</Text>
            <SelectList items={[t.restore.inPlace, t.restore.sideBySide]} index={sideBySide ? 1 : 0} />
            {sideBySide ? <TextField label={t.restore.newTarget} value={to} focused /> : null}
          </Box>
        ) : null}
        {problem ? <Text color={theme.colors.error}>{problem}</Text> : null}
      </Screen>
    );
  }

  if (step.name === 'tables') {
    const items = [{ label: t.restore.allTables, checked: !!tablePicks[0] }, ...tableNames.map((n, i) => ({ label: n, checked: !!tablePicks[i + 1], note: t.restore.rowsNote(onlyDb?.tables?.[n] ?? 0) }))];
    return (
      <Screen title={`${title}: ${manifest ? manifest.id : ''}`} help={t.help.pickTables}>
        <Text bold>{t.restore.pickTables(onlyDb?.name ?? '')}</Text>
        <CheckboxList items={items} cursor={tableCursor} focused height={Math.max(3, body - 5)} />
        <Text color={theme.colors.muted} wrap="wrap">
          {t.restore.tablesNote}
        </Text>
      </Screen>
    );
  }

  if (step.name === 'sessions') {
    const connected = plan ? connectedSessions(plan) : [];
    // Rows per database for its sessions, leaving room for the text and the question below them.
    const perDb = Math.max(2, Math.floor((body - 10) / Math.max(1, connected.length)));
    return (
      <Screen
        title={t.restore.sessionsTitle}
        help={t.help.sessions}
        footer={
          <Box flexDirection="column" marginTop={1}>
            <Text bold>{t.restore.closeQuestion}</Text>
            <SelectList items={[t.restore.closeNo, t.restore.closeYes]} index={step.choice} />
          </Box>
        }
      >
        <Text wrap="wrap">{t.restore.sessionsIntro}</Text>
        {connected.map((d) => {
          const all = d.state.inUseBy;
          const shown = all.length > perDb ? all.slice(0, perDb - 1) : all;
          return (
            <Box key={d.database} flexDirection="column">
              <Text bold color={theme.colors.warn} wrap="truncate-end">
                {t.restore.sessionsOn(d.database, d.target, all.length)}
              </Text>
              {shown.map((x, i) => (
                <Text key={i} wrap="truncate-end">
                  {'  '}
                  {x}
                </Text>
              ))}
              {shown.length < all.length ? (
                <Text color={theme.colors.muted}>
                  {'  '}
                  {t.restore.moreSessions(all.length - shown.length)}
                </Text>
              ) : null}
            </Box>
          );
        })}
        <Text wrap="wrap">{t.restore.sessionsRisk}</Text>
      </Screen>
    );
  }

  if (step.name === 'plan') {
    const footer = (
      <>
        {layout.footer.map((rows, i) =>
          plan && i >= layout.footer.length - plan.refusals.length ? (
            <Box
              key={i}
              flexDirection="column"
              borderStyle={theme.border}
              borderColor={theme.colors.error}
              paddingX={1}
            >
              <Rows rows={rows} />
            </Box>
          ) : (
            <Rows key={i} rows={rows} />
          ),
        )}
        {confirming ? (
          <Box marginTop={1}>
            <TypedConfirm word={t.confirmWord} prompt={t.restore.typeWord(t.confirmWord)} onCancel={() => setStep({ name: 'target' })} onConfirm={() => void execute()} />
          </Box>
        ) : null}
      </>
    );
    return (
      <Screen title={t.restore.planTitle} help={layout.help} footer={footer}>
        {busy ? <Text>{busy}</Text> : null}
        {plan ? <ScrollRows rows={layout.rows} height={layout.height} top={scrollTop} /> : null}
      </Screen>
    );
  }

  const nowMs = Date.now();
  const bars = progress.items.map((p) => <ProgressBar key={p.item} p={p} now={nowMs} width={columns} />);
  if (step.name === 'running') {
    return (
      <Screen title={t.restore.running} help={t.help.running}>
        {bars}
        {progress.info.slice(-2).map((m, i) => (
          <Text key={i} color={theme.colors.muted} wrap="truncate-end">
            {m}
          </Text>
        ))}
        {step.interruptWarned ? <Text color={theme.colors.warn}>{t.restore.interruptAgain}</Text> : null}
      </Screen>
    );
  }

  return (
    <Screen title={step.outcome.ok ? t.restore.outcomeOk : t.restore.outcomeFailed} help={layout.help}>
      {bars}
      <Box flexDirection="column" marginTop={1}>
        <ScrollRows rows={layout.rows} height={layout.height} top={scrollTop} />
      </Box>
    </Screen>
  );
}

/**
 * The databases of a plan restored in place on a server engine (the live database is kept renamed)
 * that have sessions connected: what the operator may choose to close at the swap. SQLite targets
 * in use are never among them (there is nothing to close; they stay refused).
 */
export function connectedSessions(plan: RestorePlan): RestorePlan['databases'] {
  return plan.databases.filter((d) => d.restoreTarget.kind === 'in-place' && d.safety.kind === 'renamed-database' && d.state.inUseBy.length > 0);
}

/**
 * Whether to ask the operator about closing sessions: the plan did not already ask to close them,
 * some server database has sessions connected, and the sessions are all that stops the restore
 * (any other refusal would still stop it, so the question would be pointless and the refusals
 * are shown as they are).
 */
export function mayCloseSessions(plan: RestorePlan): boolean {
  if (plan.options.terminateConnections) return false;
  return connectedSessions(plan).length > 0 && plan.refusals.length > 0 && plan.refusals.every((r) => r.kind === 'sessions');
}

/** The whole plan, folded to the terminal's width (see planRows). */
export function PlanView({ plan }: { plan: RestorePlan }) {
  const ui = useUi();
  const { columns } = useScreenSize();
  return (
    <Box flexDirection="column">
      <Rows rows={planRows(plan, ui, columns)} />
    </Box>
  );
}

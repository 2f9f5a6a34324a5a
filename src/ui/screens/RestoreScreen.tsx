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
import { TypedConfirm } from '../components/TypedConfirm.js';
import { english, type Phrase } from '../../core/phrases.js';
import type { RestoreOutcome, RestorePlan } from '../engine-facade.js';
import { say } from '../i18n/index.js';
import { formatBytes, formatDate } from '../format.js';
import { useInterrupt } from '../use-interrupt.js';
import { editText, isCtrlC, isDown, isUp, useKeys } from '../use-keys.js';
import { useListNavigation } from '../use-list-navigation.js';
import { useProgress } from '../use-progress.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useTick } from '../use-tick.js';
import { useUi } from '../use-ui.js';
import { setColumns, setRows, shortDates } from './ListScreen.js';

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
export function RestoreScreen({ onBack, initialSetId }: { onBack: () => void; initialSetId?: string }) {
  const ui = useUi();
  const { t, lang, theme, facade, now } = ui;
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
      const restorable = m.databases.filter((d) => !d.error && d.file);
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

  const restorable = manifest ? manifest.databases.filter((d) => !d.error && d.file) : [];
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
      setStep({ name: 'outcome', outcome });
    } catch (error) {
      setStep({ name: 'error', error, back: 'plan' });
    }
  };

  useInterrupt(() => {
    if (step.name !== 'running') return;
    if (!step.interruptWarned) setStep({ name: 'running', interruptWarned: true });
    else abort.current?.abort();
  }, step.name === 'running');

  const confirming = step.name === 'plan' && plan !== null && plan.refusals.length === 0;

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
          if (input === 'a') return setPicked((p) => p.map((_, i) => i < restorable.length));
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
          if (key.escape) return setStep({ name: 'target' });
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
    !confirming,
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
      <Screen title={t.restore.sessionsTitle} help={t.help.sessions}>
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
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{t.restore.closeQuestion}</Text>
          <SelectList items={[t.restore.closeNo, t.restore.closeYes]} index={step.choice} />
        </Box>
      </Screen>
    );
  }

  if (step.name === 'plan') {
    const closing = plan && plan.options.terminateConnections ? connectedSessions(plan) : [];
    return (
      <Screen title={t.restore.planTitle} help={confirming ? t.help.confirm : t.help.done}>
        {busy ? <Text>{busy}</Text> : null}
        {plan ? <PlanView plan={plan} /> : null}
        {plan && plan.refusals.length > 0
          ? plan.refusals.map((r, i) => (
              <ErrorBox key={i} error={{ message: say(lang, r.phrases?.message, r.message, theme.unicode), hint: say(lang, r.phrases?.hint, r.hint, theme.unicode) }} />
            ))
          : null}
        {closing.map((d) => (
          <Text key={d.database} bold color={theme.colors.warn} wrap="wrap">
            {t.restore.willTerminate(d.database, d.state.inUseBy.length)}
          </Text>
        ))}
        {confirming ? (
          <Box marginTop={1}>
            <TypedConfirm word={t.confirmWord} prompt={t.restore.typeWord(t.confirmWord)} onCancel={() => setStep({ name: 'target' })} onConfirm={() => void execute()} />
          </Box>
        ) : null}
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

  const o = step.outcome;
  return (
    <Screen title={o.ok ? t.restore.outcomeOk : t.restore.outcomeFailed} help={t.help.done}>
      {bars}
      <Box flexDirection="column" marginTop={1}>
        {o.databases.map((d) => (
          <Box key={d.name} flexDirection="column">
            <Text color={d.ok ? theme.colors.ok : theme.colors.error} bold wrap="truncate-end">
              {d.ok ? t.common.status.ok : t.common.status.failed} {d.name}
              {d.ok && d.restoredTo ? ` ${theme.unicode ? '→' : '->'} ${d.restoredTo}` : ''}
              {d.error ? `: ${d.error}` : ''}
            </Text>
            {d.hint ? <Text wrap="truncate-end">{'  '}{t.common.hint}: {d.hint}</Text> : null}
          </Box>
        ))}
        {o.filesRestoredTo ? (
          <Text color={theme.colors.ok} wrap="truncate-end">
            {t.common.status.ok} {t.details.files} {theme.unicode ? '→' : '->'} {o.filesRestoredTo}
          </Text>
        ) : null}
        {o.safetySetIds.map((id) => (
          <Box key={id} flexDirection="column" marginTop={1}>
            <Text bold>
              {t.restore.safetySet}: {id}
            </Text>
            <Text>
              {'  '}
              {t.restore.rollback}:
            </Text>
            {rollbackLines(plan, id, t.restore.rollbackCmd(id)).map((line, i) => (
              <Text key={i} wrap="wrap">
                {'    '}
                {line}
              </Text>
            ))}
          </Box>
        ))}
        {o.recovered.map((r, i) => (
          <Text key={i} color={theme.colors.warn} wrap="truncate-end">
            {t.common.status.warn}: {r}
          </Text>
        ))}
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

/**
 * How to roll back to a safety set, in the engine's words with the real set id in place of its
 * placeholder (`<pre_restore set id>`); the plain restore command when the engine says nothing.
 */
export function rollbackLines(plan: RestorePlan | null, safetyId: string, fallback: string): string[] {
  const lines = (plan?.databases ?? []).filter((d) => d.replaces && /<[^>]*set id>/.test(d.rollback)).map((d) => d.rollback.replace(/<[^>]*set id>/g, safetyId));
  return lines.length ? lines : [fallback];
}

/** The plan: source set, each target (replaced or created) with sizes, the safety copy, how to roll back. */
export function PlanView({ plan }: { plan: RestorePlan }) {
  const { t, lang, theme } = useUi();
  const text = (p: Phrase | undefined, english: string) => say(lang, p, english, theme.unicode);
  const arrow = theme.unicode ? '→' : '->';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        {t.restore.from}: <Text bold>{plan.setId}</Text> ({formatDate(plan.setStartedAt)}, {t.common.setType[plan.setType] ?? plan.setType}, {t.common.status[plan.setStatus as 'completed'] ?? plan.setStatus})
      </Text>
      {plan.databases.map((d) => (
        <Box key={d.database} flexDirection="column">
          <Text wrap="truncate-end">
            {'  '}
            <Text bold color={d.replaces ? theme.colors.warn : theme.colors.ok}>
              {d.replaces ? t.restore.willReplace : t.restore.willCreate}
            </Text>{' '}
            {d.database} {arrow} {d.target}
          </Text>
          <Text color={theme.colors.muted} wrap="truncate-end">
            {'    '}
            {t.restore.sizeLabel} {formatBytes(d.rawBytes)}
            {d.state.exists && d.state.sizeBytes !== null ? ` (${t.restore.current(formatBytes(d.state.sizeBytes))})` : ''}
          </Text>
          {plan.databases.length === 1
            ? d.steps.map((s, i) => (
                <Box key={i} paddingLeft={4}>
                  <Text color={theme.colors.muted} wrap="wrap">
                    {i + 1}. {text(d.stepPhrases?.[i], s)}
                  </Text>
                </Box>
              ))
            : null}
        </Box>
      ))}
      {plan.files ? (
        <Text wrap="truncate-end">
          {'  '}
          <Text bold color={theme.colors.ok}>
            {t.restore.willCreate}
          </Text>{' '}
          {t.details.files} ({plan.files.count}, {formatBytes(plan.files.bytes)}) {arrow} {plan.files.to}
        </Text>
      ) : null}
      <Text wrap="wrap">
        <Text bold>{t.restore.safety}: </Text>
        {plan.databases.some((d) => d.replaces) ? (plan.safetyPhrases ? plan.safetyPhrases.map((p) => text(p, english(p))).join('; ') : plan.safety) : t.restore.safetyNone}
      </Text>
      {plan.databases.length > 0 ? (
        <Box flexDirection="column">
          <Text bold>{t.restore.rollback}:</Text>
          {plan.databases.map((d) => (
            <Text key={d.database} wrap="truncate-end">
              {'  '}
              {d.database}: {text(d.rollbackPhrase, d.rollback)}
            </Text>
          ))}
        </Box>
      ) : null}
      {plan.warnings.map((w, i) => (
        <Text key={i} color={theme.colors.warn} wrap="truncate-end">
          {t.common.status.warn}: {text(plan.warningPhrases?.[i], w)}
        </Text>
      ))}
    </Box>
  );
}

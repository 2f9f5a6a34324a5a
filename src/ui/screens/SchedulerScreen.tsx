import { useEffect, useRef, useState } from 'react';
import { Box, Text, type Key } from 'ink';
import { LockHeldError } from '../../core/errors.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { ScrollRows, scrollWindow } from '../components/Rows.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { Screen } from '../components/Screen.js';
import { Table, type Column } from '../components/Table.js';
import {
  JOB_SUCCEEDED,
  type CatchUpPlan,
  type JobOutcome,
  type SchedulerEvent,
  type SchedulerHandle,
  type SchedulerLogEntry,
  type SchedulerStatus,
} from '../engine-facade.js';
import { foldText } from '../fold.js';
import { say, type Lang } from '../i18n/index.js';
import { formatAge, formatDate, formatShortDate, formatTime } from '../format.js';
import { useInterrupt } from '../use-interrupt.js';
import { isCtrlC, useKeys } from '../use-keys.js';
import { useProgress } from '../use-progress.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useTick } from '../use-tick.js';
import { useUi, type UiContextValue } from '../use-ui.js';

/** One tail line for a scheduler log entry, in the operator's language (`lang`) where the menu knows the event. */
export function logLine(e: SchedulerLogEntry, t: UiContextValue['t'], lang: Lang = 'en'): string {
  const time = formatTime(new Date(e.time));
  const job = typeof e.job === 'string' ? e.job : '';
  switch (e.event) {
    case 'job-start':
      return `${time} ${t.scheduler.started(job)}`;
    case 'job-end': {
      const outcome = String(e.outcome ?? '');
      const word = t.scheduler.outcome[outcome] ?? outcome;
      const ids = Array.isArray(e.setIds) ? e.setIds.join(',') : typeof e.setId === 'string' ? e.setId : '';
      return e.error
        ? `${time} ${job}: ${word} ${ids} ${say(lang, e.errorPhrase, String(e.error))}`
        : `${time} ${t.scheduler.finished(job, word, ids)}`;
    }
    case 'retention':
      return `${time} ${t.scheduler.retention(
        Array.isArray(e.removed) ? e.removed.map(String) : [],
        typeof e.kept === 'number' ? e.kept : 0,
        Array.isArray(e.notCopied) ? e.notCopied.map(String) : [],
      )}`;
    case 'retention-failed':
      return `${time} ${t.scheduler.retentionFailed(say(lang, e.errorPhrase, String(e.error ?? '')))}`;
    case 'retention-skipped': {
      const outcome = String(e.outcome ?? '');
      return `${time} ${t.scheduler.retentionSkipped(outcome === 'aborting' ? outcome : (t.scheduler.outcome[outcome] ?? outcome))}`;
    }
    case 'job-skipped':
      return `${time} ${t.scheduler.skipped(job, String(e.why ?? 'busy'), String(e.running ?? ''))}`;
    case 'job-queued':
      return `${time} ${t.scheduler.queued(job, String(e.running ?? ''))}`;
    case 'catch-up': {
      const jobs = Array.isArray(e.jobs) ? e.jobs.map(String) : [];
      return `${time} ${typeof e.after === 'string' ? t.scheduler.catchUpInstead(e.after, jobs) : t.scheduler.catchUpRuns(jobs)}`;
    }
    case 'scheduler-stopping':
      return `${time} ${t.scheduler.stoppingLog(typeof e.waitingFor === 'string' ? e.waitingFor : null)}`;
    case 'scheduler-aborting':
      return `${time} ${t.scheduler.abortingLog(job)}`;
    default:
      return `${time} ${typeof e.message === 'string' ? e.message : e.event}`;
  }
}

/**
 * Option 5: the foreground scheduler inside the menu. Before it starts, the runs missed while it was
 * stopped are shown (what catch-up will run and what each run covers): Enter runs them, s skips them,
 * Esc goes back. Then shows each job's next run, a live tail,
 * counts since start and the running job's progress. q/Ctrl-C stops after the current job; a
 * second Ctrl-C warns; a third aborts the job safely.
 */
export function SchedulerScreen({ onBack }: { onBack: () => void }) {
  const { t, lang, theme, facade, now } = useUi();
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const [handle, setHandle] = useState<SchedulerHandle | null>(null);
  const [status, setStatus] = useState<SchedulerStatus | null>(null);
  const [startError, setStartError] = useState<unknown>(null);
  const [tail, setTail] = useState<{ text: string; bad: boolean }[]>([]);
  const [presses, setPresses] = useState(0);
  /** Log rows scrolled up from the newest (0: the tail follows what happens). */
  const [back, setBack] = useState(0);
  const [stopped, setStopped] = useState<number | null>(null);
  const [catchUp, setCatchUp] = useState<CatchUpPlan | 'checking' | 'decided'>('checking');
  const { reporter, progress, reset } = useProgress();
  const counts = useRef({ ok: 0, failed: 0 });
  const mounted = useRef(true);
  const started = useRef(false);
  useTick(1000, stopped === null);

  useEffect(() => {
    mounted.current = true;
    facade.planCatchUp().then(
      (plan) => mounted.current && setCatchUp(plan.runs.length > 0 ? plan : 'decided'),
      // Another scheduler runs: said now, before any plan or key (start would refuse the same way). Any other
      // problem: the scheduler plans again at start and logs why.
      (error: unknown) =>
        mounted.current && (error instanceof LockHeldError ? setStartError(error) : setCatchUp('decided')),
    );
    return () => {
      mounted.current = false;
    };
  }, []);

  const start = (runCatchUp: boolean): void => {
    if (!runCatchUp) setTail([{ text: `${formatTime(now())} ${t.scheduler.catchUpSkipped}`, bad: false }]);
    setCatchUp('decided');
    const onEvent = (e: SchedulerEvent): void => {
      if (!mounted.current) return;
      switch (e.type) {
        case 'log':
          if (
            ['job-start', 'job-end', 'retention', 'retention-failed'].includes(e.entry.event) ||
            typeof e.entry.message === 'string'
          ) {
            const bad =
              (e.entry.event === 'job-end' && !JOB_SUCCEEDED.includes(e.entry.outcome as JobOutcome)) ||
              e.entry.event === 'retention-failed';
            setTail((x) => [...x.slice(-49), { text: logLine(e.entry, t, lang), bad }]);
          }
          return;
        case 'job-start':
          reset();
          return;
        case 'job-end':
          if (JOB_SUCCEEDED.includes(e.end.outcome)) counts.current.ok++;
          else counts.current.failed++;
          return;
        case 'progress':
          reporter.emit(e.event);
          return;
        case 'state':
          setStatus(e.status);
          return;
        case 'stopped':
          setStopped(e.code);
          return;
      }
    };
    facade.startScheduler(onEvent, { catchUp: runCatchUp }).then(
      (h) => {
        if (!mounted.current) {
          h.stop();
          h.stop();
          return;
        }
        setHandle(h);
        setStatus(h.status());
      },
      (error: unknown) => mounted.current && setStartError(error),
    );
  };

  useEffect(() => {
    if (catchUp === 'decided' && !handle && !startError && !started.current) {
      started.current = true;
      start(true);
    }
  }, [catchUp]);

  const press = (): void => {
    if (!handle || stopped !== null) return;
    const n = presses + 1;
    setPresses(n);
    if (n === 1) handle.stop();
    else if (n >= 3 && running) handle.stop();
    setStatus(handle.status());
  };

  useInterrupt(press, handle !== null && stopped === null);

  // The log tail, each entry folded whole to the width (a failure's reason, the sets retention removed).
  const tailRowsAll = tail.flatMap((l) =>
    foldText(l.text, columns, l.bad ? { color: theme.colors.error } : {}, '      '),
  );
  const running = status?.running ?? null;
  const jobCount = Math.min(status?.jobs.length ?? 0, 8);
  const tailRows = Math.max(2, body - 5 - jobCount - (running ? progress.items.length : 0));
  const tailWindow = scrollWindow(tailRowsAll.length, tailRows, tailRowsAll.length - tailRows - back + 1);
  const scrollTail = (key: Key): boolean => {
    if (!tailWindow.scrolls) return false;
    const page = tailWindow.shown;
    // Counted back from the newest line: Home the oldest, End the newest.
    if (key.home || key.end) {
      setBack(key.home ? tailWindow.maxTop : 0);
      return true;
    }
    const by = key.upArrow ? 1 : key.downArrow ? -1 : key.pageUp ? page : key.pageDown ? -page : 0;
    if (by === 0) return false;
    setBack((b) => Math.max(0, Math.min(tailWindow.maxTop, b + by)));
    return true;
  };

  useKeys((input, key) => {
    if (isCtrlC(input, key)) return;
    if (typeof catchUp === 'object') {
      if (key.return || input === 's') {
        started.current = true;
        start(key.return);
      } else if (key.escape || input === 'q') onBack();
      return;
    }
    if (scrollTail(key)) return;
    if (startError || stopped !== null) {
      if (key.escape || key.return || input === 'q') onBack();
      return;
    }
    if (input === 'q' || key.escape) {
      if (presses === 0) press();
    }
  });

  if (startError) {
    return (
      <Screen title={t.scheduler.title} help={t.help.done}>
        <Text color={theme.colors.error}>{t.scheduler.startFailed}</Text>
        <ErrorBox error={startError} />
      </Screen>
    );
  }

  if (catchUp === 'checking') {
    return (
      <Screen title={t.scheduler.title} help={t.help.catchUp}>
        <Text>{t.scheduler.checking}</Text>
      </Screen>
    );
  }

  if (typeof catchUp === 'object') {
    const jobs = facade.config().schedule;
    const typeOf = (name: string): string => jobs.find((j) => j.name === name)?.type ?? '';
    const lines: { text: string; indent: number; muted?: boolean }[] = [];
    for (const r of catchUp.runs) {
      const what = t.scheduler.catchUpWhat(typeOf(r.job));
      lines.push({ text: t.scheduler.catchUpRun(r.job, what, formatDate(r.missedAt)), indent: 2 });
      if (r.satisfies.length) lines.push({ text: t.scheduler.catchUpCovers(r.satisfies), indent: 4, muted: true });
    }
    for (const x of catchUp.satisfied.filter((x) => x.byRun !== 'catch-up')) {
      lines.push({ text: t.scheduler.catchUpSatisfied(x.job, x.by), indent: 2, muted: true });
    }
    const room = Math.max(1, body - 3);
    return (
      <Screen title={t.scheduler.title} help={t.help.catchUp}>
        <Text wrap="truncate-end">{t.scheduler.catchUpIntro}</Text>
        {lines.slice(0, room).map((l, i) => (
          <Text key={i} color={l.muted ? theme.colors.muted : undefined} wrap="truncate-end">
            {' '.repeat(l.indent)}
            {l.text}
          </Text>
        ))}
        {lines.length > room ? <Text color={theme.colors.muted}> …</Text> : null}
        <Box marginTop={1}>
          <Text color={theme.colors.muted} wrap="truncate-end">
            {t.scheduler.catchUpSkipNote}
          </Text>
        </Box>
      </Screen>
    );
  }

  const at = now();
  const cols: Column[] = [
    // The next run is at most 23 wide ("12-01 02:00 (in 59 min)"); what is left goes to the outcome, whose
    // Spanish words are long ("VERIFICADA", "SIMULACRO OK"): 10 columns at 80.
    { title: t.scheduler.job, width: 12 },
    { title: t.scheduler.when, width: 25 },
    { title: t.scheduler.nextRun, width: 23 },
    { title: t.scheduler.lastOutcome, width: Math.max(8, columns - 70) },
  ];
  const jobs = status?.jobs ?? [];
  const rows = jobs.map((j) => [
    { text: j.name },
    { text: j.when },
    // Month and day only: "12-01 02:00 (in 59 min)" fits the column where the year did not.
    {
      text: j.nextRun
        ? `${formatShortDate(j.nextRun)} (${t.time.in(formatAge(new Date(j.nextRun).getTime() - at.getTime()))})`
        : '-',
    },
    j.lastOutcome
      ? {
          text: t.scheduler.outcome[j.lastOutcome] ?? j.lastOutcome,
          color: JOB_SUCCEEDED.includes(j.lastOutcome) ? theme.colors.ok : theme.colors.error,
        }
      : { text: '-' },
  ]);
  const stopping = status?.stopping ?? 'no';
  const help =
    stopped !== null
      ? tailWindow.scrolls
        ? t.help.doneScroll
        : t.help.done
      : tailWindow.scrolls
        ? t.help.schedulerScroll
        : t.help.scheduler;
  return (
    <Screen title={t.scheduler.title} help={help}>
      {!handle ? <Text>{t.common.loading}</Text> : null}
      {handle && jobs.length === 0 ? <Text color={theme.colors.warn}>{t.scheduler.noJobs}</Text> : null}
      {jobs.length > 0 ? <Table columns={cols} rows={rows} index={-1} height={Math.min(jobs.length, 8)} /> : null}
      <Text>
        {t.scheduler.counts(counts.current.ok, counts.current.failed)}
        {running ? ` ${theme.glyphs.dot} ${t.scheduler.running}: ${running}` : ''}
      </Text>
      {running ? progress.items.map((p) => <ProgressBar key={p.item} p={p} now={Date.now()} width={columns} />) : null}
      <Box flexDirection="column" marginTop={1}>
        <ScrollRows rows={tailRowsAll} height={tailRows} top={tailWindow.top} />
        {handle && !running && stopped === null && stopping === 'no' ? (
          <Text color={theme.colors.muted}>{t.scheduler.idle}</Text>
        ) : null}
      </Box>
      {stopped !== null ? (
        <Text bold>{stopped === 0 ? t.scheduler.stopped : t.scheduler.abortedCode(stopped)}</Text>
      ) : stopping === 'aborting' ? (
        <Text color={theme.colors.warn}>{t.scheduler.aborting}</Text>
      ) : presses === 2 && running ? (
        <Text color={theme.colors.warn}>{t.scheduler.ctrlCAgain}</Text>
      ) : stopping === 'finishing' ? (
        <Text color={theme.colors.warn}>{t.scheduler.stopping}</Text>
      ) : null}
    </Screen>
  );
}

import { useState } from 'react';
import { Box, Text } from 'ink';
import { RespaldoError } from '../../core/errors.js';
import type { RetentionPolicy, ScheduleJob } from '../../core/types.js';
import { describeError, ErrorBox } from '../components/ErrorBox.js';
import { Screen } from '../components/Screen.js';
import { Table, type Column } from '../components/Table.js';
import { ChoiceField, TextField } from '../components/TextField.js';
import { formatDate } from '../format.js';
import { say } from '../i18n/index.js';
import {
  formToJob,
  formToWhen,
  FREQUENCIES,
  JOB_NAME,
  JOB_TYPES,
  jobToForm,
  MONTHDAYS,
  newJobForm,
  formWindow,
  TIME,
  type JobForm,
} from '../schedule-form.js';
import { editText, isCtrlC, useKeys } from '../use-keys.js';
import { useListNavigation } from '../use-list-navigation.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi } from '../use-ui.js';

type Mode =
  | { name: 'list' }
  | { name: 'job'; index: number | null; form: JobForm; row: number; problem: string | null }
  | { name: 'retention'; values: string[]; row: number; problem: string | null }
  | { name: 'saving' };

const RETENTION_KEYS: (keyof RetentionPolicy)[] = ['keepLast', 'daily', 'weekly', 'monthly', 'yearly'];

type Row =
  | { kind: 'name' | 'frequency' | 'time' | 'weekday' | 'monthday' | 'expression' | 'timezone' | 'type' | 'files' }
  | { kind: 'db'; db: string };

function formRows(f: JobForm, dbs: string[]): Row[] {
  const when: Row[] =
    f.frequency === 'daily'
      ? [{ kind: 'time' }]
      : f.frequency === 'weekly'
        ? [{ kind: 'weekday' }, { kind: 'time' }]
        : f.frequency === 'monthly'
          ? [{ kind: 'monthday' }, { kind: 'time' }]
          : [{ kind: 'expression' }];
  return [
    { kind: 'name' },
    { kind: 'frequency' },
    ...when,
    { kind: 'timezone' },
    { kind: 'type' },
    ...dbs.map((db) => ({ kind: 'db' as const, db })),
    { kind: 'files' },
  ];
}

function cycle<T>(list: readonly T[], value: T, dir: number): T {
  const i = list.indexOf(value);
  return list[(i + dir + list.length) % list.length]!;
}

/**
 * Option 2: the schedule (jobs) and retention. Jobs are edited in a form that shows the next five
 * run times of what is entered; nothing is written until `s`, which saves atomically through the
 * engine (validated, other config fields kept).
 */
export function ConfigureScheduleScreen({ onBack, onSaved }: { onBack: () => void; onSaved?: () => void }) {
  const { t, lang, theme, facade, now } = useUi();
  const cfg = facade.config();
  const dbs = cfg.databases.map((d) => d.name);
  const [jobs, setJobs] = useState<ScheduleJob[]>(() => cfg.schedule.map((j) => ({ ...j })));
  const [retention, setRetention] = useState<RetentionPolicy>(() => ({ ...cfg.retention }));
  const [dirty, setDirty] = useState(false);
  const [discardAsked, setDiscardAsked] = useState(false);
  const [message, setMessage] = useState<{ text: string; ok: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [mode, setMode] = useState<Mode>({ name: 'list' });
  const nav = useListNavigation(jobs.length, 10);
  const { columns } = useScreenSize();
  const body = useBodyRows();

  const preview = (when: string, tz: string): { runs: Date[] } | { error: string } => {
    try {
      return { runs: facade.nextRuns(when, tz.trim() || undefined, 5, now()) };
    } catch (e) {
      const phrases = e instanceof RespaldoError ? e.phrases : undefined;
      return { error: say(lang, phrases?.message, describeError(e, '').message, theme.unicode) };
    }
  };

  const save = async (): Promise<void> => {
    setMode({ name: 'saving' });
    setError(null);
    try {
      const { schedulerRunning } = await facade.saveSchedule(jobs, retention);
      setDirty(false);
      // A running scheduler (the service) keeps the jobs it read at its start: saved is not yet applied.
      setMessage({
        text: schedulerRunning ? `${t.schedule.saved} ${t.schedule.restartScheduler}` : t.schedule.saved,
        ok: true,
      });
      onSaved?.();
    } catch (e) {
      setError(e);
    }
    setMode({ name: 'list' });
  };

  useKeys((input, key) => {
    if (isCtrlC(input, key) || mode.name === 'saving') return;
    if (mode.name === 'list') {
      setMessage(null);
      if (key.escape) {
        if (error) return setError(null);
        if (dirty && !discardAsked) return setDiscardAsked(true);
        return onBack();
      }
      setDiscardAsked(false);
      if (nav.handle(input, key)) return;
      if (input === 's') return void save();
      if (input === 'a')
        return setMode({
          name: 'job',
          index: null,
          form: newJobForm(
            jobs.map((j) => j.name),
            dbs,
          ),
          row: 0,
          problem: null,
        });
      if (input === 't')
        return setMode({
          name: 'retention',
          values: RETENTION_KEYS.map((k) => String(retention[k])),
          row: 0,
          problem: null,
        });
      const job = jobs[nav.index];
      if (!job) return;
      if (key.return)
        return setMode({ name: 'job', index: nav.index, form: jobToForm(job, dbs), row: 0, problem: null });
      if (input === 'x') {
        setJobs((js) => js.filter((_, i) => i !== nav.index));
        setDirty(true);
      }
      return;
    }
    if (mode.name === 'retention') {
      if (key.escape) return setMode({ name: 'list' });
      if (key.upArrow) return setMode({ ...mode, row: Math.max(0, mode.row - 1) });
      if (key.downArrow || key.tab) return setMode({ ...mode, row: Math.min(RETENTION_KEYS.length - 1, mode.row + 1) });
      if (key.return) {
        if (!mode.values.every((v) => /^\d{1,6}$/.test(v))) return setMode({ ...mode, problem: t.schedule.badNumber });
        const next = { ...retention };
        RETENTION_KEYS.forEach((k, i) => (next[k] = Number(mode.values[i])));
        setRetention(next);
        setDirty(true);
        return setMode({ name: 'list' });
      }
      const next = editText(mode.values[mode.row] ?? '', input, key);
      if (next !== null && /^\d*$/.test(next))
        setMode({ ...mode, values: mode.values.map((v, i) => (i === mode.row ? next : v)), problem: null });
      return;
    }
    // Job editor.
    const rows = formRows(mode.form, dbs);
    const row = rows[Math.min(mode.row, rows.length - 1)]!;
    const f = mode.form;
    const set = (patch: Partial<JobForm>): void => setMode({ ...mode, form: { ...f, ...patch }, problem: null });
    if (key.escape) return setMode({ name: 'list' });
    if (key.upArrow) return setMode({ ...mode, row: Math.max(0, mode.row - 1) });
    if (key.downArrow || key.tab) return setMode({ ...mode, row: Math.min(rows.length - 1, mode.row + 1) });
    if (key.return) {
      const problem = !JOB_NAME.test(f.name.trim())
        ? t.schedule.badName
        : jobs.some((j, i) => j.name === f.name.trim() && i !== mode.index)
          ? t.schedule.duplicateName
          : f.frequency !== 'cron' && !TIME.test(f.time.trim())
            ? t.schedule.badTime
            : (() => {
                const p = preview(formToWhen(f), f.timezone);
                return 'error' in p ? p.error : null;
              })();
      if (problem) return setMode({ ...mode, problem });
      const job = formToJob(f, dbs);
      setJobs((js) => (mode.index === null ? [...js, job] : js.map((j, i) => (i === mode.index ? job : j))));
      setDirty(true);
      return setMode({ name: 'list' });
    }
    const dir = key.leftArrow ? -1 : key.rightArrow || input === ' ' ? 1 : 0;
    const textEdit = (value: string): string | null => editText(value, input, key);
    switch (row.kind) {
      case 'name': {
        const v = textEdit(f.name);
        if (v !== null) set({ name: v.slice(0, 63) });
        return;
      }
      case 'time': {
        const v = textEdit(f.time);
        if (v !== null) set({ time: v.slice(0, 5) });
        return;
      }
      case 'expression': {
        const v = textEdit(f.expression);
        if (v !== null) set({ expression: v.slice(0, 120) });
        return;
      }
      case 'timezone': {
        const v = textEdit(f.timezone);
        if (v !== null) set({ timezone: v.slice(0, 60) });
        return;
      }
      case 'frequency':
        if (dir) set({ frequency: cycle(FREQUENCIES, f.frequency, dir) });
        return;
      case 'weekday':
        if (dir) set({ weekday: (f.weekday + dir + 7) % 7 });
        return;
      case 'monthday':
        if (dir) set({ monthday: cycle(MONTHDAYS, f.monthday, dir) });
        return;
      case 'type':
        if (dir) set({ type: cycle(JOB_TYPES, f.type, dir) });
        return;
      case 'files':
        if (dir) set({ files: !f.files });
        return;
      case 'db':
        if (input === ' ')
          set({
            databases: f.databases.includes(row.db)
              ? f.databases.filter((d) => d !== row.db)
              : [...f.databases, row.db],
          });
        return;
    }
  });

  if (mode.name === 'job') {
    const f = mode.form;
    const rows = formRows(f, dbs);
    const at = Math.min(mode.row, rows.length - 1);
    const p = preview(formToWhen(f), f.timezone);
    const W = Math.max(
      t.schedule.name.length,
      t.schedule.frequency.length,
      t.schedule.time.length,
      t.schedule.weekday.length,
      t.schedule.monthday.length,
      t.schedule.cron.length,
      t.schedule.timezone.length,
      t.schedule.type.length,
      t.schedule.databases.length,
      t.schedule.files.length,
    );
    const formWidth = W + 34;
    const dbWidth = formWidth - 2 - (W + 2);
    const heights = rows.map((r) => (r.kind === 'db' ? Math.max(1, Math.ceil((4 + r.db.length) / dbWidth)) : 1));
    const [top, end] = formWindow(heights, at, body - (mode.problem ? 1 : 0));
    const field = (r: Row, i: number) => {
      const focused = i === at;
      switch (r.kind) {
        case 'name':
          return <TextField key={i} label={t.schedule.name} value={f.name} focused={focused} labelWidth={W} />;
        case 'frequency':
          return (
            <ChoiceField
              key={i}
              label={t.schedule.frequency}
              value={t.schedule.freq[f.frequency] ?? f.frequency}
              focused={focused}
              labelWidth={W}
            />
          );
        case 'time':
          return <TextField key={i} label={t.schedule.time} value={f.time} focused={focused} labelWidth={W} />;
        case 'weekday':
          return (
            <ChoiceField
              key={i}
              label={t.schedule.weekday}
              value={t.schedule.weekdays[f.weekday] ?? ''}
              focused={focused}
              labelWidth={W}
            />
          );
        case 'monthday':
          return (
            <ChoiceField
              key={i}
              label={t.schedule.monthday}
              value={f.monthday === 'last' ? t.schedule.lastDay : f.monthday}
              focused={focused}
              labelWidth={W}
            />
          );
        case 'expression':
          return <TextField key={i} label={t.schedule.cron} value={f.expression} focused={focused} labelWidth={W} />;
        case 'timezone':
          return (
            <TextField
              key={i}
              label={t.schedule.timezone}
              value={f.timezone}
              focused={focused}
              labelWidth={W}
              placeholder={Intl.DateTimeFormat().resolvedOptions().timeZone}
            />
          );
        case 'type':
          return (
            <ChoiceField
              key={i}
              label={t.schedule.type}
              value={t.schedule.jobType[f.type] ?? f.type}
              focused={focused}
              labelWidth={W}
            />
          );
        case 'files':
          return (
            <ChoiceField
              key={i}
              label={t.schedule.files}
              value={f.files ? t.common.yes : t.common.no}
              focused={focused}
              labelWidth={W}
            />
          );
        case 'db':
          return (
            <Box key={i}>
              <Box flexShrink={0}>
                <Text color={focused ? theme.colors.accent : undefined}>{focused ? theme.glyphs.pointer : ' '} </Text>
                <Text>{r.db === dbs[0] || i === top ? `${t.schedule.databases.padEnd(W)}: ` : ' '.repeat(W + 2)}</Text>
              </Box>
              <Box width={dbWidth} flexShrink={0}>
                <Text inverse={focused} wrap="wrap">
                  {f.databases.includes(r.db) ? theme.glyphs.checked : theme.glyphs.unchecked} {r.db}
                </Text>
              </Box>
            </Box>
          );
      }
    };
    return (
      <Screen title={`${t.schedule.jobTitle}: ${f.name}`} help={t.help.jobForm}>
        <Box>
          {/* The form keeps its width: a long error in the preview wraps beside it (it squeezed the form). */}
          <Box flexDirection="column" width={formWidth} flexShrink={0}>
            {top > 0 ? <Text color={theme.colors.muted}> {theme.glyphs.arrowUp}</Text> : null}
            {rows.slice(top, end).map((r, j) => field(r, top + j))}
            {end < rows.length ? <Text color={theme.colors.muted}> {theme.glyphs.arrowDown}</Text> : null}
          </Box>
          <Box flexDirection="column" marginLeft={2} flexShrink={1}>
            <Text bold>{t.schedule.nextRuns}</Text>
            <Text color={theme.colors.muted} wrap="truncate-end">
              {formToWhen(f)}
            </Text>
            {'runs' in p ? (
              p.runs.map((d, i) => (
                <Text key={i}>
                  {formatDate(d)} {t.schedule.weekdays[d.getDay()]?.slice(0, 3)}
                </Text>
              ))
            ) : (
              // Ink's wrap here: the preview column is as wide as what it shows, which a Para would narrow
              <Text color={theme.colors.error} wrap="wrap">
                {t.schedule.invalid}: {p.error}
              </Text>
            )}
          </Box>
        </Box>
        {mode.problem ? <Text color={theme.colors.error}>{mode.problem}</Text> : null}
      </Screen>
    );
  }

  if (mode.name === 'retention') {
    const labels = [t.schedule.keepLast, t.schedule.daily, t.schedule.weekly, t.schedule.monthly, t.schedule.yearly];
    return (
      <Screen title={t.schedule.retention} help={t.help.retentionForm}>
        {labels.map((l, i) => (
          <TextField key={i} label={l} value={mode.values[i] ?? ''} focused={i === mode.row} labelWidth={18} />
        ))}
        {mode.problem ? <Text color={theme.colors.error}>{mode.problem}</Text> : null}
      </Screen>
    );
  }

  const typeW = Math.max(t.list.columns.type.length, ...JOB_TYPES.map((k) => (t.schedule.jobType[k] ?? k).length));
  const dbW = Math.max(t.schedule.dbAll.length, 10);
  const nextW = Math.max(16, t.scheduler.nextRun.length);
  const cols: Column[] = [
    { title: t.schedule.name, width: 10 },
    {
      title: t.scheduler.when,
      width: Math.max(12, Math.min(40, columns - 2 - 11 - (typeW + 1) - (dbW + 1) - nextW - 2)),
    },
    { title: t.list.columns.type, width: typeW },
    { title: t.schedule.databases, width: dbW },
    { title: t.scheduler.nextRun, width: nextW },
  ];
  const rows = jobs.map((j) => {
    const p = preview(j.when, j.timezone ?? '');
    return [
      { text: j.name },
      { text: j.when },
      { text: t.schedule.jobType[j.type] ?? j.type },
      { text: j.databases.includes('*') ? t.schedule.dbAll : j.databases.join(',') },
      'runs' in p ? { text: formatDate(p.runs[0]) } : { text: t.schedule.invalid, color: theme.colors.error },
    ];
  });
  return (
    <Screen title={t.schedule.title} help={t.help.schedule}>
      <Text bold>{t.schedule.jobs}</Text>
      {jobs.length === 0 ? (
        <Text color={theme.colors.warn}>{t.schedule.noJobs}</Text>
      ) : (
        <Table columns={cols} rows={rows} index={nav.index} height={8} />
      )}
      <Box marginTop={1}>
        <Text wrap="wrap">
          <Text bold>{t.schedule.retention}:</Text> {t.schedule.retentionLine(retention)}
        </Text>
      </Box>
      {mode.name === 'saving' ? <Text>{t.schedule.saving}</Text> : null}
      {message ? <Text color={message.ok ? theme.colors.ok : theme.colors.error}>{message.text}</Text> : null}
      {dirty ? <Text color={theme.colors.warn}>{discardAsked ? t.schedule.discard : t.schedule.unsaved}</Text> : null}
      {error ? <ErrorBox error={error} /> : null}
    </Screen>
  );
}

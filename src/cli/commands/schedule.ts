import { Option, type Command } from 'commander';
import { ConfigError, LockHeldError, UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { ProgressEvent } from '../../core/events.js';
import type { ScheduleJob } from '../../core/types.js';
import type { DestinationRetentionOutcome } from '../../engine/remote-prune.js';
import { resolveConfigPath } from '../../config/load.js';
import { applyPreset, removeJob, upsertJob, type EditResult, type JobEdit } from '../../scheduler/edit.js';
import { createEngineScheduler, jobDatabases } from '../../scheduler/run-job.js';
import type { SchedulerLogEntry } from '../../scheduler/scheduler.js';
import { lastRunUnfinished, readSchedulerState, type JobState } from '../../scheduler/state.js';
import { JOB_TYPES, PRESETS, nextRuns, toCronPattern } from '../../scheduler/when.js';
import { addCommonOptions, collect, runAction, type CommandIO } from '../context.js';
import { formatBytes, formatDuration, table } from '../format.js';
import type { OptionSpec } from '../options.js';
import { markTerminalClosed, terminalClosed } from '../terminal.js';

/**
 * `respaldo schedule` (jobs and their next runs), `respaldo schedule set|remove` (edit jobs in the
 * config file) and `respaldo scheduler` (the foreground scheduler).
 */

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** `Mon 2026-11-23 02:00 CET` in the job's zone (or the machine's). */
export function formatWhen(at: Date | string | null, timeZone?: string): string {
  if (!at) return '-';
  const key = timeZone ?? '';
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    dateFormats.set(key, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  const secs = p.second && p.second !== '00' ? `:${p.second}` : '';
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${secs} ${p.timeZoneName}`;
}

function describeJob(job: ScheduleJob, dbNames: string[]): string {
  const dbs = job.databases.includes('*')
    ? `all databases (${dbNames.join(', ') || 'none'})`
    : job.databases.join(', ');
  if (job.type === 'verify') return `verify the newest set of ${dbs}`;
  if (job.type === 'drill') return `restore drill of the newest set of ${dbs}`;
  return `${job.type} backup of ${dbs}${job.files ? ' + files' : ''}`;
}

function lastRunLine(s: JobState | undefined, tz?: string): string {
  if (!s?.lastRun) return 'never run by the scheduler';
  const counts = `(${s.successes} ok, ${s.failures} failed)`;
  if (lastRunUnfinished(s)) return `${formatWhen(s.lastRun, tz)}: running or interrupted, no end recorded ${counts}`;
  const dur = s.lastDurationMs !== null ? ` in ${formatDuration(s.lastDurationMs)}` : '';
  const set = s.lastSetId ? `, set ${s.lastSetId}` : '';
  const bytes = s.lastBytes ? `, ${formatBytes(s.lastBytes)}` : '';
  return `${formatWhen(s.lastRun, tz)}: ${s.lastOutcome ?? 'running or interrupted'}${dur}${set}${bytes} (${s.successes} ok, ${s.failures} failed)${s.lastError ? `\n      ${s.lastError}` : ''}`;
}

function printEdit(io: CommandIO, r: EditResult): void {
  if (io.json) {
    io.printJson(r);
    return;
  }
  if (r.action === 'preset') {
    io.out(`Schedule replaced with the tiered plan in ${r.file}:`);
    const rows = r.jobs.map((j) => [`  ${j.name}`, j.type, `${j.when}${j.timezone ? ` (${j.timezone})` : ''}`]);
    io.out(table(rows)); // columns as wide as their longest word ("differential" ran into its time)
    const gone = (r.replaced ?? []).filter((old) => !r.jobs.some((j) => j.name === old.name));
    if (gone.length) io.out(`Removed: ${gone.map((j) => `${j.name} (${j.when})`).join(', ')}`);
  } else {
    const j = r.job!;
    io.out(
      `Job ${j.name} ${r.action} in ${r.file}${r.action === 'removed' ? '' : `: ${j.type}, ${j.when}${j.timezone ? ` (${j.timezone})` : ''}, databases ${j.databases.join(', ')}, files ${j.files ? 'yes' : 'no'}`}.`,
    );
  }
  io.out('A running `respaldo scheduler` reads the config at start: restart it (or the service) to apply.');
}

/** Human line for one scheduler log entry (the `--json` mode prints the entry itself). */
export function describeLogEntry(e: SchedulerLogEntry): string {
  const t = formatWhen(e.time);
  switch (e.event) {
    case 'scheduler-start':
      return `${t}  scheduler started with ${(e.jobs as unknown[]).length} job(s): ${(e.jobs as Array<{ name: string; nextRun: string | null }>).map((j) => `${j.name} next ${formatWhen(j.nextRun)}`).join('; ')}`;
    case 'catch-up':
      if (e.after) return `${t}  ${String(e.message)}`;
      return `${t}  ${String(e.message)} (missed while the scheduler was not running; order: monthly → weekly → daily, then verify, drills last)`;
    case 'job-start':
      return `${t}  ${String(e.job)}: started (${String(e.reason)}, ${String(e.type)})`;
    case 'job-end':
      return `${t}  ${String(e.job)}: ${String(e.outcome).toUpperCase()}${e.setId ? ` set ${String(e.setId)}` : ''}${typeof e.bytes === 'number' ? ` ${formatBytes(e.bytes)}` : ''} in ${formatDuration(Number(e.durationMs))}${e.error ? `\n      ${String(e.error)}` : ''}`;
    case 'job-skipped':
      return `${t}  ${String(e.message)}`;
    case 'retention':
      return `${t}  retention: ${(e.removed as string[]).length ? `removed ${(e.removed as string[]).join(', ')}` : 'nothing to remove'}, ${String(e.kept)} set(s) kept${heldNotCopied(e.notCopied)}${offsiteRetention(e.offsite)}`;
    case 'retention-skipped':
      return `${t}  retention: ${String(e.message)}`;
    case 'retention-failed':
      return `${t}  retention FAILED: ${String(e.error)}${offsiteRetention(e.offsite)}${e.hint ? `\n      hint: ${String(e.hint)}` : ''}`;
    case 'scheduler-stopping':
    case 'scheduler-aborting':
      return `${t}  ${String(e.message)}`;
    case 'scheduler-stop':
      return `${t}  scheduler stopped (exit ${String(e.exitCode)})`;
    default:
      return `${t}  ${e.event}${e.message ? `: ${String(e.message)}` : ''}${e.error ? `: ${String(e.error)}` : ''}`;
  }
}

/** The options of `schedule set`. */
const SET_OPTIONS = {
  when: 'text',
  type: { choices: JOB_TYPES },
  db: 'list',
  allDatabases: 'flag',
  files: 'switch',
  timezone: 'text',
  localTime: 'flag',
  remove: 'flag',
  preset: { choices: PRESETS },
} as const satisfies OptionSpec;

export function register(program: Command): void {
  const schedule = addCommonOptions(
    program
      .command('schedule')
      .description('show the scheduled jobs and their next run times (edit them with `schedule set`)')
      .addOption(new Option('-n, --count <n>', 'how many next runs per job').default('5')),
  ).action(
    runAction({ count: { int: [1, 100] } }, async (io, opts) => {
      const cfg = await io.config();
      const count = opts.count ?? 5;
      const state = readSchedulerState(cfg.backupDir);
      const now = new Date();
      const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const jobs = cfg.schedule.jobs.map((j) => ({
        ...j,
        cron: toCronPattern(j.when),
        timezone: j.timezone ?? null,
        databasesResolved: jobDatabases(cfg, j),
        nextRuns: nextRuns(j, count, now).map((d) => d.toISOString()),
        state: state.jobs[j.name] ?? null,
      }));
      if (io.json) {
        io.printJson({ configFile: cfg.file, localTimeZone: localZone, scheduler: state.scheduler, jobs });
        return;
      }
      if (jobs.length === 0) {
        io.out(`No scheduled jobs in ${cfg.file}.`);
        io.out(
          'Add one: respaldo schedule set daily --when "daily at 02:00"   (or: respaldo schedule set --preset tiered)',
        );
        return;
      }
      io.out(`Schedule in ${cfg.file} (machine time zone ${localZone}):`);
      for (const j of jobs) {
        io.out('');
        io.out(
          `${j.name}: ${describeJob(
            { ...j, timezone: j.timezone ?? undefined },
            cfg.databases.map((d) => d.name),
          )}`,
        );
        io.out(
          `  when: ${j.when}${j.when.trim() !== j.cron ? `  (cron ${j.cron})` : ''}${j.timezone ? `  in ${j.timezone}` : ''}`,
        );
        io.out(
          `  next: ${j.nextRuns.map((d) => formatWhen(d, j.timezone ?? undefined)).join('\n        ') || 'never'}`,
        );
        io.out(`  last: ${lastRunLine(j.state ?? undefined, j.timezone ?? undefined)}`);
      }
      if (state.scheduler)
        io.out(
          `\nScheduler: pid ${state.scheduler.pid} on ${state.scheduler.host}, started ${formatWhen(state.scheduler.startedAt)}, ${state.scheduler.running ? 'running (per its state file)' : 'stopped'}.`,
        );
    }),
  );

  addCommonOptions(
    schedule
      .command('set')
      .description('add or change a job (or --remove it, or --preset tiered to replace all jobs) in the config file')
      .argument('[name]', 'job name (letters, digits, _ . -)')
      .option(
        '--when <expr>',
        'cron expression, or "daily at 02:00", "weekly on sunday at 23:30", "monthly on day 1 at 00:00"',
      )
      .addOption(new Option('--type <type>', 'what the job does').choices([...JOB_TYPES]))
      .option('--db <name>', 'only this database (repeatable); default all', collect)
      .option('--all-databases', 'all databases of the config (databases: ["*"])')
      .option('--files', 'also store config and application files')
      .option('--no-files', 'databases only')
      .option('--timezone <zone>', "IANA time zone for the times (default: the machine's)")
      .option('--local-time', "remove the job's time zone (use the machine's)")
      .option('--remove', 'remove the job')
      .addOption(
        new Option(
          '--preset <name>',
          'replace all jobs with a preset: full monthly (day 1 00:00), differential weekly (Sunday 23:30), incremental daily (23:00), verify (daily 01:00)',
        ).choices([...PRESETS]),
      ),
  ).action(
    runAction(SET_OPTIONS, async (io, opts, name: string | undefined) => {
      const file = resolveConfigPath(opts.config ? { configPath: opts.config } : {});
      if (opts.preset) {
        if (name || opts.when || opts.type || opts.remove)
          throw new UsageError(
            '--preset replaces the whole schedule; it takes no job name, --when, --type or --remove.',
          );
        const r = await applyPreset(file, opts.preset, {
          ...(opts.db ? { databases: opts.db } : {}),
          ...(opts.files !== undefined ? { files: opts.files } : {}),
          ...(opts.timezone ? { timezone: opts.timezone } : {}),
        });
        printEdit(io, r);
        return EXIT.ok;
      }
      if (!name)
        throw new UsageError(
          'Name the job to set, or use --preset tiered.',
          'For example: respaldo schedule set daily --when "daily at 02:00".',
        );
      if (opts.remove) {
        if (opts.when || opts.type || opts.db || opts.timezone)
          throw new UsageError('--remove takes no other job options.');
        printEdit(io, await removeJob(file, name));
        return EXIT.ok;
      }
      if (opts.db && opts.allDatabases) throw new UsageError('Use either --db or --all-databases.');
      if (opts.timezone && opts.localTime) throw new UsageError('Use either --timezone or --local-time.');
      const edit: JobEdit = {
        ...(opts.when ? { when: opts.when } : {}),
        ...(opts.type ? { type: opts.type } : {}),
        ...(opts.db ? { databases: opts.db } : opts.allDatabases ? { databases: ['*'] } : {}),
        ...(opts.files !== undefined ? { files: opts.files } : {}),
        ...(opts.timezone ? { timezone: opts.timezone } : opts.localTime ? { timezone: null } : {}),
      };
      printEdit(io, await upsertJob(file, name, edit));
      return EXIT.ok;
    }),
  );

  addCommonOptions(
    schedule.command('remove').description('remove a job from the config file').argument('<name>', 'job name'),
  ).action(
    runAction({}, async (io, opts, name: string) => {
      const file = resolveConfigPath(opts.config ? { configPath: opts.config } : {});
      printEdit(io, await removeJob(file, name));
    }),
  );

  addCommonOptions(
    program
      .command('scheduler')
      .description('run the scheduled jobs in the foreground (Ctrl-C finishes the running job, twice aborts it)')
      .option('--no-catch-up', 'do not run jobs missed while the scheduler was not running')
      .option(
        '--if-not-running',
        'exit 0 saying nothing when a scheduler of this backup folder already runs (for a crontab line run every minute)',
      ),
  ).action(
    runAction({ catchUp: 'negated', ifNotRunning: 'flag' }, async (io, opts) => {
      const cfg = await io.config();
      if (cfg.schedule.jobs.length === 0) {
        throw new ConfigError(
          cfg.file,
          'schedule.jobs',
          'no jobs to run',
          'Add one with `respaldo schedule set daily --when "daily at 02:00"` or `respaldo schedule set --preset tiered`.',
        );
      }
      const scheduler = createEngineScheduler(cfg, { catchUp: opts.catchUp });
      scheduler.on('log', (e: SchedulerLogEntry) =>
        io.json ? io.out(JSON.stringify(e)) : io.out(describeLogEntry(e)),
      );
      scheduler.on('progress', (p: { job: string; event: ProgressEvent }) => io.reporter.emit(p.event));
      // This command owns SIGINT/SIGTERM: the first finishes the running job, the second aborts it. And SIGHUP (the
      // SSH session dropped): it said "stopping safely" and went on running jobs for good, holding the scheduler's
      // lock, so that the operator back on the machine could not start it again. A hang-up finishes the running job
      // and stops; it often comes twice (shell and kernel), so it never aborts the job. Run the scheduler as a
      // service (scripts/install-service.sh) or in tmux for it to outlive a session.
      let signals = 0;
      let hungUp = false;
      const onHangup = (): void => {
        if (hungUp) return;
        hungUp = true;
        markTerminalClosed();
        scheduler.stop(EXIT.interrupted);
      };
      terminalClosed.addEventListener('abort', onHangup, { once: true });
      const onSignal = (sig: NodeJS.Signals): void => {
        if (sig === 'SIGHUP') return onHangup();
        signals++;
        const r = scheduler.stop();
        if (!io.json) {
          if (r === 'finishing')
            io.err(`respaldo: ${sig}: finishing the running job, then stopping. Send it again to abort the job.`);
          else if (r === 'aborting') io.err(`respaldo: ${sig}: aborting the running job (nothing partial is kept).`);
        }
        if (signals >= 3) process.exit(EXIT.interrupted);
      };
      // Added before the others go (a signal pending since the modules loaded is not dropped: see makeSignal).
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.on(sig, onSignal);
        for (const l of process.listeners(sig)) if (l !== onSignal) process.off(sig, l);
      }
      try {
        try {
          await scheduler.start();
        } catch (err) {
          // Cron starts it every minute to keep one running: the one that runs is the answer, and a line a minute
          // saying so grew its output file by about 100 MB a year.
          if (opts.ifNotRunning && err instanceof LockHeldError) return EXIT.ok;
          throw err;
        }
        const code = await scheduler.done;
        return code;
      } finally {
        for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
        terminalClosed.removeEventListener('abort', onHangup);
      }
    }),
  );
}

/** The sets the local retention kept only until they are copied off-site (PruneResult.notCopied). */
function heldNotCopied(ids: unknown): string {
  if (!Array.isArray(ids) || !ids.length) return '';
  return ` (${ids.length} until copied off-site: ${ids.map(String).join(', ')})`;
}

/** The destinations' part of a `retention` log line: one line per destination. */
function offsiteRetention(offsite: unknown): string {
  if (!Array.isArray(offsite)) return '';
  return (offsite as DestinationRetentionOutcome[])
    .map((o) => {
      const what = o.removed.length ? `removed ${o.removed.join(', ')}` : 'nothing removed';
      if (o.outcome === 'skipped') return `\n      at ${o.destination}: skipped, ${o.reason ?? ''}`;
      if (o.outcome === 'failed') return `\n      at ${o.destination}: FAILED (${what}): ${o.error ?? ''}`;
      return `\n      at ${o.destination}: ${what}, ${o.kept} set(s) kept`;
    })
    .join('');
}

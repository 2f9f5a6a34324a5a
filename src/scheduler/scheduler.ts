import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorMessage, isRespaldoError, InterruptedError } from '../core/errors.js';
import type { ProgressEvent, Reporter } from '../core/events.js';
import type { ScheduleJob, SetSummary } from '../core/types.js';
import { acquireLock, heldLock, type LockWait } from '../engine/lock.js';
import type { LockHeldError } from '../core/errors.js';
import { writeLog } from '../engine/log.js';
import {
  emptyJobState,
  JOB_SUCCEEDED,
  emptyState,
  readSchedulerState,
  writeSchedulerState,
  type JobOutcome,
  type JobState,
  type SchedulerState,
  SCHEDULER_LOCK_DIR,
} from './state.js';
import { catchUpOrder, lastSuccesses, planCatchUp, type CatchUpPlan, type CatchUpRun } from './catch-up.js';
import { nextRun } from './when.js';
import { formatDuration } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';

/**
 * The foreground scheduler (`respaldo scheduler`, menu option 5).
 *
 * - Times come from croner patterns (see when.ts); waiting goes through an injected Clock, so
 *   tests drive time without real waits.
 * - One job at a time. Jobs due at the same time run one after the other (longest period first,
 *   verify, drills last); a job that comes due while another runs waits for it (`job-queued`) and
 *   runs next, once. A tick of the job that is running or already waiting is skipped and logged
 *   (`job-skipped`). A job that finds the backup folder's lock held by another live process (a `create`
 *   from another terminal, a restore) waits for it where it takes it (`job-waiting`, see lockWaiter), then goes
 *   on; past LOCK_WAIT_MS it fails on the lock. Only one scheduler runs per backup folder (lock
 *   `backupDir/.scheduler/`).
 * - Catch-up at start (planned by `planCatchUp`, catch-up.ts): a job whose latest scheduled time has
 *   passed without a successful run of that job (state file, or a completed set whose manifest
 *   names the job) runs once now, unless a longer-period job covering it (same or stronger type,
 *   its databases and files) ran since or runs now: the tiered preset catches up with one full
 *   backup and the verify. Backups first, longest period first; verify jobs last. Logged as
 *   `catch-up` (with what each run satisfies).
 * - Retention runs after each backup job whose set is `completed`; never after partial, failed
 *   or interrupted runs, and never for verify jobs.
 * - stop(): the first call lets the running job finish and then resolves `done` with 0 (or the code it is
 *   given: 130 after a hang-up); the second aborts it (its AbortSignal) and resolves with 130.
 * - Every start, end, outcome, bytes and duration is logged as a JSON line to
 *   `backupDir/logs/backup_YYYY-MM-DD.log` and emitted as a `log` event.
 *
 * Events: `log` (SchedulerLogEntry), `job-start` / `job-end` (JobEndEvent), `progress`
 * (ProgressEvent from the engine, with the job name), `state` (SchedulerStatus), `stopped` (code).
 *
 * Why one file of about 690 lines: the loop, its queue of waiting jobs, its locks, its state file and the handling of
 * stops and signals share the clock and the lock; the pure parts are in when.ts and catch-up.ts, a job's run in
 * run-job.ts.
 */

/** The folder under backupDir whose lock only one scheduler holds. */

/** Time source and timers. `systemClock` is the real one. */
export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * A timer looks at the wall clock at least this often: Node's timers count monotonic time, which stands still while
 * the machine sleeps and ignores a clock stepped by NTP (a VM resumed, a board without RTC that boots with an old
 * date), so a job due at 02:00 ran as many hours late as the clock had jumped.
 */
const CLOCK_CHECK_MS = 60_000;
/** How often a job waiting for the backup folder's lock looks again. */
export const LOCK_POLL_MS = 5_000;
/** How long a job waits for the backup folder's lock (a manual backup of hours) before it fails on it. */
export const LOCK_WAIT_MS = 2 * 3_600_000;

/**
 * Real time. Waits are chunked and fire when the wall clock reaches their time (see CLOCK_CHECK_MS; chunks also keep
 * Node timers from overflowing past ~24.8 days).
 */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const box: { t?: NodeJS.Timeout } = {};
    const target = Date.now() + ms;
    const arm = (): void => {
      const left = target - Date.now();
      box.t = setTimeout(left > CLOCK_CHECK_MS ? arm : fn, Math.max(0, Math.min(left, CLOCK_CHECK_MS)));
    };
    arm();
    return box;
  },
  clearTimeout(handle) {
    const box = handle as { t?: NodeJS.Timeout };
    if (box?.t) clearTimeout(box.t);
  },
};

export type RunReason = 'scheduled' | 'catch-up';

/** What running one job produced. */
export interface JobRunResult {
  outcome: JobOutcome;
  /** Set created (backup) or the sets verified (verify, comma-separated ids in `setIds`). */
  setId?: string | null;
  setIds?: string[];
  bytes?: number;
  error?: string;
}

export interface RunJobContext {
  signal: AbortSignal;
  reporter: Reporter;
  reason: RunReason;
  /**
   * How the job waits for the backup folder's lock held by another process: handed to the engine (see lockWaiter).
   * The scheduler always gives it; without it, a held lock fails the job at once.
   */
  lockWait?: LockWait;
}

/** Runs one job for real (see `engineJobRunner` in run-job.ts) or, in tests, a fake. */
export type RunJobFn = (job: ScheduleJob, ctx: RunJobContext) => Promise<JobRunResult>;

/** Applies retention after a successful backup; returns the ids removed. */
export type RetentionFn = (ctx: {
  job: ScheduleJob;
  setId: string | null;
  reporter: Reporter;
  lockWait?: LockWait;
}) => Promise<{ removed: string[]; kept: number; notCopied?: string[]; offsite?: unknown[] }>;

export interface SchedulerOptions {
  backupDir: string;
  jobs: ScheduleJob[];
  runJob: RunJobFn;
  applyRetention?: RetentionFn;
  /** Sets in the backup folder, newest first (catch-up evidence). Default: none. */
  listSets?: () => Promise<SetSummary[]>;
  clock?: Clock;
  /** Run missed jobs at start (default true). */
  catchUp?: boolean;
  /** Values masked in the log. */
  secrets?: string[];
  /** Where log lines go besides the `log` event; default the daily log file in backupDir. */
  writeLogLine?: (entry: SchedulerLogEntry) => void;
  /** Hold `backupDir/.scheduler/.respaldo.lock` so only one scheduler runs per folder (default true). */
  singleInstance?: boolean;
}

export interface SchedulerLogEntry {
  time: string;
  event: string;
  /** `job-end` of a job whose error has a phrase: on the `log` event only (the menu says it), never in the file. */
  errorPhrase?: Phrase;
  [field: string]: unknown;
}

export interface JobEndEvent {
  job: string;
  reason: RunReason;
  outcome: JobOutcome;
  setId: string | null;
  bytes: number | null;
  durationMs: number;
  error: string | null;
}

/** A snapshot for the menu and `status`. */
export interface SchedulerStatus {
  running: string | null;
  /** Jobs that came due while another ran, in the order they will run. */
  waiting: string[];
  stopping: 'no' | 'finishing' | 'aborting';
  jobs: Array<{ name: string; when: string; type: ScheduleJob['type']; nextRun: string | null } & JobState>;
  totals: { successes: number; failures: number; skipped: number };
}

export { catchUpOrder };

/** The job running: `controller` aborts it (second stop); `stopWaiting` ends its wait for the lock (first stop). */
interface Running {
  job: ScheduleJob;
  controller: AbortController;
  stopWaiting: AbortController;
  promise: Promise<void>;
}

const describeRun = (r: CatchUpRun): string =>
  r.job + (r.satisfies.length ? ` (covers ${r.satisfies.join(', ')})` : '');

export class Scheduler extends EventEmitter {
  readonly backupDir: string;
  readonly jobs: ScheduleJob[];
  private readonly clock: Clock;
  private readonly opts: SchedulerOptions;
  private readonly next = new Map<string, Date | null>();
  private state: SchedulerState = emptyState();
  private timer: unknown = null;
  private current: Running | null = null;
  /** Jobs due while another ran, run next in this order (see tick). */
  private waiting: ScheduleJob[] = [];
  private stopping: 'no' | 'finishing' | 'aborting' = 'no';
  /** The exit code of a graceful stop (see stop). */
  private stopCode = 0;
  private started = false;
  private finished = false;
  private stateWrites: Promise<void> = Promise.resolve();
  private releaseLock: (() => Promise<void>) | null = null;
  private resolveDone!: (code: number) => void;
  /** Resolves with the exit code (0 after a graceful stop unless stop() named another, 130 after an abort). */
  readonly done: Promise<number>;

  constructor(opts: SchedulerOptions) {
    super();
    this.opts = opts;
    this.backupDir = opts.backupDir;
    this.jobs = opts.jobs;
    this.clock = opts.clock ?? systemClock;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /**
   * The error start() would fail with now because another scheduler runs on this backup folder (its live process
   * holds the scheduler lock), else null; takes nothing. The menu says it before it shows the catch-up plan.
   */
  heldByAnother(): LockHeldError | null {
    return this.opts.singleInstance === false ? null : heldLock(join(this.backupDir, SCHEDULER_LOCK_DIR));
  }

  /** Loads the state, runs catch-up (in the background of the returned promise) and arms the timers. */
  async start(): Promise<void> {
    if (this.started) throw new Error('Scheduler already started');
    this.started = true;
    if (this.opts.singleInstance !== false) {
      this.releaseLock = await acquireLock(join(this.backupDir, SCHEDULER_LOCK_DIR), 'scheduler');
      if (this.finished) {
        await this.releaseLock();
        return;
      }
    }
    this.state = readSchedulerState(this.backupDir);
    const now = this.clock.now();
    for (const job of this.jobs) {
      this.state.jobs[job.name] = { ...emptyJobState(), ...this.state.jobs[job.name] };
      this.next.set(job.name, nextRun(job, now));
      this.state.jobs[job.name]!.nextRun = this.next.get(job.name)?.toISOString() ?? null;
    }
    this.state.scheduler = { pid: process.pid, host: hostname(), startedAt: now.toISOString(), running: true };
    this.log('scheduler-start', {
      jobs: this.jobs.map((j) => ({
        name: j.name,
        when: j.when,
        type: j.type,
        nextRun: this.next.get(j.name)?.toISOString() ?? null,
      })),
    });
    await this.saveState();
    const plan = this.opts.catchUp === false ? null : await this.planCatchUp(now);
    if (this.stopping !== 'no' || this.finished) return;
    this.arm();
    this.emitState();
    if (plan && plan.runs.length > 0) {
      this.log('catch-up', {
        jobs: plan.runs.map((r) => r.job),
        order: 'longest period first (monthly → weekly → daily), then verify, drills last',
        missed: plan.runs.map((r) => ({ job: r.job, scheduledAt: r.missedAt })),
        satisfied: plan.satisfied,
        message: `catch-up: running ${plan.runs.map(describeRun).join(', ')} once now`,
      });
      void this.runCatchUp(plan);
    }
  }

  /**
   * What catch-up would run now (see catch-up.ts): reads the state file and the sets. Usable before
   * start() to show the operator the plan; start() plans again with the same inputs.
   */
  async planCatchUp(now: Date = this.clock.now()): Promise<CatchUpPlan> {
    let sets: SetSummary[] = [];
    try {
      sets = this.opts.listSets ? await this.opts.listSets() : [];
    } catch (err) {
      this.log('catch-up-warning', { message: `could not list sets: ${errorMessage(err)}` });
    }
    const state = this.started ? this.state : readSchedulerState(this.backupDir);
    return planCatchUp({ jobs: this.jobs, lastSuccess: lastSuccesses(this.jobs, state, sets), now });
  }

  /**
   * First call: finish the running job, then stop with `exitCode` (default 0; a hang-up stops with 130, and its
   * `scheduler-stop` line said 0). Second call: abort it (code 130).
   */
  stop(exitCode = 0): 'finishing' | 'aborting' | 'stopped' {
    if (this.finished) return 'stopped';
    if (this.stopping === 'no') {
      this.stopping = 'finishing';
      this.stopCode = exitCode;
      this.disarm();
      this.dropWaiting();
      this.current?.stopWaiting.abort(new InterruptedError(phrase('error.stoppedWaiting')));
      this.log('scheduler-stopping', {
        waitingFor: this.current?.job.name ?? null,
        message: this.current
          ? `finishing ${this.current.job.name}, then stopping; signal again to abort it`
          : 'stopping',
      });
      if (!this.current) void this.finish(this.stopCode);
      this.emitState();
      return this.current ? 'finishing' : 'stopped';
    }
    if (this.stopping === 'finishing' && this.current) {
      this.stopping = 'aborting';
      this.log('scheduler-aborting', { job: this.current.job.name, message: `aborting ${this.current.job.name}` });
      this.current.controller.abort(new InterruptedError());
      this.emitState();
      return 'aborting';
    }
    return this.stopping === 'aborting' ? 'aborting' : 'stopped';
  }

  /** Jobs, next runs, last outcomes and counts (for the menu and `status`). */
  status(): SchedulerStatus {
    let successes = 0;
    let failures = 0;
    let skipped = 0;
    const jobs = this.jobs.map((j) => {
      const s = this.state.jobs[j.name] ?? emptyJobState();
      successes += s.successes;
      failures += s.failures;
      skipped += s.skipped;
      return { name: j.name, when: j.when, type: j.type, ...s, nextRun: this.next.get(j.name)?.toISOString() ?? null };
    });
    return {
      running: this.current?.job.name ?? null,
      waiting: this.waiting.map((j) => j.name),
      stopping: this.stopping,
      jobs,
      totals: { successes, failures, skipped },
    };
  }

  /** Runs a job now through the same one-at-a-time guard (returns false when busy or stopping). */
  runNow(job: ScheduleJob, reason: RunReason = 'scheduled'): Promise<void> | false {
    if (this.stopping !== 'no' || this.finished) return false;
    if (this.current) {
      const s = this.state.jobs[job.name];
      if (s) s.skipped += 1;
      this.log('job-skipped', {
        job: job.name,
        reason,
        why: 'busy',
        running: this.current.job.name,
        message: `${job.name} skipped: ${this.current.job.name} is still running`,
      });
      this.emitState();
      return false;
    }
    const controller = new AbortController();
    const current: Running = { job, controller, stopWaiting: new AbortController(), promise: Promise.resolve() };
    this.current = current;
    current.promise = Promise.resolve()
      .then(() => this.execute(current, reason))
      .finally(() => {
        this.current = null;
        if (this.stopping !== 'no') void this.finish(this.stopping === 'aborting' ? 130 : this.stopCode);
        else this.runWaiting();
        this.emitState();
      });
    return current.promise;
  }

  /** Starts the first waiting job when nothing runs (after each run, and after a tick). */
  private runWaiting(): void {
    if (this.current || this.stopping !== 'no' || this.finished) return;
    const job = this.waiting.shift();
    if (job) void this.runNow(job, 'scheduled');
  }

  /** On stop: the waiting jobs do not run (the next start catches them up), and the log says so. */
  private dropWaiting(): void {
    for (const job of this.waiting.splice(0)) {
      const s = this.state.jobs[job.name];
      if (s) s.skipped += 1;
      this.log('job-skipped', {
        job: job.name,
        reason: 'scheduled',
        why: 'stopping',
        running: this.current?.job.name ?? null,
        message: `${job.name} not run: the scheduler is stopping (the next start catches it up)`,
      });
    }
  }

  /**
   * Runs the catch-up plan in order, one at a time. When a run that satisfies other jobs does not
   * complete, those jobs are planned again among themselves and run next (nothing stays missed
   * because the covering run failed).
   */
  private async runCatchUp(plan: CatchUpPlan): Promise<void> {
    const queue = [...plan.runs];
    for (let r = queue.shift(); r; r = queue.shift()) {
      const job = this.jobs.find((j) => j.name === r!.job);
      if (!job) continue;
      if (this.stopping !== 'no') return;
      while (this.current) await this.current.promise;
      if (this.stopping !== 'no') return;
      const run = this.runNow(job, 'catch-up');
      if (run) await run;
      const ok = this.state.jobs[job.name]?.lastOutcome === 'completed';
      if (ok || r.satisfies.length === 0 || this.stopping !== 'no') continue;
      const rest = this.jobs.filter((j) => r!.satisfies.includes(j.name));
      const lastSuccess = Object.fromEntries(rest.map((j) => [j.name, this.state.jobs[j.name]?.lastSuccess ?? null]));
      const again = planCatchUp({ jobs: rest, lastSuccess, now: this.clock.now() });
      if (again.runs.length === 0) continue;
      this.log('catch-up', {
        jobs: again.runs.map((x) => x.job),
        after: job.name,
        message: `catch-up: ${job.name} did not complete; running ${again.runs.map((x) => x.job).join(', ')} instead`,
      });
      queue.unshift(...again.runs);
    }
  }

  private arm(): void {
    this.disarm();
    if (this.stopping !== 'no' || this.finished) return;
    let earliest: number | null = null;
    for (const d of this.next.values()) if (d && (earliest === null || d.getTime() < earliest)) earliest = d.getTime();
    if (earliest === null) return;
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, earliest - this.clock.now().getTime()));
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    this.timer = null;
    if (this.stopping !== 'no' || this.finished) return;
    const now = this.clock.now();
    const due = this.jobs.filter((j) => {
      const d = this.next.get(j.name);
      return d && d.getTime() <= now.getTime();
    });
    for (const job of due) {
      const was = this.next.get(job.name)!;
      const from = now.getTime() > was.getTime() ? now : was;
      const n = nextRun(job, from);
      this.next.set(job.name, n);
      const s = this.state.jobs[job.name];
      if (s) s.nextRun = n?.toISOString() ?? null;
    }
    // Due together: one after the other, longest period first. Due while another runs: waits for it, once.
    const added: ScheduleJob[] = [];
    for (const job of catchUpOrder(due, now)) {
      const busy =
        this.current?.job.name === job.name
          ? 'is still running'
          : this.waiting.includes(job)
            ? 'is already waiting'
            : null;
      if (!busy) {
        this.waiting.push(job);
        added.push(job);
        continue;
      }
      const s = this.state.jobs[job.name];
      if (s) s.skipped += 1;
      this.log('job-skipped', {
        job: job.name,
        reason: 'scheduled',
        why: busy === 'is still running' ? 'running' : 'waiting',
        running: this.current?.job.name ?? null,
        message: `${job.name} skipped: it ${busy}`,
      });
    }
    this.runWaiting();
    for (const job of added.filter((j) => this.waiting.includes(j)))
      this.log('job-queued', {
        job: job.name,
        running: this.current?.job.name ?? null,
        message: `${job.name} waits for ${this.current?.job.name ?? 'the job before it'} to finish`,
      });
    if (due.length > 0) void this.saveState();
    this.emitState();
    this.arm();
  }

  private async execute(running: Running, reason: RunReason): Promise<void> {
    const { job, controller } = running;
    const started = this.clock.now();
    const st = (this.state.jobs[job.name] ??= emptyJobState());
    st.lastRun = started.toISOString();
    this.log('job-start', {
      job: job.name,
      type: job.type,
      databases: job.databases,
      files: job.files,
      reason,
      setId: null,
    });
    this.emit('job-start', { job: job.name, reason, type: job.type });
    this.emitState();
    await this.saveState();
    const reporter: Reporter = { emit: (e: ProgressEvent) => this.emit('progress', { job: job.name, event: e }) };
    const lockWait = this.lockWaiter(job, AbortSignal.any([controller.signal, running.stopWaiting.signal]));
    let result: JobRunResult;
    let errorPhrase: Phrase | undefined; // a job's error with a phrase (and no more): the menu says it in its language
    try {
      if (controller.signal.aborted) throw controller.signal.reason;
      result = await this.opts.runJob(job, { signal: controller.signal, reporter, reason, lockWait });
    } catch (err) {
      const interrupted = controller.signal.aborted || (isRespaldoError(err) && err.kind === 'interrupted');
      result = { outcome: interrupted ? 'interrupted' : 'failed', error: errorMessage(err) };
      if (isRespaldoError(err) && !err.phrases?.aftermath) errorPhrase = err.phrases?.message;
    }
    if (controller.signal.aborted && result.outcome === 'failed') result = { ...result, outcome: 'interrupted' };
    const ended = this.clock.now();
    const durationMs = ended.getTime() - started.getTime();
    const ok = JOB_SUCCEEDED.includes(result.outcome);
    Object.assign(st, {
      lastEnd: ended.toISOString(),
      lastOutcome: result.outcome,
      lastDurationMs: durationMs,
      lastSetId: result.setId ?? result.setIds?.join(',') ?? null,
      lastBytes: result.bytes ?? null,
      lastError: result.error ?? null,
      ...(ok ? { lastSuccess: started.toISOString(), successes: st.successes + 1 } : { failures: st.failures + 1 }),
    });
    const end: JobEndEvent = {
      job: job.name,
      reason,
      outcome: result.outcome,
      setId: result.setId ?? null,
      bytes: result.bytes ?? null,
      durationMs,
      error: result.error ?? null,
    };
    this.log('job-end', { ...end, ...(result.setIds ? { setIds: result.setIds } : {}) }, { errorPhrase });
    this.emit('job-end', end);
    this.emitState(); // the job's outcome shows at once; retention still runs before the job is done
    await this.saveState();
    if (job.type === 'verify' || job.type === 'drill') return;
    if (result.outcome !== 'completed') {
      this.log('retention-skipped', {
        job: job.name,
        setId: result.setId ?? null,
        outcome: result.outcome,
        message: `no pruning: the run ended ${result.outcome}`,
      });
    } else if (this.stopping === 'aborting') {
      this.log('retention-skipped', {
        job: job.name,
        setId: result.setId ?? null,
        outcome: 'aborting',
        message: 'no pruning: the scheduler is being aborted',
      });
    } else if (this.opts.applyRetention) {
      try {
        const r = await this.opts.applyRetention({ job, setId: result.setId ?? null, reporter, lockWait });
        const offsite = r.offsite ? { offsite: r.offsite } : {};
        this.log('retention', {
          job: job.name,
          setId: result.setId ?? null,
          removed: r.removed,
          kept: r.kept,
          ...(r.notCopied?.length ? { notCopied: r.notCopied } : {}),
          ...offsite,
        });
      } catch (err) {
        const done = err as { removed?: unknown; offsite?: unknown };
        this.log(
          'retention-failed',
          {
            job: job.name,
            setId: result.setId ?? null,
            error: errorMessage(err),
            ...(Array.isArray(done.removed) ? { removed: done.removed } : {}),
            ...(Array.isArray(done.offsite) ? { offsite: done.offsite } : {}),
            hint: isRespaldoError(err) ? (err.hint ?? null) : null,
          },
          // why prune refused, said by the menu in its language
          { errorPhrase: isRespaldoError(err) && !err.phrases?.aftermath ? err.phrases?.message : undefined },
        );
      }
    }
  }

  /**
   * How `job` waits while another live respaldo process (a `create` from a terminal, a restore, a prune) holds the
   * backup folder's lock: the engine calls it each time its take of the lock finds a live holder, and it looks again
   * after LOCK_POLL_MS (a job due then failed at once, and its alert said to remove the lock of a live process; a
   * look before the job, then a take inside it, let another process take the lock in between, and the job failed
   * with a false alert). Each new holder is logged. Past LOCK_WAIT_MS of one wait it gives up with the holder's
   * LockHeldError; a stop ends the wait (interrupted). Nothing is alerted while it waits.
   */
  private lockWaiter(job: ScheduleJob, signal: AbortSignal): LockWait {
    let since: number | null = null;
    let holder: string | null = null;
    const every = `every ${LOCK_POLL_MS / 1000} s, for up to ${formatDuration(LOCK_WAIT_MS)}`;
    return {
      held: async (held: LockHeldError) => {
        if (signal.aborted) throw signal.reason;
        const now = this.clock.now().getTime();
        since ??= now;
        if (held.message !== holder) {
          holder = held.message;
          this.log('job-waiting', {
            job: job.name,
            holder: held.message,
            message: `${job.name} waits for the backup folder: ${held.message} (looking again ${every})`,
          });
        }
        const waited = now - since;
        if (waited >= LOCK_WAIT_MS) {
          this.log('job-wait-over', {
            job: job.name,
            waitedMs: waited,
            message: `${job.name}: the backup folder is still busy after ${formatDuration(waited)}; waiting no longer`,
          });
          since = null;
          holder = null;
          throw held;
        }
        await this.sleep(LOCK_POLL_MS, signal);
      },
      free: () => {
        const waited = this.clock.now().getTime() - (since ?? this.clock.now().getTime());
        since = null;
        holder = null;
        this.log('job-lock-free', {
          job: job.name,
          waitedMs: waited,
          message: `${job.name}: the backup folder is free after ${formatDuration(waited)}; going on`,
        });
      },
    };
  }

  /** `ms` of the clock's time; rejects with the signal's reason when aborted. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.clock.clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async finish(code: number): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.disarm();
    if (this.state.scheduler) this.state.scheduler.running = false;
    this.log('scheduler-stop', { exitCode: code });
    try {
      await this.saveState();
    } finally {
      if (this.releaseLock) await this.releaseLock().catch(() => undefined);
      this.emit('stopped', code);
      this.resolveDone(code);
    }
  }

  private saveState(): Promise<void> {
    this.state.updatedAt = this.clock.now().toISOString();
    const snapshot: SchedulerState = structuredClone(this.state);
    this.stateWrites = this.stateWrites
      .then(() => writeSchedulerState(this.backupDir, snapshot))
      .catch((err: unknown) => this.log('state-write-failed', { error: errorMessage(err) }));
    return this.stateWrites;
  }

  private emitState(): void {
    this.emit('state', this.status());
  }

  /** Writes a log line and emits it; `shown`: fields for the `log` event only (a phrase), never written. */
  private log(event: string, fields: Record<string, unknown>, shown: { errorPhrase?: Phrase } = {}): void {
    const entry: SchedulerLogEntry = { time: this.clock.now().toISOString(), event, ...fields };
    if (this.opts.writeLogLine) this.opts.writeLogLine(entry);
    else writeLog(this.backupDir, event, { ...fields, time: entry.time }, this.opts.secrets ?? []);
    this.emit('log', shown.errorPhrase ? { ...entry, errorPhrase: shown.errorPhrase } : entry);
  }
}

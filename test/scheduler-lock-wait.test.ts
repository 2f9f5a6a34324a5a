import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { InterruptedError } from '../src/core/errors.js';
import { silentReporter } from '../src/core/events.js';
import type { LoadedConfig, ScheduleJob } from '../src/core/types.js';
import { createBackup } from '../src/engine/create.js';
import { acquireLock, LOCK_NAME, type LockWait } from '../src/engine/lock.js';
import { createEngineScheduler, engineJobRunner, engineRetention } from '../src/scheduler/run-job.js';
import {
  LOCK_POLL_MS,
  Scheduler,
  type JobEndEvent,
  type RunJobFn,
  type SchedulerLogEntry,
} from '../src/scheduler/scheduler.js';
import { REPO_ROOT, childEnv, collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { FakeClock } from './helpers/fake-clock.js';
import { catalogue, detectLang } from '../src/ui/i18n/index.js';
import { logLine } from '../src/ui/screens/SchedulerScreen.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';
import { startWebhookServer, type WebhookServer } from './helpers/webhook.js';

/**
 * A scheduled job waits for the backup folder's lock where it takes it, so no other process can take the lock between
 * a look that finds it free and the job's own take (the job then failed at once and alerted "backup FAILED").
 * Holders are real processes taking the lock with the built lock.ts.
 */

interface Holder {
  pid: number;
  /** Lets the holder release the lock and exit; resolves once it has. */
  release(): Promise<void>;
}

const children: ChildProcess[] = [];
const hooks: WebhookServer[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const h of hooks.splice(0)) h.close();
});

/** A real process holding `backupDir`'s lock (acquireLock of the build, as `purpose`) until told to release it. */
async function holdLock(backupDir: string, purpose: string): Promise<Holder> {
  const code = `import { acquireLock } from ${JSON.stringify(join(REPO_ROOT, 'dist/engine/lock.js'))};
    const release = await acquireLock(${JSON.stringify(backupDir)}, ${JSON.stringify(purpose)});
    process.stdout.write('held\\n');
    process.stdin.resume();
    process.stdin.on('end', async () => { await release(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: childEnv() });
  children.push(child);
  const done = collect(child, 60_000);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer | string) => (b.toString().includes('held') ? resolve() : undefined));
    child.on('exit', () => reject(new Error('the lock holder exited before holding the lock')));
  });
  return {
    pid: child.pid!,
    release: async () => {
      child.stdin!.end();
      const r = await done;
      expect(r.code, describeResult(r)).toBe(0);
    },
  };
}

const lockPid = (backupDir: string): number =>
  (JSON.parse(readFileSync(join(backupDir, LOCK_NAME), 'utf8')) as { pid: number }).pid;

/** A FakeClock that counts the lock polls the scheduler arms: a job is waiting once one more is armed. */
class PollClock extends FakeClock {
  polls = 0;
  override setTimeout(fn: () => void, ms: number): unknown {
    if (ms === LOCK_POLL_MS) this.polls++;
    return super.setTimeout(fn, ms);
  }
}

const YEARLY: ScheduleJob = { name: 'nightly', when: '0 0 1 1 *', type: 'full', databases: ['users'], files: false };

/** The demo setup with one backup job and a webhook told of every backup's success and failure. */
async function scheduled(): Promise<{ s: DemoSetup; cfg: LoadedConfig; hook: WebhookServer; alerts: () => string[] }> {
  const hook = await startWebhookServer();
  hooks.push(hook);
  const s = demoSetup({
    schedule: { jobs: [YEARLY] },
    notifications: [{ type: 'webhook', on: ['success', 'failure'], url: hook.url, format: 'json' }],
  });
  const cfg = await loadConfig({ configPath: s.configFile });
  const alerts = () => hook.received.map((r) => (JSON.parse(r) as { subject: string }).subject);
  return { s, cfg, hook, alerts };
}

function watch(scheduler: Scheduler): { logs: SchedulerLogEntry[]; ends: JobEndEvent[] } {
  const logs: SchedulerLogEntry[] = [];
  const ends: JobEndEvent[] = [];
  scheduler.on('log', (l: SchedulerLogEntry) => logs.push(l));
  scheduler.on('job-end', (e: JobEndEvent) => ends.push(e));
  return { logs, ends };
}

describe('acquireLock with a wait', () => {
  it('waits while live processes hold the lock and takes it when free; a new holder in between is waited for too', async () => {
    const dir = makeTmpDir();
    const a = await holdLock(dir, 'create');
    let b: Holder | null = null;
    const seen: string[] = [];
    let freed = 0;
    const wait: LockWait = {
      held: async (held) => {
        seen.push(held.message);
        // The lock is free for a moment, and another process takes it before this one looks again.
        if (seen.length === 1) await a.release().then(async () => (b = await holdLock(dir, 'restore')));
        else await b!.release();
      },
      free: () => freed++,
    };
    const release = await acquireLock(dir, 'create', { wait });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toContain(`create, pid ${a.pid} on`);
    expect(seen[1]).toContain(`restore, pid ${b!.pid} on`);
    expect(freed).toBe(1);
    expect(lockPid(dir)).toBe(process.pid);
    await release();
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false);
  });

  it('a lock left by a dead process is taken over at once, without waiting', async () => {
    const dir = makeTmpDir();
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout);
    const stale = { pid: dead, host: hostname(), purpose: 'create', startedAt: new Date().toISOString() };
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify(stale));
    const held: string[] = [];
    const release = await acquireLock(dir, 'create', { wait: { held: async (e) => void held.push(e.message) } });
    expect(held).toEqual([]);
    expect(lockPid(dir)).toBe(process.pid);
    await release();
  });
});

describe('a scheduled job and a backup folder lock held by another process', () => {
  it('a backup job waits for the holder, then completes; only its success is alerted', async () => {
    const { s, cfg, alerts } = await scheduled();
    const a = await holdLock(s.backupDir, 'create');
    const clock = new PollClock(new Date());
    const scheduler = createEngineScheduler(cfg, { clock, catchUp: false });
    const { logs, ends } = watch(scheduler);
    await scheduler.start();
    const run = scheduler.runNow(scheduler.jobs[0]!);
    await waitFor(() => clock.polls >= 1 || ends.length > 0, 'the job to wait for the lock');
    expect(ends).toEqual([]);
    expect(logs.find((l) => l.event === 'job-waiting')?.message).toMatch(
      new RegExp(`^nightly waits for the backup folder: .*\\(create, pid ${a.pid} on `),
    );
    await clock.advance(LOCK_POLL_MS);
    await waitFor(() => clock.polls >= 2 || ends.length > 0, 'the job to look again');
    expect(ends).toEqual([]); // still held: waiting, not failed
    expect(alerts()).toEqual([]);
    await a.release();
    await clock.advance(LOCK_POLL_MS);
    await run;
    expect(ends.map((e) => [e.outcome, e.error])).toEqual([['completed', null]]);
    expect(logs.filter((l) => l.event === 'job-lock-free')).toHaveLength(1);
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]).not.toMatch(/FAILED/i);
    scheduler.stop();
    expect(await scheduler.done).toBe(0);
  });

  it('the lock taken by another process right when the job starts: the job waits again, no false failure alert', async () => {
    const { s, cfg, alerts } = await scheduled();
    const clock = new PollClock(new Date());
    const engine = engineJobRunner(cfg);
    let b: Holder | null = null;
    // The seam: the job is about to take the lock (any look before found it free), and another process takes it.
    const runJob: RunJobFn = async (job, ctx) => {
      b = await holdLock(s.backupDir, 'restore');
      return engine(job, ctx);
    };
    const scheduler = new Scheduler({
      backupDir: cfg.backupDir,
      jobs: cfg.schedule.jobs,
      runJob,
      applyRetention: engineRetention(cfg),
      clock,
      catchUp: false,
    });
    const { logs, ends } = watch(scheduler);
    await scheduler.start();
    const run = scheduler.runNow(scheduler.jobs[0]!);
    await waitFor(() => clock.polls >= 1 || ends.length > 0, 'the job to wait for the lock');
    expect(ends).toEqual([]); // it failed at once with "lock held"
    expect(alerts()).toEqual([]); // and "backup FAILED" was sent
    expect(logs.find((l) => l.event === 'job-waiting')?.message).toContain(`(restore, pid ${b!.pid} on `);
    await b!.release();
    await clock.advance(LOCK_POLL_MS);
    await run;
    expect(ends.map((e) => [e.outcome, e.error])).toEqual([['completed', null]]);
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]).not.toMatch(/FAILED/i);
    scheduler.stop();
    expect(await scheduler.done).toBe(0);
  });

  it('a scheduled drill, a verify and the retention after a backup wait for the lock too', async () => {
    const s = demoSetup({ schedule: { jobs: [YEARLY] } });
    const cfg = await loadConfig({ configPath: s.configFile });
    const made = await createBackup(cfg, { databases: ['users'], files: false, job: 'nightly' }, silentReporter);
    let waits = 0;
    const ctx = (holder: Holder) => ({
      signal: new AbortController().signal,
      reporter: silentReporter,
      reason: 'scheduled' as const,
      lockWait: { held: async () => void (waits++ === 0 ? await holder.release() : undefined) } as LockWait,
    });
    const run = engineJobRunner(cfg);
    const drill = await run({ ...YEARLY, type: 'drill' }, ctx(await holdLock(s.backupDir, 'create')));
    expect([drill.outcome, drill.setIds, waits]).toEqual(['drilled', [made.id], 1]);
    waits = 0;
    const verify = await run({ ...YEARLY, type: 'verify' }, ctx(await holdLock(s.backupDir, 'create')));
    expect([verify.outcome, waits]).toEqual(['verified', 1]);
    waits = 0;
    const { lockWait } = ctx(await holdLock(s.backupDir, 'create'));
    const pruned = await engineRetention(cfg)({ job: YEARLY, setId: made.id, reporter: silentReporter, lockWait });
    expect([pruned.kept, waits]).toEqual([1, 1]);
  });

  it('a scheduled drill stopped while it waits for the lock is interrupted, and no drill-failure is alerted', async () => {
    const hook = await startWebhookServer();
    hooks.push(hook);
    const s = demoSetup({ notifications: [{ type: 'webhook', on: ['drill-failure'], url: hook.url, format: 'json' }] });
    const cfg = await loadConfig({ configPath: s.configFile });
    await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const a = await holdLock(s.backupDir, 'create');
    const stop = new InterruptedError('stopped while waiting for the backup folder');
    const ctx = {
      signal: new AbortController().signal, // a first stop ends only the wait, not the job's signal
      reporter: silentReporter,
      reason: 'scheduled' as const,
      lockWait: { held: () => Promise.reject(stop) },
    };
    await expect(engineJobRunner(cfg)({ ...YEARLY, type: 'drill' }, ctx)).rejects.toBe(stop);
    expect(hook.received).toEqual([]);
    await a.release();
  });

  it('a differential that waited for the lock is based on the set made meanwhile (it plans again under the lock)', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile });
    const one = { databases: ['users'], files: false };
    const first = await createBackup(cfg, one, silentReporter);
    const a = await holdLock(s.backupDir, 'create');
    let newer: string | null = null;
    const lockWait: LockWait = {
      held: async () => {
        await a.release(); // the manual create that held the lock ends; another full is made before this one looks
        newer ??= (await createBackup(cfg, one, silentReporter)).id;
      },
    };
    const diff = await createBackup(cfg, { ...one, type: 'differential', job: 'nightly', lockWait }, silentReporter);
    expect(newer).not.toBe(first.id);
    expect(diff.databases.map((d) => d.base)).toEqual([newer]);
  });

  it("a job stopped while it waits for the lock says so in the menu's language (LANG=es_ES.UTF-8: Spanish)", async () => {
    const { s, cfg } = await scheduled();
    const a = await holdLock(s.backupDir, 'create');
    const clock = new PollClock(new Date());
    const scheduler = createEngineScheduler(cfg, { clock, catchUp: false });
    const { logs, ends } = watch(scheduler);
    await scheduler.start();
    const run = scheduler.runNow(scheduler.jobs[0]!);
    await waitFor(() => clock.polls >= 1 || ends.length > 0, 'the job to wait for the lock');
    scheduler.stop();
    await run;
    expect(await scheduler.done).toBe(0);
    const english =
      'Stopped while waiting for the backup folder (another respaldo process held its lock); nothing was written.';
    expect(ends.map((e) => [e.outcome, e.error])).toEqual([['interrupted', english]]);
    const end = logs.find((l) => l.event === 'job-end')!;
    const shown = (env: NodeJS.ProcessEnv) => {
      const lang = detectLang(env);
      return logLine(end, catalogue(lang), lang);
    };
    expect(shown({ LANG: 'es_ES.UTF-8' })).toContain(
      'nightly: INTERRUMPIDA  Detenido mientras esperaba a la carpeta de copias (otro proceso de respaldo tenía su bloqueo); no se escribió nada.',
    );
    expect(shown({ LANG: 'en_US.UTF-8' })).toContain(`nightly: INTERRUPTED  ${english}`);
    // the daily log keeps the English words, and no phrase
    const written = readdirSync(join(s.backupDir, 'logs'))
      .flatMap((f) => readFileSync(join(s.backupDir, 'logs', f), 'utf8').split('\n'))
      .filter((l) => l.includes('"event":"job-end"'));
    expect(written).toHaveLength(1);
    expect(written[0]).toContain(english);
    expect(written[0]).not.toContain('errorPhrase');
    await a.release();
  });

  it('SIGTERM while a job waits stops the scheduler at once (exit 0): the job is interrupted, nothing alerted', async () => {
    const { s, alerts } = await scheduled();
    const a = await holdLock(s.backupDir, 'create');
    const child = startCli(['scheduler', '--config', s.configFile]); // the yearly job catches up at start
    children.push(child);
    const done = collect(child, 60_000);
    const logged = (event: string) =>
      readdirSync(join(s.backupDir, 'logs'))
        .flatMap((f) =>
          readFileSync(join(s.backupDir, 'logs', f), 'utf8')
            .split('\n')
            .filter(Boolean),
        )
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.event === event);
    await waitFor(() => existsSync(join(s.backupDir, 'logs')) && logged('job-waiting').length > 0, 'job-waiting');
    const killed = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);
    expect(Date.now() - killed).toBeLessThan(LOCK_POLL_MS); // the wait ended on the signal, not at its next look
    expect(logged('job-end').map((l) => l.outcome)).toEqual(['interrupted']);
    expect(alerts()).toEqual([]);
    expect(lockPid(s.backupDir)).toBe(a.pid); // the holder's lock was never touched
    await a.release();
  });
});

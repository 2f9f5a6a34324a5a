import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { LockHeldError } from '../src/core/errors.js';
import { Menu, type Route } from '../src/ui/Menu.js';
import type { JobOutcome } from '../src/scheduler/state.js';
import type { ScheduleJob } from '../src/core/types.js';
import { planCatchUp } from '../src/scheduler/catch-up.js';
import { tieredPreset } from '../src/scheduler/when.js';
import { FakeFacade, KEY, NOW, press, renderUi, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

const AT_SCHEDULER: Route[] = [{ name: 'main' }, { name: 'scheduler' }];

function runJob(facade: FakeFacade, job: string): void {
  const emit = facade.schedulerListener!;
  facade.schedulerRunning = job;
  emit({ type: 'log', entry: { time: '2026-11-22T12:00:01Z', event: 'job-start', job } });
  emit({ type: 'job-start', job });
  emit({ type: 'state', status: facade.schedulerStatus() });
  emit({ type: 'progress', job, event: { type: 'item-start', item: 'users', kind: 'database', totalBytes: 1000 } });
  emit({ type: 'progress', job, event: { type: 'item-progress', item: 'users', bytes: 250, totalBytes: 1000 } });
}

function endJob(facade: FakeFacade, job: string, ok: boolean, outcome?: JobOutcome): void {
  const emit = facade.schedulerListener!;
  facade.schedulerRunning = null;
  const end = {
    job,
    reason: 'scheduled' as const,
    outcome: outcome ?? (ok ? ('completed' as const) : ('failed' as const)),
    setId: ok ? '20261122_120001' : null,
    bytes: 1000,
    durationMs: 800,
    error: ok ? null : 'users: unable to open database file',
  };
  emit({ type: 'log', entry: { time: '2026-11-22T12:00:02Z', event: 'job-end', ...end } });
  emit({ type: 'job-end', end });
  emit({ type: 'state', status: facade.schedulerStatus() });
}

describe('scheduler screen', () => {
  it('shows each job with its next run, a live tail, the running job progress and counts since start', async () => {
    const facade = new FakeFacade();
    const { lastFrame } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
    let f = await waitFrame(lastFrame, (x) => x.includes('Waiting for the next run.'));
    expect(f).toMatch(/daily\s+daily at 02:00\s+11-23 \d\d:00 \(in \d+ h\)/);
    expect(f).toContain('since start: 0 succeeded, 0 failed');
    expect(f).toContain('q or Ctrl-C stop after the current job');
    runJob(facade, 'daily');
    f = await waitFrame(lastFrame, (x) => x.includes('Running: daily') && /users\s+\S+\s+25%/.test(x));
    expect(f).toMatch(/12:00:01 daily: started|\d\d:00:01 daily: started/);
    endJob(facade, 'daily', true);
    f = await waitFrame(lastFrame, (x) => x.includes('since start: 1 succeeded, 0 failed'));
    expect(f).toContain('daily: OK 20261122_120001');
    runJob(facade, 'daily');
    endJob(facade, 'daily', false);
    f = await waitFrame(lastFrame, (x) => x.includes('since start: 1 succeeded, 1 failed'));
    expect(f).toContain('daily: FAILED  users: unable to open database file');
  });

  it('q stops the scheduler when idle; then Esc goes back', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Waiting for the next run.'));
    await press(stdin, 'q');
    await waitFrame(lastFrame, (x) => x.includes('Stopped.'));
    expect(facade.schedulerStops).toBe(1);
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
  });

  it('Ctrl-C during a job: first stops after it, second warns, third aborts it safely (and never quits the menu)', async () => {
    const facade = new FakeFacade();
    let exited = 0;
    const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} onExit={() => exited++} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Waiting for the next run.'));
    runJob(facade, 'daily');
    await waitFrame(lastFrame, (x) => x.includes('Running: daily'));
    await press(stdin, KEY.ctrlC);
    await waitFrame(lastFrame, (x) => x.includes('Stopping after the current job'));
    expect(facade.schedulerStops).toBe(1);
    await press(stdin, KEY.ctrlC);
    await waitFrame(lastFrame, (x) => x.includes('Press Ctrl-C once more to abort it safely'));
    expect(facade.schedulerStops).toBe(1);
    await press(stdin, KEY.ctrlC);
    await waitFrame(lastFrame, (x) => x.includes('Stopped (exit code 130).'));
    expect(facade.schedulerStops).toBe(2);
    expect(exited).toBe(0);
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
  });

  it('a scheduler that cannot start is shown as message + hint', async () => {
    const facade = new FakeFacade();
    facade.fail.startScheduler = new LockHeldError('/srv/backups/.scheduler/.respaldo.lock', 'scheduler, pid 77');
    const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('The scheduler could not start.');
    expect(f).toContain('Another respaldo process is working on this backup folder (scheduler, pid 77).');
    expect(f).toContain('What to do: Wait for it to finish.');
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
  });

  it('a drill or a verification that passed counts as succeeded, with its own word (in Spanish)', async () => {
    const facade = new FakeFacade();
    facade.cfg.schedule = [
      { name: 'simulacro', when: 'daily at 05:00', type: 'drill', databases: ['*'], files: false },
      { name: 'verificar', when: 'daily at 04:00', type: 'verify', databases: ['*'], files: false },
    ];
    const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade, lang: 'es' });
    await waitFrame(lastFrame, (x) => x.includes('Esperando la próxima ejecución.'));
    runJob(facade, 'simulacro');
    endJob(facade, 'simulacro', true, 'drilled');
    runJob(facade, 'verificar');
    endJob(facade, 'verificar', true, 'verified');
    runJob(facade, 'simulacro');
    endJob(facade, 'simulacro', false, 'drill-failed');
    const f = await waitFrame(lastFrame, (x) => x.includes('desde el inicio: 2 correctas, 1 fallidas'));
    expect(f).toContain('simulacro: SIMULACRO OK 20261122_120001');
    expect(f).toContain('verificar: VERIFICADA 20261122_120001');
    expect(f).toContain('simulacro: SIMULACRO FALLIDO');
    expect(f).not.toMatch(/drilled|drill-failed/);
    await press(stdin, 'q');
    await waitFrame(lastFrame, (x) => x.includes('Parado.'));
  });

  it('speaks Spanish', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade, lang: 'es' });
    const f = await waitFrame(lastFrame, (x) => x.includes('Esperando la próxima ejecución.'));
    expect(f).toContain('Programador (en primer plano)');
    expect(f).toContain('desde el inicio: 0 correctas, 0 fallidas');
    expect(f).toMatch(/\(en \d+ h\)/);
    await press(stdin, 'q');
    await waitFrame(lastFrame, (x) => x.includes('Parado.'));
  });

  it.each(['en', 'es'] as const)(
    "the log folds each entry whole at 80x24 and scrolls (%s): a failure's reason, every set retention removed",
    async (lang) => {
      const facade = new FakeFacade();
      const { lastFrame, stdin, stdout } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade, lang });
      Object.defineProperty(stdout, 'columns', { value: 80 });
      Object.defineProperty(stdout, 'rows', { value: 24 });
      stdout.emit('resize');
      await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'Waiting for the next run.' : 'Esperando'));
      const emit = facade.schedulerListener!;
      const log = (entry: Record<string, unknown>) =>
        emit({ type: 'log', entry: { time: '2026-11-22T12:00:02Z', ...entry } as never });
      const reason =
        'Nothing could be backed up: PostgreSQL at 127.0.0.1:1 refused the connection (is the server running ' +
        'and accepting TCP connections on that port?) (reason end)';
      log({ event: 'job-end', job: 'badjob', outcome: 'failed', setId: null, error: reason });
      log({
        event: 'retention-skipped',
        job: 'badjob',
        outcome: 'failed',
        message: 'no pruning: the run ended failed',
      });
      log({ event: 'job-queued', job: 'verify', running: 'monthly', message: 'verify waits for monthly to finish' });
      log({ event: 'job-skipped', job: 'verify', why: 'waiting', running: 'monthly', message: 'verify skipped' });
      const removed = Array.from({ length: 8 }, (_, i) => `20261201_2143${String(i).padStart(2, '0')}`);
      const held = ['20261130_020000', '20261129_020000']; // kept until copied off-site
      log({ event: 'retention', job: 'monthly', removed, kept: 3, notCopied: held });
      for (let i = 0; i < 6; i++) log({ event: 'job-start', job: `job${i}` });
      let f = await waitFrame(lastFrame, (x) => x.includes('job5'));
      const seen = [f];
      for (let i = 0; i < 30 && !/ 1-\d+ (of|de) /.test(f); i++) {
        const before = f;
        await press(stdin, KEY.up);
        f = await waitFrame(lastFrame, (x) => x !== before);
        seen.push(f);
      }
      for (const frame of seen) {
        const lines = frame.split('\n');
        expect(lines.length, frame).toBeLessThanOrEqual(24);
        for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
      }
      const text = seen.join('\n').replace(/\s+/g, ' ');
      expect(text).toContain('(reason end)');
      for (const id of removed) expect(text).toContain(id);
      expect(text).toContain(
        `${lang === 'en' ? '2 until copied off-site' : '2 hasta copiarse fuera'}: ${held.join(', ')})`,
      );
      if (lang === 'es') {
        expect(text).toContain('verify espera a que termine monthly');
        expect(text).toContain('verify omitida: ya está en espera');
        expect(text).toContain('sin limpieza de copias antiguas: la ejecución terminó FALLÓ');
        expect(text).not.toMatch(/no pruning|waits for|skipped/);
      } else {
        expect(text).toContain('verify waits for monthly to finish');
        expect(text).toContain('no pruning: the run ended FAILED');
      }
      expect(seen[0]).toMatch(lang === 'en' ? /↑↓ PgUp PgDn log/ : /↑↓ RePág AvPág registro/);
      expect(seen[0]).not.toContain('(reason end)');
    },
  );

  describe('catch-up before start (issue 10 #8)', () => {
    /** A facade with the tiered preset whose catch-up plan is the real planner's for NOW (every run missed). */
    function tiered(): FakeFacade {
      const facade = new FakeFacade();
      const jobs: ScheduleJob[] = tieredPreset({ timezone: 'UTC' });
      facade.cfg = { ...facade.cfg, schedule: jobs };
      facade.catchUpPlan = planCatchUp({ jobs, lastSuccess: { monthly: '2026-11-01T00:00:05Z' }, now: NOW });
      return facade;
    }
    const starts = (facade: FakeFacade) =>
      facade.calls.filter((c) => c.method === 'startScheduler').map((c) => c.args[0]);

    it('shows what catch-up will run and what it covers; nothing starts until Enter, which runs it', async () => {
      const facade = tiered();
      const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
      const f = await waitFrame(lastFrame, (x) => x.includes('Missed while the scheduler was not running'));
      expect(f).toMatch(/weekly: differential backup, missed 2026-11-1[56] \d\d:30/);
      expect(f).toMatch(/drill: restore drill, missed 2026-11-2[01] \d\d:00/);
      expect(f).toContain('also covers the missed daily (no separate run)');
      expect(f).toMatch(/verify: verify, missed 2026-11-2[12] \d\d:00/);
      expect(f).not.toContain('monthly:');
      expect(f).toContain('Enter run the catch-up and start · s skip it and start · Esc back');
      expect(starts(facade)).toEqual([]);
      await press(stdin, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes('Waiting for the next run.'));
      expect(starts(facade)).toEqual([{ catchUp: true }]);
    });

    it('s skips the catch-up: the scheduler starts without it and says so', async () => {
      const facade = tiered();
      const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
      await waitFrame(lastFrame, (x) => x.includes('Missed while the scheduler was not running'));
      await press(stdin, 's');
      const f = await waitFrame(lastFrame, (x) => x.includes('Waiting for the next run.'));
      expect(f).toContain('catch-up skipped: jobs run at their next scheduled time');
      expect(starts(facade)).toEqual([{ catchUp: false }]);
    });

    it('Esc goes back without starting the scheduler', async () => {
      const facade = tiered();
      const { lastFrame, stdin } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
      await waitFrame(lastFrame, (x) => x.includes('Missed while the scheduler was not running'));
      await press(stdin, KEY.esc);
      await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
      expect(starts(facade)).toEqual([]);
    });

    it('with nothing missed it starts at once, with catch-up on', async () => {
      const facade = new FakeFacade();
      const { lastFrame } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade });
      const f = await waitFrame(lastFrame, (x) => x.includes('Waiting for the next run.'));
      expect(f).not.toContain('Missed while');
      expect(starts(facade)).toEqual([{ catchUp: true }]);
    });

    it.each(['en', 'es'] as const)('fits 80x24 (%s), every run on its own line, the key line visible', async (lang) => {
      const facade = tiered();
      facade.catchUpPlan = planCatchUp({ jobs: facade.cfg.schedule, lastSuccess: {}, now: NOW });
      const { lastFrame, stdout } = renderUi(<Menu initial={AT_SCHEDULER} />, { facade, lang });
      Object.defineProperty(stdout, 'columns', { value: 80 });
      Object.defineProperty(stdout, 'rows', { value: 24 });
      stdout.emit('resize');
      const keys = lang === 'en' ? 'Enter run the catch-up and start' : 'Enter ejecutar la recuperación y empezar';
      const covers = lang === 'en' ? 'also covers' : 'cubre también';
      const f = await waitFrame(lastFrame, (x) => x.includes(keys) && x.includes(covers));
      const lines = f.split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
      expect(f).toMatch(lang === 'en' ? /monthly: full backup, missed/ : /monthly: copia completa, perdida el/);
      expect(f).toMatch(lang === 'en' ? /verify: verify, missed/ : /verify: verificación, perdida el/);
    });
  });
});

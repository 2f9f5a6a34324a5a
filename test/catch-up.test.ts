import { describe, expect, it } from 'vitest';
import { describeLogEntry } from '../src/cli/commands/schedule.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/core/errors.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import type { ScheduleJob } from '../src/core/types.js';
import { covers, lastSuccesses, planCatchUp } from '../src/scheduler/catch-up.js';
import { emptyJobState, emptyState } from '../src/scheduler/state.js';
import { tieredPreset } from '../src/scheduler/when.js';
import { demoSetup } from './helpers/tmp.js';

const NOW = new Date('2026-11-22T12:00:00Z'); // a Sunday
const tiered = tieredPreset({ timezone: 'UTC' });
const job = (name: string, when: string, o: Partial<ScheduleJob> = {}): ScheduleJob => ({
  name,
  when,
  type: 'full',
  databases: ['*'],
  files: true,
  timezone: 'UTC',
  ...o,
});
const monthly = (o: Partial<ScheduleJob> = {}): ScheduleJob => job('monthly', 'monthly on day 1 at 00:00', o);
const weekly = (o: Partial<ScheduleJob> = {}): ScheduleJob => job('weekly', 'weekly on sunday at 23:30', o);
const daily = (o: Partial<ScheduleJob> = {}): ScheduleJob => job('daily', 'daily at 23:00', o);

// Missed times at NOW: monthly 2026-11-01T00:00, weekly 2026-11-15T23:30, daily 2026-11-21T23:00,
// verify 2026-11-22T01:00, drill 2026-11-21T03:00 (Saturday).
const cases: Array<{
  name: string;
  jobs: ScheduleJob[];
  last?: Record<string, string>;
  runs: Array<[string, string[]]>;
  satisfied: Array<[string, string, string]>;
}> = [
  {
    name: 'tiered, first start: one full backup (monthly) satisfies weekly and daily, then the verify',
    jobs: tiered,
    runs: [
      ['monthly', ['weekly', 'daily']],
      ['verify', []],
      ['drill', []],
    ],
    satisfied: [
      ['weekly', 'monthly', 'catch-up'],
      ['daily', 'monthly', 'catch-up'],
    ],
  },
  {
    name: 'tiered in config order reversed: same plan',
    jobs: [...tiered].reverse(),
    runs: [
      ['monthly', ['weekly', 'daily']],
      ['verify', []],
      ['drill', []],
    ],
    satisfied: [
      ['weekly', 'monthly', 'catch-up'],
      ['daily', 'monthly', 'catch-up'],
    ],
  },
  {
    name: 'monthly done on time: weekly runs and satisfies daily',
    jobs: tiered,
    last: { monthly: '2026-11-01T00:00:02Z', verify: '2026-11-22T01:00:00Z', drill: '2026-11-21T03:00:00Z' },
    runs: [['weekly', ['daily']]],
    satisfied: [['daily', 'weekly', 'catch-up']],
  },
  {
    name: 'monthly ran after the missed weekly and daily times: they are satisfied by that run',
    jobs: tiered,
    last: { monthly: '2026-11-22T10:00:00Z', drill: '2026-11-21T03:00:00Z' },
    runs: [['verify', []]],
    satisfied: [
      ['weekly', 'monthly', '2026-11-22T10:00:00Z'],
      ['daily', 'monthly', '2026-11-22T10:00:00Z'],
    ],
  },
  {
    name: 'a shorter-period run never satisfies a longer one (daily ran today, weekly still missed)',
    jobs: [weekly(), daily()],
    last: { daily: '2026-11-22T11:00:00Z' },
    runs: [['weekly', []]],
    satisfied: [],
  },
  {
    name: 'jobs with the same period never satisfy each other',
    jobs: [job('nightly', 'daily at 02:00'), daily()],
    last: { nightly: '2026-11-22T02:00:00Z' },
    runs: [['daily', []]],
    satisfied: [],
  },
  {
    name: 'nothing missed: no runs',
    jobs: tiered,
    last: {
      monthly: '2026-11-01T00:00:00Z',
      weekly: '2026-11-15T23:30:00Z',
      daily: '2026-11-21T23:00:00Z',
      verify: '2026-11-22T01:00:00Z',
      drill: '2026-11-21T03:00:00Z',
    },
    runs: [],
    satisfied: [],
  },
  {
    name: 'a monthly of all databases with files covers a daily of users without files',
    jobs: [monthly(), daily({ databases: ['users'], files: false })],
    runs: [['monthly', ['daily']]],
    satisfied: [['daily', 'monthly', 'catch-up']],
  },
  {
    name: 'a full backup covers a schema backup of a subset of its databases',
    jobs: [
      monthly({ databases: ['users', 'inventario'], files: false }),
      daily({ type: 'schema', databases: ['users'], files: false }),
    ],
    runs: [['monthly', ['daily']]],
    satisfied: [['daily', 'monthly', 'catch-up']],
  },
  {
    name: 'a schema backup does not cover a full one',
    jobs: [monthly({ type: 'schema' }), daily()],
    runs: [
      ['monthly', []],
      ['daily', []],
    ],
    satisfied: [],
  },
  {
    name: 'a backup without files does not cover one with files',
    jobs: [monthly({ files: false }), daily()],
    runs: [
      ['monthly', []],
      ['daily', []],
    ],
    satisfied: [],
  },
  {
    name: 'a named database list does not cover `*`, nor a database it lacks',
    jobs: [monthly({ databases: ['users'] }), weekly({ databases: ['users', 'auditoria'] }), daily()],
    runs: [
      ['monthly', []],
      ['weekly', []],
      ['daily', []],
    ],
    satisfied: [],
  },
  {
    name: 'the first covering run satisfies; a job it does not cover runs on its own',
    jobs: [monthly({ databases: ['users'], files: false }), weekly(), daily({ databases: ['users'], files: false })],
    runs: [
      ['monthly', ['daily']],
      ['weekly', []],
    ],
    satisfied: [['daily', 'monthly', 'catch-up']],
  },
  {
    name: 'verify jobs are never satisfied and run last',
    jobs: [job('check', 'daily at 01:00', { type: 'verify', files: false }), monthly()],
    runs: [
      ['monthly', []],
      ['check', []],
    ],
    satisfied: [],
  },
];

describe('planCatchUp', () => {
  it.each(cases)('$name', ({ jobs, last, runs, satisfied }) => {
    const plan = planCatchUp({ jobs, lastSuccess: last ?? {}, now: NOW });
    expect(plan.runs.map((r) => [r.job, r.satisfies])).toEqual(runs);
    const byRun = (r: string): string => (r === 'catch-up' ? r : new Date(r).toISOString().replace('.000Z', 'Z'));
    expect(plan.satisfied.map((s) => [s.job, s.by, byRun(s.byRun)])).toEqual(satisfied);
  });

  it('names the missed scheduled time of each run and satisfied job', () => {
    const plan = planCatchUp({ jobs: tiered, lastSuccess: {}, now: NOW });
    expect(plan.runs.map((r) => [r.job, r.missedAt])).toEqual([
      ['monthly', '2026-11-01T00:00:00.000Z'],
      ['verify', '2026-11-22T01:00:00.000Z'],
      ['drill', '2026-11-21T03:00:00.000Z'],
    ]);
    expect(plan.satisfied.map((s) => [s.job, s.missedAt])).toEqual([
      ['weekly', '2026-11-15T23:30:00.000Z'],
      ['daily', '2026-11-21T23:00:00.000Z'],
    ]);
  });
});

describe('covers', () => {
  it.each([
    [{}, {}, true],
    [{ type: 'schema' }, {}, false],
    [{}, { type: 'schema' }, true],
    [{ files: false }, {}, false],
    [{}, { files: false }, true],
    [{ databases: ['a', 'b'] }, { databases: ['b'] }, true],
    [{ databases: ['a'] }, { databases: ['a', 'b'] }, false],
    [{ databases: ['a', 'b'] }, { databases: ['*'] }, false],
    [{ type: 'verify' }, { type: 'verify' }, false],
  ] as Array<[Partial<ScheduleJob>, Partial<ScheduleJob>, boolean]>)('%j covers %j: %s', (by, j, expected) => {
    expect(covers(monthly(by), daily(j))).toBe(expected);
  });
});

describe('lastSuccesses', () => {
  it('takes the later of the state file and the newest completed set of the job', () => {
    const state = emptyState();
    state.jobs.daily = { ...emptyJobState(), lastSuccess: '2026-11-20T23:00:00.000Z' };
    state.jobs.weekly = { ...emptyJobState(), lastSuccess: '2026-11-15T23:30:00.000Z' };
    type Status = 'completed' | 'partial';
    const set = (id: string, jobName: string | null, startedAt: string, status: Status = 'completed') => ({
      id,
      type: 'full' as const,
      status,
      description: null,
      startedAt,
      completedAt: startedAt,
      databases: ['users'],
      failedDatabases: [],
      files: 0,
      storedBytes: 1,
      job: jobName,
      keep: false,
      lastVerified: null,
      path: '/x',
    });
    const sets = [
      set('20261122_090000', null, '2026-11-22T09:00:00.000Z'),
      set('20261121_230000', 'daily', '2026-11-21T23:00:01.000Z'),
      set('20261122_080000', 'weekly', '2026-11-22T08:00:00.000Z', 'partial'),
    ];
    expect(lastSuccesses([daily(), weekly(), monthly()], state, sets)).toEqual({
      daily: '2026-11-21T23:00:01.000Z',
      weekly: '2026-11-15T23:30:00.000Z',
      monthly: null,
    });
  });
});

describe('the real menu facade', () => {
  it('planCatchUp shows what a first tiered start runs; startScheduler({ catchUp: false }) skips it', async () => {
    const setup = demoSetup({ schedule: { jobs: tieredPreset() } });
    const facade = createEngineFacade(await loadConfig({ configPath: setup.configFile }));
    const plan = await facade.planCatchUp();
    const runs = [
      ['monthly', ['weekly', 'daily']],
      ['verify', []],
      ['drill', []],
    ];
    expect(plan.runs.map((r) => [r.job, r.satisfies])).toEqual(runs);
    const events: string[] = [];
    const handle = await facade.startScheduler((e) => events.push(e.type === 'log' ? e.entry.event : e.type), {
      catchUp: false,
    });
    // start() has decided catch-up before it resolved: had it run, its first job would be running now.
    expect(handle.status().running).toBeNull();
    handle.stop();
    expect(await handle.done).toBe(0);
    expect(events).not.toContain('catch-up');
    expect(events).not.toContain('job-start');
  });
});

describe('retention.manual in the config', () => {
  it('a negative value is a config error naming the field', async () => {
    const setup = demoSetup({ retention: { manual: { days: -1 } } });
    const err = await loadConfig({ configPath: setup.configFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('retention.manual.days');
  });
});

describe('the CLI line for catch-up log entries', () => {
  it('says what runs and what it covers; a fallback after a failed covering run is said plainly', () => {
    const time = '2026-11-22T12:00:00.000Z';
    const run = 'catch-up: running monthly (covers weekly, daily), verify once now';
    expect(describeLogEntry({ time, event: 'catch-up', message: run })).toContain(`${run} (missed while the scheduler`);
    const message = 'catch-up: monthly did not complete; running weekly instead';
    const again = describeLogEntry({ time, event: 'catch-up', after: 'monthly', message });
    expect(again).toMatch(/ {2}catch-up: monthly did not complete; running weekly instead$/);
  });
});

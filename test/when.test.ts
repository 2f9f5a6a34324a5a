import { describe, expect, it } from 'vitest';
import {
  defaultJobs,
  nextRuns,
  periodMs,
  previousRun,
  tieredPreset,
  toCronPattern,
  validateJobs,
} from '../src/scheduler/when.js';

describe('toCronPattern', () => {
  it.each([
    ['daily at 02:00', '0 2 * * *'],
    ['daily at 2:05', '5 2 * * *'],
    ['  Daily   at 23:59 ', '59 23 * * *'],
    ['weekly on sunday at 23:30', '30 23 * * 0'],
    ['weekly on Sundays at 23:30', '30 23 * * 0'],
    ['weekly on monday,thursday at 01:00', '0 1 * * 1,4'],
    ['weekly on fri and mon at 06:15', '15 6 * * 1,5'],
    ['monthly on day 1 at 00:00', '0 0 1 * *'],
    ['monthly on day 15 at 12:30', '30 12 15 * *'],
    ['monthly on last day at 23:00', '0 23 L * *'],
    ['hourly at :15', '15 * * * *'],
    ['0 2 * * *', '0 2 * * *'],
    ['*/5 * * * * *', '*/5 * * * * *'],
    ['@daily', '@daily'],
  ])('%s → %s', (when, cron) => {
    expect(toCronPattern(when)).toBe(cron);
  });

  it.each([
    ['', /empty/],
    ['daily at 25:00', /not a time of day/],
    ['daily at 2pm', /24-hour time/],
    ['weekly on funday at 01:00', /"funday" is not a day/],
    ['monthly on day 31 at 00:00', /does not exist in every month.*last day/],
    ['monthly on day 0 at 00:00', /not a day of the month/],
    ['daily around noon', /not a schedule respaldo understands/],
    ['every day', /neither a simple form nor a valid cron/],
    ['0 25 * * *', /hour/],
    ['1 2 3 4 5 6 7', /five or six/],
  ])('rejects %j', (when, msg) => {
    expect(() => toCronPattern(when)).toThrow(msg);
  });
});

describe('nextRuns / previousRun', () => {
  it('gives the next 5 runs in the job zone', () => {
    const runs = nextRuns(
      { when: 'weekly on sunday at 23:30', timezone: 'Europe/Madrid' },
      5,
      new Date('2026-11-22T12:00:00Z'),
    );
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2026-11-22T22:30:00.000Z',
      '2026-11-29T22:30:00.000Z',
      '2026-12-06T22:30:00.000Z',
      '2026-12-13T22:30:00.000Z',
      '2026-12-20T22:30:00.000Z',
    ]);
  });

  it('follows DST changes (Madrid, 02:00 daily across the March change)', () => {
    const runs = nextRuns({ when: 'daily at 02:00', timezone: 'Europe/Madrid' }, 3, new Date('2026-03-28T00:00:00Z'));
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2026-03-28T01:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ]);
  });

  describe('when the clocks go back (Madrid, 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC)', () => {
    const iso = (runs: Date[]): string[] => runs.map((d) => d.toISOString().slice(0, 16));
    const from = new Date('2026-10-24T22:00:00Z');
    // With and without a job zone (the machine's zone then: process.env.TZ, read again by Node when set).
    const zones = [
      ['the job zone', { timezone: 'Europe/Madrid' }, 'UTC'],
      ["the machine's zone", {}, 'Europe/Madrid'],
    ] as const;

    it.each(zones)('a job every hour runs in both 02:xx hours, an hour apart, with %s', (_, job, tz) => {
      const was = process.env.TZ;
      process.env.TZ = tz;
      try {
        // croner gave 23:15, 01:15 (or 00:15, 02:15): two hours without a run.
        expect(iso(nextRuns({ when: 'hourly at :15', ...job }, 5, from))).toEqual([
          '2026-10-24T22:15',
          '2026-10-24T23:15',
          '2026-10-25T00:15',
          '2026-10-25T01:15',
          '2026-10-25T02:15',
        ]);
        expect(iso(nextRuns({ when: '*/30 * * * *', ...job }, 6, new Date('2026-10-24T23:10:00Z')))).toEqual([
          '2026-10-24T23:30',
          '2026-10-25T00:00',
          '2026-10-25T00:30',
          '2026-10-25T01:00',
          '2026-10-25T01:30',
          '2026-10-25T02:00',
        ]);
        // From inside the repeated hour (a scheduler started then): never a time already past.
        expect(iso(nextRuns({ when: '*/30 * * * *', ...job }, 2, new Date('2026-10-25T01:05:00Z')))).toEqual([
          '2026-10-25T01:30',
          '2026-10-25T02:00',
        ]);
      } finally {
        if (was === undefined) delete process.env.TZ;
        else process.env.TZ = was;
      }
    });

    it.each(zones)('a job at a set hour in the repeated hour runs once, the first time, with %s', (_, job, tz) => {
      const was = process.env.TZ;
      process.env.TZ = tz;
      try {
        expect(iso(nextRuns({ when: 'daily at 02:30', ...job }, 3, new Date('2026-10-24T12:00:00Z')))).toEqual([
          '2026-10-25T00:30',
          '2026-10-26T01:30',
          '2026-10-27T01:30',
        ]);
        // From between the two 02:30s it is not run again that day.
        expect(iso(nextRuns({ when: 'daily at 02:30', ...job }, 1, new Date('2026-10-25T01:00:00Z')))).toEqual([
          '2026-10-26T01:30',
        ]);
        expect(previousRun({ when: 'hourly at :15', ...job }, new Date('2026-10-25T01:20:00Z'))?.toISOString()).toBe(
          '2026-10-25T01:15:00.000Z',
        );
      } finally {
        if (was === undefined) delete process.env.TZ;
        else process.env.TZ = was;
      }
    });

    it('a half-hour change (Lord Howe, 5 April 2026) repeats only the half hour it repeats', () => {
      const runs = nextRuns(
        { when: '*/20 * * * *', timezone: 'Australia/Lord_Howe' },
        6,
        new Date('2026-04-04T14:30:00Z'),
      );
      // The clocks go from 02:00 (+11) back to 01:30 (+10:30) at 15:00 UTC: 01:40 runs again at 15:10, and
      // 02:00 comes only once, at 15:30.
      expect(iso(runs)).toEqual([
        '2026-04-04T14:40',
        '2026-04-04T15:10',
        '2026-04-04T15:30',
        '2026-04-04T15:50',
        '2026-04-04T16:10',
        '2026-04-04T16:30',
      ]);
    });
  });

  it('when the clocks go forward, a job every hour keeps its hour apart and a set time that does not exist runs an hour later', () => {
    const was = process.env.TZ;
    process.env.TZ = 'Europe/Madrid';
    try {
      for (const job of [{ timezone: 'Europe/Madrid' }, {}]) {
        expect(
          nextRuns({ when: '15 * * * *', ...job }, 3, new Date('2026-03-29T00:00:00Z')).map((d) => d.toISOString()),
        ).toEqual(['2026-03-29T00:15:00.000Z', '2026-03-29T01:15:00.000Z', '2026-03-29T02:15:00.000Z']);
        expect(
          nextRuns({ when: 'daily at 02:30', ...job }, 2, new Date('2026-03-28T12:00:00Z')).map((d) => d.toISOString()),
        ).toEqual(['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
      }
    } finally {
      if (was === undefined) delete process.env.TZ;
      else process.env.TZ = was;
    }
  });

  it('supports six-field second patterns', () => {
    const runs = nextRuns({ when: '*/3 * * * * *', timezone: 'UTC' }, 3, new Date('2026-11-22T12:00:01Z'));
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2026-11-22T12:00:03.000Z',
      '2026-11-22T12:00:06.000Z',
      '2026-11-22T12:00:09.000Z',
    ]);
  });

  it.each([
    ['daily at 23:00', '2026-11-22T12:00:00Z', '2026-11-21T23:00:00.000Z'],
    ['daily at 23:00', '2026-11-22T23:00:00Z', '2026-11-22T23:00:00.000Z'],
    ['weekly on sunday at 23:30', '2026-11-22T12:00:00Z', '2026-11-15T23:30:00.000Z'],
    ['monthly on day 1 at 00:00', '2026-11-22T12:00:00Z', '2026-11-01T00:00:00.000Z'],
    ['0 0 1 1 *', '2026-11-22T12:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['*/5 * * * * *', '2026-11-22T12:00:07Z', '2026-11-22T12:00:05.000Z'],
  ])('previous run of %s at %s is %s', (when, at, prev) => {
    expect(previousRun({ when, timezone: 'UTC' }, new Date(at))?.toISOString()).toBe(prev);
  });

  it('measures periods (catch-up order)', () => {
    const from = new Date('2026-11-22T12:00:00Z');
    expect(periodMs({ when: 'daily at 02:00', timezone: 'UTC' }, from)).toBe(86_400_000);
    expect(periodMs({ when: 'weekly on sunday at 23:30', timezone: 'UTC' }, from)).toBe(7 * 86_400_000);
  });
});

describe('validateJobs', () => {
  const good = { name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true };

  it('accepts the default and the tiered preset', () => {
    expect(validateJobs(defaultJobs(), 'schedule.jobs')).toEqual([]);
    expect(validateJobs(tieredPreset({ timezone: 'America/Mexico_City' }), 'schedule.jobs')).toEqual([]);
  });

  it.each([
    ['invalid cron', [good, { ...good, name: 'b', when: '0 99 * * *' }], 'schedule.jobs[1].when', /hour/],
    [
      'unknown time zone',
      [{ ...good, timezone: 'Mars/Olympus' }],
      'schedule.jobs[0].timezone',
      /unknown time zone "Mars\/Olympus"/,
    ],
    [
      'duplicate job names',
      [good, { ...good, when: 'daily at 03:00' }],
      'schedule.jobs[1].name',
      /duplicate job name "daily" \(also schedule.jobs\[0\]\)/,
    ],
    ['unknown type', [{ ...good, type: 'log' }], 'schedule.jobs[0].type', /unknown job type "log"/],
    ['never runs', [{ ...good, when: '0 0 30 2 *' }], 'schedule.jobs[0].when', /never runs/],
    ['bad simple form', [{ ...good, when: 'weekly on sunday at 24:00' }], 'schedule.jobs[0].when', /not a time of day/],
    ['empty databases', [{ ...good, databases: [] }], 'schedule.jobs[0].databases', /non-empty list/],
    ['files not boolean', [{ ...good, files: 'yes' }], 'schedule.jobs[0].files', /true or false/],
    ['unknown field', [{ ...good, every: 'day' }], 'schedule.jobs[0].every', /not a job field/],
    ['not a list', { daily: good }, 'schedule.jobs', /list of jobs/],
  ])('%s', (_name, jobs, path, problem) => {
    const problems = validateJobs(jobs, 'schedule.jobs');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.path).toBe(path);
    expect(problems[0]!.problem).toMatch(problem);
    expect(problems[0]!.hint.length).toBeGreaterThan(10);
  });

  it('checks database names when the known ones are given', () => {
    const problems = validateJobs([{ ...good, databases: ['users', 'ventas'] }], 'schedule.jobs', [
      'users',
      'inventario',
    ]);
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'schedule.jobs[0].databases[1]',
        problem: 'no database named "ventas" in the config',
      }),
    ]);
  });
});

describe('presets', () => {
  it('tiered: full monthly day 1 00:00, differential Sunday 23:30, incremental daily 23:00, verify daily 01:00, drill Saturday 03:00', () => {
    const jobs = tieredPreset();
    expect(jobs.map((j) => [j.name, j.type, toCronPattern(j.when)])).toEqual([
      ['monthly', 'full', '0 0 1 * *'],
      ['weekly', 'differential', '30 23 * * 0'],
      ['daily', 'incremental', '0 23 * * *'],
      ['verify', 'verify', '0 1 * * *'],
      ['drill', 'drill', '0 3 * * 6'],
    ]);
  });

  it('default: one daily full backup of all databases and files at 02:00', () => {
    expect(defaultJobs()).toEqual([
      { name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true },
    ]);
  });
});

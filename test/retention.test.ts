import { describe, expect, it } from 'vitest';
import type { RetentionConfig, RetentionPolicy, SetStatus, SetSummary, SetType } from '../src/core/types.js';
import { isoWeek, jobTimeZonesOf, periodKey, planPrune } from '../src/engine/retention.js';

interface S {
  id: string;
  at: string;
  status?: SetStatus;
  type?: SetType;
  dbs?: string[];
  failed?: string[];
  /** Default 0 (no files: the cases about files say so). */
  files?: number;
  keep?: boolean;
  /** Scheduler job that made it (default `daily`); null: made by hand. */
  job?: string | null;
  /** The groups of its files (SetSummary.fileGroups); absent: not said (older summaries). */
  groups?: ('config' | 'application')[];
  /** Its last verification failed. */
  badVerify?: boolean;
  /** The databases whose last restore drill of it failed (drilled.json); [] drilled and passed. */
  badDrill?: string[];
}

const ALL = ['users', 'inventario', 'auditoria'];

function set(s: S): SetSummary {
  return {
    id: s.id,
    type: s.type ?? 'full',
    status: s.status ?? 'completed',
    description: null,
    startedAt: s.at,
    completedAt: s.at,
    databases: s.dbs ?? ALL,
    failedDatabases: s.failed ?? [],
    files: s.files ?? 0,
    storedBytes: 1000,
    job: s.job === undefined ? 'daily' : s.job,
    keep: s.keep ?? false,
    lastVerified: s.badVerify ? { at: s.at, ok: false } : null,
    path: `/b/${s.id}`,
    ...(s.badDrill ? { lastDrill: { at: s.at, ok: s.badDrill.length === 0, failed: s.badDrill } } : {}),
    ...(s.groups ? { fileGroups: s.groups } : {}),
  };
}

const P = (p: Partial<RetentionPolicy>): RetentionPolicy => ({
  keepLast: 0,
  daily: 0,
  weekly: 0,
  monthly: 0,
  yearly: 0,
  ...p,
});

interface Case {
  name: string;
  sets: S[];
  policy: RetentionConfig;
  now?: string;
  timeZone?: string;
  /** Set id → job, as read from the daily logs. */
  logJobs?: Record<string, string>;
  /** Job → its `timezone` (jobTimeZonesOf of the config's jobs). */
  jobTimeZones?: Record<string, string>;
  /** id → reasons it is kept (exact, in order); ids not listed must be removed. */
  keep: Record<string, string[]>;
  /** id → exact removal reason, when the case is about it. */
  removeReason?: Record<string, string>;
}

const cases: Case[] = [
  {
    name: 'all zeros except keepLast keeps the N newest',
    sets: [
      { id: 'a', at: '2026-11-22T02:00:00Z' },
      { id: 'b', at: '2026-11-21T02:00:00Z' },
      { id: 'c', at: '2026-11-20T02:00:00Z' },
      { id: 'd', at: '2026-11-19T02:00:00Z' },
      { id: 'e', at: '2026-11-18T02:00:00Z' },
    ],
    policy: P({ keepLast: 3 }),
    timeZone: 'UTC',
    keep: {
      a: ['last 1', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      b: ['last 2'],
      c: ['last 3'],
    },
    removeReason: { d: 'not kept by any rule', e: 'not kept by any rule' },
  },
  {
    name: 'all zeros: only the newest set of every database survives',
    sets: [
      { id: 'u2', at: '2026-11-22T03:00:00Z', dbs: ['users'] },
      { id: 'all2', at: '2026-11-22T02:00:00Z' },
      { id: 'all1', at: '2026-11-21T02:00:00Z' },
      { id: 'u1', at: '2026-11-21T01:00:00Z', dbs: ['users'] },
    ],
    policy: P({}),
    timeZone: 'UTC',
    keep: { u2: ['newest of users'], all2: ['newest of inventario', 'newest of auditoria'] },
  },
  {
    name: 'several sets a day: the newest of each day is kept',
    sets: [
      { id: 'd2-20h', at: '2026-11-21T20:00:00Z' },
      { id: 'd2-02h', at: '2026-11-21T02:00:00Z' },
      { id: 'd1-22h', at: '2026-11-20T22:00:00Z' },
      { id: 'd1-13h', at: '2026-11-20T13:00:00Z' },
      { id: 'd1-01h', at: '2026-11-20T01:00:00Z' },
      { id: 'd0-23h', at: '2026-11-19T23:00:00Z' },
    ],
    policy: P({ daily: 2 }),
    timeZone: 'UTC',
    keep: {
      'd2-20h': ['daily 2026-11-21', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'd1-22h': ['daily 2026-11-20'],
    },
  },
  {
    name: 'gaps of days do not use up the daily count',
    sets: [
      { id: 'n21', at: '2026-11-21T02:00:00Z' },
      { id: 'n20', at: '2026-11-20T02:00:00Z' },
      { id: 'n05', at: '2026-11-05T02:00:00Z' },
      { id: 'n01', at: '2026-11-01T02:00:00Z' },
    ],
    policy: P({ daily: 3 }),
    now: '2026-11-30T00:00:00Z',
    timeZone: 'UTC',
    keep: {
      n21: ['daily 2026-11-21', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      n20: ['daily 2026-11-20'],
      n05: ['daily 2026-11-05'],
    },
  },
  {
    name: 'weeks run Monday to Sunday (Sunday night and Monday morning are different weeks)',
    sets: [
      { id: 'mon', at: '2026-11-23T00:30:00Z' },
      { id: 'sun', at: '2026-11-22T23:30:00Z' },
      { id: 'mon-before', at: '2026-11-16T08:00:00Z' },
    ],
    policy: P({ weekly: 2 }),
    now: '2026-11-24T00:00:00Z',
    timeZone: 'UTC',
    keep: {
      mon: ['weekly 2026-W48', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      sun: ['weekly 2026-W47'],
    },
  },
  {
    name: 'ISO week spanning a year boundary: Tue 2025-12-30 and Fri 2026-01-02 are both 2026-W01',
    sets: [
      { id: 'jan2', at: '2026-01-02T10:00:00Z' },
      { id: 'dec30', at: '2025-12-30T10:00:00Z' },
      { id: 'dec28', at: '2025-12-28T10:00:00Z' },
    ],
    policy: P({ weekly: 3 }),
    now: '2026-01-03T00:00:00Z',
    timeZone: 'UTC',
    keep: {
      jan2: ['weekly 2026-W01', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      dec28: ['weekly 2025-W52'],
    },
  },
  {
    name: 'month and year boundaries',
    sets: [
      { id: 'y26', at: '2026-01-01T00:01:00Z' },
      { id: 'y25-dec', at: '2025-12-31T23:59:00Z' },
      { id: 'y25-dec-early', at: '2025-12-01T00:00:00Z' },
      { id: 'y25-nov', at: '2025-11-30T23:59:59Z' },
      { id: 'y24', at: '2024-06-15T12:00:00Z' },
    ],
    policy: P({ monthly: 2, yearly: 3 }),
    now: '2026-01-02T00:00:00Z',
    timeZone: 'UTC',
    keep: {
      y26: ['monthly 2026-01', 'yearly 2026', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'y25-dec': ['monthly 2025-12', 'yearly 2025'],
      y24: ['yearly 2024'],
    },
  },
  {
    name: 'periods are local: 00:30 in Madrid is still the previous day in UTC',
    sets: [
      { id: 'late', at: '2026-11-21T23:30:00Z' }, // 2026-11-22 00:30 CET
      { id: 'early', at: '2026-11-21T01:00:00Z' }, // 2026-11-21 02:00 CET
    ],
    policy: P({ daily: 5 }),
    timeZone: 'Europe/Madrid',
    keep: {
      late: ['daily 2026-11-22', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      early: ['daily 2026-11-21'],
    },
  },
  {
    name: 'DST end (Madrid, 25-hour day 2026-10-25): 00:30 CEST and 23:30 CET are the same day',
    sets: [
      { id: 'next', at: '2026-10-25T23:30:00Z' }, // 2026-10-26 00:30 CET
      { id: 'night', at: '2026-10-25T22:30:00Z' }, // 2026-10-25 23:30 CET
      { id: 'repeat-hour', at: '2026-10-25T01:30:00Z' }, // 02:30 CET (second time)
      { id: 'dawn', at: '2026-10-24T22:30:00Z' }, // 2026-10-25 00:30 CEST
      { id: 'sat', at: '2026-10-24T21:30:00Z' }, // 2026-10-24 23:30 CEST
    ],
    policy: P({ daily: 3 }),
    timeZone: 'Europe/Madrid',
    keep: {
      next: ['daily 2026-10-26', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      night: ['daily 2026-10-25'],
      sat: ['daily 2026-10-24'],
    },
  },
  {
    name: 'DST start (New York, 23-hour day 2026-03-08) and its week',
    sets: [
      { id: 'mon', at: '2026-03-09T04:30:00Z' }, // 2026-03-09 00:30 EDT (Monday)
      { id: 'sun-late', at: '2026-03-09T03:30:00Z' }, // 2026-03-08 23:30 EDT (Sunday)
      { id: 'sun-early', at: '2026-03-08T05:30:00Z' }, // 2026-03-08 00:30 EST
    ],
    policy: P({ daily: 5, weekly: 5 }),
    timeZone: 'America/New_York',
    keep: {
      mon: ['daily 2026-03-09', 'weekly 2026-W11', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'sun-late': ['daily 2026-03-08', 'weekly 2026-W10'],
    },
  },
  {
    name: "a job's periods are its zone's (New York, the machine UTC): 23:30 and 00:30 there are two days, DST start",
    sets: [
      { id: 'mon', at: '2026-03-09T04:30:00Z', job: 'ny' }, // 2026-03-09 00:30 EDT, 04:30 UTC
      { id: 'sun-late', at: '2026-03-09T03:30:00Z', job: 'ny' }, // 2026-03-08 23:30 EDT (the 23-hour day)
      { id: 'sun-early', at: '2026-03-08T05:30:00Z', job: 'ny' }, // 2026-03-08 00:30 EST
      { id: 'sat', at: '2026-03-08T04:30:00Z', job: 'ny' }, // 2026-03-07 23:30 EST
    ],
    policy: P({ daily: 5, weekly: 5 }),
    timeZone: 'UTC',
    jobTimeZones: { ny: 'America/New_York' },
    keep: {
      mon: ['daily 2026-03-09', 'weekly 2026-W11', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'sun-late': ['daily 2026-03-08', 'weekly 2026-W10'],
      sat: ['daily 2026-03-07'],
    },
  },
  {
    name: "each job in its own zone, one without a zone in the machine's: DST end in Madrid (25-hour day)",
    sets: [
      { id: 'mad-mon', at: '2026-10-25T23:30:00Z', job: 'madrid', dbs: ['users'] }, // 2026-10-26 00:30 CET
      { id: 'mad-sun', at: '2026-10-25T22:30:00Z', job: 'madrid', dbs: ['users'] }, // 2026-10-25 23:30 CET
      { id: 'mad-dawn', at: '2026-10-24T22:30:00Z', job: 'madrid', dbs: ['users'] }, // 2026-10-25 00:30 CEST
      { id: 'utc-late', at: '2026-10-25T23:30:00Z', job: 'utc', dbs: ['inventario'] }, // 2026-10-25 UTC
      { id: 'utc-early', at: '2026-10-25T22:30:00Z', job: 'utc', dbs: ['inventario'] }, // the same UTC day
    ],
    policy: P({ daily: 5 }),
    now: '2026-10-27T12:00:00Z',
    timeZone: 'UTC',
    jobTimeZones: { madrid: 'Europe/Madrid' },
    keep: {
      'mad-mon': ['daily 2026-10-26', 'newest of users'],
      'mad-sun': ['daily 2026-10-25'],
      'utc-late': ['daily 2026-10-25', 'newest of inventario'],
    },
  },
  {
    name: 'pre_restore and keep-marked sets are never pruned',
    sets: [
      { id: 'new', at: '2026-11-22T02:00:00Z' },
      { id: 'safety', at: '2026-11-10T02:00:00Z', type: 'pre_restore' },
      { id: 'marked', at: '2025-01-10T02:00:00Z', keep: true },
      { id: 'old', at: '2025-01-09T02:00:00Z' },
    ],
    policy: P({}),
    timeZone: 'UTC',
    keep: {
      new: ['newest of users', 'newest of inventario', 'newest of auditoria'],
      safety: ['pre_restore safety copy'],
      marked: ['keep mark'],
    },
  },
  {
    name: 'partial and failed sets do not count for rules; removed only when superseded',
    sets: [
      { id: 'failed-new', at: '2026-11-22T02:00:00Z', status: 'failed', failed: ALL },
      { id: 'partial-new', at: '2026-11-21T02:00:00Z', status: 'partial', failed: ['auditoria'] },
      { id: 'done', at: '2026-11-20T02:00:00Z' },
      { id: 'partial-old', at: '2026-11-19T02:00:00Z', status: 'partial', failed: ['users'] },
      { id: 'done-old', at: '2026-11-18T02:00:00Z' },
      { id: 'failed-old', at: '2026-11-17T02:00:00Z', status: 'failed', failed: ALL },
    ],
    policy: P({ daily: 2 }),
    timeZone: 'UTC',
    keep: {
      'failed-new': ['failed, no newer completed full set'],
      'partial-new': ['partial, no newer completed set of users, inventario'],
      done: ['daily 2026-11-20', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'done-old': ['daily 2026-11-18'],
    },
    removeReason: { 'partial-old': 'partial, superseded by done', 'failed-old': 'failed, superseded by done-old' },
  },
  {
    name: 'each kind of backup keeps its own history (grouped by type, databases, files)',
    sets: [
      { id: 'users-23h', at: '2026-11-21T23:00:00Z', dbs: ['users'], files: 0 },
      { id: 'all-02h', at: '2026-11-21T02:00:00Z', files: 3 },
      { id: 'schema', at: '2026-11-21T01:00:00Z', type: 'schema', files: 0 },
      { id: 'users-prev', at: '2026-11-20T23:00:00Z', dbs: ['users'], files: 0 },
      { id: 'all-prev', at: '2026-11-20T02:00:00Z', files: 3 },
    ],
    policy: P({ daily: 1 }),
    timeZone: 'UTC',
    keep: {
      'users-23h': ['daily 2026-11-21', 'newest of users'],
      'all-02h': ['daily 2026-11-21', 'newest of inventario', 'newest of auditoria', 'newest of files'],
      schema: [
        'daily 2026-11-21',
        'newest schema of users',
        'newest schema of inventario',
        'newest schema of auditoria',
      ],
    },
  },
  {
    name: 'a set dated after now (clock moved back) is kept',
    sets: [
      { id: 'future', at: '2026-12-01T00:00:00Z', dbs: ['users'] },
      { id: 'now', at: '2026-11-22T00:00:00Z' },
      { id: 'old', at: '2026-11-21T00:00:00Z' },
    ],
    policy: P({ keepLast: 1 }),
    now: '2026-11-22T12:00:00Z',
    timeZone: 'UTC',
    keep: {
      future: ['dated after now (clock skew)', 'last 1', 'newest of users'],
      now: ['last 1', 'newest of inventario', 'newest of auditoria'],
    },
  },
  {
    name: 'counts larger than the history keep everything; reasons accumulate across rules',
    sets: [
      { id: 'b', at: '2026-11-22T02:00:00Z' },
      { id: 'a', at: '2026-10-31T02:00:00Z' },
    ],
    policy: P({ keepLast: 30, daily: 12, weekly: 12, monthly: 12, yearly: 5 }),
    timeZone: 'UTC',
    keep: {
      b: [
        'last 1',
        'daily 2026-11-22',
        'weekly 2026-W47',
        'monthly 2026-11',
        'yearly 2026',
        'newest of users',
        'newest of inventario',
        'newest of auditoria',
      ],
      a: ['last 2', 'daily 2026-10-31', 'weekly 2026-W44', 'monthly 2026-10'],
    },
  },
  {
    name: 'issue 10 #7: a set made by hand that morning survives three catch-up sets of the same group the same day',
    sets: [
      { id: 'daily', at: '2026-11-22T11:20:00Z', job: 'daily' },
      { id: 'weekly', at: '2026-11-22T11:10:00Z', job: 'weekly' },
      { id: 'monthly', at: '2026-11-22T11:00:00Z', job: 'monthly' },
      { id: 'upgrade', at: '2026-11-22T09:00:00Z', job: null },
    ],
    policy: P({ keepLast: 3, daily: 30, weekly: 12, monthly: 12, yearly: 5 }),
    timeZone: 'UTC',
    keep: {
      daily: [
        'last 1',
        'daily 2026-11-22',
        'weekly 2026-W47',
        'monthly 2026-11',
        'yearly 2026',
        'newest of users',
        'newest of inventario',
        'newest of auditoria',
      ],
      weekly: ['last 1', 'daily 2026-11-22', 'weekly 2026-W47', 'monthly 2026-11', 'yearly 2026'],
      monthly: ['last 1', 'daily 2026-11-22', 'weekly 2026-W47', 'monthly 2026-11', 'yearly 2026'],
      upgrade: ['by hand, 0 days old (kept 30 days)', 'by hand, newest 1 of 5'],
    },
  },
  {
    name: "each job considers only its own sets: a busy job never pushes out another job's set of the same group",
    sets: [
      { id: 'often-3', at: '2026-11-22T03:00:00Z', job: 'often' },
      { id: 'often-2', at: '2026-11-22T02:00:00Z', job: 'often' },
      { id: 'often-1', at: '2026-11-22T01:00:00Z', job: 'often' },
      { id: 'nightly', at: '2026-11-21T23:00:00Z', job: 'nightly' },
    ],
    policy: P({ keepLast: 1 }),
    keep: {
      'often-3': ['last 1', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      nightly: ['last 1'],
    },
    removeReason: { 'often-2': 'not kept by any rule' },
  },
  {
    name: 'sets made by hand: kept 30 days, the newest 5 completed ones whatever their age, then removed, saying why',
    sets: [
      { id: 'job', at: '2026-11-22T02:00:00Z', job: 'daily' },
      { id: 'h-recent', at: '2026-11-02T10:00:00Z', job: null },
      { id: 'h-partial', at: '2026-10-30T10:00:00Z', job: null, status: 'partial', failed: ['users'] },
      { id: 'h2', at: '2026-09-01T10:00:00Z', job: null },
      { id: 'h3', at: '2026-08-01T10:00:00Z', job: null },
      { id: 'h4', at: '2026-07-01T10:00:00Z', job: null },
      { id: 'h5', at: '2026-06-01T10:00:00Z', job: null },
      { id: 'h6', at: '2026-05-01T10:00:00Z', job: null },
      { id: 'h7-keep', at: '2026-04-01T10:00:00Z', job: null, keep: true },
    ],
    policy: P({ keepLast: 1 }),
    keep: {
      job: ['last 1', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'h-recent': ['by hand, 20 days old (kept 30 days)', 'by hand, newest 1 of 5'],
      'h-partial': ['by hand, 23 days old (kept 30 days)'],
      h2: ['by hand, newest 2 of 5'],
      h3: ['by hand, newest 3 of 5'],
      h4: ['by hand, newest 4 of 5'],
      h5: ['by hand, newest 5 of 5'],
      'h7-keep': ['keep mark'],
    },
    removeReason: { h6: 'by hand, older than 30 days and not among the newest 5' },
  },
  {
    name: 'retention.manual is configurable; 0 and 0 keep nothing made by hand but the newest of a database',
    sets: [
      { id: 'h1', at: '2026-11-22T10:00:00Z', job: null, dbs: ['users'] },
      { id: 'h2', at: '2026-11-21T10:00:00Z', job: null, dbs: ['users'] },
      { id: 'h3', at: '2026-11-20T10:00:00Z', job: null, dbs: ['users'] },
    ],
    policy: { ...P({}), manual: { days: 0, keepLast: 0 } },
    keep: { h1: ['newest of users'] },
    removeReason: {
      h2: 'by hand, older than 0 days and not among the newest 0',
      h3: 'by hand, older than 0 days and not among the newest 0',
    },
  },
  {
    name: "a set without a job mark that the log gives a job follows that job's rules; the others are made by hand",
    sets: [
      { id: 'new', at: '2026-11-22T02:00:00Z', job: 'daily' },
      { id: 'old-logged', at: '2026-11-21T02:00:00Z', job: null },
      { id: 'old-hand', at: '2026-11-20T02:00:00Z', job: null },
    ],
    policy: P({ keepLast: 1 }),
    logJobs: { 'old-logged': 'daily' },
    keep: {
      new: ['last 1', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'old-hand': ['by hand, 2 days old (kept 30 days)', 'by hand, newest 1 of 5'],
    },
    removeReason: { 'old-logged': 'not kept by any rule' },
  },
  {
    name: 'the newest set holding the files is kept like the newest of a database (create --no-files, keepLast 1)',
    sets: [
      { id: 'nofiles-2', at: '2026-11-22T10:00:00Z', job: null, dbs: ['users'] },
      { id: 'nofiles-1', at: '2026-11-22T09:00:00Z', job: null, dbs: ['users'] },
      { id: 'files-new', at: '2026-11-21T10:00:00Z', job: null, dbs: ['users'], files: 4 },
      { id: 'files-old', at: '2026-11-20T10:00:00Z', job: null, dbs: ['users'], files: 4 },
    ],
    policy: { ...P({ keepLast: 1 }), manual: { days: 0, keepLast: 1 } },
    keep: {
      'nofiles-2': ['by hand, newest 1 of 1', 'newest of users'],
      'files-new': ['newest of files'],
    },
    removeReason: {
      'nofiles-1': 'by hand, older than 0 days and not among the newest 1',
      'files-old': 'by hand, older than 0 days and not among the newest 1',
    },
  },
  {
    name: "a job without files does not push out another job's newest files; partial sets hold files too",
    sets: [
      { id: 'db-only', at: '2026-11-22T02:00:00Z', dbs: ['users'], job: 'hourly' },
      { id: 'files-partial', at: '2026-11-21T12:00:00Z', dbs: ['users'], files: 2, status: 'partial', job: 'full' },
      { id: 'files-done', at: '2026-11-21T02:00:00Z', dbs: ['users'], files: 2, job: 'full' },
      { id: 'files-older', at: '2026-11-20T02:00:00Z', dbs: ['users'], files: 2, job: 'full' },
    ],
    policy: P({ keepLast: 1 }),
    keep: {
      'db-only': ['last 1', 'newest of users'],
      'files-partial': ['partial, no newer completed set of config files, application files'],
      'files-done': ['last 1', 'newest of files'],
    },
    removeReason: { 'files-older': 'not kept by any rule' },
  },
  {
    name: 'files per group: the newest config and the newest application files are each kept',
    sets: [
      { id: 'config-only', at: '2026-11-22T02:00:00Z', files: 1, groups: ['config'] },
      { id: 'both', at: '2026-11-21T02:00:00Z', files: 5, groups: ['config', 'application'] },
      { id: 'both-old', at: '2026-11-20T02:00:00Z', files: 5, groups: ['config', 'application'] },
    ],
    policy: P({}),
    keep: {
      'config-only': ['newest of users', 'newest of inventario', 'newest of auditoria', 'newest of config files'],
      both: ['newest of application files'],
    },
  },
  {
    name: 'the newest files failed their verification: the newest that did not is kept too',
    sets: [
      { id: 'bad', at: '2026-11-22T02:00:00Z', files: 2, dbs: ['users'], badVerify: true },
      { id: 'good', at: '2026-11-21T02:00:00Z', files: 2, dbs: ['users'] },
      { id: 'older', at: '2026-11-20T02:00:00Z', files: 2, dbs: ['users'] },
    ],
    policy: P({}),
    keep: {
      bad: ['newest of users', 'newest of files'],
      good: [
        'newest of files that did not fail verification',
        'newest of users that did not fail verification',
        'newest of users whose chain can be restored',
      ],
    },
  },
  {
    name: 'a set that failed its verification holds no day: the newest good set of that day is kept, not removed',
    sets: [
      { id: 'd2', at: '2026-11-22T02:00:00Z' },
      { id: 'd1-bad', at: '2026-11-21T14:00:00Z', badVerify: true },
      { id: 'd1-good', at: '2026-11-21T02:00:00Z' },
      { id: 'd0', at: '2026-11-20T02:00:00Z' },
    ],
    policy: P({ daily: 2 }),
    timeZone: 'UTC',
    keep: {
      d2: ['daily 2026-11-22', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'd1-bad': ['daily 2026-11-21, not counted (failed verification)'],
      'd1-good': ['daily 2026-11-21'],
    },
  },
  {
    name: 'keepLast counts only sets that did not fail their verification (by a job and by hand)',
    sets: [
      { id: 'j3', at: '2026-11-22T02:00:00Z' },
      { id: 'j2-bad', at: '2026-11-21T02:00:00Z', badVerify: true },
      { id: 'j1', at: '2026-11-20T02:00:00Z' },
      { id: 'j0', at: '2026-11-19T02:00:00Z' },
      { id: 'h2-bad', at: '2026-11-18T02:00:00Z', job: null, badVerify: true, dbs: ['users'] },
      { id: 'h1', at: '2026-11-17T02:00:00Z', job: null, dbs: ['users'] },
      { id: 'h0', at: '2026-11-16T02:00:00Z', job: null, dbs: ['users'] },
    ],
    policy: { ...P({ keepLast: 2 }), manual: { days: 0, keepLast: 1 } },
    timeZone: 'UTC',
    keep: {
      j3: ['last 1', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'j2-bad': ['among the last 2, not counted (failed verification)'],
      j1: ['last 2'],
      'h2-bad': ['by hand, among the newest 1, not counted (failed verification)'],
      h1: ['by hand, newest 1 of 1'],
    },
  },
  {
    name: 'a set whose restore drill failed holds no day: the newest good set of that day is kept, not removed',
    sets: [
      { id: 'd2', at: '2026-11-22T02:00:00Z' },
      { id: 'd1-bad', at: '2026-11-21T14:00:00Z', badDrill: ['inventario'] },
      { id: 'd1-good', at: '2026-11-21T02:00:00Z', badDrill: [] },
      { id: 'd0', at: '2026-11-20T02:00:00Z' },
    ],
    policy: P({ daily: 2, weekly: 1 }),
    timeZone: 'UTC',
    keep: {
      d2: ['daily 2026-11-22', 'weekly 2026-W47', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'd1-bad': ['daily 2026-11-21, not counted (failed drill)'],
      'd1-good': ['daily 2026-11-21'],
    },
  },
  {
    name: 'keepLast counts only sets whose restore drill did not fail (by a job and by hand); the newest rule stays',
    sets: [
      { id: 'j3-bad', at: '2026-11-22T02:00:00Z', badDrill: ['users'] },
      { id: 'j2', at: '2026-11-21T02:00:00Z' },
      { id: 'j1', at: '2026-11-20T02:00:00Z' },
      { id: 'j0', at: '2026-11-19T02:00:00Z' },
      { id: 'h2-bad', at: '2026-11-18T02:00:00Z', job: null, badDrill: ['users'], dbs: ['users'] },
      { id: 'h1', at: '2026-11-17T02:00:00Z', job: null, dbs: ['users'] },
      { id: 'h0', at: '2026-11-16T02:00:00Z', job: null, dbs: ['users'] },
    ],
    policy: { ...P({ keepLast: 2 }), manual: { days: 0, keepLast: 1 } },
    timeZone: 'UTC',
    keep: {
      'j3-bad': [
        'among the last 2, not counted (failed drill)',
        'newest of users',
        'newest of inventario',
        'newest of auditoria',
      ],
      j2: ['last 1', 'newest of users whose restore drill did not fail'],
      j1: ['last 2'],
      'h2-bad': ['by hand, among the newest 1, not counted (failed drill)'],
      h1: ['by hand, newest 1 of 1'],
    },
  },
  {
    name: 'a set that failed both its verification and its drill is said once, as failed verification',
    sets: [
      { id: 'd1', at: '2026-11-22T02:00:00Z' },
      { id: 'd0-bad', at: '2026-11-21T14:00:00Z', badVerify: true, badDrill: ['users'] },
      { id: 'd0', at: '2026-11-21T02:00:00Z' },
    ],
    policy: P({ daily: 2 }),
    timeZone: 'UTC',
    keep: {
      d1: ['daily 2026-11-22', 'newest of users', 'newest of inventario', 'newest of auditoria'],
      'd0-bad': ['daily 2026-11-21, not counted (failed verification)'],
      d0: ['daily 2026-11-21'],
    },
  },
];

describe('planPrune', () => {
  it.each(cases)('$name', (c) => {
    const sets = c.sets.map(set);
    const opts = {
      timeZone: c.timeZone,
      ...(c.logJobs ? { logJobs: c.logJobs } : {}),
      ...(c.jobTimeZones ? { jobTimeZones: c.jobTimeZones } : {}),
    };
    const decisions = planPrune(sets, c.policy, new Date(c.now ?? '2026-11-22T12:00:00Z'), opts);
    expect(decisions.map((d) => d.id).sort()).toEqual(c.sets.map((s) => s.id).sort());
    for (const d of decisions) {
      expect(d.reasons.length).toBeGreaterThan(0);
      if (c.keep[d.id]) {
        expect({ id: d.id, action: d.action, reasons: d.reasons }).toEqual({
          id: d.id,
          action: 'keep',
          reasons: c.keep[d.id],
        });
      } else {
        expect({ id: d.id, action: d.action }).toEqual({ id: d.id, action: 'remove' });
        if (c.removeReason?.[d.id]) expect(d.reasons).toEqual([c.removeReason[d.id]]);
      }
    }
  });

  it('is pure: same input, same output, input untouched', () => {
    const sets = cases[2]!.sets.map(set);
    const copy = structuredClone(sets);
    const a = planPrune(sets, P({ daily: 1 }), new Date('2026-11-22T00:00:00Z'), { timeZone: 'UTC' });
    const b = planPrune(sets, P({ daily: 1 }), new Date('2026-11-22T00:00:00Z'), { timeZone: 'UTC' });
    expect(a).toEqual(b);
    expect(sets).toEqual(copy);
  });

  it('returns decisions newest first whatever the input order', () => {
    const sets = [set({ id: 'old', at: '2026-01-01T00:00:00Z' }), set({ id: 'new', at: '2026-02-01T00:00:00Z' })];
    expect(planPrune(sets, P({ keepLast: 5 }), new Date('2026-03-01T00:00:00Z')).map((d) => d.id)).toEqual([
      'new',
      'old',
    ]);
  });
});

describe('jobTimeZonesOf: the zones of the jobs that have one', () => {
  it('by job name; a job without a zone, or with one this Node does not know, is left to the machine', () => {
    const zones = jobTimeZonesOf([
      { name: 'ny', timezone: 'America/New_York' },
      { name: 'local' },
      { name: 'typo', timezone: 'Europe/Madird' },
      { name: '__proto__', timezone: 'Asia/Tokyo' },
    ]);
    expect(zones).toEqual(
      Object.fromEntries([
        ['ny', 'America/New_York'],
        ['__proto__', 'Asia/Tokyo'],
      ]),
    );
    // A job named as an object's own fields is a job like another
    const sets = [set({ id: 'a', at: '2026-11-22T20:00:00Z', job: '__proto__' })];
    const [d] = planPrune(sets, P({ daily: 1 }), new Date('2026-11-23T00:00:00Z'), { jobTimeZones: zones });
    expect(d!.reasons[0]).toBe('daily 2026-11-23');
    const [local] = planPrune(
      [set({ id: 'a', at: '2026-11-22T20:00:00Z', job: 'local' })],
      P({ daily: 1 }),
      new Date('2026-11-23T00:00:00Z'),
      {
        timeZone: 'UTC',
        jobTimeZones: zones,
      },
    );
    expect(local!.reasons[0]).toBe('daily 2026-11-22');
  });
});

describe('period keys', () => {
  it.each([
    [2026, 11, 22, '2026-W47'],
    [2026, 11, 23, '2026-W48'],
    [2025, 12, 29, '2026-W01'],
    [2027, 1, 3, '2026-W53'],
    [2021, 1, 3, '2020-W53'],
    [2024, 12, 30, '2025-W01'],
  ])('%i-%i-%i is ISO week %s', (y, m, d, label) => {
    const w = isoWeek(y, m, d);
    expect(`${w.year}-W${String(w.week).padStart(2, '0')}`).toBe(label);
  });

  it('labels periods in the given zone', () => {
    const at = new Date('2026-12-31T23:30:00Z');
    expect(periodKey('yearly', at, 'UTC')).toBe('2026');
    expect(periodKey('yearly', at, 'Europe/Madrid')).toBe('2027');
    expect(periodKey('monthly', at, 'America/Santiago')).toBe('2026-12');
  });
});

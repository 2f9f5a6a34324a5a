/**
 * The chain planners as data (chain.ts, retention's view of chains): which set a delta applies on, the chain a set
 * needs and what breaks it, the sets a restore "as of" a time applies and those it passes over, with their phrases
 * in English and Spanish. Why one file of about 590 lines: every table shares the same month of pure ChainSets.
 */
import { describe, expect, it } from 'vitest';
import type { SetSummary, SetType } from '../src/core/types.js';
import {
  ambiguousAtTime,
  chainOf,
  chooseBase,
  parseAtTime,
  planAt,
  atWithin,
  setChain,
  noSetAt,
  type ChainSet,
} from '../src/engine/chain.js';
import { say } from '../src/ui/i18n/index.js';
import { planPrune } from '../src/engine/retention.js';
import { compareSetIds } from '../src/engine/set-id.js';
import { english, phrase } from '../src/core/phrases.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';
import { tieredPreset } from '../src/scheduler/when.js';

/** A set in a table: id `d<day>_<hh>`, type, and per database its base (null: full) or a problem. */
interface T {
  id: string;
  type?: SetType;
  status?: ChainSet['status'];
  at: string;
  dbs: Record<string, string | null | { problem: string; base?: string | null; failed?: true }>;
  bytes?: number;
}

function cs(t: T): ChainSet {
  const entries: ChainSet['entries'] = {};
  for (const [db, v] of Object.entries(t.dbs)) {
    const problem = v !== null && typeof v === 'object' ? v.problem : null;
    const base = v !== null && typeof v === 'object' ? (v.base ?? null) : v;
    const failed = v !== null && typeof v === 'object' && v.failed ? { failed: true } : {};
    entries[db] = { base, storedBytes: t.bytes ?? 10, problem, ...failed };
  }
  return {
    id: t.id,
    type: t.type ?? (Object.values(t.dbs).some((v) => typeof v === 'string') ? 'incremental' : 'full'),
    status: t.status ?? 'completed',
    startedAt: t.at,
    completedAt: t.at.replace(':00Z', ':30Z'),
    entries,
  };
}

// A month: full on the 1st, incrementals, a differential on the 8th, incrementals after it.
const month: ChainSet[] = [
  cs({ id: 'F1', at: '2026-11-01T00:00:00Z', dbs: { users: null, pg: null }, bytes: 1000 }),
  cs({ id: 'I2', at: '2026-11-02T23:00:00Z', dbs: { users: 'F1', pg: null } }),
  cs({ id: 'I3', at: '2026-11-03T23:00:00Z', dbs: { users: 'I2', pg: null } }),
  cs({ id: 'D8', type: 'differential', at: '2026-11-08T23:30:00Z', dbs: { users: 'F1', pg: null }, bytes: 50 }),
  cs({ id: 'I9', at: '2026-11-09T23:00:00Z', dbs: { users: 'D8', pg: null } }),
];

describe('chainOf: the chain a set needs, and what breaks it', () => {
  const cases: { name: string; sets: ChainSet[]; id: string; members: string[]; problem?: RegExp }[] = [
    { name: 'a full needs itself', sets: month, id: 'F1', members: ['F1'] },
    { name: 'incrementals back to the full', sets: month, id: 'I3', members: ['F1', 'I2', 'I3'] },
    {
      name: 'an incremental after a differential skips the older incrementals',
      sets: month,
      id: 'I9',
      members: ['F1', 'D8', 'I9'],
    },
    {
      name: 'a gap: the base was deleted',
      sets: month.filter((s) => s.id !== 'I2'),
      id: 'I3',
      members: ['I3'],
      problem: /set I2 \(needed by I3\) is missing/,
    },
    {
      name: 'a damaged member',
      sets: month.map((s) =>
        s.id === 'D8'
          ? cs({
              id: 'D8',
              type: 'differential',
              at: '2026-11-08T23:30:00Z',
              dbs: { users: { problem: 'stored file x is missing', base: 'F1' } },
            })
          : s,
      ),
      id: 'I9',
      members: ['I9'],
      problem: /users in set D8 \(needed by I9\): stored file x is missing/,
    },
    {
      name: 'a member without the database',
      sets: [cs({ id: 'F1', at: '2026-11-01T00:00:00Z', dbs: { pg: null } }), month[1]!],
      id: 'I2',
      members: ['I2'],
      problem: /set F1 \(needed by I2\) holds no users/,
    },
    {
      name: 'a base newer than its child (damaged manifests)',
      sets: [
        cs({ id: 'A', at: '2026-11-05T00:00:00Z', dbs: { users: null } }),
        cs({ id: 'B', at: '2026-11-04T00:00:00Z', dbs: { users: 'A' } }),
      ],
      id: 'B',
      members: ['B'],
      problem: /not older than B/,
    },
    {
      name: 'a loop',
      sets: [
        cs({ id: 'A', at: '2026-11-05T00:00:00Z', dbs: { users: 'B' } }),
        cs({ id: 'B', at: '2026-11-04T00:00:00Z', dbs: { users: 'A' } }),
      ],
      id: 'A',
      members: ['B', 'A'],
      problem: /set A depends on itself/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const chain = chainOf(c.sets, c.id, 'users');
      expect(chain.members.map((m) => m.id)).toEqual(c.members);
      if (c.problem) expect(chain.problem).toMatch(c.problem);
      else expect(chain.problem).toBeNull();
    });
  }

  it('forks: two incrementals on the same base each have their own chain', () => {
    const forked = [
      ...month.slice(0, 2),
      cs({ id: 'I3a', at: '2026-11-03T23:00:00Z', dbs: { users: 'I2' } }),
      cs({ id: 'I3b', at: '2026-11-03T23:10:00Z', dbs: { users: 'I2' } }),
    ];
    expect(chainOf(forked, 'I3a', 'users').members.map((m) => m.id)).toEqual(['F1', 'I2', 'I3a']);
    expect(chainOf(forked, 'I3b', 'users').members.map((m) => m.id)).toEqual(['F1', 'I2', 'I3b']);
  });

  it('setChain: the union over databases, oldest first', () => {
    expect(setChain(month, 'I9').ids).toEqual(['D8', 'F1', 'I9']);
  });
});

describe('chain problems as phrases: the menu says them in Spanish, the CLI keeps its English', () => {
  it.each([
    [
      'a member missing',
      month.filter((s) => s.id !== 'I2'),
      'set I2 (needed by I3) is missing (pruned or deleted)',
      'falta la copia I2 (la necesita I3) (podada o borrada)',
    ],
    [
      "a member's stored file missing",
      month.map((s) =>
        s.id === 'I2'
          ? {
              ...s,
              entries: {
                ...s.entries,
                users: {
                  ...s.entries['users']!,
                  problem: 'stored file x.pages.zst is missing',
                  problemPhrase: phrase('chain.fileMissing', { file: 'x.pages.zst' }),
                },
              },
            }
          : s,
      ),
      'users in set I2 (needed by I3): stored file x.pages.zst is missing',
      'users en la copia I2 (la necesita I3): falta el archivo guardado x.pages.zst',
    ],
  ])('%s', (_, sets, en, es) => {
    const c = chainOf(sets, 'I3', 'users');
    expect(c.problem).toBe(en);
    expect(english(c.problemPhrase!)).toBe(en);
    expect(PHRASES_ES[c.problemPhrase!.id](c.problemPhrase!.params)).toBe(es);
  });
});

describe('chooseBase: where a differential or incremental applies, or why it becomes a full', () => {
  const cases: {
    name: string;
    sets: ChainSet[];
    type: 'differential' | 'incremental';
    base?: string;
    fallback?: RegExp;
    /** Why an incremental is a differential on the full `base` (chooseBase asDifferential). */
    onFull?: RegExp;
  }[] = [
    { name: 'no set yet', sets: [], type: 'incremental', fallback: /no full backup of users yet/ },
    { name: 'differential: the newest full', sets: month, type: 'differential', base: 'F1' },
    { name: 'incremental: the newest set of any type', sets: month, type: 'incremental', base: 'I9' },
    { name: 'incremental right after a differential', sets: month.slice(0, 4), type: 'incremental', base: 'D8' },
    {
      name: 'the newest base is damaged: full',
      sets: [
        ...month.slice(0, 4),
        cs({
          id: 'I9',
          at: '2026-11-09T23:00:00Z',
          dbs: { users: { problem: 'the set failed verification', base: 'D8' } },
        }),
      ],
      type: 'incremental',
      fallback: /newest backup of users \(I9\) cannot be a base: users in set I9: the set failed verification/,
    },
    {
      name: 'the full of the chain was pruned: full',
      sets: month.filter((s) => s.id !== 'F1'),
      type: 'incremental',
      fallback: /set F1 \(needed by D8\) is missing/,
    },
    {
      name: 'differential with only incrementals left: full',
      sets: month.filter((s) => s.id !== 'F1'),
      type: 'differential',
      fallback: /no full backup of users yet/,
    },
    {
      name: 'schema and pre_restore sets are never bases',
      sets: [
        cs({ id: 'S', type: 'schema', at: '2026-11-01T00:00:00Z', dbs: { users: null } }),
        cs({ id: 'P', type: 'pre_restore', at: '2026-11-02T00:00:00Z', dbs: { users: null } }),
      ],
      type: 'incremental',
      fallback: /no full backup/,
    },
    {
      name: 'a failed entry is skipped for an older good one',
      sets: [
        ...month,
        cs({
          id: 'I10',
          at: '2026-11-10T23:00:00Z',
          status: 'partial',
          dbs: { users: { problem: 'failed in that set (disk full)', failed: true } },
        }),
      ],
      type: 'incremental',
      // it stored nothing of users: the next incremental applies on the set before it (it stored a full)
      base: 'I9',
    },
    {
      name: 'a differential passes over a full where the database failed',
      sets: [
        ...month,
        cs({
          id: 'F10',
          at: '2026-11-10T00:00:00Z',
          status: 'partial',
          dbs: { users: { problem: 'failed in that set (disk full)', failed: true }, pg: null },
        }),
      ],
      type: 'differential',
      base: 'F1',
    },
  ];
  // I9 restores (its chain is whole) but its page map is gone: nothing can be made on it
  const noMap = month.map((x) =>
    x.id === 'I9'
      ? {
          ...x,
          entries: {
            ...x.entries,
            users: { ...x.entries['users']!, noBase: phrase('chain.nextFileMissing', { file: 'databases/m' }) },
          },
        }
      : x,
  );
  cases.push(
    {
      name: 'the newest set restores but its page map is missing: an incremental is a differential on the full, saying why',
      sets: noMap,
      type: 'incremental',
      base: 'F1',
      onFull:
        /newest backup of users \(I9\) cannot be a base: stored file databases\/m is missing \(only a backup made on this set reads it; the set restores without it\)/,
    },
    {
      name: 'the map is missing and the full is damaged: an incremental is a full, saying why the newest is no base',
      sets: noMap.map((x) =>
        x.id === 'F1' ? { ...x, entries: { ...x.entries, users: { ...x.entries['users']!, problem: 'gone' } } } : x,
      ),
      type: 'incremental',
      fallback: /newest backup of users \(I9\) cannot be a base: users in set F1 \(needed by D8\): gone/,
    },
    {
      name: 'a differential applies on the full, the missing map is not read',
      sets: noMap,
      type: 'differential',
      base: 'F1',
    },
  );
  it('a set whose page map alone is missing still restores (its chain is whole), and --at reaches it', () => {
    expect(chainOf(noMap, 'I9', 'users').problem).toBeNull();
    const r = planAt(noMap, new Date('2027-01-01T00:00:00Z'), ['users']);
    expect('setId' in r && r.setId).toBe('I9');
  });
  for (const c of cases) {
    it(c.name, () => {
      const r = chooseBase(c.sets, c.type, 'users', new Date('2026-12-01T00:00:00Z'));
      if (c.base) expect(r).toMatchObject({ base: c.base });
      else expect('fallback' in r && r.fallback).toMatch(c.fallback!);
      const onFull = 'asDifferential' in r && r.asDifferential ? english(r.asDifferential) : undefined;
      if (c.onFull) expect(onFull).toMatch(c.onFull);
      else expect(onFull).toBeUndefined();
    });
  }
  it('a base dated after now (the clock set back): full, said; one dated before now is a base', () => {
    const newest = month.at(-1)!; // I9, 2026-11-09T23:00:00Z
    const before = new Date(Date.parse(newest.startedAt) - 3_600_000);
    const r = chooseBase(month, 'incremental', 'users', before);
    expect('fallback' in r && r.fallback).toMatch(
      /newest backup of users \(I9\) is dated 2026-11-09T23:00:00Z, after this machine's clock: a backup applied on it could never be restored/,
    );
    expect(chooseBase(month, 'incremental', 'users', new Date(Date.parse(newest.startedAt) + 1000))).toMatchObject({
      base: 'I9',
    });
  });
});

describe('planAt: the chain reaching the newest point at or before a time', () => {
  const cases: {
    name: string;
    at: string;
    sets?: ChainSet[];
    setId?: string;
    order?: string[];
    bytes?: number;
    none?: boolean;
    skipped?: string[];
  }[] = [
    { name: 'before the first set', at: '2026-10-31T00:00:00Z', none: true },
    { name: 'exactly at the end of the full', at: '2026-11-01T00:00:30Z', setId: 'F1', order: ['F1'], bytes: 2000 },
    { name: 'just before the full ends', at: '2026-11-01T00:00:29Z', none: true },
    {
      name: 'between incrementals',
      at: '2026-11-03T12:00:00Z',
      setId: 'I2',
      order: ['F1', 'I2'],
      bytes: 1000 + 10 + 10,
    },
    {
      name: 'after the last set',
      at: '2027-01-01T00:00:00Z',
      setId: 'I9',
      order: ['D8', 'F1', 'I9'],
      bytes: 1000 + 50 + 10 + 10,
    },
    {
      name: 'a broken newest chain falls back to an older point, saying why',
      at: '2027-01-01T00:00:00Z',
      sets: month.filter((s) => s.id !== 'D8'),
      setId: 'I3',
      skipped: ['I9'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = planAt(c.sets ?? month, new Date(c.at), ['users', 'pg']);
      if (c.none) return expect('none' in r).toBe(true);
      if ('none' in r) throw new Error(`expected a plan, got none: ${JSON.stringify(r.skipped)}`);
      expect(r.setId).toBe(c.setId);
      expect(r.point).toBe((c.sets ?? month).find((s) => s.id === c.setId)!.completedAt);
      if (c.order) expect([...r.order].sort()).toEqual([...c.order].sort());
      if (c.bytes !== undefined) expect(r.totalBytes).toBe(c.bytes);
      if (c.skipped) expect(r.skipped.map((s) => s.id)).toEqual(c.skipped);
    });
  }
});

describe('planAt within: a time written to the second or minute a set started names that set', () => {
  // I3 started at 2026-11-03 23:00:00Z and ended 30 s later
  it.each([
    ['the second of its id', '2026-11-03T23:00:00Z', 1000, 'I3', 'I2'],
    ['the minute list shows', '2026-11-03T23:00:00Z', 60_000, 'I3', 'I2'],
    ['to the millisecond: the set before (I3 had not ended)', '2026-11-03T23:00:00Z', 0, 'I2', undefined],
    ['inside the chain, no set started then', '2026-11-03T12:00:00Z', 60_000, 'I2', undefined],
    ['the second after it started: it had not ended', '2026-11-03T23:00:01Z', 1000, 'I2', undefined],
    ['the full named: none before it', '2026-11-01T00:00:00Z', 1000, 'F1', null],
  ])('%s', (_, at, within, setId, before) => {
    const r = planAt(month, new Date(at), ['users', 'pg'], { within });
    if ('none' in r) throw new Error(`expected a plan, got none: ${JSON.stringify(r.skipped)}`);
    expect(r.setId).toBe(setId);
    expect(r.startedThen?.before).toBe(before);
  });

  it('a named set whose chain is broken is passed over, saying why', () => {
    const r = planAt(
      month.filter((s) => s.id !== 'D8'),
      new Date('2026-11-09T23:00:00Z'),
      ['users'],
      { within: 1000 },
    );
    if ('none' in r) throw new Error('expected a plan');
    expect(r).toMatchObject({ setId: 'I3', skipped: [{ id: 'I9' }] });
    expect(r.startedThen).toBeUndefined();
  });

  it.each([
    ['2026-11-22 14:30', 60_000],
    ['2026-11-22T14:30:15', 1000],
    ['2026-11-22 14:30:15 UTC', 1000],
    ['2026-11-22T14:30:15+01:00', 1000],
    ['2026-11-22 14:30:15.5', 0],
    ['2026-11-22', 0],
    ['yesterday', 0],
  ])('atWithin(%s) = %i', (text, ms) => expect(atWithin(text)).toBe(ms));
});

describe('retention never removes a set a kept set needs', () => {
  const summary = (id: string, at: string, type: SetType, needs: string[] = []): SetSummary => ({
    id,
    type,
    status: 'completed',
    description: null,
    startedAt: at,
    completedAt: at,
    databases: ['users'],
    failedDatabases: [],
    files: 0,
    storedBytes: 1,
    job: type === 'full' ? 'monthly' : type === 'differential' ? 'weekly' : 'daily',
    keep: false,
    lastVerified: null,
    path: `/b/${id}`,
    ...(needs.length ? { needs } : {}),
  });
  const sets = [
    summary('F1', '2026-10-01T00:00:00Z', 'full'),
    summary('I1', '2026-10-02T23:00:00Z', 'incremental', ['F1']),
    summary('I2', '2026-10-03T23:00:00Z', 'incremental', ['I1']),
    summary('D1', '2026-10-04T23:30:00Z', 'differential', ['F1']),
    summary('I3', '2026-10-05T23:00:00Z', 'incremental', ['D1']),
    summary('I4', '2026-10-06T23:00:00Z', 'incremental', ['I3']),
  ];
  const policy = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 0 } };

  it('keeps the chain of every kept set, with the reason, and says what each kept set needs', () => {
    const d = Object.fromEntries(planPrune(sets, policy, new Date('2026-10-07T00:00:00Z')).map((x) => [x.id, x]));
    expect(d['I4']).toMatchObject({ action: 'keep', needs: ['D1', 'F1', 'I3'] });
    expect(d['I3']).toMatchObject({ action: 'keep', reasons: ['needed by I4 (chain)'], needs: ['D1', 'F1'] });
    expect(d['D1']).toMatchObject({ action: 'keep', reasons: expect.arrayContaining(['last 1']), needs: ['F1'] });
    expect(d['F1']!.action).toBe('keep'); // kept anyway (keepLast of its group), and needed
    expect(d['I2']).toMatchObject({ action: 'remove', reasons: ['not kept by any rule'] });
    expect(d['I1']).toMatchObject({ action: 'remove' }); // needed only by I2, which goes
  });

  it('an older full kept only because a kept incremental needs it', () => {
    const older = [
      summary('F0', '2026-09-01T00:00:00Z', 'full'),
      { ...summary('I0', '2026-09-02T23:00:00Z', 'incremental', ['F0']), keep: true },
    ];
    const d = Object.fromEntries(
      planPrune([...older, ...sets], policy, new Date('2026-10-07T00:00:00Z')).map((x) => [x.id, x]),
    );
    expect(d['I0']).toMatchObject({ action: 'keep', reasons: ['keep mark'], needs: ['F0'] });
    expect(d['F0']).toMatchObject({ action: 'keep', reasons: ['needed by I0 (chain)'] });
  });

  it.each([
    ['deleted', (all: SetSummary[]) => all.filter((x) => x.id !== 'D1')],
    [
      'failed its verification',
      (all: SetSummary[]) =>
        all.map((x) => (x.id === 'D1' ? { ...x, lastVerified: { at: '2026-10-06T00:00:00Z', ok: false } } : x)),
    ],
  ] as const)(
    "the newest sets' chain broken (D1 %s): the newest set whose chain is whole is kept, with its own",
    (_, broken) => {
      const d = Object.fromEntries(
        planPrune(broken(sets), policy, new Date('2026-10-07T00:00:00Z')).map((x) => [x.id, x]),
      );
      expect(d['I2']).toMatchObject({ action: 'keep', reasons: ['newest of users whose chain can be restored'] });
      expect(d['I1']).toMatchObject({ action: 'keep', reasons: ['needed by I2 (chain)'] });
      expect(d['F1']!.action).toBe('keep');
    },
  );
});

describe('restore --at times and the tiered preset', () => {
  it.each([
    ['2026-11-22 14:30', new Date(2026, 10, 22, 14, 30).toISOString()],
    ['2026-11-22T14:30:15', new Date(2026, 10, 22, 14, 30, 15).toISOString()],
    ['2026-11-22', new Date(2026, 10, 22).toISOString()],
    ['2026-11-22 14:30Z', '2026-11-22T14:30:00.000Z'],
    ['2026-11-22T14:30:00+02:00', '2026-11-22T12:30:00.000Z'],
    ['2026-02-31 10:00', null],
    ['2026-11-22 25:00', null],
    ['2026-11-22T14:30:00+25:00', null],
    ['2026-11-22T14:30:00+02:75', null],
    ['2026-11-22T14:30:00-12:00', '2026-11-23T02:30:00.000Z'],
    ['2026-11-22T14:30:00+1400', '2026-11-22T00:30:00.000Z'],
    // as psql prints a timestamptz: hour-only offsets, microseconds (never rounded past the time written)
    ['2026-11-22 14:30:00+00', '2026-11-22T14:30:00.000Z'],
    ['2026-11-22 14:30:00.123999+01', '2026-11-22T13:30:00.123Z'],
    ['2026-11-22 14:30:00-05', '2026-11-22T19:30:00.000Z'],
    ['2026-11-22 14:30:00+15', null],
    // as `date -u "+%F %T %Z"` prints it (GNU date; GMT on some systems), pasted by an operator: UTC
    ['2026-12-04 05:43:31 UTC', '2026-12-04T05:43:31.000Z'],
    ['2026-12-04 05:43:31 utc', '2026-12-04T05:43:31.000Z'],
    ['2026-12-04 05:43:31 GMT', '2026-12-04T05:43:31.000Z'],
    ['  2026-12-04T05:43 Gmt  ', '2026-12-04T05:43:00.000Z'],
    ['2026-12-04 05:43:31.250 UTC', '2026-12-04T05:43:31.250Z'],
    ['2026-12-04 05:43:31Z UTC', null],
    ['2026-12-04 05:43:31+01:00 GMT', null],
    ['2026-12-04 05:43:31 CET', null],
    ['2026-12-04 25:43:31 UTC', null],
    ['UTC', null],
    ['yesterday', null],
  ])('%s', (text, iso) => {
    expect(parseAtTime(text)?.toISOString() ?? null).toBe(iso);
  });

  it('a local time a clock change skipped or repeated is not a time (Madrid, 2026-03-29 and 2026-10-25 02:30)', () => {
    const tz = process.env['TZ'];
    process.env['TZ'] = 'Europe/Madrid';
    try {
      expect(parseAtTime('2026-03-29 02:30')).toBeNull();
      expect(parseAtTime('2026-03-29 03:30')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
      // 02:30 came twice that night: not guessed; each offset given is taken
      expect(parseAtTime('2026-10-25 02:30')).toBeNull();
      expect(ambiguousAtTime('2026-10-25 02:30')).toEqual(['2026-10-25 02:30+02:00', '2026-10-25 02:30+01:00']);
      expect(parseAtTime('2026-10-25 02:30+02:00')?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
      expect(parseAtTime('2026-10-25 02:30+01:00')?.toISOString()).toBe('2026-10-25T01:30:00.000Z');
      expect(parseAtTime('2026-10-25 03:30')?.toISOString()).toBe('2026-10-25T02:30:00.000Z');
      expect(ambiguousAtTime('2026-10-25 03:30')).toBeNull();
      expect(ambiguousAtTime('2026-03-29 02:30')).toBeNull();
      // UTC is one time whatever the local clock did
      expect(ambiguousAtTime('2026-10-25 02:30 UTC')).toBeNull();
      expect(parseAtTime('2026-10-25 02:30 UTC')?.toISOString()).toBe('2026-10-25T02:30:00.000Z');
      expect(parseAtTime('2026-03-29 02:30 GMT')?.toISOString()).toBe('2026-03-29T02:30:00.000Z');
    } finally {
      if (tz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = tz;
    }
  });

  it('tiered: full day 1 00:00, differential Sundays 23:30, incremental daily 23:00, verification daily 01:00', () => {
    const jobs = tieredPreset().map((j) => [j.name, j.type, j.when]);
    expect(jobs.slice(0, 4)).toEqual([
      ['monthly', 'full', 'monthly on day 1 at 00:00'],
      ['weekly', 'differential', 'weekly on sunday at 23:30'],
      ['daily', 'incremental', 'daily at 23:00'],
      ['verify', 'verify', 'daily at 01:00'],
    ]);
  });
});

describe('noSetAt: a time no set serves', () => {
  it('names each database asked for once: a set passed over for lacking some says how many (en, es)', () => {
    const sets = [
      cs({ id: 'd1_10', at: '2026-11-01T10:00:00Z', dbs: { users: null } }),
      cs({ id: 'd1_11', at: '2026-11-01T11:00:00Z', dbs: { inventario: null } }),
      cs({ id: 'd1_12', at: '2026-11-01T12:00:00Z', dbs: { users: null, inventario: null, auditoria: null } }),
    ];
    const at = new Date('2026-11-01T11:30:00Z');
    const dbs = ['users', 'inventario', 'auditoria'];
    const found = planAt(sets, at, dbs);
    expect('none' in found).toBe(true);
    const err = noSetAt(null, dbs, at, found.skipped, sets);
    const es = say('es', err.phrases!.message, err.message);
    for (const said of [err.message, es])
      for (const db of dbs) expect(said.split(db).length - 1, `${db} in: ${said}`).toBe(1);
    expect(err.message).toMatch(/passed over: d1_11: lacks 2 of them; d1_10: lacks 2 of them\)/);
    expect(es).toMatch(/descartadas: d1_11: le faltan 2 de ellas; d1_10: le faltan 2 de ellas\)/);
    const one = noSetAt(null, ['users', 'inventario'], at, planAt(sets, at, ['users', 'inventario']).skipped, sets);
    expect(say('es', one.phrases!.message, one.message)).toContain('d1_11: le falta 1 de ellas');
  });

  it('says when the first set ends, in English and in the menu’s Spanish', async () => {
    const { noSetAt } = await import('../src/engine/chain.js');
    const { say } = await import('../src/ui/i18n/index.js');
    const { formatLocal } = await import('../src/core/format.js');
    const at = new Date('2026-10-01T00:00:00Z');
    const err = noSetAt(null, ['users'], at, [], month);
    const ends = formatLocal(month[0]!.completedAt, { seconds: true });
    const when = formatLocal(at, { seconds: true });
    expect(err.message).toBe(`No backup set of users ends at or before ${when} (the first, set F1, ends at ${ends}).`);
    expect(err.exitCode).toBe(8);
    expect(say('es', err.phrases!.message, err.message)).toBe(
      `Ninguna copia de users termina a las ${when} o antes (la primera, F1, termina a las ${ends}).`,
    );
    expect(say('es', err.phrases!.hint, err.hint!)).toContain('Elija una hora posterior');
    const there = noSetAt('nas', ['users'], new Date('2026-11-30T00:00:00Z'), [{ id: 'I9', reason: 'x' }], month);
    expect(there.message).toMatch(
      /^Destination "nas" holds no set of users ending at or before .* with a usable chain \(passed over: I9: x\)\.$/,
    );
    expect(there.hint).toContain('respaldo list --from nas');
  });

  it('the sets passed over and why, in the menu’s Spanish: a broken chain, a set without the database', () => {
    const at = new Date('2026-11-09T23:00:00Z');
    const broken = planAt(
      month.filter((s) => s.id !== 'D8'),
      at,
      ['users'],
      { within: 1000 },
    );
    const lacking = planAt(month, at, ['nope']);
    const skipped = [...broken.skipped, ...lacking.skipped].slice(0, 3);
    expect(skipped.map((s) => s.reasonPhrase?.id)).toEqual(['chain.missing', 'at.holdsNo', 'at.holdsNo']);
    const err = noSetAt(null, ['users'], at, skipped, month);
    expect(err.message).toMatch(/passed over: I9: set D8 .*is missing \(pruned or deleted\); \S+: does not hold it/);
    const es = say('es', err.phrases!.message, err.message);
    expect(es).toMatch(/descartadas: I9: falta la copia D8 .*\(podada o borrada\); \S+: no la tiene/);
    expect(es).not.toMatch(/is missing|holds no|pruned/);
  });
});

describe('planAt: sets started within the same second', () => {
  /** A set of users with its times at full precision (`t`: a time of 2026-12-04 10:15 UTC, `29.600` for 10:15:29.6). */
  const at = (t: string) => `2026-12-04T10:15:${t}Z`;
  const set = (id: string, base: string | null, started: string, completed: string): ChainSet => ({
    id,
    type: base ? 'incremental' : 'full',
    status: 'completed',
    startedAt: at(started),
    completedAt: at(completed),
    entries: { users: { base, storedBytes: 10, problem: null } },
  });
  // A full, then an incremental started in the same second that ends in the next one
  const sameSecond = [
    set('20261204_101529', null, '29.100', '29.500'),
    set('20261204_101529_2', '20261204_101529', '29.600', '30.400'),
  ];
  // Eleven runs in one second, their manifests written to the second only (all start and end at 10:15:31)
  const eleven = Array.from({ length: 11 }, (_, i) =>
    set(i ? `20261204_101531_${i + 1}` : '20261204_101531', i ? '20261204_101531' : null, '31', '31'),
  );
  it.each([
    ['to the second after both started: the set that ended within it', sameSecond, '30', 1000, '20261204_101529_2'],
    ['to the millisecond: the exact time, before the incremental ended', sameSecond, '30.000', 0, '20261204_101529'],
    ['to the millisecond at its end: the incremental', sameSecond, '30.400', 0, '20261204_101529_2'],
    ['to the second of both ids: the newest of them', sameSecond, '29', 1000, '20261204_101529_2'],
    ['the minute list shows: the newest of them', sameSecond, '00', 60_000, '20261204_101529_2'],
    ['recorded to the second: the later id, _11 after _9', eleven, '31', 1000, '20261204_101531_11'],
    ['recorded to the second, asked after them', eleven, '32', 1000, '20261204_101531_11'],
  ])('%s', (_, sets, time, within, setId) => {
    const r = planAt(sets, new Date(at(time)), ['users'], { within });
    if ('none' in r) throw new Error(`expected a plan, got none: ${JSON.stringify(r.skipped)}`);
    expect(r.setId).toBe(setId);
    expect(r.point).toBe(sets.find((s) => s.id === setId)!.completedAt);
  });

  it('a set that ended within the second asked for is not said to have started then; one that started then names the one before it', () => {
    const ended = planAt(sameSecond, new Date(at('30')), ['users'], { within: 1000 });
    if ('none' in ended) throw new Error('expected a plan');
    expect(ended.startedThen).toBeUndefined();
    expect(ended.order).toEqual(['20261204_101529', '20261204_101529_2']);
    const started = planAt(sameSecond, new Date(at('29')), ['users'], { within: 1000 });
    if ('none' in started) throw new Error('expected a plan');
    // The data before the incremental is the full, which ended before it started (in the same second)
    expect(started.startedThen).toEqual({ before: '20261204_101529' });
  });

  it('the sets applied are in the order they were made, _10 after _9', () => {
    const r = planAt(eleven, new Date(at('32')), ['users'], { within: 1000 });
    if ('none' in r) throw new Error('expected a plan');
    expect(r.order).toEqual(['20261204_101531', '20261204_101531_11']);
    expect([...eleven.map((s) => s.id)].reverse().sort(compareSetIds)).toEqual(eleven.map((s) => s.id));
  });
});

describe('planAt with files: the files are whole in each set that holds them', () => {
  const withFiles = (t: T): ChainSet => ({ ...cs(t), files: true });
  const sets = [
    withFiles({ id: 'F1', at: '2026-11-01T00:00:00Z', dbs: { users: null } }),
    cs({ id: 'I2', at: '2026-11-02T00:00:00Z', dbs: { users: 'F1' } }),
    withFiles({ id: 'F3', at: '2026-11-03T00:00:00Z', dbs: {} }),
    cs({ id: 'I4', at: '2026-11-04T00:00:00Z', dbs: { users: 'F1' } }),
  ];
  it.each([
    {
      name: 'alone: the newest set holding files by then, no chain',
      dbs: [],
      at: '2026-11-05T00:00:00Z',
      setId: 'F3',
      order: ['F3'],
    },
    { name: 'alone, earlier: an older one', dbs: [], at: '2026-11-02T12:00:00Z', setId: 'F1', order: ['F1'] },
    {
      name: 'with a database: a set holding both',
      dbs: ['users'],
      at: '2026-11-05T00:00:00Z',
      setId: 'F1',
      order: ['F1'],
    },
  ])('$name', ({ dbs, at, setId, order }) => {
    const r = planAt(sets, new Date(at), dbs, { files: true });
    if ('none' in r) throw new Error(`expected a plan, got none: ${JSON.stringify(r.skipped)}`);
    expect(r.setId).toBe(setId);
    expect(r.order).toEqual(order);
    expect(r.databases.map((d) => d.database)).toEqual(dbs);
  });
  it('none before the first set holding files; the sets without them are passed over, saying so', () => {
    const r = planAt(sets.slice(1), new Date('2026-11-02T12:00:00Z'), [], { files: true });
    expect(r).toEqual({
      none: true,
      skipped: [{ id: 'I2', reason: 'holds no files', reasonPhrase: phrase('at.holdsNo', { dbs: '', files: '1' }) }],
    });
    // the menu says why in its language, in the sentence that no set serves that time too
    const err = noSetAt(null, [], new Date('2026-11-02T12:00:00Z'), 'none' in r ? r.skipped : [], sets, true);
    expect(err.message).toContain('(passed over: I2: does not hold them)');
    expect(say('es', err.phrases!.message, err.message)).toContain('(descartadas: I2: no los tiene)');
  });
});

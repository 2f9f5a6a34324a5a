import { describe, expect, it } from 'vitest';
import type { SetStatus, SetSummary } from '../src/core/types.js';
import type { DestinationConfig } from '../src/destinations/destination.js';
import {
  destinationRetention,
  planRemotePrune,
  type ClaimFile,
  type IncompleteSet,
} from '../src/engine/remote-prune.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const hoursAgo = (h: number): string => new Date(NOW.getTime() - h * 3_600_000).toISOString();

function set(
  id: string,
  at: string,
  extra: { status?: SetStatus; keep?: boolean; dbs?: string[]; files?: number; job?: string | null } = {},
): SetSummary {
  return {
    id,
    type: 'full',
    status: extra.status ?? 'completed',
    description: null,
    startedAt: at,
    completedAt: at,
    databases: extra.dbs ?? ['users'],
    failedDatabases: [],
    files: extra.files ?? 0,
    storedBytes: 10,
    job: extra.job === undefined ? 'daily' : extra.job,
    keep: extra.keep ?? false,
    lastVerified: null,
    path: `dest/${id}`,
  };
}

const ONLY_LAST = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0 };

describe('planRemotePrune', () => {
  it("copies' claims: with their set removed, once a day old with nothing of it there; kept otherwise", () => {
    const claim = (id: string, h: number | null, setThere: boolean, setComplete = false): ClaimFile => ({
      key: `srv1/.respaldo-claims/${id}.0123456789abcdef`,
      id,
      modifiedAt: h === null ? null : hoursAgo(h),
      setThere,
      setComplete,
    });
    const incomplete = (id: string, h: number): IncompleteSet => ({
      id,
      files: 1,
      bytes: 1,
      lastWriteAt: hoursAgo(h),
      copyWillComplete: false,
    });
    const plan = planRemotePrune(
      {
        sets: [
          set('20260302_020000', hoursAgo(180)),
          set('20260303_020000', hoursAgo(150), { dbs: ['inventario'] }),
          set('20260304_020000', hoursAgo(100)),
        ],
        incomplete: [incomplete('20260101_000000', 72), incomplete('20260305_020000', 2)],
        temps: [],
        claims: [
          claim('20260302_020000', 1, true), // of a set removed here: goes with it, however young
          claim('20260303_020000', 2, true, true), // of a set kept, its copy done: stays a day (a copy may refuse on it)
          claim('20260304_020000', 30, true, true), // of a set kept, its copy done a day ago: goes
          claim('20260304_020001', 30, true), // of a set there that is not complete (damaged, or being copied): stays
          claim('20260101_000000', 72, true), // of an incomplete set removed here, as old: goes
          claim('20260305_020000', 72, true), // of an incomplete set kept (a copy may be running): stays
          claim('20260201_000000', 30, false), // nothing of it there, a day old: goes
          claim('20260202_000000', 3, false), // nothing of it there yet: a copy may be starting
          claim('20260203_000000', null, false), // written at an unknown time: stays
        ],
      },
      ONLY_LAST,
      NOW,
    );
    expect(Object.fromEntries(plan.claims.map((c) => [c.claim.id, c.action]))).toEqual({
      '20260302_020000': 'remove',
      '20260303_020000': 'keep',
      '20260304_020000': 'remove',
      '20260304_020001': 'keep',
      '20260101_000000': 'remove',
      '20260305_020000': 'keep',
      '20260201_000000': 'remove',
      '20260202_000000': 'keep',
      '20260203_000000': 'keep',
    });
    expect(plan.claims.find((c) => c.claim.id === '20260202_000000')!.reason).toContain('a copy may be starting');
  });

  it('applies retention; keeps the newest of each database and what is marked keep', () => {
    const plan = planRemotePrune(
      {
        sets: [
          set('20260301_020000', hoursAgo(200), { keep: true }),
          set('20260302_020000', hoursAgo(180)),
          set('20260303_020000', hoursAgo(150), { dbs: ['inventario'] }),
          set('20260304_020000', hoursAgo(100)),
        ],
        incomplete: [],
        temps: [],
      },
      ONLY_LAST,
      NOW,
    );
    expect(plan.refused).toBeNull();
    expect(Object.fromEntries(plan.sets.map((p) => [p.set.id, p.decision.action]))).toEqual({
      '20260304_020000': 'keep',
      '20260303_020000': 'keep',
      '20260302_020000': 'remove',
      '20260301_020000': 'keep',
    });
    expect(plan.sets.find((p) => p.set.id === '20260303_020000')!.decision.reasons).toContain('newest of inventario');
    expect(plan.sets.find((p) => p.set.id === '20260301_020000')!.decision.reasons).toContain('keep mark');
  });

  it('keeps the newest set holding the files there, and what a damaged set there may need (damagedNeeds)', () => {
    const plan = planRemotePrune(
      {
        sets: [
          set('20260301_020000', hoursAgo(200)),
          set('20260302_020000', hoursAgo(180), { files: 4, job: null }),
          set('20260303_020000', hoursAgo(150), { files: 4, job: null }),
          set('20260305_020000', hoursAgo(50)),
        ],
        incomplete: [],
        temps: [],
      },
      { ...ONLY_LAST, manual: { days: 0, keepLast: 0 } },
      NOW,
      { damagedNeeds: new Map([['20260304_020000', ['20260301_020000']]]) },
    );
    expect(plan.sets.map((p) => [p.set.id, p.decision.action, p.decision.reasons])).toEqual([
      ['20260305_020000', 'keep', ['last 1', 'newest of users']],
      ['20260303_020000', 'keep', ['newest of files']],
      ['20260302_020000', 'remove', ['by hand, older than 0 days and not among the newest 0']],
      ['20260301_020000', 'keep', ['may be needed by 20260304_020000 (damaged manifest; chain)']],
    ]);
  });

  it('refuses when the newest set there is not completed', () => {
    const plan = planRemotePrune(
      {
        sets: [set('20260301_020000', hoursAgo(50)), set('20260302_020000', hoursAgo(2), { status: 'partial' })],
        incomplete: [],
        temps: [],
      },
      ONLY_LAST,
      NOW,
    );
    expect(plan.refused).toMatch(/newest backup set 20260302_020000 is partial/);
  });

  const incomplete = (id: string, at: string | null, copyWillComplete: boolean): IncompleteSet => ({
    id,
    files: 2,
    bytes: 100,
    lastWriteAt: at,
    copyWillComplete,
  });
  it.each([
    ['written an hour ago', incomplete('20260309_020000', hoursAgo(1), false), 'keep', /a copy may be running/],
    ['written at an unknown time', incomplete('20260309_020000', null, false), 'keep', /unknown time/],
    [
      'old, but the local set is still to be copied',
      incomplete('20260301_020000', hoursAgo(72), true),
      'keep',
      /`respaldo copy` completes it/,
    ],
    [
      'old and nothing will complete it',
      incomplete('20260301_020000', hoursAgo(72), false),
      'remove',
      /left by a copy cut short/,
    ],
  ])('a set folder without its manifest, %s: %s', (_name, inc, action, reason) => {
    const plan = planRemotePrune({ sets: [], incomplete: [inc], temps: [] }, ONLY_LAST, NOW);
    expect(plan.incomplete[0]).toMatchObject({ action });
    expect(plan.incomplete[0]!.reason).toMatch(reason);
  });

  it('removes temporary files not written for a day; keeps younger ones and those of unknown age', () => {
    const plan = planRemotePrune(
      {
        sets: [],
        incomplete: [],
        temps: [
          { key: 'srv1/a/.respaldo-part-1-x', bytes: 5, modifiedAt: hoursAgo(25) },
          { key: 'srv1/a/.respaldo-part-2-y', bytes: 5, modifiedAt: hoursAgo(23) },
          { key: 'srv1/a/.respaldo-part-3-z', bytes: 5, modifiedAt: null },
        ],
      },
      ONLY_LAST,
      NOW,
    );
    expect(plan.temps.map((t) => t.action)).toEqual(['remove', 'keep', 'keep']);
  });

  it('a destination retention overrides the top-level one field by field', () => {
    const top = { keepLast: 3, daily: 30, weekly: 12, monthly: 12, yearly: 5, manual: { days: 30, keepLast: 5 } };
    const dc = { name: 'nas', type: 'folder', retention: { yearly: 10, manual: { days: 365 } } } as DestinationConfig;
    expect(destinationRetention({ retention: top }, dc)).toEqual({
      ...top,
      yearly: 10,
      manual: { days: 365, keepLast: 5 },
    });
    expect(destinationRetention({ retention: top }, { name: 'x', type: 'folder' })).toEqual(top);
  });
});

/**
 * The restore wizard's steps for off-site copies, chains and protected keys (src/ui/restore-wizard.ts
 * and restore-wizard-steps.ts) as tables of events → state and effect: where from (the backup folder
 * or a destination), "as of a date and time", and the key's passphrase after the confirmation word.
 */
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { summaryFromManifest } from '../src/engine/catalog.js';
import type { RestorePlan } from '../src/ui/engine-facade.js';
import {
  deriveWizard,
  initialWizardState,
  planRequest,
  restoreWizard,
  type WizardEffect,
  type WizardEvent,
  type WizardState,
} from '../src/ui/restore-wizard.js';
import { FakeFacade, manifestFor } from './ui-fake-facade.js';

const NO_KEY = Object.fromEntries(
  [
    'upArrow',
    'downArrow',
    'leftArrow',
    'rightArrow',
    'pageDown',
    'pageUp',
    'home',
    'end',
    'return',
    'escape',
    'ctrl',
    'shift',
    'tab',
    'backspace',
    'delete',
    'meta',
    'super',
    'hyper',
    'capsLock',
    'numLock',
  ].map((k) => [k, false]),
) as unknown as Key;

type K = [string, Partial<Key>];
const up: K = ['', { upArrow: true }];
const down: K = ['', { downArrow: true }];
const enter: K = ['', { return: true }];
const esc: K = ['', { escape: true }];
const backspace: K = ['', { backspace: true }];
const space: K = [' ', {}];
const typed = (text: string): K[] => [...text].map((c) => [c, {}]);
const key = ([input, partial]: K): WizardEvent => ({
  type: 'key',
  input,
  key: { ...NO_KEY, ...partial },
  view: { setPage: 5, scrollRows: 10, scrollHeight: 10 },
});

function apply(state: WizardState, events: WizardEvent[]): { state: WizardState; effects: WizardEffect[] } {
  const effects: WizardEffect[] = [];
  for (const e of events) {
    const t = restoreWizard(state, e);
    state = t.state;
    if (t.effect) effects.push(t.effect);
  }
  return { state, effects };
}
const keys = (...ks: K[]): WizardEvent[] => ks.map(key);

const CONFIG = { destinations: ['nas', 'offsite'], databases: ['users', 'inventario', 'auditoria'] };
const REMOTE: Manifest[] = [manifestFor('20261121_100000'), manifestFor('20261120_100000')];
const summary = (m: Manifest): SetSummary =>
  summaryFromManifest(m, `nas/db1/${m.id}`, { keep: false, lastVerified: null });

describe('restore wizard: where from', () => {
  it('with destinations it opens on the source step and loads nothing yet', () => {
    const t = restoreWizard(initialWizardState(undefined, CONFIG), { type: 'mounted' });
    expect(t.state.step).toEqual({ name: 'source' });
    expect(t.effect).toBeNull();
  });

  it('without destinations there is no source step (the sets load at once)', () => {
    const t = restoreWizard(initialWizardState(undefined, { databases: ['users'] }), { type: 'mounted' });
    expect(t.state.step).toEqual({ name: 'set' });
    expect(t.effect).toEqual({ kind: 'load-sets' });
  });

  it.each([
    ['the backup folder', [enter], null, { kind: 'load-sets' }],
    ['the first destination', [down, enter], 'nas', { kind: 'load-sets', from: 'nas' }],
    [
      'the last destination (↓ stops there)',
      [down, down, down, down, enter],
      'offsite',
      { kind: 'load-sets', from: 'offsite' },
    ],
    ['↑ stops at the backup folder', [down, up, up, enter], null, { kind: 'load-sets' }],
  ] as const)('Enter on %s lists its sets', (_, ks, from, effect) => {
    const { state, effects } = apply(initialWizardState(undefined, CONFIG), keys(...ks));
    expect(state.step).toEqual({ name: 'set' });
    expect(state.from).toBe(from);
    expect(effects).toEqual([effect]);
  });

  it('Esc on the source step leaves; Esc on the set step goes back to the source step', () => {
    expect(apply(initialWizardState(undefined, CONFIG), keys(esc)).effects).toEqual([{ kind: 'back' }]);
    const listed = apply(initialWizardState(undefined, CONFIG), [
      ...keys(down, enter),
      { type: 'sets-loaded', sets: REMOTE.map(summary) },
      ...keys(esc),
    ]);
    expect(listed.state.step).toEqual({ name: 'source' });
    expect(listed.effects).toEqual([{ kind: 'load-sets', from: 'nas' }]);
  });

  it('Esc while a destination is read stops it: its listing, a manifest read there, the fetch of the plan', () => {
    // still listed: back to the source step, the listing stopped
    const listing = apply(initialWizardState(undefined, CONFIG), keys(down, enter, esc));
    expect(listing.state.step).toEqual({ name: 'source' });
    expect(listing.effects).toEqual([{ kind: 'load-sets', from: 'nas' }, { kind: 'cancel' }]);

    const listed = apply(initialWizardState(undefined, CONFIG), [
      ...keys(down, enter),
      { type: 'sets-loaded', sets: REMOTE.map(summary) },
    ]).state;
    // a manifest read there: the sets stay, no longer busy
    const reading = apply(listed, keys(down, enter, esc));
    expect(reading.effects.at(-1)).toEqual({ kind: 'cancel' });
    expect(reading.state).toMatchObject({ busy: null, step: { name: 'set' } });
    // the fetch of the plan: back to the target step, nothing planned
    const items = apply(listed, [...keys(down, enter), { type: 'manifest-loaded', manifest: REMOTE[0]! }]).state;
    const fetching = apply(items, keys(['a', {}], enter, enter));
    expect(fetching.state.busy).toBe('fetching');
    const stopped = apply(fetching.state, keys(esc));
    expect(stopped.effects).toEqual([{ kind: 'cancel' }]);
    expect(stopped.state).toMatchObject({ busy: null, plan: null, step: { name: 'target' } });
    // Enter plans (and fetches) again
    expect(apply(stopped.state, keys(enter)).effects.map((e) => e.kind)).toEqual(['plan']);
  });

  it('the backup folder: Esc while planning does nothing (nothing is read over the network)', () => {
    const local = apply(initialWizardState(undefined, CONFIG), [
      ...keys(enter),
      { type: 'sets-loaded', sets: REMOTE.map(summary) },
      ...keys(down, enter),
      { type: 'manifest-loaded', manifest: REMOTE[0]! },
      ...keys(['a', {}], enter, enter),
    ]).state;
    expect(local.busy).toBe('planning');
    const after = apply(local, keys(esc));
    expect(after.effects).toEqual([]);
    expect(after.state).toBe(local);
  });

  it('a destination that cannot be listed: the error goes back to the source step', () => {
    const s = apply(initialWizardState(undefined, CONFIG), [
      ...keys(down, enter),
      { type: 'failed', error: new Error('gone'), back: 'set' },
      ...keys(enter),
    ]).state;
    expect(s.step).toEqual({ name: 'source' });
  });

  it('a set of a destination: its manifest is read there, and the plan fetches from there', () => {
    const sets = REMOTE.map(summary);
    const listed = apply(initialWizardState(undefined, CONFIG), [
      ...keys(down, enter),
      { type: 'sets-loaded', sets },
    ]).state;
    // Row 0 is latest, row 1 the newest set itself, row 2 the older one.
    const { state, effects } = apply(listed, keys(down, down, enter));
    expect(effects).toEqual([{ kind: 'load-manifest', id: '20261120_100000', from: 'nas' }]);
    const items = apply(state, [{ type: 'manifest-loaded', manifest: REMOTE[1]! }]).state;
    const planned = apply(items, keys(['a', {}], enter, enter));
    expect(planned.state.busy).toBe('fetching');
    expect(planned.effects).toEqual([
      {
        kind: 'plan',
        request: {
          from: 'nas',
          setId: '20261120_100000',
          databases: ['users', 'inventario', 'auditoria'],
          files: false,
        },
      },
    ]);
  });

  it('the new server: an empty backup folder still offers the destination and its sets', () => {
    const local = apply(initialWizardState(undefined, CONFIG), [...keys(enter), { type: 'sets-loaded', sets: [] }]);
    expect(local.state.sets).toEqual([]);
    const remote = apply(local.state, [...keys(esc, down, enter), { type: 'sets-loaded', sets: REMOTE.map(summary) }]);
    expect(local.effects).toEqual([{ kind: 'load-sets' }]);
    expect(remote.effects).toEqual([{ kind: 'load-sets', from: 'nas' }]);
    expect(remote.state.sets).toHaveLength(2);
  });

  it("a destination's newest set of databases this config lacks is not 'latest'; they are not offered", () => {
    // another application's set under the same source: its database `big` is not in this config
    const other = manifestFor('20261122_100000', { databases: ['big'], files: 0 });
    const ours = manifestFor('20261121_100000', { databases: ['users', 'big'] });
    const sets = [other, ours].map(summary);
    const at = apply(initialWizardState(undefined, CONFIG), [
      ...keys(down, enter),
      { type: 'sets-loaded', sets },
    ]).state;
    expect(deriveWizard(at).latest?.id).toBe(ours.id);
    const items = apply(at, [...keys(enter), { type: 'manifest-loaded', manifest: ours }]).state;
    expect(deriveWizard(items).restorable.map((d) => d.name)).toEqual(['users']);
  });
});

describe("restore wizard: 'latest' is the CLI's restore latest", () => {
  it('a newer partial set (some databases failed) is passed over for the newest set holding every configured one', () => {
    const complete = manifestFor('20261121_100000', { databases: ['users', 'inventario', 'auditoria'] });
    const partial = manifestFor('20261122_100000', { databases: ['users'], files: 2 });
    const sets = [
      { ...summary(partial), status: 'partial' as const, failedDatabases: ['inventario', 'auditoria'] },
      summary(complete),
    ];
    const at = apply(initialWizardState(undefined, CONFIG), [...keys(enter), { type: 'sets-loaded', sets }]).state;
    expect(deriveWizard(at).latest?.id).toBe(complete.id);
  });

  it('a newer set whose chain is BROKEN (a set it applies on gone at the destination) is passed over', () => {
    // The menu's latest used to be that set, which the plan then refused; `restore latest --from` passes over it.
    const full = manifestFor('20261121_100000', { databases: ['users', 'inventario', 'auditoria'] });
    const inc = manifestFor('20261122_100000', { databases: ['users', 'inventario', 'auditoria'] });
    const broken = { ...summary(inc), chainProblems: ['set 20261121_230000 (needed by 20261122_100000) is missing'] };
    const at = apply(initialWizardState(undefined, CONFIG), [
      ...keys(enter),
      { type: 'sets-loaded', sets: [broken, summary(full)] },
    ]).state;
    expect(deriveWizard(at).latest?.id).toBe(full.id);
    // Every set broken: the newest stands, and its plan says why.
    const alone = apply(initialWizardState(undefined, CONFIG), [
      ...keys(enter),
      { type: 'sets-loaded', sets: [broken] },
    ]);
    expect(deriveWizard(alone.state).latest?.id).toBe(inc.id);
  });

  it('when no set holds them all, the newest holding something of this config', () => {
    const older = manifestFor('20261121_100000', { databases: ['inventario'] });
    const newer = manifestFor('20261122_100000', { databases: ['users'] });
    const at = apply(initialWizardState(undefined, CONFIG), [
      ...keys(enter),
      { type: 'sets-loaded', sets: [newer, older].map(summary) },
    ]).state;
    expect(deriveWizard(at).latest?.id).toBe(newer.id);
  });
});

describe('restore wizard: as of a date and time', () => {
  const atSetStep = (): WizardState =>
    apply(initialWizardState(undefined, { databases: CONFIG.databases }), [{ type: 'sets-loaded', sets: [] }]).state;

  it.each([
    ['a local time', '2026-11-22 14:30', new Date(2026, 10, 22, 14, 30).toISOString()],
    ['an ISO time with Z', '2026-11-22T14:30Z', '2026-11-22T14:30:00.000Z'],
  ])('t, %s, Enter: the target step with the time accepted', (_, text, iso) => {
    const { state, effects } = apply(atSetStep(), keys(['t', {}], ...typed(text), enter));
    expect(effects).toEqual([]);
    expect(state.step).toEqual({ name: 'target' });
    expect(state.at).toBe(iso);
  });

  it.each([
    ['nothing typed', '', 'badTime'],
    ['not a time', 'yesterday', 'badTime'],
    ['not a real date', '2026-02-31 10:00', 'badTime'],
    ['ahead of the clock (a typing error in the year)', '2062-11-22 14:30', 'futureTime'],
  ])('%s: stays, says how to type it', (_, text, problem) => {
    const { state } = apply(atSetStep(), keys(['t', {}], ...typed(text), enter));
    expect(state.step).toEqual({ name: 'at' });
    expect(state.problem).toBe(problem);
    expect(state.at).toBeNull();
  });

  it('a time the clock showed twice (Madrid, 2026-10-25 02:30): stays, says to write which; with its offset it goes on', () => {
    const tz = process.env['TZ'];
    process.env['TZ'] = 'Europe/Madrid';
    try {
      const twice = apply(atSetStep(), keys(['t', {}], ...typed('2026-10-25 02:30'), enter)).state;
      expect(twice.step).toEqual({ name: 'at' });
      expect(twice.problem).toBe('ambiguousTime');
      const second = apply(atSetStep(), keys(['t', {}], ...typed('2026-10-25 02:30+01:00'), enter)).state;
      expect(second.step).toEqual({ name: 'target' });
      expect(second.at).toBe('2026-10-25T01:30:00.000Z');
    } finally {
      if (tz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = tz;
    }
  });

  it('Backspace edits the time; Space on a database row unticks it; the plan asks --at for the rest', () => {
    const evs = keys(['t', {}], ...typed('2026-11-22 14:399'), backspace, down, space, enter, enter);
    const { state, effects } = apply(atSetStep(), evs);
    expect(state.busy).toBe('planning');
    expect(effects).toEqual([
      {
        kind: 'plan',
        request: {
          setId: '',
          at: new Date(2026, 10, 22, 14, 39).toISOString(),
          atWithin: 60_000, // typed to the minute: a set started in it is named by it
          databases: ['inventario', 'auditoria'],
          files: false,
        },
      },
    ]);
  });

  it('no database ticked: stays and says so', () => {
    const { state } = apply(
      atSetStep(),
      keys(['t', {}], ...typed('2026-11-22'), down, space, down, space, down, space, enter),
    );
    expect(state.step).toEqual({ name: 'at' });
    expect(state.problem).toBe('nothingPicked');
    // Space ticking a database again takes the message away; a time it cannot read keeps its own
    expect(apply(state, keys(space)).state.problem).toBeNull();
    expect(apply({ ...state, problem: 'badTime' }, keys(space)).state.problem).toBe('badTime');
  });

  it('side by side: the new name goes with --at', () => {
    const s = apply(atSetStep(), keys(['t', {}], ...typed('2026-11-22'), enter, down, ...typed('copia'))).state;
    expect(planRequest(s, false)).toMatchObject({ at: s.at, to: 'copia' });
  });

  it('t after a set was opened: the at flow forgets that set (its items, its tables, its header)', () => {
    // A set opened first (one PostgreSQL database ticked, as for a restore of some of its tables), then Esc, t
    const m = manifestFor('20261121_100000', { databases: ['inventario'] });
    const inv = m.databases[0]!;
    inv.engine = 'postgres';
    inv.tables = { 'public.pedidos': 1200, 'public.clientes': 1 };
    const opened = apply(atSetStep(), [...keys(enter), { type: 'manifest-loaded', manifest: m }]).state;
    expect(deriveWizard(opened).chosenDbs).toEqual(['inventario']);
    const at = apply(opened, keys(esc, ['t', {}], ...typed('2026-11-22'), enter)).state;
    expect(at.step).toEqual({ name: 'target' });
    expect(at.manifest).toBeNull(); // the items step draws no row nor header line of that set
    expect(deriveWizard(at).restorable).toEqual([]);
    // Side by side: straight to the plan (the tables of the set opened before are not offered, then dropped)
    const { state, effects } = apply(at, keys(down, ...typed('copia'), enter));
    expect(state.step).toEqual({ name: 'plan' });
    expect(effects).toEqual([
      {
        kind: 'plan',
        request: {
          setId: '',
          at: new Date(2026, 10, 22).toISOString(),
          atWithin: 0,
          databases: ['users', 'inventario', 'auditoria'],
          files: false,
          to: 'copia',
        },
      },
    ]);
  });

  it('Esc walks back: target → at → set', () => {
    const s = apply(atSetStep(), keys(['t', {}], ...typed('2026-11-22'), enter)).state;
    expect(apply(s, keys(esc)).state.step).toEqual({ name: 'at' });
    expect(apply(s, keys(esc, esc)).state.step).toEqual({ name: 'set' });
  });

  it('t on the sets of a destination: the time chosen there, and the plan fetches from there', () => {
    const s = apply(initialWizardState(undefined, CONFIG), [...keys(down, enter), { type: 'sets-loaded', sets: [] }]);
    const { state, effects } = apply(s.state, keys(['t', {}], ...typed('2026-11-22T14:30Z'), enter, enter));
    expect(state.busy).toBe('fetching');
    expect(effects).toEqual([
      {
        kind: 'plan',
        request: {
          setId: '',
          from: 'nas',
          at: '2026-11-22T14:30:00.000Z',
          atWithin: 60_000,
          databases: ['users', 'inventario', 'auditoria'],
          files: false,
        },
      },
    ]);
  });
});

describe('restore wizard: the passphrase of the key', () => {
  async function confirmedPlan(encrypted: boolean) {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    if (encrypted) m.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    const plan: RestorePlan = await facade.planRestore({ setId: m.id, databases: ['users'], files: false });
    const s = apply(initialWizardState(), [
      { type: 'manifest-loaded', manifest: m },
      ...keys(space, enter, enter),
      { type: 'planned', plan },
    ]).state;
    return { s, plan };
  }

  it('an unencrypted set runs once confirmed (no key asked)', async () => {
    const { s, plan } = await confirmedPlan(false);
    expect(apply(s, [{ type: 'confirmed' }]).effects).toEqual([{ kind: 'execute', plan }]);
  });

  it('an encrypted set: the key is checked; an open key runs it', async () => {
    const { s, plan } = await confirmedPlan(true);
    const checked = apply(s, [{ type: 'confirmed' }]);
    expect(checked.effects).toEqual([{ kind: 'check-key', of: plan }]);
    const run = apply(checked.state, [{ type: 'key-checked', locked: null }]);
    expect(run.state.step).toEqual({ name: 'running', interruptWarned: false });
    expect(run.effects).toEqual([{ kind: 'execute', plan }]);
  });

  it.each(['identity', 'passphrase'] as const)(
    'locked (%s): asked masked; Enter opens it (the typed text leaves the state); then it runs',
    async (lock) => {
      const { s, plan } = await confirmedPlan(true);
      const asked = apply(s, [{ type: 'confirmed' }, { type: 'key-checked', locked: lock }]).state;
      expect(asked.step).toEqual({ name: 'passphrase' });
      expect(asked.keyLock).toBe(lock);
      expect(apply(asked, keys(enter)).effects).toEqual([]);
      const typedIn = apply(asked, keys(...typed('s3cret!'), backspace, ['!', {}], enter));
      expect(typedIn.effects).toEqual([{ kind: 'unlock', passphrase: 's3cret!', of: plan }]);
      expect(typedIn.state.passphrase).toBe('');
      expect(typedIn.state.busy).toBe('unlocking');
      const rechecked = apply(typedIn.state, [{ type: 'unlocked' }]);
      expect(rechecked.effects).toEqual([{ kind: 'check-key', of: plan }]);
      const run = apply(rechecked.state, [{ type: 'key-checked', locked: null }]);
      expect(run.state.step).toEqual({ name: 'running', interruptWarned: false });
      expect(run.effects).toEqual([{ kind: 'execute', plan }]);
    },
  );

  it('sets locked both ways (a restore as of a time): the identity is asked, then the passphrase, then it runs', async () => {
    const { s, plan } = await confirmedPlan(true);
    const first = apply(s, [{ type: 'confirmed' }, { type: 'key-checked', locked: 'identity' }]).state;
    expect(first.keyLock).toBe('identity');
    const identityTyped = apply(first, keys(...typed('id words'), enter));
    expect(identityTyped.effects).toEqual([{ kind: 'unlock', passphrase: 'id words', of: plan }]);
    const identityOpened = apply(identityTyped.state, [{ type: 'unlocked' }]);
    expect(identityOpened.effects).toEqual([{ kind: 'check-key', of: plan }]);
    expect(identityOpened.state.busy).toBe('unlocking');
    const second = apply(identityOpened.state, [{ type: 'key-checked', locked: 'passphrase' }]).state;
    expect(second.step).toEqual({ name: 'passphrase' });
    expect(second.keyLock).toBe('passphrase');
    expect(second.passphrase).toBe('');
    const typedIn = apply(second, keys(...typed('set words'), enter));
    expect(typedIn.effects).toEqual([{ kind: 'unlock', passphrase: 'set words', of: plan }]);
    const run = apply(typedIn.state, [{ type: 'unlocked' }, { type: 'key-checked', locked: null }]);
    expect(run.effects).toEqual([
      { kind: 'check-key', of: plan },
      { kind: 'execute', plan },
    ]);
    expect(run.state.step).toEqual({ name: 'running', interruptWarned: false });
  });

  it('a wrong passphrase: the error is shown, asked again; Esc goes back to the plan (nothing ran)', async () => {
    const { s } = await confirmedPlan(true);
    const asked = apply(s, [{ type: 'confirmed' }, { type: 'key-checked', locked: 'passphrase' }]).state;
    const wrong = apply(asked, [
      ...keys(...typed('nope'), enter),
      { type: 'unlock-failed', error: new Error('Wrong') },
    ]);
    expect(wrong.state.step).toEqual({ name: 'passphrase' });
    expect(wrong.state.keyError).toBeInstanceOf(Error);
    expect(wrong.state.busy).toBeNull();
    const back = apply(wrong.state, keys(esc));
    expect(back.state.step).toEqual({ name: 'plan' });
    expect(back.state.keyError).toBeNull();
    expect(back.effects).toEqual([]);
  });
});

describe('restore wizard: an encrypted delta at a destination asks the passphrase before the items', () => {
  function encryptedDelta(): Manifest {
    const m = manifestFor('20261121_100000');
    m.type = 'incremental';
    m.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    m.databases[0]!.base = '20261120_100000';
    return m;
  }
  const atRemoteSets = (): WizardState =>
    apply(initialWizardState(undefined, CONFIG), [...keys(down, enter), { type: 'sets-loaded', sets: [] }]).state;

  it.each([
    [
      'an encrypted delta: the key is checked first',
      encryptedDelta(),
      [{ kind: 'check-key', of: { setId: '20261121_100000', from: 'nas' } }],
      'unlocking',
    ],
    [
      'an encrypted full: asked after the word, as locally',
      { ...encryptedDelta(), databases: manifestFor('x').databases },
      [],
      null,
    ],
    ['an unencrypted delta: nothing to ask', { ...encryptedDelta(), encryption: undefined }, [], null],
  ] as const)('%s', (_, manifest, effects, busy) => {
    const t = apply(atRemoteSets(), [{ type: 'manifest-loaded', manifest: manifest as Manifest }]);
    expect(t.effects).toEqual(effects);
    expect(t.state.busy).toBe(busy);
    expect(t.state.step).toEqual({ name: 'items' });
  });

  it('locked: asked; opened: the items; Esc instead goes back to the sets', () => {
    const asked = apply(atRemoteSets(), [
      { type: 'manifest-loaded', manifest: encryptedDelta() },
      { type: 'key-checked', locked: 'passphrase' },
    ]).state;
    expect(asked.step).toEqual({ name: 'passphrase' });
    const typedIn = apply(asked, keys(...typed('words'), enter));
    expect(typedIn.effects).toEqual([
      { kind: 'unlock', passphrase: 'words', of: { setId: '20261121_100000', from: 'nas' } },
    ]);
    const rechecked = apply(typedIn.state, [{ type: 'unlocked' }]);
    expect(rechecked.effects).toEqual([{ kind: 'check-key', of: { setId: '20261121_100000', from: 'nas' } }]);
    const opened = apply(rechecked.state, [{ type: 'key-checked', locked: null }]);
    expect(opened.effects).toEqual([]);
    expect(opened.state.step).toEqual({ name: 'items' });
    expect(opened.state.keyFirst).toBe(false);
    const left = apply(asked, keys(esc)).state;
    expect(left.step).toEqual({ name: 'set' });
    expect(left.keyFirst).toBe(false);
  });

  it('not locked: straight to the items', () => {
    const s = apply(atRemoteSets(), [
      { type: 'manifest-loaded', manifest: encryptedDelta() },
      { type: 'key-checked', locked: null },
    ]).state;
    expect(s.step).toEqual({ name: 'items' });
    expect(s.busy).toBeNull();
  });
});

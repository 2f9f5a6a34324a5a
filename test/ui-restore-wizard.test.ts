/**
 * The restore wizard's reducer (src/ui/restore-wizard.ts) as tables of events → state and effect,
 * without React or a terminal. The frames of the same flows are tested in test/ui-restore*.test.tsx.
 */
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { summaryFromManifest } from '../src/engine/catalog.js';
import type { RestoreOutcome, RestorePlan, RestoreRequest } from '../src/ui/engine-facade.js';
import {
  deriveWizard,
  initialWizardState,
  restoreWizard,
  type ErrorBack,
  type WizardEffect,
  type WizardEvent,
  type WizardState,
  type WizardView,
} from '../src/ui/restore-wizard.js';
import { FakeFacade, manifestFor } from './ui-fake-facade.js';

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

const VIEW: WizardView = { setPage: 2, scrollRows: 30, scrollHeight: 10 };
type K = [string, Partial<Key>];
const k = {
  up: ['', { upArrow: true }],
  down: ['', { downArrow: true }],
  pageUp: ['', { pageUp: true }],
  pageDown: ['', { pageDown: true }],
  home: ['', { home: true }],
  end: ['', { end: true }],
  enter: ['', { return: true }],
  esc: ['', { escape: true }],
  backspace: ['', { backspace: true }],
  ctrlC: ['c', { ctrl: true }],
  space: [' ', {}],
  char: (c: string): K => [c, {}],
} satisfies Record<string, K | ((c: string) => K)>;

const key = ([input, partial]: K, view: WizardView = VIEW): WizardEvent => ({
  type: 'key',
  input,
  key: { ...NO_KEY, ...partial },
  view,
});

/** Applies events in order; the effects asked for on the way. */
function apply(state: WizardState, events: WizardEvent[]): { state: WizardState; effects: WizardEffect[] } {
  const effects: WizardEffect[] = [];
  for (const e of events) {
    const t = restoreWizard(state, e);
    state = t.state;
    if (t.effect) effects.push(t.effect);
  }
  return { state, effects };
}
const keys = (...ks: K[]): WizardEvent[] => ks.map((x) => key(x));

const SETS_MANIFESTS = new FakeFacade().manifests;
const summary = (m: Manifest): SetSummary =>
  summaryFromManifest(m, `/backups/${m.id}`, { keep: false, lastVerified: null });
const SETS: SetSummary[] = [
  summary(manifestFor('20261122_110000', { type: 'pre_restore' })),
  ...SETS_MANIFESTS.map(summary),
];

/** The set of the items step: users, inventario (PostgreSQL with tables and roles), auditoria, 2 files. */
function pgManifest(): Manifest {
  const m = manifestFor('20261122_100000', { files: 2 });
  const inv = m.databases.find((d) => d.name === 'inventario')!;
  inv.engine = 'postgres';
  inv.tables = { 'public.pedidos': 1200, 'public.clientes': 1, 'ventas.facturas': 88 };
  inv.extras = [
    {
      role: 'globals',
      file: 'databases/inventario.globals.sql.gz',
      compressed: true,
      rawBytes: 900,
      storedBytes: 400,
      md5: 'x',
      sha256: 'y',
    },
  ];
  return m;
}

const atItems = (manifest = pgManifest(), initialSetId?: string): WizardState =>
  apply(initialWizardState(initialSetId), [{ type: 'manifest-loaded', manifest }]).state;
const atSets = (): WizardState => apply(initialWizardState(), [{ type: 'sets-loaded', sets: SETS }]).state;

async function planFor(req: RestoreRequest, inUse: Record<string, string[]> = {}): Promise<RestorePlan> {
  const facade = new FakeFacade();
  facade.manifests = [pgManifest()];
  facade.inUse = inUse;
  return facade.planRestore(req);
}

describe('restore wizard: start', () => {
  it.each([
    ['from the menu: load the sets', undefined, { name: 'set' }, null, { kind: 'load-sets' }],
    [
      'from a set of the list: load its manifest',
      '20261121_100000',
      { name: 'items' },
      'loading',
      { kind: 'load-manifest', id: '20261121_100000' },
    ],
  ] as const)('%s', (_, id, step, busy, effect) => {
    const t = restoreWizard(initialWizardState(id), { type: 'mounted' });
    expect(t.state.step).toEqual(step);
    expect(t.state.busy).toBe(busy);
    expect(t.effect).toEqual(effect);
  });
});

describe('restore wizard: pick a set (latest first, then every set; safety copies are never latest)', () => {
  // Rows: latest, pre_restore 110000, 20261122_100000, 20261121_100000, 20261120_100000 (page 2).
  it.each<[string, K[], number]>([
    ['↓ moves down', [k.down], 1],
    ['j moves down, k up', [k.char('j'), k.char('j'), k.char('k')], 1],
    ['↑ at the top stays', [k.up], 0],
    ['PgDn moves a page', [k.pageDown], 2],
    ['PgDn past the end stops at the last row', [k.pageDown, k.pageDown, k.pageDown], 4],
    ['End goes to the last row, Home back', [k.end, k.home], 0],
    ['End then PgUp', [k.end, k.pageUp], 2],
  ])('%s', (_, ks, index) => {
    const { state, effects } = apply(atSets(), keys(...ks));
    expect(deriveWizard(state).setIndex).toBe(index);
    expect(effects).toEqual([]);
  });

  it.each<[string, K[], string]>([
    ['Enter on latest opens the newest set that is no safety copy', [k.enter], '20261122_100000'],
    ['Enter on a safety copy opens it', [k.down, k.enter], '20261122_110000'],
    ['Enter on an older set opens it', [k.end, k.enter], '20261120_100000'],
  ])('%s', (_, ks, id) => {
    const { state, effects } = apply(atSets(), keys(...ks));
    expect(effects).toEqual([{ kind: 'load-manifest', id }]);
    expect(state.busy).toBe('loading');
  });

  it('Esc leaves; Enter before the sets are loaded does nothing; keys wait while loading', () => {
    expect(apply(atSets(), keys(k.esc)).effects).toEqual([{ kind: 'back' }]);
    expect(apply(initialWizardState(), keys(k.enter)).effects).toEqual([]);
    const loading = apply(atSets(), keys(k.enter)).state;
    expect(apply(loading, keys(k.down, k.esc, k.enter))).toEqual({ state: loading, effects: [] });
  });
});

describe('restore wizard: d drills the set under the cursor instead (its screen owns the keys until left)', () => {
  it.each<[string, K[], string]>([
    ['d on latest drills the newest set that is no safety copy', [k.char('d')], '20261122_100000'],
    ['d on an older set drills it', [k.end, k.char('d')], '20261120_100000'],
  ])('%s', (_, ks, id) => {
    const { state, effects } = apply(atSets(), keys(...ks));
    expect(state.step).toEqual({ name: 'drill', id });
    expect(effects).toEqual([]);
  });

  it('keys are the drill screen’s meanwhile; once it is left, the same sets with the same row', () => {
    const drilling = apply(atSets(), keys(k.end, k.char('d'))).state;
    expect(apply(drilling, keys(k.esc, k.enter, k.up, k.char('d')))).toEqual({ state: drilling, effects: [] });
    const back = apply(drilling, [{ type: 'drill-left' }]).state;
    expect(back.step).toEqual({ name: 'set' });
    expect(deriveWizard(back).setIndex).toBe(4);
    expect(back.sets).toBe(drilling.sets);
  });

  it('of a destination: the set is drilled there; d before the sets are listed, or while loading, does nothing', () => {
    const source = initialWizardState(undefined, { destinations: ['nas'], databases: ['users'] });
    const listed = apply(source, [...keys(k.down, k.enter), { type: 'sets-loaded', sets: SETS }]).state;
    expect(listed.from).toBe('nas');
    expect(apply(listed, keys(k.char('d'))).state.step).toEqual({ name: 'drill', id: '20261122_100000' });
    const unlisted = apply(source, keys(k.down, k.enter)).state;
    expect(apply(unlisted, keys(k.char('d'))).state.step).toEqual({ name: 'set' });
    const loading = apply(listed, keys(k.enter)).state;
    expect(apply(loading, keys(k.char('d'))).state).toEqual(loading);
  });
});

describe('restore wizard: what to restore', () => {
  it('rows: the databases, the files, the roles; nothing picked when the set has several databases', () => {
    const d = deriveWizard(atItems());
    expect(d.restorable.map((x) => x.name)).toEqual(['users', 'inventario', 'auditoria']);
    expect([d.filesRow, d.rolesRow, d.itemRows]).toEqual([3, 4, 5]);
    expect(atItems().picked).toEqual([false, false, false, false, false]);
    expect(atItems(manifestFor('x', { databases: ['users'] })).picked).toEqual([true, false, false]);
  });

  it.each<[string, K[], Partial<WizardState>]>([
    [
      'Space picks the row under the cursor',
      [k.down, k.space],
      { cursor: 1, picked: [false, true, false, false, false] },
    ],
    ['Space twice unpicks it', [k.space, k.space], { picked: [false, false, false, false, false] }],
    ['a picks every database and the files, not the roles', [k.char('a')], { picked: [true, true, true, true, false] }],
    ['the cursor stops at the last row', [k.end, k.down, k.down, k.down, k.down, k.down, k.down], { cursor: 4 }],
    ['Enter with nothing picked says so and stays', [k.enter], { problem: 'nothingPicked', step: { name: 'items' } }],
    ['then Space on a database takes the message away', [k.enter, k.space], { problem: null, cursor: 0 }],
    ['then a takes it away too', [k.enter, k.char('a')], { problem: null }],
    ['then the files alone take it away', [k.enter, k.down, k.down, k.down, k.space], { problem: null }],
    [
      'the roles alone restore nothing: it stays',
      [k.enter, k.down, k.down, k.down, k.down, k.space],
      { problem: 'nothingPicked', cursor: 4 },
    ],
    [
      'Enter with the files only goes on',
      [k.down, k.down, k.down, k.space, k.enter],
      { problem: null, step: { name: 'target' } },
    ],
    ['Esc goes back to the sets', [k.esc], { step: { name: 'set' } }],
  ])('%s', (_, ks, expected) => {
    expect(apply(atItems(), keys(...ks)).state).toMatchObject(expected);
  });

  it('opened on a set, Esc leaves the screen', () => {
    expect(apply(atItems(pgManifest(), '20261122_100000'), keys(k.esc)).effects).toEqual([{ kind: 'back' }]);
  });
});

describe('restore wizard: where, then the plan request', () => {
  const users = (): WizardState => apply(atItems(), keys(k.space, k.enter)).state;
  const inventario = (): WizardState => apply(atItems(), keys(k.down, k.space, k.enter)).state;

  it.each<[string, () => WizardState, K[], Partial<WizardState>, RestoreRequest | null]>([
    [
      'in place by default',
      users,
      [k.enter],
      { step: { name: 'plan' }, busy: 'planning' },
      { setId: '20261122_100000', databases: ['users'], files: false },
    ],
    [
      'side by side: ↓ and the new name typed (Backspace edits)',
      users,
      [k.down, k.char('c'), k.char('o'), k.char('x'), k.backspace, k.char('p'), k.char(' '), k.enter],
      { to: 'cop ', step: { name: 'plan' } },
      { setId: '20261122_100000', databases: ['users'], files: false, to: 'cop' },
    ],
    [
      'side by side needs a name',
      users,
      [k.down, k.enter],
      { problem: 'newTargetNeeded', step: { name: 'target' } },
      null,
    ],
    [
      '↑ goes back to in place; typing then does nothing',
      users,
      [k.down, k.up, k.char('x'), k.enter],
      { to: '' },
      { setId: '20261122_100000', databases: ['users'], files: false },
    ],
    ['Esc goes back to the items', users, [k.esc], { step: { name: 'items' } }, null],
    [
      // One new name cannot take a PostgreSQL database and another: said here, in the menu's words, not by the plan
      // in the CLI's (--to, --db), in English whatever the language.
      'side by side, a PostgreSQL database with another: one new name takes one, said here',
      () => apply(atItems(), keys(k.space, k.down, k.space, k.enter)).state,
      [k.down, k.char('x'), k.enter],
      { problem: 'oneServerDatabase', step: { name: 'target' } },
      null,
    ],
    [
      'SQLite databases side by side: one folder takes them all',
      () => apply(atItems(), keys(k.space, k.down, k.down, k.space, k.enter)).state,
      [k.down, k.char('x'), k.enter],
      { problem: null, step: { name: 'plan' } },
      { setId: '20261122_100000', databases: ['users', 'auditoria'], files: false, to: 'x' },
    ],
    [
      'one PostgreSQL database side by side: its tables first, all by default',
      inventario,
      [k.down, k.char('i'), k.enter],
      { step: { name: 'tables' }, tablePicks: [true, false, false, false] },
      null,
    ],
    [
      'picking tables unticks "all"; Enter plans with them',
      inventario,
      [k.down, k.char('i'), k.enter, k.down, k.space, k.down, k.down, k.space, k.enter],
      { tablePicks: [false, true, false, true], step: { name: 'plan' } },
      {
        setId: '20261122_100000',
        databases: ['inventario'],
        files: false,
        to: 'i',
        tables: ['public.clientes', 'ventas.facturas'],
      },
    ],
    [
      'unticking the last table ticks "all" again; Space on "all" resets',
      inventario,
      [k.down, k.char('i'), k.enter, k.down, k.space, k.space, k.down, k.space, k.up, k.up, k.space],
      { tablePicks: [true, false, false, false], tableCursor: 0 },
      null,
    ],
    [
      'the roles row asks to create them',
      () => apply(atItems(), keys(k.down, k.space, k.down, k.down, k.down, k.space, k.enter)).state,
      [k.enter],
      {},
      { setId: '20261122_100000', databases: ['inventario'], files: false, createRoles: true },
    ],
  ])('%s', (_, from, ks, expected, request) => {
    const { state, effects } = apply(from(), keys(...ks));
    expect(state).toMatchObject(expected);
    expect(effects).toEqual(request ? [{ kind: 'plan', request }] : []);
  });
});

describe('restore wizard: the plan, the sessions question, the run', () => {
  const planning = (): WizardState => apply(atItems(), keys(k.down, k.space, k.enter, k.enter)).state;
  const inPlace = { setId: '20261122_100000', databases: ['inventario'], files: false };

  it('a plan nothing refuses asks for the word; confirmed, it runs it', async () => {
    const plan = await planFor(inPlace);
    const shown = apply(planning(), [{ type: 'planned', plan }]).state;
    expect(shown).toMatchObject({ step: { name: 'plan' }, plan, busy: null });
    expect(deriveWizard(shown).confirming).toBe(true);
    // Typing the word: j/k are letters, Esc belongs to the confirmation field.
    expect(apply(shown, keys(k.char('j'), k.esc)).state).toEqual(shown);
    expect(apply(shown, keys(k.down, k.pageDown)).state.scrollTop).toBe(10);
    expect(apply(shown, keys(k.end)).state.scrollTop).toBe(21);
    expect(apply(shown, keys(k.end, k.home)).state.scrollTop).toBe(0);
    expect(apply(shown, [{ type: 'confirm-cancelled' }]).state.step).toEqual({ name: 'target' });
    const { state, effects } = apply(shown, [{ type: 'confirmed' }]);
    expect(state.step).toEqual({ name: 'running', interruptWarned: false });
    expect(effects).toEqual([{ kind: 'execute', plan }]);
  });

  it('a refused plan scrolls with j/k and goes back with Esc', async () => {
    const plan = await planFor(inPlace, { inventario: ['x'] });
    const withSqlite = { ...plan, refusals: plan.refusals.map((r) => ({ ...r, kind: 'in-use' as const })) };
    const shown = apply(planning(), [{ type: 'planned', plan: withSqlite }]).state;
    expect(shown.step).toEqual({ name: 'plan' });
    expect(apply(shown, keys(k.char('j'), k.char('j'), k.char('k'))).state.scrollTop).toBe(1);
    expect(apply(shown, keys(k.end, k.pageDown, k.pageDown, k.pageDown)).state.scrollTop).toBe(21);
    // Home and End: the ends of the plan at once.
    expect(apply(shown, keys(k.end)).state.scrollTop).toBe(21);
    expect(apply(shown, keys(k.end, k.home)).state.scrollTop).toBe(0);
    expect(apply(shown, keys(k.esc)).state.step).toEqual({ name: 'target' });
  });

  it.each<[string, K[], Partial<WizardState>, WizardEffect[]]>([
    [
      'No is the default: Enter goes back and forgets the plan',
      [k.enter],
      { step: { name: 'target' }, plan: null },
      [],
    ],
    ['Esc is No', [k.esc], { step: { name: 'target' }, plan: null }, []],
    ['↓ then ↑ is No again', [k.down, k.up], { step: { name: 'sessions', choice: 0 } }, []],
    [
      'Yes plans again with the sessions closed',
      [k.down, k.enter],
      { step: { name: 'plan' }, plan: null, busy: 'planning' },
      [{ kind: 'plan', request: { ...inPlace, terminateConnections: true } }],
    ],
  ])('only sessions stop it: they are shown and the operator asked; %s', async (_, ks, expected, effects) => {
    const plan = await planFor(inPlace, { inventario: ['app@10.0.0.5 (pid 4121)'] });
    const asked = apply(planning(), [{ type: 'planned', plan }]).state;
    expect(asked.step).toEqual({ name: 'sessions', choice: 0 });
    const after = apply(asked, keys(...ks));
    expect(after.state).toMatchObject(expected);
    expect(after.effects).toEqual(effects);
  });

  it('running: keys do nothing; Ctrl+C warns, a second aborts; the outcome leaves on Enter or Esc', async () => {
    const plan = await planFor(inPlace);
    const running = apply(planning(), [{ type: 'planned', plan }, { type: 'confirmed' }]).state;
    expect(apply(running, keys(k.esc, k.enter, k.ctrlC))).toEqual({ state: running, effects: [] });
    const warned = apply(running, [{ type: 'interrupt' }]);
    expect(warned).toEqual({ state: { ...running, step: { name: 'running', interruptWarned: true } }, effects: [] });
    expect(apply(warned.state, [{ type: 'interrupt' }]).effects).toEqual([{ kind: 'abort' }]);
    const outcome = { ok: true } as RestoreOutcome;
    const done = apply({ ...running, scrollTop: 4 }, [{ type: 'restored', outcome }]).state;
    expect(done).toMatchObject({ step: { name: 'outcome', outcome }, scrollTop: 0 });
    expect(apply(done, keys(k.char('j'))).state.scrollTop).toBe(1);
    expect(apply(done, keys(k.enter)).effects).toEqual([{ kind: 'back' }]);
    expect(apply(done, keys(k.esc)).effects).toEqual([{ kind: 'back' }]);
    expect(apply(done, [{ type: 'interrupt' }]).effects).toEqual([]);
  });
});

describe('restore wizard: errors', () => {
  const error = new Error('boom');
  it.each<[string, () => WizardState, ErrorBack, Partial<WizardState> | null]>([
    ['the sets did not load: Enter leaves', () => initialWizardState(), 'set', null],
    ['a manifest did not load: back to the sets', atSets, 'set', { step: { name: 'set' }, busy: null }],
    ['a manifest opened from the list did not load: Enter leaves', () => initialWizardState('x'), 'set', null],
    ['planning failed: back to the target', () => atItems(), 'target', { step: { name: 'target' } }],
    ['the run failed: back to the target', () => atItems(), 'plan', { step: { name: 'target' } }],
    ['back to the items', () => atItems(), 'items', { step: { name: 'items' } }],
    ['the stored paths did not list: back to typing one', () => atItems(), 'paths', { step: { name: 'paths' } }],
  ])('%s', (_, from, back, expected) => {
    const failed = apply({ ...from(), busy: 'loading' }, [{ type: 'failed', error, back }]).state;
    expect(failed).toMatchObject({ step: { name: 'error', error, back }, busy: null });
    expect(apply(failed, keys(k.char('x'))).state).toEqual(failed);
    const after = apply(failed, keys(k.enter));
    if (expected) {
      expect(after.state).toMatchObject(expected);
      expect(after.effects).toEqual([]);
    } else expect(after.effects).toEqual([{ kind: 'back' }]);
  });
});

describe('restore wizard: which of the files (a stored path typed)', () => {
  const TAB: K = ['\t', { tab: true }];
  /** The files alone chosen, past the target (a new folder, the default): the paths step, listing the set's top. */
  const atPaths = () => apply(atItems(), keys(k.down, k.down, k.down, k.space, k.enter, k.enter));
  const listed = (typed: string, paths: string[]): WizardEvent => ({
    type: 'paths-listed',
    complete: true,
    listed: {
      typed,
      choices: paths.map((p) => ({ path: p, folder: p.endsWith('/'), files: 1 })),
      more: 0,
      matched: paths.length,
      chosen: 0,
    },
  });

  it('entering it lists the top; Tab lists what is typed and completes it; a folder completed is listed at once', () => {
    const { state, effects } = atPaths();
    expect(state).toMatchObject({ step: { name: 'paths' }, busy: 'loading', pathText: '' });
    expect(effects).toEqual([{ kind: 'list-paths', id: '20261122_100000', typed: '', complete: false }]);
    const typed = apply({ ...state, busy: null }, [...keys(k.char('c'), k.char('o'), TAB)]);
    expect(typed.effects).toEqual([{ kind: 'list-paths', id: '20261122_100000', typed: 'co', complete: true }]);
    const done = apply(typed.state, [listed('co', ['config/'])]);
    expect(done.state).toMatchObject({ pathText: 'config/', busy: 'loading' });
    expect(done.effects).toEqual([{ kind: 'list-paths', id: '20261122_100000', typed: 'config/', complete: false }]);
    // Two names: completed as far as they agree, nothing more listed.
    const two = apply({ ...done.state, pathText: 'config/a' }, [
      listed('config/a', ['config/app.conf', 'config/app.key']),
    ]);
    expect(two).toMatchObject({ state: { pathText: 'config/app.', busy: null }, effects: [] });
    // What was typed meanwhile is not completed over (a listing that comes after the step was left is dropped).
    expect(apply({ ...done.state, pathText: 'x' }, [listed('config/', ['config/a'])]).state.pathText).toBe('x');
    const left = apply({ ...done.state, busy: null }, keys(k.esc)).state;
    expect(apply(left, [listed('config/', ['config/a'])]).state).toMatchObject({
      step: { name: 'target' },
      busy: null,
    });
  });

  it('Enter adds the path typed, Enter on none plans them (none added: all the files); Esc stops a listing', () => {
    const { state } = atPaths();
    const ready = { ...state, busy: null };
    expect(apply(ready, keys(k.enter)).effects).toEqual([
      { kind: 'plan', request: { setId: '20261122_100000', databases: [], files: true } },
    ]);
    const typePath = (from: WizardState, path: string) => apply(from, keys(...[...path].map(k.char), k.enter));
    // Added, the field emptied for another and the set's top listed again.
    const one = typePath(ready, 'config/app.conf');
    expect(one.state).toMatchObject({ step: { name: 'paths' }, pathsAdded: ['config/app.conf'], pathText: '' });
    expect(one.effects).toEqual([{ kind: 'list-paths', id: '20261122_100000', typed: '', complete: false }]);
    // A second one, the first again (kept once), then Enter on an empty path: the plan of both, in that order.
    const two = typePath(
      { ...typePath({ ...one.state, busy: null }, 'application/uploads/').state, busy: null },
      'config/app.conf',
    );
    expect(two.state.pathsAdded).toEqual(['config/app.conf', 'application/uploads/']);
    expect(apply({ ...two.state, busy: null }, keys(k.enter)).effects).toEqual([
      {
        kind: 'plan',
        request: {
          setId: '20261122_100000',
          databases: [],
          files: true,
          paths: ['config/app.conf', 'application/uploads/'],
        },
      },
    ]);
    // Backspace on an empty path takes back the last added, to be typed on (or dropped).
    const back = apply({ ...two.state, busy: null }, keys(k.backspace));
    expect(back.state).toMatchObject({ pathsAdded: ['config/app.conf'], pathText: 'application/uploads/' });
    // A path the set was listed at that names nothing stored stays typed (the screen says so); listed as naming
    // something, or not listed since, it is added (the plan checks it).
    const listedAt = (typed: string, chosen: number) => ({
      ...ready,
      pathText: typed,
      pathChoices: {
        typed,
        choices: [{ path: 'config/app.conf', folder: false, files: 1 }],
        more: 0,
        matched: 1,
        chosen,
      },
    });
    expect(apply(listedAt('config/app', 0), keys(k.enter))).toEqual({ state: listedAt('config/app', 0), effects: [] });
    expect(apply(listedAt('config/app.conf', 1), keys(k.enter)).state.pathsAdded).toEqual(['config/app.conf']);
    const remote = apply({ ...ready, from: 'nas' }, keys(TAB));
    expect(remote.effects).toEqual([
      { kind: 'list-paths', id: '20261122_100000', typed: '', complete: true, from: 'nas' },
    ]);
    expect(apply(remote.state, keys(k.esc))).toEqual({
      state: { ...remote.state, busy: null },
      effects: [{ kind: 'cancel' }],
    });
  });
});

/**
 * Issues 4 and 5: sessions connected to a live server database are closed only after the operator
 * says so. The menu shows them and asks (default no); yes plans again with terminateConnections and
 * still needs the typed word; no changes nothing. SQLite targets in use stay refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { EngineName } from '../src/core/types.js';
import type { RestorePlan, RestoreRequest } from '../src/ui/engine-facade.js';
import { RestoreScreen, connectedSessions, mayCloseSessions } from '../src/ui/screens/RestoreScreen.js';
import { FakeFacade, KEY, press, renderUi, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

const SET = '20261122_100000';
const SESSIONS = ['app@10.0.0.5 (pid 4121)', 'report@10.0.0.9 (pid 4188)'];
const flat = (f: string) => f.replace(/\s+/g, ' ');
const calls = (f: FakeFacade, m: string) => f.calls.filter((c) => c.method === m);
const planned = (f: FakeFacade) => calls(f, 'planRestore').map((c) => c.args[0] as RestoreRequest);

/** A facade whose set holds `inventario` as a PostgreSQL database with `sessions` connected to it. */
function pgFacade(sessions: string[] = SESSIONS, engine: EngineName = 'postgres'): FakeFacade {
  const facade = new FakeFacade();
  for (const m of facade.manifests) for (const d of m.databases) if (d.name === 'inventario') d.engine = engine;
  facade.inUse = { inventario: sessions };
  return facade;
}

/** Opens the restore of SET, picks inventario, in place, and waits for `until`. */
async function toInPlacePlan(
  facade: FakeFacade,
  until: (f: string) => boolean,
  lang: 'en' | 'es' = 'en',
  onBack = (): void => undefined,
) {
  const r = renderUi(<RestoreScreen onBack={onBack} initialSetId={SET} />, { facade, lang });
  await waitFrame(r.lastFrame, (x) => /\[ \] inventario \((postgres|sqlite)\)/.test(x));
  await press(r.stdin, KEY.down, KEY.space, KEY.enter);
  await waitFrame(r.lastFrame, (x) => x.includes(lang === 'en' ? 'Where to restore' : 'Dónde restaurar'));
  await press(r.stdin, KEY.enter);
  await waitFrame(r.lastFrame, until);
  return r;
}

const QUESTION = 'Close these sessions at the swap?';

describe('restore in place with sessions connected (server engines)', () => {
  it('shows the sessions and asks, with No preselected; nothing is planned with terminateConnections yet', async () => {
    const facade = pgFacade();
    const { lastFrame } = await toInPlacePlan(facade, (x) => x.includes(QUESTION));
    const f = lastFrame()!;
    expect(f).toContain('Sessions are connected to the live database');
    expect(f).toContain('inventario (database "inventario" on db1:5432): 2 sessions connected');
    expect(f).toContain('app@10.0.0.5 (pid 4121)');
    expect(f).toContain('report@10.0.0.9 (pid 4188)');
    expect(f).toContain('Nothing has changed yet.');
    expect(f).toMatch(/› No: leave them connected and go back/);
    expect(f).not.toMatch(/› Yes/);
    expect(f).not.toContain('Type RESTORE');
    expect(planned(facade)).toEqual([{ setId: SET, databases: ['inventario'], files: false }]);
  });

  it('No (Enter on the default) changes nothing and goes back; asking again needs a new answer', async () => {
    const facade = pgFacade();
    let back = 0;
    const { lastFrame, stdin } = await toInPlacePlan(
      facade,
      (x) => x.includes(QUESTION),
      'en',
      () => back++,
    );
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore') && !x.includes(QUESTION));
    expect(planned(facade)).toHaveLength(1);
    expect(planned(facade).some((r) => r.terminateConnections)).toBe(false);
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
    expect(back).toBe(0);
    // Going on again plans afresh, without terminateConnections, and asks again.
    await press(stdin, KEY.enter);
    const again = await waitFrame(lastFrame, (x) => x.includes(QUESTION));
    expect(again).toMatch(/› No:/);
    expect(planned(facade)).toHaveLength(2);
    expect(planned(facade)[1]!.terminateConnections).toBeUndefined();
    // Esc is also no.
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore') && !x.includes(QUESTION));
    expect(planned(facade)).toHaveLength(2);
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });

  it('Down then Up comes back to No: Enter still goes back without closing anything', async () => {
    const facade = pgFacade();
    const { lastFrame, stdin } = await toInPlacePlan(facade, (x) => x.includes(QUESTION));
    await press(stdin, KEY.down);
    await waitFrame(lastFrame, (x) => /› Yes: close them at the swap/.test(x));
    await press(stdin, KEY.up);
    await waitFrame(lastFrame, (x) => /› No:/.test(x));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
    expect(planned(facade).some((r) => r.terminateConnections)).toBe(false);
  });

  it('Yes plans again with terminateConnections, shows the plan with the warning, and still needs the typed word', async () => {
    const facade = pgFacade();
    const { lastFrame, stdin } = await toInPlacePlan(facade, (x) => x.includes(QUESTION));
    await press(stdin, KEY.down);
    await waitFrame(lastFrame, (x) => /› Yes: close them at the swap/.test(x));
    await press(stdin, KEY.enter);
    const plan = flat(
      await waitFrame(
        lastFrame,
        (x) => x.includes('Restore plan: nothing has changed yet') && x.includes('Type RESTORE'),
      ),
    );
    expect(planned(facade)).toEqual([
      { setId: SET, databases: ['inventario'], files: false },
      { setId: SET, databases: ['inventario'], files: false, terminateConnections: true },
    ]);
    expect(plan).toContain('Will replace inventario → database "inventario" on db1:5432');
    expect(plan).toContain('2 session(s) connected to inventario will be terminated at the swap.');
    expect(plan).toContain('You chose to close the 2 sessions connected to inventario at the swap.');
    expect(plan).not.toContain('Error:');
    expect(calls(facade, 'executeRestore')).toHaveLength(0);

    await type(stdin, 'yes');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('That is not RESTORE. Nothing was done.'));
    expect(calls(facade, 'executeRestore')).toHaveLength(0);

    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Restore finished'));
    const executed = calls(facade, 'executeRestore');
    expect(executed).toHaveLength(1);
    expect((executed[0]!.args[0] as RestorePlan).options.terminateConnections).toBe(true);
  });

  it('Esc at the typed word after Yes goes back; the next plan asks about the sessions again', async () => {
    const facade = pgFacade();
    const { lastFrame, stdin } = await toInPlacePlan(facade, (x) => x.includes(QUESTION));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(QUESTION));
    expect(planned(facade).map((r) => r.terminateConnections ?? false)).toEqual([false, true, false]);
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });

  it('many sessions: the first ones, how many more, and the question all fit', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `app@10.0.0.${i} (pid ${5000 + i})`);
    const facade = pgFacade(many);
    const { lastFrame } = await toInPlacePlan(facade, (x) => x.includes(QUESTION));
    const f = lastFrame()!;
    expect(f).toContain('40 sessions connected');
    expect(f).toContain('app@10.0.0.0 (pid 5000)');
    expect(f).not.toContain('(pid 5039)');
    const shown = many.filter((s) => f.includes(s)).length;
    expect(f).toContain(`…and ${40 - shown} more`);
    expect(f).toMatch(/› No: leave them connected/);
    expect(f).toContain('Yes: close them at the swap');
  });

  it('a long target: its heading is folded, never cut, so the count of sessions and the question stay on screen', async () => {
    const facade = pgFacade(['app@10.0.0.5 (pid 4121)']);
    const plan = facade.planRestore.bind(facade);
    const target = 'database "inventario" on pg-produccion-01.erp.example.internal:5432 as respaldo_backup';
    facade.planRestore = async (req) => {
      const p = await plan(req);
      for (const d of p.databases) d.target = target;
      return p;
    };
    const { lastFrame } = await toInPlacePlan(facade, (x) => x.includes(QUESTION));
    const f = lastFrame()!;
    expect(flat(f)).toContain(`inventario (${target}): 1 session connected`);
    expect(f).not.toContain('…');
    expect(f).toContain('app@10.0.0.5 (pid 4121)');
    expect(f).toMatch(/› No: leave them connected/);
  });

  it('speaks Spanish: Sí plans again with terminateConnections and asks for RESTAURAR', async () => {
    const facade = pgFacade(['app@10.0.0.5 (pid 4121)']);
    const { lastFrame, stdin } = await toInPlacePlan(
      facade,
      (x) => x.includes('¿Cerrar estas sesiones en el intercambio?'),
      'es',
    );
    const f = lastFrame()!;
    expect(f).toContain('Hay sesiones conectadas a la base en uso');
    expect(f).toContain('inventario (base "inventario" en db1:5432): 1 sesión conectada');
    expect(f).toMatch(/› No: dejarlas conectadas y volver/);
    await press(stdin, KEY.down, KEY.enter);
    const plan = flat(await waitFrame(lastFrame, (x) => x.includes('Escriba RESTAURAR')));
    expect(plan).toContain('Ha elegido cerrar la sesión conectada a inventario en el intercambio.');
    expect(planned(facade)[1]).toMatchObject({ terminateConnections: true });
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });
});

describe('what is not asked', () => {
  it('SQLite in use stays refused: no question, no confirmation, nothing re-planned', async () => {
    const facade = pgFacade(['pid 4121 (node)'], 'sqlite');
    const { lastFrame, stdin } = await toInPlacePlan(facade, (x) => x.includes('is open in another process'));
    const f = lastFrame()!;
    expect(f).toContain('/srv/app/data/inventario.db is open in another process (pid 4121 (node)).');
    expect(f).not.toContain(QUESTION);
    expect(f).not.toContain('Type RESTORE');
    await press(stdin, KEY.down, KEY.enter);
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter, KEY.esc);
    // Keys are handled in order: once Esc has taken the screen back a step, every key before it was handled.
    await waitFrame(lastFrame, (x) => x.includes('Where to restore') && !x.includes('is open in another process'));
    expect(planned(facade)).toHaveLength(1);
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });

  it('sessions plus another refusal (a SQLite target in use): the refusals are shown, no question', async () => {
    const facade = pgFacade();
    facade.inUse.users = ['pid 77 (node)'];
    const r = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade });
    await waitFrame(r.lastFrame, (x) => x.includes('[ ] inventario (postgres)'));
    await press(r.stdin, KEY.space, KEY.down, KEY.space, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Where to restore'));
    await press(r.stdin, KEY.enter);
    const f = await waitFrame(r.lastFrame, (x) => x.includes('is open in another process'));
    expect(f).toContain('2 session(s) are connected to inventario');
    expect(f).not.toContain(QUESTION);
    expect(f).not.toContain('Type RESTORE');
    expect(planned(facade)).toHaveLength(1);
  });

  it('side by side on a server engine: no question (nothing live is swapped)', async () => {
    const facade = pgFacade();
    const r = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade });
    await waitFrame(r.lastFrame, (x) => x.includes('[ ] inventario (postgres)'));
    await press(r.stdin, KEY.down, KEY.space, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Where to restore'));
    await press(r.stdin, KEY.down);
    await type(r.stdin, 'inventario_copy');
    await press(r.stdin, KEY.enter);
    // Side by side, a PostgreSQL database may be limited to some tables: All is the default.
    await waitFrame(r.lastFrame, (x) => x.includes('[x] All tables'));
    await press(r.stdin, KEY.enter);
    const f = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(f).toContain('Will create inventario → new database "inventario_copy" on db1:5432');
    expect(f).not.toContain(QUESTION);
    expect(planned(facade)[0]!.terminateConnections).toBeUndefined();
  });
});

describe('mayCloseSessions / connectedSessions (which plans get the question)', () => {
  const facade = pgFacade();
  const plan = (databases: string[], opts: Partial<RestoreRequest> = {}) =>
    facade.planRestore({ setId: SET, databases, files: false, ...opts });

  it.each([
    {
      what: 'server sessions only',
      inUse: { inventario: SESSIONS },
      dbs: ['inventario'],
      opts: {},
      ask: true,
      connected: ['inventario'],
    },
    {
      what: 'server sessions, another database clean',
      inUse: { inventario: SESSIONS },
      dbs: ['users', 'inventario'],
      opts: {},
      ask: true,
      connected: ['inventario'],
    },
    { what: 'no sessions', inUse: {}, dbs: ['inventario'], opts: {}, ask: false, connected: [] },
    {
      what: 'already asked to close them',
      inUse: { inventario: SESSIONS },
      dbs: ['inventario'],
      opts: { terminateConnections: true },
      ask: false,
      connected: ['inventario'],
    },
    { what: 'SQLite in use only', inUse: { users: ['pid 1'] }, dbs: ['users'], opts: {}, ask: false, connected: [] },
    {
      what: 'sessions and SQLite in use',
      inUse: { inventario: SESSIONS, users: ['pid 1'] },
      dbs: ['users', 'inventario'],
      opts: {},
      ask: false,
      connected: ['inventario'],
    },
    {
      what: 'side by side',
      inUse: { inventario: SESSIONS },
      dbs: ['inventario'],
      opts: { to: 'copy' },
      ask: false,
      connected: [],
    },
  ])('$what → ask: $ask', async ({ inUse, dbs, opts, ask, connected }) => {
    facade.inUse = inUse as Record<string, string[]>;
    const p = await plan(dbs, opts);
    expect(mayCloseSessions(p)).toBe(ask);
    expect(connectedSessions(p).map((d) => d.database)).toEqual(connected);
  });
});

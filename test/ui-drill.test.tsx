/**
 * Restore drills in the menu: the list's Drilled column, the details' last drill (of the set and of
 * each database), starting a drill from the details with its progress and outcome, and the header's
 * drill state; English and Spanish, against the in-memory facade.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Menu } from '../src/ui/Menu.js';
import { ListScreen } from '../src/ui/screens/ListScreen.js';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import {
  cleanupSized,
  drillResultFor,
  FakeFacade,
  frameProblems,
  KEY,
  NOW,
  press,
  renderSized,
  renderUi,
  waitFrame,
} from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

const noop = (): void => undefined;
const TWO_DAYS_AGO = new Date(NOW.getTime() - 2 * 86_400_000).toISOString();
const CORRUPT = {
  error: '*** in database main *** Page 3: btreeInitPage() returns error code 11',
  hint: 'Set 20261121_100000 does not restore cleanly: use another set, and back up users again.',
};

/** Three sets: the newest drilled two days ago and passed, the next one failed for users, the oldest never. */
function drilledFacade(): FakeFacade {
  const facade = new FakeFacade();
  const [a, b] = [facade.manifests[0]!.id, facade.manifests[1]!.id];
  const names = ['users', 'inventario', 'auditoria'];
  facade.drills.set(a, {
    setId: a,
    results: Object.fromEntries(names.map((n) => [n, drillResultFor(n, TWO_DAYS_AGO)])),
  });
  facade.drills.set(b, {
    setId: b,
    results: Object.fromEntries(
      names.map((n) => [n, drillResultFor(n, TWO_DAYS_AGO, n === 'users' ? CORRUPT : undefined)]),
    ),
  });
  return facade;
}

describe('the last drill in the list and the details', () => {
  it('the list has a Drilled column: ✓ and the age, ✗ and the databases that failed, or never', async () => {
    const { lastFrame } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, {
      facade: drilledFacade(),
    });
    const f = await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    expect(f).toMatch(/Status\s+Verified\s+Drilled/);
    const rows = f.split('\n').filter((l) => /\d{8}_\d{6}/.test(l));
    expect(rows[0]).toMatch(/never\s+✓ 2 d\s*$/);
    expect(rows[1]).toMatch(/never\s+✗ users\s*$/);
    expect(rows[2]).toMatch(/never\s+never\s*$/);
  });

  it('the details say when the set was drilled and, per database, the checks, the duration, the error and its hint', async () => {
    const facade = drilledFacade();
    const tall = { facade, columns: 110, rows: 60 };
    const ok = renderSized(
      <SetDetailsScreen id="20261122_100000" onBack={noop} onRestore={noop} onDeleted={noop} />,
      tall,
    );
    const f = await waitFrame(ok.lastFrame, (x) => x.includes('Drilled'));
    expect(f).toMatch(/Drilled\s+2 d ago ✓ restored and checked/);
    expect(f).toMatch(/users \(sqlite, sqlite-db\)[\s\S]*drill ✓ 2 d ago · 4 checks passed · 1 s/);
    ok.unmount();
    const bad = renderSized(
      <SetDetailsScreen id="20261121_100000" onBack={noop} onRestore={noop} onDeleted={noop} />,
      tall,
    );
    const g = await waitFrame(bad.lastFrame, (x) => x.includes('Drilled'));
    expect(g).toMatch(/Drilled\s+FAILED 2 d ago: users \(t drills again\)/);
    expect(g).toMatch(/drill FAILED 2 d ago · 1 s\n\s+✗ PRAGMA integrity_check: \*\*\* in database main \*\*\* Page 3/);
    expect(g).toContain('What to do: Set 20261121_100000 does not restore cleanly');
  });

  it('a set never drilled says so and how to drill it', async () => {
    const { lastFrame } = renderUi(
      <SetDetailsScreen id="20261120_100000" onBack={noop} onRestore={noop} onDeleted={noop} />,
      {
        facade: drilledFacade(),
      },
    );
    expect(await waitFrame(lastFrame, (x) => x.includes('Drilled'))).toMatch(
      /Drilled\s+never \(t restores it into a scratch target/,
    );
  });
});

describe('a drill started from the details', () => {
  it('t drills the set: progress bars while it runs, then each database passed with its checks; the details and the header show it', async () => {
    const facade = new FakeFacade();
    facade.hold = true;
    const { lastFrame, stdin } = renderSized(
      <Menu initial={[{ name: 'main' }, { name: 'details', id: '20261121_100000' }]} />,
      {
        facade,
        columns: 100,
        rows: 40,
      },
    );
    await waitFrame(lastFrame, (x) => /Drilled\s+never/.test(x));
    expect(lastFrame()).not.toContain('drilled');
    await press(stdin, 't');
    const running = await waitFrame(
      lastFrame,
      (x) => x.includes('Restore drill of set 20261121_100000') && x.includes('50%'),
    );
    expect(running).toMatch(/users\s+\S+\s+50%\s+20 KB\/40 KB/);
    expect(running).toContain('nothing live is touched');
    expect(running).toContain('Ctrl-C to interrupt');
    expect(facade.calls.find((c) => c.method === 'drillSet')?.args).toEqual(['20261121_100000']);
    facade.release?.();
    const done = await waitFrame(lastFrame, (x) => x.includes('passed: it restores'));
    expect(done).toContain('Drill of set 20261121_100000 passed: it restores, and every check passed');
    expect(done).toMatch(
      /users: PASSED in 1 s\n\s+✓ stored files match the manifest\n\s+✓ restore: into \/srv\/backups/,
    );
    expect(done).toContain('✓ PRAGMA integrity_check: ok');
    await waitFrame(lastFrame, (x) => /drilled [^·\n]* ago ✓/.test(x));
    await press(stdin, KEY.esc);
    const back = await waitFrame(lastFrame, (x) => /Drilled\s+\S+.*✓ restored and checked/.test(x));
    expect(back).toMatch(/users \(sqlite, sqlite-db\)[\s\S]*drill ✓/);
  });

  it('a warning of the drill is shown while it runs and in the outcome (80×24)', async () => {
    const facade = new FakeFacade();
    facade.hold = true;
    const warning =
      "could not remove the drill's scratch target /srv/backups/.drill/users.db (EBUSY); the next run removes it";
    facade.restoreWarnings = [warning];
    const { lastFrame, stdin } = renderSized(
      <Menu initial={[{ name: 'main' }, { name: 'details', id: '20261121_100000' }]} />,
      { facade },
    );
    await waitFrame(lastFrame, (x) => x.includes('20261121_100000'));
    await press(stdin, 't');
    const running = await waitFrame(lastFrame, (x) => x.includes("WARNING: users: could not remove the drill's"));
    expect(frameProblems(running)).toEqual([]);
    facade.release?.();
    const done = await waitFrame(lastFrame, (x) => x.includes('passed: it restores') && x.includes('to see the rest'));
    expect(frameProblems(done)).toEqual([]);
    await press(stdin, KEY.pageDown); // below the checks of the three databases
    const end = await waitFrame(lastFrame, (x) => x.includes('WARNING: users:'));
    expect(end.replace(/\s+/g, ' ')).toContain(`WARNING: users: ${warning}`);
    expect(frameProblems(end)).toEqual([]);
  });

  it('a failed drill: FAILED per database with the check, the error and its hint; the header warns', async () => {
    const facade = new FakeFacade();
    facade.drillFailures = { users: CORRUPT };
    const { lastFrame, stdin } = renderUi(
      <Menu initial={[{ name: 'main' }, { name: 'details', id: '20261121_100000' }]} />,
      { facade },
    );
    await waitFrame(lastFrame, (x) => /Drilled\s+never/.test(x));
    await press(stdin, 't');
    const done = await waitFrame(lastFrame, (x) => x.includes('FAILED') && x.includes('What to do'));
    expect(done).toContain('Drill of set 20261121_100000 FAILED');
    expect(done).toMatch(/users: FAILED in 1 s/);
    expect(done).toContain('✗ PRAGMA integrity_check: *** in database main *** Page 3');
    expect(done).toContain('What to do: Set 20261121_100000 does not restore cleanly');
    expect(done).toMatch(/inventario: PASSED/);
    const warned = await waitFrame(lastFrame, (x) => x.includes('WARNING: users: last restore drill FAILED'));
    expect(warned).toContain('(set 20261121_100000)');
    expect(warned).toContain('drill FAILED');
  });

  it('in Spanish', async () => {
    const facade = new FakeFacade();
    facade.drillFailures = { users: CORRUPT };
    const { lastFrame, stdin } = renderUi(
      <Menu initial={[{ name: 'main' }, { name: 'details', id: '20261121_100000' }]} />,
      {
        facade,
        lang: 'es',
      },
    );
    const before = await waitFrame(lastFrame, (x) => /Simulacro\s+nunca/.test(x));
    expect(before).toContain('t simular');
    await press(stdin, 't');
    const done = await waitFrame(lastFrame, (x) => x.includes('FALLIDO') && x.includes('Qué hacer'));
    expect(done).toContain('Simulacro de la copia 20261121_100000 FALLIDO');
    expect(done).toMatch(/users: FALLIDO en 1 s/);
    expect(done).toMatch(/inventario: CORRECTO/);
    await waitFrame(lastFrame, (x) => x.includes('AVISO: users: el último simulacro FALLÓ'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => /Simulacro\s+FALLÓ .*users/.test(x));
  });
});

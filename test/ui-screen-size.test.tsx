/**
 * Every screen of the menu fits the terminal it is given (80×24 here): at most 24 lines, none wider
 * than 80 columns, and the prompt, any error and the key line stay visible however long the plan is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { rollbackLines } from '../src/engine/rollback-advice.js';
import { Menu } from '../src/ui/Menu.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import type { RestoreOutcome, RestorePlan, RestoreRequest } from '../src/ui/engine-facade.js';
import { wrapHelp } from '../src/ui/use-screen-size.js';
import {
  cleanupSized,
  drillResultFor,
  FakeFacade,
  frameProblems,
  KEY,
  manifestFor,
  press,
  renderSized,
  type,
  waitFrame,
} from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

/** The longest plans: every database, files, a warning per database and a long one more. */
class LongPlanFacade extends FakeFacade {
  constructor() {
    super();
    this.manifests[0] = manifestFor(this.manifests[0]!.id, { startedAt: this.manifests[0]!.startedAt, files: 40 });
  }
  override async planRestore(req: RestoreRequest): Promise<RestorePlan> {
    const plan = await super.planRestore(req);
    const warnings = [
      ...plan.databases.map(
        (d) =>
          `${d.database}: the set was taken by respaldo 0.0.9 with another engine version; the restored database may need an upgrade step`,
      ),
      'the set is 14 days older than the newest set that holds the same databases; a newer set exists (20261122_100000)',
    ];
    return { ...plan, warnings, warningPhrases: undefined };
  }
}

function expectFits(frame: string): void {
  if (process.env.SHOW_FRAMES) console.log(frame);
  expect(frameProblems(frame), frame).toEqual([]);
}

/** Opens option 4, takes `latest`, picks everything (or the first database) and restores in place. */
async function toPlan(facade: FakeFacade, lang: 'en' | 'es', all: boolean) {
  const r = renderSized(<Menu />, { facade, lang });
  const { lastFrame, stdin } = r;
  await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '3 sets' : '3 copias'));
  await press(stdin, '4');
  await waitFrame(lastFrame, (x) => (lang === 'en' ? /› latest/ : /› la última/).test(x));
  expectFits(lastFrame() ?? '');
  await press(stdin, KEY.enter);
  await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
  expectFits(lastFrame() ?? '');
  await press(stdin, all ? 'a' : KEY.space);
  await waitFrame(lastFrame, (x) => x.includes('[x] users (sqlite)'));
  // `a` takes every database and the files.
  if (all) expect(lastFrame()).toMatch(/\[x\] auditoria \(sqlite\)[\s\S]*\[x\] (Files|Archivos) \(40\)/);
  await press(stdin, KEY.enter);
  await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'In place: replace the live database' : 'En su sitio'));
  expectFits(lastFrame() ?? '');
  await press(stdin, KEY.enter);
  return r;
}

describe('the restore confirmation at 80×24', () => {
  it('three databases + files + every warning: the title, the prompt and the key line are all there', async () => {
    const facade = new LongPlanFacade();
    const { lastFrame, stdin } = await toPlan(facade, 'en', true);
    const f = await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    expectFits(f);
    expect(f).toContain('Restore plan: nothing has changed yet');
    expect(f).toMatch(/Will replace users/);
    expect(f).toContain('Esc to cancel');
    expect(f).toMatch(/^›( |$)/m);
    expect(f).toContain('Esc cancel');
    // The rest of the plan is reached by scrolling, the prompt stays.
    await press(stdin, KEY.pageDown);
    const down = await waitFrame(lastFrame, (x) => x.includes('newer set exists'));
    expectFits(down);
    expect(down).toContain('Type RESTORE');
    expect(down).toContain('Restore plan: nothing has changed yet');
    // Typing still goes to the field and a wrong word's message is shown with everything else.
    await type(stdin, 'restor');
    await waitFrame(lastFrame, (x) => x.includes('› restor'));
    await press(stdin, KEY.enter);
    const wrong = await waitFrame(lastFrame, (x) => x.includes('That is not RESTORE'));
    expectFits(wrong);
    expect(wrong).toContain('Type RESTORE');
    expect(wrong).toContain('Restore plan: nothing has changed yet');
  });

  it('one database in Spanish after a mistyped word: the plan, the error, the field and the keys fit', async () => {
    const facade = new LongPlanFacade();
    const { lastFrame, stdin } = await toPlan(facade, 'es', false);
    await waitFrame(lastFrame, (x) => x.includes('Escriba RESTAURAR'));
    await type(stdin, 'restaurar');
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Eso no es RESTAURAR'));
    expectFits(f);
    expect(f).toContain('Plan de restauración: todavía no ha cambiado nada');
    expect(f).toMatch(/Sustituirá users/);
    expect(f).toContain('Escriba RESTAURAR');
    expect(f).toMatch(/^›( |$)/m);
    expect(f).toContain('Esc cancelar');
  });
});

describe('the outcome of a restore', () => {
  it('after a server in-place restore, names the renamed database and gives the same rollback as the CLI', async () => {
    const facade = new FakeFacade();
    for (const m of facade.manifests) for (const d of m.databases) if (d.name !== 'users') d.engine = 'postgres';
    const { lastFrame, stdin } = renderSized(
      <RestoreScreen onBack={() => undefined} initialSetId="20261122_100000" />,
      { facade },
    );
    await waitFrame(lastFrame, (x) => x.includes('[ ] inventario (postgres)'));
    await press(stdin, 'a', KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Restore finished'));
    expectFits(f);
    const plan = facade.calls.find((c) => c.method === 'executeRestore')!.args[0] as RestorePlan;
    const outcome: RestoreOutcome = await new FakeFacade().executeRestore(plan, { emit: () => undefined });
    const cli = rollbackLines(plan, outcome);
    expect(cli).toEqual([
      'Safety copy: set 20261122_120500. To roll back: respaldo restore 20261122_120500 --db users --yes',
      'Safety copy of inventario: database inventario__pre_restore_20261122_100000 (listed in set 20261122_120500). To roll back: respaldo restore 20261122_120500 --db inventario --yes',
      'Safety copy of auditoria: database auditoria__pre_restore_20261122_100000 (listed in set 20261122_120500). To roll back: respaldo restore 20261122_120500 --db auditoria --yes',
    ]);
    // Everything the CLI says is on the outcome screen (scrolling when it does not fit): restoring the
    // safety set with --db rolls a server database back (its kept copy is swapped back in).
    let seen = stripped(f);
    for (let i = 0; i < 5 && /lines \d+-(\d+) of (\d+)/.exec(seen) && !/lines \d+-(\d+) of \1\b/.test(seen); i++) {
      await press(stdin, KEY.pageDown);
      seen += stripped(lastFrame() ?? '');
      expectFits(lastFrame() ?? '');
    }
    const flatSeen = seen.replace(/\s+/g, ' ');
    expect(flatSeen).toContain('To roll back: respaldo restore 20261122_120500 --db users --yes');
    expect(flatSeen).toContain(
      'Safety copy of inventario: database inventario__pre_restore_20261122_100000 (listed in set 20261122_120500)',
    );
    expect(flatSeen).toContain('To roll back: respaldo restore 20261122_120500 --db auditoria --yes');
    expect(flatSeen).not.toMatch(/respaldo restore 20261122_120500(?! --db (users|inventario|auditoria) --yes)/);
  });
});

const stripped = (f: string): string => f.replace(/\x1b\[[0-9;]*m/g, '');

describe('the other screens at 80×24', () => {
  /** Many sets, long descriptions and failures: the longest list and details. */
  function busyFacade(): FakeFacade {
    const facade = new FakeFacade(40);
    facade.manifests[1] = manifestFor(facade.manifests[1]!.id, {
      startedAt: facade.manifests[1]!.startedAt,
      files: 60,
      failed: [
        {
          name: 'reportes',
          message:
            'pg_dump: error: connection to server at "db1" (10.0.0.7), port 5432 failed: FATAL: the database system is shutting down',
          hint: 'Check that the server is running and accepts connections, then run respaldo create again.',
        },
      ],
    });
    facade.manifests[1]!.description = 'before upgrade 4.2 of the inventory application, requested by operations';
    return facade;
  }

  it.each(['en', 'es'] as const)('main menu, list and details (%s)', async (lang) => {
    const { lastFrame, stdin } = renderSized(<Menu />, { facade: busyFacade(), lang });
    expectFits(await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '40 sets' : '40 copias')));
    await press(stdin, '3');
    const list = await waitFrame(lastFrame, (x) => x.includes('20261122_100000'));
    expectFits(list);
    expect(list.split('\n').at(-1)).toContain(lang === 'en' ? 'Esc back' : 'Esc volver');
    await press(stdin, KEY.down, KEY.enter);
    const details = await waitFrame(
      lastFrame,
      (x) => x.includes('20261121_100000') && x.includes(lang === 'en' ? 'Description' : 'Descripción'),
    );
    expectFits(details);
    expect(details).toContain(lang === 'en' ? 'Esc back' : 'Esc volver');
    for (let i = 0; i < 3; i++) {
      await press(stdin, KEY.pageDown);
      expectFits(lastFrame() ?? '');
    }
    // The delete question joins the details without drawing over them.
    await press(stdin, 'd');
    const word = lang === 'en' ? 'DELETE' : 'BORRAR';
    const asked = await waitFrame(lastFrame, (x) => x.includes(`${word} `) && /^›/m.test(x));
    expectFits(asked);
    expect(asked).toContain(lang === 'en' ? 'Backup set 20261121_100000' : '20261121_100000');
    expect(asked.replace(/\s+/g, ' ')).toContain(
      lang === 'en' ? 'Delete backup set 20261121_100000? This cannot be undone.' : '20261121_100000',
    );
    expect(asked.split('\n').at(-1)).toContain(lang === 'en' ? 'Esc cancel' : 'Esc cancelar');
    await press(stdin, KEY.esc);
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('20261120_100000'));
    await press(stdin, 'd');
    const fromList = await waitFrame(lastFrame, (x) => x.includes(`${word} `) && /^›/m.test(x));
    expectFits(fromList);
    expect(fromList.split('\n').at(-1)).toContain(lang === 'en' ? 'Esc cancel' : 'Esc cancelar');
  });

  it.each(['en', 'es'] as const)('create: the form, the progress and the result (%s)', async (lang) => {
    const facade = busyFacade();
    facade.hold = true;
    const { lastFrame, stdin } = renderSized(<Menu />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '40 sets' : '40 copias'));
    await press(stdin, '1');
    const form = await waitFrame(lastFrame, (x) => x.includes('auditoria'));
    expectFits(form);
    await press(stdin, KEY.enter);
    const running = await waitFrame(lastFrame, (x) => x.includes('Ctrl-C'));
    expectFits(running);
    facade.release?.();
    const done = await waitFrame(lastFrame, (x) => x.includes('20261122_120000'));
    expectFits(done);
  });

  it.each(['en', 'es'] as const)('schedule: the jobs and the job form (%s)', async (lang) => {
    const { lastFrame, stdin } = renderSized(<Menu />, { facade: busyFacade(), lang });
    await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '40 sets' : '40 copias'));
    await press(stdin, '2');
    expectFits(await waitFrame(lastFrame, (x) => x.includes('daily at 02:00')));
    await press(stdin, KEY.enter);
    const form = await waitFrame(lastFrame, (x) => /2026-11-2\d 02:00/.test(x));
    expectFits(form);
    expect(form).toContain('Esc');
  });
});

describe('restore drills at 80×24', () => {
  it.each(['en', 'es'] as const)(
    'the list, the details, the drill running and a failed outcome with long errors (%s)',
    async (lang) => {
      const facade = new FakeFacade(40);
      const long = (db: string) => ({
        error: `*** in database main *** On tree page 2 of table ${db}: btreeInitPage() returns error code 11; row 14 missing from index sqlite_autoindex_${db}_1`,
        hint: `Set ${facade.manifests[0]!.id} does not restore cleanly: use another set, and back up ${db} again (respaldo create --db ${db}).`,
      });
      facade.drillFailures = { users: long('users'), auditoria: long('auditoria') };
      const older = facade.manifests[1]!.id;
      facade.drills.set(older, {
        setId: older,
        results: {
          users: drillResultFor('users', '2026-11-20T10:00:00.000Z', long('users')),
          inventario: drillResultFor('inventario', '2026-11-20T10:00:00.000Z'),
        },
      });
      facade.hold = true;
      const { lastFrame, stdin } = renderSized(<Menu />, { facade, lang });
      await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '40 sets' : '40 copias'));
      await press(stdin, '3');
      const list = await waitFrame(lastFrame, (x) => x.includes('✗ users'));
      expectFits(list);
      // Nothing squeezed: the pointer keeps its space and the last column is whole.
      expect(list).toMatch(new RegExp(`^› ${facade.manifests[0]!.id} .*(never|nunca)$`, 'm'));
      await press(stdin, KEY.down, KEY.enter);
      const details = await waitFrame(lastFrame, (x) => x.includes(older) && /(Drilled|Simulacro) /.test(x));
      expectFits(details);
      for (let i = 0; i < 3; i++) {
        await press(stdin, KEY.pageDown);
        expectFits(lastFrame() ?? '');
      }
      await press(stdin, KEY.esc, KEY.up, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes(facade.manifests[0]!.id) && /(Drilled|Simulacro) /.test(x));
      await press(stdin, 't');
      const running = await waitFrame(lastFrame, (x) => x.includes('50%'));
      expectFits(running);
      expect(running).toContain('Ctrl-C');
      await press(stdin, KEY.ctrlC);
      const warned = await waitFrame(
        lastFrame,
        (x) => x.includes('Ctrl-C') && x.includes(lang === 'en' ? 'again' : 'otra vez'),
      );
      expectFits(warned);
      facade.release?.();
      const done = await waitFrame(
        lastFrame,
        (x) => x.includes(lang === 'en' ? 'FAILED' : 'FALLIDO') && x.includes('Esc'),
      );
      expectFits(done);
      expect(done.split('\n').at(-1)).toContain('Esc');
      for (let i = 0; i < 4; i++) {
        await press(stdin, KEY.pageDown);
        expectFits(lastFrame() ?? '');
      }
      const header = await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'WARNING: users' : 'AVISO: users'));
      expectFits(header);
      await press(stdin, KEY.esc);
      expectFits(await waitFrame(lastFrame, (x) => /(Drilled|Simulacro)\s+(FAILED|FALLÓ)/.test(x)));
    },
  );
});

describe('the sessions question at 80×24', () => {
  it('many sessions on two server databases: the question and its choices stay on screen', async () => {
    const facade = new FakeFacade();
    for (const m of facade.manifests) for (const d of m.databases) if (d.name !== 'users') d.engine = 'postgres';
    const many = Array.from(
      { length: 30 },
      (_, i) => `app${i}@10.0.0.${i} (pid ${4000 + i}) running a long report query on the inventory tables`,
    );
    facade.inUse = { inventario: many, auditoria: many };
    const { lastFrame, stdin } = renderSized(<Menu />, { facade, lang: 'es' });
    await waitFrame(lastFrame, (x) => x.includes('3 copias'));
    await press(stdin, '4');
    await waitFrame(lastFrame, (x) => /› la última/.test(x));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('[ ] inventario (postgres)'));
    await press(stdin, KEY.down, KEY.space, KEY.down, KEY.space, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Dónde restaurar'));
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('app0@10.0.0.0'));
    expectFits(f);
    expect(f).toMatch(/› No/);
    expect(f).toMatch(/Sí/);
    expect(f.split('\n').at(-1)).toContain('Esc');
  });
});

describe('wrapHelp: a help line folds between its entries', () => {
  it.each([
    [
      '↑↓ · v verificar · V verificar + leer datos · t simular · p proteger · r restaurar · d borrar · Esc volver',
      79,
      ['↑↓ · v verificar · V verificar + leer datos · t simular · p proteger', 'r restaurar · d borrar · Esc volver'],
    ],
    ['Up/Down move | Enter open | q quit', 16, ['Up/Down move', 'Enter open', 'q quit']],
    [
      'a long entry without separators folds at its words',
      20,
      ['a long entry without', 'separators folds at', 'its words'],
    ],
    ['x · an entry wider than a whole line · y', 12, ['x', 'an entry', 'wider than a', 'whole line', 'y']],
  ])('%j at %d columns', (text, width, lines) => {
    expect(wrapHelp(text, width)).toEqual(lines);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(width);
  });
});

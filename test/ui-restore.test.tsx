import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { RefusedError, VerifyError } from '../src/core/errors.js';
import { checkboxLines } from '../src/ui/components/CheckboxList.js';
import { Menu } from '../src/ui/Menu.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import {
  FakeFacade,
  KEY,
  cleanupSized,
  frameProblems,
  manifestFor,
  press,
  renderSized,
  renderUi,
  type,
  waitFrame,
} from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

const noop = (): void => undefined;
const flat = (f: string) => f.replace(/\s+/g, ' ');
const calls = (f: FakeFacade, m: string) => f.calls.filter((c) => c.method === m);

/** Opens option 4 and goes to the plan of `users` side by side at /tmp/restored. */
async function toSideBySidePlan(facade: FakeFacade, lang: 'en' | 'es' = 'en', at80x24 = false) {
  const r = at80x24 ? renderSized(<Menu />, { facade, lang }) : renderUi(<Menu />, { facade, lang });
  const { lastFrame, stdin } = r;
  await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '3 sets' : '3 copias'));
  await press(stdin, '4');
  await waitFrame(lastFrame, (x) =>
    // At 80 columns the list has no room for the time
    (lang === 'en' ? /› latest\s+(2026-11-22 10:00|full)/ : /› la última\s+(2026-11-22 10:00|full)/).test(x),
  );
  await press(stdin, KEY.enter);
  await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
  await press(stdin, KEY.space);
  await waitFrame(lastFrame, (x) => x.includes('[x] users (sqlite)'));
  await press(stdin, KEY.enter);
  await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'In place: replace the live database' : 'En su sitio'));
  await press(stdin, KEY.down);
  await type(stdin, '/tmp/restored');
  await waitFrame(lastFrame, (x) => x.includes('/tmp/restored'));
  await press(stdin, KEY.enter);
  return r;
}

describe('restore screen', () => {
  it('shows the plan before anything happens; a wrong word does nothing; RESTORE runs it and shows the outcome', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = await toSideBySidePlan(facade);
    const plan = await waitFrame(
      lastFrame,
      (x) => x.includes('Restore plan: nothing has changed yet') && x.includes('Type RESTORE'),
    );
    expect(plan).toContain('From set: 20261122_100000');
    expect(plan).toContain('Will create users → /tmp/restored/users.db');
    expect(plan).toContain('size about 40 KB once restored (the stored database file)');
    expect(plan).toContain('1. verify the stored file');
    expect(plan).toContain('Safety copy: none needed: nothing live is replaced');
    expect(plan).toContain('To roll back:');
    expect(plan).toContain('users: delete /tmp/restored/users.db');
    expect(calls(facade, 'planRestore').map((c) => c.args[0])).toEqual([
      { setId: '20261122_100000', databases: ['users'], files: false, to: '/tmp/restored' },
    ]);

    await type(stdin, 'restore');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('That is not RESTORE. Nothing was done.'));
    await type(stdin, 'RESTOR');
    // Typing again clears the message; Enter on the wrong word brings it back and does nothing.
    await waitFrame(lastFrame, (x) => x.includes('› RESTOR') && !x.includes('That is not RESTORE'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('That is not RESTORE. Nothing was done.') && !x.includes('› RESTOR'));
    expect(calls(facade, 'executeRestore')).toHaveLength(0);

    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes('Restore finished'));
    expect(done).toContain('OK users → /tmp/restored/users.db');
    expect(done).not.toContain('Safety set');
    expect(calls(facade, 'executeRestore')).toHaveLength(1);
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
  });

  it('a warning of the running restore is shown while it runs, and every one in the outcome (80×24)', async () => {
    const facade = new FakeFacade();
    facade.hold = true;
    const resumed =
      'destination "ssh": reading srv1/20261122_100000/databases/users.sqlite.zst: 10.0.0.5:22 is unreachable or ' +
      'closed the connection (No response from server); resuming that file where it stopped, after 3.9 MB';
    facade.restoreWarnings = ['the set is decrypted as it is restored', resumed];
    const { lastFrame, stdin } = await toSideBySidePlan(facade, 'en', true);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    const running = await waitFrame(lastFrame, (x) => x.includes('WARNING: destination "ssh"'));
    expect(running).not.toContain('decrypted as it is restored'); // the last one only, on one line
    expect(frameProblems(running)).toEqual([]);
    facade.release?.();
    const done = await waitFrame(lastFrame, (x) => x.includes('Restore finished'));
    expect(done).toContain('WARNING: the set is decrypted as it is restored');
    expect(flat(done)).toContain('resuming that file where it stopped, after 3.9 MB');
    expect(frameProblems(done)).toEqual([]);
  });

  it('in place: the plan names what is replaced and the safety copy; the outcome gives the safety set id to roll back to', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261121_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Restore: 20261121_100000'));
    await press(stdin, KEY.space, KEY.down, KEY.space, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
    await press(stdin, KEY.enter);
    const plan = flat(await waitFrame(lastFrame, (x) => x.includes('Type RESTORE')));
    expect(plan).toContain('Will replace users → /srv/app/data/users.db');
    expect(plan).toContain('Will replace inventario → /srv/app/data/inventario.db');
    expect(plan).toContain(
      'Safety copy: users: copied into a pre_restore set before it is replaced; inventario: copied into a pre_restore set',
    );
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes('Restore finished'));
    expect(done).toContain('Safety set (roll back with it): 20261122_120500');
    expect(done).toMatch(/To roll back: respaldo restore 20261122_120500 --db users --db inventario --yes/);
    expect(flat(done)).not.toContain('--config');
  });

  it('started with --config, the rollback command it shows names that config (typed elsewhere it would use another)', async () => {
    const facade = new FakeFacade();
    facade.cfg = { ...facade.cfg, namedFile: '/srv/my app/backup_config.json' };
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261121_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Restore: 20261121_100000'));
    await press(stdin, KEY.space, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    const done = flat(await waitFrame(lastFrame, (x) => x.includes('Restore finished')));
    expect(done).toMatch(
      /To roll back: respaldo restore 20261122_120500 --db \w+ --yes --config '\/srv\/my app\/backup_config\.json'/,
    );
  });

  it('Esc at the confirmation goes back without restoring; Esc walks back step by step', async () => {
    const facade = new FakeFacade();
    let back = 0;
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={() => back++} />, { facade });
    await waitFrame(lastFrame, (x) => /› latest\s+2026-11-22 10:00/.test(x));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Restore: 20261122_100000'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await type(stdin, 'REST');
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('What to restore') && !x.includes('Where to restore'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Choose the backup set to restore from'));
    expect(back).toBe(0);
    await press(stdin, KEY.esc);
    expect(back).toBe(1);
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });

  it('nothing picked is refused before any plan', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Choose at least one database or the files.'));
    expect(calls(facade, 'planRestore')).toHaveLength(0);
    // Space ticks users: something is chosen, the message goes
    await press(stdin, KEY.space);
    const ticked = await waitFrame(lastFrame, (x) => x.includes('[x] users (sqlite)'));
    expect(ticked).not.toContain('Choose at least one');
  });

  it('side by side needs a path', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, 'a', KEY.enter, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type the new path or name for the side-by-side restore.'));
    expect(calls(facade, 'planRestore')).toHaveLength(0);
  });

  it('refusals in the plan are shown as message + hint and no confirmation is asked', async () => {
    const facade = new FakeFacade();
    const real = facade.planRestore.bind(facade);
    facade.planRestore = async (req) => ({
      ...(await real(req)),
      refusals: [
        {
          kind: 'in-use',
          database: 'users',
          message: '/srv/app/data/users.db is open in another process (1234).',
          hint: 'Stop the application that uses it, then run the restore again.',
        },
      ],
    });
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('is open in another process'));
    expect(f).toContain('What to do: Stop the application that uses it');
    expect(f).not.toContain('Type RESTORE');
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter, KEY.esc);
    // Keys are handled in order: once Esc has taken the screen back a step, the Enter before it was handled.
    await waitFrame(lastFrame, (x) => x.includes('Where to restore') && !x.includes('is open in another process'));
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });

  it('a failing plan is shown as message + hint, never a stack', async () => {
    const facade = new FakeFacade();
    facade.fail.planRestore = new RefusedError(
      '/tmp/restored/users.db already exists; a side-by-side restore never overwrites.',
      'Choose another --to.',
    );
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('already exists; a side-by-side restore never overwrites.');
    expect(f).toContain('What to do: Choose another --to.');
    expect(f).not.toMatch(/\n\s+at /);
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Where to restore'));
  });

  it('a failing restore is shown as message + hint', async () => {
    const facade = new FakeFacade();
    facade.fail.executeRestore = new VerifyError(
      'Set 20261122_100000 failed verification, nothing was restored: databases/users.sqlite.gz: sha256 mismatch',
    );
    const { lastFrame, stdin } = renderUi(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('failed verification, nothing was restored');
    expect(f).toContain('What to do: Do not restore from this set.');
  });

  it('speaks Spanish and asks for RESTAURAR (RESTORE does nothing)', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = await toSideBySidePlan(facade, 'es');
    const plan = await waitFrame(lastFrame, (x) => x.includes('Escriba RESTAURAR'));
    expect(plan).toContain('Plan de restauración: todavía no ha cambiado nada');
    expect(plan).toContain('Creará users → /tmp/restored/users.db');
    expect(plan).toContain('Para deshacer:');
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Eso no es RESTAURAR. No se ha hecho nada.'));
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
    await type(stdin, 'RESTAURAR');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Restauración terminada'));
    expect(calls(facade, 'executeRestore')).toHaveLength(1);
  });
});

describe('restore screen: the files alone (80×24)', () => {
  it.each([
    ['en', 'Files (2)', 'Files go into a new folder', 'Folder (empty: restored/<set>'],
    ['es', 'Archivos (2)', 'Los archivos van a una carpeta nueva', 'Carpeta (vacía: restored/<copia>'],
  ] as const)(
    '%s: no "in place" is offered; a folder is typed, or the default taken',
    async (lang, row, said, label) => {
      const facade = new FakeFacade();
      const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, {
        facade,
        lang,
      });
      await waitFrame(lastFrame, (x) => x.includes(`[ ] ${row}`));
      await press(stdin, KEY.down, KEY.down, KEY.down, KEY.space);
      await waitFrame(lastFrame, (x) => x.includes(`[x] ${row}`));
      await press(stdin, KEY.enter);
      let f = await waitFrame(lastFrame, (x) => x.includes(said));
      expect(frameProblems(f)).toEqual([]);
      expect(flat(f)).toContain(label);
      expect(f).not.toMatch(/In place|En su sitio|Side by side|Al lado/);
      // ↑↓ choose nothing here; what is typed is the folder.
      await press(stdin, KEY.up, KEY.down);
      await type(stdin, '/tmp/mis-archivos');
      f = await waitFrame(lastFrame, (x) => x.includes('/tmp/mis-archivos'));
      expect(f).not.toMatch(/In place|En su sitio/);
      await press(stdin, KEY.enter);
      // Which of the files: Enter with nothing typed takes them all.
      await waitFrame(lastFrame, (x) =>
        x.includes(lang === 'en' ? 'Which files to restore' : 'Qué archivos restaurar'),
      );
      await press(stdin, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'Type RESTORE' : 'Escriba RESTAURAR'));
      expect(calls(facade, 'planRestore').map((c) => c.args[0])).toEqual([
        { setId: '20261122_100000', databases: [], files: true, to: '/tmp/mis-archivos' },
      ]);
    },
  );

  it('an empty folder takes the default (restored/<set> beside the config)', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} initialSetId="20261122_100000" />, {
      facade,
    });
    await waitFrame(lastFrame, (x) => x.includes('[ ] Files (2)'));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.space, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Files go into a new folder'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Which files to restore'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    expect(calls(facade, 'planRestore').map((c) => c.args[0])).toEqual([
      { setId: '20261122_100000', databases: [], files: true },
    ]);
  });
});

describe('restore screen: a database name as long as a name may be (63 characters) at 80×24', () => {
  const LONG = 'base_de_datos_de_facturacion_electronica_sucursal_norte_2026_x';

  it.each(['es', 'en'] as const)('%s: its row is whole: name and engine on a line, the size under it', async (lang) => {
    const facade = new FakeFacade(1);
    facade.cfg = { ...facade.cfg, databases: [...facade.cfg.databases, { name: LONG, engine: 'sqlite' }] };
    facade.manifests = [manifestFor('20261122_100000', { databases: ['users', LONG], files: 2 })];
    const { lastFrame, stdin } = renderSized(<Menu />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? '1 set' : '1 copia'));
    await press(stdin, '4');
    await waitFrame(lastFrame, (x) => /› (latest|la última)/.test(x));
    await press(stdin, KEY.enter);
    let f = await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.down, KEY.space);
    f = await waitFrame(lastFrame, (x) => x.includes(`› [x] ${LONG}`));
    expect(frameProblems(f)).toEqual([]);
    const lines = f.split('\n');
    const row = lines.findIndex((l) => l.includes(LONG));
    // Pointer, box, the whole name and its engine on one line; the size that did not fit under the name; then
    // the files row (nothing cut, no line left blank).
    expect(lines[row]).toMatch(new RegExp(`^› \\[x\\] ${LONG} \\(sqlite\\)\\s*$`));
    expect(lines[row + 1]).toMatch(/^ {6}40 KB\s*$/);
    expect(lines[row + 2]).toMatch(/^ {2}\[ \] (Files|Archivos) \(2\)/);
    await press(stdin, KEY.up);
    f = await waitFrame(lastFrame, (x) => x.includes('› [ ] users (sqlite) 40 KB'));
    expect(frameProblems(f)).toEqual([]);
  });
});

describe('checkboxLines: an item too wide for its line', () => {
  it.each([
    ['fits whole', 'users (sqlite)', '40 KB', 30, [['', '[x] users (sqlite)', ' 40 KB']]],
    [
      'the note under the label',
      'a_long_name (sqlite)',
      '40 KB',
      25,
      [
        ['', '[x] a_long_name (sqlite)', ''],
        ['    ', '', '40 KB'],
      ],
    ],
    [
      'the label folded at a word, the note after it',
      'a_long_name (sqlite)',
      '4 KB',
      18,
      [
        ['', '[x] a_long_name', ''],
        ['    ', '(sqlite)', ' 4 KB'],
      ],
    ],
    [
      'a word longer than the line is cut, never lost',
      'abcdefghijkl',
      undefined,
      10,
      [
        ['', '[x] abcdef', ''],
        ['    ', 'ghijkl', ''],
      ],
    ],
  ])('%s', (_, label, note, width, expected) => {
    const lines = checkboxLines('[x]', { label, checked: true, ...(note ? { note } : {}) }, width);
    expect(lines.map((l) => [l.lead, l.text, l.note])).toEqual(expected);
    for (const l of lines) expect([...(l.lead + l.text + l.note)].length).toBeLessThanOrEqual(width);
  });
});

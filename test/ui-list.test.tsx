import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { VerifyError } from '../src/core/errors.js';
import { phrase } from '../src/core/phrases.js';
import { Menu } from '../src/ui/Menu.js';
import { ListScreen } from '../src/ui/screens/ListScreen.js';
import {
  cleanupSized,
  FakeFacade,
  frameProblems,
  KEY,
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

function manySets(n: number): FakeFacade {
  const facade = new FakeFacade(0);
  const p = (x: number) => String(x).padStart(2, '0');
  for (let i = 0; i < n; i++) {
    const d = new Date(Date.UTC(2026, 10, 22, 10) - i * 3_600_000);
    const id = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}0000`;
    facade.manifests.push(
      manifestFor(id, { startedAt: d.toISOString(), databases: i % 2 ? ['users'] : ['users', 'inventario'] }),
    );
  }
  return facade;
}

describe('list screen', () => {
  it('shows sets newest first with id, date, type, databases, size, status and last verified', async () => {
    const facade = new FakeFacade();
    facade.manifests[1] = manifestFor(facade.manifests[1]!.id, {
      startedAt: facade.manifests[1]!.startedAt,
      databases: ['users'],
      failed: [{ name: 'auditoria', message: 'x', hint: 'y' }],
    });
    const { lastFrame } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    expect(f).toMatch(/ID\s+Date\s+Type\s+Databases\s+Size\s+Status\s+Verified/);
    const rows = f.split('\n').filter((l) => /\d{8}_\d{6}/.test(l));
    expect(rows.map((r) => /(\d{8}_\d{6})/.exec(r)![1])).toEqual([
      '20261122_100000',
      '20261121_100000',
      '20261120_100000',
    ]);
    // The databases that do not fit are counted, never cut in the middle of a name ("users,inventario,auditor…").
    expect(rows[0]).toMatch(/› 20261122_100000 2026-11-22 \d\d:00 full\s+users,inventario \+2\s+36 KB OK\s+never/);
    expect(rows[1]).toMatch(/users,!auditoria.*PARTIAL/);
  });

  it('scrolls through hundreds of sets without drawing them all', async () => {
    const facade = manySets(300);
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade });
    let f = await waitFrame(lastFrame, (x) => x.includes('of 300'));
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
    const page = Number(/1-(\d+) of 300/.exec(f)![1]);
    expect(page).toBeGreaterThanOrEqual(10);
    expect(f.split('\n').filter((l) => /\d{8}_\d{6}/.test(l))).toHaveLength(page);
    const selected = (frame: string) => /› (\d{8}_\d{6})/.exec(frame)?.[1];
    await press(stdin, KEY.pageDown, KEY.pageDown, KEY.pageDown);
    f = await waitFrame(lastFrame, (x) => selected(x) === facade.manifests[3 * page]!.id);
    expect(f.split('\n').filter((l) => /\d{8}_\d{6}/.test(l))).toHaveLength(page);
    await press(stdin, KEY.down, 'j', 'k');
    await waitFrame(lastFrame, (x) => selected(x) === facade.manifests[3 * page + 1]!.id);
    await press(stdin, '\x1b[F');
    f = await waitFrame(lastFrame, (x) => x.includes(`${301 - page}-300 of 300`));
    expect(selected(f)).toBe(facade.manifests[299]!.id);
    await press(stdin, '\x1b[H');
    await waitFrame(lastFrame, (x) => selected(x) === facade.manifests[0]!.id && x.includes(`1-${page} of 300`));
  });

  it('f filters by database, cycling through the configured ones', async () => {
    const facade = manySets(4);
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('1-4 of 4'));
    await press(stdin, 'f');
    const users = await waitFrame(lastFrame, (x) => x.includes('Filter: users') && x.includes('of 4'));
    expect(
      users
        .split('\n')
        .filter((l) => /\d{8}_\d{6}/.test(l))
        .every((l) => l.includes('users')),
    ).toBe(true);
    await press(stdin, 'f');
    const inventario = await waitFrame(lastFrame, (x) => x.includes('Filter: inventario') && x.includes('1-2 of 2'));
    expect(inventario.split('\n').filter((l) => /\d{8}_\d{6}/.test(l))).toHaveLength(2);
    await press(stdin, 'f');
    await waitFrame(
      lastFrame,
      (x) => x.includes('Filter: auditoria') && x.includes('No backup sets contain auditoria.'),
    );
    await press(stdin, 'f');
    await waitFrame(lastFrame, (x) => x.includes('Filter: all databases') && x.includes('1-4 of 4'));
    expect(facade.calls.filter((c) => c.method === 'listSets').map((c) => c.args[0])).toEqual([
      {},
      { database: 'users' },
      { database: 'inventario' },
      { database: 'auditoria' },
      {},
    ]);
  });

  it('v verifies the selected set and says so', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, KEY.down, 'v');
    await waitFrame(lastFrame, (x) => x.includes('Verify OK: 3 files match their checksums.'));
    expect(facade.calls.find((c) => c.method === 'verifySet')!.args[0]).toBe('20261121_100000');
  });

  it('a failing verify is shown as message + hint', async () => {
    const facade = new FakeFacade();
    facade.fail.verifySet = new VerifyError('databases/users.sqlite.gz: sha256 mismatch');
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, 'v');
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('databases/users.sqlite.gz: sha256 mismatch');
    expect(f).toContain('What to do: Do not restore from this set.');
  });

  it('delete needs the typed word: a wrong word does nothing, DELETE deletes', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, KEY.down, 'd');
    await waitFrame(lastFrame, (x) => x.includes('Delete backup set 20261121_100000? This cannot be undone.'));
    await type(stdin, 'delete');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('That is not DELETE. Nothing was done.'));
    expect(facade.calls.some((c) => c.method === 'deleteSet')).toBe(false);
    await type(stdin, 'DELETE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Deleted 20261121_100000.') && x.includes('1-2 of 2'));
    expect(facade.calls.filter((c) => c.method === 'deleteSet').map((c) => c.args[0])).toEqual(['20261121_100000']);
  });

  it('Esc cancels the delete confirmation without deleting', async () => {
    const facade = new FakeFacade();
    let back = 0;
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={() => back++} onOpen={noop} onRestore={noop} />, {
      facade,
    });
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, 'd');
    await waitFrame(lastFrame, (x) => x.includes('Type DELETE'));
    await type(stdin, 'DEL');
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => !x.includes('Type DELETE'));
    expect(back).toBe(0);
    expect(facade.calls.some((c) => c.method === 'deleteSet')).toBe(false);
    await press(stdin, KEY.esc);
    expect(back).toBe(1);
  });

  it('Enter opens the details: files with size, md5, sha256, row counts and errors', async () => {
    const facade = new FakeFacade();
    facade.manifests[0] = manifestFor('20261122_100000', {
      startedAt: '2026-11-22T10:00:00Z',
      databases: ['users', 'inventario'],
      failed: [{ name: 'auditoria', message: 'unable to open database file', hint: 'Check databases[2].path.' }],
      files: 1,
    });
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Backup set 20261122_100000') && x.includes('Status'));
    expect(f).toMatch(/Status\s+PARTIAL/);
    expect(f).toContain('users (sqlite, sqlite-db)');
    expect(f).toContain('file databases/users.sqlite.gz  12 KB (40 KB)');
    expect(f).toContain('md5    d41d8cd98f00b204e9800998ecf8427e');
    expect(f).toContain('sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(f).toContain('rows (1 table): users 3');
    // scroll to the failed database and the files
    await press(stdin, ...Array(12).fill(KEY.down));
    const g = await waitFrame(lastFrame, (x) => x.includes('[config] .env0'));
    expect(g).toContain('auditoria (sqlite) FAILED: unable to open database file');
    expect(g).toContain('What to do: Check databases[2].path.');
    expect(g).toContain('[config] .env0');
    await press(stdin, 'v');
    await waitFrame(lastFrame, (x) => x.includes('Verify OK'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
  });

  it('details: r opens the restore for that set; d deletes after the typed word and goes back to the list', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Backup set 20261121_100000'));
    await press(stdin, 'r');
    await waitFrame(lastFrame, (x) => x.includes('Restore: 20261121_100000') && x.includes('What to restore'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Backup set 20261121_100000'));
    await press(stdin, 'd');
    await type(stdin, 'DELETE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('1-2 of 2'));
    expect(facade.manifests.map((m) => m.id)).toEqual(['20261122_100000', '20261120_100000']);
  });

  it('details: p protects the set from prune (the keep mark) and p again removes it', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, KEY.enter);
    let f = await waitFrame(lastFrame, (x) => /Keep\s+no: retention decides/.test(x));
    expect(f).toContain('p keep');
    await press(stdin, 'p');
    f = await waitFrame(lastFrame, (x) => x.includes('Marked keep: prune will never remove this set.'));
    expect(f).toMatch(/Keep\s+yes: prune never removes this set/);
    await press(stdin, 'p');
    f = await waitFrame(lastFrame, (x) => x.includes('Keep mark removed'));
    expect(f).toMatch(/Keep\s+no: retention decides/);
    expect(facade.calls.filter((c) => c.method === 'setKeep').map((c) => c.args)).toEqual([
      ['20261122_100000', true],
      ['20261122_100000', false],
    ]);
    // k still scrolls (vim keys), it does not toggle anything.
    await press(stdin, 'k');
    expect(facade.calls.filter((c) => c.method === 'setKeep')).toHaveLength(2);
  });

  it('deleting a safety set that keeps a replaced database on a server says that the database is dropped too', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    m.type = 'pre_restore';
    m.databases = [
      { ...m.databases[1]!, engine: 'postgres', file: null, safetyDatabase: 'inventario__pre_restore_20261120_100000' },
    ];
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    // The header does not count the safety set.
    await waitFrame(lastFrame, (x) => x.includes('2 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('1-3 of 3'));
    await press(stdin, 'd');
    await waitFrame(lastFrame, (x) =>
      x
        .replace(/\s+/g, ' ')
        .includes(
          `keeps inventario__pre_restore_20261120_100000 on the server (the database replaced by a restore): deleting the set DROPS it.`,
        ),
    );
    await press(stdin, KEY.esc);
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(`Backup set ${m.id}`));
    await press(stdin, 'd');
    await waitFrame(lastFrame, (x) => x.replace(/\s+/g, ' ').includes('deleting the set DROPS it.'));
    expect(facade.calls.filter((c) => c.method === 'deleteSet')).toHaveLength(0);
  });

  it('a missing set in details shows message + hint', async () => {
    const { lastFrame } = renderUi(<Menu initial={[{ name: 'main' }, { name: 'details', id: '20200101_000000' }]} />);
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('No backup set 20200101_000000.');
    expect(f).toContain('What to do: Run `respaldo list`');
  });

  it.each(['en', 'es'] as const)(
    'ids of the same second (_2), safety sets and a partial one fit 80 columns, every column apart (%s)',
    async (lang) => {
      const facade = new FakeFacade(0);
      const at = (m: number) => new Date(Date.UTC(2026, 10, 22, 10, m)).toISOString();
      facade.manifests.push(
        manifestFor('20261122_100300_12', { startedAt: at(3), type: 'pre_restore', databases: ['users'] }),
        manifestFor('20261122_100200_2', { startedAt: at(2), type: 'pre_restore', databases: ['inventario'] }),
        manifestFor('20261122_100100', {
          startedAt: at(1),
          databases: ['inventario'],
          failed: [{ name: 'users', message: 'x', hint: 'y' }],
        }),
      );
      const { lastFrame } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade, lang });
      const f = await waitFrame(lastFrame, (x) => /1-3 (of|de) 3/.test(x));
      expect(frameProblems(f), f).toEqual([]);
      const lines = f.split('\n');
      const rows = lines.filter((l) => /\d{8}_\d{6}/.test(l));
      expect(rows, f).toHaveLength(3);
      // the size and the status never touch (they ran together: "15 KBOK"), nor the id and the type; below 100
      // columns there is no date column (the id is the local date and time), and the databases get its room
      for (const r of rows) expect(r, f).toMatch(/^[›> ] \d{8}_\d{6}\S* +\S+ +\S.* KB (OK|PARTIAL|PARCIAL) /);
      expect(rows[2], f).toMatch(lang === 'en' ? /inventario,!users / : /inventario \+1 /);
      expect(lines.filter((l) => l.trim() === '').length, f).toBeLessThan(lines.length - 8); // no row wrapped
      expect(lines.findIndex((l) => l.includes('100100')) - lines.findIndex((l) => l.includes('100200_2'))).toBe(1);
    },
  );

  it.each(['en', 'es'] as const)(
    'names the sets left out as damaged under the table, and still fits 80×24 (%s)',
    async (lang) => {
      const facade = manySets(40);
      facade.damaged = { '': [{ id: '20261123_020000', problem: 'manifest.json is not valid JSON' }] };
      const { lastFrame } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade, lang });
      const f = await waitFrame(lastFrame, (x) => /of 40|de 40/.test(x));
      expect(frameProblems(f), f).toEqual([]);
      expect(f).toContain(
        lang === 'en'
          ? '1 damaged set not shown (`respaldo list` says why): 20261123_020000'
          : '1 copia dañada no mostrada (`respaldo list` dice por qué): 20261123_020000',
      );
      // one row less than without it, so nothing is pushed off the screen
      const page = Number(/1-(\d+) (of|de) 40/.exec(f)![1]);
      facade.damaged = {};
      cleanupSized();
      const { lastFrame: plain } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, {
        facade,
        lang,
      });
      const g = await waitFrame(plain, (x) => /of 40|de 40/.test(x));
      expect(Number(/1-(\d+) (of|de) 40/.exec(g)![1])).toBe(page + 1);
    },
  );

  it('without a UTF-8 locale every cell cut short ends in ASCII (the titles ended in "…")', async () => {
    const facade = new FakeFacade(0);
    facade.manifests.push(
      manifestFor('20261122_100200_2', { type: 'pre_restore', databases: ['inventario_historico_2019_2025', 'users'] }),
    );
    const { lastFrame } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, {
      facade,
      env: { LANG: 'C' },
    });
    const f = await waitFrame(lastFrame, (x) => x.includes('1-1 of 1'));
    expect(f).toMatch(/inventario_\S*~ \+1 /);
    expect(f).toMatch(/^[\x00-\x7e\n]*$/);
  });

  it.each(['en', 'es'] as const)(
    'delete says what the set is before the word is typed, as `respaldo delete` does, within 80×24 (%s)',
    async (lang) => {
      const facade = manySets(30);
      const id = facade.manifests[0]!.id;
      facade.notesBeforeDelete.set(id, [
        phrase('delete.strayFiles', { set: id, files: 'a.txt, b.txt, c.txt', more: 2, count: 5 }),
        phrase('delete.onlyBackup', { set: id, db: 'inventario' }),
      ]);
      const { lastFrame, stdin } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, {
        facade,
        lang,
      });
      await waitFrame(lastFrame, (x) => /of 30|de 30/.test(x));
      await press(stdin, 'd');
      const typeWord = lang === 'en' ? 'Type DELETE' : 'Escriba BORRAR';
      const last = lang === 'en' ? 'has none.' : 'no tiene ninguna.';
      const f = await waitFrame(lastFrame, (x) => x.includes(typeWord) && x.replace(/\s+/g, ' ').includes(last));
      expect(frameProblems(f), f).toEqual([]);
      const flat = f.replace(/\s+/g, ' ');
      expect(flat).toContain(
        lang === 'en'
          ? `also holds 5 file(s) respaldo did not write (a.txt, b.txt, c.txt and 2 more): deleting the set deletes them too.`
          : `contiene además 5 archivo(s) que respaldo no escribió (a.txt, b.txt, c.txt y 2 más): borrar la copia los borra también.`,
      );
      expect(flat).toContain(
        lang === 'en'
          ? `Set ${id} is the only backup of inventario: after it, inventario has none.`
          : `La copia ${id} es la única de inventario: sin ella, inventario no tiene ninguna.`,
      );
      expect(f, 'the list keeps a page of its sets').toMatch(/↓ 1-\d+ (of|de) 30/);
    },
  );

  it('speaks Spanish, including the delete word BORRAR', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, {
      facade,
      lang: 'es',
    });
    const f = await waitFrame(lastFrame, (x) => x.includes('1-3 de 3'));
    expect(f).toMatch(/ID\s+Fecha\s+Tipo\s+Bases\s+Tamaño\s+Estado\s+Verif\./);
    expect(f).toContain('completa');
    expect(f).toContain('nunca');
    expect(f).toContain('Esc volver');
    await press(stdin, 'd');
    await waitFrame(lastFrame, (x) => x.includes('Escriba BORRAR'));
    await type(stdin, 'DELETE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Eso no es BORRAR. No se ha hecho nada.'));
    await type(stdin, 'BORRAR');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Borrada 20261122_100000.'));
  });
});

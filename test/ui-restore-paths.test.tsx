/**
 * The menu restores some of a set's files, as `restore --files --path` does: with the files chosen alone, a step asks
 * which of them (a stored path typed; empty: all), lists what the set stores there one level at a time, and Tab
 * completes the path. Before, the menu restored all of a set's files or none: one config file needed the CLI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { Manifest } from '../src/core/types.js';
import type { RestoreRequest } from '../src/ui/engine-facade.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { FakeFacade, KEY, manifestFor, press, renderSized, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

const SET = '20261122_100000';
const TAB = '\t';
const planned = (f: FakeFacade) =>
  f.calls.filter((c) => c.method === 'planRestore').map((c) => c.args[0] as RestoreRequest);

/** A set of users and auditoria (SQLite) and 45 stored files: two config files, uploads in folders by year. */
function filesFacade(): FakeFacade {
  const facade = new FakeFacade(1);
  const m: Manifest = manifestFor(SET, { files: 2 });
  const like = m.files[0]!;
  const upload = (relative: string) => ({
    ...like,
    group: 'application' as const,
    relative,
    source: `/srv/${relative}`,
  });
  m.files = [
    { ...like, relative: 'app.conf' },
    { ...like, relative: 'app.key' },
    ...Array.from({ length: 40 }, (_, i) => upload(`uploads/2026/factura-${String(i).padStart(3, '0')}.pdf`)),
    ...['a', 'b', 'c'].map((x) => upload(`uploads/2025/${x}.pdf`)),
  ];
  facade.manifests = [m];
  return facade;
}

/** Opens the set, ticks only the files, goes past the target (a new folder, the default) to the paths step. */
async function atPaths(facade: FakeFacade, lang: 'en' | 'es' = 'en') {
  const r = renderSized(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade, lang });
  const files = lang === 'es' ? 'Archivos (45)' : 'Files (45)';
  await waitFrame(r.lastFrame, (x) => x.includes(files));
  const rows = (r.lastFrame() ?? '').split('\n');
  const filesRow = rows.filter((l) => /\[[x ]\]/.test(l)).findIndex((l) => l.includes(files));
  await press(r.stdin, ...Array<string>(filesRow).fill(KEY.down), KEY.space);
  await waitFrame(r.lastFrame, (x) => x.includes(`[x] ${files}`));
  await press(r.stdin, KEY.enter, KEY.enter);
  return r;
}

describe("restore: some of the set's files, from the menu", () => {
  it('lists what the set stores, Tab completes one level at a time, Enter adds the path, then plans only it', async () => {
    const facade = filesFacade();
    const r = await atPaths(facade);
    let f = await waitFrame(r.lastFrame, (x) => x.includes('application/ (43 files)'));
    expect(f).toContain('Which files to restore (the set stores 45)');
    expect(f).toContain('Stored path (empty: all of them)');
    expect(f).toContain('Enter restores 45 file(s)');
    expect(f).toMatch(/ {2}config\/ \(2 files\)/);
    expect(f).toContain('Tab list and complete');
    await type(r.stdin, 'app');
    await press(r.stdin, TAB);
    // One folder begins so: completed to it, and what it holds listed.
    f = await waitFrame(r.lastFrame, (x) => x.includes('application/uploads/ (43 files)'));
    expect(f).toContain('Stored path (empty: all of them): application/');
    await press(r.stdin, TAB);
    f = await waitFrame(r.lastFrame, (x) => x.includes('application/uploads/2025/ (3 files)'));
    expect(f).toContain('Stored path (empty: all of them): application/uploads/');
    expect(f).toContain('application/uploads/2026/ (40 files)');
    // Two folders: completed as far as they agree, both still listed.
    await press(r.stdin, TAB);
    f = await waitFrame(r.lastFrame, (x) => x.includes('all of them): application/uploads/202\n'));
    expect(f).toContain('application/uploads/2025/ (3 files)');
    await type(r.stdin, '6');
    await press(r.stdin, TAB);
    // 40 names do not fit 80×24: those that do, and how many more.
    f = await waitFrame(r.lastFrame, (x) => x.includes('application/uploads/2026/factura-000.pdf'));
    expect(f).toMatch(/… and \d+ more: type more of the path/);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
    expect(f).toContain('Enter adds this path: 40 file(s)');
    // A name typed in part: the names it begins listed, but no file has that path (the plan would refuse it).
    await type(r.stdin, 'factura-01');
    f = await waitFrame(r.lastFrame, (x) => x.includes('No stored file or folder has this path'));
    expect(f).not.toContain('factura-000.pdf');
    expect(f).toContain('application/uploads/2026/factura-010.pdf');
    await type(r.stdin, '7.pdf');
    f = await waitFrame(r.lastFrame, (x) => x.includes('Enter adds this path: 1 file(s)'));
    // Enter adds it and empties the field for another; Enter on the empty field goes on with it.
    await press(r.stdin, KEY.enter);
    f = await waitFrame(r.lastFrame, (x) => x.includes('Enter goes on with the 1 path(s) added'));
    expect(f).toContain('Added (1):\n  application/uploads/2026/factura-017.pdf\n');
    expect(f).toContain('Another stored path (empty: go on):');
    await press(r.stdin, KEY.enter);
    f = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(planned(facade)).toEqual([
      { setId: SET, databases: [], files: true, paths: ['application/uploads/2026/factura-017.pdf'] },
    ]);
    // The plan says which files, as the CLI's does.
    expect(f).toContain("only those of the paths typed: 1 of the set's 45 file(s)");
    expect(f).toContain('application/uploads/2026/factura-017.pdf: 1 file');
  });

  it('several paths: each added by Enter, Backspace takes back the last, the plan takes them all', async () => {
    const facade = filesFacade();
    const r = await atPaths(facade);
    await waitFrame(r.lastFrame, (x) => x.includes('config/ (2 files)'));
    await type(r.stdin, 'config/app.key');
    await press(r.stdin, TAB);
    await waitFrame(r.lastFrame, (x) => x.includes('Enter adds this path: 1 file(s)'));
    await press(r.stdin, KEY.enter);
    await waitFrame(
      r.lastFrame,
      (x) => x.includes('Added (1):\n  config/app.key\n') && x.includes('config/ (2 files)'),
    );
    await type(r.stdin, 'application/uploads/2025/');
    await press(r.stdin, TAB);
    let f = await waitFrame(r.lastFrame, (x) => x.includes('Enter adds this path: 3 file(s)'));
    await press(r.stdin, KEY.enter);
    // A typo is taken back with Backspace on the empty field: the last path comes back to be typed on.
    // A path Tab finds nothing at is not added: Enter leaves it typed.
    await type(r.stdin, 'config/nope');
    await press(r.stdin, TAB);
    await waitFrame(r.lastFrame, (x) => x.includes('Nothing stored begins so'));
    await press(r.stdin, KEY.enter);
    f = await waitFrame(r.lastFrame, (x) => x.includes('Added (2)'));
    expect(f).toContain('(empty: go on): config/nope');
    await press(r.stdin, ...Array<string>('config/nope'.length).fill(KEY.backspace));
    f = await waitFrame(r.lastFrame, (x) => x.includes('Enter goes on with the 2 path(s) added'));
    expect(f).toContain('Added (2):\n  config/app.key\n  application/uploads/2025/\n');
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
    for (const line of f.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    await press(r.stdin, KEY.backspace);
    f = await waitFrame(r.lastFrame, (x) => x.includes('Added (1):\n  config/app.key\n'));
    expect(f).toContain('Another stored path (empty: go on): application/uploads/2025/');
    // Typed on past the folder listed (the top): nothing said of it until Tab lists it.
    await press(r.stdin, KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace);
    await type(r.stdin, '026/factura-001.pdf');
    f = await waitFrame(r.lastFrame, (x) => x.includes('2026/factura-001.pdf'));
    expect(f).not.toContain('Nothing stored begins so');
    await press(r.stdin, TAB);
    await waitFrame(r.lastFrame, (x) => x.includes('Enter adds this path: 1 file(s)'));
    await press(r.stdin, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Enter goes on with the 2 path(s) added'));
    await press(r.stdin, KEY.enter);
    f = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(planned(facade)).toEqual([
      {
        setId: SET,
        databases: [],
        files: true,
        paths: ['config/app.key', 'application/uploads/2026/factura-001.pdf'],
      },
    ]);
    expect(f).toContain("only those of the paths typed: 2 of the set's 45 file(s)");
  });

  it('many paths added (es, 80×24): the last three shown, the count whole; all planned', async () => {
    const facade = filesFacade();
    const r = await atPaths(facade, 'es');
    await waitFrame(r.lastFrame, (x) => x.includes('config/ (2 archivos)'));
    const paths = Array.from({ length: 8 }, (_, i) => `application/uploads/2026/factura-00${i}.pdf`);
    for (const [i, p] of paths.entries()) {
      await type(r.stdin, p);
      await press(r.stdin, KEY.enter);
      await waitFrame(
        r.lastFrame,
        (x) => /Añadidas \(\d+\)/.exec(x)?.[0] === `Añadidas (${i + 1})` && x.includes('config/ (2 archivos)'),
      );
    }
    const f = await waitFrame(r.lastFrame, (x) => x.includes('Enter sigue con la(s) 8 ruta(s) añadida(s)'));
    expect(f).toContain(`Añadidas (8), las 3 últimas:\n  ${paths[5]}\n  ${paths[6]}\n  ${paths[7]}\n`);
    expect(f).not.toContain(paths[4]);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
    for (const line of f.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    await press(r.stdin, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('RESTAURAR'));
    expect(planned(facade)).toEqual([{ setId: SET, databases: [], files: true, paths }]);
  });

  it('empty: every file; Esc goes back to where; a path that begins nothing stored is said at once', async () => {
    const facade = filesFacade();
    const r = await atPaths(facade);
    await waitFrame(r.lastFrame, (x) => x.includes('config/ (2 files)'));
    await type(r.stdin, 'confg');
    let f = await waitFrame(r.lastFrame, (x) => x.includes('Nothing stored begins so'));
    expect(f).not.toContain('config/ (2 files)');
    await press(r.stdin, KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace);
    f = await waitFrame(r.lastFrame, (x) => x.includes('config/ (2 files)') && !x.includes('Nothing stored'));
    await press(r.stdin, KEY.esc);
    await waitFrame(r.lastFrame, (x) => x.includes('Where to restore'));
    await press(r.stdin, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Which files to restore (the set stores 45)'));
    await press(r.stdin, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(planned(facade)).toEqual([{ setId: SET, databases: [], files: true }]);
  });

  it('in Spanish at 80×24: every line fits, the help says Tab', async () => {
    const facade = filesFacade();
    const r = await atPaths(facade, 'es');
    const f = await waitFrame(r.lastFrame, (x) => x.includes('application/ (43 archivos)'));
    expect(f).toContain('Qué archivos restaurar (la copia guarda 45)');
    expect(f).toContain('Ruta guardada (vacía: todos)');
    expect(f).toContain('Enter restaura 45 archivo(s)');
    expect(f).toContain('Tab listar y completar');
    for (const line of f.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('a path longer than the screen: typed over several lines, the names under it and the note whole (es, 80×24)', async () => {
    const facade = filesFacade();
    const deep = 'documentos-de-facturacion-electronica-sucursal-norte/comprobantes-fiscales-digitales-por-internet';
    const m = facade.manifests[0]!;
    // The 40 uploads of 2026 (entries 2 to 41) moved deep.
    m.files = m.files.map((f, i) =>
      i >= 2 && i < 42 ? { ...f, relative: `${deep}/factura-cliente-mayorista-${i}.xml` } : f,
    );
    const r = await atPaths(facade, 'es');
    await waitFrame(r.lastFrame, (x) => x.includes('Enter restaura 45 archivo(s)'));
    await type(r.stdin, `application/${deep}/`);
    await press(r.stdin, '\t');
    // Tab lists the folder and completes as far as its 40 names agree (the path now over three lines).
    const f = await waitFrame(r.lastFrame, (x) => x.includes('factura-cliente-mayorista-10.xml'));
    expect(f).toContain('restaurar varias.');
    expect(f).toContain('scales-digitales-por-internet/factura-cliente-mayorista-');
    expect(f).toMatch(/… y \d+ más/);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
    for (const line of f.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
  });

  it('a database with the files: all the files, no step asks which (a server brought back whole)', async () => {
    const facade = filesFacade();
    const r = renderSized(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade });
    await waitFrame(r.lastFrame, (x) => x.includes('Files (45)'));
    await press(r.stdin, 'a', KEY.enter, KEY.enter);
    const f = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(f).not.toContain('Which files to restore');
    const [req] = planned(facade);
    expect(req).toMatchObject({ setId: SET, files: true });
    expect(req!.paths).toBeUndefined();
  });
});

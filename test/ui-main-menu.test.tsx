import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RespaldoError } from '../src/core/errors.js';
import { english, phrase } from '../src/core/phrases.js';
import { Menu } from '../src/ui/Menu.js';
import { FakeFacade, KEY, manifestFor, press, renderUi, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

describe('main menu', () => {
  it('shows the header (config, folder, sets, newest age) and the six numbered options with a help line', async () => {
    const { lastFrame } = renderUi(<Menu />);
    const f = await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    expect(f).toContain('Config: /srv/app/backup_config.json');
    expect(f).toContain('Backups: /srv/backups');
    expect(f).toContain('newest 2 h ago');
    for (const [i, label] of [
      'Create backup now',
      'Configure automatic backup',
      'List backups',
      'Restore',
      'Run the scheduler',
      'Health',
      'Quit',
    ].entries())
      expect(f).toContain(`${i + 1}. ${label}`);
    expect(f).toContain('q quit');
    expect(f).not.toContain('WARNING');
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('number keys open an option at once; Esc comes back', async () => {
    const { lastFrame, stdin } = renderUi(<Menu />);
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('Backups') && x.includes('Enter details'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
  });

  it('arrows and j/k move the pointer; Enter opens the selected option', async () => {
    const { lastFrame, stdin } = renderUi(<Menu />);
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, KEY.down, 'j', 'j', 'k');
    await waitFrame(lastFrame, (x) => /› 3\. List backups/.test(x));
    await press(stdin, KEY.down);
    await waitFrame(lastFrame, (x) => /› 4\. Restore/.test(x));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Choose the backup set to restore from'));
  });

  it('q quits from the main menu (and only there), not as interrupted', async () => {
    let exited = 0;
    const how: boolean[] = [];
    const { lastFrame, stdin } = renderUi(
      <Menu
        onExit={(interrupted) => {
          exited++;
          how.push(interrupted);
        }}
      />,
    );
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('Enter details'));
    await press(stdin, 'q', KEY.esc);
    // Keys are handled in order: the main menu is back, so the 'q' before Esc was handled, and did not quit.
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
    expect(exited).toBe(0);
    await press(stdin, 'q');
    expect(exited).toBe(1);
    expect(how).toEqual([false]);
  });

  it('Ctrl-C quits when nothing is running, as interrupted (the menu then exits 130)', async () => {
    const how: boolean[] = [];
    const { lastFrame, stdin } = renderUi(<Menu onExit={(interrupted) => how.push(interrupted)} />);
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, KEY.ctrlC);
    expect(how).toEqual([true]);
  });

  it('warns when the newest good backup of a database is older than the schedule promises', async () => {
    const facade = new FakeFacade(0);
    facade.manifests = [
      manifestFor('20261122_100000', {
        startedAt: '2026-11-22T10:00:00Z',
        databases: ['users'],
        failed: [{ name: 'inventario', message: 'disk full', hint: 'free space' }],
      }),
      manifestFor('20261119_100000', { startedAt: '2026-11-19T10:00:00Z', databases: ['users', 'inventario'] }),
    ];
    const { lastFrame } = renderUi(<Menu />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('2 sets'));
    expect(f).toContain('WARNING: inventario: newest good backup 3 d ago; the schedule promises one every 26 h');
    expect(f).toContain('WARNING: auditoria has never been backed up successfully');
    expect(f).not.toContain('WARNING: users');
  });

  it('a weekly schedule promises a week (plus grace), not a day', async () => {
    const facade = new FakeFacade(0);
    facade.cfg.schedule = [
      { name: 'weekly', when: 'weekly on sunday at 23:30', type: 'full', databases: ['*'], files: true },
    ];
    facade.manifests = [manifestFor('20261119_100000', { startedAt: '2026-11-19T10:00:00Z' })];
    const { lastFrame } = renderUi(<Menu />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('1 set'));
    expect(f).not.toContain('WARNING');
  });

  it('speaks Spanish with --lang es', async () => {
    const { lastFrame } = renderUi(<Menu />, { lang: 'es' });
    const f = await waitFrame(lastFrame, (x) => x.includes('3 copias'));
    expect(f).toContain('Menú principal');
    expect(f).toContain('1. Crear copia ahora');
    expect(f).toContain('2. Configurar copia automática');
    expect(f).toContain('7. Salir');
    expect(f).toContain('q salir');
    expect(f).toContain('la más reciente hace 2 h');
  });

  it('falls back to ASCII when the locale is not UTF-8', async () => {
    const { lastFrame } = renderUi(<Menu />, { env: { LANG: 'C' } });
    const f = await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    expect(f).toContain('> 1. Create backup now');
    expect(f).toContain('Up/Down/j k move | 1-7 choose');
    expect(f).toMatch(/^[\x00-\x7e\n]*$/);
  });

  it('shows a failing status call as a line, and the menu still works', async () => {
    const facade = new FakeFacade();
    facade.fail.status = new (await import('../src/core/errors.js')).RespaldoError(
      'failed',
      'Permission denied reading /srv/backups',
      'Run as the backup user.',
    );
    const { lastFrame } = renderUi(<Menu />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('Status unavailable'));
    expect(f).toContain('Permission denied reading /srv/backups');
    expect(f).toContain('1. Create backup now');
  });

  it('says a failing status call in Spanish: the system’s words of a raw error, an error’s phrase', async () => {
    // the backup folder replaced by a file while the menu runs: listing it fails as the system says (ENOTDIR)
    const dir = mkdtempSync(join(tmpdir(), 'respaldo-header-'));
    const file = join(dir, 'backups');
    writeFileSync(file, '');
    let raw: unknown;
    try {
      readdirSync(file);
    } catch (err) {
      raw = err;
    }
    const facade = new FakeFacade();
    facade.fail.status = raw as RespaldoError; // thrown as it came (the fake throws what it is given)
    const one = renderUi(<Menu />, { facade, lang: 'es' });
    const f = await waitFrame(one.lastFrame, (x) => x.includes('Estado no disponible'));
    expect(f).toContain(`Estado no disponible: no es una carpeta: ${file}`);
    expect(f).not.toMatch(/ENOTDIR|not a directory|scandir/);
    one.unmount();

    const refused = phrase('pgconn.refused', { at: 'db1:5432', doing: 'connecting' });
    const phrased = new RespaldoError('failed', english(refused)).withPhrases(refused);
    const withPhrase = new FakeFacade();
    withPhrase.fail.status = phrased;
    const two = renderUi(<Menu />, { facade: withPhrase, lang: 'es' });
    const g = await waitFrame(two.lastFrame, (x) => x.includes('Estado no disponible'));
    expect(g).toContain('Estado no disponible: PostgreSQL en db1:5432 rechazó la conexión (al conectar).');
  });
});

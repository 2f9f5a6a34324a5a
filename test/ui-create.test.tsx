import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { LockHeldError } from '../src/core/errors.js';
import type { Reporter } from '../src/core/events.js';
import type { CreateRequest } from '../src/ui/engine-facade.js';
import { Menu } from '../src/ui/Menu.js';
import { CreateScreen } from '../src/ui/screens/CreateScreen.js';
import { FakeFacade, KEY, press, renderUi, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

describe('create backup screen', () => {
  it('shows checkboxes for every database, type, files and description', async () => {
    const { lastFrame } = renderUi(<CreateScreen onBack={() => undefined} />);
    const f = await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    expect(f).toContain('[x] users');
    expect(f).toContain('[x] inventario');
    expect(f).toContain('[x] auditoria');
    expect(f).toContain('[x] Include files');
    expect(f).toContain('Type: full (schema and data)');
    expect(f).toContain('Description (optional)');
    expect(f).toContain('Space toggle');
  });

  it('runs the chosen backup with progress bars, then a summary with id, status, sizes, verified checksums', async () => {
    const facade = new FakeFacade();
    facade.hold = true;
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => undefined} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, KEY.down, KEY.space); // untick inventario
    await press(stdin, KEY.down, KEY.down, KEY.down); // type row
    await press(stdin, KEY.right); // schema
    await waitFrame(lastFrame, (x) => x.includes('schema only'));
    await press(stdin, KEY.left, KEY.down);
    await type(stdin, 'before upgrade');
    await waitFrame(lastFrame, (x) => x.includes('before upgrade'));
    await press(stdin, KEY.enter);
    const running = await waitFrame(lastFrame, (x) => x.includes('Backing up'));
    expect(running).toMatch(/users\s+\S+\s+50%\s+20 KB\/40 KB/);
    expect(running).toContain('RUNNING');
    expect(running).not.toContain('inventario');
    facade.release!();
    const done = await waitFrame(lastFrame, (x) => x.includes('Backup finished'));
    expect(done).toContain('20261122_120000');
    expect(done).toMatch(/Status\s+OK/);
    expect(done).toContain('verified, 2 files match MD5 and SHA-256');
    expect(done).toMatch(/users\s+\S+\s+100%.*OK/);
    const req = facade.calls.find((c) => c.method === 'createBackup')!.args[0];
    expect(req).toEqual({
      databases: ['users', 'auditoria'],
      type: 'full',
      files: true,
      description: 'before upgrade',
    });
    expect(facade.calls.some((c) => c.method === 'verifySet')).toBe(true);
  });

  it('refuses to start with nothing chosen', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => undefined} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, 'a', KEY.down, KEY.down, KEY.down, KEY.space, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Choose at least one database or include the files.'));
    expect(facade.calls.some((c) => c.method === 'createBackup')).toBe(false);
  });

  it('a failing engine call is shown as message + hint, never a stack', async () => {
    const facade = new FakeFacade();
    facade.fail.createBackup = new LockHeldError('/srv/backups/.respaldo.lock', 'restore, pid 4242');
    let back = 0;
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => back++} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('Another respaldo process is working on this backup folder (restore, pid 4242).');
    expect(f).toContain('What to do: Wait for it to finish. If you are sure no respaldo runs, remove');
    expect(f).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
    await press(stdin, KEY.esc);
    expect(back).toBe(1);
  });

  it('a bug (not a RespaldoError) shows its message and a bug hint, not a stack', async () => {
    const facade = new FakeFacade();
    (facade as unknown as { createBackup: () => Promise<never> }).createBackup = async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    };
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => undefined} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain("Cannot read properties of undefined (reading 'x')");
    expect(f).toContain('This looks like a bug in respaldo');
    expect(f).not.toContain('TypeError');
  });

  it('a partial backup shows each failed database with its message and hint', async () => {
    const facade = new FakeFacade();
    const real = facade.createBackup.bind(facade);
    facade.createBackup = async (req, reporter) => {
      const m = await real(req, reporter);
      m.status = 'partial';
      m.databases[1] = {
        ...m.databases[1]!,
        file: null,
        error: { message: 'database is locked', hint: 'Stop the application that holds the lock.' },
      };
      return m;
    };
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => undefined} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('Backup finished'));
    expect(f).toMatch(/Status\s+PARTIAL/);
    expect(f).toContain('inventario failed: database is locked');
    expect(f).toContain('What to do: Stop the application that holds the lock.');
  });

  it('a summary with long errors, hints and warnings shows each one whole through a scrolling window, within 24 rows', async () => {
    const facade = new FakeFacade();
    const long = (what: string) =>
      `${what} could not be read because the storage under it answered with an input/output error on every ` +
      `attempt, three times over forty seconds, and the last answer was EIO at offset 1048576 (end of ${what})`;
    const real = facade.createBackup.bind(facade);
    facade.createBackup = async (req, reporter) => {
      const m = await real(req, reporter);
      m.status = 'partial';
      for (const i of [1, 2]) {
        const name = m.databases[i]!.name;
        m.databases[i] = {
          ...m.databases[i]!,
          file: null,
          error: {
            message: long(name),
            hint: `Check the disk under ${name} (dmesg), then back it up again (hint end).`,
          },
        };
      }
      m.warnings = ['users: 3 tables were empty', 'files: /srv/app/.env is empty (warning end)'];
      return m;
    };
    facade.createCopies = [{ destination: 'offsite', ok: false, error: 'connection refused by 127.0.0.1:2222' }];
    const { lastFrame, stdin } = renderUi(<Menu initial={[{ name: 'main' }, { name: 'create' }]} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, ...Array(6).fill(KEY.down), KEY.enter);
    let f = await waitFrame(lastFrame, (x) => x.includes('Backup finished'));
    expect(f).toMatch(/Status\s+PARTIAL/);
    expect(f).toContain('PgUp PgDn scroll');
    expect(f).toMatch(/lines 1-\d+ of \d+/);
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      f = lastFrame()!;
      expect(f.split('\n').length, f).toBeLessThanOrEqual(24);
      expect(Math.max(...f.split('\n').map((l) => l.length)), f).toBeLessThanOrEqual(100); // the test terminal's width
      seen.push(f);
      if (/lines \d+-(\d+) of \1\b/.test(f)) break;
      const before = f;
      await press(stdin, KEY.down);
      await waitFrame(lastFrame, (x) => x !== before);
    }
    const text = seen.join('\n').replace(/\s+/g, ' ');
    expect(text).toContain('NOT copied to offsite: connection refused by 127.0.0.1:2222');
    expect(text).toContain('inventario failed: inventario could not be read');
    expect(text).toContain('(end of inventario)');
    expect(text).toContain('(end of auditoria)');
    expect(text).toContain('then back it up again (hint end).');
    expect(text).toContain('(warning end)');
    expect(seen[0]).not.toContain('(warning end)');
  });

  it('Esc on the form goes back without running anything', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '1');
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
    expect(facade.calls.some((c) => c.method === 'createBackup')).toBe(false);
  });

  it('Ctrl-C while running warns first, then aborts the engine call', async () => {
    const facade = new FakeFacade();
    facade.hold = true;
    let signal: AbortSignal | undefined;
    const real = facade.createBackup.bind(facade);
    facade.createBackup = (req: CreateRequest, reporter: Reporter, s?: AbortSignal) => {
      signal = s;
      return real(req, reporter);
    };
    let exited = 0;
    const { lastFrame, stdin } = renderUi(<Menu onExit={() => exited++} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '1');
    await waitFrame(lastFrame, (x) => x.includes('Start backup'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Backing up'));
    await press(stdin, KEY.ctrlC);
    await waitFrame(lastFrame, (x) => x.includes('Press Ctrl-C again to interrupt the backup'));
    expect(signal?.aborted).toBe(false);
    await press(stdin, KEY.ctrlC);
    expect(signal?.aborted).toBe(true);
    facade.release!();
    // The run has ended and its outcome is on screen: nothing since the second Ctrl-C made the menu exit.
    await waitFrame(lastFrame, (x) => x.includes('Backup finished'));
    expect(exited).toBe(0);
  });

  it('a long list of databases scrolls and the start button stays on screen', async () => {
    const facade = new FakeFacade();
    facade.cfg = {
      ...facade.cfg,
      databases: Array.from({ length: 20 }, (_, i) => ({
        name: `db${String(i).padStart(2, '0')}`,
        engine: 'sqlite' as const,
      })),
    };
    const { lastFrame, stdin } = renderUi(<Menu initial={[{ name: 'main' }, { name: 'create' }]} />, { facade });
    let f = await waitFrame(lastFrame, (x) => x.includes('Start backup') && x.includes('never been backed up'));
    expect(f).toContain('[x] db00');
    expect(f).not.toContain('[x] db19');
    // One line for the twenty never backed up (their names do not fit 80 columns), not three and "17 more".
    expect(f).toContain('WARNING: 20 databases have never been backed up successfully');
    expect(f).not.toContain('more warnings');
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
    await press(stdin, ...Array(19).fill(KEY.down));
    f = await waitFrame(lastFrame, (x) => x.includes('› [x] db19'));
    expect(f).not.toContain('[x] db00');
    expect(f).toContain('Start backup');
  });

  it('speaks Spanish; its summary keeps a space after every label ("Sumas de control" ran into its value)', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => undefined} />, { lang: 'es', facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('Empezar la copia'));
    expect(f).toContain('Crear copia ahora');
    expect(f).toContain('Bases de datos');
    expect(f).toContain('Incluir archivos');
    expect(f).toContain('completa (esquema y datos)');
    await press(stdin, ...Array(6).fill(KEY.down));
    await waitFrame(lastFrame, (x) => x.includes('› [ Empezar la copia ]'));
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes('Copia terminada') && x.includes('verificadas'));
    expect(done).toMatch(/Sumas de control +verificadas, \d+ archivos/);
    // the files' bar says so in Spanish (it said "files")
    expect(done).toMatch(/^archivos +\S+ +100%/m);
    const lines = done.split('\n');
    const valueColumns = ['Copia ', 'Estado', 'Tamaño guardado', 'Sumas de control', 'Duración'].map((label) => {
      const line = lines.find((l) => l.startsWith(label) && !l.startsWith('Copia terminada'))!;
      return label.length + /^ +/.exec(line.slice(label.length))![0].length;
    });
    expect(new Set(valueColumns).size, done).toBe(1);
  });
});

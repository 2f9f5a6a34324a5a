/**
 * The menu header counts the operator's backup sets (not the safety sets a restore takes) and is
 * read again on every screen and after anything that changes the sets.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { silentReporter } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { Menu } from '../src/ui/Menu.js';
import { FakeFacade, KEY, manifestFor, press, renderUi, type, waitFrame } from './ui-fake-facade.js';

let dir: string | undefined;
afterEach(() => {
  cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('header status from the real engine', () => {
  it('a safety set taken by an in-place restore is neither counted nor the newest', async () => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-header-'));
    const db = new Database(join(dir, 'users.db'));
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, v TEXT)');
    db.close();
    const file = join(dir, 'backup_config.json');
    writeFileSync(
      file,
      JSON.stringify({ backupDir: 'backups', databases: [{ name: 'users', engine: 'sqlite', path: 'users.db' }] }),
    );
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    const plan = await facade.planRestore({ setId: m.id, databases: ['users'], files: false });
    const outcome = await facade.executeRestore(plan, silentReporter);
    expect(outcome.safetySetIds).toHaveLength(1);
    expect((await facade.listSets()).map((s) => s.type).sort()).toEqual(['full', 'pre_restore']);
    const st = await facade.status();
    expect(st.setCount).toBe(1);
    expect(st.safetyCount).toBe(1);
    expect(st.newest?.id).toBe(m.id);
  });

  it.each([
    ['en', 'no backups yet (1 safety copy)'],
    ['es', 'aún no hay copias (1 copia de seguridad previa)'],
  ] as const)('only safety sets: "no backups yet" says they are there (%s)', async (lang, words) => {
    const facade = new FakeFacade(0);
    facade.manifests.push(manifestFor('20261122_100000', { type: 'pre_restore', databases: ['users'] }));
    const { lastFrame } = renderUi(<Menu />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(words));
  });
});

describe('only damaged sets, from the real engine', () => {
  it.each([
    ['en', 'no usable backups (1 damaged: 3. List backups)'],
    ['es', 'ninguna copia utilizable (1 dañada: 3. Ver copias)'],
  ] as const)('a set that lost its manifest: the header does not say "no backups yet" (%s)', async (lang, words) => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-header-'));
    const db = new Database(join(dir, 'users.db'));
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, v TEXT)');
    db.close();
    const file = join(dir, 'backup_config.json');
    writeFileSync(
      file,
      JSON.stringify({ backupDir: 'backups', databases: [{ name: 'users', engine: 'sqlite', path: 'users.db' }] }),
    );
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    rmSync(join(dir, 'backups', m.id, 'manifest.json'));
    expect(await facade.status()).toMatchObject({ setCount: 0, newest: null, damagedCount: 1 });
    const { lastFrame, stdin } = renderUi(<Menu />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(words));
    expect(lastFrame()).not.toContain(lang === 'en' ? 'no backups yet' : 'aún no hay copias');
    // the list says the same, above the damaged set it names
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes(m.id));
    expect(lastFrame()).toContain(
      lang === 'en'
        ? 'No usable backup sets: those below are damaged (do not restore).'
        : 'Ninguna copia utilizable: las de abajo están dañadas (no restaurar).',
    );
  });
});

describe('header warnings from the real engine', () => {
  it('a key file other users can read is a warning in the header, with the fix, in both languages', async () => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-header-'));
    const key = join(dir, 'key.txt');
    writeFileSync(key, 'AGE-SECRET-KEY-1\n', { mode: 0o644 });
    chmodSync(key, 0o644);
    const file = join(dir, 'backup_config.json');
    const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    writeFileSync(
      file,
      JSON.stringify({
        backupDir: 'backups',
        databases: [{ name: 'users', engine: 'sqlite', path: 'users.db' }],
        encryption: { recipients: [recipient], identityFile: 'key.txt' },
      }),
    );
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    expect((await facade.status()).looseSecrets).toEqual([{ path: key, mode: '0644' }]);
    for (const [lang, text] of [
      ['en', `WARNING: run chmod 600 ${key} (mode 0644: other users`],
      ['es', `AVISO: ejecute chmod 600 ${key} (modo 0644: otros usuarios`],
    ] as const) {
      const fake = new FakeFacade();
      fake.looseSecrets = [{ path: key, mode: '0644' }];
      const { lastFrame, unmount } = renderUi(<Menu />, { facade: fake, lang });
      const f = await waitFrame(lastFrame, (x) => x.includes('chmod 600'));
      expect(f.replace(/\s+/g, ' ')).toContain(text);
      unmount();
    }
    chmodSync(key, 0o600);
    expect((await facade.status()).looseSecrets).toEqual([]);
  });
});

describe('header in the menu', () => {
  it('deleting a set from the list updates the count at once', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('20261122_100000'));
    await press(stdin, 'd');
    await waitFrame(lastFrame, (x) => x.includes('Type DELETE'));
    await type(stdin, 'DELETE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Deleted 20261122_100000') && x.includes('2 sets'));
  });

  it('a set made elsewhere shows up when the operator moves to another screen', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    await press(stdin, '3');
    await waitFrame(lastFrame, (x) => x.includes('20261122_100000'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Backup set 20261122_100000'));
    facade.manifests.unshift(manifestFor('20261122_113000', { startedAt: '2026-11-22T11:30:00.000Z' }));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('4 sets') && x.includes('newest 30 min ago'));
  });
});

describe('a new server: nothing backed up here, the sets at a destination', () => {
  const words = {
    en: {
      never: 'WARNING: users, inventario, auditoria have never been backed up successfully',
      one: 'has never been backed up successfully',
      way: 'To restore from the off-site copy: 4. Restore, then "nas"',
      ways: 'To restore from an off-site copy: 4. Restore, then its destination',
      local: "This server's backup folder",
      nas: 'Destination "nas" (off-site copy)',
    },
    es: {
      never: 'AVISO: users, inventario, auditoria nunca se han copiado correctamente',
      one: 'nunca se ha copiado correctamente',
      way: 'Para restaurar desde la copia externa: 4. Restaurar, luego "nas"',
      ways: 'Para restaurar desde una copia externa: 4. Restaurar, luego su destino',
      local: 'La carpeta de copias de este servidor',
      nas: 'Destino "nas" (copia externa)',
    },
  } as const;

  it.each(['en', 'es'] as const)(
    'one line for the databases never backed up, the way to the destination, the restore starting there (%s)',
    async (lang) => {
      const w = words[lang];
      const facade = new FakeFacade(0);
      facade.cfg = { ...facade.cfg, destinations: ['nas'] };
      const { lastFrame, stdin } = renderUi(<Menu />, { facade, lang });
      const f = await waitFrame(lastFrame, (x) => x.includes(w.way));
      expect(f).toContain(w.never);
      expect(f).not.toContain(w.one); // each database's own line, three before
      expect(f.split('\n').length).toBeLessThanOrEqual(24);
      await press(stdin, '4');
      const source = await waitFrame(lastFrame, (x) => x.includes(w.nas));
      expect(source).toContain(`› ${w.nas}`);
      expect(source).toContain(`  ${w.local}`);
    },
  );

  it('the way comes first, never behind "and N more", and is not said again inside the restore', async () => {
    const facade = new FakeFacade(0);
    facade.cfg = { ...facade.cfg, destinations: ['nas'] };
    facade.looseSecrets = ['a', 'b', 'c', 'd'].map((x) => ({ path: `/srv/app/${x}.key`, mode: '0644' }));
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('more'));
    const lines = f.split('\n');
    expect(lines[2]).toContain(words.en.way);
    expect(f).toContain('a.key');
    expect(f).not.toContain('d.key');
    await press(stdin, '4');
    const source = await waitFrame(lastFrame, (x) => x.includes(words.en.nas));
    expect(source).not.toContain('To restore from');
    expect(source).toContain('a.key');
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes(words.en.way));
  });

  it('4 pressed before the status loaded: the cursor goes to the destination once it has, unless moved', async () => {
    for (const moved of [false, true]) {
      const facade = new FakeFacade(0);
      facade.cfg = { ...facade.cfg, destinations: ['nas'] };
      let loaded = (): void => undefined;
      facade.statusGate = new Promise((resolve) => (loaded = resolve));
      const { lastFrame, stdin } = renderUi(<Menu />, { facade });
      await waitFrame(lastFrame, (x) => x.includes('1. '));
      await press(stdin, '4');
      let source = await waitFrame(lastFrame, (x) => x.includes(words.en.nas));
      expect(source).toContain(`› ${words.en.local}`);
      if (moved) {
        await press(stdin, KEY.down);
        await waitFrame(lastFrame, (x) => x.includes(`› ${words.en.nas}`));
        await press(stdin, KEY.up);
        await waitFrame(lastFrame, (x) => x.includes(`› ${words.en.local}`));
      }
      loaded();
      source = await waitFrame(
        lastFrame,
        (x) => x.includes(words.en.never) && x.includes(moved ? '' : `› ${words.en.nas}`),
      );
      expect(source).toContain(moved ? `› ${words.en.local}` : `› ${words.en.nas}`);
    }
  });

  it('only safety copies of restores here: the way said and the restore starting there agree', async () => {
    const facade = new FakeFacade(0);
    facade.cfg = { ...facade.cfg, destinations: ['nas'] };
    facade.manifests.push(manifestFor('20261122_100000', { type: 'pre_restore', databases: ['users'] }));
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes(words.en.way));
    await press(stdin, '4');
    const source = await waitFrame(lastFrame, (x) => x.includes(words.en.nas));
    expect(source).toContain(`› ${words.en.nas}`);
  });

  it('two destinations: the way says to pick one; the restore starts on the first', async () => {
    const facade = new FakeFacade(0);
    facade.cfg = { ...facade.cfg, destinations: ['nas', 'offsite'] };
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes(words.en.ways));
    await press(stdin, '4');
    const source = await waitFrame(lastFrame, (x) => x.includes('Destination "offsite"'));
    expect(source).toContain(`› ${words.en.nas}`);
  });

  it('with sets here: no way to a destination said, the restore starts on the backup folder', async () => {
    const facade = new FakeFacade(3);
    facade.cfg = { ...facade.cfg, destinations: ['nas'] };
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('3 sets'));
    expect(f).not.toContain('To restore from');
    await press(stdin, '4');
    const source = await waitFrame(lastFrame, (x) => x.includes(words.en.nas));
    expect(source).toContain(`› ${words.en.local}`);
  });

  it('without destinations: the one line, no way to a destination', async () => {
    const facade = new FakeFacade(0);
    const { lastFrame } = renderUi(<Menu />, { facade });
    const f = await waitFrame(lastFrame, (x) => x.includes('no backups yet'));
    expect(f).toContain(words.en.never);
    expect(f).not.toContain('To restore from');
  });
});

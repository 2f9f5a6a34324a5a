/**
 * A refusal shown in the menu says what to do in the menu's own terms: the menu has no `--to`, its equivalent is the
 * folder typed for the files. In Spanish it said "Elija una carpeta vacía o nueva con --to".
 * The real built binary in a real terminal (tmux, 80×24), restoring a set's files onto a folder that is not empty.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

describe('the menu says its own way to do what a refusal hint names as a CLI option', () => {
  it('es: files onto a folder that is not empty: type another folder, never "--to"', async () => {
    const s = demoSetup();
    expect((await runCli(['--config', s.configFile, 'create'], { cwd: s.dir })).code).toBe(0);
    const [id] = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}$/.test(n));
    const taken = join(s.dir, 'restored', id!);
    mkdirSync(taken, { recursive: true });
    writeFileSync(join(taken, 'already-here.txt'), 'x');
    const t = await TmuxScreen.open(
      `respaldo-hints-es-${process.pid}`,
      `cd ${s.dir} && LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; sleep 60`,
      80,
      24,
    );
    await t.waitFor('Menú principal');
    await t.key('4');
    await t.waitFor('Elija la copia');
    await t.key('Enter');
    await t.waitFor('Archivos (');
    for (const k of ['Down', 'Down', 'Down', 'Space', 'Enter']) await t.key(k);
    // Files alone always go into a new folder: only the folder is asked (empty: restored/<id>, taken here).
    await t.waitFor('Carpeta (vacía');
    await t.key('Enter');
    // Which of the files (what the set stores listed, in the real binary at 80×24): Enter, nothing typed, takes all.
    const which = await t.waitFor('Enter restaura');
    expect(which).toMatch(/Qué archivos restaurar \(la copia guarda \d+\)/);
    expect(which).toMatch(/^ {2}(config|application)\/ \(\d+ archivos?\)/m);
    await t.key('Enter');
    const screen = (await t.waitFor('Qué hacer:')).replace(/[│\s]+/g, ' ');
    expect(screen).toContain('existe y no está vacía');
    expect(screen).toContain('Qué hacer: Vuelva atrás (Esc) y escriba una carpeta vacía o nueva para los archivos.');
    expect(screen).not.toContain('--to');
  });
});

/**
 * End to end, in Spanish (`--lang es`): the new-server day with sets encrypted to a passphrase, with the
 * real built binary in a real terminal (tmux, 80×24). The sets were encrypted to the passphrase in
 * `encryption.passphraseFile` and copied to a folder destination; the backup folder, users.db, that file
 * and the config's encryption are gone. The menu's restore from the destination plans (fetching and
 * checking the set), asks the confirmation word and then the set's passphrase, masked: a wrong one is
 * said and asked again, Esc goes back to the plan with nothing changed, the right one restores users.db
 * as it was. The passphrase is on no screen and in no log.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, parseJsonOutput } from './helpers/cli.js';
import { cli, expectNothingLeftNorLogged } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

const PASSPHRASE = 'palabras del servidor nuevo';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

/** Every line of a captured 80×24 screen fits, and there are at most 24. */
function fits(screen: string): void {
  const lines = screen.replace(/\n$/, '').split('\n');
  expect(lines.length, screen).toBeLessThanOrEqual(24);
  for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(80);
}

describe('menu end to end: a set encrypted to a passphrase restored from a destination (tmux, 80×24, es)', () => {
  it('destination → set → plan → word → passphrase (wrong, Esc, right) → users.db restored', async () => {
    const s = demoSetup();
    writeFileSync(join(s.dir, 'pass.txt'), `${PASSPHRASE}\n`, { mode: 0o600 });
    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    config['encryption'] = { passphraseFile: './pass.txt' };
    config['destinations'] = [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }];
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));
    mkdirSync(join(s.dir, 'nas'));
    const before = dbDigest(s.dbs.users);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    expect(m.encryption).toMatchObject({ passphrase: true });

    rmSync(s.backupDir, { recursive: true, force: true });
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.users + x, { force: true });
    rmSync(join(s.dir, 'pass.txt'));
    delete config['encryption'];
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));

    const t = await TmuxScreen.open(
      `respaldo-e2e-passphrase-${process.pid}`,
      `cd ${s.dir} && env -u RESPALDO_PASSPHRASE_FILE LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile} --lang es; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    await t.waitFor('1. Crear copia ahora');
    await t.key('4');
    await t.waitFor('Destino "nas" (copia externa)');
    await t.key('Down');
    await t.key('Enter');
    await t.waitFor(new RegExp(`en el destino "nas"[\\s\\S]*${m.id}`), 90_000);
    await t.key('Enter');
    await t.waitFor('[x] users (sqlite)');
    await t.key('Enter');
    await t.waitFor('En su sitio: sustituir la base en uso');
    await t.key('Enter');
    let screen = await t.waitFor('Escriba RESTAURAR', 90_000);
    fits(screen);
    expect(screen).toContain('En el destino "nas": sus archivos están allí.');
    // The key line says how to leave: Esc back, Ctrl-C quits the menu (nothing changed yet).
    expect(screen).toMatch(/Esc cancelar(?: · |\n)Ctrl-C salir\n/);
    await t.typeWord('RESTAURAR');
    await t.key('Enter');
    screen = await t.waitFor('Frase de paso de las copias', 90_000);
    fits(screen);
    expect(screen).toContain(`La copia ${m.id} está cifrada con una frase de paso`);
    expect(screen).toContain('Esc volver al plan · Ctrl-C salir');
    await t.type('no es esta');
    screen = await t.waitFor('**********');
    expect(screen).not.toContain('no es esta');
    await t.key('Enter');
    screen = await t.waitFor(`Frase de paso incorrecta: no abre la copia ${m.id}.`, 90_000);
    fits(screen);
    expect(screen).toContain('Esc volver al plan');
    expect(existsSync(s.dbs.users)).toBe(false);
    await t.key('Escape');
    screen = await t.waitFor((x) => x.includes('Escriba RESTAURAR') && !x.includes('Frase de paso de las copias'));
    expect(existsSync(s.dbs.users)).toBe(false);
    await t.typeWord('RESTAURAR');
    await t.key('Enter');
    await t.waitFor('Frase de paso de las copias', 90_000);
    await t.type(PASSPHRASE);
    await t.key('Enter');
    screen = await t.waitFor((x) => x.includes('Restauración terminada') || x.includes('FALL'), 90_000);
    expect(screen).toContain('Restauración terminada');
    fits(screen);
    for (const secret of [PASSPHRASE, 'no es esta']) expect(screen).not.toContain(secret);
    await t.key('Enter');
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor('EXIT=0');

    expect(dbDigest(s.dbs.users)).toEqual(before);
    expectNothingLeftNorLogged(s, PASSPHRASE);
  }, 400_000);
});

/**
 * The menu's keys and its progress rows, with the real built binary in a real terminal (tmux), in Spanish, with
 * the three demo databases and the files:
 * - keys typed while the key opens ("Abriendo la clave…", after the passphrase of a protected identity) wait for
 *   the screen that comes next, as a terminal keeps them; after a wrong passphrase they are dropped;
 * - Ctrl-C at the passphrase or at the restore plan (nothing changed yet) quits the menu with 130, as a command
 *   interrupted by Ctrl-C, never 0 (q is 0);
 * - the progress rows fit the terminal's width when it is made narrower than 80 columns (64, 60), one line each,
 *   and are at 80 what they always were.
 * Needs `npx tsc -p .` first, tmux and age-keygen.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { ageKeygen } from './helpers/age.js';
import { CLI_BIN, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, removeTmpDirs, type DemoSetup } from './helpers/tmp.js';
import { TMUX_SERVER, TmuxScreen } from './helpers/tty.js';

const PASSPHRASE = 'llave del armario';
let sessions = 0;
/** The rows of the three databases and the files at 80 columns, as they always were: every column there. */
const ROWS_80 = new RegExp(
  ['users', 'inventario', 'auditoria', 'archivos'].map((n) => `^${n} *\\S{11} 100% .{17} .{10} .{9} OK$`).join('\\n'),
  'm',
);
/** The same rows on one line each (a wrapped row puts a line of its own between them). */
const ONE_LINE_EACH =
  /^users +\S+ +100% .*OK\ninventario +\S+ +100% .*OK\nauditoria +\S+ +100% .*OK\narchivos +\S+ +100% .*OK$/m;

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

/** Every line of a captured screen fits `width`×24. */
function fits(screen: string, width = 80): void {
  const lines = screen.replace(/\n$/, '').split('\n');
  expect(lines.length, screen).toBeLessThanOrEqual(24);
  for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(width);
}

/** The menu in Spanish in a new `width`×24 terminal; `EXIT=<code>` is printed when it ends. */
function menu(s: DemoSetup, width = 80): Promise<TmuxScreen> {
  return TmuxScreen.open(
    `respaldo-keys-width-${process.pid}-${++sessions}`,
    `cd ${s.dir} && env -u RESPALDO_PASSPHRASE_FILE LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color ` +
      `node ${CLI_BIN} --config ${s.configFile}; echo EXIT=$?; sleep 60`,
    width,
    24,
  );
}

/**
 * A full and an incremental of the three databases and the files, encrypted at the destination `nas` to an
 * identity protected by PASSPHRASE; the backup folder removed (the new-server day): restoring the incremental
 * from `nas` asks the passphrase before its items (its chain is decrypted as it is fetched).
 */
async function encryptedIncrementalAtNas(): Promise<{ s: DemoSetup; incr: Manifest }> {
  const s = demoSetup();
  mkdirSync(join(s.dir, 'nas'));
  const keyFile = join(s.dir, 'key.txt');
  const recipient = ageKeygen(keyFile);
  const e = new Encrypter();
  e.setPassphrase(PASSPHRASE);
  // 2^17: a key that takes a while to open, so keys are typed while it opens.
  e.setScryptWorkFactor(17);
  writeFileSync(join(s.dir, 'key.age'), await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
  rmSync(keyFile);
  const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  config['encryption'] = { recipients: [recipient], identityFile: './key.age', local: false };
  config['destinations'] = [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1', encrypt: true }];
  writeFileSync(s.configFile, JSON.stringify(config, null, 2));
  const full = await runCli(['create', '--type', 'full', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(full.code, full.stderr).toBe(0);
  const made = await runCli(['create', '--type', 'incremental', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(made.code, made.stderr).toBe(0);
  const incr = parseJsonOutput<Manifest>(made.stdout);
  expect(incr.databases.some((d) => d.base)).toBe(true);
  rmSync(s.backupDir, { recursive: true, force: true });
  return { s, incr };
}

/** 4 → destination nas → its newest set (the incremental): the passphrase of the key is asked. */
async function toPassphrase(t: TmuxScreen, incr: Manifest): Promise<string> {
  await t.waitFor('1. Crear copia ahora');
  await t.key('4');
  await t.waitFor('Destino "nas" (copia externa)');
  await t.key('Down');
  await t.key('Enter');
  await t.waitFor(new RegExp(`› la última[\\s\\S]*${incr.id}`), 60_000);
  await t.key('Enter');
  return t.waitFor('Frase de paso de la clave', 60_000);
}

/** Literal text in one write (a fast typist, a paste): the keys arrive while the first Enter is still handled. */
function burst(t: TmuxScreen, text: string): void {
  execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', t.name, '-l', text]);
}

describe('menu keys and progress rows in a real terminal (es)', () => {
  it('keys typed while the key opens go to the next step; dropped after a wrong passphrase; Ctrl-C at the plan: 130', async () => {
    const { s, incr } = await encryptedIncrementalAtNas();
    const live = Object.values(s.dbs).map((db) => dbDigest(db));
    const t = await menu(s);
    let screen = await toPassphrase(t, incr);
    fits(screen);

    // A wrong passphrase, and keys typed ahead for the items while it is checked: dropped, the field asked again is
    // empty.
    burst(t, 'no es esta\r');
    burst(t, 'xyz');
    screen = await t.waitFor('La frase de paso no abre el archivo de identidad', 60_000);
    fits(screen);
    expect(screen).not.toContain('*');
    expect(screen).not.toContain('xyz');

    // The right one, then `a` (every item) and Enter typed ahead: both applied once the key is open.
    burst(t, `${PASSPHRASE}\ra\r`);
    screen = await t.waitFor('Dónde restaurar', 60_000);
    fits(screen);
    expect(screen).not.toContain(PASSPHRASE);
    await t.key('Escape');
    screen = await t.waitFor(/\[x\] users \(sqlite\)[\s\S]*\[x\] auditoria \(sqlite\)[\s\S]*\[x\] Archivos/);
    fits(screen);
    await t.key('Enter');
    await t.waitFor('Dónde restaurar');
    await t.key('Enter');
    screen = await t.waitFor('Escriba RESTAURAR', 90_000);
    fits(screen);

    // Ctrl-C at the plan: nothing was changed, the menu quits as interrupted.
    await t.key('C-c');
    await t.waitFor(/EXIT=\d+/, 30_000);
    expect(await t.screen()).toContain('EXIT=130');
    expect(Object.values(s.dbs).map((db) => dbDigest(db))).toEqual(live);
    expect(readdirSync(s.dir).filter((n) => n.includes('.respaldo-restore-fetch-'))).toEqual([]);
    expect(
      existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-')) : [],
    ).toEqual([]);
  }, 300_000);

  it('Ctrl-C at the passphrase of the key quits with 130, nothing changed; q quits with 0', async () => {
    const { s, incr } = await encryptedIncrementalAtNas();
    const live = Object.values(s.dbs).map((db) => dbDigest(db));
    let t = await menu(s);
    await toPassphrase(t, incr);
    await t.type('a medias');
    await t.key('C-c');
    await t.waitFor(/EXIT=\d+/, 30_000);
    expect(await t.screen()).toContain('EXIT=130');
    expect(Object.values(s.dbs).map((db) => dbDigest(db))).toEqual(live);

    t = await menu(s);
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor(/EXIT=\d+/, 30_000);
    expect(await t.screen()).toContain('EXIT=0');
  }, 300_000);

  it('the progress rows of a backup fit a terminal made narrower than 80 columns, one line each', async () => {
    const s = demoSetup();
    const t = await menu(s);
    await t.waitFor('1. Crear copia ahora');
    await t.key('1');
    await t.waitFor('Empezar la copia');
    await t.key('Enter');
    let screen = await t.waitFor('Copia terminada', 60_000);
    fits(screen);
    // At 80 columns as always: name, bar, percent, bytes, rate, elapsed, status on one line.
    expect(screen).toMatch(ROWS_80);

    for (const width of [64, 60]) {
      execFileSync('tmux', [...TMUX_SERVER, 'resize-window', '-t', t.name, '-x', String(width), '-y', '24']);
      screen = await t.waitFor(ONE_LINE_EACH, 10_000);
      fits(screen, width);
      expect(screen).toContain('Copia terminada');
    }
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor('EXIT=0');
  }, 120_000);
});

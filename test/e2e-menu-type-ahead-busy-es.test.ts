/**
 * Keys typed while a screen of the menu is busy (a set verified from the list, a set's key checked
 * before a verification that reads the data, a drill reading its set), with the real built binary in a real
 * terminal (tmux), in Spanish, at 80×24: typed in the same write as the key that starts the work, they wait for
 * what it leads to and act there once (before: dropped). The passphrase typed ahead of its prompt (after V, after t)
 * guards the screen still shown from acting on its letters (r, d, p are keys of the details): before, they were
 * handled by the details or dropped by the drill while the key was checked; here that check ends before the next
 * key is read, so these two passed on the old code too, but a slow disk or a set read over the network does not.
 * Needs `npx tsc -p .` first and tmux.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, removeTmpDirs, type DemoSetup } from './helpers/tmp.js';
import { TMUX_SERVER, TmuxScreen } from './helpers/tty.js';

// Its letters are keys of the details screen: r restores, d deletes, p keeps.
const PASSPHRASE = 'palabras del servidor';
let sessions = 0;

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

/** Every line of a captured screen fits 80×24. */
function fits(screen: string): void {
  const lines = screen.replace(/\n$/, '').split('\n');
  expect(lines.length, screen).toBeLessThanOrEqual(24);
  for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(80);
}

function menu(s: DemoSetup): Promise<TmuxScreen> {
  return TmuxScreen.open(
    `respaldo-type-busy-${process.pid}-${++sessions}`,
    `cd ${s.dir} && env -u RESPALDO_PASSPHRASE_FILE LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color ` +
      `node ${CLI_BIN} --config ${s.configFile}; echo EXIT=$?; sleep 60`,
    80,
    24,
  );
}

/** Literal text in one write (a fast typist over SSH, a paste). */
function burst(t: TmuxScreen, text: string): void {
  execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', t.name, '-l', text]);
}

/** The main menu, reading keys one by one (raw mode: a burst is keys, not a line). */
async function ready(t: TmuxScreen): Promise<void> {
  await t.waitFor('1. Crear copia ahora');
  await t.key('Down');
  await t.waitFor(/› 2\./);
  await t.key('Up');
  await t.waitFor(/› 1\./);
}

async function create(s: DemoSetup, args: string[] = []): Promise<Manifest> {
  const r = await runCli(['create', '--json', '--config', s.configFile, ...args], { cwd: s.dir });
  expect(r.code, r.stderr).toBe(0);
  return parseJsonOutput<Manifest>(r.stdout);
}

/** The id on the selected row (the pointer) of the list. */
function selectedId(screen: string): string | undefined {
  return /^› (\S+)/m.exec(screen)?.[1];
}

/** A set of users.db encrypted to PASSPHRASE, which the config no longer gives (it is asked). */
async function encryptedSet(s: DemoSetup): Promise<Manifest> {
  writeFileSync(join(s.dir, 'pass.txt'), `${PASSPHRASE}\n`, { mode: 0o600 });
  const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  config['encryption'] = { passphraseFile: './pass.txt' };
  writeFileSync(s.configFile, JSON.stringify(config, null, 2));
  const m = await create(s, ['--db', 'users', '--no-files']);
  expect(m.encryption).toMatchObject({ passphrase: true });
  rmSync(join(s.dir, 'pass.txt'));
  delete config['encryption'];
  writeFileSync(s.configFile, JSON.stringify(config, null, 2));
  return m;
}

describe('keys typed while a screen is busy (es, 80×24)', () => {
  it('list and details: j typed with v moves the cursor, scrolls the details, once the set is verified', async () => {
    const s = demoSetup();
    const older = await create(s, ['--type', 'full']);
    const newer = await create(s, ['--type', 'full']);
    const t = await menu(s);
    await ready(t);
    await t.key('3');
    let screen = await t.waitFor((x) => x.includes(older.id) && x.includes(newer.id), 30_000);
    expect(selectedId(screen)).toBe(newer.id);
    burst(t, 'vj');
    // The newer set verified (its Verif. column), then the cursor moved (a key clears the verification's line).
    screen = await t.waitFor((x) => selectedId(x) === older.id, 60_000);
    fits(screen);
    expect(screen).toMatch(new RegExp(`^  ${newer.id} .* OK +OK \\d+ s`, 'm'));
    expect(screen).toMatch(new RegExp(`^› ${older.id} .* nunca +nunca`, 'm'));
    // Once: the j was not handled twice, the v not kept for later.
    await t.key('k');
    screen = await t.waitFor((x) => selectedId(x) === newer.id);
    expect(screen).toMatch(new RegExp(`^  ${older.id} .* nunca +nunca`, 'm'));
    // The details: j typed with v scrolls one line once the verification is said.
    await t.key('Enter');
    screen = await t.waitFor(/Verificada[\s\S]* 1-\d+ de \d+/, 30_000);
    burst(t, 'vj');
    screen = await t.waitFor(/ 2-\d+ de \d+/, 60_000);
    fits(screen);
    expect(screen).toContain('Verificación OK');
    await t.key('Escape');
    await t.waitFor('Filtro: todas las bases');
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor('EXIT=0', 30_000);
  }, 200_000);

  /** The menu on the details of an encrypted set (option 3, Enter), ready for keys. */
  async function detailsOfEncryptedSet() {
    const s = demoSetup();
    const m = await encryptedSet(s);
    const t = await menu(s);
    await ready(t);
    await t.key('3');
    await t.waitFor(m.id, 30_000);
    await t.key('Enter');
    await t.waitFor('Verificada', 30_000);
    return { s, m, t };
  }

  it('details: a passphrase typed ahead with V reaches its prompt (its r, d, p act nowhere); the verification reads the data', async () => {
    const { s, m, t } = await detailsOfEncryptedSet();
    burst(t, `V${PASSPHRASE}\r`);
    let screen = await t.waitFor((x) => /Verificación (OK|FALLIDA)/.test(x) || x.includes('Restaurar'), 90_000);
    screen = await t.waitFor('cada archivo descifrado', 30_000);
    fits(screen);
    expect(screen).toContain('Verificación OK');
    expect(screen).not.toContain(PASSPHRASE);
    expect(screen).not.toContain('Escriba BORRAR');
    await t.key('Escape');
    screen = await t.waitFor('Copias');
    expect(screen).toContain(m.id);
    // p (keep) was not handled: the set is not kept.
    const list = parseJsonOutput<{ id: string; keep?: boolean }[]>(
      (await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
    );
    expect(list.find((x) => x.id === m.id)?.keep ?? false).toBe(false);
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor('EXIT=0', 30_000);
  }, 200_000);

  it('drill: a passphrase typed with t waits while the set is read, reaches its prompt and the drill passes', async () => {
    const { m, t } = await detailsOfEncryptedSet();
    burst(t, `t${PASSPHRASE}\r`);
    const screen = await t.waitFor((x) => /Simulacro de la copia \S+ (correcto|FALL)/.test(x), 120_000);
    fits(screen);
    expect(screen).toContain(`Simulacro de la copia ${m.id} correcto`);
    expect(screen).not.toContain(PASSPHRASE);
  }, 200_000);
});

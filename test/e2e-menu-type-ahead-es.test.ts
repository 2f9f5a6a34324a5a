/**
 * Keys typed while the menu waits on the engine, with the real built binary in a real terminal (tmux), in Spanish,
 * at 80×24, with the demo databases and files: typed in the same write as the key that starts the wait (the sets
 * listed, a set's manifest read, the restore planned, a set fetched from a destination), they wait for the screen
 * that follows and act there once, as a terminal keeps them; Ctrl-C during a wait quits the menu with 130, nothing
 * changed.
 * Needs `npx tsc -p .` first and tmux.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, removeTmpDirs, type DemoSetup } from './helpers/tmp.js';
import { TMUX_SERVER, TmuxScreen } from './helpers/tty.js';

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

/** The menu in Spanish in a new 80×24 terminal; `EXIT=<code>` is printed when it ends. */
function menu(s: DemoSetup): Promise<TmuxScreen> {
  return TmuxScreen.open(
    `respaldo-type-ahead-${process.pid}-${++sessions}`,
    `cd ${s.dir} && LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color ` +
      `node ${CLI_BIN} --config ${s.configFile}; echo EXIT=$?; sleep 60`,
    80,
    24,
  );
}

/** Literal text in one write (a fast typist, a paste): the keys after the first arrive while it starts the wait. */
function burst(t: TmuxScreen, text: string): void {
  execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', t.name, '-l', text]);
}

/**
 * The main menu, reading keys one by one: a key moved its cursor. Until the menu puts the terminal in raw mode, a
 * burst is read as a line (its Enter a newline, no key), which is not what these tests are about.
 */
async function ready(t: TmuxScreen): Promise<void> {
  await t.waitFor('1. Crear copia ahora');
  await t.key('Down');
  await t.waitFor(/› 2\./);
  await t.key('Up');
  await t.waitFor(/› 1\./);
}

async function create(s: DemoSetup, type: 'full' | 'incremental'): Promise<Manifest> {
  const r = await runCli(['create', '--type', type, '--json', '--config', s.configFile], { cwd: s.dir });
  expect(r.code, r.stderr).toBe(0);
  return parseJsonOutput<Manifest>(r.stdout);
}

describe('keys typed while the menu waits on the engine (es, 80×24)', () => {
  it('restore: Enter typed with 4 picks the latest; the word typed with the plan’s Enter lands at the plan; Ctrl-C while planning: 130', async () => {
    const s = demoSetup();
    await create(s, 'full');
    const live = Object.values(s.dbs).map((db) => dbDigest(db));
    const t = await menu(s);
    await ready(t);
    burst(t, '4\r');
    let screen = await t.waitFor('Qué restaurar', 30_000);
    fits(screen);
    burst(t, 'a\r');
    await t.waitFor('Dónde restaurar');
    burst(t, '\rRESTAURAR');
    screen = await t.waitFor(/Escriba RESTAURAR[\s\S]*RESTAURAR/, 60_000);
    fits(screen);
    // Once only: the word is not typed twice.
    expect(screen).not.toContain('RESTAURARRESTAURAR');
    await t.key('Escape');
    await t.waitFor('Dónde restaurar');
    // Ctrl-C typed with the Enter that starts the plan: nothing changed, the menu quits as interrupted.
    burst(t, '\r\x03');
    await t.waitFor(/EXIT=\d+/, 30_000);
    expect(await t.screen()).toContain('EXIT=130');
    expect(Object.values(s.dbs).map((db) => dbDigest(db))).toEqual(live);
  });

  it('from a destination: the keys typed with each Enter act on the sets, the items and the plan once fetched', async () => {
    const s = demoSetup();
    mkdirSync(join(s.dir, 'nas'));
    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    config['destinations'] = [{ name: 'nas', type: 'folder', path: './nas' }];
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));
    const full = await create(s, 'full');
    expect(readdirSync(join(s.dir, 'nas')).length).toBeGreaterThan(0);
    const t = await menu(s);
    await ready(t);
    await t.key('4');
    await t.waitFor('Destino "nas" (copia externa)');
    // j: the destination; Enter lists its sets; Enter (the latest) reads its manifest; a: every item.
    burst(t, 'j\r\ra');
    let screen = await t.waitFor(
      /\[x\] users \(sqlite\)[\s\S]*\[x\] auditoria \(sqlite\)[\s\S]*\[x\] Archivos/,
      60_000,
    );
    fits(screen);
    expect(screen).toContain('Qué restaurar');
    burst(t, '\r');
    await t.waitFor('Dónde restaurar');
    // Enter fetches the set; the word typed with it lands at the plan.
    burst(t, '\rRESTAURAR');
    screen = await t.waitFor(/Escriba RESTAURAR[\s\S]*RESTAURAR/, 60_000);
    fits(screen);
    expect(screen).toContain(full.id);
    expect(screen).not.toContain('RESTAURARRESTAURAR');
    await t.key('Escape');
    await t.waitFor('Dónde restaurar');
    await t.key('Escape');
    await t.key('Escape');
    await t.key('Escape');
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor('EXIT=0', 30_000);
    // The fetched set was removed on leaving.
    expect(readdirSync(s.dir).filter((n) => n.includes('.respaldo-restore-fetch-'))).toEqual([]);
  });
});

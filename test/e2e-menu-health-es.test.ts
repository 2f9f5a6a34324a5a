/**
 * The menu's health screen with the real built binary in a real terminal (tmux), in Spanish, at 80×24, with the
 * demo databases: 6 on the main menu shows per database the newest set and its age against the schedule, the
 * last drill, the destinations, and the problems `respaldo status --check` prints (here: never drilled is not one;
 * a destination the newest set is not copied to is), scrolling to the end; Esc back, nothing changed.
 * Needs `npx tsc -p .` first and tmux.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

function fits(screen: string): void {
  const lines = screen.replace(/\n$/, '').split('\n');
  expect(lines.length, screen).toBeLessThanOrEqual(24);
  for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(80);
}

describe('menu: the health screen (es, 80×24)', () => {
  it('6 shows what status says per database and destination, scrolls to the end, Esc back', async () => {
    const s = demoSetup();
    const first = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(first.code, first.stderr).toBe(0);
    const m = parseJsonOutput<Manifest>(first.stdout);
    // A destination added after the set: the newest set is not copied there (a problem status --check prints).
    mkdirSync(join(s.dir, 'nas'));
    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    config['destinations'] = [{ name: 'nas', type: 'folder', path: './nas' }];
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));
    const check = await runCli(['status', '--check', '--config', s.configFile], { cwd: s.dir });
    expect(check.stdout).toContain('not copied to nas');
    const setsBefore = readFileSync(join(s.backupDir, m.id, 'manifest.json'), 'utf8');

    const t = await TmuxScreen.open(
      `respaldo-health-${process.pid}`,
      `cd ${s.dir} && LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color ` +
        `node ${CLI_BIN} --config ${s.configFile}; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    let screen = await t.waitFor('6. Salud de las copias', 30_000);
    fits(screen);
    expect(screen).toContain('7. Salir');
    await t.key('6');
    screen = await t.waitFor('problema(s)', 30_000);
    fits(screen);
    expect(screen).toMatch(new RegExp(`^users\\n  Última copia: ${m.id} · hace .* · sin horario`, 'm'));
    expect(screen).toContain('Simulacro: nunca');
    expect(screen).toContain('RePág AvPág desplazar · r leer de nuevo · Esc volver');
    for (let i = 0; i < 5 && !screen.includes('Leído el'); i++) {
      await t.key('PageDown');
      screen = await t.waitFor((x) => x !== screen);
      fits(screen);
    }
    expect(screen).toContain('Leído el');
    expect(screen).toMatch(/nas: la más reciente allí ninguna desde aquí · 1 copia\(s\) NO/);
    expect(screen).toContain('Esc volver');
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('q');
    await t.waitFor('EXIT=0', 30_000);
    expect(readFileSync(join(s.backupDir, m.id, 'manifest.json'), 'utf8')).toBe(setsBefore);
  }, 120_000);
});

/**
 * The menu's restore confirmation in a real 80×24 terminal (the built binary in tmux), in Spanish,
 * with every database and the files of a real set: the title, the prompt, an error and the key
 * line stay on screen, nothing is wider than the terminal, and keys sent in one write (tmux
 * `send-keys -l` of a whole string) are all applied in order. Needs `npx tsc -p .` first and tmux.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './helpers/cli.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';
import { TMUX_SERVER, TmuxScreen } from './helpers/tty.js';

afterAll(() => TmuxScreen.closeAll());

/** The whole screen fits 80×24 and shows the plan's title, the prompt line and the key line. */
function expectConfirmation(s: string): void {
  const lines = s.replace(/\n+$/, '').split('\n');
  expect(lines.length).toBeLessThanOrEqual(24);
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
  expect(s).toContain('Plan de restauración: todavía no ha cambiado nada');
  expect(s).toContain('Escriba RESTAURAR y pulse Enter para seguir, o Esc para cancelar:');
  expect(s).toMatch(/^›/m);
  expect(s).toMatch(/─{70,}\nEscriba la palabra y pulse Enter · .*Esc cancelar/);
}

describe('restore confirmation at 80×24 (real binary in tmux)', () => {
  it('three databases + files in Spanish: fits, scrolls, keeps the prompt; a pasted chunk is applied in order', async () => {
    execFileSync('tmux', ['-V']);
    const dir = makeTmpDir('respaldo-80x24-');
    const setup = writeConfig(dir);
    const made = await runCli(['create', '--config', setup.configFile]);
    expect(made.code, made.stderr).toBe(0);

    const name = `respaldo-80x24-${process.pid}`;
    const t = await TmuxScreen.open(
      name,
      `cd ${dir} && env LANG=es_ES.UTF-8 NO_COLOR=1 node ${CLI_BIN} --config ${setup.configFile}; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    await t.waitFor('1. Crear copia ahora');
    await t.key('4');
    await t.waitFor(/› la última/);
    await t.key('Enter');
    await t.waitFor(/\[ \] users \(sqlite\)/);
    await t.key('a');
    await t.waitFor(/\[x\] auditoria \(sqlite\)[\s\S]*\[x\] Archivos/);
    await t.key('Enter');
    await t.waitFor('Dónde restaurar');
    await t.key('Enter');
    let s = await t.waitFor('Escriba RESTAURAR');
    expectConfirmation(s);
    expect(s).toMatch(/Sustituirá users/);

    // A mistyped word: the error joins the prompt, nothing is drawn over the plan's title.
    await t.typeWord('restaurar');
    await t.key('Enter');
    s = await t.waitFor('Eso no es RESTAURAR');
    expectConfirmation(s);

    // The rest of the plan by scrolling; the prompt stays.
    await t.key('PageDown');
    s = await t.waitFor(/Para deshacer|auditoria: respaldo restore/);
    expectConfirmation(s);

    // One write with letters and Backspaces (a paste, a laggy link): applied in order.
    execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', name, '-l', 'RESTAURXX\x7f\x7fAR']);
    s = await t.waitFor(/^› RESTAURAR\s*$/m);
    expect(s).not.toContain('Eso no es RESTAURAR');
    await t.key('Escape');
    await t.waitFor('Dónde restaurar');
    await t.key('Escape');
    await t.key('Escape');
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('7');
    await t.waitFor('EXIT=0');
  }, 90_000);
});

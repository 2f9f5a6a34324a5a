/**
 * The menu with twelve databases and the files in a real 80×24 terminal (the built binary in tmux), in Spanish:
 * thirteen progress bars are more than the screen holds beside a backup's summary or a restore's outcome, so the
 * bars that do not fit are counted on one line and the summary (the set's id, its status, the destination it was
 * not copied to) and the outcome (what was restored, how to roll back) stay on screen. Needs `npx tsc -p .` and tmux.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './helpers/cli.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';
import { TMUX_SERVER, TmuxScreen } from './helpers/tty.js';

afterAll(() => TmuxScreen.closeAll());

/** Nothing wider or taller than 80×24, and the key line at the bottom. */
function expectFits(s: string): void {
  const lines = s.replace(/\n+$/, '').split('\n');
  expect(lines.length).toBeLessThanOrEqual(24);
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
  expect(s).toMatch(/─{70,}\n.*Enter o Esc para volver\s*$/);
}

/** The demo's three databases and nine more with long names, and a destination that is not mounted. */
function manyDatabases() {
  const dir = makeTmpDir('respaldo-many-dbs-');
  const names = Array.from({ length: 9 }, (_, i) =>
    `contabilidad_general_sucursal_${String(i + 1).padStart(2, '0')}_facturacion_electronica`.slice(0, 63),
  );
  const setup = writeConfig(dir, (base) => {
    const databases = base['databases'] as { name: string; engine: string; path: string }[];
    for (const n of names) databases.push({ name: n, engine: 'sqlite', path: `./data/${n}.db` });
    base['destinations'] = [{ name: 'usb', type: 'folder', path: join(dir, 'usb-no-montado') }];
    return base;
  });
  for (const n of names) copyFileSync(setup.dbs.users, join(setup.dataDir, `${n}.db`));
  return { dir, setup };
}

/** No two progress bars on screen read the same name (nine that begin "contabilidad_general_sucursal_"). */
function expectDistinctBars(s: string): void {
  const names = [...s.matchAll(/^(\S+)\s+[█░]/gm)].map((m) => m[1]);
  expect(names.length).toBeGreaterThan(3);
  expect(new Set(names).size, names.join(' ')).toBe(names.length);
}

describe('twelve databases at 80×24 (real binary in tmux)', () => {
  it("a backup's summary and a restore's outcome stay on screen below the bars", async () => {
    const { dir, setup } = manyDatabases();

    const t = await TmuxScreen.open(
      `respaldo-many-dbs-${process.pid}`,
      `cd ${dir} && env LANG=es_ES.UTF-8 NO_COLOR=1 node ${CLI_BIN} --config ${setup.configFile}; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    await t.waitFor('1. Crear copia ahora');
    await t.key('1');
    await t.waitFor('[ Empezar la copia ]');
    for (let i = 0; i < 16; i++) await t.key('Down');
    await t.waitFor(/› \[ Empezar la copia \]/);
    await t.key('Enter');
    let s = await t.waitFor('Copia terminada');
    s = await t.waitFor(/NO copiada a usb/);
    expectFits(s);
    expect(s).toMatch(/^Copia\s+\d{8}_\d{6}/m);
    expect(s).toMatch(/^Estado\s+OK/m);
    expect(s).toMatch(/^\+\d+ más: \d+ OK$/m);

    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('4');
    await t.waitFor(/› La carpeta de copias/);
    await t.key('Enter');
    await t.waitFor(/› la última/);
    await t.key('Enter');
    await t.waitFor(/\[ \] users \(sqlite\)/);
    await t.key('a');
    await t.key('Enter');
    await t.waitFor('Dónde restaurar');
    await t.key('Enter');
    await t.waitFor('Escriba RESTAURAR');
    await t.typeWord('RESTAURAR');
    await t.key('Enter');
    s = await t.waitFor('Restauración terminada');
    s = await t.waitFor(/líneas 1-\d+ de \d+/);
    expectFits(s);
    expect(s).toMatch(/^OK users → /m);
    expect(s).toMatch(/^\+\d+ más: \d+ OK$/m);
    expectDistinctBars(s);
    for (let i = 0; i < 10; i++) await t.key('PageDown');
    // The end of the outcome: the command that rolls every database back.
    s = await t.waitFor(/--yes[\s\S]*líneas \d+-(\d+) de \1 /);
    expectFits(s);
    await t.key('Escape');
    await t.waitFor('1. Crear copia ahora');
    await t.key('7');
    await t.waitFor('EXIT=0');
  }, 120_000);

  it('deleting the newest set of twelve databases: the word to type stays on screen; a dropped terminal deletes nothing', async () => {
    const { dir, setup } = manyDatabases();
    const made = await runCli(['create', '--no-files', '--config', setup.configFile]);
    expect(made.code, made.stderr).toBe(12); // not copied to the destination that is not mounted
    const sets = () => readdirSync(setup.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
    const [id] = sets();

    const t = await TmuxScreen.open(
      `respaldo-many-dbs-del-${process.pid}`,
      `cd ${dir} && env LANG=es_ES.UTF-8 NO_COLOR=1 node ${CLI_BIN} --config ${setup.configFile}; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    await t.waitFor('1. Crear copia ahora');
    await t.key('3');
    await t.waitFor(`› ${id}`);
    await t.key('d');
    let s = await t.waitFor(/línea\(s\) más\nEscriba BORRAR y pulse Enter para seguir, o Esc para cancelar:\n›/);
    let lines = s.replace(/\n+$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(s).toMatch(/─{70,}\n.*Esc cancelar · Ctrl-C salir\s*$/);
    expect(s).toContain(`› ${id}`);

    // The same from the set's details.
    await t.key('Escape');
    await t.key('Enter');
    await t.waitFor(`Copia ${id}`);
    await t.key('d');
    s = await t.waitFor(/línea\(s\) más\nEscriba BORRAR y pulse Enter para seguir, o Esc para cancelar:\n›/);
    lines = s.replace(/\n+$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(s).toMatch(/─{70,}\n.*Esc cancelar · Ctrl-C salir\s*$/);

    // The connection drops at the question: the menu ends, the set is there, no lock is left.
    execFileSync('tmux', [...TMUX_SERVER, 'kill-session', '-t', t.name]);
    await expect.poll(() => existsSync(join(setup.backupDir, '.respaldo.lock')), { timeout: 10_000 }).toBe(false);
    expect(sets()).toEqual([id]);
    const status = await runCli(['status', '--config', setup.configFile]);
    expect(status.stdout).toMatch(/Lock:\s+free/);
  }, 120_000);
});

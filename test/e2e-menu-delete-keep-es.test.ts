/**
 * Deleting a set marked keep says so before the word is typed, in the menu as `respaldo delete` does: the menu's
 * prompt named the files put in its folder and the newest or only backup, but not that someone chose to keep it.
 * The real built binary in a real terminal (tmux, 80×24), in Spanish.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, describeResult, runCli } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

describe('delete of a set marked keep', () => {
  it('es: the menu prompt says it is marked keep; the CLI says it once', async () => {
    const s = demoSetup();
    for (let i = 0; i < 2; i++) {
      const c = await runCli(['--config', s.configFile, 'create', '--db', 'users', '--no-files'], { cwd: s.dir });
      expect(c.code, describeResult(c)).toBe(0);
    }
    const [older, newer] = readdirSync(s.backupDir)
      .filter((n) => /^\d{8}_\d{6}(_\d+)?$/.test(n))
      .sort();
    const k = await runCli(['--config', s.configFile, 'keep', older!], { cwd: s.dir });
    expect(k.code, describeResult(k)).toBe(0);

    const t = await TmuxScreen.open(
      `respaldo-delete-keep-es-${process.pid}`,
      `cd ${s.dir} && LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; sleep 60`,
      80,
      24,
    );
    await t.waitFor('Menú principal');
    await t.key('3');
    await t.waitFor(newer!);
    await t.key('Down'); // the older set, marked keep
    await t.key('d');
    // The notes are read after the prompt shows, and the one about the mark may fold across lines.
    const screen = (await t.waitFor(/marcada\s+para\s+conservar/)).replace(/[│\s]+/g, ' ');
    expect(screen).toContain('Escriba BORRAR');
    expect(screen).toContain(`La copia ${older} está marcada para conservar`);
    await t.key('Escape');
    expect(existsSync(join(s.backupDir, older!))).toBe(true);

    const gone = await runCli(['--config', s.configFile, 'delete', older!, '--yes'], { cwd: s.dir });
    expect(gone.code, describeResult(gone)).toBe(0);
    expect(gone.stderr.split(`Set ${older} is marked keep`)).toHaveLength(2);
    expect(gone.stdout).toContain(`Deleted set ${older} (it was marked keep).`);
  });
});

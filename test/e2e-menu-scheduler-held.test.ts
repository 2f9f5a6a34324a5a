/**
 * Menu option 5 when another scheduler already runs on the backup folder: the menu says so at once, in its
 * language, before any catch-up plan. It showed the plan of the runs missed and the operator learned only after
 * Enter or s that the scheduler refused to start. The real built binary in a real terminal (tmux, 80×24), with
 * the scheduler lock held by a live process (this test's).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

describe('option 5 while another scheduler runs', () => {
  it.each([
    ['es_ES.UTF-8', 'Menú principal', 'Otro proceso de respaldo está trabajando', 'Perdidas mientras'],
    ['C.UTF-8', 'Main menu', 'Another respaldo process is working', 'Missed while'],
  ])('%s: the refusal is on the screen before any catch-up plan or key', async (lang, menu, refused, plan) => {
    const s = demoSetup({
      schedule: { jobs: [{ name: 'hourly', when: '0 * * * *', type: 'full', databases: ['*'], files: true }] },
    });
    mkdirSync(join(s.backupDir, '.scheduler'), { recursive: true });
    const startedAt = new Date(Date.now() - 3600_000).toISOString();
    writeFileSync(
      join(s.backupDir, '.scheduler', '.respaldo.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), purpose: 'scheduler', startedAt }),
    );
    const t = await TmuxScreen.open(
      `respaldo-sched-held-${process.pid}-${lang.slice(0, 2)}`,
      `cd ${s.dir} && LANG=${lang} LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; sleep 60`,
      80,
      24,
    );
    await t.waitFor(menu);
    await t.key('5');
    const screen = (await t.waitFor((x) => x.includes(refused) || x.includes(plan))).replace(/[│\s]+/g, ' ');
    expect(screen).toContain(refused);
    expect(screen).toContain(`pid ${process.pid}`);
    // Who holds it in the menu's words: the Spanish screen does not say the command's name, "scheduler"
    expect(screen).toContain(lang.startsWith('es') ? '(programador de copias, pid' : '(scheduler, pid');
    expect(screen).not.toContain(plan);
    await t.key('Escape');
    await t.waitFor(menu);
  });
});

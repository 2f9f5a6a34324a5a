/**
 * The menu's header names who holds the backup folder's lock (a restore from another terminal, say), in the
 * menu's language: in Spanish it said "Ocupado: restore …, pid N since …", the engine's English words. The real
 * built binary in a real terminal (tmux, 80×24), with a lock held by a live process (this test's).
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

describe('the header names the lock holder in the menu language', () => {
  it('es: "Ocupado: restauración de ID, pid N desde FECHA", no English word', async () => {
    const s = demoSetup();
    mkdirSync(s.backupDir, { recursive: true });
    const startedAt = new Date(2026, 11, 4, 20, 44).toISOString();
    writeFileSync(
      join(s.backupDir, '.respaldo.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), purpose: 'restore 20261204_204245', startedAt }),
    );
    const t = await TmuxScreen.open(
      `respaldo-lock-es-${process.pid}`,
      `cd ${s.dir} && LANG=es_ES.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; sleep 60`,
      80,
      24,
    );
    const screen = await t.waitFor('Ocupado:');
    expect(screen).toContain(`Ocupado: restauración de 20261204_204245, pid ${process.pid} desde 2026-12-04 20:44`);
    expect(screen).not.toMatch(/ since |restore 2026/);
  });
});

/**
 * The menu's restore of a set at a destination whose chain is BROKEN there (the set it applies on is gone there):
 * 'What to restore' says BROKEN (ROTA in Spanish) in its header line, as the list of the destination's sets does; it
 * said the run's status (OK). Going on, the plan is refused (the fetch finds the chain unusable) with what breaks it in
 * the menu's language (the Spanish box said it in English). The real built binary in a real terminal (tmux, 80×24),
 * in English and in Spanish.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN } from './helpers/cli.js';
import { fullThenIncremental } from './helpers/offsite.js';
import { removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

describe('menu restore from a destination: a set whose chain is BROKEN there (tmux, 80×24)', () => {
  it.each([
    ['en_US.UTF-8', 'at destination "nas"', 'BROKEN', 'OK'],
    ['es_ES.UTF-8', 'en el destino "nas"', 'ROTA', 'OK'],
  ])(
    '%s (sets %s): the header line of the items step says %s, not %s',
    async (lang, where, broken, ok) => {
      const { s, full, inc } = await fullThenIncremental();
      // The full gone at the destination: the incremental there cannot be restored.
      renameSync(join(s.dir, 'nas', 'srv1', full.id), join(s.dir, 'nas', 'srv1', `${full.id}.away`));

      const t = await TmuxScreen.open(
        `respaldo-broken-from-${lang.slice(0, 2)}-${process.pid}`,
        `cd ${s.dir} && LANG=${lang} LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; sleep 60`,
        80,
        24,
      );
      await t.waitFor(/1\. /);
      await t.key('4');
      await t.waitFor('"nas"');
      await t.key('Down');
      await t.key('Enter');
      // The destination's list says BROKEN on the incremental's row.
      let screen = await t.waitFor(new RegExp(`${where}[\\s\\S]*${inc.id}`), 30_000);
      expect(screen.split('\n').find((l) => l.includes(inc.id))).toContain(broken);
      // Its row, then Enter: the items step.
      await t.key('Down');
      screen = await t.waitFor(new RegExp(`› ${inc.id}`));
      await t.key('Enter');
      screen = await t.waitFor('users (sqlite)', 30_000);
      const header = screen.split('\n').find((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d · /.test(l))!;
      expect(header, screen).toBeDefined();
      expect(header, screen).toContain(broken);
      expect(header, screen).not.toMatch(new RegExp(`· ${ok}\\s*$`));
      for (const l of screen.split('\n')) expect(l.length, screen).toBeLessThanOrEqual(80);
      if (process.env.SHOW_FRAMES) console.log(screen);
      // Enter, Enter: its plan is refused, what breaks its chain said in the menu's language.
      await t.key('Enter');
      await t.waitFor(/Where to restore|Dónde restaurar/);
      await t.key('Enter');
      screen = await t.waitFor(/Error:[\s\S]*(Nothing was restored|No se restauró nada)/, 60_000);
      const box = screen.replace(/[│\s]+/g, ' ');
      expect(box).toContain(
        lang.startsWith('es')
          ? `falta la copia ${full.id} (la necesita ${inc.id})`
          : `set ${full.id} (needed by ${inc.id}) is missing`,
      );
      for (const l of screen.split('\n')) expect(l.length, screen).toBeLessThanOrEqual(80);
    },
    120_000,
  );
});

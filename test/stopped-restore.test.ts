/**
 * A restore interrupted (Ctrl-C, the terminal closed: its operator saw nothing of its end) is said by the next run:
 * the menu's header warns of it, in English and Spanish, on one line at 80 columns, until a newer restore ends
 * otherwise. Read from the real daily log the engine writes, through the real facade.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { writeLog } from '../src/engine/log.js';
import { uiContext } from '../src/ui/app.js';
import { headerModel } from '../src/ui/components/Header.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';

afterAll(() => removeTmpDirs());

describe('an interrupted restore is said by the next run', () => {
  it('the header warns of it (en, es) until a newer restore ends', async () => {
    const s = demoSetup();
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    expect((await facade.status()).stoppedRestore).toBeNull();
    writeLog(s.backupDir, 'restore-start', { setId: '20261205_121408', databases: ['users'] });
    writeLog(s.backupDir, 'restore-end', { setId: '20261205_121408', outcome: 'interrupted', restored: [] });
    writeLog(s.backupDir, 'interrupted', { command: 'menu', reason: 'terminal closed' });
    const status = await facade.status();
    expect(status.stoppedRestore).toMatchObject({ setId: '20261205_121408', restored: [] });
    for (const [lang, said] of [
      ['en', /^WARNING: restore of 20261205_121408 interrupted \S+ \S+: no change$/],
      ['es', /^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: sin cambios$/],
    ] as const) {
      const ui = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, lang);
      const model = headerModel(facade.config(), { state: 'done', value: status }, ui, new Date(), 80);
      const line = model.warnings.find((w) => said.test(w));
      expect(line, model.warnings.join('\n')).toBeDefined();
      expect([...line!].length).toBeLessThanOrEqual(79);
    }
    // A newer restore that ended: nothing more to say.
    writeLog(s.backupDir, 'restore-end', { setId: '20261205_121408', outcome: 'ok' });
    expect((await facade.status()).stoppedRestore).toBeNull();
  });

  it('with several databases restored before it stopped: their names where they fit, else their count', async () => {
    const s = demoSetup();
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const restored = ['users', 'inventario', 'auditoria'];
    writeLog(s.backupDir, 'restore-end', { setId: '20261205_121408', outcome: 'interrupted', restored });
    const status = await facade.status();
    for (const [lang, width, said] of [
      ['en', 80, /^WARNING: restore of 20261205_121408 interrupted \S+ \S+: only 3 databases$/],
      ['es', 80, /^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: solo 3 bases$/],
      [
        'en',
        120,
        /^WARNING: restore of 20261205_121408 interrupted \S+ \S+: only users, inventario, auditoria restored$/,
      ],
      [
        'es',
        120,
        /^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: solo se restauró users, inventario, auditoria$/,
      ],
    ] as const) {
      const ui = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, lang);
      const model = headerModel(facade.config(), { state: 'done', value: status }, ui, new Date(), width);
      const line = model.warnings.find((w) => said.test(w));
      expect(line, `${width}: ${model.warnings.join('\n')}`).toBeDefined();
      expect([...line!].length).toBeLessThanOrEqual(width - 1);
    }
  });
});

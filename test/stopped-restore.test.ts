/**
 * A restore that did not end (interrupted: Ctrl-C, the terminal closed; killed: SIGKILL, a power cut; its operator
 * saw nothing of its end) is said by the next run: the menu's header warns of it, in English and Spanish, on one
 * line at 80 columns, as `status` says the last restore of each database: a later killed restore of a database is
 * warned of as killed, a later completed one ends the warning. Read from the lines the engine writes to the real
 * daily log (with the pid of a process that is gone for a killed run), through the real facade.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { english } from '../src/core/phrases.js';
import { lastRestores } from '../src/engine/last-restores.js';
import { logFile } from '../src/engine/log.js';
import { uiContext } from '../src/ui/app.js';
import { say } from '../src/ui/i18n/index.js';
import { headerModel } from '../src/ui/components/Header.js';
import { createEngineFacade, type EngineFacade } from '../src/ui/engine-facade.js';
import { demoSetup, removeTmpDirs, type DemoSetup } from './helpers/tmp.js';

afterAll(() => removeTmpDirs());

/** The pid of a process that has ended (a killed restore's). */
const deadPid = (): number => spawnSync('true').pid!;

/** One restore's lines in the daily log, as the engine writes them (pid: the run's). */
function restoreLines(s: DemoSetup, pid: number, setId: string, dbs: string[], then: Record<string, unknown>[]) {
  const file = logFile(s.backupDir);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  for (const fields of [{ event: 'restore-start', databases: dbs, files: false, to: null }, ...then])
    appendFileSync(file, JSON.stringify({ time: new Date().toISOString(), pid, user: 'op', setId, ...fields }) + '\n');
}
const dbLine = (db: string, outcome: string) => ({ event: 'restore-database', db, outcome });
const endLine = (outcome: string, restored: string[] = [], signal?: string) => ({
  event: 'restore-end',
  outcome,
  restored,
  ...(signal ? { signal } : {}),
});

/** The header's restore warnings in English and Spanish at `width`, each checked to fit on its line. */
async function warnings(facade: EngineFacade, width = 80): Promise<{ en: string[]; es: string[] }> {
  const status = await facade.status();
  const said = (lang: 'en' | 'es') => {
    const ui = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, lang);
    const model = headerModel(facade.config(), { state: 'done', value: status }, ui, new Date(), width);
    const lines = model.warnings.filter((w) => /restor|restaur/.test(w));
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(width - 1);
    return lines;
  };
  return { en: said('en'), es: said('es') };
}

describe('a restore that did not end is said by the next run', () => {
  it('the header warns of an interrupted one (en, es) until a newer restore of the database ends', async () => {
    const s = demoSetup();
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    expect((await facade.status()).stoppedRestores).toEqual([]);
    restoreLines(s, deadPid(), '20261205_121408', ['users'], [endLine('interrupted', [], 'SIGHUP')]);
    expect((await facade.status()).stoppedRestores).toMatchObject([{ setId: '20261205_121408', restored: [] }]);
    const said = await warnings(facade);
    expect(said.en).toEqual([
      expect.stringMatching(/^WARNING: restore of 20261205_121408 interrupted \S+ \S+: no change$/),
    ]);
    expect(said.es).toEqual([
      expect.stringMatching(/^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: sin cambios$/),
    ]);
    // A newer restore of users that ended: nothing more to say.
    restoreLines(s, process.pid, '20261205_121408', ['users'], [dbLine('users', 'ok'), endLine('ok')]);
    expect((await facade.status()).stoppedRestores).toEqual([]);
  });

  it('each order of interrupted, killed and completed: the header says the last restore of each database', async () => {
    const s = demoSetup();
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const killedLine = {
      en: /^WARNING: restore of 20261205_130000 KILLED \S+ \S+( \(pid \d+\))?: see respaldo status$/,
      es: /^AVISO: restauración 20261205_130000 MATADA \S+ \S+( \(pid \d+\))?: vea respaldo status$/,
    };
    // Interrupted by a hang-up while restoring users, then killed (SIGKILL) while restoring it again: killed.
    restoreLines(s, deadPid(), '20261205_121408', ['users'], [dbLine('users', 'interrupted'), endLine('interrupted')]);
    const killed = deadPid();
    restoreLines(s, killed, '20261205_130000', ['users'], []);
    let said = await warnings(facade);
    expect(said.en).toEqual([expect.stringMatching(killedLine.en)]);
    expect(said.es).toEqual([expect.stringMatching(killedLine.es)]);
    expect((await facade.status()).stoppedRestores).toEqual([
      expect.objectContaining({ setId: '20261205_130000', outcome: 'killed', pid: killed, restored: [] }),
    ]);
    // A wider terminal shows its pid, as status does.
    expect((await warnings(facade, 120)).en).toEqual([expect.stringContaining(`(pid ${killed})`)]);
    // Killed, then completed: nothing to say.
    restoreLines(s, process.pid, '20261205_130000', ['users'], [dbLine('users', 'ok'), endLine('ok')]);
    said = await warnings(facade);
    expect(said).toEqual({ en: [], es: [] });
    // Completed, then a restore of users and inventario killed after users: killed, users restored by it.
    restoreLines(s, deadPid(), '20261205_130000', ['users', 'inventario'], [dbLine('users', 'ok')]);
    expect((await facade.status()).stoppedRestores).toEqual([
      expect.objectContaining({ outcome: 'killed', restored: ['users'] }),
    ]);
    said = await warnings(facade);
    expect(said.en).toEqual([expect.stringMatching(killedLine.en)]);
    // Then inventario's restore interrupted: its last restore is that one, users' the completed one of the killed
    // run (status says so): the interrupted one alone.
    restoreLines(s, deadPid(), '20261205_121408', ['inventario'], [endLine('interrupted', [], 'SIGINT')]);
    said = await warnings(facade);
    expect(said.en).toEqual([
      expect.stringMatching(/^WARNING: restore of 20261205_121408 interrupted \S+ \S+: no change$/),
    ]);
    expect(said.es).toEqual([
      expect.stringMatching(/^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: sin cambios$/),
    ]);
    const last = lastRestores(s.backupDir, ['users', 'inventario']).map((r) => [r.database, r.outcome]);
    expect(last).toEqual([
      ['users', 'completed'],
      ['inventario', 'interrupted'],
    ]);
  });

  it('with several databases restored before it stopped: their names where they fit, else their count', async () => {
    const s = demoSetup();
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const restored = ['users', 'inventario', 'auditoria'];
    restoreLines(s, deadPid(), '20261205_121408', restored, [
      ...restored.map((db) => dbLine(db, 'ok')),
      endLine('interrupted', restored, 'SIGHUP'),
    ]);
    // Restored all three, then stopped before the files: each database's last restore completed, the run did not.
    // Status says each completed; the header says the run stopped (the files were left as they were).
    for (const [width, en, es] of [
      [
        80,
        /^WARNING: restore of 20261205_121408 interrupted \S+ \S+: only 3 databases$/,
        /^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: solo 3 bases$/,
      ],
      [
        120,
        /^WARNING: restore of 20261205_121408 interrupted \S+ \S+: only users, inventario, auditoria restored$/,
        /^AVISO: restauración 20261205_121408 interrumpida \S+ \S+: solo se restauró users, inventario, auditoria$/,
      ],
    ] as const) {
      const said = await warnings(facade, width);
      expect(said.en, `${width}`).toEqual([expect.stringMatching(en)]);
      expect(said.es, `${width}`).toEqual([expect.stringMatching(es)]);
    }
    // Status says each database completed, and that the run it completed in was stopped afterwards (it said
    // "completed" alone: the header's warning had no echo there, but for `stoppedAt` in --json).
    const last = lastRestores(s.backupDir, restored);
    expect(last.map((r) => [r.database, r.outcome])).toEqual(restored.map((db) => [db, 'completed']));
    for (const r of last) {
      expect(r.stoppedAt).toBeDefined();
      expect(english(r.said)).toMatch(
        /^completed \S+ \S+ from set 20261205_121408; the same restore was then INTERRUPTED \S+ \S+: what it restored after this database is not complete$/,
      );
      expect(say('es', r.said, english(r.said))).toMatch(
        /^completada \S+ \S+ desde el conjunto 20261205_121408; la misma restauración se INTERRUMPIÓ después, \S+ \S+: lo que restauró tras esta base de datos no está completo$/,
      );
    }
    // A restore that ended: completed alone.
    restoreLines(s, process.pid, '20261205_121408', ['users'], [dbLine('users', 'ok'), endLine('ok', ['users'])]);
    const users = lastRestores(s.backupDir, ['users'])[0]!;
    expect(english(users.said)).toMatch(/^completed \S+ \S+ from set 20261205_121408$/);
  });
});

/**
 * What the SQLite driver says to an operator reaches the Spanish menu and alerts in Spanish: a database file that is
 * missing or is not a database, the unreadable live file kept as raw bytes before a restore (its hot journal said
 * within the warning), and who holds the backup folder's lock. These were the driver's or the lock's English words
 * inside Spanish sentences. Real SQLite files in a temp folder, the engine as the menu calls it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { RespaldoError } from '../src/core/errors.js';
import { CollectingReporter, silentReporter } from '../src/core/events.js';
import { english } from '../src/core/phrases.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { catalogue, say } from '../src/ui/i18n/index.js';
import { uiContext } from '../src/ui/app.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { summaryNotices } from '../src/ui/screens/create/summary-notices.js';
import { emptyProgress, reduceProgress } from '../src/ui/use-progress.js';
import { collect, startNode, waitFor } from './helpers/cli.js';
import { leaveHotJournal } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';

const ENGLISH =
  /\b(file not found|not a SQLite database|has a hot journal|cannot be read|scheduler|Check|restore it)\b/;

/** A backup of `users` only, which fails: its error as the CLI and the Spanish menu say it. */
async function failedBackup(s: ReturnType<typeof demoSetup>): Promise<{ en: string; es: string; hintEs: string }> {
  const cfg = await loadConfig({ configPath: s.configFile, env: {} });
  const err = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RespaldoError);
  const e = err as RespaldoError;
  expect(e.message).toBe(english(e.phrases!.message!));
  expect(e.hint).toBe(english(e.phrases!.hint!));
  return { en: e.message, es: say('es', e.phrases?.message, e.message), hintEs: say('es', e.phrases?.hint, e.hint!) };
}

describe('the SQLite driver in Spanish', () => {
  it('a database file that is missing: named, with what to check, in Spanish', async () => {
    const s = demoSetup();
    rmSync(s.dbs.users);
    const said = await failedBackup(s);
    expect(said.en).toContain(`SQLite database users: file not found: ${s.dbs.users}`);
    expect(said.es).toContain(`Base SQLite users: no se encuentra el archivo ${s.dbs.users}`);
    expect(said.hintEs).toBe('Revise databases[].path de "users" en la configuración, o restáurela desde una copia.');
    expect(`${said.es} ${said.hintEs}`).not.toMatch(ENGLISH);
  });

  it("the create summary of a backup where one database's file is missing says its error in Spanish", async () => {
    const s = demoSetup();
    rmSync(s.dbs.users);
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const events = new CollectingReporter();
    const m = await createBackup(cfg, { databases: ['users', 'inventario'], files: false }, events);
    expect(m.status).toBe('partial');
    const progress = events.events.reduce(
      (st, e) => reduceProgress(st, e, 0, (w) => say('es', w.phrase, w.message)),
      emptyProgress,
    );
    const es = uiContext(createEngineFacade(cfg), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const text = summaryNotices(m, [], null, es, 200, progress.items)
      .map((r) => r.map((x) => x.text).join(''))
      .join('\n');
    expect(text).toContain(`users falló: Base SQLite users: no se encuentra el archivo ${s.dbs.users}`);
    expect(text).toContain('Qué hacer: Revise databases[].path de "users" en la configuración');
    expect(text).not.toMatch(ENGLISH);
  });

  it('a file that is not a SQLite database', async () => {
    const s = demoSetup();
    writeFileSync(s.dbs.users, Buffer.alloc(8192, 7));
    const said = await failedBackup(s);
    expect(said.en).toContain(`${s.dbs.users} is not a SQLite database`);
    expect(said.es).toContain(`Base SQLite users: ${s.dbs.users} no es una base de datos SQLite.`);
    expect(`${said.es} ${said.hintEs}`).not.toMatch(ENGLISH);
  });

  it('a live file left with a hot journal, kept as raw bytes before a restore: its reason said in Spanish', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    leaveHotJournal(s.dbs.users, 'DELETE FROM users WHERE id > 3');
    const events = new CollectingReporter();
    await executeRestore(cfg, await planRestore(cfg, m.id, { databases: ['users'] }), events);
    const warning = events.events.find((e) => e.type === 'warning' && e.phrase?.id === 'note.replacedUnreadable');
    expect(warning?.type).toBe('warning');
    if (warning?.type !== 'warning') return;
    expect(warning.message).toMatch(
      /cannot be read as a SQLite database \(SQLite database users: .* has a hot journal/,
    );
    const es = say('es', warning.phrase, warning.message);
    expect(es).toContain(`${s.dbs.users} no se puede leer como base SQLite (Base SQLite users: ${s.dbs.users} tiene`);
    expect(es).toContain('un journal pendiente');
    expect(es).not.toMatch(ENGLISH);
  });
});

describe('a database opened by another process after the plan, in Spanish', () => {
  it("the in-place restore refuses it before its safety copy, in the menu's language", async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const plan = await planRestore(cfg, m.id, { databases: ['users'] });
    expect(plan.refusals).toEqual([]);
    const holder = startNode([
      '-e',
      `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.prepare('SELECT 1').get(); process.stdout.write('open\\n'); setInterval(() => {}, 1000);`,
      s.dbs.users,
    ]);
    const held = collect(holder);
    let out = '';
    holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('open'), 'the holder to open the database');
      const err = (await executeRestore(cfg, plan, silentReporter).catch((e: unknown) => e)) as RespaldoError;
      expect(err).toBeInstanceOf(RespaldoError);
      expect(err.kind).toBe('refused');
      expect(err.message).toContain(`is open in another process (pid ${holder.pid}`);
      const es = say('es', err.phrases?.message, err.message);
      expect(es).toContain(`${s.dbs.users} está abierta por otro proceso (pid ${holder.pid}`);
      expect(say('es', err.phrases?.hint, err.hint!)).toBe('Detenga la aplicación que la usa y vuelva a restaurar.');
    } finally {
      holder.kill('SIGKILL');
      await held;
    }
  });
});

describe("the lock holder's purpose in Spanish", () => {
  it.each([
    ['scheduler', 'programador de copias'],
    ['create', 'copia de seguridad'],
    ['restore 20261204_204245', 'restauración de 20261204_204245'],
    ['drill 20261204_204245', 'simulacro de 20261204_204245'],
    ['something newer', 'something newer'],
  ])('%s → %s, in the header and in the error', (purpose, es) => {
    expect(catalogue('es', true).header.lock(purpose, 42, '2026-12-04 20:44')).toBe(
      `Ocupado: ${es}, pid 42 desde 2026-12-04 20:44`,
    );
    const p = { purpose, pid: '42', host: 'srv1', startedAt: '2026-12-04 20:44:00' };
    expect(say('es', { id: 'error.lockHeldBy', params: p }, '')).toContain(`(${es}, pid 42 en srv1 desde`);
  });
});

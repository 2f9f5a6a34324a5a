/**
 * The restore plan reaches the menu as phrases (ids with parameters) so a Spanish operator reads
 * the steps, the safety copy, how to roll back, refusals and warnings in Spanish before typing the
 * confirmation word; the CLI keeps the English text, which must be exactly the phrases' English.
 * Why one file of about 950 lines: it checks the one phrase table (src/core/phrases.ts) against its Spanish
 * catalogue, where each phrase reaches the menu, with the same fixtures and renderers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { formatLocal } from '../src/core/format.js';
import { english, PHRASES_EN, type Phrase } from '../src/core/phrases.js';
import type { DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { RestoreStepPlan } from '../src/drivers/driver.js';
import { databasePropertiesSql, planPgRestore } from '../src/drivers/postgres/plan.js';
import { driverFor } from '../src/drivers/registry.js';
import { loadConfig } from '../src/config/load.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore, safetyOf } from '../src/engine/restore.js';
import { InterruptedError, LockHeldError, RespaldoError, VerifyError } from '../src/core/errors.js';
import { deleteSet } from '../src/engine/catalog.js';
import { baseSetId } from '../src/engine/set-id.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { silentReporter } from '../src/core/events.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';
import { catalogue, say, sayTarget } from '../src/ui/i18n/index.js';
import { PlanView } from '../src/ui/screens/RestoreScreen.js';
import { waitFor } from './helpers/fake-clock.js';
import { demoSetup } from './helpers/tmp.js';
import { renderUi } from './ui-fake-facade.js';
import { CollectingReporter, type Reporter } from '../src/core/events.js';
import { nestedPhrase, phrase, said, sayingWithin, type PhraseId } from '../src/core/phrases.js';
import { emptyProgress, reduceProgress, useProgress } from '../src/ui/use-progress.js';
import { RunningStep } from '../src/ui/screens/restore/RunSteps.js';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { leaveHotJournal } from './helpers/sqlite.js';
import { Text } from 'ink';
import { planMissingRoles } from '../src/drivers/postgres/globals.js';
import { uiContext } from '../src/ui/app.js';
import { outcomeRows } from '../src/ui/screens/restore-rows.js';
import { drillOutcomeRows } from '../src/ui/screens/DrillScreen.js';
import { FakeFacade } from './ui-fake-facade.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { summaryNotices } from '../src/ui/screens/create/summary-notices.js';

afterEach(() => cleanup());

const entry = (engine: DatabaseEntry['engine'], extra: Partial<DatabaseEntry> = {}): DatabaseEntry => ({
  name: 'inventario',
  engine,
  file: 'databases/inventario.x.gz',
  format: engine === 'sqlite' ? 'sqlite-db' : engine === 'postgres' ? 'pg-custom' : 'mssql-bak',
  compressed: true,
  rawBytes: 1,
  storedBytes: 1,
  md5: null,
  sha256: null,
  tables: { 'public.a': 1 },
  durationMs: 1,
  error: null,
  details: { rowCounts: 'exact' },
  ...extra,
});
const sqlite: DatabaseConfig = { name: 'inventario', engine: 'sqlite', path: '/srv/app/data/inventario.db' };
const pg: DatabaseConfig = { name: 'inventario', engine: 'postgres', url: 'postgresql://app@db1:5432/inventario' };
const mssql: DatabaseConfig = {
  name: 'inventario',
  engine: 'sqlserver',
  server: 'db1',
  user: 'backup',
  password: 'x',
  database: 'inventario',
  serverBackupDir: '/var/opt/mssql/backup',
  localBackupDir: '/mnt/mssql',
};

const plans: [string, RestoreStepPlan][] = [
  [
    'sqlite in place',
    driverFor('sqlite').planRestore({ db: sqlite, entry: entry('sqlite'), setId: 'S1', target: { kind: 'in-place' } }),
  ],
  [
    'sqlite side by side',
    driverFor('sqlite').planRestore({
      db: sqlite,
      entry: entry('sqlite'),
      setId: 'S1',
      target: { kind: 'side-by-side', name: '/tmp/x.db' },
    }),
  ],
  [
    'sqlite schema SQL',
    driverFor('sqlite').planRestore({
      db: sqlite,
      entry: entry('sqlite', { format: 'sqlite-sql' }),
      setId: 'S1',
      target: { kind: 'side-by-side', name: '/tmp/x.db' },
    }),
  ],
  [
    'postgres in place, roles',
    planPgRestore({ db: pg, entry: entry('postgres'), setId: 'S1', target: { kind: 'in-place' }, createRoles: true }),
  ],
  [
    'postgres tables, estimates',
    planPgRestore({
      db: pg,
      entry: entry('postgres', { details: { rowCounts: 'estimate' } }),
      setId: 'S1',
      target: { kind: 'side-by-side', name: 'inv_copy' },
      tables: ['public.a'],
    }),
  ],
  [
    'sqlserver in place',
    driverFor('sqlserver').planRestore({
      db: mssql,
      entry: entry('sqlserver'),
      setId: 'S1',
      target: { kind: 'in-place' },
    }),
  ],
  [
    'sqlserver side by side',
    driverFor('sqlserver').planRestore({
      db: mssql,
      entry: entry('sqlserver'),
      setId: 'S1',
      target: { kind: 'side-by-side', name: 'inv_copy' },
    }),
  ],
];

/** A Spanish rendering that filled every parameter and is not the English text. */
function expectSpanish(p: Phrase): string {
  const es = say('es', p, english(p));
  expect(es, p.id).not.toMatch(/undefined/);
  expect(english(p), p.id).not.toMatch(/undefined/);
  expect(es, p.id).not.toBe(english(p));
  return es;
}

describe('restore plan phrases', () => {
  it('the decrypting note fits an 80-column line (the restore shows it on one line, cut at the edge)', () => {
    const p = phrase('note.decrypting', { count: '128', id: '20261203_120702__2' });
    expect(english(p).length).toBeLessThanOrEqual(79);
    expect(say('es', p, '').length).toBeLessThanOrEqual(79);
  });

  it('the header counts the warnings it does not show in the singular too', () => {
    expect([catalogue('es').header.more(1), catalogue('es').header.more(3)]).toEqual([
      '… y 1 aviso más',
      '… y 3 avisos más',
    ]);
    expect([catalogue('en').header.more(1), catalogue('en').header.more(3)]).toEqual([
      '… and 1 more warning',
      '… and 3 more warnings',
    ]);
  });

  it('every phrase has a Spanish text', () => {
    expect(Object.keys(PHRASES_ES).sort()).toEqual(Object.keys(PHRASES_EN).sort());
  });

  it.each(plans)('%s: steps and rollback are exactly the phrases in English, and all have Spanish', (_label, plan) => {
    expect(plan.stepPhrases).toBeDefined();
    expect(plan.steps).toEqual(plan.stepPhrases!.map(english));
    expect(plan.rollback).toBe(english(plan.rollbackPhrase!));
    for (const p of [...plan.stepPhrases!, plan.rollbackPhrase!]) expectSpanish(p);
  });

  it('names and paths pass through untranslated', () => {
    const [, plan] = plans[3]!;
    const es = plan.stepPhrases!.map((p) => say('es', p, english(p)));
    expect(es).toContain('renombrar "inventario" a "inventario__pre_restore_S1" (la copia de seguridad)');
    expect(es[0]).toMatch(/^crear los roles guardados/);
    expect(say('es', plan.rollbackPhrase, plan.rollback)).toContain(
      'ALTER DATABASE "inventario__pre_restore_S1" RENAME TO "inventario"',
    );
    // English stays the engine's own text; a missing phrase falls back to it.
    expect(say('en', plan.stepPhrases![0], plan.steps[0]!)).toBe(plan.steps[0]);
    expect(say('es', undefined, 'plain English')).toBe('plain English');
    expect(say('es', plan.stepPhrases![1], '', false)).toBe(
      'crear la base vacia "inventario__restore_S1" (codificacion y configuracion regional del original)',
    );
  });

  it('the engine plan: safety, refusals and warnings carry phrases; the menu shows the whole plan in Spanish', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users', 'inventario'], files: false }, silentReporter);
    const plan = await planRestore(cfg, m.id, { databases: ['users', 'inventario'], files: true });
    expect(plan.safety).toBe(plan.safetyPhrases!.map(english).join('; '));
    expect(plan.warnings).toEqual(plan.warningPhrases!.map(english));
    expect(plan.warnings).toEqual([`Set ${m.id} holds no files.`]);
    for (const p of [...plan.safetyPhrases!, ...plan.warningPhrases!]) expectSpanish(p);
    const exists = await planRestore(cfg, m.id, { databases: ['users'], to: s.dbs.inventario });
    expect(exists.refusals).toHaveLength(1);
    expect(exists.refusals[0]!.message).toBe(english(exists.refusals[0]!.phrases!.message));
    expect(expectSpanish(exists.refusals[0]!.phrases!.message)).toBe(
      `${s.dbs.inventario} ya existe; una restauración al lado nunca sobrescribe.`,
    );

    const { lastFrame } = renderUi(<PlanView plan={plan} />, { lang: 'es' });
    const f = lastFrame()!.replace(/\s+/g, ' ');
    expect(f).toContain('users: se copia en una copia pre_restore antes de sustituirla');
    expect(f).toContain(`La copia ${m.id} no tiene archivos.`);
    expect(f).toContain('respaldo restore <id de la copia pre_restore> --db users --yes');
    expect(f).not.toMatch(/copied into|holds no files|against the manifest/);
    cleanup();
    const one = await planRestore(cfg, m.id, { databases: ['users'] });
    const single = renderUi(<PlanView plan={one} />, { lang: 'es' })
      .lastFrame()!
      .replace(/\s+/g, ' ');
    expect(single).toMatch(/1\. verificar databases\/users\S* contra el manifiesto \(md5, sha256\)/);
    expect(single).toContain('4. renombrarla sobre');
    const en = renderUi(<PlanView plan={one} />, { lang: 'en' })
      .lastFrame()!
      .replace(/\s+/g, ' ');
    expect(en).toContain('1. verify databases/users');
  });
  it("the plan's files line is one sentence: the noun after the verb is not capitalised", async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: [], files: true }, silentReporter);
    const to = join(s.dir, 'restored-files');
    const plan = await planRestore(cfg, m.id, { databases: [], files: true, to });
    for (const [lang, words] of [
      ['es', 'Creará archivos ('],
      ['en', 'Will create files ('],
    ] as const) {
      const f = renderUi(<PlanView plan={plan} />, { lang })
        .lastFrame()!
        .replace(/\s+/g, ' ');
      expect(f).toContain(words);
      expect(f).toContain(to);
      cleanup();
    }
  });
  it('the safety line of databases refused before they were planned: in place they would be replaced and kept', () => {
    const refused = safetyOf(
      [],
      [
        { database: 'users', safety: 'pre-restore-set' },
        { database: 'inventario', safety: 'renamed-database' },
      ],
    );
    expect(refused.map(english)).toEqual([
      'users: copied into a pre_restore set before it is replaced',
      'inventario: the live database is kept on its server under a new name when it is replaced',
    ]);
    for (const p of refused) expectSpanish(p);
    expect(safetyOf([]).map(english)).toEqual(['nothing is replaced (side-by-side restore)']);
  });

  it('the errors the menu shows most come in Spanish: the folder lock, a set that fails verification', async () => {
    const since = formatLocal('2026-11-22T02:00:00.000Z', { seconds: true }); // local time, as status says it
    const lock = new LockHeldError('/srv/backups/.respaldo.lock', `scheduler, pid 42 on db1 since ${since}`, {
      purpose: 'scheduler',
      pid: 42,
      host: 'db1',
      startedAt: '2026-11-22T02:00:00.000Z',
    });
    expect(lock.message).toBe(english(lock.phrases!.message!));
    const f = renderUi(<ErrorBox error={lock} />, { lang: 'es' })
      .lastFrame()!
      .replace(/[\s│╭╮╰╯─]+/g, ' ');
    expect(f).toContain(
      `Otro proceso de respaldo está trabajando en esta carpeta de copias (programador de copias, pid 42 en db1 desde ${since}).`,
    );
    expect(f).toContain('borre /srv/backups/.respaldo.lock');
    cleanup();

    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const stored = join(s.backupDir, m.id, m.databases[0]!.file!);
    appendFileSync(stored, 'x');
    const plan = await planRestore(cfg, m.id, { databases: ['users'] });
    const err = await executeRestore(cfg, plan, silentReporter).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerifyError);
    expect((err as VerifyError).message).toBe(english((err as VerifyError).phrases!.message!));
    const es = renderUi(<ErrorBox error={err} />, { lang: 'es' })
      .lastFrame()!
      .replace(/[\s│╭╮╰╯─]+/g, ' ');
    expect(es).toContain(`La copia ${m.id} no pasó la verificación; no se restauró nada:`);
    expect(es).toContain('Restaure desde otra copia');
    // An error without phrases shows as it is.
    cleanup();
    expect(
      renderUi(
        <ErrorBox
          error={new RespaldoError('failed', 'PostgreSQL at db1:5432 refused the connection.', 'Is it running?')}
        />,
        { lang: 'es' },
      ).lastFrame(),
    ).toContain('refused the connection');
  });

  it('a create that stored nothing: its first database error within, in Spanish in the menu (box and progress)', async () => {
    const s = demoSetup();
    const live = s.dbs.users;
    // a writer killed mid-transaction leaves a hot journal respaldo cannot roll back
    leaveHotJournal(live, 'DELETE FROM users WHERE id > 3');
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const events = new CollectingReporter();
    const err = await createBackup(cfg, { databases: ['users'], files: false }, events).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RespaldoError);
    const e = err as RespaldoError;
    expect(e.message).toBe(english(e.phrases!.message!));
    expect(e.hint).toBe(english(e.phrases!.hint!));
    expect(e.message).toMatch(/^Nothing could be backed up: SQLite database users: .* has a hot journal/);
    const es = renderUi(<ErrorBox error={err} />, { lang: 'es' })
      .lastFrame()!
      .replace(/[\s│╭╮╰╯─┌┐└┘]+/g, ' ');
    expect(es).toContain(`Error: No se pudo copiar nada: Base SQLite users: ${live} tiene un journal pendiente`);
    expect(es).toContain('no puede deshacerla. No se escribió ninguna copia. Qué hacer: Ábrala una vez');
    cleanup();
    // the database's own line in the progress: its error and hint in Spanish too
    const ended = events.events.find((x) => x.type === 'item-end' && !x.ok);
    expect(ended && ended.type === 'item-end' && ended.errorPhrase?.id).toBe('sqlite.hotJournal');
    const folded = events.events.reduce(
      (st, x) => reduceProgress(st, x, 0, (w) => say('es', w.phrase, w.message)),
      emptyProgress,
    );
    expect(folded.items[0]!.error).toContain('tiene un journal pendiente');
    expect(folded.items[0]!.hint).toContain('Ábrala una vez');
    // a safety copy that could not be taken says it the same way
    const inner = phrase('sqlite.locked', { db: 'users', by: '' });
    const safety = sayingWithin('create.safetyNotTaken', inner, { failedDbs: 'users' }).phrase;
    expect(english(safety)).toBe(
      'The safety copy of users could not be taken: SQLite database users is locked by another process; nothing was restored.',
    );
    expect(say('es', safety, '')).toBe(
      'No se pudo tomar la copia de seguridad previa de users: La base SQLite users está bloqueada por otro proceso; no se restauró nada.',
    );
    // its database's error without a phrase: its English reason within, the rest in Spanish; the fallback hints too
    for (const id of ['create.safetyNotTakenWhy', 'create.nothingBackedUpWhy'] as const)
      expect(expectSpanish(phrase(id, { failedDbs: 'users, inventario', why: 'boom' }))).toMatch(/^No se pudo .*boom/);
    for (const id of ['create.checkErrorsHint', 'restore.safetyNotTakenHint'] as const) expectSpanish(phrase(id));
    // a SQLite chain the driver refuses to rebuild, and a restore interrupted before its swap
    for (const what of ['delta', 'map', 'image', 'snapshot'])
      expect(expectSpanish(phrase('sqlite.pagesDamaged', { what }))).toMatch(/^Una? \S+ de páginas SQLite guardad[oa]/);
    for (const id of ['sqlite.chainNoFull', 'sqlite.chainGap', 'sqlite.chainNotDelta', 'sqlite.chainHint'] as const)
      expectSpanish(phrase(id, { ...SAMPLE, before: '20261120_020000', format: 'sqlite-db' }));
    for (const id of ['sqlite.pagesDamagedHint', 'sqlite.chainNotDeltaHint'] as const) expectSpanish(phrase(id));
    for (const id of ['error.interruptedBeforeSwap', 'error.interruptedBeforeSwapLive'] as const)
      expectSpanish(phrase(id));
    expectSpanish(phrase('error.interruptedRestoreOf', SAMPLE));
    // a restore that filled a disk
    for (const id of ['restore.diskFullStaging', 'restore.diskFullTarget'] as const)
      expectSpanish(phrase(id, { ...SAMPLE, detail: 'ENOSPC: no space left on device, write' }));
    for (const id of ['restore.diskFullStagingHint', 'restore.diskFullTargetHint'] as const) expectSpanish(phrase(id));
    // status's last restore of a database: in place and beside (`to`), stopped by a hang-up
    const last = [
      ...['status.restoreCompleted', 'status.restoreRunning', 'status.restoreKilled', 'status.restoreRefused'],
      ...['status.restoreFailed', 'status.restoreFailedBefore', 'status.restoreInterrupted'],
      'status.restoreInterruptedBefore',
    ] as const;
    for (const id of last)
      for (const to of ['', '/srv/copy.db']) {
        const params = { set: '20261122_020000', at: '2026-12-05 14:02', started: '2026-12-05 14:00', pid: 42, to };
        const es = expectSpanish(phrase(id, { ...params, signal: 'SIGHUP', error: 'boom' }));
        if (to && id !== 'status.restoreRunning' && id !== 'status.restoreRefused' && id !== 'status.restoreFailed')
          expect(es, id).toContain(to);
      }
    expect(say('es', phrase('status.restoreInterrupted', { set: 'S', at: 'x', to: '', signal: 'SIGHUP' }), '')).toBe(
      'INTERRUMPIDA x (cuelgue: se cerró el terminal) mientras se restauraba desde el conjunto S; la base en uso ' +
        'quedó como estaba',
    );
  });

  it('an interruption, a chain base that cannot be deleted: in Spanish in the menu, English on the CLI', async () => {
    const box = (error: unknown) =>
      renderUi(<ErrorBox error={error} />, { lang: 'es' })
        .lastFrame()!
        .replace(/[\s│╭╮╰╯─]+/g, ' ');
    const stopped = new InterruptedError();
    expect([stopped.message, stopped.hint]).toEqual([
      'Interrupted; nothing partial was published.',
      'Run the command again when ready.',
    ]);
    expect(box(stopped)).toContain('Interrumpido; no se publicó nada a medias. Qué hacer: Repita la operación');
    cleanup();
    // its own message stays as it is; the hint is still in Spanish
    expect(box(new InterruptedError('Interrupted during the swap.'))).toContain(
      'Interrupted during the swap. Qué hacer: Repita la operación cuando quiera.',
    );
    cleanup();
    // an interruption after some databases were replaced: what was done on its way out, in Spanish too
    const rollback = 'users: respaldo restore 20261122_020000 --db users --yes';
    const after = new InterruptedError()
      .withAftermath(phrase('note.restoredBefore', { stopped: 'inv', dbs: 'users', rollback }), {
        restoredDatabases: ['users'],
      })
      .withAftermath(phrase('note.safetyRemoved', { id: '20261122_020500' }), { removedSafetySetIds: ['x'] });
    expect(after.message).toBe(
      `Interrupted; nothing partial was published. That was inv; restored before it stopped, so replaced: users. ${rollback}. ${english(phrase('note.safetyRemoved', { id: '20261122_020500' }))}`,
    );
    expect(after.details).toEqual({ restoredDatabases: ['users'], removedSafetySetIds: ['x'] });
    const said = box(after);
    expect(said).toContain(
      `Interrumpido; no se publicó nada a medias. Eso fue inv; restauradas antes de que se detuviera, así que sustituidas: users. ${rollback}. ${PHRASES_ES['note.safetyRemoved']({ id: '20261122_020500' })}`,
    );
    expect(said).not.toContain('restored before it stopped');
    cleanup();
    // a message without words of its own stays English, aftermath included
    const plain = new RespaldoError('failed', 'pg_restore failed.').withAftermath(
      phrase('note.safetyRemoved', { id: 'y' }),
      {},
    );
    expect(box(plain)).toContain(`pg_restore failed. ${english(phrase('note.safetyRemoved', { id: 'y' }))}`);
    cleanup();
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const full = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const inc = await createBackup(cfg, { databases: ['users'], files: false, type: 'incremental' }, silentReporter);
    const refused = await deleteSet(cfg, full.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RespaldoError);
    expect((refused as RespaldoError).message).toBe(
      `Set ${full.id} is the base of ${inc.id}: they store only changes on it, and could no longer be restored.`,
    );
    expect(box(refused)).toContain(
      `La copia ${full.id} es la base de ${inc.id}: guardan solo los cambios sobre ella y ya no podrían restaurarse. Qué hacer: Borre antes esa copia`,
    );
  });

  it('a copy that failed, from its mark in copies.json: the create summary says it in Spanish when its error has words', async () => {
    const s = demoSetup();
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    const nas = join(s.dir, 'nas-not-mounted');
    writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: nas }] }));
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const facade = createEngineFacade(cfg);
    const offsite = await facade.offsite(m.id);
    expect(offsite).toMatchObject([
      { destination: 'nas', ok: false, error: `destination "nas": ${nas} does not exist (not mounted?)` },
    ]);
    const es = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const text = summaryNotices(m, offsite, null, es, 200)
      .map((r) => r.map((x) => x.text).join(''))
      .join('\n');
    expect(text).toContain(`destino "nas": ${nas} no existe (¿no está montado?)`);
    expect(text).not.toContain('does not exist');
  });

  it("an incremental not copied because its base was not: the create summary says the base's error in Spanish", async () => {
    const s = demoSetup();
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    const nas = join(s.dir, 'nas-not-mounted');
    writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: nas }] }));
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const full = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const facade = createEngineFacade(cfg);
    const m = await facade.createBackup({ databases: ['users'], type: 'incremental', files: false }, silentReporter);
    expect(m.type).toBe('incremental');
    const offsite = await facade.offsite(m.id);
    // copies.json and the CLI keep the English, the base's error quoted in it
    const english = `not sent: set ${full.id}, which it applies on, could not be copied there first (destination "nas": ${nas} does not exist (not mounted?)); without it the set would not restore there`;
    expect(offsite).toMatchObject([{ destination: 'nas', ok: false, error: english }]);
    const copies = JSON.parse(readFileSync(join(s.backupDir, m.id, 'copies.json'), 'utf8')) as Record<string, unknown>;
    expect(copies['nas']).toMatchObject({ ok: false, error: english });
    const es = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const text = summaryNotices(m, offsite, null, es, 200)
      .map((r) => r.map((x) => x.text).join(''))
      .join('\n');
    expect(text).toContain(
      `no se envió: la copia ${full.id}, sobre la que se aplica, no se pudo enviar antes (destino "nas": ${nas} no existe (¿no está montado?))`,
    );
    expect(text).not.toMatch(/does not exist|not mounted/);
  });

  it("another set's claim a copy after the menu's backup took over: the create summary says it in Spanish", async () => {
    const s = demoSetup();
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    const nas = join(s.dir, 'nas');
    mkdirSync(join(nas, 'srv1', '.respaldo-claims'), { recursive: true });
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] }),
    );
    // A claim on every id of the next minute, each left by a copy of this server whose process is gone.
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidns = readlinkSync('/proc/self/ns/pid');
    for (let k = 0; k < 60; k++) {
      const id = baseSetId(new Date(Date.now() + k * 1000));
      writeFileSync(
        join(nas, 'srv1', '.respaldo-claims', `${id}.0123456789abcdef`),
        JSON.stringify({ id, startedAt: 'x', host: hostname(), pid: Number(dead), boot, pidns }),
      );
    }
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const facade = createEngineFacade(cfg);
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    const offsite = await facade.offsite(m.id);
    expect(offsite).toMatchObject([{ destination: 'nas', ok: true }]);
    const es = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const text = summaryNotices(m, offsite, null, es, 200)
      .map((r) => r.map((x) => x.text).join(''))
      .join('\n');
    expect(text).toContain(`se toma la reserva ${m.id}.0123456789abcdef de la copia ${m.id} en nas`);
    expect(text.replace(/\s+/g, ' ')).toContain(`(desde ${hostname()}, este servidor; su proceso ya no existe)`);
  });

  it('a take-over says the pending multipart uploads it aborts, in English and in Spanish; none, nothing said', () => {
    const base = { set: 'S1', dest: 'offsite', owner: 'host old-server, pid 4242', claim: 'S1.c', host: 'old-server' };
    const taking = said('warn.claimTakingOver', { ...base, files: 3, uploads: 2 });
    expect(taking.message).toContain(
      'its 3 unfinished file(s) there are removed and its 2 pending multipart upload(s) there aborted',
    );
    expect(say('es', taking.phrase, taking.message)).toContain(
      'se borran sus 3 archivo(s) a medias allí y se anulan sus 2 subida(s) multiparte pendiente(s)',
    );
    for (const id of ['warn.claimTakenOverAsked', 'warn.claimTakenOver', 'warn.claimTakenOverGone'] as const) {
      const took = said(id, { ...base, files: 3, uploads: 1, age: '2 days' });
      expect(took.message).toContain(
        'unfinished file(s) there removed, its 1 pending multipart upload(s) there aborted',
      );
      expect(say('es', took.phrase, took.message)).toContain('y se anularon sus 1 subida(s) multiparte pendiente(s)');
      const none = said(id, { ...base, files: 3, uploads: 0, age: '2 days' });
      expect(none.message).not.toContain('multipart');
      expect(say('es', none.phrase, none.message)).not.toContain('multiparte');
    }
  });

  it('why a differential or incremental stored a full: English on the CLI and in the manifest, Spanish in the menu', async () => {
    const ids = (Object.keys(PHRASES_EN) as PhraseId[]).filter((id) => /^fallback\./.test(id));
    expect(ids.length).toBeGreaterThanOrEqual(20);
    const params = {
      ...{ engine: 'sqlite', type: 'incremental', db: 'users', set: '20261122_020000', at: '2030-01-01' },
      ...{ format: 'sqlite-file', as: 'pages', error: 'EACCES', from: '4096', to: '8192', device: 'D:\\x.bak' },
      ...{ lsn: '42000000001', baseLsn: '41000000001' },
    };
    for (const id of ids) {
      const why = phrase(id, { ...params, problem: 'set x is missing' });
      expectSpanish(why);
      const note = phrase('chain.storedFull', { ...params, problem: english(why), ...nestedPhrase(why) });
      expect(english(note)).toBe(`users: stored as a full, not an incremental: ${english(why)}`);
      expect(expectSpanish(note)).toBe(`users: guardada como completa, no como incremental: ${say('es', why, '')}`);
    }
    // A base whose chain is broken: the chain's problem inside the reason, inside the note, all in Spanish.
    const problem = phrase('chain.missing', { set: '20261121_020000', by: '20261122_020000' });
    const bad = phrase('fallback.badBase', { ...params, problem: english(problem), ...nestedPhrase(problem) });
    const note = phrase('chain.storedFull', { ...params, problem: english(bad), ...nestedPhrase(bad) });
    expect(english(note)).toBe(
      'users: stored as a full, not an incremental: the newest backup of users (20261122_020000) cannot be a base: ' +
        'set 20261121_020000 (needed by 20261122_020000) is missing (pruned or deleted)',
    );
    expect(say('es', note, '')).toBe(
      'users: guardada como completa, no como incremental: la copia más reciente de users (20261122_020000) no puede ' +
        `ser la base: ${say('es', problem, '')}`,
    );
    expect(say('es', note, '')).not.toMatch(/missing|newest/);
    // A real run: its notes carry the phrases; the English is the manifest's, the summary says the Spanish.
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const events = new CollectingReporter();
    const m = await createBackup(cfg, { databases: ['users'], type: 'differential', files: false }, events);
    expect(m.chainNotes).toEqual(['users: stored as a full, not a differential: no full backup of users yet']);
    const progress = events.events.reduce(
      (st, x) => reduceProgress(st, x, 0, (w) => say('es', w.phrase, w.message)),
      emptyProgress,
    );
    const es = uiContext(createEngineFacade(cfg), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const text = summaryNotices(m, [], null, es, 200, progress.items, progress.said)
      .map((r) => r.map((x) => x.text).join(''))
      .join('\n');
    expect(text).toContain(
      'users: guardada como completa, no como diferencial: aún no hay ninguna copia completa de users',
    );
    expect(text).not.toContain('stored as a full');
    // What the driver found only when it came to store the delta (details.chainFallback): a page size changed.
    const db = new Database(s.dbs.users);
    db.exec('PRAGMA journal_mode = DELETE; PRAGMA page_size = 8192; VACUUM;');
    db.close();
    const later = new CollectingReporter();
    const m2 = await createBackup(cfg, { databases: ['users'], type: 'incremental', files: false }, later);
    expect(m2.chainNotes).toEqual([
      `users: stored as a full, not an incremental: the page size changed since set ${m.id} (4096 → 8192 bytes, after a VACUUM)`,
    ]);
    const said2 = later.events.reduce(
      (st, x) => reduceProgress(st, x, 0, (w) => say('es', w.phrase, w.message)),
      emptyProgress,
    ).said;
    expect(summaryNotices(m2, [], null, es, 200, [], said2).map((r) => r.map((x) => x.text).join(''))).toContain(
      `  users: guardada como completa, no como incremental: el tamaño de página cambió desde la copia ${m.id} (4096 → 8192 bytes, tras un VACUUM)`,
    );
  });

  /** The events of a real in-place restore of the demo's users database (it takes a safety copy first). */
  async function restoreEvents() {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const events = new CollectingReporter();
    await executeRestore(cfg, await planRestore(cfg, m.id, { databases: ['users'] }), events);
    return { m, events: events.events };
  }

  /** The restore's running screen in Spanish, fed through useProgress by the reporter returned. */
  function runningScreen() {
    let reporter: Reporter | undefined;
    function Running() {
      const p = useProgress();
      reporter = p.reporter;
      return <RunningStep progress={p.progress} interruptWarned={false} />;
    }
    const ui = renderUi(<Running />, { lang: 'es' });
    return { ui, reporter: reporter! };
  }

  it('notes and warnings while a restore runs: English on the CLI, in Spanish on the running screen', async () => {
    const { m, events } = await restoreEvents();
    const notes = events.flatMap((e) => (e.type === 'info' ? [e] : []));
    const safety = notes.find((e) => e.phrase?.id === 'note.safetyTaking')!;
    expect(safety.message).toBe('Taking a safety copy of users before replacing it');
    expect(expectSpanish(safety.phrase!)).toBe('Haciendo una copia de seguridad de users antes de reemplazarla');

    // Every note and warning of a running restore has its Spanish, its parameters in place.
    const sample = { item: 'inventario', table: 'public.t', what: 'x', id: m.id, name: 'nas', dir: '/b', count: 2 };
    for (const id of Object.keys(PHRASES_EN).filter((k) => k.startsWith('note.')) as PhraseId[])
      expectSpanish(
        phrase(id, {
          ...sample,
          ...{ chain: 1, bytes: 9, free: '1 GB', needed: '2 GB', error: 'e', after: '1 MB', dbs: 'users' },
          ...{ tool: 'pg_restore', jobs: 2, wanted: 4, sql: 'ALTER DATABASE', problems: 'row 3 missing' },
          ...{ file: '/srv/app/users.db', reason: 'file is not a database' },
          ...{ role: '"app"', summary: 'LOGIN, password', set: m.id, dest: 'nas', lacks: 'files' },
          ...{ earlier: 'inventario__pre_restore_1', safety: 'inventario__pre_restore_1__2', code: 'EROFS' },
          ...{ stopped: 'big', rollback: 'To roll back: respaldo restore 1 --db users --yes' },
          ...{ trigger: 'venta_anota', fn: 'public.anota()', tables: 'public.registro', db: 'caja_ventas' },
          ...{ roles: '"cajero"', server: 'db1:5432', at: '2026-12-05 15:27:53' },
          ...{ stored: 40213, storedBytes: '29.8 GB' },
        }),
      );

    // The running screen folds the same events through useProgress: the note and a warning in Spanish.
    const { ui, reporter } = runningScreen();
    reporter.emit(safety);
    const error = 'nas: connection reset'; // the running screen cuts its last warning at the width
    reporter.emit({ type: 'warning', ...said('note.resumed', { error, after: '12 MB' }) });
    reporter.emit({ type: 'info', message: 'a note without a phrase' });
    await new Promise((r) => setImmediate(r));
    const f = ui.lastFrame()!.replace(/\s+/g, ' ');
    expect(f).toContain('Haciendo una copia de seguridad de users antes de reemplazarla');
    expect(f).toContain(`${error}; se retoma ese archivo donde se cortó, tras 12 MB`);
    expect(f).toContain('a note without a phrase');
    expect(f).not.toMatch(/Taking a safety copy|resuming that file/);
  });

  it('the step of a running restore: under its bar in Spanish while it runs, gone once it ended', async () => {
    // The real engine: an in-place SQLite restore takes a safety copy, whose snapshot says its pages as a step.
    const { events } = await restoreEvents();
    const snapshot = events.find((e) => e.type === 'item-progress' && e.phrase?.id === 'step.snapshot')!;
    expect(snapshot).toBeDefined();
    expect((snapshot as { message?: string }).message).toMatch(/^taking a snapshot \(\d+ pages\)$/);

    // Every step has its Spanish, its parameters in place.
    const sample = { db: 'users__restore_x', jobs: 2, tables: 3, live: 'users', staging: 'users__restore_x' };
    for (const id of Object.keys(PHRASES_EN).filter((k) => k.startsWith('step.')) as PhraseId[])
      expectSpanish(phrase(id, { ...sample, safety: 'users__safety_x', total: 20 }));
    expect(english(phrase('step.loading', { tables: 1, jobs: 2 }))).toBe(
      'loading the data (1 large table, 2 sessions each)',
    );

    const { ui, reporter } = runningScreen();
    reporter.emit({ type: 'run-start', operation: 'restore', items: ['users', 'inventario'] });
    reporter.emit({ type: 'item-start', item: 'users', kind: 'database' });
    reporter.emit(snapshot);
    reporter.emit({ type: 'item-start', item: 'inventario', kind: 'database' });
    reporter.emit({ type: 'item-progress', item: 'inventario', bytes: 0, ...said('step.counting') });
    await waitFor(() => ui.lastFrame()!.includes('filas'), 'the steps drawn (at most every 100 ms)');
    let f = ui.lastFrame()!;
    expect(f).toMatch(/users: haciendo una instantánea \(\d+ páginas\)/);
    expect(f).toContain('inventario: comprobando el número de filas');
    expect(f).not.toMatch(/snapshot|checking row counts/);
    reporter.emit({ type: 'item-end', item: 'inventario', ok: true });
    await waitFor(() => /inventario .* OK/.test(ui.lastFrame()!), 'inventario drawn as ended');
    f = ui.lastFrame()!;
    expect(f).not.toContain('comprobando el número de filas');
    expect(f).toMatch(/users: haciendo una instantánea/);
    // The safety copy's snapshot was a phase of its own: once the restore of users starts, its step is over.
    reporter.emit({ type: 'item-start', item: 'users', kind: 'restore' });
    reporter.emit({ type: 'item-progress', item: 'users', bytes: 4096 });
    await waitFor(() => !ui.lastFrame()!.includes('instantánea'), 'the snapshot step gone once users restores');
    expect(ui.lastFrame()!).toMatch(/users .* EN CURSO/);
  });
});

/** Parameters enough for every phrase of the warnings and of recovery (names, paths and errors shown as they are). */
const SAMPLE = {
  ...{ role: '"app"', member: '"web"', missing: '"web"', problem: 'SYSID', owner: 'app', setting: 'bad key=1' },
  ...{ privilege: 'CONNECT', grantee: 'ghost', count: 2, db: 'inventario', sessions: 'pid 42 (app)', error: 'boom' },
  ...{ live: 'inventario', safeties: '"inventario__pre_restore_S1"', sql: 'ALTER DATABASE [x] SET MULTI_USER' },
  ...{ failed: 'TRUSTWORTHY ON (denied; run: ALTER …)', diffs: 'dbo.t: 3 → 4', more: 0, written: '', temp: 'inv_t' },
  ...{ access: 'SINGLE_USER', certificate: '', kind: 'log', path: '/srv/app/x', dir: '/b', free: '1 GB', type: 'full' },
  ...{ set: '20261122_020000', needed: '2 GB', stored: '1 GB', dest: 'nas', target: '/b/.tmp-drill-1/x.db' },
  ...{ dbs: 'users', file: '/b/.swap-back-1.json', name: 'inv__drill_S1', server: 'db2:5432', from: 'inv__pre' },
  ...{ kept: 'users__pre_restore_S1', names: '"users__pre_restore_S2"', incoming: 'inv_k', replaced: '', safety: 's' },
  ...{
    original: '/srv/app/users.db-wal',
    untouched: '',
    item: 'inventario',
    summary: 'LOGIN',
    attempts: 3,
    base: '20261121_020000',
    claim: '20261122_020000.0123456789abcdef',
    host: 'erp-other',
    age: '25 h',
    files: 2,
  },
};
/** The families of phrases warnings and recovery are said in (the restore plan's are tested above). */
const WARNING_FAMILIES =
  /^(role|prop|warn|file|recover)\.|^pg\.(terminated|noSnapshot|globals|noLive)|^mssql\.[a-z]+(Failed|Unread|NotBack|After|Differ|Dropped|SingleUser|tde|Compression|Kept|Broken|Left)/;

describe('warnings and what recovery did, in the menu’s language', () => {
  it('every phrase of warnings and recovery has its Spanish, its parameters in place', () => {
    const ids = (Object.keys(PHRASES_EN) as PhraseId[]).filter((id) => WARNING_FAMILIES.test(id) || id === 'mssql.tde');
    expect(ids.length).toBeGreaterThan(60);
    for (const id of ids) {
      if (id === 'recover.finished') continue; // wraps another phrase: below
      if (id === 'file.error') {
        // `path: error`: both the system's words, the same in every language.
        expect(say('es', phrase(id, SAMPLE), '')).toBe('/srv/app/x: boom');
        continue;
      }
      expectSpanish(phrase(id, SAMPLE));
    }
  });

  it.each<[Phrase, string, string]>([
    [
      phrase('pg.countsDiffer', {
        db: 'ledger',
        diffs: JSON.stringify([
          { table: 'public.entries', expected: 999, actual: 1000 },
          { table: 'public.gone', expected: 2, actual: null },
        ]),
      }),
      'Database ledger: the restored copy does not match the backup (public.entries: 1000 rows, expected 999; public.gone: missing (expected 2 rows)).',
      'Base ledger: la copia restaurada no coincide con la copia de seguridad (public.entries: 1000 filas, se esperaban 999; public.gone: falta (se esperaban 2 filas)).',
    ],
    [
      phrase('pg.countsDifferHint'),
      'Nothing was replaced. Verify the set (respaldo verify): if its files pass, the row counts recorded in its manifest.json were changed since the backup, or the dump did not hold them; try an older set.',
      'No se ha sustituido nada. Verifique la copia (respaldo verify): si sus archivos pasan, las filas por tabla que registra su manifest.json se cambiaron después de la copia, o el volcado no las tenía; pruebe con una copia anterior.',
    ],
    [
      phrase('role.membershipBothMissing', { member: '"web"', role: '"reader"' }),
      'membership of "web" in "reader" not granted: roles "reader" and "web" do not exist on the server and are not being created',
      'no se concede la pertenencia de "web" a "reader": los roles "reader" y "web" no existen en el servidor y no se van a crear',
    ],
    [
      phrase('prop.grantee', { privilege: 'CONNECT', grantee: 'ghost' }),
      'database property not restored: CONNECT for ghost (role does not exist)',
      'propiedad de la base no restaurada: CONNECT para ghost (el rol no existe)',
    ],
    [
      phrase('pg.terminated', { count: 2, db: 'inventario', sessions: 'pid 7 (app), pid 9 (psql)' }),
      'terminated 2 session(s) on "inventario": pid 7 (app), pid 9 (psql)',
      'se cerraron 2 sesión(es) conectadas a "inventario": pid 7 (app), pid 9 (psql)',
    ],
    [
      phrase('mssql.countsDiffer', { live: 'inv', diffs: 'dbo.t: 3 → 4', more: 2, written: 'yes' }),
      "Row counts of inv differ from the manifest's estimates (the database was written during the backup): dbo.t: 3 → 4; … 2 more",
      'Las filas de inv no coinciden con las estimaciones del manifiesto (la base se modificó durante la copia): dbo.t: 3 → 4; … 2 más',
    ],
    [
      phrase('mssql.chainBroken', { kind: 'differential', db: 'inv', path: '/b/x.bak', problem: 'LSN gap' }),
      'the differential backup of inv (/b/x.bak) does not continue the chain and was not kept: LSN gap. Backing up a full instead.',
      'la copia diferencial de inv (/b/x.bak) no continúa la cadena y no se guardó: LSN gap. Se hace una copia completa en su lugar.',
    ],
    [
      phrase('warn.stillLists', { set: 'S1', dbs: 'users, inventario', count: 2, error: 'EACCES' }),
      'set S1 still lists users, inventario, which are live again: EACCES; the next create or restore retries',
      // the system's code in it said in the menu's words (system-errors.ts)
      'la copia S1 aún incluye users, inventario, que vuelven a estar en uso: permiso denegado; la próxima copia o restauración lo reintenta',
    ],
    [
      phrase('recover.mssqlRestoreUndone', { temp: 'inv_t', untouched: 'inv' }),
      'rolled back an interrupted restore: dropped the temporary database inv_t (inv was not touched)',
      'se deshizo una restauración interrumpida: borrada la base temporal inv_t (inv no se tocó)',
    ],
    [
      phrase('recover.mssqlRestoreUndone', { temp: 'inv_t', untouched: '' }),
      'rolled back an interrupted restore: dropped the temporary database inv_t',
      'se deshizo una restauración interrumpida: borrada la base temporal inv_t',
    ],
    [
      sayingWithin('recover.finished', phrase('recover.sqliteUnfinished', { file: '/srv/.u.db.tmp' })).phrase,
      'finished an interrupted restore: removed an unfinished restore file /srv/.u.db.tmp',
      'se terminó una restauración interrumpida: borrado un archivo de restauración sin terminar /srv/.u.db.tmp',
    ],
  ])('%#: %j in English and Spanish', (p, en, es) => {
    expect(english(p)).toBe(en);
    expect(say('es', p, english(p))).toBe(es);
  });

  it('the PostgreSQL planners give their notes as phrases, said in Spanish', () => {
    const roles = planMissingRoles(
      {
        roles: [{ name: 'pg_x', attributes: null, settings: [], comment: null }],
        memberships: [],
        tablespaces: [],
        unrecognized: [],
      },
      new Set(),
      { only: ['pg_x', 'ghost'] },
    );
    expect(roles.skipped.map((p) => say('es', p, english(p)))).toEqual([
      'rol "ghost" no creado: no está en la copia',
      'rol "pg_x" no creado: los nombres que empiezan por pg_ están reservados a los roles predefinidos de PostgreSQL',
    ]);
    const props = databasePropertiesSql(
      't',
      { owner: 'ghost', acl: [{ grantee: null, privilege: 'x', grantable: false }] },
      new Set(),
    );
    expect(props.skipped.map((p) => say('es', p, english(p)))).toEqual([
      'propiedad de la base no restaurada: propietario ghost (el rol no existe)',
      'propiedad de la base no restaurada: privilegio x',
    ]);
  });

  /**
   * A backup and a restore on the worst day: a restore was killed and left a file beside users.db, the off-site
   * folder is not mounted, and the files hold a missing one, a FIFO and a damaged SQLite file.
   */
  async function worstDay() {
    const s = demoSetup({
      destinations: [{ name: 'nas', type: 'folder', path: '/nonexistent-respaldo-nas', source: 'srv1' }],
      files: {
        config: ['./data/app/.env', './data/app/gone.conf'],
        application: [{ path: './data/app', include: ['**'], exclude: ['.env', '*.log', 'tmp/**'] }],
      },
    });
    const users = readFileSync(s.dbs.users);
    writeFileSync(join(s.appDir, 'cache.db'), Buffer.concat([users.subarray(0, 16), Buffer.alloc(4080, 0xee)]));
    execFileSync('mkfifo', [join(s.appDir, 'pipe')]);
    const leftover = () => writeFileSync(join(s.dataDir, '.users.db.respaldo-restore-20261122_101010.tmp'), 'half');
    leftover();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const events = new CollectingReporter();
    const m = await createBackup(cfg, { databases: ['users'], files: true }, events);
    leftover();
    const plan = await planRestore(cfg, m.id, { databases: ['users'] });
    const outcome = await executeRestore(cfg, plan, events);
    return { s, m, plan, outcome, events: events.events };
  }

  it('a backup and a restore after a crash: every warning carries its phrase, and the menu says them in Spanish', async () => {
    const { s, plan, outcome, events } = await worstDay();
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e] : []));
    const ids = warnings.map((w) => w.phrase?.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'recover.finished',
        'file.notFound',
        'file.notRegular',
        'file.sqliteCopied',
        'warn.notCopied',
      ]),
    );
    for (const w of warnings) {
      expect(w.phrase, w.message).toBeDefined();
      expect(w.message).toBe(english(w.phrase!)); // the CLI and the logs keep the English, byte for byte
    }
    const unfinished = join(s.dataDir, '.users.db.respaldo-restore-20261122_101010.tmp');
    expect(warnings.map((w) => w.message)).toContain(
      `finished an interrupted restore: removed an unfinished restore file ${unfinished}`,
    );
    expect(warnings.map((w) => w.message)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${join(s.appDir, 'cache.db')}: SQLite database that could not be opened to take a consistent copy`,
        ),
      ),
    );

    // The running screen folds the same events (useProgress): each warning in Spanish.
    let reporter: Reporter | undefined;
    function Warnings() {
      const p = useProgress();
      reporter = p.reporter;
      return <Text>{p.progress.warnings.join('\n')}</Text>;
    }
    const ui = renderUi(<Warnings />, { lang: 'es' });
    warnings.forEach((w) => reporter!.emit(w));
    await new Promise((r) => setImmediate(r));
    const f = ui.lastFrame()!.replace(/\s+/g, ' ');
    expect(f).toContain('se terminó una restauración interrumpida: borrado un archivo de restauración sin terminar');
    expect(f).toContain('base SQLite que no se pudo abrir para tomar una copia coherente');
    expect(f).toContain('gone.conf: no se encuentra');
    expect(f).toContain('no es un archivo normal, se omite');
    expect(f).toMatch(/NO se envió a nas/);
    expect(f).not.toMatch(/finished an interrupted|could not be opened|not found|not a regular file|NOT copied/);

    // What recovery did before the restore: English in the outcome (CLI, JSON), Spanish on the outcome screen.
    expect(outcome.recovered).toEqual([`removed an unfinished restore file ${unfinished}`]);
    expect(outcome.recoveredPhrases!.map(english)).toEqual(outcome.recovered);
    const es = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const rows = outcomeRows(outcome, plan, es, 400).map((r) => r.map((g) => g.text).join(''));
    expect(rows.join('\n')).toContain(`borrado un archivo de restauración sin terminar ${unfinished}`);
    expect(rows.join('\n')).not.toContain('removed an unfinished');
  });

  it('what a drill cleaned up first is said in Spanish on its outcome', () => {
    const es = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const found = said('recover.droppedDrill', { name: 'inv__drill_S1' });
    const outcome = {
      setId: 'S1',
      ok: true,
      results: [],
      recovered: [found.message],
      recoveredPhrases: [found.phrase],
      recorded: true,
    };
    const rows = drillOutcomeRows(outcome, es, 200).map((r) => r.map((g) => g.text).join(''));
    expect(rows.join('\n')).toContain(
      'Limpiado antes: borrada "inv__drill_S1" (la base temporal de un simulacro de restauración interrumpido)',
    );
  });

  it.each([
    ['database "inventario" on 127.0.0.1:56432 as postgres', 'base "inventario" en 127.0.0.1:56432 como postgres'],
    ['new database "inv copy" on db1:5432', 'base nueva "inv copy" en db1:5432'],
    ['database "say ""on"" as x" on socket /run/pg as app', 'base "say ""on"" as x" en socket /run/pg como app'],
    ['database "inv" on sql1\\prod', 'base "inv" en sql1\\prod'],
    ['/srv/app/users.db', '/srv/app/users.db'],
  ])('the target %s in Spanish: %s (the names as they are)', (target, es) => {
    expect(sayTarget('es', target)).toBe(es);
    expect(sayTarget('en', target)).toBe(target);
  });

  it("a drill's files are 'archivos' on its Spanish outcome, a database keeps its name", () => {
    const es = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const result = (database: string, engine: string | null) => ({
      database,
      engine,
      ok: true,
      at: '2026-12-03T03:00:00Z',
      durationMs: 80,
      scratch: '/x',
      checks: [],
    });
    const outcome = {
      setId: 'S1',
      ok: true,
      results: [result('users', 'sqlite'), result('files', null)],
      recovered: [],
      recorded: true,
    };
    const rows = drillOutcomeRows(outcome, es, 200).map((r) => r.map((g) => g.text).join(''));
    expect(rows).toContain('users: CORRECTO en 80 ms');
    expect(rows).toContain('archivos: CORRECTO en 80 ms');
    expect(rows.join('\n')).toContain('Registrado junto a la copia (drilled.json)');
    // A drilled.json that could not be written (a full backup disk) is not said recorded.
    const unrecorded = drillOutcomeRows({ ...outcome, recorded: false }, es, 200).map((r) =>
      r.map((g) => g.text).join(''),
    );
    expect(unrecorded.join('\n')).not.toContain('Registrado junto a la copia');
    expect(unrecorded.join('\n')).toContain('No registrado: no se pudo escribir drilled.json junto a la copia');
  });

  it('no warning in src is emitted without its phrase (a guard beside the tests above)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    const bare: string[] = [];
    for (const file of files('src')) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!/type: (ok \? 'info' : )?'warning'/.test(line) || file.endsWith('events.ts')) return;
        // The event with the lines after it (an emit spread over a few lines) must spread a phrase in.
        const event = lines.slice(i, i + 5).join(' ');
        if (/\.\.\.(said|saidOf|sayingWithin)\(|\.\.\.[a-zA-Z]+ ?}|\.\.\.[a-zA-Z]+,/.test(event)) return;
        bare.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    // src/cli/context.ts writes config warnings to stderr itself (the CLI's, before any menu): not an engine event.
    expect(bare.filter((b) => !b.startsWith('src/cli/context.ts:'))).toEqual([]);
  });
});

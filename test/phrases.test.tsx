/**
 * The restore plan reaches the menu as phrases (ids with parameters) so a Spanish operator reads
 * the steps, the safety copy, how to roll back, refusals and warnings in Spanish before typing the
 * confirmation word; the CLI keeps the English text, which must be exactly the phrases' English.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { english, PHRASES_EN, type Phrase } from '../src/core/phrases.js';
import type { DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import type { RestoreStepPlan } from '../src/drivers/driver.js';
import { planPgRestore } from '../src/drivers/postgres/plan.js';
import { driverFor } from '../src/drivers/registry.js';
import { loadConfig } from '../src/config/load.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore, safetyOf } from '../src/engine/restore.js';
import { LockHeldError, RespaldoError, VerifyError } from '../src/core/errors.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentReporter } from '../src/core/events.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';
import { say } from '../src/ui/i18n/index.js';
import { PlanView } from '../src/ui/screens/RestoreScreen.js';
import { waitFor } from './helpers/fake-clock.js';
import { demoSetup } from './helpers/tmp.js';
import { renderUi } from './ui-fake-facade.js';
import { CollectingReporter, type Reporter } from '../src/core/events.js';
import { phrase, said, type PhraseId } from '../src/core/phrases.js';
import { useProgress } from '../src/ui/use-progress.js';
import { RunningStep } from '../src/ui/screens/restore/RunSteps.js';

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
    const lock = new LockHeldError(
      '/srv/backups/.respaldo.lock',
      'scheduler, pid 42 on db1 since 2026-11-22T02:00:00.000Z',
      { purpose: 'scheduler', pid: 42, host: 'db1', startedAt: '2026-11-22T02:00:00.000Z' },
    );
    expect(lock.message).toBe(english(lock.phrases!.message));
    const f = renderUi(<ErrorBox error={lock} />, { lang: 'es' })
      .lastFrame()!
      .replace(/[\s│╭╮╰╯─]+/g, ' ');
    expect(f).toContain(
      'Otro proceso de respaldo está trabajando en esta carpeta de copias (scheduler, pid 42 en db1 desde 2026-11-22T02:00:00.000Z).',
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
    expect((err as VerifyError).message).toBe(english((err as VerifyError).phrases!.message));
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

/**
 * The create screen's backup types (full, schema, differential, incremental) and the fallback to a
 * full with its reason, before the backup (from the engine's plan) and in the summary (from the
 * manifest); English and Spanish, drawn at 80×24 against the in-memory facade.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { ConfigureScheduleScreen } from '../src/ui/screens/ConfigureScheduleScreen.js';
import { CreateScreen } from '../src/ui/screens/CreateScreen.js';
import { parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import type { Manifest } from '../src/core/types.js';
import { formatBytes } from '../src/core/format.js';
import { cleanupSized, FakeFacade, frameProblems, KEY, press, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanupSized();
  cleanup();
});

const noop = (): void => undefined;
const fits = (frame: string): void => expect(frameProblems(frame), frame).toEqual([]);
const REASON = 'no full backup of auditoria yet';

describe.each(['en', 'es'] as const)('create: backup types and chains (%s)', (lang) => {
  const s =
    lang === 'en'
      ? {
          start: 'Start backup',
          diff: 'differential (changes since the last full)',
          incr: 'incremental (changes since the last backup)',
          schema: 'schema only',
          fell: 'Stored as a full instead:',
          done: 'Backup finished',
        }
      : {
          start: 'Empezar la copia',
          diff: 'diferencial (cambios desde la última completa)',
          incr: 'incremental (cambios desde la última copia)',
          schema: 'solo esquema',
          fell: 'Guardada como completa:',
          done: 'Copia terminada',
        };

  it('→ cycles full, schema, differential, incremental; a database without a base shows the fallback and why', async () => {
    const facade = new FakeFacade();
    facade.chainFallbacks = { auditoria: REASON };
    const { lastFrame, stdin } = renderSized(<CreateScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(s.start) || x.includes('['));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down); // the type row
    await press(stdin, KEY.right);
    await waitFrame(lastFrame, (x) => x.includes(s.schema));
    await press(stdin, KEY.right);
    const diff = await waitFrame(lastFrame, (x) => x.includes(s.diff) && x.includes(s.fell));
    fits(diff);
    expect(diff).toContain(`auditoria: ${REASON}`);
    expect(diff).not.toContain('users: ');
    await press(stdin, KEY.right);
    fits(await waitFrame(lastFrame, (x) => x.includes(s.incr) && x.includes(`auditoria: ${REASON}`)));
    // auditoria unticked: nothing falls back, the note goes.
    await press(stdin, KEY.up, KEY.up, KEY.space);
    await waitFrame(lastFrame, (x) => x.includes(s.incr) && !x.includes(s.fell));
    await press(stdin, KEY.space);
    await waitFrame(lastFrame, (x) => x.includes(s.fell));
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes(s.done));
    fits(done);
    expect(done).toContain(s.fell);
    expect(done.replace(/\s+/g, ' ')).toContain(`auditoria: stored as a full, not an incremental: ${REASON}`);
    const req = facade.calls.find((c) => c.method === 'createBackup')!.args[0];
    expect(req).toMatchObject({ type: 'incremental', databases: ['users', 'inventario', 'auditoria'] });
  });

  it('full and schema ask no chain preview', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderSized(<CreateScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(s.start));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down, KEY.right);
    await waitFrame(lastFrame, (x) => x.includes(s.schema));
    expect(facade.calls.filter((c) => c.method === 'planBackupTypes')).toEqual([]);
  });
});

describe('create in Spanish against the real engine', () => {
  const flat = (frame: string): string => frame.replace(/\s+/g, ' ');

  it('an incremental with no full yet: why each database is a full is said in Spanish, before and after; the manifest keeps the English', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const facade = createEngineFacade(cfg);
    const { lastFrame, stdin } = renderSized(<CreateScreen onBack={noop} />, { facade, lang: 'es' });
    await waitFrame(lastFrame, (x) => x.includes('Empezar la copia'));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down); // the type row
    await press(stdin, KEY.right, KEY.right, KEY.right); // schema, differential, incremental
    const form = await waitFrame(
      lastFrame,
      (x) => x.includes('incremental (cambios desde la última copia)') && x.includes('Guardada como completa:'),
    );
    fits(form);
    expect(flat(form)).toContain('users: aún no hay ninguna copia completa de users');
    expect(flat(form)).toContain('inventario: aún no hay ninguna copia completa de inventario');
    expect(form).not.toContain('no full backup');
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes('Copia terminada'), 20_000);
    fits(done);
    expect(flat(done)).toContain(
      'users: guardada como completa, no como incremental: aún no hay ninguna copia completa de users',
    );
    expect(done).not.toContain('stored as a full');
    expect(done).not.toContain('no full backup');
    // The manifest (and so `list` and the CLI) keeps the English notes, as older sets have them.
    const [id, ...more] = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
    expect(more).toEqual([]);
    expect((await facade.readManifest(id!)).chainNotes).toEqual(
      ['users', 'inventario', 'auditoria'].map(
        (db) => `${db}: stored as a full, not an incremental: no full backup of ${db} yet`,
      ),
    );
  });
});

describe('an incremental whose newest base lost its page map, in the menu', () => {
  const flat = (frame: string): string => frame.replace(/\s+/g, ' ');

  it('says before and after, in Spanish, that users is a differential on its full and why; the others incrementals', async () => {
    const s = demoSetup();
    const made = async (type: string) =>
      parseJsonOutput<Manifest>(
        (await runCli(['create', '--type', type, '--no-files', '--json', '--config', s.configFile])).stdout,
      );
    const full = await made('full');
    const inc = await made('incremental');
    const map = inc.databases.find((d) => d.name === 'users')!.extras!.find((x) => x.role === 'pagemap')!.file;
    rmSync(join(s.backupDir, inc.id, map));
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile, env: {} }));
    const { lastFrame, stdin } = renderSized(<CreateScreen onBack={noop} />, { facade, lang: 'es' });
    await waitFrame(lastFrame, (x) => x.includes('Empezar la copia'));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down); // the type row
    await press(stdin, KEY.right, KEY.right, KEY.right); // schema, differential, incremental
    const heading = 'Guardada como diferencial sobre la completa:';
    const form = await waitFrame(lastFrame, (x) => x.includes('incremental (cambios') && x.includes(heading));
    fits(form);
    expect(flat(form)).toContain(`users: la copia más reciente de users (${inc.id}) no puede ser la base: falta`);
    expect(form).not.toContain('Guardada como completa:');
    expect(form).not.toContain('inventario:');
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes('Copia terminada'), 20_000);
    fits(done);
    expect(done).toContain(heading);
    expect(flat(done)).toContain(`users: guardada como diferencial sobre la completa ${full.id}, no como incremental:`);
    expect(done).not.toContain('Guardada como completa:');
    const [id] = readdirSync(s.backupDir)
      .filter((n) => /^\d{8}_\d{6}/.test(n))
      .sort()
      .reverse();
    const m = await facade.readManifest(id!);
    expect(m.type).toBe('incremental'); // inventario and auditoria apply on the incremental
    expect(m.databases.map((d) => [d.name, d.base])).toEqual([
      ['users', full.id],
      ['inventario', inc.id],
      ['auditoria', inc.id],
    ]);
  });
});

describe("an incremental's sizes", () => {
  /** What a database entry holds before compression, as its stored size counts it: its file and its page map. */
  const raw = (d: Manifest['databases'][number]): number =>
    d.rawBytes + (d.extras ?? []).reduce((n, x) => n + x.rawBytes, 0);

  it("the Spanish summary of the menu and the CLI: the original size counts the databases' page maps too", async () => {
    const s = demoSetup();
    const made = async (type: string, json = true) =>
      runCli(['create', '--type', type, ...(json ? ['--json'] : []), '--config', s.configFile]);
    parseJsonOutput<Manifest>((await made('full')).stdout);
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile, env: {} }));
    const { lastFrame, stdin } = renderSized(<CreateScreen onBack={noop} />, { facade, lang: 'es' });
    await waitFrame(lastFrame, (x) => x.includes('Empezar la copia'));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down); // the type row
    await press(stdin, KEY.right, KEY.right, KEY.right); // schema, differential, incremental
    await waitFrame(lastFrame, (x) => x.includes('incremental (cambios desde la última copia)'));
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes('Copia terminada'), 20_000);
    fits(done);
    const [id] = readdirSync(s.backupDir)
      .filter((n) => /^\d{8}_\d{6}/.test(n))
      .sort()
      .reverse();
    const m = await facade.readManifest(id!);
    expect(m.type).toBe('incremental');
    const files = m.files.reduce((n, f) => n + f.size, 0);
    const dbs = m.databases.reduce((n, d) => n + raw(d), 0);
    // a few changed pages and a page map of every page: the page maps are most of what the set stores
    expect(dbs).toBeGreaterThan(m.databases.reduce((n, d) => n + d.rawBytes, 0) * 10);
    expect(m.totals.rawBytes).toBe(dbs + files);
    expect(done).toMatch(
      new RegExp(
        `Tamaño guardado\\s+${formatBytes(m.totals.storedBytes)} \\(tamaño original ${formatBytes(dbs + files)}\\)`,
      ),
    );
    // The CLI's table: RAW counts what STORED counts.
    const cli = await made('incremental', false);
    const line = cli.stdout.split('\n').find((l) => l.startsWith('users '))!;
    const next = parseJsonOutput<Manifest>(
      (await runCli(['show', 'latest', '--json', '--config', s.configFile])).stdout,
    );
    const users = next.databases.find((d) => d.name === 'users')!;
    expect(line.split(/\s{2,}/).slice(3, 5)).toEqual([
      formatBytes(raw(users)),
      formatBytes(users.storedBytes + users.extras!.reduce((n, x) => n + x.storedBytes, 0)),
    ]);
  });
});

describe('automatic backup jobs of every chain type', () => {
  it('a job type cycles full, schema, differential, incremental, verify; an incremental job is saved', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderSized(<ConfigureScheduleScreen onBack={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Next 5 runs'));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down, KEY.right, KEY.right);
    fits(await waitFrame(lastFrame, (x) => x.includes('‹ differential ›')));
    await press(stdin, KEY.right);
    await waitFrame(lastFrame, (x) => x.includes('‹ incremental ›'));
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => /daily\s+daily at 02:00\s+incremental/.test(x)));
    await press(stdin, 's');
    await waitFrame(lastFrame, (x) => x.includes('Saved to the config file.'));
    expect(facade.saved!.jobs[0]).toMatchObject({ name: 'daily', type: 'incremental' });
  });

  it('a drill job keeps its type when edited (it was not among the choices: → made it a full, for good)', async () => {
    const facade = new FakeFacade();
    facade.cfg.schedule = [{ name: 'drill', when: 'daily at 05:00', type: 'drill', databases: ['*'], files: false }];
    const { lastFrame, stdin } = renderSized(<ConfigureScheduleScreen onBack={noop} />, { facade, lang: 'es' });
    fits(await waitFrame(lastFrame, (x) => /drill\s+daily at 05:00\s+simulacro/.test(x)));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Tarea: drill'));
    await press(stdin, KEY.down, KEY.down, KEY.down, KEY.down);
    await waitFrame(lastFrame, (x) => x.includes('‹ simulacro ›'));
    await press(stdin, KEY.right);
    await waitFrame(lastFrame, (x) => x.includes('‹ completa ›'));
    await press(stdin, KEY.left);
    await waitFrame(lastFrame, (x) => x.includes('‹ simulacro ›'));
    await press(stdin, KEY.enter);
    await press(stdin, 's');
    await waitFrame(lastFrame, (x) => x.includes('Guardado'));
    expect(facade.saved!.jobs[0]).toMatchObject({ name: 'drill', type: 'drill' });
  });
});

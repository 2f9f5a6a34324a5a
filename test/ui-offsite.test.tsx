/**
 * The menu shows where sets are off-site: a warning in the header when the newest set is not copied
 * to every destination, a `!` in the set list, the destinations in a set's details, and the copy
 * failure at the end of a backup. Every screen fits 80×24, in English and in Spanish.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { silentReporter } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { Menu } from '../src/ui/Menu.js';
import { cleanupSized, FakeFacade, frameProblems, KEY, press, renderSized, waitFrame } from './ui-fake-facade.js';

let dir: string | undefined;
afterEach(() => {
  cleanup();
  cleanupSized();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function expectFits(frame: string): void {
  if (process.env.SHOW_FRAMES) console.log(frame);
  expect(frameProblems(frame), frame).toEqual([]);
}

const ERROR =
  'destination "offsite": uploading srv1/x: s3://offsite at http://127.0.0.1:9 is unreachable or failing (ECONNREFUSED)';

function facadeWithMarks(): FakeFacade {
  const f = new FakeFacade();
  const [newest, older] = f.manifests;
  f.offsiteMarks[newest!.id] = [
    { destination: 'nas', ok: true, error: null },
    { destination: 'offsite', ok: false, error: ERROR },
  ];
  f.offsiteMarks[older!.id] = [
    { destination: 'nas', ok: true, error: null },
    { destination: 'offsite', ok: true, error: null },
  ];
  return f;
}

const WORDS = {
  en: {
    sets: '3 sets',
    header: 'WARNING: the newest set is not copied off-site to offsite (respaldo copy)',
    legend: '! = not copied off-site',
    here: 'Off-site     here · nas: ok',
    missing: 'offsite: NOT copied: destination "offsite"',
    created: 'NOT copied to offsite: destination "offsite"',
    hint: 'Safe here; `respaldo copy` (or the next backup) sends it again.',
  },
  es: {
    sets: '3 copias',
    header: 'AVISO: la copia más reciente no se envió a offsite (respaldo copy)',
    legend: '! = no copiada fuera del servidor',
    here: 'Fuera        aquí · nas: ok',
    missing: 'offsite: NO copiada: destination "offsite"',
    created: 'NO copiada a offsite: destination "offsite"',
    hint: 'A salvo aquí; `respaldo copy` o la próxima copia la reenvía.',
  },
};

describe.each(['en', 'es'] as const)('off-site in the menu at 80×24 (%s)', (lang) => {
  const w = WORDS[lang];

  it('header warning, the ! in the list with its legend, the destinations in the details', async () => {
    const facade = facadeWithMarks();
    const { lastFrame, stdin } = renderSized(<Menu />, { facade, lang });
    const home = await waitFrame(lastFrame, (x) => x.includes(w.sets) && x.includes(w.header));
    expectFits(home);
    await press(stdin, '3');
    const list = await waitFrame(lastFrame, (x) => x.includes('20261122_100000!'));
    expectFits(list);
    expect(list).toContain(w.legend);
    expect(list).toMatch(/20261121_100000 /); // copied everywhere: no mark
    await press(stdin, KEY.enter);
    const details = await waitFrame(lastFrame, (x) => x.includes(w.here));
    expectFits(details);
    expect(details).toContain(w.missing);
  });

  it('create reports the copy that failed, with what to do', async () => {
    const facade = new FakeFacade();
    facade.createCopies = [{ destination: 'offsite', ok: false, error: ERROR }];
    const { lastFrame, stdin } = renderSized(<Menu />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(w.sets));
    expect(lastFrame()).not.toContain(w.header);
    await press(stdin, '1');
    await waitFrame(lastFrame, (x) => x.includes('[x] users'));
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes(w.created));
    expectFits(done);
    expect(done).toContain(w.hint);
    await press(stdin, KEY.esc);
    expectFits(await waitFrame(lastFrame, (x) => x.includes(w.header)));
  });
});

describe('off-site marks from the real engine', () => {
  it('a destination that is not mounted: the facade says so for the set, the header and the list', async () => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-ui-offsite-'));
    const db = new Database(join(dir, 'users.db'));
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, v TEXT)');
    db.close();
    const file = join(dir, 'backup_config.json');
    writeFileSync(
      file,
      JSON.stringify({
        backupDir: 'backups',
        databases: [{ name: 'users', engine: 'sqlite', path: 'users.db' }],
        destinations: [{ name: 'nas', type: 'folder', path: 'nas', source: 'srv1' }],
      }),
    );
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    const marks = await facade.offsite(m.id);
    expect(marks).toMatchObject([{ destination: 'nas', ok: false }]);
    expect(marks[0]!.error).toContain('does not exist (not mounted?)');
    expect((await facade.status()).notOffsite).toEqual(['nas']);
    expect((await facade.listSets())[0]).toMatchObject({ id: m.id, notCopiedTo: ['nas'] });
  });
});

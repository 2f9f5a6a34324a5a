/**
 * `v` in the menu (a set's details, and the list) on an incremental whose base set was deleted by hand: its own files
 * match, yet nothing restores it. The menu says chain BROKEN and names the missing set, as `respaldo verify ID` does;
 * English and Spanish at 80×24, against the real engine facade and a real backup folder. Restore opened on it (`r`)
 * says BROKEN too, and its plan refuses it before anything runs.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { createEngineFacade, type EngineFacade } from '../src/ui/engine-facade.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { ListScreen } from '../src/ui/screens/ListScreen.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { refusalRows } from '../src/ui/screens/restore-rows.js';
import { createTheme } from '../src/ui/theme.js';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import { execSql } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';
import { KEY, cleanupSized, frameProblems, press, renderSized, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanupSized();
  cleanup();
});

const noop = (): void => undefined;
const fits = (frame: string): void => expect(frameProblems(frame), frame).toEqual([]);
const flat = (frame: string): string => frame.replace(/[│|]/g, ' ').replace(/\s+/g, ' ');

/** full → incremental → incremental of users, then the middle set deleted by hand. */
async function brokenChain(): Promise<{ facade: EngineFacade; full: Manifest; middle: Manifest; last: Manifest }> {
  const s = demoSetup();
  const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
  const create = (type: 'full' | 'incremental') =>
    facade.createBackup({ databases: ['users'], type, files: false }, silentReporter);
  const full = await create('full');
  execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
  const middle = await create('incremental');
  execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');
  const last = await create('incremental');
  expect([full.status, middle.status, last.status]).toEqual(['completed', 'completed', 'completed']);
  expect(last.databases[0]!.base).toBe(middle.id);
  rmSync(join(s.backupDir, middle.id), { recursive: true, force: true });
  return { facade, full, middle, last };
}

const TEXT = {
  en: {
    help: 'v verify',
    broken: 'Chain BROKEN',
    chain: 'BROKEN: set',
    ok: 'Verify OK',
    status: 'BROKEN',
    missing: (set: string, by: string) => `BROKEN: set ${set} (needed by ${by}) is missing (pruned or deleted)`,
  },
  es: {
    help: 'v verificar',
    broken: 'Cadena ROTA',
    chain: 'ROTA: falta',
    ok: 'Verificación OK',
    status: 'ROTA',
    // what is missing is said in Spanish too, not only the word around it
    missing: (set: string, by: string) => `ROTA: falta la copia ${set} (la necesita ${by}) (podada o borrada)`,
  },
} as const;

describe.each(['en', 'es'] as const)('verify in the menu, base deleted by hand (%s)', (lang) => {
  const s = TEXT[lang];

  it('details: status BROKEN; v: chain BROKEN, naming the missing set and verify --chain, not OK', async () => {
    const { facade, middle, last } = await brokenChain();
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={last.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade, lang },
    );
    // Before any verify: the status and the chain say it, from what the list found
    const opened = await waitFrame(lastFrame, (x) => x.includes(s.help) && x.includes(s.chain));
    fits(opened);
    expect(flat(opened)).toContain(s.missing(middle.id, last.id));
    expect(flat(opened)).toMatch(new RegExp(`(Status|Estado) ${s.status} `));
    await press(stdin, 'v');
    const done = await waitFrame(lastFrame, (x) => x.includes(s.broken));
    fits(done);
    expect(done).not.toContain(s.ok);
    const text = flat(done);
    expect(text).toContain(s.missing(middle.id, last.id));
    if (lang === 'es') expect(text).not.toMatch(/needed by|is missing|pruned or deleted/);
    expect(text).toContain(`respaldo verify --chain ${last.id}`);
  });

  it('list: its status is BROKEN; v on that set: chain BROKEN, not OK', async () => {
    const { facade, full, last } = await brokenChain();
    const { lastFrame, stdin } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, {
      facade,
      lang,
    });
    const listed = await waitFrame(lastFrame, (x) => x.includes(last.id));
    // Before any verify, its status says the chain is broken (as `respaldo list` does); the full's stays OK.
    const row = (frame: string, id: string) => frame.split('\n').find((l) => l.includes(`${id} `)) ?? '';
    expect(row(listed, last.id)).toMatch(new RegExp(`\\b${s.status}\\b`));
    expect(row(listed, full.id)).not.toContain(s.status);
    fits(listed);
    await press(stdin, 'v');
    const done = await waitFrame(lastFrame, (x) => x.includes(s.broken));
    fits(done);
    expect(done).not.toContain(s.ok);
  });
});

describe('restore of that incremental in the menu (es): the refusal names the missing set in Spanish', () => {
  it('says which set is missing and which needs it, with no English words of its own', async () => {
    const { facade, middle, last } = await brokenChain();
    const plan = await facade.planRestore({ setId: last.id, databases: ['users'], files: false });
    expect(plan.refusals).toHaveLength(1);
    const theme = createTheme({ LANG: 'es_ES.UTF-8' });
    const text = refusalRows(plan.refusals[0]!, { t: catalogue('es'), theme, lang: 'es' }, 200)
      .map((r) => r.map((seg) => seg.text).join(''))
      .join(' ');
    expect(text).toContain(
      `esa cadena no se puede usar: falta la copia ${middle.id} (la necesita ${last.id}) (podada o borrada).`,
    );
    expect(text).not.toMatch(/needed by|is missing|pruned or deleted/);
    // The CLI's words are the English ones, as before
    expect(plan.refusals[0]!.message).toContain(
      `set ${middle.id} (needed by ${last.id}) is missing (pruned or deleted)`,
    );
  });
});

const RESTORE = {
  en: {
    items: 'What to restore',
    from: 'From set',
    where: 'Where to restore',
    refused: 'that chain cannot be used',
    word: 'RESTORE',
    ask: 'Type',
  },
  es: {
    items: 'Qué restaurar',
    from: 'Desde la copia',
    where: 'Dónde restaurar',
    refused: 'esa cadena no se puede usar',
    word: 'RESTAURAR',
    ask: 'Escriba',
  },
} as const;

describe.each(['en', 'es'] as const)('restore opened on that incremental from the list (r), %s', (lang) => {
  const s = { ...TEXT[lang], ...RESTORE[lang] };

  it('its steps say the set is BROKEN as the list does, and the plan refuses it before anything runs', async () => {
    const { facade, middle, last } = await brokenChain();
    const ran: string[] = [];
    const real = facade.executeRestore.bind(facade);
    facade.executeRestore = (plan, reporter, signal) => (ran.push(plan.setId), real(plan, reporter, signal));
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} initialSetId={last.id} />, { facade, lang });
    const items = await waitFrame(lastFrame, (x) => x.includes(s.items) && x.includes('users (sqlite)'));
    fits(items);
    const statusLine = items.split('\n').find((l) => l.includes('·') || l.includes(' - ')) ?? '';
    expect(statusLine).toMatch(new RegExp(`\\b${s.status}\\b`));
    expect(statusLine).not.toMatch(/\bOK\b/);
    // users is the only database: it is ticked; Enter, then in place
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(s.where));
    await press(stdin, KEY.enter);
    const plan = await waitFrame(lastFrame, (x) => flat(x).includes(s.refused));
    fits(plan);
    const text = flat(plan);
    expect(text).toContain(middle.id);
    expect(text).toMatch(new RegExp(`${s.from}: ${last.id} \\([^)]*, ${s.status}\\)`));
    expect(text).not.toContain(s.ask);
    // Typing the word does not run it: nothing is asked, nothing is restored
    await type(stdin, s.word);
    await press(stdin, KEY.enter);
    expect(flat(lastFrame() ?? '')).toContain(s.refused);
    expect(ran).toEqual([]);
  });
});

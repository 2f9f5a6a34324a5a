/**
 * The restore wizard's screens for off-site copies, chains and protected keys, drawn by Ink on an
 * 80×24 terminal in English and Spanish: where from (the backup folder or a destination, also with
 * an empty backup folder), "as of a date and time" with the --at preview, and the masked passphrase.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { RestorePlan } from '../src/ui/engine-facade.js';
import { DrillScreen } from '../src/ui/screens/DrillScreen.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { planRows } from '../src/ui/screens/restore-rows.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { createTheme } from '../src/ui/theme.js';
import {
  FakeFacade,
  KEY,
  cleanupSized,
  frameProblems,
  manifestFor,
  press,
  renderSized,
  type,
  waitFrame,
} from './ui-fake-facade.js';

afterEach(() => {
  cleanupSized();
  cleanup();
});

const noop = (): void => undefined;
const calls = (f: FakeFacade, m: string) => f.calls.filter((c) => c.method === m);
const fits = (frame: string): void => expect(frameProblems(frame), frame).toEqual([]);

function offsiteFacade(localSets = 3): FakeFacade {
  const facade = new FakeFacade(localSets);
  facade.cfg = { ...facade.cfg, destinations: ['nas', 'offsite'] };
  facade.remote = {
    nas: [
      manifestFor('20261121_230000', { startedAt: '2026-11-21T23:00:00.000Z' }),
      manifestFor('20261120_230000', { startedAt: '2026-11-20T23:00:00.000Z' }),
    ],
  };
  return facade;
}

describe.each(['en', 'es'] as const)('restore from a destination (%s)', (lang) => {
  const s =
    lang === 'en'
      ? {
          source: 'Where to restore from',
          nas: 'Destination "nas" (off-site copy)',
          at: 'at destination "nas"',
          fetched: 'At destination "nas": its files are there.',
          streamed: 'No room here to fetch the set first: its files stream from destination "nas"',
          word: 'RESTORE',
          done: 'Restore finished',
          setSource: `set "source" in the config to the old server's name`,
        }
      : {
          source: 'Desde dónde restaurar',
          nas: 'Destino "nas" (copia externa)',
          at: 'en el destino "nas"',
          fetched: 'En el destino "nas": sus archivos están allí.',
          streamed: 'No hay espacio aquí para descargar la copia antes: sus archivos llegan del',
          word: 'RESTAURAR',
          done: 'Restauración terminada',
          setSource: 'ponga en "source" de la configuración el nombre del servidor antiguo',
        };

  it('on a new server (empty backup folder): the destination is offered, its set restored with the same plan', async () => {
    const facade = offsiteFacade(0);
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade, lang });
    fits(await waitFrame(lastFrame, (x) => x.includes(s.source) && x.includes(s.nas)));
    expect(calls(facade, 'listSets')).toEqual([]);
    await press(stdin, KEY.down, KEY.enter);
    const sets = await waitFrame(lastFrame, (x) => x.includes(s.at) && x.includes('20261120_230000'));
    fits(sets);
    expect(calls(facade, 'listSets').map((c) => c.args[0])).toEqual([{ from: 'nas' }]);
    await press(stdin, KEY.down, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    expect(calls(facade, 'readManifest').at(-1)!.args).toEqual(['20261120_230000', 'nas']);
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    const plan = await waitFrame(lastFrame, (x) => x.includes(s.fetched) && x.includes(s.word));
    fits(plan);
    expect(calls(facade, 'planRestore').map((c) => c.args[0])).toEqual([
      { from: 'nas', setId: '20261120_230000', databases: ['users'], files: false },
    ]);
    await type(stdin, s.word);
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => x.includes(s.done)));
    expect(calls(facade, 'executeRestore')).toHaveLength(1);
    expect(calls(facade, 'keyLocked')).toHaveLength(0);
  });

  it("a destination without this server's source names the sources there and the setting to change", async () => {
    const facade = offsiteFacade(0);
    facade.remote = { nas: [] };
    facade.sourcesAt = { nas: { source: 'new-host', otherSources: ['erp-server-1', 'srv2'] } };
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(s.source) && x.includes(s.nas));
    await press(stdin, KEY.down, KEY.enter);
    const shown = await waitFrame(lastFrame, (x) => x.includes(s.at) && x.includes('"new-host"'));
    fits(shown);
    expect(shown.replace(/\s+/g, ' ')).toContain('erp-server-1, srv2');
    expect(shown.replace(/\s+/g, ' ')).toContain(s.setSource);
  });

  it('with no room to fetch the set, the plan says its files stream from the destination, and still fits', async () => {
    const facade = offsiteFacade(0);
    const plan = facade.planRestore.bind(facade);
    facade.planRestore = async (req) => {
      const p = await plan(req);
      return { ...p, options: { ...p.options, filesAt: { name: 'nas', streamed: true } } };
    };
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(s.source) && x.includes(s.nas));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(s.at) && x.includes('20261120_230000'));
    await press(stdin, KEY.down, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    const shown = await waitFrame(lastFrame, (x) => x.includes(s.streamed) && x.includes(s.word));
    fits(shown);
    expect(shown).not.toContain(s.fetched);
  });
});

describe.each(['en', 'es'] as const)('damaged sets at a destination (%s)', (lang) => {
  it('are named under the set table, never silently left out, and the table still fits 80×24', async () => {
    const facade = offsiteFacade(0);
    facade.damaged = {
      nas: [
        { id: '20261122_230000', source: 'srv1', problem: 'manifest.json is not valid JSON' },
        { id: '20261119_230000', source: 'srv1', problem: 'manifest.json is not valid JSON' },
      ],
    };
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes('nas'));
    await press(stdin, KEY.down, KEY.enter);
    const f = await waitFrame(lastFrame, (x) => x.includes('20261120_230000'));
    fits(f);
    const lines = f.split('\n');
    // the damaged sets are no rows to pick: the newest one is named only on the line under the table
    expect(
      lines.filter((l) => l.includes('20261122_230000')),
      f,
    ).toHaveLength(1);
    expect(
      lines.find((l) => l.includes('20261122_230000')),
      f,
    ).toMatch(
      lang === 'en'
        ? /^2 damaged sets at nas not shown \(do not restore\): srv1\/20261122_230000/
        : /^2 copias dañadas en nas no mostradas \(no restaurar\): srv1\/20261122_230000/,
    );
  });
});

describe.each(['en', 'es'] as const)('Esc while the set is read at a destination for its plan (%s)', (lang) => {
  it('stops the fetch, goes back to where to restore, and what the stopped fetch answers later is dropped', async () => {
    const facade = offsiteFacade(0);
    let fetches = 0;
    let stopFetch: (() => void) | null = null;
    const plan = facade.planRestore.bind(facade);
    // A destination that answers slowly: the plan waits until its reading is stopped, then fails as stopped.
    facade.planRestore = (req) => {
      fetches++;
      if (fetches > 1) return plan(req);
      return new Promise<RestorePlan>((_, reject) => {
        stopFetch = () => reject(new Error('stopped (the fetch was cancelled)'));
      });
    };
    const release = facade.releaseFetched.bind(facade);
    facade.releaseFetched = async () => {
      stopFetch?.();
      await release();
    };
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes('nas'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('20261120_230000'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    const busy = await waitFrame(lastFrame, (x) =>
      x.includes(lang === 'en' ? 'Esc stops reading it' : 'Esc deja de leerla'),
    );
    fits(busy);
    await press(stdin, KEY.esc);
    const back = await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'Where to restore' : 'Dónde restaurar'));
    fits(back);
    expect(calls(facade, 'releaseFetched')).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    // the stopped fetch's failure is not shown as an error
    expect(lastFrame()).not.toContain('stopped (the fetch was cancelled)');
    // Enter plans again, and this time the set comes
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => x.includes(lang === 'en' ? 'RESTORE' : 'RESTAURAR')));
    expect(fetches).toBe(2);
  });
});

describe.each(['en', 'es'] as const)('restore as of a date and time (%s)', (lang) => {
  const s =
    lang === 'en'
      ? {
          open: 't as of a date and time',
          title: 'As of a date and time',
          bad: 'Type a time as YYYY-MM-DD HH:MM',
          head: 'Restore as of',
          point: 'The result is the data as set',
          order: 'Sets applied, in order (1, 36 KB stored in total):',
          word: 'RESTORE',
        }
      : {
          open: 't a una fecha y hora',
          title: 'A una fecha y hora',
          bad: 'Escriba la hora como AAAA-MM-DD HH:MM',
          head: 'Restaurar a',
          point: 'El resultado son los datos como los tomó',
          order: 'Copias aplicadas, en orden (1, 36 KB guardados en total):',
          word: 'RESTAURAR',
        };

  it('t on the sets: the time and databases, then the preview of the sets applied before the word', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(s.open));
    await press(stdin, 't');
    fits(await waitFrame(lastFrame, (x) => x.includes(s.title) && x.includes('[x] auditoria')));
    await type(stdin, 'ayer');
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => x.includes(s.bad)));
    for (let i = 0; i < 4; i++) await press(stdin, KEY.backspace);
    await type(stdin, '2026-11-21 12:00');
    await press(stdin, KEY.enter, KEY.enter);
    const plan = await waitFrame(lastFrame, (x) => x.includes(s.head) && x.includes(s.word));
    fits(plan);
    expect(plan).toContain('20261121_100000');
    expect(plan).toContain(s.point);
    // to the second: two sets ending seconds apart read the same minute
    expect(plan).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(plan).toContain(s.order);
    expect(calls(facade, 'planRestore').map((c) => c.args[0])).toEqual([
      {
        setId: '',
        at: new Date(2026, 10, 21, 12, 0).toISOString(),
        // typed to the minute: a set that started then is named by it
        atWithin: 60_000,
        databases: ['users', 'inventario', 'auditoria'],
        files: false,
      },
    ]);
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });
});

describe.each(['en', 'es'] as const)('the passphrase of a protected key (%s)', (lang) => {
  const s =
    lang === 'en'
      ? { title: 'Passphrase of the key', word: 'RESTORE', wrong: 'Wrong passphrase', done: 'Restore finished' }
      : {
          title: 'Frase de paso de la clave',
          word: 'RESTAURAR',
          wrong: 'La frase de paso no abre',
          done: 'Restauración terminada',
        };

  it('asked masked after the word; a wrong one is said and asked again; the right one runs the restore', async () => {
    const facade = new FakeFacade();
    facade.cfg = { ...facade.cfg, identityFile: '/srv/app/key.txt' };
    facade.keyPassphrase = 'correct horse';
    facade.manifests[1]!.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} initialSetId="20261121_100000" />, {
      facade,
      lang,
    });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(s.word));
    await type(stdin, s.word);
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => x.includes(s.title) && x.includes('/srv/app/key.txt')));
    await type(stdin, 'wrong');
    const masked = await waitFrame(lastFrame, (x) => x.includes('*****'));
    expect(masked).not.toContain('wrong');
    await press(stdin, KEY.enter);
    const wrong = await waitFrame(lastFrame, (x) => x.includes(s.wrong));
    fits(wrong);
    expect(wrong).not.toContain('*****');
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
    await type(stdin, 'correct horse');
    const typed = await waitFrame(lastFrame, (x) => x.includes('*'.repeat(13)));
    expect(typed).not.toContain('correct');
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => x.includes(s.done)));
    expect(calls(facade, 'unlockKey').map((c) => c.args[0])).toEqual([5, 13]);
    expect(calls(facade, 'executeRestore')).toHaveLength(1);
  });

  it('Esc on the passphrase goes back to the plan; nothing is restored', async () => {
    const facade = new FakeFacade();
    facade.keyPassphrase = 'x';
    facade.manifests[1]!.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} initialSetId="20261121_100000" />, {
      facade,
      lang,
    });
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(s.word));
    await type(stdin, s.word);
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes(s.title));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => !x.includes(s.title) && x.includes(s.word));
    expect(calls(facade, 'executeRestore')).toHaveLength(0);
  });
});

describe.each(['en', 'es'] as const)('a drill of an encrypted set with a protected key (%s)', (lang) => {
  const s =
    lang === 'en'
      ? { title: 'Passphrase of the key', passed: 'passed', wrong: 'Wrong passphrase' }
      : { title: 'Frase de paso de la clave', passed: 'correcto', wrong: 'La frase de paso no abre' };

  it('asks the passphrase masked before the drill; a wrong one is asked again; the right one drills', async () => {
    const facade = new FakeFacade();
    facade.keyPassphrase = 'open sesame';
    const id = facade.manifests[0]!.id;
    facade.manifests[0]!.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    const { lastFrame, stdin } = renderSized(<DrillScreen id={id} onBack={noop} />, { facade, lang });
    fits(await waitFrame(lastFrame, (x) => x.includes(s.title)));
    expect(calls(facade, 'drillSet')).toHaveLength(0);
    await type(stdin, 'nope');
    await press(stdin, KEY.enter);
    fits(await waitFrame(lastFrame, (x) => x.includes(s.wrong)));
    expect(calls(facade, 'drillSet')).toHaveLength(0);
    await type(stdin, 'open sesame');
    const masked = await waitFrame(lastFrame, (x) => x.includes('*'.repeat(11)));
    expect(masked).not.toContain('open sesame');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.toLowerCase().includes(s.passed));
    expect(calls(facade, 'drillSet')).toHaveLength(1);
  });

  it('an unencrypted set drills at once; Esc on the passphrase goes back without drilling', async () => {
    const plain = new FakeFacade();
    plain.keyPassphrase = 'x';
    const first = renderSized(<DrillScreen id={plain.manifests[0]!.id} onBack={noop} />, { facade: plain, lang });
    await waitFrame(first.lastFrame, (x) => x.toLowerCase().includes(s.passed));
    expect(calls(plain, 'keyLocked')).toHaveLength(0);

    const facade = new FakeFacade();
    facade.keyPassphrase = 'x';
    facade.manifests[0]!.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    let left = false;
    const { lastFrame, stdin } = renderSized(
      <DrillScreen id={facade.manifests[0]!.id} onBack={() => (left = true)} />,
      { facade, lang },
    );
    await waitFrame(lastFrame, (x) => x.includes(s.title));
    await press(stdin, KEY.esc);
    expect(left).toBe(true);
    expect(calls(facade, 'drillSet')).toHaveLength(0);
  });
});

describe('the plan of an incremental set names the chain it applies (planRows)', () => {
  it.each([
    ['en', 'users: applies 2 sets in order: 20261121_100000 (full) → 20261122_100000 (incremental) (24 KB stored)'],
    [
      'es',
      'users: aplica 2 copias en orden: 20261121_100000 (completa) → 20261122_100000 (incremental) (24 KB guardados)',
    ],
  ] as const)('%s', async (lang, line) => {
    const facade = new FakeFacade();
    const plan = await facade.planRestore({ setId: facade.manifests[0]!.id, databases: ['users'], files: false });
    plan.databases[0]!.chain = [
      { id: '20261121_100000', type: 'full', storedBytes: 12288, completedAt: '2026-11-21T10:00:04.200Z' },
      { id: '20261122_100000', type: 'incremental', storedBytes: 12288, completedAt: '2026-11-22T10:00:04.200Z' },
    ];
    const theme = createTheme({ LANG: 'en_US.UTF-8' });
    const rows = planRows(plan, { t: catalogue(lang, true), lang, theme }, 200);
    const text = rows.map((r) => r.map((seg) => seg.text).join('')).join('\n');
    expect(text).toContain(line);
  });
});

describe('an encrypted incremental at a destination with a protected key', () => {
  it('asks the passphrase before its items (its chain is decrypted as fetched), then restores it', async () => {
    const facade = offsiteFacade(0);
    facade.keyPassphrase = 'chain words';
    const delta = facade.remote['nas']![0]!;
    delta.type = 'incremental';
    delta.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    delta.databases[0]!.base = '20261120_230000';
    const { lastFrame, stdin } = renderSized(<RestoreScreen onBack={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Destination "nas"'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('20261120_230000'));
    await press(stdin, KEY.enter);
    const asked = await waitFrame(lastFrame, (x) => x.includes('Passphrase of the key'));
    fits(asked);
    expect(asked).toContain('Esc back');
    expect(asked).not.toContain('back to the plan');
    expect(calls(facade, 'keyLocked').map((c) => c.args[0])).toEqual([delta.id]);
    await type(stdin, 'chain words');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('[ ] users (sqlite)'));
    await press(stdin, KEY.space, KEY.enter, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    await type(stdin, 'RESTORE');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Restore finished'));
    expect(calls(facade, 'unlockKey')).toHaveLength(1);
    expect(calls(facade, 'executeRestore')).toHaveLength(1);
  });
});

/**
 * A restore drill of the copy at a destination, from the menu (the CLI's `drill ID --from NAME`): on the restore
 * wizard's sets of a destination, `d` drills the set under the cursor instead of restoring it. Drawn by Ink on an
 * 80×24 terminal in English and Spanish, against the in-memory facade: the fetch's bar while it runs, then the same
 * rows as a local drill, that the fetched copy was removed, and that nothing was recorded when this server does
 * not hold the set; Ctrl-C twice interrupts it (the fetched copy removed); Esc comes back to the same sets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Menu } from '../src/ui/Menu.js';
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

const calls = (f: FakeFacade, m: string) => f.calls.filter((c) => c.method === m);
const fits = (frame: string): void => expect(frameProblems(frame), frame).toEqual([]);
const flat = (frame: string): string => frame.replace(/\s+/g, ' ');

/** The outcome's rows that do not fit are seen with PgDn: every frame's text, each checked to fit. */
async function wholeOutcome(lastFrame: () => string | undefined, stdin: { write: (s: string) => void }) {
  const frames = [lastFrame() ?? ''];
  for (let i = 0; i < 3; i++) {
    await press(stdin, KEY.pageDown);
    frames.push(lastFrame() ?? '');
  }
  frames.forEach(fits);
  return flat(frames.join('\n'));
}

/** A destination `nas` holding two sets; this server's backup folder holds `localSets` others. */
function offsiteFacade(localSets = 0): FakeFacade {
  const facade = new FakeFacade(localSets);
  facade.cfg = { ...facade.cfg, destinations: ['nas'] };
  facade.remote = {
    nas: [
      manifestFor('20261121_230000', { startedAt: '2026-11-21T23:00:00.000Z' }),
      manifestFor('20261120_230000', { startedAt: '2026-11-20T23:00:00.000Z' }),
    ],
  };
  return facade;
}

const WORDS = {
  en: {
    nas: 'Destination "nas" (off-site copy)',
    at: 'at destination "nas"',
    help: 'd drill',
    note: 'Press d on a set to drill it instead',
    title: 'Restore drill of set 20261120_230000 at destination "nas"',
    running: 'Fetching 20261120_230000 from "nas" (each file checked as it arrives)',
    passed: 'Drill of set 20261120_230000 passed',
    fetched: 'Fetched from destination "nas", each file checked as it arrived.',
    users: 'users: PASSED in 1 s',
    removed: 'The fetched copy was removed from /srv/backups.',
    notHere:
      "Not recorded: this server's backup folder does not hold set 20261120_230000, so there is no drilled.json to write",
    again: 'Press Ctrl-C again to interrupt the drill (the fetched copy and the scratch targets are removed).',
    interrupted: 'Error: Interrupted; nothing was changed.',
    nothingKept: 'Nothing fetched was kept in /srv/backups.',
  },
  es: {
    nas: 'Destino "nas" (copia externa)',
    at: 'en el destino "nas"',
    help: 'd simulacro',
    note: 'Pulse d sobre una copia para hacer un simulacro',
    title: 'Simulacro de restauración de la copia 20261120_230000 en el destino "nas"',
    running: 'Descargando 20261120_230000 de "nas" (cada archivo se comprueba al llegar)',
    passed: 'Simulacro de la copia 20261120_230000 correcto',
    fetched: 'Descargada del destino "nas"; cada archivo se comprobó al llegar.',
    users: 'users: CORRECTO en 1 s',
    removed: 'La copia descargada se borró de /srv/backups.',
    notHere:
      'No registrado: la carpeta de copias de este servidor no tiene la copia 20261120_230000, así que no hay drilled.json que escribir',
    again:
      'Pulse Ctrl-C otra vez para interrumpir el simulacro (se borran la copia descargada y sus destinos temporales).',
    interrupted: 'Error: Interrumpido; no se cambió nada.',
    nothingKept: 'No se ha guardado nada de lo descargado en /srv/backups.',
  },
};

describe.each(['en', 'es'] as const)('a drill of the copy at a destination, from the menu (%s, 80×24)', (lang) => {
  const w = WORDS[lang];

  /** The menu on the restore wizard's sets of destination `nas` (4, the destination, Enter). */
  async function onDestinationSets(facade: FakeFacade) {
    const screen = renderSized(<Menu initial={[{ name: 'main' }]} />, { facade, lang });
    await waitFrame(screen.lastFrame, (x) => x.includes('1.'));
    await press(screen.stdin, '4');
    const source = await waitFrame(screen.lastFrame, (x) => x.includes(w.nas));
    expect(flat(source)).toContain(w.note);
    fits(source);
    await press(screen.stdin, KEY.down, KEY.enter);
    const sets = await waitFrame(screen.lastFrame, (x) => x.includes(w.at) && x.includes('20261120_230000'));
    expect(sets).toContain(w.help);
    fits(sets);
    return screen;
  }

  it('on a new server: d drills the set there; its bar, then the rows of a drill, removed, not recorded', async () => {
    const facade = offsiteFacade(0);
    facade.hold = true;
    const { lastFrame, stdin } = await onDestinationSets(facade);
    await press(stdin, KEY.down, KEY.down, 'd'); // the older set (row 0 is latest)
    const running = await waitFrame(lastFrame, (x) => x.includes('50%') && flat(x).includes(w.running));
    expect(running).toContain(w.title);
    fits(running);
    expect(calls(facade, 'drillSet').map((c) => c.args)).toEqual([['20261120_230000', 'nas']]);
    expect(calls(facade, 'readManifest').at(-1)!.args).toEqual(['20261120_230000', 'nas']);
    expect(calls(facade, 'executeRestore')).toEqual([]);
    facade.release?.();
    const done = await waitFrame(lastFrame, (x) => x.includes(w.passed));
    fits(done);
    const text = await wholeOutcome(lastFrame, stdin);
    for (const x of [w.fetched, w.users, w.removed, w.notHere]) expect(text).toContain(x);
    expect(facade.drillFetchRemoved).toBe(true);
    expect(facade.drills.size).toBe(0);

    // Esc: back on the same sets of the destination, not listed again.
    const listed = calls(facade, 'listSets').length;
    await press(stdin, KEY.esc);
    const back = await waitFrame(lastFrame, (x) => x.includes(w.at) && x.includes('20261121_230000'));
    fits(back);
    expect(calls(facade, 'listSets')).toHaveLength(listed);
  });

  it('Ctrl-C twice while it runs interrupts it: the fetched copy is removed, Esc goes back to the sets', async () => {
    const facade = offsiteFacade(0);
    facade.hold = true;
    const { lastFrame, stdin } = await onDestinationSets(facade);
    await press(stdin, 'd'); // latest
    await waitFrame(lastFrame, (x) => x.includes('50%'));
    expect(calls(facade, 'drillSet').map((c) => c.args)).toEqual([['20261121_230000', 'nas']]);
    await press(stdin, KEY.ctrlC);
    const warned = await waitFrame(lastFrame, (x) => flat(x).includes(w.again));
    fits(warned);
    expect(facade.drillFetchRemoved).toBe(false);
    await press(stdin, KEY.ctrlC);
    const stopped = await waitFrame(lastFrame, (x) => x.includes(w.interrupted));
    fits(stopped);
    expect(flat(stopped)).toContain(w.nothingKept);
    expect(stopped).not.toContain('50%'); // the fetch's bar is gone: it would still say RUNNING
    expect(facade.drillFetchRemoved).toBe(true);
    expect(facade.drills.size).toBe(0);
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes(w.at) && x.includes('20261120_230000'));
  });
});

describe('a drill of an encrypted set at a destination, the key protected', () => {
  it('asks the passphrase of the key for that set there, masked, before anything is fetched; then drills', async () => {
    const facade = offsiteFacade(0);
    facade.keyPassphrase = 'open sesame';
    facade.remote['nas']![0]!.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    const { lastFrame, stdin } = renderSized(<Menu initial={[{ name: 'main' }, { name: 'restore' }]} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Destination "nas"'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('at destination "nas"') && x.includes('20261120_230000'));
    await press(stdin, 'd');
    const asked = await waitFrame(lastFrame, (x) => x.includes('Passphrase of the key'));
    fits(asked);
    expect(asked).toContain('Restore drill of set 20261121_230000 at destination "nas"');
    expect(calls(facade, 'keyLocked').map((c) => c.args)).toEqual([['20261121_230000']]);
    expect(calls(facade, 'drillSet')).toEqual([]);
    await type(stdin, 'open sesame');
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('Drill of set 20261121_230000 passed'));
    expect(calls(facade, 'drillSet').map((c) => c.args)).toEqual([['20261121_230000', 'nas']]);
  });
});

describe('a destination that does not answer while the set is read first', () => {
  it('says it is reading the set there; Esc goes back to the sets, nothing is drilled', async () => {
    const facade = offsiteFacade(0);
    const { lastFrame, stdin } = renderSized(<Menu initial={[{ name: 'main' }, { name: 'restore' }]} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Destination "nas"'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('at destination "nas"') && x.includes('20261120_230000'));
    facade.readManifest = () => new Promise(() => undefined); // a frozen destination
    await press(stdin, 'd');
    const reading = await waitFrame(lastFrame, (x) => x.includes('Reading the set at the destination'));
    fits(reading);
    expect(reading).toContain('Esc stops reading it');
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('at destination "nas"') && x.includes('20261120_230000'));
    expect(calls(facade, 'drillSet')).toEqual([]);
  });
});

describe('a drill from a destination of a set this server holds too', () => {
  it('is recorded beside the local set, as a local drill is', async () => {
    const facade = offsiteFacade(0);
    facade.manifests = [manifestFor('20261121_230000', { startedAt: '2026-11-21T23:00:00.000Z' })];
    const { lastFrame, stdin } = renderSized(<Menu initial={[{ name: 'main' }, { name: 'restore' }]} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Destination "nas"'));
    await press(stdin, KEY.down, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('at destination "nas"') && x.includes('20261120_230000'));
    await press(stdin, 'd');
    const done = await waitFrame(lastFrame, (x) => x.includes('Drill of set 20261121_230000 passed'));
    fits(done);
    const text = await wholeOutcome(lastFrame, stdin);
    expect(text).toContain('Recorded beside the set (drilled.json)');
    expect(text).not.toContain('Not recorded');
    expect(facade.drills.get('20261121_230000')?.results['users']?.from).toBe('nas');
  });
});

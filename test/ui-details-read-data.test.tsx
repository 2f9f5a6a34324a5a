/**
 * `V` in a set's details: verify reading the data (the menu's `verify --read-data`). An encrypted set
 * with a passphrase-protected key asks the passphrase (masked, a wrong one asked again) before the
 * files are decrypted and checked; English and Spanish at 80×24, against the in-memory facade.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import { stopOnHangup } from '../src/ui/app.js';
import { silentReporter } from '../src/core/events.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { cleanupSized, FakeFacade, frameProblems, KEY, press, renderSized, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

const noop = (): void => undefined;
const fits = (frame: string): void => expect(frameProblems(frame), frame).toEqual([]);

const TEXT = {
  en: {
    help: 'V verify + read data',
    asked: 'passphrase',
    ok: 'Verify OK',
    read: 'every file decrypted',
    wrong: 'Wrong passphrase',
  },
  es: {
    help: 'V verificar + leer datos',
    asked: 'frase de paso',
    ok: 'Verificación OK',
    read: 'cada archivo descifrado',
    wrong: 'La frase de paso no abre',
  },
} as const;

describe.each(['en', 'es'] as const)('details, V (%s)', (lang) => {
  const s = TEXT[lang];

  it('an encrypted set with a protected key: the passphrase first (masked; a wrong one is asked again)', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    m.encryption = { format: 'age', recipients: ['age1xyz'], passphrase: false };
    facade.keyPassphrase = 'open sesame';
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      {
        facade,
        lang,
      },
    );
    fits(await waitFrame(lastFrame, (x) => x.includes(s.help)));
    await press(stdin, 'V');
    fits(await waitFrame(lastFrame, (x) => x.toLowerCase().includes(s.asked)));
    await type(stdin, 'wrong');
    await press(stdin, KEY.enter);
    const again = await waitFrame(lastFrame, (x) => x.includes(s.wrong));
    expect(again).not.toContain('wrong');
    expect(facade.calls.filter((c) => c.method === 'verifySet')).toEqual([]);
    await type(stdin, 'open sesame');
    expect(lastFrame()).not.toContain('open sesame');
    await press(stdin, KEY.enter);
    const done = await waitFrame(lastFrame, (x) => x.includes(s.ok));
    fits(done);
    expect(done).toContain(s.read);
    expect(facade.calls.filter((c) => c.method === 'verifySet').map((c) => c.args[0])).toEqual([`${m.id} --read-data`]);
  });

  it('a set encrypted to a passphrase no file gives: that passphrase (wrong: said, asked again; Esc: nothing)', async () => {
    const t = catalogue(lang, true);
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    m.encryption = { format: 'age', recipients: [], passphrase: true };
    facade.setsPassphrase = 'open sesame';
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade, lang },
    );
    await waitFrame(lastFrame, (x) => x.includes(s.help));
    await press(stdin, 'V');
    const asked = await waitFrame(lastFrame, (x) => x.includes(t.restore.setPassphraseTitle));
    fits(asked);
    expect(asked).toContain(m.id);
    await type(stdin, 'wrong');
    await press(stdin, KEY.enter);
    const wrong = lang === 'en' ? `Wrong passphrase: it does not open set ${m.id}.` : `no abre la copia ${m.id}.`;
    fits(await waitFrame(lastFrame, (x) => x.includes(wrong)));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes(s.help) && !x.includes(t.restore.setPassphraseTitle));
    expect(facade.calls.filter((c) => c.method === 'verifySet')).toEqual([]);
    await press(stdin, 'V');
    await waitFrame(lastFrame, (x) => x.includes(t.restore.setPassphraseTitle) && !x.includes(wrong));
    await type(stdin, 'open sesame');
    await press(stdin, KEY.enter);
    expect(await waitFrame(lastFrame, (x) => x.includes(s.ok))).toContain(s.read);
    expect(facade.calls.filter((c) => c.method === 'keyLocked').map((c) => c.args[0])).toContain(m.id);
    expect(facade.calls.filter((c) => c.method === 'verifySet').map((c) => c.args[0])).toEqual([`${m.id} --read-data`]);
  });

  it('a plain set: V verifies at once (re-hashing is reading all the data), v as before', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    facade.keyPassphrase = 'unused';
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      {
        facade,
        lang,
      },
    );
    await waitFrame(lastFrame, (x) => x.includes(s.help));
    await press(stdin, 'V');
    const done = await waitFrame(lastFrame, (x) => x.includes(s.ok));
    expect(done).not.toContain(s.read);
    expect(facade.calls.filter((c) => c.method === 'keyLocked')).toEqual([]);
    expect(facade.calls.filter((c) => c.method === 'verifySet').map((c) => c.args[0])).toEqual([`${m.id} --read-data`]);
  });
});

describe('the menu hands its options on to the engine (V, the scheduler)', () => {
  it('the hang-up-aware facade keeps verify options (readData)', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    const { facade: wrapped } = stopOnHangup(facade, new AbortController().signal);
    await wrapped.verifySet(m.id, silentReporter, { readData: true });
    expect(facade.calls.filter((c) => c.method === 'verifySet').map((c) => c.args[0])).toEqual([`${m.id} --read-data`]);
  });

  it('the hang-up-aware facade keeps the scheduler options (s: no catch-up); they were dropped', async () => {
    const facade = new FakeFacade();
    const { facade: wrapped } = stopOnHangup(facade, new AbortController().signal);
    await wrapped.startScheduler(noop, { catchUp: false });
    expect(facade.calls.filter((c) => c.method === 'startScheduler').map((c) => c.args[0])).toEqual([
      { catchUp: false },
    ]);
  });
});

/**
 * Text the menu folds itself (Para): no line starts with a space. Ink's own wrap="wrap" started a line with the
 * space after a word that ended exactly at the edge (" archivo de identidad" on the passphrase screen).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Box } from 'ink';
import { RespaldoError } from '../src/core/errors.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { Para } from '../src/ui/components/Para.js';
import { PassphraseView } from '../src/ui/components/PassphrasePrompt.js';
import { cleanupSized, frameProblems, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

/** The text of each line of a frame, without the border of a box and the padding beside it. */
const inner = (frame: string) => frame.split('\n').map((l) => l.replace(/^[│|]\s?/, '').replace(/\s?[│|]\s*$/, ''));
/** Lines (inside a box's border) that start with a space. Para's first frame is Ink's wrap, then it folds. */
const leading = (frame: string) => inner(frame).filter((l) => /^\s+\S/.test(l) && !/^\s*[┌└╭╰─]/.test(l));

describe('Para', () => {
  it('a word that ends at the edge: the next line starts with the next word, for every width', async () => {
    const text = 'aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk';
    for (const columns of [9, 14, 19, 24, 30]) {
      const { lastFrame, unmount } = renderSized(<Para>{text}</Para>, { columns });
      const f = await waitFrame(lastFrame, (x) => x.includes('kkkk') && leading(x).length === 0).catch(
        (err: Error) => err.message,
      );
      const lines = f.split('\n').filter((l) => l.trim());
      expect(
        lines.filter((l) => l.startsWith(' ')),
        `${columns} columns:\n${f}`,
      ).toEqual([]);
      expect(lines.every((l) => l.length <= columns)).toBe(true);
      expect(lines.join(' ')).toBe(text);
      unmount();
    }
  });

  it('inside a row box it takes the width it is given, not its text’s', async () => {
    const { lastFrame } = renderSized(
      <Box marginTop={1}>
        <Para>{'uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis'}</Para>
      </Box>,
      { columns: 40 },
    );
    const f = await waitFrame(lastFrame, (x) => x.includes('dieciséis'));
    expect(f.split('\n').filter((l) => l.trim())).toEqual([
      'uno dos tres cuatro cinco seis siete',
      'ocho nueve diez once doce trece catorce',
      'quince dieciséis',
    ]);
  });

  it('the passphrase screen and an error box at 80×24, in Spanish: no line starts with a space', async () => {
    const file = '/srv/app/claves/respaldo-identidad-de-la-empresa-protegida.txt';
    const { lastFrame } = renderSized(
      <PassphraseView
        titlePrefix="Restaurar"
        lock="identity"
        setId="20261122_020000"
        help="Intro: seguir · Esc: volver"
        length={3}
        error={new RespaldoError('failed', `${'x'.repeat(60)} la frase de paso no abre ${file}`, 'Pruebe otra vez')}
        busyText={null}
      />,
      { lang: 'es' },
    );
    const f = await waitFrame(lastFrame, (x) => x.includes('Pruebe') && leading(x).length === 0).catch(
      (err: Error) => err.message,
    );
    expect(leading(f), f).toEqual([]);
    expect(frameProblems(f), f).toEqual([]);
  });

  it('ErrorBox folds its message and hint to the box', async () => {
    const message = `${'palabra '.repeat(9)}fin: ${'otra '.repeat(20)}última.`;
    const { lastFrame } = renderSized(<ErrorBox error={new RespaldoError('failed', message, 'Una pista.')} />, {
      columns: 80,
    });
    const f = await waitFrame(lastFrame, (x) => x.includes('pista') && leading(x).length === 0).catch(
      (err: Error) => err.message,
    );
    expect(leading(f), f).toEqual([]);
    const lines = inner(f).filter((l) => l.trim() && !/^[┌└╭╰]/.test(l.trim()));
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain(`Error: ${message}`);
  });
});

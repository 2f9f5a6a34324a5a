import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { ConfigureScheduleScreen } from '../src/ui/screens/ConfigureScheduleScreen.js';
import { CreateScreen } from '../src/ui/screens/CreateScreen.js';
import { TypedConfirm } from '../src/ui/components/TypedConfirm.js';
import { useState } from 'react';
import { Text } from 'ink';
import { extraKeys, splitKeys, useKeys } from '../src/ui/use-keys.js';
import { FakeFacade, KEY, press, renderUi, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

const noop = (): void => undefined;

/** Opens the editor of the first job and puts the cursor on its time field (02:00). */
async function toTimeField() {
  const facade = new FakeFacade();
  const r = renderUi(<ConfigureScheduleScreen onBack={noop} />, { facade });
  await waitFrame(r.lastFrame, (x) => x.includes('Retention'));
  await press(r.stdin, KEY.enter);
  await waitFrame(r.lastFrame, (x) => x.includes('Next 5 runs'));
  await press(r.stdin, KEY.down, KEY.down);
  await waitFrame(r.lastFrame, (x) => /› Time \(HH:MM\)\s*: 02:00/.test(x));
  return { ...r, facade };
}

describe('keys that arrive in one chunk', () => {
  it('splits a chunk into keys in order, escape sequences stay whole', () => {
    const keys = splitKeys('a\x7f\r\t\x03B');
    expect(keys.map(([input]) => input)).toEqual(['a', '', '', '', 'c', 'B']);
    expect(
      keys.map(([, k]) =>
        k.delete ? 'del' : k.return ? 'ret' : k.tab ? 'tab' : k.ctrl ? 'ctrl' : k.shift ? 'shift' : '-',
      ),
    ).toEqual(['-', 'del', 'ret', 'tab', 'ctrl', 'shift']);
    expect(keys.every(([, k]) => k.chunked)).toBe(true);
    expect(splitKeys('x')[0]![1].chunked).toBe(false);
    expect(splitKeys('ñá').map(([i]) => i)).toEqual(['ñ', 'á']);
  });

  it('two Esc read in one write are two keys (Ink gives one: the menu went back one screen for two presses)', async () => {
    const keys = extraKeys('\x1b\x1b');
    expect(keys.map(([i, k]) => [i, k.escape, k.meta, k.chunked])).toEqual([['', true, true, true]]);
    // One Esc, an escape sequence after an Esc (Alt+Up), text: nothing more than their key.
    for (const raw of ['\x1b', '\x1b\x1b[A', '\x1b[A', 'ab', '']) expect(extraKeys(raw)).toEqual([]);
    function Escapes() {
      const [n, setN] = useState(0);
      useKeys((_, key) => key.escape && setN((x) => x + 1));
      return <Text>escapes {n}</Text>;
    }
    const { lastFrame, stdin } = renderUi(<Escapes />);
    await waitFrame(lastFrame, (x) => x.includes('escapes 0'));
    stdin.write('\x1b\x1b');
    await waitFrame(lastFrame, (x) => x.includes('escapes 2'));
    stdin.write('\x1b');
    await waitFrame(lastFrame, (x) => x.includes('escapes 3'));
  });

  it('three Backspaces in one write delete three characters, then 22:30 in one write is 22:30', async () => {
    const { lastFrame, stdin } = await toTimeField();
    stdin.write('\x7f\x7f\x7f');
    await waitFrame(lastFrame, (x) => /› Time \(HH:MM\)\s*: 02 /.test(x));
    stdin.write('\x7f\x7f');
    await waitFrame(lastFrame, (x) => /› Time \(HH:MM\)\s*: {2}/.test(x) || /› Time \(HH:MM\)\s*:\s*$/m.test(x));
    stdin.write('22:30');
    const f = await waitFrame(lastFrame, (x) => x.includes('daily at 22:30'));
    expect(f).toMatch(/› Time \(HH:MM\)\s*: 22:30/);
  });

  it('a held Backspace and a paste mixed in one write apply in order', async () => {
    const { lastFrame, stdin } = await toTimeField();
    stdin.write('\x7f\x7f\x7f\x7f\x7f23:4\x7f15');
    await waitFrame(lastFrame, (x) => x.includes('daily at 23:15'));
  });

  it('the description of a backup keeps every pasted character', async () => {
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={noop} onDone={noop} />, { facade: new FakeFacade() });
    await waitFrame(lastFrame, (x) => x.includes('Description'));
    for (let i = 0; i < 8 && !/› Description/.test(lastFrame() ?? ''); i++) await press(stdin, KEY.down);
    await waitFrame(lastFrame, (x) => /› Description/.test(x));
    await type(stdin, 'abc');
    await waitFrame(lastFrame, (x) => x.includes('abc'));
    stdin.write('\x7f\x7f\x7fbefore upgrade 4.2');
    await waitFrame(lastFrame, (x) => x.includes('before upgrade 4.2') && !x.includes('abcbefore'));
  });

  it('a paste of 150 characters (a long passphrase, a path) is applied whole; the menu kept only 50 and crashed', async () => {
    const { lastFrame, stdin } = renderUi(<CreateScreen onBack={noop} onDone={noop} />, { facade: new FakeFacade() });
    await waitFrame(lastFrame, (x) => x.includes('Description'));
    for (let i = 0; i < 8 && !/› Description/.test(lastFrame() ?? ''); i++) await press(stdin, KEY.down);
    await waitFrame(lastFrame, (x) => /› Description/.test(x));
    const pasted = Array.from({ length: 17 }, (_, i) => `word${String(i).padStart(2, '0')}-x`).join(' ') + ' end';
    expect(pasted.length).toBeGreaterThan(140);
    stdin.write(pasted);
    await waitFrame(lastFrame, (x) => x.replace(/\s+/g, ' ').includes('word16-x end'));
    expect(lastFrame()!.replace(/\s+/g, ' ')).toContain('word00-x word01-x');
  });

  it('the confirmation keeps pasted text but refuses an Enter inside the paste; a separate Enter confirms', async () => {
    let confirmed = 0;
    const { lastFrame, stdin } = renderUi(
      <TypedConfirm word="RESTORE" prompt="Type RESTORE" onConfirm={() => confirmed++} onCancel={noop} />,
    );
    await waitFrame(lastFrame, (x) => x.includes('Type RESTORE'));
    stdin.write('RESTOXX\x7f\x7fRE\r');
    await waitFrame(lastFrame, (x) => x.includes('› RESTORE'));
    expect(confirmed).toBe(0);
    expect(lastFrame()).not.toContain('That is not');
    // Said, not silent: typed quickly over a slow link, the last letter and Enter arrive in one write too.
    await waitFrame(lastFrame, (x) => x.includes('That Enter came with other keys (a paste?): press Enter again'));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, () => confirmed === 1);
  });
});

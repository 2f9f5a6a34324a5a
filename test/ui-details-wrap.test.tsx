/**
 * A set's details at 80×24: a long error and its hint are folded to the screen's width (continuations indented)
 * and read whole by scrolling; they were cut at the edge with nothing to show the rest. Home/End go to the ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { VerifyReport } from '../src/engine/verify.js';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import { cleanupSized, FakeFacade, frameProblems, KEY, press, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

const noop = (): void => undefined;
const MESSAGE =
  'SQLite database users: the snapshot failed integrity_check: integrity_check stopped: database disk image is malformed (SQLITE_CORRUPT)';
const HINT = 'The live database is damaged. Run PRAGMA integrity_check on it and restore from the newest good set.';

describe('set details at 80×24', () => {
  it('a failed database: its whole error and hint, folded and indented, every frame within the screen', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    m.status = 'partial';
    m.databases[0] = { ...m.databases[0]!, file: null, error: { message: MESSAGE, hint: HINT } };
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade },
    );
    const frames = [await waitFrame(lastFrame, (x) => x.includes('FAILED'))];
    for (let i = 0; i < 12; i++) {
      await press(stdin, KEY.down);
      frames.push(lastFrame()!);
    }
    for (const f of frames) expect(frameProblems(f), f).toEqual([]);
    const seen = frames.join('\n');
    const text = seen.replace(/\s+/g, ' ');
    for (const word of [...MESSAGE.split(' '), ...HINT.split(' ')]) expect(text, word).toContain(word);
    expect(seen).not.toMatch(/integrity_c…/);
    // a continuation starts under its line's text, two columns in
    expect(seen).toMatch(/\n {4}\S/);
  });
});

describe('set details in Spanish', () => {
  it("a file's group is said in the menu's language, and a description's control characters show as ?", async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    m.description = 'antes \u001b[2J de actualizar';
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade, lang: 'es' },
    );
    const first = await waitFrame(lastFrame, (x) => x.includes('antes ?[2J de actualizar'));
    expect(first).not.toContain('\u001b[2J');
    let frame = first;
    for (let i = 0; i < 30 && !frame.includes('[configuración]'); i++) {
      await press(stdin, KEY.down);
      frame = lastFrame()!;
    }
    expect(frame).toContain('[configuración] .env0');
    expect(frame).not.toContain('[config]');
  });
});

describe('a verification with a file no restore reads missing (the page map)', () => {
  it('says OK with the count of such files, and the warning under that file, every frame within 80×24', async () => {
    const MAP = 'databases/users_x.pagemap.bin.zst';
    const warning =
      `${MAP}: missing; only a differential or incremental of users made on this set reads it ` +
      '(the next incremental is a differential on the full instead): the set restores without it';
    class MapGone extends FakeFacade {
      override async verifySet(id: string): Promise<VerifyReport> {
        const r = await super.verifySet(id);
        const spare = { path: MAP, ok: false, problem: 'missing', bytes: 0, nextBackupOf: 'users' };
        return { ...r, files: [...r.files, spare], warnings: [warning] };
      }
    }
    const facade = new MapGone();
    const m = facade.manifests[0]!;
    const entry = m.databases[0]!;
    const extra = {
      file: MAP,
      role: 'pagemap',
      storedBytes: 10,
      rawBytes: 10,
      md5: 'a',
      sha256: 'b',
      compressed: true,
    };
    m.databases[0] = { ...entry, extras: [extra] };
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade },
    );
    await waitFrame(lastFrame, (x) => x.includes('Backup set'));
    await press(stdin, 'v');
    const frames = [await waitFrame(lastFrame, (x) => x.includes('Verify OK'))];
    for (let i = 0; i < 30; i++) {
      await press(stdin, KEY.down);
      frames.push(lastFrame()!);
    }
    for (const f of frames) expect(frameProblems(f), f).toEqual([]);
    expect(frames[0]!.replace(/\s+/g, ' ')).toContain(
      'files match; 1 that no restore reads is missing or damaged (see its warning).',
    );
    const text = frames.join('\n').replace(/\s+/g, ' ');
    expect(text).toContain(`warning: ${warning}`);
    expect(text).not.toContain('FAILED');
  });
});

describe('a file whose name holds a line break (legal on Linux)', () => {
  it('is shown with \\x0a on its line, as `respaldo show` says it, every frame within 80×24', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    m.files = [
      {
        group: 'application',
        source: '/srv/app/línea\nrota.txt',
        relative: 'app/línea\nrota.txt',
        kind: 'file',
        stored: 'files/application/app/línea\nrota.txt.zst',
        linkTarget: null,
        size: 1,
        mode: 0o644,
        mtime: m.startedAt,
        md5: 'aa',
        sha256: 'bb',
      },
    ];
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade, lang: 'es' },
    );
    let frame = await waitFrame(lastFrame, (x) => x.includes('Copia'));
    const frames = [frame];
    for (let i = 0; i < 30 && !frame.includes('[aplicación]'); i++) {
      await press(stdin, KEY.down);
      frame = lastFrame()!;
      frames.push(frame);
    }
    expect(frame).toContain('[aplicación] app/línea\\x0arota.txt  1 B');
    for (const f of frames) expect(frameProblems(f), f).toEqual([]);
  });
});

describe('set details: the keys of a scrolling screen', () => {
  it('End shows the last lines at once, Home the first (PgUp/PgDn a page)', async () => {
    const facade = new FakeFacade();
    const m = facade.manifests[0]!;
    // As many as the details list one by one (with their hashes: three lines each); more are summed up
    m.files = Array.from({ length: 20 }, (_, i) => ({
      ...m.files[0]!,
      relative: `file${i}.txt`,
      source: `/srv/f${i}`,
    }));
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={m.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade },
    );
    const first = await waitFrame(lastFrame, (x) => x.includes(m.id) && /\d+-\d+ of \d+/.test(x));
    expect(first).not.toContain('file19.txt');
    await press(stdin, '\x1b[F');
    const end = await waitFrame(lastFrame, (x) => x.includes('file19.txt'));
    expect(frameProblems(end), end).toEqual([]);
    const [, to, of] = /(\d+)-(\d+) of (\d+)/.exec(end)!.slice(1);
    expect(to).toBe(of);
    await press(stdin, '\x1b[H');
    const home = await waitFrame(lastFrame, (x) => !x.includes('file19.txt') && / 1-\d+ of /.test(x));
    expect(frameProblems(home), home).toEqual([]);
  });
});

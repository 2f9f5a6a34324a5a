/**
 * The details of a set of many files, against the real engine facade and a real backup folder: the manifest is read
 * lean (readSetDetails) and its files are said as a summary (how many, their bytes, their groups, the first ones and
 * the command that lists them all), not a line and two hashes for each: a set of 100 000 files built 300 013 lines
 * and took up to a minute on "Loading". Spanish at 80×24; verify from the details still checks every file, and delete's
 * prompt still tells the set's own files from one put in its folder by hand.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import type { Manifest } from '../src/core/types.js';
import { writeFileAtomic } from '../src/core/durable-fs.js';
import { manifestText } from '../src/engine/manifest.js';
import { createEngineFacade, DETAILS_FILES } from '../src/ui/engine-facade.js';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import { collect, CLI_BIN, describeResult, parseJsonOutput, startNode } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { cleanupSized, frameProblems, KEY, press, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanupSized();
  cleanup();
});

const noop = (): void => undefined;
const COUNT = 30_000;

describe('the details of a set of 30 000 files at 80×24, in Spanish', () => {
  it('say the files as a summary in a bounded number of lines, and verify still checks them all', async () => {
    const s = demoSetup({ files: { config: [], application: [{ path: './data/uploads' }] } });
    mkdirSync(join(s.dataDir, 'uploads'));
    writeFileSync(join(s.dataDir, 'uploads', 'one.bin'), 'one');
    const made = await collect(startNode([CLI_BIN, 'create', '--json', '--config', s.configFile], { cwd: s.dir }));
    expect(made.code, describeResult(made)).toBe(0);
    const id = parseJsonOutput<Manifest>(made.stdout).id;
    // The one file stored, named COUNT ways (each entry its stored file: the set verifies)
    const file = join(s.backupDir, id, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    const one = m.files.find((f) => f.relative.endsWith('one.bin'))!;
    m.files = Array.from({ length: COUNT }, (_, i) => ({ ...one, relative: `uploads/d${i >> 9}/f${i}.bin` }));
    m.totals = { ...m.totals, files: COUNT };
    await writeFileAtomic(file, manifestText(m));

    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const { lastFrame, stdin } = renderSized(
      <SetDetailsScreen id={id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade, lang: 'es' },
    );
    const first = await waitFrame(lastFrame, (x) => / de \d+/.test(x), 20_000);
    const frames = [first];
    // Every line of the details: a few for the set and its databases, a summary and DETAILS_FILES paths
    const total = Number(/ de (\d+)/.exec(first)![1]);
    expect(total, first).toBeLessThan(DETAILS_FILES + 60);
    await press(stdin, '\x1b[F'); // End
    const end = await waitFrame(lastFrame, (x) => x.includes('respaldo show'));
    frames.push(end);
    const text = frames.join('\n');
    expect(text).toContain(`… y ${COUNT - DETAILS_FILES} más: respaldo show ${id} los lista todos`);
    for (let i = 0; i < 10; i++) {
      await press(stdin, KEY.up);
      frames.push(lastFrame()!);
    }
    const seen = frames.join('\n');
    expect(seen).toContain(`${COUNT} archivos, `);
    expect(seen).toContain('(aplicación)');
    expect(seen).toContain(`los primeros ${DETAILS_FILES}:`);
    expect(seen).toContain(`[aplicación] uploads/d0/f${DETAILS_FILES - 1}.bin`);
    expect(seen).not.toContain(`uploads/d0/f${DETAILS_FILES}.bin`);
    for (const f of frames) expect(frameProblems(f), f).toEqual([]);
    // v: every one of the set's files is checked, as `respaldo verify` checks them
    await press(stdin, 'v');
    const verified = await waitFrame(lastFrame, (x) => x.includes('Verificación OK'), 60_000);
    expect(verified).toMatch(/Verificación OK: \d+ archivos coinciden/);
    const checked = Number(/Verificación OK: (\d+) archivos/.exec(verified.replace(/\s+/g, ' '))![1]);
    expect(checked).toBeGreaterThanOrEqual(COUNT);
    expect(frameProblems(verified), verified).toEqual([]);
    // d: the delete prompt names the one file put in the set's folder by hand, none of those the set stores
    writeFileSync(join(s.backupDir, id, 'notas.txt'), 'a mano');
    await press(stdin, 'd');
    const asked = await waitFrame(lastFrame, (x) => x.includes('notas.txt'), 20_000);
    expect(asked.replace(/\s+/g, ' ')).toContain('contiene además 1 archivo(s) que respaldo no escribió (notas.txt)');
    expect(frameProblems(asked), asked).toEqual([]);
  }, 120_000);
});

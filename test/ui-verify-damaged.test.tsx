/**
 * A set whose own verification failed (one flipped byte in a stored database, then `respaldo verify`): the CLI says
 * FAILED (exit 5, `list` VERIFIED FAILED), and so must the menu. Its list shows the set DAMAGED, not OK; its details
 * say the status, when the verification failed, which stored file and what to do; English and Spanish at 80×24,
 * against the real engine facade and a real backup folder. A sound set beside it stays OK.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { createEngineFacade, type EngineFacade } from '../src/ui/engine-facade.js';
import { ListScreen } from '../src/ui/screens/ListScreen.js';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { cleanupSized, frameProblems, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanupSized();
  cleanup();
});

const noop = (): void => undefined;
const fits = (frame: string): void => expect(frameProblems(frame), frame).toEqual([]);
const flat = (frame: string): string => frame.replace(/[│|]/g, ' ').replace(/\s+/g, ' ');
const row = (frame: string, id: string): string => frame.split('\n').find((l) => l.includes(`${id} `)) ?? '';

/** Two full sets of users; a byte of the newer one's stored database flipped, then `respaldo verify` of it. */
async function damagedSet(): Promise<{ facade: EngineFacade; sound: Manifest; bad: Manifest; file: string }> {
  const s = demoSetup();
  const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
  const create = () => facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
  const sound = await create();
  const bad = await create();
  const file = bad.databases[0]!.file!;
  const path = join(s.backupDir, bad.id, file);
  const buf = readFileSync(path);
  const at = buf.length >> 1;
  buf[at] = buf[at]! ^ 0x01;
  writeFileSync(path, buf);
  const verify = await runCli(['verify', bad.id, '--config', s.configFile], { cwd: s.dir });
  expect(verify.code, describeResult(verify)).toBe(5);
  expect(verify.stdout).toContain(`${bad.id}: FAILED`);
  const list = await runCli(['list', '--config', s.configFile], { cwd: s.dir });
  expect(list.stdout.split('\n').find((l) => l.startsWith(bad.id))).toMatch(/ FAILED /);
  return { facade, sound, bad, file };
}

const TEXT = {
  en: {
    help: 'v verify',
    damaged: 'DAMAGED',
    status: /Status {7}DAMAGED/,
    verified: /Verified FAILED \d{4}-\d\d-\d\d \d\d:\d\d .*: 1 stored file damaged/,
    what: 'Do not restore from this set: take a new backup (1 in the main menu)',
    fileNote: 'did not match at the last verification',
  },
  es: {
    help: 'v verificar',
    damaged: 'DAÑADA',
    status: /Estado {7}DAÑADA/,
    verified: /Verificada FALLÓ \d{4}-\d\d-\d\d \d\d:\d\d .*: 1 archivo guardado dañado/,
    what: 'No restaure desde esta copia: haga una copia nueva (1 en el menú principal)',
    fileNote: 'no coincidió en la última verificación',
  },
} as const;

describe.each(['en', 'es'] as const)('menu, a set whose verification failed (%s)', (lang) => {
  const s = TEXT[lang];

  it('list: the set is DAMAGED, not OK; the sound set beside it stays OK', async () => {
    const { facade, sound, bad } = await damagedSet();
    const { lastFrame } = renderSized(<ListScreen onBack={noop} onOpen={noop} onRestore={noop} />, { facade, lang });
    const listed = await waitFrame(lastFrame, (x) => x.includes(bad.id) && x.includes(sound.id));
    fits(listed);
    expect(row(listed, bad.id)).toContain(` ${s.damaged} `);
    expect(row(listed, bad.id)).not.toMatch(/ OK /);
    expect(row(listed, sound.id)).toMatch(/ OK /);
    expect(row(listed, sound.id)).not.toContain(s.damaged);
  });

  it('details: status DAMAGED, the failed verification, the damaged file and what to do', async () => {
    const { facade, bad, file } = await damagedSet();
    const { lastFrame } = renderSized(
      <SetDetailsScreen id={bad.id} onBack={noop} onRestore={noop} onDeleted={noop} />,
      { facade, lang },
    );
    const opened = await waitFrame(lastFrame, (x) => x.includes(s.help) && s.status.test(x));
    fits(opened);
    const text = flat(opened);
    expect(text).toMatch(s.verified);
    expect(text).toContain(`${file}: ${s.fileNote}`);
    expect(text).toContain(s.what);
  });
});

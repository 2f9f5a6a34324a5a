/**
 * The menu's create summary says that a copy after the backup created the destination's path (it did not exist
 * there: a new or mistyped rclone `path`), once, in the menu's language, as `create` and `copy` say it. Real engine,
 * real rclone (a `local` remote defined by config).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { CreateScreen } from '../src/ui/screens/CreateScreen.js';
import { KEY, press, renderUi, waitFrame } from './ui-fake-facade.js';
import { demoSetup } from './helpers/tmp.js';

afterEach(() => cleanup());

/** Runs a backup of users from the menu's create screen in `lang`; returns the summary, folded lines joined. */
async function backUpFromMenu(configFile: string, lang: 'en' | 'es'): Promise<string> {
  const facade = createEngineFacade(await loadConfig({ configPath: configFile, env: {} }));
  const env = { LANG: lang === 'es' ? 'es_ES.UTF-8' : 'en_US.UTF-8' };
  const { lastFrame, stdin } = renderUi(<CreateScreen onBack={() => undefined} />, { facade, lang, env });
  const start = lang === 'es' ? 'Empezar la copia' : 'Start backup';
  await waitFrame(lastFrame, (x) => x.includes(start));
  // Only users: untick inventario, auditoria and the files, then start.
  await press(stdin, KEY.down, KEY.space, KEY.down, KEY.space, KEY.down, KEY.space, KEY.down, KEY.down, KEY.down);
  await press(stdin, KEY.enter);
  const done = lang === 'es' ? 'Copia terminada' : 'Backup finished';
  const f = await waitFrame(lastFrame, (x) => x.includes(done), 60_000);
  cleanup();
  return f.replace(/\s+/g, ' ');
}

describe('the create summary says the copy created the destination path', () => {
  it('once, in Spanish and in English', async () => {
    const s = demoSetup();
    const typo = join(s.dir, 'remote-typo');
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    const dest = {
      name: 'cloud',
      type: 'rclone',
      remote: 'loc',
      path: typo,
      source: 'srv1',
      config: { type: 'local' },
    };
    writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [dest] }));
    const es = await backUpFromMenu(s.configFile, 'es');
    expect(existsSync(typo)).toBe(true);
    expect(es).toContain('copiada a cloud');
    expect(es).toContain(
      `se creó loc:${typo} (la ruta del destino "cloud" no existía allí; revise "path" si no era esa)`,
    );
    // The next backup finds the path there: nothing is said of it.
    const next = await backUpFromMenu(s.configFile, 'es');
    expect(next).toContain('copiada a cloud');
    expect(next).not.toContain('se creó');

    const t = demoSetup();
    const fresh = join(t.dir, 'new-remote');
    const tdoc = JSON.parse(readFileSync(t.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(t.configFile, JSON.stringify({ ...tdoc, destinations: [{ ...dest, path: fresh }] }));
    const en = await backUpFromMenu(t.configFile, 'en');
    expect(en).toContain(`created loc:${fresh} (the path of destination "cloud" did not exist there`);
  }, 120_000);
});

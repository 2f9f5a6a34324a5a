import { render } from 'ink';
import { EXIT } from '../core/exit-codes.js';
import { isRespaldoError } from '../core/errors.js';
import { loadConfig } from '../config/load.js';
import { createEngineFacade, type EngineFacade } from './engine-facade.js';
import { catalogue, detectLang, type Lang } from './i18n/index.js';
import { Menu } from './Menu.js';
import { createTheme } from './theme.js';
import { UiRoot } from './UiRoot.js';
import type { UiContextValue } from './use-ui.js';

export interface MenuOptions {
  configPath?: string;
  lang?: 'en' | 'es';
}

/** The strings, theme and facade the menu runs with, from the environment and options. */
export function uiContext(facade: EngineFacade, env: NodeJS.ProcessEnv, lang?: Lang): UiContextValue {
  const theme = createTheme(env);
  const l = detectLang(env, lang);
  return { t: catalogue(l, theme.unicode), lang: l, theme, facade, now: () => new Date() };
}

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';

/**
 * Opens the interactive menu and resolves with the exit code when the operator quits.
 * Needs a terminal on stdin and stdout: without one it prints how to use the subcommands and
 * returns the usage code (raw mode is never requested). A config that cannot be loaded is
 * reported as message + hint with its exit code.
 */
export async function runMenu(opts: MenuOptions): Promise<number> {
  const env = process.env;
  const theme = createTheme(env);
  const t = catalogue(detectLang(env, opts.lang), theme.unicode);
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    process.stderr.write(t.noTty + '\n');
    return EXIT.usage;
  }
  let facade: EngineFacade;
  try {
    facade = createEngineFacade(await loadConfig(opts.configPath ? { configPath: opts.configPath } : {}));
  } catch (err) {
    if (!isRespaldoError(err)) throw err;
    process.stderr.write(`${t.common.error}: ${err.message}\n${err.hint ? `${t.common.hint}: ${err.hint}\n` : ''}`);
    return err.exitCode;
  }
  const ctx = uiContext(facade, env, opts.lang);
  process.stdout.write(ALT_SCREEN_ON);
  try {
    const app = render(
      <UiRoot value={ctx}>
        <Menu />
      </UiRoot>,
      { exitOnCtrlC: false, patchConsole: true },
    );
    await app.waitUntilExit();
  } finally {
    process.stdout.write(ALT_SCREEN_OFF);
  }
  return EXIT.ok;
}

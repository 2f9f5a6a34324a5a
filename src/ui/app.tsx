import { guardKeys } from './stdin-guard.js';
import { render } from 'ink';
import { wrapWords } from '../core/format.js';
import { EXIT } from '../core/exit-codes.js';
import { InterruptedError, isRespaldoError } from '../core/errors.js';
import { loadConfig } from '../config/load.js';
import { writeLog } from '../engine/log.js';
import { createEngineFacade, type EngineFacade } from './engine-facade.js';
import { catalogue, detectLang, say, sayMessage, type Lang } from './i18n/index.js';
import { Menu } from './Menu.js';
import { createTheme } from './theme.js';
import { UiRoot } from './UiRoot.js';
import type { UiContextValue } from './use-ui.js';

export interface MenuOptions {
  configPath?: string;
  lang?: 'en' | 'es';
  /**
   * Aborted when the terminal goes away (a dropped SSH session): the running backup, restore or
   * scheduler stops as for Ctrl-C (nothing half-done, lock released), the log says so, the menu closes.
   */
  terminalClosed?: AbortSignal;
}

/** The strings, theme and facade the menu runs with, from the environment and options. */
export function uiContext(facade: EngineFacade, env: NodeJS.ProcessEnv, lang?: Lang): UiContextValue {
  const theme = createTheme(env);
  const l = detectLang(env, lang);
  return { t: catalogue(l, theme.unicode), lang: l, theme, facade, now: () => new Date() };
}

export interface HangupAwareFacade {
  facade: EngineFacade;
  running: Set<Promise<unknown>>;
  /** What the hang-up itself started (removing a fetched set): waited for, but it interrupted nothing. */
  cleanup: Set<Promise<unknown>>;
}

/**
 * The facade as the menu runs it: work that takes a signal (a backup, a restore) and the scheduler
 * also stop when `closed` aborts. `running` holds what has not settled yet.
 */
export function stopOnHangup(facade: EngineFacade, closed: AbortSignal): HangupAwareFacade {
  const running = new Set<Promise<unknown>>();
  const track = <T,>(p: Promise<T>): Promise<T> => {
    running.add(p);
    const settled = (): void => void running.delete(p);
    p.then(settled, settled);
    return p;
  };
  // Not AbortSignal.any: on Node 20 its signal can be collected while a long restore still needs it.
  const both = (signal?: AbortSignal): AbortSignal => {
    const ac = new AbortController();
    const abort = (): void => ac.abort(new InterruptedError('Interrupted: the terminal closed.'));
    if (closed.aborted || signal?.aborted) abort();
    closed.addEventListener('abort', abort, { once: true });
    signal?.addEventListener('abort', abort, { once: true });
    return ac.signal;
  };
  // A set fetched for a restore's plan (or still being fetched) is removed when the terminal goes, on any screen:
  // the restore it was for will not run. A restore running on it stops first (it removes the set as it ends): a set
  // removed under it made its next file missing, said as a copy "changed or damaged" at the destination.
  const restoring = new Set<Promise<unknown>>();
  const cleanup = new Set<Promise<unknown>>();
  const release = (): void =>
    void cleanup.add(
      Promise.allSettled([...restoring])
        .then(() => facade.releaseFetched())
        .catch(() => undefined),
    );
  if (closed.aborted) release();
  else closed.addEventListener('abort', release, { once: true });
  const wrapped: EngineFacade = {
    ...facade,
    planRestore: (req, reporter) => track(facade.planRestore(req, reporter)),
    createBackup: (req, reporter, signal) => track(facade.createBackup(req, reporter, both(signal))),
    executeRestore: (plan, reporter, signal) => {
      const p = track(facade.executeRestore(plan, reporter, both(signal)));
      restoring.add(p);
      const settled = (): void => void restoring.delete(p);
      p.then(settled, settled);
      return p;
    },
    verifySet: (id, reporter, opts) => track(facade.verifySet(id, reporter, opts)),
    drillSet: (id, reporter, signal, from) => track(facade.drillSet(id, reporter, both(signal), from)),
    async startScheduler(listener, opts) {
      const handle = await track(facade.startScheduler(listener, opts));
      // As `respaldo scheduler` on a hang-up: the running job finishes, then it stops (exit 130), and the hang-up
      // never aborts the job, even after a first q. It stopped twice, aborting the scheduled backup under way.
      const hangUp = (): void => void (handle.status().stopping === 'no' && handle.stop(EXIT.interrupted));
      track(handle.done);
      if (closed.aborted) hangUp();
      else closed.addEventListener('abort', hangUp, { once: true });
      return handle;
    },
  };
  return { facade: wrapped, running, cleanup };
}

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';

/**
 * Opens the interactive menu and resolves with the exit code when the operator quits: 0 with q (or 6), 130
 * with Ctrl-C or when the terminal closed.
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
    facade = createEngineFacade(
      await loadConfig(opts.configPath ? { configPath: opts.configPath } : {}),
      opts.configPath !== undefined,
    );
  } catch (err) {
    if (!isRespaldoError(err)) throw err;
    // Before the menu starts: plain lines, in the operator's language where there are words for it, folded at
    // spaces to the terminal's width (the terminal cut "changed" in two).
    const lang = detectLang(env, opts.lang);
    const width = Math.max(20, process.stdout.columns || 80);
    const lines = [`${t.common.error}: ${sayMessage(lang, err.phrases, err.message, theme.unicode)}`];
    if (err.hint) lines.push(`${t.common.hint}: ${say(lang, err.phrases?.hint, err.hint, theme.unicode)}`);
    process.stderr.write(lines.flatMap((l) => wrapWords(l, width, '  ')).join('\n') + '\n');
    return err.exitCode;
  }
  const closed = opts.terminalClosed ?? new AbortController().signal;
  const guarded = stopOnHangup(facade, closed);
  const ctx = uiContext(guarded.facade, env, opts.lang);
  process.stdout.write(ALT_SCREEN_ON);
  const unguard = guardKeys(process.stdin);
  let interrupted = false;
  try {
    const app = render(
      <UiRoot value={ctx}>
        <Menu onExit={(byCtrlC) => (interrupted = byCtrlC)} />
      </UiRoot>,
      { exitOnCtrlC: false, patchConsole: true },
    );
    const onHangup = async (): Promise<void> => {
      const interrupted = guarded.running.size > 0;
      while (guarded.running.size > 0) await Promise.allSettled([...guarded.running]);
      await Promise.allSettled([...guarded.cleanup]);
      const fields = { command: 'menu', reason: 'terminal closed', message: 'interrupted (terminal closed)' };
      if (interrupted) writeLog(facade.config().backupDir, 'interrupted', fields);
      app.unmount();
    };
    if (closed.aborted) void onHangup();
    else closed.addEventListener('abort', () => void onHangup(), { once: true });
    await app.waitUntilExit();
    // Quit (q, Ctrl-C) on a restore's plan: the set fetched for it is removed before the process ends. The screen's
    // own removal as it unmounts is not waited for, and left it to the next run's recovery (`status`: Leftovers).
    await facade.releaseFetched().catch(() => undefined);
  } finally {
    unguard();
    process.stdout.write(ALT_SCREEN_OFF);
  }
  // Quit with Ctrl-C (at a question, nothing running): interrupted, as a command stopped by Ctrl-C; q is success.
  return closed.aborted || interrupted ? EXIT.interrupted : EXIT.ok;
}

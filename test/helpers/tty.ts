import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { CLI_BIN, cliCommandLine, shq, waitFor } from './cli.js';

/** A command running in a real terminal (a detached tmux session), for prompts and TTY output. */
export interface TtySession {
  name: string;
  /** The visible screen as text. */
  screen(): string;
  /** Types text; `enter` adds Return. */
  type(text: string, enter?: boolean): void;
  /** Waits until the screen matches. */
  waitForScreen(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the command to end and returns its exit code. */
  exitCode(timeoutMs?: number): Promise<number>;
  kill(): void;
}

let counter = 0;

/** tmux's arguments for a detached session `name` of `width`×`height` running the shell command line `command`. */
function newSession(name: string, width: number, height: number, command: string): string[] {
  // The server stays when its last session ends (exit-empty off; afterAll stops it): a test that ended its session
  // as the next one started a session raced the server's exit ("server exited unexpectedly").
  return [
    ...TMUX_SERVER,
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(width),
    '-y',
    String(height),
    command,
    ';',
    'set-option',
    '-g',
    'exit-empty',
    'off',
  ];
}

/**
 * Every tmux command of this test process goes to a tmux server of its own (`-L`): on the shared default
 * server, a session of one vitest worker ending as the last one stopped the server while the other worker
 * was starting a session on it ("server exited unexpectedly"). Stopped after the test file (this helper is
 * imported by test files only).
 */
export const TMUX_SERVER = ['-L', `respaldo-test-${process.pid}`] as const;
afterAll(() => {
  try {
    execFileSync('tmux', [...TMUX_SERVER, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* no server was started, or its last session ended */
  }
  // tmux leaves its socket file behind
  rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, TMUX_SERVER[1]), { force: true });
});

/**
 * Runs the built CLI in a tmux session (stdin/stdout are a TTY) in `cwd`. The exit code is written
 * to a file in `cwd` so it can be read after the command ends.
 */
export function startCliInTmux(
  args: string[],
  cwd: string,
  opts: { width?: number; height?: number } = {},
): TtySession {
  const name = `respaldo-test-${process.pid}-${++counter}`;
  const codeFile = join(cwd, `.tty-exit-${name}`);
  const script = `cd ${shq(cwd)} && ${cliCommandLine(args)}; echo $? > ${shq(codeFile)}; sleep 600`;
  execFileSync('tmux', newSession(name, opts.width ?? 160, opts.height ?? 50, script), {
    env: { ...process.env, TERM: 'xterm-256color' },
  });
  const screen = () => execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-t', name], { encoding: 'utf8' });
  return {
    name,
    screen,
    type: (text, enter = false) => {
      execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', name, '-l', text]);
      if (enter) execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', name, 'Enter']);
    },
    waitForScreen: (pattern, timeoutMs = 30_000) =>
      waitFor(() => (pattern.test(screen()) ? screen() : null), `screen to match ${pattern}`, timeoutMs, 50),
    exitCode: async (timeoutMs = 60_000) => {
      await waitFor(
        () => existsSync(codeFile) && readFileSync(codeFile, 'utf8').trim() !== '',
        'the command to end',
        timeoutMs,
        50,
      );
      return Number(readFileSync(codeFile, 'utf8').trim());
    },
    kill: () => {
      try {
        execFileSync('tmux', [...TMUX_SERVER, 'kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    },
  };
}

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A program in its own tmux session, driven like a person would: every key alone with a short
 * pause, the screen polled with capture-pane until the expected text appears.
 */
export class TmuxScreen {
  private static readonly opened: string[] = [];
  constructor(readonly name: string) {}

  /** Starts `command` (a shell command line) in a new detached session of the given size. */
  static async open(name: string, command: string, width = 100, height = 30): Promise<TmuxScreen> {
    await run('tmux', newSession(name, width, height, command));
    TmuxScreen.opened.push(name);
    return new TmuxScreen(name);
  }

  /** Kills every session opened so far (for afterAll). */
  static closeAll(): void {
    for (const name of TmuxScreen.opened.splice(0)) {
      try {
        execFileSync('tmux', [...TMUX_SERVER, 'kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  }

  async screen(): Promise<string> {
    const { stdout } = await run('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-t', this.name]);
    return stdout;
  }

  async waitFor(what: string | RegExp | ((s: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const test =
      typeof what === 'function'
        ? what
        : typeof what === 'string'
          ? (s: string) => s.includes(what)
          : (s: string) => what.test(s);
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      last = await this.screen();
      if (test(last)) return last;
      await sleep(50);
    }
    throw new Error(`tmux ${this.name}: timed out waiting for ${String(what)}; the screen was:\n${last}`);
  }

  /** One key (tmux key name such as Enter, Escape, Down, Space, or a single character). */
  async key(k: string): Promise<void> {
    await run('tmux', [...TMUX_SERVER, 'send-keys', '-t', this.name, k]);
    await sleep(150);
  }

  /** Literal text in one write, as a terminal sends an escape sequence (its reply to a query, a pasted colour). */
  async sequence(text: string): Promise<void> {
    await run('tmux', [...TMUX_SERVER, 'send-keys', '-t', this.name, '-l', text]);
    await sleep(150);
  }

  /** Literal text, one character at a time. */
  async type(text: string): Promise<void> {
    for (const ch of text) {
      await run('tmux', [...TMUX_SERVER, 'send-keys', '-t', this.name, '-l', ch]);
      await sleep(60);
    }
  }

  /**
   * The word of a typed confirmation (TypedConfirm), typed, then seen whole in its field, so the Enter sent next is
   * read on its own: read in one write with the word's last letter (a loaded machine), it is a paste's there, ignored.
   */
  async typeWord(word: string): Promise<void> {
    await this.type(word);
    await this.waitFor(`› ${word}`);
  }
}

/** How a command run by startRecordedInTmux ended. */
export interface RecordedEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A command in a tmux session whose exit is recorded even when its terminal is closed. */
export interface RecordedTtySession {
  name: string;
  screen(): string;
  waitForScreen(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** One tmux key (Enter, Escape, Down, Space) or literal text with `literal`. */
  send(keys: string, literal?: boolean): void;
  /** Closes the terminal as a dropped SSH connection does: tmux kills the session (SIGHUP, pty closed). */
  closeTerminal(): void;
  /** Whether the command is still running. */
  running(): boolean;
  /** Waits for the command to end; its exit code or the signal that ended it. */
  ended(timeoutMs?: number): Promise<RecordedEnd>;
}

/**
 * A parent that stands for the login shell of an SSH session and outlives the terminal: it runs argv
 * on the same terminal (stdio inherited), passes SIGHUP on to it as a shell does to its jobs when
 * the connection drops, and writes how it ended to the file given first.
 */
const RECORDER =
  'const [out, cmd, ...args] = process.argv.slice(1);' +
  "const c = require('node:child_process').spawn(cmd, args, { stdio: 'inherit' });" +
  "process.on('SIGHUP', () => c.kill('SIGHUP'));" +
  "c.on('exit', (code, signal) => require('node:fs').writeFileSync(out, JSON.stringify({ code, signal })));";

/**
 * Runs the built CLI in a tmux session under a small recorder process, so the test learns how the
 * CLI ended after its terminal was closed (the CLI gets SIGHUP and a dead pty, as over SSH).
 */
export function startRecordedInTmux(
  args: string[],
  cwd: string,
  opts: { width?: number; height?: number; wrap?: string[] } = {},
): RecordedTtySession {
  const name = `respaldo-rec-${process.pid}-${++counter}`;
  const endFile = join(cwd, `.tty-end-${name}.json`);
  // `wrap`: a command the CLI runs under (strace, to stop it at one system call); the recorder records its end.
  const argv = [process.execPath, '-e', RECORDER, endFile, ...(opts.wrap ?? []), process.execPath, CLI_BIN, ...args];
  const script = `cd ${shq(cwd)} && exec ${argv.map(shq).join(' ')}`;
  const env = { ...process.env, TERM: 'xterm-256color' };
  execFileSync('tmux', newSession(name, opts.width ?? 100, opts.height ?? 30, script), { env });
  const screen = () => {
    try {
      const stdio = ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[];
      return execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-t', name], { encoding: 'utf8', stdio });
    } catch {
      return '';
    }
  };
  const done = () => existsSync(endFile) && readFileSync(endFile, 'utf8').trim() !== '';
  return {
    name,
    screen,
    waitForScreen: (pattern, timeoutMs = 30_000) => {
      const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
      return waitFor(() => (test(screen()) ? screen() : null), `screen to show ${String(pattern)}`, timeoutMs, 50);
    },
    send: (keys, literal = false) => {
      execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', name, ...(literal ? ['-l'] : []), keys]);
    },
    closeTerminal: () => {
      try {
        execFileSync('tmux', [...TMUX_SERVER, 'kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    },
    running: () => !done(),
    ended: async (timeoutMs = 60_000) => {
      await waitFor(done, 'the command to end', timeoutMs, 20);
      return JSON.parse(readFileSync(endFile, 'utf8')) as RecordedEnd;
    },
  };
}

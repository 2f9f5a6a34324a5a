import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommandLine, shq, waitFor } from './cli.js';

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

/**
 * Runs the built CLI in a tmux session (stdin/stdout are a TTY) in `cwd`. The exit code is written
 * to a file in `cwd` so it can be read after the command ends.
 */
export function startCliInTmux(args: string[], cwd: string, opts: { width?: number; height?: number } = {}): TtySession {
  const name = `respaldo-test-${process.pid}-${++counter}`;
  const codeFile = join(cwd, `.tty-exit-${name}`);
  const script = `cd ${shq(cwd)} && ${cliCommandLine(args)}; echo $? > ${shq(codeFile)}; sleep 600`;
  execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 50), script], { env: { ...process.env, TERM: 'xterm-256color' } });
  const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' });
  return {
    name,
    screen,
    type: (text, enter = false) => {
      execFileSync('tmux', ['send-keys', '-t', name, '-l', text]);
      if (enter) execFileSync('tmux', ['send-keys', '-t', name, 'Enter']);
    },
    waitForScreen: (pattern, timeoutMs = 30_000) => waitFor(() => (pattern.test(screen()) ? screen() : null), `screen to match ${pattern}`, timeoutMs, 50),
    exitCode: async (timeoutMs = 60_000) => {
      await waitFor(() => existsSync(codeFile) && readFileSync(codeFile, 'utf8').trim() !== '', 'the command to end', timeoutMs, 50);
      return Number(readFileSync(codeFile, 'utf8').trim());
    },
    kill: () => {
      try {
        execFileSync('tmux', ['kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    },
  };
}

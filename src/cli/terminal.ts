/**
 * The process's terminal and standard streams. A dropped SSH session closes the terminal: the
 * process gets SIGHUP and every later write to it fails with EIO. This module notices that (SIGHUP,
 * or EIO from a terminal), keeps such writes (and writes to a pipe whose reader left) from throwing,
 * and ends the process only once what it printed has reached stdout and stderr.
 */

import { isatty } from 'node:tty';
import { InterruptedError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { errorWidth, foldLine } from './format.js';

const closed = new AbortController();
/** Which of stdin, stdout and stderr were a terminal at start: Node resets those when it exits. */
const terminalFds = [0, 1, 2].filter((fd) => isatty(fd));

/** Aborted once the terminal is gone (SIGHUP, or EIO writing to it). The reason is 'terminal closed'. */
export const terminalClosed: AbortSignal = closed.signal;

/** What the daily log says about a run stopped because its terminal went away. */
export const TERMINAL_CLOSED_LOG = 'interrupted (terminal closed)';
/** The same, when the confirmation's input ended (Ctrl-D, or the terminal closing before its SIGHUP arrived). */
export const INPUT_ENDED_LOG = 'interrupted at the confirmation (its input ended: Ctrl-D or the terminal closed)';

/** Marks the terminal as gone (idempotent); aborts `terminalClosed`. */
export function markTerminalClosed(): void {
  if (!closed.signal.aborted) closed.abort(new InterruptedError('Interrupted: the terminal closed.'));
}

/** A stream that cannot be written any more: the terminal hung up, or the reader of a pipe left. */
const GONE = new Set(['EIO', 'ENXIO', 'EPIPE', 'ECONNRESET', 'EBADF', 'ERR_STREAM_DESTROYED']);
const guarded = new WeakSet<NodeJS.EventEmitter>();
/** The first write error of stdout or stderr that was no reader leaving (a full disk under `> file`), if any. */
let outputLost: { stream: 'stdout' | 'stderr'; err: NodeJS.ErrnoException } | null = null;

/**
 * Installs an 'error' listener on stdout and stderr (and stdin with `withStdin`), once per stream.
 * EIO from a terminal marks it closed; errors of a stream that is gone are swallowed, so that a
 * write to a dead terminal never throws. Any other error is thrown as before.
 */
export function guardStdio(withStdin = false): void {
  const streams: (NodeJS.ReadStream | NodeJS.WriteStream)[] = [process.stdout, process.stderr];
  if (withStdin) streams.push(process.stdin);
  for (const s of streams) {
    if (guarded.has(s)) continue;
    guarded.add(s);
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (s.isTTY && (err.code === 'EIO' || err.code === 'ENXIO')) markTerminalClosed();
      if (terminalClosed.aborted || GONE.has(err.code ?? '')) return;
      // A file that takes no more (ENOSPC, EDQUOT, EFBIG): thrown here, it ended a restore or a backup wherever it
      // was, with a stack and exit 1. The work goes on; the end says the output is incomplete (exitWhenFlushed).
      if (s !== process.stdin && typeof err.code === 'string') {
        outputLost ??= { stream: s === process.stdout ? 'stdout' : 'stderr', err };
        return;
      }
      throw err;
    });
  }
}

/**
 * Takes SIGHUP for a process that does not run a command (the menu): the terminal is marked
 * closed, as it is when the menu's input ends. Listeners that libraries added at import time
 * (when-exit re-raises the signal and would end the process before anything is cleaned up) are removed.
 */
export function watchHangup(): void {
  for (const l of process.listeners('SIGHUP')) process.off('SIGHUP', l);
  process.on('SIGHUP', markTerminalClosed);
  // The menu reads its terminal in raw mode, where input never ends: its end is the terminal gone.
  if (process.stdin.isTTY) process.stdin.once('end', markTerminalClosed);
}

/** Resolves once everything written to `stream` so far has been handed to the system (or failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write('', () => resolve());
  });
}

/**
 * Ends the process with `code` once stdout and stderr are flushed: a reader that is slow (a pipe
 * into jq or less) gets the whole output. Waiting never hangs on a reader that left (EPIPE ends the
 * pending writes) and no leftover handle (a timer, a pool) can keep the process alive.
 * When the terminal is gone, the process ends by SIGHUP (status 129), as a hung-up program does:
 * Node's own exit would try to reset the dead terminal and abort.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  await new Promise((resolve) => setImmediate(resolve)); // a failed write's 'error' comes on a later tick
  return exitNow(outputLostCode(code));
}

/**
 * `code`, or 7 (failed) instead of success when stdout or stderr could not be written: `respaldo list --json >
 * sets.json` on a full disk exited 0 with the file empty. Said on stderr when that is not the stream that failed.
 */
function outputLostCode(code: number): number {
  if (!outputLost) return code;
  const { stream, err } = outputLost;
  if (stream === 'stdout')
    process.stderr.write(
      foldLine(
        `respaldo: the output could not be written to stdout (${err.message}): it is incomplete; what the command ` +
          'did was done all the same (the daily log in the backup folder says what).\n' +
          'hint: Free space where the output goes (or send it elsewhere); `respaldo list` and `respaldo status` show the sets.\n',
        errorWidth(),
      ),
    );
  return code === EXIT.ok ? EXIT.failed : code;
}

/** Ends the process at once (by SIGHUP when a terminal it started on is gone: see exitWhenFlushed). */
export function exitNow(code: number): never {
  if (terminalFds.some((fd) => !isatty(fd))) {
    for (const l of process.listeners('SIGHUP')) process.off('SIGHUP', l);
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(code);
}

/**
 * Reads a secret typed on the terminal without echoing it (raw mode): Enter ends it, Backspace
 * erases, Ctrl-C or Ctrl-D abandons it (an InterruptedError), and so does the terminal going away (SIGHUP,
 * its input ended). The prompt goes to stderr.
 */
export function readHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = '';
    process.stderr.write(prompt);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    const gone = (): void => done(new InterruptedError('Interrupted: the terminal closed at the passphrase prompt.'));
    const done = (err: Error | null): void => {
      input.off('data', onData);
      input.off('end', gone);
      terminalClosed.removeEventListener('abort', gone);
      try {
        input.setRawMode(wasRaw);
      } catch {
        // a terminal that is gone cannot be set back (EIO): it is gone, maybe before its SIGHUP arrived
        markTerminalClosed();
      }
      input.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    input.once('end', gone);
    terminalClosed.addEventListener('abort', gone, { once: true });
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004')
          return done(new InterruptedError('Interrupted at the passphrase prompt; nothing was changed.'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    input.on('data', onData);
  });
}

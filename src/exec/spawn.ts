import { spawn, type ChildProcess } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import { CommandError, InterruptedError, RespaldoError } from '../core/errors.js';

/**
 * The only way respaldo starts a child process. Arguments are an array (never a string split on
 * spaces, never a shell). Secrets travel in `env` (the child's own environment, merged over a copy
 * of the parent's) and are masked in every message this module produces.
 */
export interface SpawnSpec {
  command: string;
  args: string[];
  /** Extra environment for the child only; `process.env` is never modified. */
  env?: Record<string, string | undefined>;
  /** Values to mask in messages (passwords). */
  secrets?: string[];
  cwd?: string;
  signal?: AbortSignal;
  /** Operator hint when the command is not installed. */
  missingHint?: string;
  /** stdin for the child: 'ignore' (default) or 'pipe'. */
  stdin?: 'ignore' | 'pipe';
  /**
   * Lines of the child's stderr that are progress, not messages (a `--verbose` tool's): kept out of the
   * stderr tail that errors quote, so that they never push the child's own error out of it.
   */
  progressLine?: (line: string) => boolean;
  /**
   * The files the child creates are the owner's alone (umask 077): pg_dump's directory format writes each table's
   * rows to a file made with the process umask (0644), which no option of its own changes.
   */
  privateFiles?: boolean;
}

export interface ChildOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

export interface StreamingChild {
  child: ChildProcess;
  stdout: Readable;
  /** Resolves when the child exits with code 0; rejects with CommandError otherwise. */
  done: Promise<ChildOutcome>;
}

const STDERR_TAIL = 4000;

/**
 * The last `n` messages of a tool's stderr, a line that starts with white space taken as the continuation of the
 * one before (libpq's "server closed the connection unexpectedly" is followed by two tab-indented lines: counted
 * as lines, they pushed out the line that said what happened).
 */
export function lastMessages(stderr: string, n: number): string[] {
  const messages: string[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.trim()) continue;
    if (/^\s/.test(line) && messages.length) messages[messages.length - 1] += ` ${line.trim()}`;
    else messages.push(line.trim());
  }
  return messages.slice(-n);
}

export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 1) out = out.split(s).join('***');
  // Connection strings: hide any password component.
  return out.replace(/(\w+:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

/** The command line as shown to operators: program and arguments, secrets masked. */
export function displayCommand(spec: Pick<SpawnSpec, 'command' | 'args' | 'secrets'>): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return maskSecrets([spec.command, ...spec.args].map(quote).join(' '), spec.secrets);
}

/**
 * Runs `start` with the process umask set to `mask` (when not null), then puts it back. A child inherits the umask
 * at its fork, which `spawn` does before returning; the main thread runs nothing else meanwhile, and a file the
 * thread pool creates in that instant can only come out more private than asked.
 */
function withUmask<T>(mask: number | null, start: () => T): T {
  if (mask === null || !isMainThread) return start(); // a worker thread may not change the umask
  const before = process.umask(mask);
  try {
    return start();
  } finally {
    process.umask(before);
  }
}

/** Starts a child whose stdout is consumed as a stream (a dump). */
export function spawnStreaming(spec: SpawnSpec): StreamingChild {
  const child = withUmask(spec.privateFiles ? 0o077 : null, () =>
    spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'],
      signal: spec.signal,
      killSignal: 'SIGTERM',
    }),
  );
  let stderr = '';
  let partialLine = '';
  const progressLine = spec.progressLine;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (!progressLine) {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
      return;
    }
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) if (!progressLine(line)) stderr = (stderr + line + '\n').slice(-STDERR_TAIL);
  });
  child.stderr?.on('end', () => {
    if (partialLine && !progressLine?.(partialLine)) stderr = (stderr + partialLine).slice(-STDERR_TAIL);
    partialLine = '';
  });
  const done = new Promise<ChildOutcome>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new RespaldoError(
            'failed',
            `${spec.command}: command not found.`,
            spec.missingHint ?? `Install ${spec.command} or put it on PATH.`,
            { command: spec.command },
          ),
        );
      } else if (err.name === 'AbortError') {
        // Stopped by the operator (Ctrl-C, SIGTERM, a closed terminal): an interruption (exit 130) wherever it
        // surfaces, not a failed command (exit 7): a drill stopped during pg_amcheck said "failed".
        reject(new InterruptedError(`${spec.command} was interrupted; nothing partial was published.`));
      } else {
        reject(err);
      }
    });
    child.once('close', (exitCode, signal) => {
      const outcome: ChildOutcome = { exitCode, signal, stderrTail: maskSecrets(stderr.trim(), spec.secrets) };
      if (exitCode === 0) resolve(outcome);
      else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
        const last = lastMessages(outcome.stderrTail, 3).join(' | ');
        reject(
          new CommandError(
            `${spec.command} ${how}${last ? `: ${last}` : ''}`,
            `Read ${spec.command}'s own message above (--json shows the command, exit code and stderr tail).`,
            { command: displayCommand(spec), exitCode, signal, stderrTail: outcome.stderrTail },
          ),
        );
      }
    });
  });
  // Avoid unhandled rejections when callers only await after the stream.
  done.catch(() => undefined);
  return { child, stdout: child.stdout!, done };
}

/** Runs a child to completion and returns its stdout as text (for small outputs: versions, listings). */
export async function runCapture(spec: SpawnSpec): Promise<{ stdout: string } & ChildOutcome> {
  const { stdout, done } = spawnStreaming(spec);
  let out = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (c: string) => {
    out += c;
  });
  const outcome = await done;
  return { stdout: out, ...outcome };
}

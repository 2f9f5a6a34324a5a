import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (the folder holding package.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI shim (imports dist/cli/main.js, rebuilt when stale by the vitest globalSetup build-dist.ts). */
export const CLI_BIN = join(REPO_ROOT, 'bin', 'respaldo.js');

export interface CliOptions {
  /** Working directory of the child (default: the repository root). */
  cwd?: string;
  /** Extra environment, merged over a clean copy of process.env (RESPALDO_CONFIG removed unless given). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is closed at once (no TTY either way). */
  input?: string;
  /** Kill the child with SIGKILL after this long (default 120 s); the result then has signal set. */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a respaldo child gets: the test's env minus RESPALDO_CONFIG, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.RESPALDO_CONFIG;
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) Reflect.deleteProperty(env, k);
    else env[k] = v;
  }
  return env;
}

function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error(`dist/cli/main.js is missing: build first with \`npx tsc -p .\` (in ${REPO_ROOT})`);
  }
}

/**
 * Starts `node bin/respaldo.js ...args` with piped stdio (so never a TTY) and returns the child.
 * Use it for kill/signal tests; `collect(child)` gathers its output and exit.
 */
export function startCli(args: string[], opts: CliOptions = {}): ChildProcess {
  assertBuilt();
  return startNode([CLI_BIN, ...args], opts);
}

/** Starts `node ...argv` the same way as startCli (for helper processes such as writers). */
export function startNode(argv: string[], opts: CliOptions = {}): ChildProcess {
  const child = spawn(process.execPath, argv, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  return child;
}

/** Starts `sh -c script` (e.g. `umask 000; node ...`) with the same stdio and env rules. */
export function startShell(script: string, opts: CliOptions = {}): ChildProcess {
  const child = spawn('/bin/sh', ['-c', script], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  return child;
}

/** Waits for a child to exit and returns its exit code or signal and everything it printed. */
export function collect(child: ChildProcess, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return collect(startCli(args, opts), opts.timeoutMs);
}

/** Runs a shell script to completion. */
export function runShell(script: string, opts: CliOptions = {}): Promise<CliResult> {
  return collect(startShell(script, opts), opts.timeoutMs);
}

/** Shell-quotes one argument for startShell/runShell scripts. */
export function shq(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line (for sh -c) that runs the built CLI with these arguments. */
export function cliCommandLine(args: string[]): string {
  return [process.execPath, CLI_BIN, ...args].map(shq).join(' ');
}

/**
 * Parses stdout of a `--json` run: it must be exactly one JSON document (surrounding whitespace
 * allowed). Throws with the raw output when it is not.
 */
export function parseJsonOutput<T = unknown>(stdout: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (err) {
    throw new Error(`stdout is not one JSON document (${(err as Error).message}):\n${stdout.slice(0, 2000)}`);
  }
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Formats a CLI result for assertion messages. */
export function describeResult(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}\n--- stdout ---\n${r.stdout.slice(0, 3000)}\n--- stderr ---\n${r.stderr.slice(0, 3000)}`;
}

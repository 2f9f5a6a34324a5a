import { printableLines } from '../core/format.js';
import { Option, type Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { InterruptedError, RespaldoError, UsageError, asOperatorError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig } from '../core/types.js';
import { loadConfig } from '../config/load.js';
import { writeLog } from '../engine/log.js';
import { maskSecrets } from '../exec/spawn.js';
import { JsonLinesReporter, TextReporter } from './reporters.js';
import { errorWidth, foldLine } from './format.js';
import {
  TERMINAL_CLOSED_LOG,
  INPUT_ENDED_LOG,
  exitNow,
  guardStdio,
  markTerminalClosed,
  readHidden,
  terminalClosed,
} from './terminal.js';
import { looseSecretFiles, looseSecretWarning, setPassphrasePrompt } from '../engine/crypt.js';
import { checkDeclared, checkNegations, parseOptions, type OptionSpec, type OptionsOf } from './options.js';

export type { GlobalOptions } from './options.js';

/** What a command handler gets: config loading, a reporter, and output helpers. */
export interface CommandIO {
  config(): Promise<LoadedConfig>;
  reporter: Reporter;
  json: boolean;
  /** Prints the one JSON document of a --json run. */
  printJson(doc: unknown): void;
  /**
   * Prints the one JSON document of a --json run given as its text, line by line (each with its line break): a
   * document too large to hold (the manifest of a set of many files).
   */
  printJsonText(lines: Iterable<string>): Promise<void>;
  out(line: string): void;
  err(line: string): void;
  isTTY: boolean;
  /** Aborted on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Asks the operator to type a word on the terminal; false when they typed something else. */
  confirmWord(prompt: string, word: string): Promise<boolean>;
}

/** Adds --config and --json to a command. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-c, --config <path>', 'config file (default: $RESPALDO_CONFIG or ./backup_config.json)'))
    .addOption(new Option('--json', 'print one JSON document on stdout'));
}

let secretsToMask: string[] = [];
/** The config's secrets as *** (known once the config is loaded; progress can start before). */
const mask = (text: string): string =>
  maskSecrets(text, [...secretsToMask, ...secretsToMask.map((x) => JSON.stringify(x).slice(1, -1))]);

/** Prints an error: operator errors as message + hint, bugs with their stack. Returns the exit code. */
export function reportError(caught: unknown, json: boolean): number {
  const err = asOperatorError(caught);
  if (err instanceof RespaldoError) {
    if (json) process.stdout.write(mask(JSON.stringify(err.toJSON(), null, 2)) + '\n');
    // A message may quote what a destination or a file held: never an escape sequence on the terminal.
    // On a terminal, folded at word boundaries to its width (errorWidth); piped, logged or with --json, whole.
    const said = printableLines(`respaldo: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    process.stderr.write(foldLine(maskSecrets(said, secretsToMask), errorWidth(json)));
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (json)
    process.stdout.write(
      JSON.stringify({ error: 'internal', message: maskSecrets(e.message, secretsToMask), exitCode: EXIT.internal }) +
        '\n',
    );
  process.stderr.write(
    maskSecrets(
      `respaldo: internal error (this is a bug, please report it):\n${e.stack ?? e.message}\n`,
      secretsToMask,
    ),
  );
  return EXIT.internal;
}

/**
 * Aborts on the first SIGINT/SIGTERM/SIGHUP (a dropped SSH session). A second signal quits at once,
 * except for a restore (`quitOnSecond` false): quitting between the renames of a swap would leave the
 * live database under its safety name, so a restore always finishes stopping safely.
 */
export function makeSignal(quitOnSecond: boolean): AbortSignal {
  const ac = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // SIGHUP: the terminal is gone. It stops the run like Ctrl-C, but never counts as the second
    // press that quits at once (a hang-up often comes twice: from the shell and from the kernel).
    if (sig === 'SIGHUP' && ac.signal.aborted) return markTerminalClosed();
    count++;
    if (count === 1) {
      // No Ctrl-C advice after a hang-up: no terminal is there to press it (and a hang-up never quits at once).
      const advice = quitOnSecond && sig !== 'SIGHUP' ? ' Press Ctrl-C again to quit at once.' : '';
      process.stderr.write(`\nrespaldo: ${sig} received, stopping safely (nothing partial is kept).${advice}\n`);
      // The reason is what `signal.throwIfAborted()` throws anywhere below: an interruption (exit 130), not a bug.
      ac.abort(new InterruptedError(`Interrupted (${sig}); nothing partial was published.`));
      if (sig === 'SIGHUP') markTerminalClosed();
    } else if (quitOnSecond) {
      exitNow(EXIT.interrupted);
    } else {
      process.stderr.write(
        `respaldo: still stopping safely; a restore is never cut off mid-way (the target is left as it was). Please wait.\n`,
      );
    }
  };
  // Commands own SIGINT/SIGTERM. Libraries may hook them at import time (conf → atomically →
  // when-exit re-raises the signal on itself), which would count as a second Ctrl-C and skip cleanup.
  // Added before the others go: a signal that came while the modules loaded (taken by early-signals.ts) is
  // delivered on the next turn of the event loop, and removing a signal's last listener drops it (the run went on).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, onSignal);
    for (const l of process.listeners(sig)) if (l !== onSignal) process.off(sig, l);
  }
  // A write that found the terminal gone (EIO) stops the run as a SIGHUP does.
  terminalClosed.addEventListener('abort', () => ac.signal.aborted || onSignal('SIGHUP'), { once: true });
  return ac.signal;
}

/**
 * Wraps a command handler: builds the IO, runs it, maps errors to exit codes.
 * The handler returns an exit code (or nothing for success).
 */
/** What a command handler returns: an exit code, or nothing for success. */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a handler may end without returning a code
export type ActionResult = Promise<number | void>;

/**
 * The action of a command whose options are `spec` (see options.ts): the handler gets them typed and
 * checked; a value that does not fit is a UsageError (exit 2) naming the flag.
 */
export function runAction<S extends OptionSpec, A extends unknown[]>(
  spec: S,
  handler: (io: CommandIO, opts: OptionsOf<S>, ...args: A) => ActionResult,
) {
  return async (...received: unknown[]): Promise<void> => {
    const cmd = received[received.length - 1] as Command;
    const raw = cmd.optsWithGlobals();
    const args = received.slice(0, -2) as A;
    const json = raw['json'] === true;
    let opts: OptionsOf<S>;
    try {
      checkDeclared(cmd, spec);
      let root: Command = cmd;
      while (root.parent) root = root.parent;
      // rawArgs: the words parsed, kept by commander on the root command (not in its typings).
      checkNegations(cmd, (root as Command & { rawArgs?: string[] }).rawArgs ?? []);
      opts = parseOptions(spec, raw);
    } catch (err) {
      process.exitCode = reportError(err, json);
      return;
    }
    // Passphrases of identity files are asked on the terminal, never taken from argv.
    setPassphrasePrompt(process.stdin.isTTY ? readHidden : null);
    let cached: Promise<LoadedConfig> | undefined;
    /** The confirmation's input ended (the terminal going away often closes it before its SIGHUP arrives). */
    let inputEnded = false;
    const text = json ? null : new TextReporter(process.stderr, undefined, mask);
    const io: CommandIO = {
      config: () => {
        cached ??= loadConfig({ ...(opts.config ? { configPath: opts.config } : {}) }).then((c) => {
          secretsToMask = c.secrets;
          for (const f of looseSecretFiles(c)) {
            const w = looseSecretWarning(f);
            process.stderr.write(
              json
                ? JSON.stringify({ type: 'warning', message: w }) + '\n'
                : foldLine(`warning: ${w}`, errorWidth()) + '\n',
            );
          }
          return c;
        });
        return cached;
      },
      reporter: text ?? new JsonLinesReporter(process.stderr, mask),
      json,
      printJson: (doc) => process.stdout.write(mask(JSON.stringify(doc, null, 2)) + '\n'),
      // Masked a line at a time (a secret in the JSON text is in one string, on one line), written in batches, each
      // once the one before has gone: into a pipe read slowly, Node queued them all (178 MiB for 30 000 entries).
      // A reader that left (`| head`: EPIPE, swallowed by guardStdio) ends it: no drain comes after the error.
      printJsonText: async (lines) => {
        const out = process.stdout;
        const gone = () => out.destroyed || !out.writable;
        const write = (text: string): Promise<void> | undefined =>
          gone() || out.write(text)
            ? undefined
            : new Promise((done) => {
                const on = () => {
                  for (const e of ['drain', 'close', 'error']) out.off(e, on);
                  done();
                };
                for (const e of ['drain', 'close', 'error']) out.once(e, on);
              });
        let batch = '';
        for (const line of lines) {
          if (gone()) return;
          batch += mask(line);
          // Up to 16 KiB, a string Node writes from its stack, not from a new buffer of its bytes.
          if (batch.length < 12 << 10) continue;
          await write(batch);
          batch = '';
        }
        if (batch) await write(batch);
      },
      // A file, table or path name with an escape sequence in it (written by the application's users, or a
      // manifest from a destination) is printed with `?` for each control character: it never drives the terminal.
      // A line of the command's own ends the progress line first (see TextReporter.settle).
      out: (line) => {
        text?.settle();
        process.stdout.write(printableLines(maskSecrets(line, secretsToMask)) + '\n');
      },
      err: (line) => {
        text?.settle();
        process.stderr.write(foldLine(printableLines(maskSecrets(line, secretsToMask)), errorWidth(json)) + '\n');
      },
      isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      signal: makeSignal(cmd.name() !== 'restore'),
      confirmWord: async (prompt, word) => {
        if (!process.stdin.isTTY)
          throw new UsageError('Confirmation needs a terminal.', 'Pass --yes to confirm from a script.');
        guardStdio(true);
        // Not readline's terminal mode: its raw mode, set back as the terminal goes away (SIGHUP), threw EIO
        // uncaught and the process died without cleaning up. The terminal edits the line; Ctrl-C is SIGINT.
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
        const stopped = () => new InterruptedError('Interrupted at the confirmation; nothing was changed.');
        // Input that ends (the terminal gone, Ctrl-D) closes readline, whose pending question then never settles.
        const closed = new Promise<never>((_, reject) =>
          rl.once('close', () => {
            inputEnded = true;
            // The input ended: Ctrl-D, or the terminal gone before its SIGHUP arrived (a dead one cannot be set)
            try {
              process.stdin.setRawMode(false);
            } catch {
              markTerminalClosed();
            }
            reject(stopped());
          }),
        );
        closed.catch(() => undefined);
        try {
          const asked = rl.question(`${prompt} `, { signal: io.signal }).catch((err: unknown) => {
            if (!io.signal.aborted && (err as Error | null)?.name !== 'AbortError') throw err;
            throw stopped();
          });
          return (await Promise.race([asked, closed])).trim() === word;
        } finally {
          rl.close();
        }
      },
    };
    try {
      const code = await handler(io, opts, ...args);
      process.exitCode = code ?? EXIT.ok;
      // Stopped too late: a restore past its swap, the last step of a run. Said, so that "stopping safely" is not
      // taken for a run that did not happen (exit 0: it did).
      if (io.signal.aborted && process.exitCode === EXIT.ok) {
        const said = `the ${cmd.name()} had passed the point where it can stop, and finished: what it reports above is done.`;
        process.stderr.write(
          json
            ? JSON.stringify({ type: 'warning', message: said }) + '\n'
            : foldLine(`respaldo: ${said}`, errorWidth()) + '\n',
        );
      }
    } catch (err) {
      process.exitCode = reportError(err, json);
    }
    // Logged whichever came first, the end of the input or the SIGHUP (under load the SIGHUP came after this ran,
    // and the run that stopped at the terminal going away left no line).
    if ((terminalClosed.aborted || inputEnded) && process.exitCode === EXIT.interrupted && cached) {
      const cfg = await cached.catch(() => null);
      const fields = terminalClosed.aborted
        ? { command: cmd.name(), reason: 'terminal closed', message: TERMINAL_CLOSED_LOG }
        : { command: cmd.name(), reason: 'input ended', message: INPUT_ENDED_LOG };
      if (cfg) writeLog(cfg.backupDir, 'interrupted', fields, cfg.secrets);
    }
  };
}

/**
 * Collects a repeatable option (`--db a --db b`, also `--db a,b`). A value that names nothing (`--db ""` from a
 * variable that was not set) is kept as it is, for parseOptions to refuse: dropped, it left an empty list, which
 * `restore latest --db "$DB" --yes` took as no --db and restored every database in place.
 */
export function collect(value: string, previous: string[] = []): string[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return [...previous, ...(names.length ? names : [value])];
}

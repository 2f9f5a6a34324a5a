/**
 * Ctrl-C or SIGTERM in the first moments of a command, while its modules load and before the command takes
 * the signals itself (makeSignal, the scheduler's own): Node's default ended the process by the signal
 * (status 143 for SIGTERM), which the exit table does not have. Nothing has been done yet then, so the
 * process says so and exits 130 (interrupted). This module imports nothing: main.ts evaluates it first.
 * SIGHUP keeps its default (the terminal is gone: status 129, as the table says).
 */

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onEarlySignal(sig: NodeJS.Signals): void {
  process.stderr.write(`\nrespaldo: ${sig} received before the command started; nothing was done.\n`);
  process.exit(130);
}

/** Takes SIGINT and SIGTERM until a command (or the menu) takes them: see releaseEarlySignals. */
export function takeEarlySignals(): void {
  for (const sig of SIGNALS) process.on(sig, onEarlySignal);
}

/** Gives the signals back (the menu: it keeps the behaviour it had). Commands remove every listener themselves. */
export function releaseEarlySignals(): void {
  for (const sig of SIGNALS) process.off(sig, onEarlySignal);
}

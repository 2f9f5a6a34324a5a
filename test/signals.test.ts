import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeSignal } from '../src/cli/context.js';

afterEach(() => {
  vi.restoreAllMocks();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(sig);
});

/** Signals as the CLI takes them; process.exit and stderr are stubbed, the listeners are the real ones. */
function take(quitOnSecond: boolean) {
  const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => err.push(s)) as never);
  return { signal: makeSignal(quitOnSecond), exit, err };
}

describe('interrupting a command', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s aborts the run (SIGHUP: a dropped SSH session)', (sig) => {
    const { signal, exit } = take(true);
    process.emit(sig, sig);
    expect(signal.aborted).toBe(true);
    expect(exit).not.toHaveBeenCalled();
  });

  it('a second Ctrl-C quits at once, except during a restore, which always finishes stopping safely', () => {
    const other = take(true);
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    expect(other.exit).toHaveBeenCalledWith(130);
    vi.restoreAllMocks();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(sig);

    const restore = take(false);
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    expect(restore.exit).not.toHaveBeenCalled();
    expect(restore.signal.aborted).toBe(true);
    expect(restore.err.join('')).toMatch(/still stopping safely; a restore is never cut off mid-way/);
    expect(restore.err.join('')).not.toMatch(/Press Ctrl-C again/);
  });
});

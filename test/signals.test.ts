import { afterEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { addCommonOptions, makeSignal, runAction } from '../src/cli/context.js';

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

  it('a run stopped too late (a restore past its swap) says it finished, and exits 0 as it did', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => err.push(s)) as never);
    const program = new Command('respaldo');
    addCommonOptions(program.command('restore')).action(
      runAction({}, async () => {
        process.emit('SIGINT', 'SIGINT'); // during the renames: nothing stops them
        await new Promise((r) => setImmediate(r));
      }),
    );
    const before = process.exitCode;
    try {
      await program.parseAsync(['restore'], { from: 'user' });
      expect(process.exitCode).toBe(0);
    } finally {
      process.exitCode = before;
    }
    expect(err.join('')).toMatch(/SIGINT received, stopping safely/);
    expect(err.join('')).toContain(
      'respaldo: the restore had passed the point where it can stop, and finished: what it reports above is done.',
    );
  });
});

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandError, InterruptedError } from '../src/core/errors.js';
import { pgProgressLine } from '../src/drivers/postgres/args.js';
import { runCapture } from '../src/exec/spawn.js';
import { makeTmpDir } from './helpers/tmp.js';

/** A child that prints progress and messages on stderr (the last line without its newline), then fails. */
const noisy = {
  command: 'sh',
  args: [
    '-c',
    'printf "pg_dump: reading extensions\\npg_dump: error: query failed\\n" >&2; sleep 0.05; ' +
      'printf "pg_dump: finished item 3 TABLE DATA t\\npg_dump: detail: Query was: LOCK TABLE t" >&2; exit 3',
  ],
};

async function failure(spec: Parameters<typeof runCapture>[0]): Promise<CommandError> {
  const err = await runCapture(spec).then(
    () => expect.fail('the child failed'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandError);
  return err as CommandError;
}

describe('spawn: the stderr tail errors quote', () => {
  it('keeps progress lines out when told which they are, the last line without a newline included', async () => {
    const err = await failure({ ...noisy, progressLine: pgProgressLine });
    expect((err.details as { stderrTail: string }).stderrTail).toBe(
      'pg_dump: error: query failed\npg_dump: detail: Query was: LOCK TABLE t',
    );
    expect(err.message).toBe(
      'sh exited with code 3: pg_dump: error: query failed | pg_dump: detail: Query was: LOCK TABLE t',
    );
  });

  it("quotes a message with its indented lines whole (libpq's server closed the connection, 3 lines)", async () => {
    const err = await failure({
      command: 'sh',
      args: [
        '-c',
        'printf "pg_dump: error: Dumping the contents of table \\"t\\" failed: PQgetResult() failed.\n' +
          'pg_dump: detail: Error message from server: server closed the connection unexpectedly\n' +
          '\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\n' +
          'pg_dump: detail: Command was: COPY public.t (id) TO stdout;\n' +
          'pg_dump: error: a worker process died unexpectedly\n" >&2; exit 1',
      ],
    });
    expect(err.message).toBe(
      'sh exited with code 1: pg_dump: detail: Error message from server: server closed the connection ' +
        'unexpectedly This probably means the server terminated abnormally before or while processing the ' +
        'request. | pg_dump: detail: Command was: COPY public.t (id) TO stdout; | pg_dump: error: a worker ' +
        'process died unexpectedly',
    );
  });

  it('keeps every line otherwise', async () => {
    const err = await failure(noisy);
    expect((err.details as { stderrTail: string }).stderrTail.split('\n')).toHaveLength(4);
  });
});

describe('spawn: privateFiles', () => {
  it("a child's files are 0600 and its folders 0700 whatever the umask, and the umask is put back", async () => {
    const dir = makeTmpDir('respaldo-umask-');
    const before = process.umask(0o022);
    try {
      const make = (sub: string, privateFiles: boolean) =>
        runCapture({ command: 'sh', args: ['-c', `mkdir ${sub} && echo rows > ${sub}/1.dat`], cwd: dir, privateFiles });
      await make('open', false);
      await make('private', true);
      expect(process.umask()).toBe(0o022);
      const mode = (p: string) => statSync(join(dir, p)).mode & 0o777;
      expect([mode('open'), mode('open/1.dat')]).toEqual([0o755, 0o644]);
      expect([mode('private'), mode('private/1.dat')]).toEqual([0o700, 0o600]);
    } finally {
      process.umask(before);
    }
  });
});

describe('spawn: stopped by the operator', () => {
  it('an abort while the child runs is an interruption (exit 130), not a failed command (exit 7)', async () => {
    const ac = new AbortController();
    const running = runCapture({ command: 'sleep', args: ['30'], signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const err = await running.then(
      () => expect.fail('the child was stopped'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).kind).toBe('interrupted');
    expect((err as InterruptedError).message).toBe('sleep was interrupted; nothing partial was published.');
  });
});

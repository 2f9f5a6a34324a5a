import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  FifoFeeder,
  MIN_PIPED_BYTES,
  childGone,
  makeFifos,
  planDataFiles,
  type PipedFile,
} from '../src/drivers/postgres/fifo-feed.js';

/**
 * Feeding named pipes (what a directory restore gives pg_restore) with real FIFOs and real reader
 * processes: files read in any order or never, a stored file failing mid-way never reaches its reader as
 * an end of file, a reader that goes away leaves no writer waiting.
 */

const posix = process.platform !== 'win32';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-fifo-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A reader process: `cat` of `fifo` into `out`; it exits 0 only when it read an end of file. */
function reader(fifo: string, out: string) {
  const outFd = openSync(join(dir, out), 'w');
  const child = spawn('cat', [join(dir, fifo)], { stdio: ['ignore', outFd, 'ignore'] });
  closeSync(outFd);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

/** Resolves once `check` holds, looking every few milliseconds (the test's timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * `lines` lines of text, in chunks, then (when `failAfter`) an error instead of the end, once `beforeFailing`
 * resolved.
 */
function source(lines: number, failAfter?: number, beforeFailing?: () => Promise<void>): Readable {
  async function* gen() {
    for (let i = 0; i < lines; i++) {
      if (failAfter !== undefined && i === failAfter) {
        await beforeFailing?.();
        throw new Error('unexpected end of file');
      }
      yield Buffer.from(`${i}\trow ${i}\n`);
    }
  }
  return Readable.from(gen());
}

const expected = (lines: number) => Array.from({ length: lines }, (_, i) => `${i}\trow ${i}\n`).join('');

describe('planDataFiles', () => {
  test.each([
    { fifos: true, min: undefined, staged: ['1.dat', '2.dat'], piped: ['3.dat'] },
    { fifos: true, min: 1, staged: ['1.dat'], piped: ['2.dat', '3.dat'] },
    { fifos: false, min: 1, staged: ['1.dat', '2.dat', '3.dat'], piped: [] },
    { fifos: true, min: Infinity, staged: ['1.dat', '2.dat', '3.dat'], piped: [] },
  ])('fifos $fifos, smallest piped $min → staged $staged, piped $piped', ({ fifos, min, staged, piped }) => {
    const files = [
      { name: '1.dat', rawBytes: 0 },
      { name: '2.dat', rawBytes: 4096 },
      { name: '3.dat', rawBytes: MIN_PIPED_BYTES },
    ];
    expect(planDataFiles(files, { fifos, ...(min === undefined ? {} : { minPipedBytes: min }) })).toEqual({
      staged,
      piped,
    });
  });
});

describe.skipIf(!posix)('FifoFeeder (real named pipes and reader processes)', () => {
  test('files opened in any order get their whole content; a file never opened is reported, nothing waits', async () => {
    expect(await makeFifos(dir, ['a.dat', 'b.dat', 'never.dat'])).toBe(true);
    expect(lstatSync(join(dir, 'a.dat')).isFIFO()).toBe(true);
    expect(lstatSync(join(dir, 'a.dat')).mode & 0o777).toBe(0o600);
    let bytes = 0;
    const files: PipedFile[] = [
      { name: 'a.dat', open: () => source(20_000) },
      { name: 'b.dat', open: () => source(3) },
      { name: 'never.dat', open: () => source(1) },
    ];
    const feeder = new FifoFeeder(dir, files, { onBytes: (n) => (bytes += n), onFailure: () => undefined });
    feeder.start();
    const b = reader('b.dat', 'b.out');
    expect(await b.exited).toEqual({ code: 0, signal: null });
    const a = reader('a.dat', 'a.out');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(feeder.stop()).toEqual({ unfinished: [], unopened: ['never.dat'] });
    expect(readFileSync(join(dir, 'a.out'), 'utf8')).toBe(expected(20_000));
    expect(readFileSync(join(dir, 'b.out'), 'utf8')).toBe(expected(3));
    expect(bytes).toBe(expected(20_000).length + expected(3).length);
  });

  test.skipIf(!existsSync('/proc/self/wchan'))(
    'a stored file failing mid-way: its reader keeps waiting for more bytes (no end of file) until it is stopped',
    async () => {
      expect(await makeFifos(dir, ['bad.dat'])).toBe(true);
      const r = reader('bad.dat', 'bad.out');
      let failure: Error | undefined;
      // The stored file fails once the reader has every byte before the failure (what the feeder still held for a
      // full pipe when its source failed is dropped: a loaded machine's slow reader then saw fewer).
      const arrived = () => until(() => statSync(join(dir, 'bad.out')).size === expected(30_000).length);
      const feeder = new FifoFeeder(dir, [{ name: 'bad.dat', open: () => source(50_000, 30_000, arrived) }], {
        onBytes: () => undefined,
        onFailure: (err) => (failure = err),
      });
      feeder.start();
      const gone = childGone(r.child);
      // The reader sleeps in read(): it was given no end of file (with one, `cat` would have exited 0 instead,
      // and its /proc entry would be gone).
      await until(() => failure !== undefined);
      await until(() => /pipe_read/.test(readFileSync(`/proc/${r.child.pid}/wchan`, 'utf8')));
      expect(r.child.exitCode).toBeNull();
      r.child.kill('SIGTERM'); // what the restore does with pg_restore
      expect(await r.exited).toEqual({ code: null, signal: 'SIGTERM' });
      await gone;
      const outcome = feeder.stop();
      expect(failure?.message).toBe('unexpected end of file');
      expect(outcome).toEqual({ failed: { name: 'bad.dat', error: failure }, unfinished: ['bad.dat'], unopened: [] });
      expect(readFileSync(join(dir, 'bad.out'), 'utf8')).toBe(expected(30_000));
    },
  );

  test('a reader that goes away mid-file (pg_restore failing): no writer waits, the file is reported unfinished', async () => {
    expect(await makeFifos(dir, ['big.dat', 'next.dat'])).toBe(true);
    const failures: Error[] = [];
    const feeder = new FifoFeeder(
      dir,
      [
        { name: 'big.dat', open: () => source(2_000_000) },
        { name: 'next.dat', open: () => source(1) },
      ],
      { onBytes: () => undefined, onFailure: (err) => failures.push(err) },
    );
    feeder.start();
    // Reads 1000 bytes and exits, as a pg_restore that fails on a row would.
    const child = spawn('sh', ['-c', 'head -c 1000 "$1" > /dev/null', 'sh', join(dir, 'big.dat')], {
      stdio: 'ignore',
    });
    await childGone(child);
    expect(feeder.stop()).toEqual({ unfinished: ['big.dat'], unopened: ['next.dat'] });
    expect(failures).toEqual([]);
  });

  test('childGone asked after the child is gone (its events past) still resolves, within the grace period', async () => {
    const child = spawn('true', [], { stdio: 'ignore' });
    await new Promise((r) => child.once('close', r));
    const started = Date.now();
    await childGone(child, 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  test('where mkfifo cannot make the pipes, none is left behind and the caller stages files instead', async () => {
    expect(await makeFifos(join(dir, 'missing-folder'), ['a.dat'])).toBe(false);
    expect(await makeFifos(dir, ['ok.dat', 'no/such/folder.dat'])).toBe(false);
    expect(existsSync(join(dir, 'ok.dat'))).toBe(false);
  });
});

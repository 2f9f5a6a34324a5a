import { describe, expect, it } from 'vitest';
import { retryWhileInUse } from '../src/drivers/shared/retry.js';

describe('retryWhileInUse (PostgreSQL swaps and rollbacks, SQL Server swap statements)', () => {
  const busy = new Error('in use');
  const other = new Error('syntax');
  /** An op failing with `errors` in turn, then answering `done`; the attempts it saw. */
  function failing(errors: Error[]) {
    const seen: number[] = [];
    const op = async (attempt: number) => {
      seen.push(attempt);
      const err = errors[attempt - 1];
      if (err) throw err;
      return 'done';
    };
    return { op, seen };
  }
  const opts = (attempts: number, retried: number[]) => ({
    attempts,
    inUse: (err: unknown) => err === busy,
    delayMs: () => 1,
    onRetry: (_err: unknown, attempt: number) => void retried.push(attempt),
  });

  it.each([
    ['succeeds at once', [], 3, 'done', [1], []],
    ['in use twice, then succeeds', [busy, busy], 3, 'done', [1, 2, 3], [1, 2]],
    [
      'in use every time: the last error after the bounded attempts',
      [busy, busy, busy, busy],
      3,
      busy,
      [1, 2, 3],
      [1, 2],
    ],
    ['another error is thrown at once', [other], 3, other, [1], []],
    ['one attempt: no retry', [busy], 1, busy, [1], []],
  ])('%s', async (_what, errors, attempts, want, attemptsSeen, retriesSeen) => {
    const { op, seen } = failing(errors as Error[]);
    const retried: number[] = [];
    const got = await retryWhileInUse(op, opts(attempts, retried)).catch((e: unknown) => e);
    expect(got).toBe(want);
    expect(seen).toEqual(attemptsSeen);
    expect(retried).toEqual(retriesSeen);
  });
});

/**
 * The one retry of the drivers: a statement that failed only because another session held the database at
 * that moment (an application reconnecting between a check and a rename) is run again a bounded number of
 * times. PostgreSQL's swap and rollback and SQL Server's swap statements go through it.
 */

/**
 * Runs `op(attempt)` (attempts from 1) again while it fails with an error `inUse` accepts, up to `attempts` runs
 * in all, waiting `delayMs(attempt)` after a failed attempt and telling `onRetry`. Throws the last error.
 */
export async function retryWhileInUse<T>(
  op: (attempt: number) => Promise<T>,
  opts: {
    attempts: number;
    inUse: (err: unknown) => boolean;
    delayMs: (attempt: number) => number;
    onRetry?: (err: unknown, attempt: number) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !opts.inUse(err)) throw err;
      opts.onRetry?.(err, attempt);
      await new Promise((resolve) => setTimeout(resolve, opts.delayMs(attempt)));
    }
  }
}

import { CORES } from '../core/cores.js';

/**
 * How many members of a multi-file dump (a PostgreSQL directory dump's tables) are stored at once. Stored one after
 * another, each small table's file waited on its own trips to the disk (open, write, fsync, close) and to the thread
 * pool while the cores idled: a create of 5000 small tables took 94–117 s against `pg_dump -Fd -j2 -Z1`'s 25.6.
 * Each member in flight holds at most its own few compression blocks, so memory stays bounded by this number, never
 * by the number of tables.
 */
export const MEMBERS_AT_ONCE = Math.max(4, Math.min(8, CORES * 2));

/**
 * Runs `work` on the items of `items` with at most `limit` running at once, and returns their results in the
 * order the items were handed (not the order they finished). The items are asked for one at a time, only when a
 * slot is free. The first failure stops the rest: the signal `work` is given aborts (as it does when `signal`
 * does), no further item is asked for, and the failure is thrown once every item running has settled, so nothing
 * of theirs is still being written when the caller cleans up.
 */
export async function mapAtOnce<T, R>(
  items: AsyncIterable<T>,
  limit: number,
  signal: AbortSignal,
  work: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const stop = new AbortController();
  const follow = (): void => stop.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  const results: R[] = [];
  const running = new Set<Promise<void>>();
  let failure: { reason: unknown } | undefined;
  const iterator = items[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (let index = 0; ; index++) {
      while (running.size >= limit && !failure) await Promise.race(running);
      if (failure || stop.signal.aborted) break;
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      if (failure) break;
      const task: Promise<void> = work(next.value, stop.signal).then(
        (result) => void (results[index] = result),
        (reason: unknown) => {
          failure ??= { reason };
          stop.abort(reason);
        },
      );
      running.add(task);
      void task.finally(() => running.delete(task));
    }
  } catch (reason) {
    // The items themselves failed (the producer): the items running are stopped too.
    failure ??= { reason };
    stop.abort(reason);
    ended = true;
  } finally {
    await Promise.allSettled(running);
    signal.removeEventListener('abort', follow);
    if (!ended) await iterator.return?.();
  }
  if (failure) throw failure.reason;
  signal.throwIfAborted();
  return results;
}

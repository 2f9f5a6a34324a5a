/**
 * mapAtOnce, which stores a directory dump's members several at a time: results in the order the items were handed
 * whatever order they finish in, never more than the limit running, the items asked for only as slots free, and a
 * failure that stops the others (their signal aborts) and is thrown only once none of them still runs.
 */
import { describe, expect, test } from 'vitest';
import { mapAtOnce, MEMBERS_AT_ONCE } from '../src/engine/at-once.js';

/** A promise and its resolver. */
function later<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The items 0..n-1 as an async iterable, noting how many were asked for and whether it was closed. */
function items(n: number): AsyncIterable<number> & { asked: number; closed: boolean } {
  const it = {
    asked: 0,
    closed: false,
    async *[Symbol.asyncIterator]() {
      try {
        for (let i = 0; i < n; i++) {
          it.asked++;
          yield i;
        }
      } finally {
        it.closed = true;
      }
    },
  };
  return it;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('mapAtOnce', () => {
  test('several at once, from 4 to 8 (bounded, not one per item)', () => {
    expect(MEMBERS_AT_ONCE).toBeGreaterThanOrEqual(4);
    expect(MEMBERS_AT_ONCE).toBeLessThanOrEqual(8);
  });

  test('results in handed order when the items finish in reverse; never more than the limit running', async () => {
    const gates = Array.from({ length: 6 }, () => later());
    let running = 0;
    let most = 0;
    const source = items(6);
    const done = mapAtOnce(source, 3, new AbortController().signal, async (i) => {
      running++;
      most = Math.max(most, running);
      await gates[i]!.promise;
      running--;
      return `item ${i}`;
    });
    await tick();
    // Three running, the fourth not yet asked for.
    expect(running).toBe(3);
    expect(source.asked).toBe(3);
    // The last running finishes first: a slot frees, the next item is asked for.
    gates[2]!.resolve();
    await tick();
    expect(source.asked).toBe(4);
    for (const i of [5, 4, 3, 1, 0]) {
      gates[i]!.resolve();
      await tick();
    }
    expect(await done).toEqual(['item 0', 'item 1', 'item 2', 'item 3', 'item 4', 'item 5']);
    expect(most).toBe(3);
    expect(source.closed).toBe(true);
  });

  test('a failure aborts the others, asks for no more items, and is thrown once every running item settled', async () => {
    const source = items(20);
    const settled: number[] = [];
    const slow = later();
    const done = mapAtOnce(source, 4, new AbortController().signal, async (i, signal) => {
      if (i === 2) {
        await tick();
        throw new Error('disk broke while storing item 2');
      }
      // The others run until stopped, and take a while to stop (a write finishing).
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      if (i === 0) await slow.promise;
      settled.push(i);
      throw signal.reason;
    });
    let thrown: unknown;
    void done.catch((e: unknown) => (thrown = e));
    await tick();
    await tick();
    // Item 0 is still stopping: nothing thrown yet.
    expect(thrown).toBeUndefined();
    expect(settled.sort()).toEqual([1, 3]);
    slow.resolve();
    await expect(done).rejects.toThrow('disk broke while storing item 2');
    expect(settled.sort()).toEqual([0, 1, 3]);
    expect(source.asked).toBe(4);
    expect(source.closed).toBe(true);
  });

  test('an abort of the caller stops the running items; a failing source stops them too', async () => {
    const ctrl = new AbortController();
    const done = mapAtOnce(items(10), 2, ctrl.signal, async (_i, signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      throw signal.reason;
    });
    await tick();
    ctrl.abort(new Error('interrupted'));
    await expect(done).rejects.toThrow('interrupted');

    const stopped: number[] = [];
    async function* breaking(): AsyncGenerator<number> {
      yield 0;
      yield 1;
      await tick();
      throw new Error('pg_dump failed');
    }
    const failing = mapAtOnce(breaking(), 4, new AbortController().signal, async (i, signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      stopped.push(i);
      return i;
    });
    await expect(failing).rejects.toThrow('pg_dump failed');
    expect(stopped.sort()).toEqual([0, 1]);
  });
});

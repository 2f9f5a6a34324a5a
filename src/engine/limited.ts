/** Work over many items with a bound on how much runs at once (files hashed or sent, manifests read). */

/**
 * Runs `work` over `items` with at most `limit` running at once, results in the order of `items`.
 * After a rejection no new item starts; the first rejection is thrown once the running ones have settled.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return results;
}

/**
 * mapLimited over the items `items` gives as they are asked for (entries read from a manifest as they are needed,
 * none held but those running): results in the order of `items`.
 */
export async function mapLimitedOf<T, R>(
  items: Iterable<T>,
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  const source = items[Symbol.iterator]();
  let next = 0;
  let failed = false;
  let ended = false;
  const lane = async (): Promise<void> => {
    while (!failed && !ended) {
      try {
        const step = source.next();
        if (step.done) {
          ended = true;
          return;
        }
        results[next++] = await work(step.value);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  try {
    const settled = await Promise.allSettled(Array.from({ length: limit }, lane));
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  } finally {
    if (!ended) source.return?.();
  }
  return results;
}

/**
 * mapLimitedOf whose results are handed to `each` in the order of `items`, each once it and all before it are done,
 * and kept no longer: memory bounded by what runs at once. An item that takes long (a large file among many small
 * ones) lets at most `ahead` items past it finish before the lanes wait for it. A throw of `each` stops it as one
 * of `work` does.
 */
export async function eachLimitedOf<T, R>(
  items: Iterable<T>,
  limit: number,
  work: (item: T) => Promise<R>,
  each: (result: R) => void,
  ahead = 1024,
): Promise<void> {
  const source = items[Symbol.iterator]();
  const done = new Map<number, R>();
  let next = 0;
  let handed = 0;
  let failed = false;
  let ended = false;
  let moved: (() => void) | null = null;
  let waiting: Promise<void> | null = null;
  const lane = async (): Promise<void> => {
    while (!failed && !ended) {
      try {
        if (next - handed >= ahead) {
          waiting ??= new Promise<void>((resolve) => (moved = resolve));
          await waiting;
          continue;
        }
        const step = source.next();
        if (step.done) {
          ended = true;
          return;
        }
        const i = next++;
        done.set(i, await work(step.value));
        while (done.has(handed)) {
          const r = done.get(handed)!;
          done.delete(handed++);
          each(r);
        }
        if (moved) {
          const wake: () => void = moved;
          moved = null;
          waiting = null;
          wake();
        }
      } catch (err) {
        failed = true;
        if (moved) (moved as () => void)();
        throw err;
      }
    }
  };
  try {
    const settled = await Promise.allSettled(Array.from({ length: limit }, lane));
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  } finally {
    if (!ended) source.return?.();
  }
}

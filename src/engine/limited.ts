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

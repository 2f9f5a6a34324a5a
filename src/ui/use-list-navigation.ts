import { useCallback, useState } from 'react';
import type { Key } from 'ink';
import { isDown, isUp } from './use-keys.js';

/**
 * Cursor over a list of `count` rows: arrows and j/k move one, PgUp/PgDn a page, Home/End the ends.
 * `handle` returns true when it consumed the key, so the screen can try its own keys next.
 */
export function useListNavigation(
  count: number,
  page = 10,
  initial = 0,
): {
  index: number;
  setIndex: (i: number) => void;
  handle: (input: string, key: Key) => boolean;
} {
  const [raw, setRaw] = useState(initial);
  const index = count === 0 ? 0 : Math.min(Math.max(raw, 0), count - 1);
  const clampSet = useCallback(
    (f: (i: number) => number) =>
      setRaw((i) => (count === 0 ? 0 : Math.min(Math.max(f(Math.min(i, count - 1)), 0), count - 1))),
    [count],
  );
  const handle = useCallback(
    (input: string, key: Key): boolean => {
      if (isUp(input, key)) clampSet((i) => i - 1);
      else if (isDown(input, key)) clampSet((i) => i + 1);
      else if (key.pageUp) clampSet((i) => i - page);
      else if (key.pageDown) clampSet((i) => i + page);
      else if (key.home) clampSet(() => 0);
      else if (key.end) clampSet(() => count - 1);
      else return false;
      return true;
    },
    [clampSet, count, page],
  );
  return { index, setIndex: (i: number) => clampSet(() => i), handle };
}

import { useCallback, useEffect, useRef, useState } from 'react';

export type AsyncState<T> =
  { state: 'idle' } | { state: 'loading' } | { state: 'done'; value: T } | { state: 'error'; error: unknown };

/**
 * Runs an engine call and keeps its state for rendering. `run` starts it (again); results of a
 * call superseded by a newer one, or arriving after unmount, are dropped.
 */
export function useAsync<T, A extends unknown[]>(
  fn: (...args: A) => Promise<T>,
): [AsyncState<T>, (...args: A) => Promise<void>, () => void] {
  const [st, setSt] = useState<AsyncState<T>>({ state: 'idle' });
  const gen = useRef(0);
  const mounted = useRef(true);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(async (...args: A) => {
    const my = ++gen.current;
    setSt({ state: 'loading' });
    try {
      const value = await fnRef.current(...args);
      if (mounted.current && my === gen.current) setSt({ state: 'done', value });
    } catch (error) {
      if (mounted.current && my === gen.current) setSt({ state: 'error', error });
    }
  }, []);
  const reset = useCallback(() => {
    gen.current++;
    setSt({ state: 'idle' });
  }, []);
  return [st, run, reset];
}

/** Runs `fn` once on mount (and when `deps` change). */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[] = []): [AsyncState<T>, () => void] {
  const [st, run] = useAsync(fn);
  const reload = useCallback(() => void run(), [run]);
  useEffect(() => reload(), deps);
  return [st.state === 'idle' ? { state: 'loading' } : st, reload];
}

import { useEffect, useState } from 'react';

/** Re-renders every `ms` while `active` (elapsed times, ages, next-run countdowns). */
export function useTick(ms: number, active = true): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(id);
  }, [ms, active]);
  return n;
}

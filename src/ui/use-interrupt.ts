import { createContext, useContext, useLayoutEffect, useRef } from 'react';

/**
 * Ctrl-C is read by the menu itself (Ink's exit-on-Ctrl-C is off). While a screen runs something
 * that must not be cut short blindly (a backup, a restore, the scheduler) it registers a handler;
 * otherwise Ctrl-C quits the menu.
 */
export interface InterruptRegistry {
  set(handler: (() => void) | null): void;
}

export const InterruptContext = createContext<InterruptRegistry>({ set: () => undefined });

/** Registers `handler` for Ctrl-C while `active`. */
export function useInterrupt(handler: () => void, active: boolean): void {
  const reg = useContext(InterruptContext);
  const ref = useRef(handler);
  ref.current = handler;
  useLayoutEffect(() => {
    if (!active) return undefined;
    reg.set(() => ref.current());
    return () => reg.set(null);
  }, [active, reg]);
}

import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Work done on the main thread in many small synchronous steps (small files stored or restored whole: store.ts,
 * restore-files.ts, a dump's small files staged) gives the event loop a turn between them, so that timers, signals
 * (Ctrl-C), a child's output and the menu's screen are not held back until the last one. Between their awaits such
 * steps only wait on promises already settled, which never let the loop turn: 5000 files of 2000 bytes restored so
 * held it for up to 0.7 s.
 */

/** The longest stretch of such steps between two turns of the event loop. */
export const BREATHE_MS = 10;

let since = performance.now();
/** The turn being waited for: every caller waits for it, or those in other chains of work would go on meanwhile. */
let pending: Promise<void> | undefined;

/**
 * A turn of the event loop when the last was BREATHE_MS or more ago, or one is already awaited (await it), else
 * undefined. Every caller waits for the same turn: work done several at a time goes on only once the loop turned.
 */
export function breathe(): Promise<void> | undefined {
  if (pending) return pending;
  if (performance.now() - since < BREATHE_MS) return undefined;
  pending = nextTurn().then(() => {
    since = performance.now();
    pending = undefined;
  });
  return pending;
}

/**
 * breathe(): small files stored or restored whole on the main thread give the event loop a turn at least every
 * BREATHE_MS, so a timer, a signal or a child's output is not held back until the last file.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { breathe, BREATHE_MS } from '../src/core/breathe.js';

afterEach(() => vi.restoreAllMocks());

describe('breathe', () => {
  it('gives the event loop a turn once BREATHE_MS passed since the last turn, and not before', async () => {
    let now = 1e12; // later than any real clock reading the module kept
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    await breathe(); // the clock's start, whatever earlier tests left
    now += BREATHE_MS - 1;
    expect(breathe()).toBeUndefined();
    now += 1;
    // Work the loop had queued before (an I/O callback, a signal's handler): run before the work goes on
    let ran = false;
    setImmediate(() => (ran = true));
    const turn = breathe();
    expect(turn).toBeInstanceOf(Promise);
    // Another chain of work (files restored several at once) waits for the same turn instead of going on
    expect(breathe()).toBe(turn);
    await turn;
    expect(ran).toBe(true);
    expect(breathe()).toBeUndefined();
  });
});

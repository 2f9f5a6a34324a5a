import type { Clock } from '../../src/scheduler/scheduler.js';

/**
 * A Clock whose time only moves when the test says so. Timers fire in time order during
 * `advance`; between timers, real I/O (state file writes) is given time to finish.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private timerWaiters: Array<() => void> = [];

  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    for (const w of this.timerWaiters.splice(0)) w();
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.timers.size;
  }

  /** Number of `sleep` calls waiting for fake time (e.g. fake jobs in progress). */
  sleepers = 0;

  private sleepWaiters: Array<() => void> = [];

  /** Resolves as soon as a fake job is sleeping (at once if one already is): no polling, no timeout luck. */
  untilSleeping(): Promise<void> {
    if (this.sleepers > 0) return Promise.resolve();
    return new Promise((resolve) => this.sleepWaiters.push(resolve));
  }

  /** Resolves after `ms` of fake time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleepers++;
    for (const w of this.sleepWaiters.splice(0)) w();
    return new Promise((resolve, reject) => {
      const id = this.setTimeout(() => {
        this.sleepers--;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        this.sleepers--;
        this.clearTimeout(id);
        reject(signal!.reason);
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Moves time forward by `ms`, firing due timers in order and letting real I/O settle. With `untilTimer`, the
   * settling after a timer ends as soon as a new timer is set (a loop that sleeps again between looks: a wait of
   * hours in steps of seconds is thousands of timers, each settled in a few real ms instead of ~25).
   */
  async advance(ms: number, opts: { untilTimer?: boolean } = {}): Promise<void> {
    const target = this.t + ms;
    for (let first = true; ; first = false) {
      if (opts.untilTimer && !first) await Promise.race([settle(), this.nextTimerSet()]);
      else await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= target && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = target;
    await settle();
  }

  private nextTimerSet(): Promise<void> {
    return new Promise((resolve) => this.timerWaiters.push(resolve));
  }

  /** Waits until a fake job is sleeping, then advances by `ms`: finishes a job of that length. */
  async advanceJob(ms: number): Promise<void> {
    await this.untilSleeping();
    await this.advance(ms);
  }

  async advanceTo(at: Date | string): Promise<void> {
    await this.advance(new Date(at).getTime() - this.t);
  }
}

/**
 * Lets pending promise chains and small real file writes finish. Only a courtesy between fake timers:
 * never proof that something did not happen (wait for an event or assert synchronous state instead).
 */
export async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 5));
}

/** Polls (real time) until `pred` holds; fails the test with `what` after `timeoutMs`. */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Something with the Scheduler's `status()` and `state` event. */
interface Observable {
  status(): { running: string | null };
  on(event: 'state', fn: (s: { running: string | null }) => void): unknown;
  off(event: 'state', fn: (s: { running: string | null }) => void): unknown;
}

/**
 * Resolves once no job is running (a running job is done only after its state write and retention):
 * at once when idle, else on the `state` event the scheduler emits when the job is cleared.
 */
export function untilIdle(s: Observable): Promise<void> {
  if (s.status().running === null) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (st: { running: string | null }): void => {
      if (st.running !== null) return;
      s.off('state', on);
      resolve();
    };
    s.on('state', on);
  });
}

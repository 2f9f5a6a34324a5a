import type { Phrase } from './phrases.js';

/**
 * Progress leaves the engine as typed events through a Reporter it is given.
 * The text reporter, the JSON reporter and the Ink screens all consume the same events. A warning, a note or
 * a step (`item-progress`) may carry its sentence as a phrase (src/core/phrases.ts): `message` is its English
 * text (CLI, JSON, logs), and the menu says it in the operator's language.
 */
export type ProgressEvent =
  | {
      type: 'run-start';
      operation: 'create' | 'restore' | 'verify' | 'prune' | 'drill';
      setId?: string;
      items: string[];
    }
  | {
      type: 'item-start';
      item: string;
      /** `fetch`: the files of a set fetched from a destination for a restore (`totalBytes`: all of them). */
      kind: 'database' | 'files' | 'verify' | 'restore' | 'fetch';
      totalBytes?: number;
    }
  | {
      type: 'item-progress';
      item: string;
      bytes: number;
      totalBytes?: number;
      percent?: number;
      /** The step under way, in English (CLI, logs); `phrase` says it in the menu's language. */
      message?: string;
      phrase?: Phrase;
    }
  | {
      type: 'item-end';
      item: string;
      ok: boolean;
      bytes?: number;
      durationMs?: number;
      error?: string;
      hint?: string;
      /** `error` and `hint` as phrases, for the menu's language (an error with a phrase, no aftermath). */
      errorPhrase?: Phrase;
      hintPhrase?: Phrase;
    }
  | { type: 'warning'; message: string; item?: string; phrase?: Phrase }
  | { type: 'info'; message: string; phrase?: Phrase }
  | { type: 'run-end'; ok: boolean; setId?: string; status?: string; durationMs: number };

export interface Reporter {
  emit(event: ProgressEvent): void;
}

/** A reporter that drops everything: for callers that do not care about progress. */
export const silentReporter: Reporter = { emit: () => undefined };

/** Collects events in memory (used by tests and by the menu). */
export class CollectingReporter implements Reporter {
  readonly events: ProgressEvent[] = [];
  emit(event: ProgressEvent): void {
    this.events.push(event);
  }
}

/** Fans one event out to several reporters. */
export function teeReporter(...reporters: Reporter[]): Reporter {
  return { emit: (e) => reporters.forEach((r) => r.emit(e)) };
}

/** Calls `fn` at most once every `ms` milliseconds (progress events); calls in between are dropped. */
export function throttled(fn: (n: number) => void, ms = 250): (n: number) => void {
  let last = 0;
  return (n) => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn(n);
    }
  };
}

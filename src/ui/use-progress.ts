import { useEffect, useMemo, useRef, useState } from 'react';
import type { ProgressEvent, Reporter } from '../core/events.js';
import type { Phrase } from '../core/phrases.js';
import { say } from './i18n/index.js';
import { useUi } from './use-ui.js';

/** One item (database, file group, verify, restore target) as the progress bars draw it. */
export interface ItemProgress {
  item: string;
  kind: 'database' | 'files' | 'verify' | 'restore' | 'fetch' | undefined;
  state: 'pending' | 'running' | 'ok' | 'failed';
  /** Bytes read so far (raw). */
  bytes: number;
  totalBytes: number | undefined;
  /** Bytes stored once the item ended (compressed size for backups), when the engine says. */
  storedBytes: number | undefined;
  percent: number | undefined;
  /** The step under way (a PostgreSQL restore's), in the menu's language where it has a phrase. */
  message: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  error: string | undefined;
  hint: string | undefined;
}

export interface ProgressState {
  items: ItemProgress[];
  warnings: string[];
  info: string[];
  /**
   * The notes that carried a phrase, in the menu's language by their English message (the summary says the
   * manifest's English chain notes with them).
   */
  said: Record<string, string>;
  ended: { ok: boolean; setId?: string; status?: string; durationMs: number } | null;
}

export const emptyProgress: ProgressState = { items: [], warnings: [], info: [], said: {}, ended: null };

function blank(item: string): ItemProgress {
  return {
    item,
    kind: undefined,
    state: 'pending',
    bytes: 0,
    totalBytes: undefined,
    storedBytes: undefined,
    percent: undefined,
    message: undefined,
    startedAt: undefined,
    endedAt: undefined,
    error: undefined,
    hint: undefined,
  };
}

/** How a warning, a note or a step is shown: its phrase in the menu's language when it has one, else its message. */
export type SayEvent = (e: { message: string; phrase?: Phrase }) => string;

/** Pure reducer from engine ProgressEvents to what the screens draw. `now` is epoch ms. */
export function reduceProgress(
  s: ProgressState,
  e: ProgressEvent,
  now: number,
  sayEvent: SayEvent = (w) => w.message,
): ProgressState {
  const upsert = (item: string, f: (p: ItemProgress) => ItemProgress): ItemProgress[] => {
    const i = s.items.findIndex((p) => p.item === item);
    if (i === -1) return [...s.items, f(blank(item))];
    const copy = s.items.slice();
    copy[i] = f(copy[i]!);
    return copy;
  };
  switch (e.type) {
    case 'run-start': {
      const known = new Set(s.items.map((p) => p.item));
      return { ...s, ended: null, items: [...s.items, ...e.items.filter((i) => !known.has(i)).map(blank)] };
    }
    case 'item-start':
      return {
        ...s,
        items: upsert(e.item, (p) => ({
          ...p,
          kind: e.kind,
          state: 'running',
          startedAt: now,
          totalBytes: e.totalBytes ?? p.totalBytes,
          // A new phase of the item (the restore after its safety copy): the step of the one before is over,
          // and so are its bytes, percent and end (a bar at 100 % over "25 MB/295 MB", its time "-").
          message: undefined,
          bytes: 0,
          percent: undefined,
          endedAt: undefined,
          storedBytes: undefined,
        })),
      };
    case 'item-progress':
      return {
        ...s,
        items: upsert(e.item, (p) => ({
          ...p,
          state: p.state === 'pending' ? 'running' : p.state,
          startedAt: p.startedAt ?? now,
          bytes: e.bytes,
          totalBytes: e.totalBytes ?? p.totalBytes,
          percent: e.percent ?? p.percent,
          message:
            e.message !== undefined
              ? sayEvent({ message: e.message, ...(e.phrase ? { phrase: e.phrase } : {}) })
              : p.message,
        })),
      };
    case 'item-end':
      return {
        ...s,
        items: upsert(e.item, (p) => ({
          ...p,
          state: e.ok ? 'ok' : 'failed',
          bytes: e.ok && p.totalBytes !== undefined ? Math.max(p.bytes, p.totalBytes) : p.bytes,
          storedBytes: e.bytes,
          startedAt: p.startedAt ?? now,
          endedAt: e.durationMs !== undefined && p.startedAt !== undefined ? p.startedAt + e.durationMs : now,
          error: e.error !== undefined ? sayEvent({ message: e.error, phrase: e.errorPhrase }) : undefined,
          hint: e.hint !== undefined ? sayEvent({ message: e.hint, phrase: e.hintPhrase }) : undefined,
          percent: e.ok ? 100 : p.percent,
        })),
      };
    case 'warning':
      return { ...s, warnings: [...s.warnings, e.item ? `${e.item}: ${sayEvent(e)}` : sayEvent(e)] };
    case 'info':
      return {
        ...s,
        info: [...s.info.slice(-19), sayEvent(e)],
        ...(e.phrase ? { said: { ...s.said, [e.message]: sayEvent(e) } } : {}),
      };
    case 'run-end':
      return { ...s, ended: { ok: e.ok, setId: e.setId, status: e.status, durationMs: e.durationMs } };
  }
}

/**
 * A Reporter for the engine plus the state it builds. Events are folded at once; the screen is
 * redrawn at most every `intervalMs` so a fast dump does not flood the terminal.
 */
export function useProgress(
  now: () => number = Date.now,
  intervalMs = 100,
): { reporter: Reporter; progress: ProgressState; reset: () => void } {
  const { lang, theme } = useUi();
  const sayEvent: SayEvent = (e) => say(lang, e.phrase, e.message, theme.unicode);
  const ref = useRef<ProgressState>(emptyProgress);
  const [progress, setProgress] = useState<ProgressState>(emptyProgress);
  const timer = useRef<NodeJS.Timeout | undefined>(undefined);
  const flush = (): void => {
    timer.current = undefined;
    setProgress(ref.current);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  const reporter = useMemo<Reporter>(
    () => ({
      emit(e: ProgressEvent) {
        ref.current = reduceProgress(ref.current, e, now(), sayEvent);
        if (e.type === 'item-progress') {
          if (!timer.current) timer.current = setTimeout(flush, intervalMs);
        } else {
          clearTimeout(timer.current);
          flush();
        }
      },
    }),
    [],
  );
  const reset = (): void => {
    ref.current = emptyProgress;
    setProgress(emptyProgress);
  };
  return { reporter, progress, reset };
}

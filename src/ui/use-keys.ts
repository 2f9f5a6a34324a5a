import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type MutableRefObject,
  type ReactNode,
} from 'react';
import { useInput, useStdin, type Key } from 'ink';

/** Ink's key, plus `chunked`: the key arrived in one write with other keys (a paste, a laggy link). */
export type ChunkKey = Key & { chunked: boolean };
type Handler = (input: string, key: ChunkKey) => void;
type Pass = (input: string, key: ChunkKey) => boolean;
interface Entry {
  handler: MutableRefObject<Handler>;
  enabled: MutableRefObject<boolean>;
}
interface Dispatcher {
  add(entry: Entry): () => void;
  /**
   * Keys wait in the queue (Ctrl-C excepted) until every hold is released. Returns the release. A key `passes`
   * accepts (Esc, where it stops the wait) is handed out at once too, and the keys typed before it are dropped (they
   * were for the screen the wait would have led to).
   */
  hold(passes?: Pass): () => void;
  /** Drops the keys waiting in the queue once those typed so far are read, then calls `then`. */
  drop(then: () => void): void;
}

const KeyContext = createContext<Dispatcher | null>(null);

/**
 * The one stdin listener of the menu. Keys are queued in React state and handed out one per
 * commit, from a layout effect (the next one in a task of its own, so a burst of any length is not
 * one chain of nested updates): each key is handled by the screen and state the previous key
 * left on screen (handlers are swapped in at commit time too), so keys typed ahead, pasted or sent
 * by tmux in a burst are never handled against stale state nor by a screen already replaced.
 * Ink hands plain text that arrives in one write (a paste, a held key, keys coalesced by a slow
 * link) as one string: it is split here into one key per character (see splitKeys).
 * A screen waiting on work (the sets loading, a plan made, a set fetched, a key opened) holds the keys
 * (useHeldKeys): typed ahead, they wait, as a terminal keeps them, for the screen that comes next.
 * Raw mode is only requested when stdin is a TTY (Ink's isRawModeSupported is `undefined`, not
 * false, without one).
 */
export function KeyRoot({ children }: { children: ReactNode }) {
  // Ink's own emitter of input events (`internal_`: not in its documented API; absent, two Esc stay one key).
  const { isRawModeSupported, internal_eventEmitter: rawInput } = useStdin();
  const entries = useRef<Entry[]>([]);
  const [pending, setPending] = useState<[string, ChunkKey][]>([]);
  const holds = useRef<{ passes: Pass | undefined }[]>([]);
  // Bumped when the last hold is released, so the keys that waited are handed out.
  const [released, setReleased] = useState(0);
  const dispatcher = useMemo<Dispatcher>(
    () => ({
      add(entry) {
        entries.current = [...entries.current, entry];
        return () => {
          entries.current = entries.current.filter((e) => e !== entry);
        };
      },
      hold(passes) {
        const h = { passes };
        holds.current = [...holds.current, h];
        return () => {
          if (!holds.current.includes(h)) return;
          holds.current = holds.current.filter((x) => x !== h);
          if (holds.current.length === 0) setReleased((n) => n + 1);
        };
      },
      drop(then) {
        // Keys typed while the work ran are read in the next poll for input (later still if that work held the
        // event loop), which comes before the second of these immediates.
        setImmediate(() =>
          setImmediate(() => {
            setPending([]);
            then();
          }),
        );
      },
    }),
    [],
  );
  const handled = useRef<[string, ChunkKey] | null>(null);
  useLayoutEffect(() => {
    // While held, only a Ctrl-C is handed out (ahead of the keys that wait): it must never wait; and a key a hold
    // lets pass (Esc stopping the wait), with the keys typed before it dropped.
    const held = holds.current.length > 0;
    const passes = ([i, k]: [string, ChunkKey]): boolean => holds.current.some((h) => h.passes?.(i, k));
    const next = held ? pending.find((x) => isCtrlC(...x) || passes(x)) : pending[0];
    if (!next || handled.current === next) return;
    const dropBefore = held && !isCtrlC(...next);
    handled.current = next;
    for (const e of entries.current) if (e.enabled.current) e.handler.current(next[0], next[1]);
    // The next key in a task of its own: taken here, in the commit, each key of a burst was one more nested
    // update, and React stopped the menu at 50 of them ("Maximum update depth exceeded": a pasted passphrase).
    setImmediate(() =>
      setPending((p) => {
        const at = p.indexOf(next);
        if (at < 0) return p;
        return dropBefore ? p.slice(at + 1) : p.filter((x) => x !== next);
      }),
    );
  }, [pending, released]);
  const onInput = useCallback((input: string, key: Key) => setPending((p) => [...p, ...splitKeys(input, key)]), []);
  // The event's text, which useInput does not pass on (extraKeys). Its listener and useInput's both run for each event
  // before the next one is read, in either order: the keys it adds are the same as the one useInput's adds.
  useEffect(() => {
    if (isRawModeSupported !== true || !rawInput) return;
    const onRaw = (raw: unknown) => {
      const more = typeof raw === 'string' ? extraKeys(raw) : [];
      if (more.length) setPending((p) => [...p, ...more]);
    };
    rawInput.on('input', onRaw);
    return () => void rawInput.removeListener('input', onRaw);
  }, [rawInput, isRawModeSupported]);
  useInput(onInput, { isActive: isRawModeSupported === true });
  return createElement(KeyContext.Provider, { value: dispatcher }, children);
}

/**
 * Handles keys while `active` (a screen switches itself off while a child, such as a typed
 * confirmation, owns the keys). Must be used under <KeyRoot>. The handler and `active` are
 * swapped in at commit time, so each key sees the state on screen.
 */
export function useKeys(handler: Handler, active = true): void {
  const dispatcher = useContext(KeyContext);
  if (!dispatcher) throw new Error('useKeys() outside <KeyRoot>');
  const current = useRef(handler);
  const enabled = useRef(false);
  useLayoutEffect(() => {
    current.current = handler;
    enabled.current = active;
  });
  useLayoutEffect(() => {
    const remove = dispatcher.add({ handler: current, enabled });
    return () => {
      enabled.current = false;
      remove();
    };
  }, [dispatcher]);
}

/**
 * While `held`, keys typed wait for the screen that comes next instead of being handled by this one (which is
 * waiting on work, and would drop them); Ctrl-C is handled at once, and so is a key `passes` accepts (Esc where it
 * stops the wait), the keys typed before it dropped. Returns `failed(then)`: a screen whose work failed (a wrong
 * passphrase, a plan that could not be made) drops the keys typed meanwhile, then, in `then`, lets go (shows the
 * failure), as a terminal's password prompt does, so nothing typed for the next screen lands on the failure.
 */
export function useHeldKeys(held: boolean, passes?: Pass): (then: () => void) => void {
  const dispatcher = useContext(KeyContext);
  if (!dispatcher) throw new Error('useHeldKeys() outside <KeyRoot>');
  const pass = useRef(passes);
  useLayoutEffect(() => {
    pass.current = passes;
  });
  useLayoutEffect(
    () => (held ? dispatcher.hold((input, key) => pass.current?.(input, key) ?? false) : undefined),
    [held, dispatcher],
  );
  return dispatcher.drop;
}

const NO_KEY: Omit<Key, 'eventType'> = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** Esc as Ink reports it alone (meta set, as for every Esc). */
const ESC_KEY: Omit<Key, 'eventType'> = { ...NO_KEY, escape: true, meta: true };

/**
 * Keys one of Ink's input events holds beyond the one its key says: two Esc read in one write (pressed twice over a
 * slow link) are one event, an Esc with its `input` emptied, as the Alt+Esc some terminals send the same way; the
 * menu, which has no Alt+Esc, went back one screen for two presses. `raw` is the event's text.
 */
export function extraKeys(raw: string): [string, ChunkKey][] {
  return raw === '\x1b\x1b' ? [['', { ...ESC_KEY, chunked: true }]] : [];
}

/** The key of one character of plain text, as Ink reports the same character written alone. */
function keyOf(ch: string): [string, Key] {
  if (ch === '\r') return ['', { ...NO_KEY, return: true }];
  if (ch === '\t') return ['', { ...NO_KEY, tab: true }];
  if (ch === '\b') return ['', { ...NO_KEY, backspace: true }];
  if (ch === '\x7f') return ['', { ...NO_KEY, delete: true }];
  if (ch === '\n') return ['', { ...NO_KEY }];
  if (ch < '\x1b') return [String.fromCharCode(ch.charCodeAt(0) + 96), { ...NO_KEY, ctrl: true }];
  return [ch, { ...NO_KEY, shift: /^[A-Z]$/.test(ch) }];
}

/**
 * The keys of one input event in order: an escape sequence or a single character as Ink parsed it,
 * plain text of several characters (which Ink leaves whole) one key per character, each marked
 * `chunked`.
 */
export function splitKeys(input: string, key?: Key): [string, ChunkKey][] {
  const chars = [...input];
  if (chars.length <= 1 || input.includes('\x1b')) {
    const [i, k] = key ? [input, key] : keyOf(input);
    return [[i, { ...k, chunked: false }]];
  }
  return chars.map((ch) => {
    const [i, k] = keyOf(ch);
    return [i, { ...k, chunked: true }];
  });
}

/** Enter, Esc, arrows, j/k: the keys of a list. */
export function isUp(input: string, key: Key): boolean {
  return key.upArrow || (input === 'k' && !key.ctrl && !key.meta);
}

export function isDown(input: string, key: Key): boolean {
  return key.downArrow || (input === 'j' && !key.ctrl && !key.meta);
}

export function isCtrlC(input: string, key: Key): boolean {
  return input === '\x03' || (key.ctrl && input === 'c');
}

/**
 * Applies a keypress to a line of text: printable characters are appended (a paste arrives as
 * one string), Backspace/Delete remove the last character. Returns null when the key is not an edit.
 */
export function editText(value: string, input: string, key: Key): string | null {
  if (key.backspace || key.delete) return value.slice(0, -1);
  if (
    key.ctrl ||
    key.meta ||
    key.return ||
    key.escape ||
    key.tab ||
    key.upArrow ||
    key.downArrow ||
    key.leftArrow ||
    key.rightArrow ||
    key.pageDown ||
    key.pageUp
  )
    return null;
  const printable = input.replace(/[\x00-\x1f\x7f]/g, '');
  if (!printable) return null;
  return value + printable;
}

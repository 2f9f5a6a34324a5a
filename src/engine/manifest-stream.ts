import { closeSync, openSync, readSync } from 'node:fs';
import type { Manifest } from '../core/types.js';

/**
 * A manifest read in pieces: CHUNK bytes at a time, each entry of its `files` and `folders` parsed on its own
 * (JSON.parse of its text), every other top-level field parsed whole. Read whole, the manifest of a set of 50 000
 * files (29 MB) was held three ways at once, its bytes, its text and what JSON.parse made of it, and that parse
 * alone kept about 1.1 KiB a file against 0.5 parsed one entry at a time: `restore --files` of such a set peaked at
 * 213–228 MiB RSS.
 *
 * It gives what `JSON.parse` of the whole text gives, or undefined whenever the text is anything but UTF-8 JSON of an
 * object whose pieces it can tell apart (a byte that is no UTF-8, a BOM, a syntax error anywhere, a key
 * `__proto__`): the caller then reads the file whole as before, for the same error, with the line or position it
 * names. Pieces are told apart only by JSON's own structure (strings, brackets, commas and colons), never by the
 * layout respaldo writes: a manifest edited or written by an older version reads the same. `chunkBytes`: read at a
 * time (tests cut strings and characters with small ones).
 */
export function parseManifestInPieces(
  file: string,
  chunkBytes = CHUNK,
  opts: { onFile?: (entry: unknown) => void } = {},
): Manifest | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    for (const step of manifestPieces(fd, chunkBytes, opts.onFile)) if (step !== null) return step;
    return undefined;
  } catch {
    return undefined; // not UTF-8, or a piece that is no JSON: read whole, the error is the one it always was
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The pieces of the manifest open as `fd` read from its start: null after each piece read (what `onFile` was given
 * of it is used), then the manifest once read whole, or undefined for text this does not read (the caller reads it
 * whole). With `onFile` each entry of `files` goes to it as it is parsed and none is kept: the manifest's `files` is
 * then empty, and a manifest with two `files` fields (JSON.parse keeps the last) is one this does not read. Throws
 * for a piece that is not JSON or bytes that are not UTF-8.
 */
export function* manifestPieces(
  fd: number,
  chunkBytes = CHUNK,
  onFile?: (entry: unknown) => void,
): Generator<null | Manifest | undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const parser = new PieceParser(onFile);
  for (let at = 0; ;) {
    const n = readSync(fd, chunk, 0, chunkBytes, at);
    at += n;
    const text = decoder.decode(chunk.subarray(0, n), { stream: n > 0 });
    if (!parser.feed(text)) return yield undefined;
    if (n === 0) return yield parser.end();
    yield null;
  }
}

/**
 * Bytes read at a time. Under 128 KiB, so the text of a piece is no large object: those are freed only by full
 * collections: read 1 MiB at a time, the manifest of 100 000 files (58 MB) peaked at 167–189 MiB RSS, 111 so.
 */
const CHUNK = 64 << 10;

/** How much of a top-level value read whole wholeValue waits for its closing line before reading it otherwise. */
const WHOLE_VALUE_WAIT = 32 << 20;

/** The top-level fields whose arrays are parsed an entry at a time. */
const LISTS = new Set(['files', 'folders']);

const BLANK = /^[ \t\n\r]*$/;

/** Strings many entries hold, one copy each. */
const SHARED = new Map(['application', 'config', 'file', 'symlink'].map((s) => [s, s]));

/**
 * Reads a JSON object fed in pieces of text. `depth` counts brackets (1 directly inside the top-level object); there
 * each key, colon, value and comma is checked in turn, and each value is parsed once its `,` or `}` is read.
 */
class PieceParser {
  private text = '';
  /** Where scanning goes on in `text`. */
  private at = 0;
  private depth = 0;
  private done = false;
  private readonly out: Record<string, unknown> = {};
  /** Inside the top-level object: a key is expected, its colon, its value, or the `,` or `}` after it. */
  private expect: 'key' | 'colon' | 'value' | 'next' = 'key';
  private key = '';
  /** Start in `text` of the value being read, or of the list entry being read; -1 when none. */
  private start = -1;
  /** The value of `key`, a list read entry by entry (null when it is read whole). */
  private list: unknown[] | null = null;
  /** The list entry being read was parsed whole (wholeEntry): only blanks may come before its `,` or `]`. */
  private parsed = false;
  /** wholeEntry is tried: no entry it found was laid out otherwise. */
  private fast = true;
  /** An indent whose closing line wholeEntry found nowhere in `text` (until more is fed). */
  private missing: string | null = null;
  /** The blanks that begin the line of the last top-level key (null: it is not at the start of a line). */
  private keyIndent: string | null = null;
  /**
   * A top-level value read whole (not a list read entry by entry) whose closing line is looked for (wholeValue): where
   * it opens in `text`, the line that closes it, and where to look from.
   */
  private closing: { open: number; marker: string; from: number } | null = null;
  /**
   * The text of that value while its closing line is not read yet: kept in pieces, each looked through once (with the
   * end of the one before, where the line may begin), joined once that line is read. Added to one string a piece at a
   * time, the value was copied again at each (4 ms a piece of a 2.4 MB value, here).
   */
  private waiting: { parts: string[]; size: number; tail: string } | null = null;
  /** wholeValue is tried: no value it found was laid out otherwise. */
  private fastValues = true;
  /** Owners as their JSON text: entries with the same owner share one object. */
  private readonly owners = new Map<string, unknown>();
  /** Entries of the list being read (those given to `onFile` too). */
  private count = 0;
  /** A `files` list was given to `onFile`. */
  private streamed = false;

  /** `onFile`: where the entries of `files` go instead of its array (parseManifestInPieces). */
  constructor(private readonly onFile?: (entry: unknown) => void) {}

  /** Adds text; false when it cannot be a JSON object this reads (JSON.parse of a piece may also throw). */
  feed(more: string): boolean {
    if (this.waiting) {
      const w = this.waiting;
      const marker = this.closing!.marker;
      const seam = w.tail + more;
      if (!seam.includes(marker) && w.size + more.length <= WHOLE_VALUE_WAIT && more.length > 0) {
        w.parts.push(more);
        w.size += more.length;
        w.tail = seam.slice(1 - marker.length);
        return true;
      }
      // Its closing line is here (or it is too long to wait for, or the text ended): one text again, from the value.
      w.parts.push(more);
      this.text = w.parts.join('');
      this.closing!.open = 0;
      this.closing!.from = Math.max(1, w.size - w.tail.length);
      this.at = 1;
      this.start = 0;
      this.waiting = null;
    } else this.text += more;
    this.missing = null;
    if (!this.scan()) return false;
    // Keep only what a piece still being read needs.
    const keep = this.start >= 0 ? Math.min(this.start, this.at) : this.at;
    if (keep > 0) {
      this.text = this.text.slice(keep);
      this.at -= keep;
      if (this.start >= 0) this.start -= keep;
      if (this.closing) {
        this.closing.open -= keep;
        this.closing.from -= keep;
      }
    }
    return true;
  }

  /** At the end of the text: the object, or undefined when it was not whole. */
  end(): Manifest | undefined {
    if (!this.done || !BLANK.test(this.text.slice(this.at))) return undefined;
    return this.out as unknown as Manifest;
  }

  private scan(): boolean {
    if (this.closing && this.wholeValue() === 'more') return true;
    const t = this.text;
    for (let i = this.at; i < t.length; i++) {
      const code = t.charCodeAt(i);
      // Only `"` `,` `:` `[` `]` `{` `}` matter (found by a regular expression instead, a read took 1.7 times as long)
      if (code !== 34 && code !== 44 && code !== 58 && (code | 32) !== 123 && (code | 32) !== 125) continue;
      const c = t[i]!;
      const before = this.at;
      if (this.done) return false; // anything but blanks after the object
      if (c === '"') {
        const close = stringEnd(t, i);
        if (close < 0) return true; // the string goes on in the next piece
        const open = i;
        this.at = close + 1;
        i = close;
        if (this.depth !== 1) {
          if (this.depth === 0) return false;
          continue;
        }
        if (this.expect === 'key') {
          const lead = t.slice(before, open);
          if (!BLANK.test(lead)) return false;
          const nl = lead.lastIndexOf('\n');
          this.keyIndent = nl >= 0 ? lead.slice(nl + 1) : null;
          this.key = JSON.parse(t.slice(open, close + 1)) as string;
          if (this.key === '__proto__') return false;
          this.expect = 'colon';
        } else if (this.expect === 'value') this.expect = 'next';
        else return false;
        continue;
      }
      this.at = i + 1;
      if (this.depth === 0) {
        if (c !== '{' || !BLANK.test(t.slice(before, i))) return false;
        this.depth = 1;
      } else if (this.depth === 1) {
        if (!this.topLevel(c, i, before)) return false;
        if (this.closing) {
          const close = this.wholeValue();
          if (close === 'more') return true;
          if (close >= 0) i = close;
        }
      } else if (c === '{' && this.depth === 2 && this.list && !this.parsed && this.fast) {
        const close = this.wholeEntry(i);
        if (close < 0) this.depth++;
        else {
          this.at = close + 1;
          i = close;
        }
      } else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        if (this.depth === 2 && this.list) {
          if (c !== ']') return false;
          this.entry(i, true);
          this.out[this.key] = this.list;
          this.list = null;
          this.start = -1;
        }
        this.depth--;
      } else if (c === ',' && this.depth === 2 && this.list) this.entry(i, false);
    }
    return true; // more text needed (what follows `at` is read again with it)
  }

  /** The structural character `c` at `i` directly inside the top-level object; `before`: where the last one ended. */
  private topLevel(c: string, i: number, before: number): boolean {
    const t = this.text;
    if (c === ':') {
      if (this.expect !== 'colon' || !BLANK.test(t.slice(before, i))) return false;
      this.expect = 'value';
      this.start = i + 1;
      return true;
    }
    if (c === '{' || c === '[') {
      if (this.expect !== 'value' || !BLANK.test(t.slice(this.start, i))) return false;
      if (c === '[' && LISTS.has(this.key)) {
        if (this.onFile && this.key === 'files') {
          if (this.streamed) return false; // a second `files`: JSON.parse keeps the last, read whole
          this.streamed = true;
        }
        this.list = [];
        this.count = 0;
        this.start = i + 1;
      } else {
        this.start = i;
        if (this.fastValues && this.keyIndent !== null)
          this.closing = { open: i, marker: `\n${this.keyIndent}${c === '{' ? '}' : ']'}`, from: i + 1 };
      }
      this.expect = 'next';
      this.depth = 2;
      return true;
    }
    if (c === ',' || c === '}') {
      if (this.expect === 'key') {
        // Only `{}`: a `}` after a comma, or a comma where a key should be, is no JSON.
        if (c !== '}' || Object.keys(this.out).length > 0 || !BLANK.test(t.slice(before, i))) return false;
      } else if (this.expect === 'value' || this.expect === 'next') {
        // A value read whole is parsed here; after a list read entry by entry only blanks may come.
        if (this.start >= 0) this.out[this.key] = JSON.parse(t.slice(this.start, i));
        else if (!BLANK.test(t.slice(before, i))) return false;
        this.start = -1;
        this.expect = 'key';
      } else return false;
      if (c === '}') {
        this.done = true;
        this.depth = 0;
      }
      return true;
    }
    return false; // `]` at the top level
  }

  /**
   * The top-level value read whole that opens at `closing.open` (`databases`, whose entries a PostgreSQL dump of 5000
   * tables makes 2.4 MB of), found without reading it character by character: it ends at the first line that closes it
   * indented as its key's line is (a line break is never inside a JSON string), where JSON.stringify(m, null, 2) ends
   * it. Parsed and kept when the text up to there is one JSON value (then it is that value, whatever the layout);
   * returns where it ends. 'more' while that line is not in the text; -1 when it is read character by character
   * instead (laid out otherwise, or no such line within WHOLE_VALUE_WAIT). Read character by character, the
   * `databases` of 5000 tables took 0.4–0.8 s, each time a create, `list` or `restore` read that set's manifest.
   */
  private wholeValue(): number | 'more' {
    const c = this.closing!;
    const t = this.text;
    this.at = c.open + 1;
    if (t.length <= c.open + 1) return 'more';
    // Only a value laid out over lines, as JSON.stringify(m, null, 2) writes one that is not empty (`[]` is not).
    if (t[c.open + 1] !== '\n') {
      this.closing = null;
      return -1;
    }
    const found = t.indexOf(c.marker, c.from);
    if (found < 0 && t.length - c.open <= WHOLE_VALUE_WAIT) {
      this.waiting = { parts: [t.slice(c.open)], size: t.length - c.open, tail: t.slice(1 - c.marker.length) };
      this.text = '';
      this.at = 0;
      this.start = 0;
      return 'more';
    }
    this.closing = null;
    if (found < 0) return -1;
    const close = found + c.marker.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(t.slice(c.open, close + 1));
    } catch {
      this.fastValues = false; // laid out otherwise: read character by character from now on
      return -1;
    }
    this.out[this.key] = value;
    this.start = -1;
    this.depth = 1;
    this.at = close + 1;
    return close;
  }

  /** The list entry that ends at `i` (a `,`, or the `]` when `last`); JSON.parse throws when there is none. */
  private entry(i: number, last: boolean): void {
    const piece = this.text.slice(this.start, i);
    this.start = i + 1;
    if (this.parsed) {
      this.parsed = false;
      if (!BLANK.test(piece)) throw new SyntaxError('not JSON');
      return;
    }
    if (last && this.count === 0 && BLANK.test(piece)) return; // []
    this.keep(this.shared(JSON.parse(piece) as unknown));
  }

  /** A parsed entry of the list being read: in its array, or given to `onFile` when the list is `files`. */
  private keep(value: unknown): void {
    this.count++;
    if (this.onFile && this.key === 'files') this.onFile(value);
    else this.list!.push(value);
  }

  /**
   * The list entry, an object, that opens at `i`, found without reading it character by character: it ends at the first
   * `}` that begins a line indented as its `{` is (a line break is never inside a JSON string), which is where
   * JSON.stringify(m, null, 2) ends it. Parsed and kept when the text up to there is one JSON value (then it is that
   * entry, whatever the layout); else -1, and it is read character by character.
   */
  private wholeEntry(i: number): number {
    const t = this.text;
    const lead = t.slice(this.start, i);
    const indent = lead.slice(lead.lastIndexOf('\n') + 1);
    if (!lead.includes('\n') || !BLANK.test(lead) || indent === this.missing) return -1;
    const end = t.indexOf(`\n${indent}}`, i);
    if (end < 0) {
      this.missing = indent; // not in this text: no entry after it needs to look again
      return -1;
    }
    const close = end + indent.length + 1;
    let value: unknown;
    try {
      value = JSON.parse(t.slice(i, close + 1));
    } catch {
      this.fast = false; // laid out otherwise: read character by character from now on
      return -1;
    }
    this.keep(this.shared(value));
    this.parsed = true;
    this.start = close + 1;
    return close;
  }

  /** An entry with its group, kind and owner shared with the entries that have the same. */
  private shared(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const e = value as Record<string, unknown>;
    for (const k of ['group', 'kind']) {
      const s = typeof e[k] === 'string' ? SHARED.get(e[k]) : undefined;
      if (s !== undefined) e[k] = s;
    }
    const owner = e['owner'];
    if (owner !== null && typeof owner === 'object') {
      const key = JSON.stringify(owner);
      const same = this.owners.get(key);
      if (same === undefined) this.owners.set(key, owner);
      else e['owner'] = same;
    }
    return value;
  }
}

/** The index of the `"` that closes the string opening at `open` in `t`, or -1 when `t` ends first. */
function stringEnd(t: string, open: number): number {
  for (let from = open + 1; ;) {
    const q = t.indexOf('"', from);
    if (q < 0) return -1;
    let slashes = 0;
    for (let j = q - 1; t.charCodeAt(j) === 92; j--) slashes++;
    if (slashes % 2 === 0) return q;
    from = q + 1;
  }
}

/** Sizes, durations and ages as operators read them; shared by the CLI and the menu. */

/**
 * `text` safe to print on a terminal: each control character (an escape sequence's start, a carriage return) as
 * `?`. For free text read from a manifest (a description), which a set from a destination may carry as written.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * A file name (or path) as text: its valid UTF-8 as it is, every other byte as `\xNN`. A name that is not valid
 * UTF-8 is recorded in a manifest this way, beside its exact bytes (FileEntry.relativeBytes).
 */
export function shownName(name: Buffer): string {
  let out = '';
  for (let i = 0; i < name.length;) {
    const b = name[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const chunk = name.subarray(i, i + len);
    if (len && chunk.length === len && Buffer.from(chunk.toString('utf8')).equals(chunk)) {
      out += chunk.toString('utf8');
      i += len;
    } else {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/**
 * A file name (or path) as human output prints it: each control character (a newline, a tab, an escape) as the
 * `\xNN` of its UTF-8 bytes, as shownName shows bytes that are not UTF-8, so a name stays on its line and in its
 * column. For text output only: --json and the manifest keep the exact name.
 */
export function printedName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    [...Buffer.from(c)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''),
  );
}

/** Whether `name` is valid UTF-8 (reads back as the same bytes). */
export function isUtf8Name(name: Buffer): boolean {
  return Buffer.from(name.toString('utf8')).equals(name);
}

/** `printable`, keeping line breaks and tabs: for a message of several lines. */
export function printableLines(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

export function formatBytes(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes)) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // Whole bytes: a rate (bytes per second) is rarely whole, and `925.9259259259259 B` ran over its column.
  return i === 0 ? `${Math.round(v)} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** `850 ms`, `12 s`, `3 min 05 s`, `2 h 10 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

/**
 * A moment in the operator's local time, as every screen and command shows it: `YYYY-MM-DD HH:MM`
 * (`short`: `MM-DD HH:MM`; `seconds`: with `:SS`). Unparseable input is returned as it is.
 */
export function formatLocal(
  at: string | Date | null | undefined,
  opts: { short?: boolean; seconds?: boolean } = {},
): string {
  if (!at) return '-';
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return String(at);
  const p = (n: number): string => String(n).padStart(2, '0');
  const day = `${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const time = `${p(d.getHours())}:${p(d.getMinutes())}${opts.seconds ? `:${p(d.getSeconds())}` : ''}`;
  return `${opts.short ? '' : `${d.getFullYear()}-`}${day} ${time}`;
}

/** Up to `max` names, then how many more: `a, b, c and 2 more`. */
export function someNames(names: readonly string[], max = 3): string {
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}

/** A coarse age: `45 s`, `12 min`, `5 h`, `3 d`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/**
 * Folds `text` into lines of at most `width` columns at word boundaries (a word longer than a line
 * is cut); the wrapped continuation lines of a paragraph start with `indent`. Widths are counted in
 * code points (the text respaldo prints is Latin script). Explicit newlines start new paragraphs.
 */
export function wrapWords(text: string, width: number, indent = ''): string[] {
  const len = (s: string): number => [...s].length;
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    let first = true;
    const push = (): void => {
      out.push(line.replace(/\s+$/, ''));
      line = '';
      first = false;
    };
    const lead = (): string => (first ? '' : indent);
    for (const token of para.split(/(\s+)/)) {
      if (!token) continue;
      if (/^\s+$/.test(token)) {
        if (line.trim() !== '' && len(line) + len(token) < width) line += token;
        else if (line.trim() !== '') push();
        else if (first && line === '') line = token.slice(0, Math.max(0, width - 1));
        continue;
      }
      if (line === '' || (first && line.trim() === '')) line = line || lead();
      if (len(line) + len(token) <= width) {
        line += token;
        continue;
      }
      if (line.trim() !== '') {
        push();
        line = lead();
      }
      let rest = [...token];
      while (len(line) + rest.length > width) {
        const free = Math.max(1, width - len(line));
        line += rest.slice(0, free).join('');
        rest = rest.slice(free);
        push();
        line = lead();
      }
      line += rest.join('');
    }
    if (line.trim() !== '' || first) push();
  }
  return out;
}

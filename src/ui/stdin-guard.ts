/**
 * Ink 6's keypress parser takes an escape sequence it has no key for, with a number before its final letter
 * (`ESC[0n`, the terminal's own "status OK" reply; `ESC[31m`, a colour in pasted text), as Ctrl plus a key
 * without a name, and `useInput` then throws on it: the menu died with a stack, mid-restore (ink 7 reads it as
 * no key, but needs Node 22). Such sequences are dropped from what the menu reads before Ink parses it; every
 * sequence Ink names (arrows, function keys, Home, End, …) passes as it came.
 */

/** A function-key sequence as Ink matches one: its code (`[A`, `[5~`, `OP`) and its modifier number. */
const FN_KEY = /\x1b+(O|N|\[|\[\[)(?:(\d+)(?:;(\d+))?([~^$])|(?:1;)?(\d+)?([a-zA-Z]))/g;

/** The codes Ink 6 has a key name for (xterm, rxvt, putty and Cygwin forms). */
const NAMED =
  /^(?:O[PQRSABCDEFHa-e]|\[\[[A-E]|\[\[[56]~|\[[ABCDEFHZa-e]|\[(?:1[1-57-9]|2[0-4]|[1-8])~|\[[2-35-8][$^])$/;

/** Pure: `text` without the sequences Ink would read as Ctrl plus a key without a name. */
export function dropUnnamedKeys(text: string): string {
  return text.replace(FN_KEY, (seq, p1: string, p2?: string, p3?: string, p4?: string, p5?: string, p6?: string) => {
    const code = [p1, p2, p4, p6].filter(Boolean).join('');
    const modifier = Number(p3 || p5 || 1) - 1;
    return modifier & 4 && !NAMED.test(code) ? '' : seq;
  });
}

/**
 * Filters what `stdin` (set to utf8 by Ink) gives Ink through dropUnnamedKeys until the returned function is
 * called. A chunk left empty reads as nothing.
 */
export function guardKeys(stdin: NodeJS.ReadStream): () => void {
  const read = stdin.read.bind(stdin);
  stdin.read = ((size?: number) => {
    const chunk: unknown = read(size);
    return typeof chunk === 'string' ? dropUnnamedKeys(chunk) : chunk;
  }) as typeof stdin.read;
  return () => {
    stdin.read = read;
  };
}

import { isUtf8 } from 'node:buffer';
import { existsSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { readRegularFileSync } from '../core/regular-file.js';

/** Variables whose values are treated as secrets and masked in any output (but see KEY_FILE_FIELD). */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|PWD|CREDENTIAL/i;

/**
 * Fields that name a key file (`identityFile`, `privateKey`, `passphraseFile`, an rclone `key_file`): their value is
 * a path, not a secret. Masked, "cannot read ***" hid which file on the day it is needed.
 */
const KEY_FILE_FIELD = /(?:^|\.)(?:identityFile|privateKey|passphraseFile|[a-z_]*_file)$/;

/** Fields whose value is a secret, whatever its variable is called (`"password": "${DB_PW}"`). */
const SECRET_FIELD = /(?:^|\.)(?:password|passphrase|secretAccessKey|accessKeyId)$/;

/** Key material itself (an age secret key, a PEM private key): masked wherever it is put, a key file's field too. */
const KEY_MATERIAL = /AGE-SECRET-KEY-|-----BEGIN [A-Z ]*PRIVATE KEY/;

export interface InterpolationResult {
  value: unknown;
  /**
   * Values to be masked: of secret-looking variables (but not a key file's path) and of any variable in a secret's
   * field (password, passphrase, secretAccessKey, accessKeyId).
   */
  secrets: string[];
  /** `${VAR}` references that had no value, with the JSON path where they appear. */
  missing: { path: string; variable: string }[];
  /**
   * `${…}` that is no `${VAR}` respaldo reads (`${DIR:-x}`, `${lower-case}`, `${}`), with its JSON path: left as it
   * was, it became part of a path or a password without a word.
   */
  malformed: { path: string; text: string }[];
  /** Strings that became empty from variables set to nothing (`BK_DIR=` in .env): the first such variable of each. */
  emptied: { path: string; variable: string }[];
}

/**
 * The largest config file, or `.env` beside it, respaldo reads: a larger one is refused before it is read (a log or a
 * dump named by mistake). A config is a few KB (the demo's is under 1 KB); one of hundreds of databases and
 * destinations is some tens of KB: 1 MiB leaves room for any, and memory for nothing else.
 */
export const CONFIG_MAX_BYTES = 1 << 20;

/**
 * Reads `KEY=VALUE` pairs from a `.env` file; an absent file gives {}. Anything there but a regular file (a FIFO
 * would block) throws NotRegularFileError; one that is not UTF-8 text, NotUtf8TextError (its values would change).
 */
export function readDotEnv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const buf = readRegularFileSync(file, { maxBytes: CONFIG_MAX_BYTES });
  const line = firstNonUtf8Line(buf);
  if (line !== null) throw new NotUtf8TextError(file, line);
  return parseEnv(buf.toString('utf8')) as Record<string, string>;
}

/** Thrown by readDotEnv for a file that is not UTF-8 text; `line` is the first line that is not (1-based). */
export class NotUtf8TextError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}: line ${line} is not UTF-8 text`);
    this.name = 'NotUtf8TextError';
  }
}

/**
 * The 1-based line of the first bytes of `buf` that are no UTF-8 (a config saved as Latin-1 or UTF-16 by an old
 * editor), or null when it is all UTF-8. Decoded anyway, such bytes became U+FFFD and a path or a password changed
 * silently (`"backupDir": "./año"` made a folder of another name).
 */
export function firstNonUtf8Line(buf: Buffer): number | null {
  if (isUtf8(buf)) return null;
  let line = 1;
  let start = 0;
  // A newline byte is never part of a multi-byte character, so each line can be checked alone.
  for (let nl = buf.indexOf(10); ; nl = buf.indexOf(10, start)) {
    const end = nl === -1 ? buf.length : nl;
    if (!isUtf8(buf.subarray(start, end))) return line;
    if (nl === -1) return line;
    start = nl + 1;
    line += 1;
  }
}

/**
 * The line of `.env` file `file` that names `variable` but is not `KEY=VALUE` (`PG_PASSWORD: x`, `PG_PASSWORD x`):
 * the parser passes over such a line, so the variable reads as not set. Its number, or null. Never the value.
 */
export function dotEnvLineWithout(file: string, variable: string): number | null {
  let text: string;
  try {
    text = readRegularFileSync(file, { maxBytes: CONFIG_MAX_BYTES }).toString('utf8');
  } catch {
    return null;
  }
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => {
    const t = l.trim().replace(/^export\s+/, '');
    return !t.startsWith('#') && !t.includes('=') && new RegExp(`^${variable}(\\s|:|$)`).test(t);
  });
  return at === -1 ? null : at + 1;
}

/**
 * Replaces `${VAR}` in every string of a JSON document. The process environment wins over the
 * `.env` file. `$${` writes a literal `${`.
 */
export function interpolate(doc: unknown, env: Record<string, string | undefined>): InterpolationResult {
  const secrets = new Set<string>();
  const missing: { path: string; variable: string }[] = [];
  const malformed: { path: string; text: string }[] = [];
  const emptied: { path: string; variable: string }[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      const out = replaced(node, path);
      const variable = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(node)?.[1];
      if (out === '' && variable) emptied.push({ path, variable });
      return out;
    }
    if (Array.isArray(node)) return node.map((n, i) => walk(n, `${path}[${i}]`));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, path ? `${path}.${k}` : k);
      return out;
    }
    return node;
  };
  const replaced = (node: string, path: string): string => {
    // `$${` is a literal `${`; any other `${` must open a `${NAME}` (letters, digits, _).
    for (const m of node.matchAll(/\$?\$\{[^}]*\}?/g))
      if (!m[0].startsWith('$$') && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(m[0])) malformed.push({ path, text: m[0] });
    return node.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      if (whole.startsWith('$$')) return whole.slice(1);
      const v = env[name];
      if (v === undefined) {
        missing.push({ path, variable: name });
        return whole;
      }
      // A key file's path is shown (a secret-looking name there is the file's: AGE_KEY_FILE); any other use of the
      // same variable, or a key pasted where its path goes, masks it everywhere.
      const keyFilePath = KEY_FILE_FIELD.test(path) && !KEY_MATERIAL.test(v);
      if (v && (SECRET_FIELD.test(path) || (SECRET_NAME.test(name) && !keyFilePath))) secrets.add(v);
      return v;
    });
  };
  return { value: walk(doc, ''), secrets: [...secrets], missing, malformed, emptied };
}

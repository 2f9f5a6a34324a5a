/**
 * The system's words inside a reason (`EACCES: permission denied, open '/x'`, `connect ECONNREFUSED 10.0.0.5:5432`,
 * `ETIMEDOUT`), said the operator's way: the common error codes as a short phrase in each language, the path or
 * address kept. Other codes stay as the system said them.
 */

import { PHRASES_EN, type PhraseId, type PhraseParams } from '../../core/phrases.js';

type Lang = 'en' | 'es';

const SAID: Record<string, Record<Lang, string>> = {
  ENOENT: { en: 'not found', es: 'no existe' },
  EACCES: { en: 'permission denied', es: 'permiso denegado' },
  EPERM: { en: 'operation not permitted', es: 'operación no permitida' },
  ENOSPC: { en: 'no space left on the disk', es: 'no queda espacio en el disco' },
  EROFS: { en: 'read-only file system', es: 'sistema de archivos de solo lectura' },
  EIO: { en: 'input/output error (check the disk: dmesg)', es: 'error de entrada/salida (revise el disco: dmesg)' },
  ECONNREFUSED: { en: 'connection refused', es: 'conexión rechazada' },
  ETIMEDOUT: { en: 'timed out', es: 'tiempo de espera agotado' },
  EHOSTUNREACH: { en: 'host unreachable', es: 'equipo inalcanzable' },
  ENOTDIR: { en: 'not a folder', es: 'no es una carpeta' },
  EISDIR: { en: 'is a folder', es: 'es una carpeta' },
  EEXIST: { en: 'already exists', es: 'ya existe' },
};

const CODES = Object.keys(SAID).join('|');
/** Node's file system errors: `CODE: description, syscall 'path'` (` -> 'dest'` for a rename or link). */
const FS = new RegExp(`\\b(${CODES}): [a-z][a-z/ -]*[a-z](?:, [a-z_]+(?: '([^']*)'(?: -> '([^']*)')?)?)?`, 'g');
/** Node's socket errors: `connect ECONNREFUSED 10.0.0.5:5432`. */
const NET = new RegExp(`\\b(?:connect|read|write) (${CODES})(?: (\\S+:\\d+))?`, 'g');
/** A scratch copy refused before it began (src/drivers/sqlite/snapshot.ts roomFor): the bytes it needed, the free. */
const ROOM = /\bENOSPC: no space left on device, (\d+) bytes to copy, (\d+) free\b/g;
const ROOM_SAID: Record<Lang, (need: string, free: string) => string> = {
  en: (need, free) => `${SAID['ENOSPC']!.en}: ${need} bytes to copy, ${free} free`,
  es: (need, free) => `${SAID['ENOSPC']!.es}: hay ${need} bytes que copiar y ${free} libres`,
};
/** A code said alone: the whole reason, after a colon (`destination "nas": ETIMEDOUT`) or in brackets (`(EROFS)`). */
const BARE = new RegExp(`(^|: |\\()(${CODES})(?=$|[.;,)])`, 'g');

/**
 * A reason respaldo has no phrase for (its English as it came) in `lang`: when it is only the system's words (a raw
 * `EROFS: read-only file system, open '/x'`), said in `lang`; else English, the system's words in it too (a Spanish
 * phrase inside an English sentence would read worse than either).
 */
export function sayUnphrased(lang: Lang, text: string): string {
  return saySystemErrors(WHOLE.test(text.trim()) ? lang : 'en', text);
}

/** A reason that is only the system's words: one of the shapes above, alone. */
const WHOLE = new RegExp(`^(?:${ROOM.source}|${FS.source}|${NET.source}|(?:${CODES}))$`);

/** `text` with the system's words of the common error codes said in `lang`; the rest as it is. */
export function saySystemErrors(lang: Lang, text: string): string {
  const words = (code: string) => SAID[code]![lang];
  return text
    .replace(ROOM, (_m, need: string, free: string) => ROOM_SAID[lang](need, free))
    .replace(FS, (_m, code: string, path?: string, dest?: string) =>
      path ? `${words(code)}: ${path}${dest ? ` → ${dest}` : ''}` : words(code),
    )
    .replace(NET, (_m, code: string, where?: string) => (where ? `${words(code)}: ${where}` : words(code)))
    .replace(BARE, (_m, before: string, code: string) => `${before}${words(code)}`);
}

/**
 * ` (detail)` of an operator error made of a system error (`detail`: its message), or nothing when the message only
 * says again what the sentence says: the system's words about the same path `on`, or about none.
 */
export function systemDetail(p: PhraseParams): string {
  const detail = p['detail'] ?? '';
  const m = /^E[A-Z]+: [^,']*(?:, \w+(?: '([^']*)')?)?$/.exec(detail);
  return m && (m[1] === undefined || m[1] === p['on']) ? '' : ` (${detail})`;
}

/** `detail` (the system's words) without the path it names when that is `on`: `ENOTDIR: not a directory`. */
export function withoutPath(detail: string, on: string | undefined): string {
  const m = /^(E[A-Z]+: [^,']*), \w+ '([^']*)'$/.exec(detail);
  return m && m[2] === on ? m[1]! : detail;
}

/** The phrases made of a system error (src/core/errors.ts asOperatorError) that systemDetail may shorten. */
const ONCE: ReadonlySet<PhraseId> = new Set(['error.readOnlyFs', 'error.permissionDenied', 'error.noSpace']);

/**
 * The English of a phrase as the menu and the alerts say it: a read-only, permission or disk-full error whose
 * system message only repeats the sentence says it once ("Read-only file system on /x.", not "… on /x (read-only
 * file system: /x)."), and a config that cannot be read names its path once; the CLI keeps the whole English. Null
 * for any other phrase.
 */
export function saidOnceEn(id: PhraseId, p: PhraseParams): string | null {
  if (id === 'config.unreadable') return PHRASES_EN[id]({ ...p, detail: withoutPath(p['detail'] ?? '', p['file']) });
  if (!ONCE.has(id) || systemDetail(p)) return null;
  return PHRASES_EN[id]({ ...p, detail: '' }).replace(' ().', '.');
}

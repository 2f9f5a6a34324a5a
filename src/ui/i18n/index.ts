import { joinSentences } from '../../core/errors.js';
import { english as englishOf, type Phrase } from '../../core/phrases.js';
import { en, type Catalogue } from './en.js';
import { es } from './es.js';
import { MENU_PHRASES } from './menu-phrases.js';
import { PHRASES_ES, verifyProblemEs } from './phrases-es.js';
import { saidOnceEn, sayUnphrased, saySystemErrors } from './system-errors.js';

export type { Catalogue };
export type Lang = 'en' | 'es';

/** `--lang` wins; else Spanish when LC_ALL, LC_MESSAGES or LANG (first set) starts with `es`. */
export function detectLang(env: NodeJS.ProcessEnv, explicit?: string): Lang {
  if (explicit === 'es' || explicit === 'en') return explicit;
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^es/i.test(locale) ? 'es' : 'en';
}

const ASCII_MAP: Record<string, string> = {
  '↑↓': 'Up/Down',
  '←→': 'Left/Right',
  '↑': 'Up',
  '↓': 'Down',
  '←': 'Left',
  '→': 'Right',
  '·': '|',
  '…': '...',
  '✓': 'ok',
  '✗': 'X',
  '–': '-',
  '—': '-',
  '¿': '',
  '¡': '',
  '›': '>',
};

/** Plain ASCII for terminals whose locale is not UTF-8: arrows spelled out, accents dropped. */
export function asciify(text: string): string {
  let out = text;
  for (const [from, to] of Object.entries(ASCII_MAP)) out = out.split(from).join(to);
  return out
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x00-\x7e]/g, '?');
}

function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (typeof value === 'function') {
    const f = value as unknown as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => mapStrings(f(...args), fn)) as T;
  }
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out as T;
  }
  return value;
}

/** The catalogue for a language; with `unicode: false` every string is made plain ASCII. */
export function catalogue(lang: Lang, unicode = true): Catalogue {
  const base = lang === 'es' ? es : en;
  return unicode ? base : mapStrings(base, asciify);
}

/**
 * A restore target as the drivers describe it (`database "inventario" on db1:5432 as app`, `new database "x" on
 * …`, a SQLite path) in the menu's language: the words around the names, never the names.
 */
export function sayTarget(lang: Lang, target: string): string {
  if (lang === 'en') return target;
  const m = /^(new )?database ("(?:[^"]|"")*") on (.+?)(?: as (\S+))?$/.exec(target);
  if (!m) return target;
  return `${m[1] ? 'base nueva' : 'base'} ${m[2]} en ${m[3]}${m[4] ? ` como ${m[4]}` : ''}`;
}

/**
 * An error's message in `lang`: its phrase, then the sentences added on its way out (RespaldoError.withAftermath);
 * `english` (the error's message) where it has no phrase.
 */
export function sayMessage(
  lang: Lang,
  phrases: { message?: Phrase; aftermath?: Phrase[] } | undefined,
  english: string,
  unicode = true,
): string {
  if (!phrases?.message) return sayUnphrased(lang, english);
  if (lang === 'en') {
    const once = saidOnceEn(phrases.message.id, phrases.message.params);
    const after = (phrases.aftermath ?? []).map(englishOf);
    return sayUnphrased(lang, once === null ? english : joinSentences([once, ...after]));
  }
  return joinSentences([phrases.message, ...(phrases.aftermath ?? [])].map((p) => say(lang, p, english, unicode)));
}

/**
 * A sentence of the engine in `lang`: its phrase in this language's catalogue, else `english`; in both, the system's
 * words it quotes (`EACCES: permission denied, open '/x'`) said as a short phrase of the language (system-errors.ts).
 */
export function say(lang: Lang, phrase: Phrase | undefined, english: string, unicode = true): string {
  if (!phrase) return sayUnphrased(lang, english);
  if (lang === 'en') return sayUnphrased(lang, saidOnceEn(phrase.id, phrase.params) ?? english);
  const text = saySystemErrors(lang, PHRASES_ES[phrase.id](phrase.params));
  return unicode ? text : asciify(text);
}

/**
 * A sentence of the engine as the menu shows it: the menu's own wording where it has one (a hint naming `--to`
 * becomes the menu's "Side by side"; see menu-phrases.ts), else as `say` says it. The CLI and alerts use `say`.
 */
export function sayInMenu(lang: Lang, phrase: Phrase | undefined, english: string, unicode = true): string {
  const own = phrase ? MENU_PHRASES[lang][phrase.id] : undefined;
  if (!phrase || !own) return say(lang, phrase, english, unicode);
  const text = saySystemErrors(lang, own(phrase.params));
  return unicode ? text : asciify(text);
}

/** What a verification says of a stored file (`missing`, `md5 mismatch (content changed)`, …) in `lang`. */
export function sayVerifyProblem(lang: Lang, problem: string, unicode = true): string {
  if (lang === 'en') return problem;
  return unicode ? verifyProblemEs(problem) : asciify(verifyProblemEs(problem));
}

import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';

/**
 * Typed options per command. A command states what each of its options holds in an `OptionSpec`;
 * `parseOptions` turns commander's values into one typed object, checked here and nowhere else: a value
 * of the wrong shape or outside its range is a UsageError (exit 2) naming the flag, before anything
 * runs. `checkDeclared` holds the spec and the command's declared options together (a mismatch is a bug).
 */

/** What one option holds. */
export type OptionKind =
  /** `--to <path>`: a string, or absent. */
  | 'text'
  /** `--db <name>` repeatable (collected): a list, or absent. */
  | 'list'
  /** `--yes`: true when given. */
  | 'flag'
  /** `--files` and `--no-files` both declared: true, false, or absent when neither was given. */
  | 'switch'
  /** `--no-files` alone (default true): false when given. */
  | 'negated'
  /** One of these words, or absent. */
  | { readonly choices: readonly string[] }
  /** A whole number in [min, max] (given as text, or the declared default), or absent. */
  | { readonly int: readonly [min: number, max: number] };

export type OptionSpec = Readonly<Record<string, OptionKind>>;

type ValueOf<K extends OptionKind> = K extends 'text'
  ? string | undefined
  : K extends 'list'
    ? string[] | undefined
    : K extends 'flag' | 'negated'
      ? boolean
      : K extends 'switch'
        ? boolean | undefined
        : K extends { readonly choices: readonly (infer C)[] }
          ? C | undefined
          : K extends { readonly int: readonly [number, number] }
            ? number | undefined
            : never;

/** The options every command has (`addCommonOptions`). */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** The typed options of a command with spec `S`, plus the global ones. */
export type OptionsOf<S extends OptionSpec> = { -readonly [K in keyof S]: ValueOf<S[K]> } & GlobalOptions;

const GLOBAL_SPEC = { config: 'text', json: 'flag' } as const satisfies OptionSpec;

/** `ifOlderThan` → `--if-older-than`. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function parseOne(key: string, kind: OptionKind, value: unknown): unknown {
  const flag = flagName(key);
  const wrong = (what: string, hint?: string): never => {
    throw new UsageError(`${flag}: ${what} (got ${JSON.stringify(value)}).`, hint);
  };
  if (kind === 'flag' || kind === 'negated') {
    if (value === undefined) return kind === 'negated';
    return typeof value === 'boolean' ? value : wrong('takes no value');
  }
  if (value === undefined) return undefined;
  if (kind === 'switch') return typeof value === 'boolean' ? value : wrong('takes no value');
  // An empty value is most often a variable a script did not set (`--to "$DEST"`): taken as given, `--to ""` meant
  // "no --to" and replaced the live database. Refused, but for a description, where empty says "none".
  const blank = (v: string) => v.trim() === '' && key !== 'description';
  // A path or name with a control character (`--to "$(printf 'a\nb\e[31m')"`) made a file named so, and its
  // escape sequence was printed to the terminal as it is.
  const control = (v: string) => /[\u0000-\u001f\u007f]/.test(v) && key !== 'description';
  const controlHint = 'Type the value without control characters (newlines, escape sequences).';
  const emptyHint =
    'An empty value is often a shell variable that was not set; give the value, or leave the option out.';
  if (kind === 'text') {
    if (typeof value !== 'string') return wrong('needs one value');
    if (control(value)) return wrong('holds a control character', controlHint);
    return blank(value) ? wrong('needs a value, not an empty one', emptyHint) : value;
  }
  if (kind === 'list') {
    const ok = Array.isArray(value) && value.every((v) => typeof v === 'string');
    if (!ok) return wrong('needs a value (repeatable)');
    if ((value as string[]).some(control)) return wrong('holds a control character', controlHint);
    if ((value as string[]).some(blank)) return wrong('needs a value, not an empty one', emptyHint);
    // A name given twice is named once: `restore --db users --db users` restored users twice over itself.
    return [...new Set(value as string[])];
  }
  if ('choices' in kind) {
    if (typeof value === 'string' && kind.choices.includes(value)) return value;
    return wrong(`must be one of ${kind.choices.join(', ')}`);
  }
  const [min, max] = kind.int;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  return wrong(`must be a whole number from ${min} to ${max}`);
}

/**
 * Commander's values (`cmd.optsWithGlobals()`) as the typed options of `spec`. Throws UsageError naming
 * the flag when a value does not fit its kind; values of options the spec does not name are dropped.
 */
export function parseOptions<S extends OptionSpec>(spec: S, raw: Record<string, unknown>): OptionsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries({ ...GLOBAL_SPEC, ...spec })) {
    const value = parseOne(key, kind, raw[key]);
    if (value !== undefined) out[key] = value;
  }
  return out as OptionsOf<S>;
}

/**
 * Throws (a bug, not an operator error) when `cmd` declares an option `spec` does not name, or the
 * reverse: the spec is the one list of what a command accepts.
 */
export function checkDeclared(cmd: Command, spec: OptionSpec): void {
  const declared = new Set(cmd.options.map((o) => o.attributeName()));
  const named = new Set([...Object.keys(GLOBAL_SPEC), ...Object.keys(spec)]);
  const undeclared = [...named].filter((k) => !declared.has(k) && !(k in GLOBAL_SPEC));
  const unnamed = [...declared].filter((k) => !named.has(k));
  if (undeclared.length || unnamed.length)
    throw new Error(
      `respaldo ${cmd.name()}: option spec and declared options differ ` +
        `(in the spec only: ${undeclared.join(', ') || '-'}; declared only: ${unnamed.join(', ') || '-'})`,
    );
}

/**
 * An option and its negation both typed (`--files --no-files`) is a usage error: commander keeps the last one
 * silently, and which the operator meant is not known. `argv`: the words typed (the root command's rawArgs).
 */
export function checkNegations(cmd: Command, argv: readonly string[]): void {
  const end = argv.indexOf('--');
  const typed = new Set((end < 0 ? argv : argv.slice(0, end)).map((w) => w.replace(/=.*$/s, '')));
  for (const no of cmd.options) {
    if (!no.negate || !no.long || !typed.has(no.long)) continue;
    const yes = cmd.options.find((o) => !o.negate && o.long && o.attributeName() === no.attributeName());
    if (yes?.long && typed.has(yes.long))
      throw new UsageError(
        `Use either ${yes.long} or ${no.long}, not both.`,
        `Run the command again with the one you mean; nothing was changed.`,
      );
  }
}

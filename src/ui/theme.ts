import type { BoxProps } from 'ink';

/** A custom border (Ink accepts an object of the eight corner and edge characters). */
export type BoxStyle = Exclude<BoxProps['borderStyle'], string | undefined>;

/**
 * How the menu draws: colours (off with NO_COLOR), glyphs (ASCII when the locale is not UTF-8)
 * and status words. Colour is never the only carrier of meaning: every status also has a word.
 */
export interface Theme {
  /** False when NO_COLOR is set: components then pass no colour at all. */
  color: boolean;
  /** False when the locale is not UTF-8: glyphs and borders are plain ASCII. */
  unicode: boolean;
  colors: {
    accent: string | undefined;
    ok: string | undefined;
    warn: string | undefined;
    error: string | undefined;
    muted: string | undefined;
  };
  glyphs: {
    pointer: string;
    barFull: string;
    barEmpty: string;
    checked: string;
    unchecked: string;
    hline: string;
    ellipsis: string;
    arrowUp: string;
    arrowDown: string;
    dot: string;
  };
  border: BoxStyle;
}

const UNICODE_BORDER: BoxStyle = {
  topLeft: '┌',
  top: '─',
  topRight: '┐',
  right: '│',
  bottomRight: '┘',
  bottom: '─',
  bottomLeft: '└',
  left: '│',
};
const ASCII_BORDER: BoxStyle = {
  topLeft: '+',
  top: '-',
  topRight: '+',
  right: '|',
  bottomRight: '+',
  bottom: '-',
  bottomLeft: '+',
  left: '|',
};

/** True when the first of LC_ALL, LC_CTYPE, LANG that is set names a UTF-8 locale. */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}

/** NO_COLOR (any non-empty value, https://no-color.org) turns colour off. */
export function colorEnabled(env: NodeJS.ProcessEnv): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

/** Builds the theme for an environment (process.env in the app, a literal in tests). */
export function createTheme(env: NodeJS.ProcessEnv, overrides: { color?: boolean; unicode?: boolean } = {}): Theme {
  const color = overrides.color ?? colorEnabled(env);
  const unicode = overrides.unicode ?? localeIsUtf8(env);
  const c = (name: string): string | undefined => (color ? name : undefined);
  return {
    color,
    unicode,
    colors: { accent: c('cyan'), ok: c('green'), warn: c('yellow'), error: c('red'), muted: c('gray') },
    glyphs: unicode
      ? {
          pointer: '›',
          barFull: '█',
          barEmpty: '░',
          checked: '[x]',
          unchecked: '[ ]',
          hline: '─',
          ellipsis: '…',
          arrowUp: '↑',
          arrowDown: '↓',
          dot: '·',
        }
      : {
          pointer: '>',
          barFull: '#',
          barEmpty: '-',
          checked: '[x]',
          unchecked: '[ ]',
          hline: '-',
          ellipsis: '~',
          arrowUp: '^',
          arrowDown: 'v',
          dot: '|',
        },
    border: unicode ? UNICODE_BORDER : ASCII_BORDER,
  };
}

/** The colour that goes with a status word (the word itself always comes from the catalogue). */
export function statusColor(
  theme: Theme,
  status: 'ok' | 'completed' | 'partial' | 'failed' | 'running' | 'pending' | 'warn',
): string | undefined {
  switch (status) {
    case 'ok':
    case 'completed':
      return theme.colors.ok;
    case 'partial':
    case 'warn':
      return theme.colors.warn;
    case 'failed':
      return theme.colors.error;
    default:
      return theme.colors.muted;
  }
}

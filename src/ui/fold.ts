import { wrapWords } from '../core/format.js';

/** A run of text with one style. */
export interface Seg {
  text: string;
  bold?: boolean;
  color?: string | undefined;
}

/** One screen row: its runs, none wider together than the width it was folded to. */
export type Row = Seg[];

/**
 * Folds a styled line into rows of at most `width` columns at word boundaries (wrapWords), each
 * run keeping its style; continuation rows start with `indent`. Drawing one <Text> per row makes
 * the height of what is drawn known before it is drawn.
 */
export function foldSegs(segs: Seg[], width: number, indent = ''): Row[] {
  const plain = segs.map((s) => s.text).join('');
  const styleAt: Seg[] = [];
  for (const s of segs) for (const _ of s.text) styleAt.push(s);
  const chars = [...plain];
  let pos = 0;
  return wrapWords(plain, width, indent).map((line, i) => {
    const lead = i > 0 && indent && line.startsWith(indent) ? indent : '';
    const content = [...line.slice(lead.length)];
    if (i > 0) while (pos < chars.length && /\s/.test(chars[pos]!) && chars[pos] !== content[0]) pos++;
    const row: Row = lead ? [{ text: lead }] : [];
    for (const ch of content) {
      const style: Seg = styleAt[pos] ?? { text: '' };
      const last = row[row.length - 1];
      if (last && !!last.bold === !!style.bold && last.color === style.color) last.text += ch;
      else
        row.push({ text: ch, ...(style.bold ? { bold: true } : {}), ...(style.color ? { color: style.color } : {}) });
      pos++;
    }
    return row;
  });
}

/** Plain text folded into rows of one style. */
export function foldText(text: string, width: number, style: Omit<Seg, 'text'> = {}, indent = ''): Row[] {
  return foldSegs([{ text, ...style }], width, indent);
}

/** Formatting helpers shared by the text reporter and commands. */

import { wrapWords } from '../core/format.js';

export { formatAge, formatBytes, formatDuration, formatLocal, wrapWords } from '../core/format.js';

/** Pads columns to a plain-text table (no colour needed to read it). */
export function table(rows: string[][]): string {
  return [...tableLines(() => rows)].join('\n');
}

/**
 * `table`'s lines (without line breaks) of rows gone through twice, for their widths then for the lines, none held:
 * `show` of a set of 100 000 files built its table whole.
 */
export function* tableLines(rows: () => Iterable<string[]>): Generator<string> {
  const widths: number[] = [];
  for (const r of rows()) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  for (const r of rows()) yield r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
}

/** Columns `table` would take. */
export function tableWidth(rows: string[][]): number {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return widths.reduce((a, b) => a + b, 0) + 2 * Math.max(0, widths.length - 1);
}

/**
 * The width text output is folded to: the terminal's columns when stdout is a terminal, null when
 * it is piped or redirected (then nothing is folded or shortened, so scripts get whole lines).
 */
export function outputWidth(): number | null {
  return process.stdout.isTTY ? Math.max(40, process.stdout.columns || 80) : null;
}

/**
 * The width error, hint and warning lines on stderr are folded to: its columns when stderr is a terminal, null when
 * it is piped or redirected, or with --json (then every line is written whole, as scripts and logs read it).
 */
export function errorWidth(json = false, stream: NodeJS.WriteStream = process.stderr): number | null {
  return stream.isTTY && !json ? Math.max(40, stream.columns || 80) : null;
}

/**
 * `table`, with column `wrap` folded within `width` at commas and spaces onto at most `maxLines`
 * lines per row (the other columns keep their widths); null when that cannot be done without
 * cutting a word or going past `width`.
 */
export function fitTable(rows: string[][], width: number, wrap: number, maxLines = 2): string | null {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const others = widths.reduce((a, b, i) => (i === wrap ? a : a + b), 0) + 2 * Math.max(0, widths.length - 1);
  const room = width - others;
  const out: string[] = [];
  for (const r of rows) {
    const cell = r[wrap] ?? '';
    if (cell.split(/(?<=,)|\s+/).some((w) => w.length > room)) return null;
    const folded = wrapWords(cell.replace(/,(?=\S)/g, ', '), room + 1).map((l) => l.replace(/, /g, ','));
    if (folded.length > maxLines) return null;
    folded.forEach((part, n) => {
      const cells = r.map((c, i) => (i === wrap ? part : n === 0 ? c : ''));
      out.push(
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      );
    });
  }
  return out.join('\n');
}

/**
 * Prints `line` folded to `width` at word boundaries (null: as it is); continuation lines are
 * indented two more than the line's own indent.
 */
export function foldLine(line: string, width: number | null): string {
  if (width === null) return line;
  return line
    .split('\n')
    .map((l) => wrapWords(l, width, ' '.repeat((/^\s*/.exec(l)?.[0].length ?? 0) + 2)).join('\n'))
    .join('\n');
}

/**
 * `table` whose last column (a reason: WHY) is folded within `width` at word boundaries, as `list` folds its
 * databases: piped (`width` null) or when it fits, the plain table; else the last column folded in place when it
 * keeps `minRoom` columns; else on lines indented under each row, the titles' row too (with the other columns but the
 * first `keep` after it when even those are too wide). Nothing is cut inside a word the terminal could have kept whole.
 */
export function foldedTable(rows: string[][], width: number | null, minRoom = 24, keep = 1): string {
  if (width === null || tableWidth(rows) <= width) return table(rows);
  const last = rows[0]!.length - 1;
  const others = tableWidth(rows.map((r) => r.slice(0, last)));
  if (width - others - 2 >= minRoom) {
    const fitted = fitTable(rows, width, last, Infinity);
    if (fitted) return fitted;
  }
  const whole = tableWidth(rows.map((r) => r.slice(0, last))) <= width;
  const head = rows.map((r) => (whole ? r.slice(0, last) : [...r.slice(0, keep), r[last - 1]!]));
  const under = (r: string[]): string => (whole ? r[last]! : `${r.slice(keep, last - 1).join(', ')}: ${r[last]!}`);
  // The titles too: the last one (WHY) goes under them, as each row's reason goes under its row.
  const lines = table(head).split('\n');
  const out: string[] = [];
  rows.forEach((r, i) => {
    out.push(lines[i]!.trimEnd());
    out.push(...wrapWords(under(r), width - 4).map((l) => `    ${l}`));
  });
  return out.join('\n');
}

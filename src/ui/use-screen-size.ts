import { createContext, useContext, useEffect, useState } from 'react';
import { useStdout } from 'ink';
import { wrapWords } from '../core/format.js';

/** Terminal size (80×24 when unknown, e.g. in tests), updated on resize. */
export function useScreenSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = (): { columns: number; rows: number } => ({
    columns: Math.max(40, (stdout as { columns?: number }).columns ?? 80),
    rows: Math.max(16, (stdout as { rows?: number }).rows ?? 24),
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

/** Rows the current screen's body may use (set by the menu from the header's height). */
export const BodyRowsContext = createContext<number | null>(null);

/** Rows for a screen's body: what the menu leaves under the header, minus title and help line. */
export function useBodyRows(): number {
  const fromMenu = useContext(BodyRowsContext);
  const { rows } = useScreenSize();
  return Math.max(6, fromMenu ?? rows - 8);
}

/** Rows the help line `text` takes at `columns` (the rule above it not counted). */
export function helpRows(text: string, columns: number): number {
  return wrapHelp(text, Math.min(columns, 100) - 1).length;
}

/**
 * A help line folded between its entries (`r restore · d delete`, ASCII `|`), never inside one ("r" at the end of
 * a line and "restore" on the next); an entry wider than a line is folded at its words.
 */
export function wrapHelp(text: string, width: number): string[] {
  const joint = / (·|\|) /.exec(text)?.[0];
  if (!joint) return wrapWords(text, width);
  const len = (x: string): number => [...x].length;
  const lines: string[] = [];
  let line = '';
  for (const entry of text.split(joint)) {
    if (line && len(line) + len(joint) + len(entry) <= width) {
      line += joint + entry;
      continue;
    }
    if (line) lines.push(line);
    const folded = wrapWords(entry, width);
    lines.push(...folded.slice(0, -1));
    line = folded.at(-1) ?? '';
  }
  if (line) lines.push(line);
  return lines;
}

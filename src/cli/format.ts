/** Formatting helpers shared by the text reporter and commands. */

export { formatAge, formatBytes, formatDuration } from '../core/format.js';

/** Pads columns to a plain-text table (no colour needed to read it). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

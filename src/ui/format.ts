/** Small pure formatters for sizes, durations, ages and dates as the menu prints them. */

import { formatLocal } from '../core/format.js';

export { formatAge, formatBytes, formatDuration } from '../core/format.js';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local time as `YYYY-MM-DD HH:MM` (the operator's clock; the CLI's formatLocal). */
export function formatDate(iso: string | Date | null | undefined): string {
  return formatLocal(iso);
}

/** Local time as `MM-DD HH:MM`, for narrow tables. */
export function formatShortDate(iso: string | Date | null | undefined): string {
  const full = formatDate(iso);
  return /^\d{4}-/.test(full) ? full.slice(5) : full;
}

/** Local time with seconds, for logs. */
export function formatTime(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Cuts a string to `width` columns, ending with `ellipsis` when cut. */
export function truncate(text: string, width: number, ellipsis = '…'): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width <= ellipsis.length) return text.slice(0, width);
  return text.slice(0, width - ellipsis.length) + ellipsis;
}

/** Cuts the start of a path instead of its end (the file name matters most). */
export function truncateStart(text: string, width: number, ellipsis = '…'): string {
  if (text.length <= width) return text;
  if (width <= ellipsis.length) return text.slice(text.length - width);
  return ellipsis + text.slice(text.length - (width - ellipsis.length));
}

export function padCell(text: string, width: number, align: 'left' | 'right' = 'left', ellipsis = '…'): string {
  const t = truncate(text, width, ellipsis);
  return align === 'right' ? t.padStart(width) : t.padEnd(width);
}
